/* test-optim.c - the L-BFGS and Adam of engine/optim.c on a CPU SfVecOps.
 *
 * SfVecOps is implemented on plain double arrays in optim-cpu.c (the
 * reference for what the GPU ops must compute), with small problems:
 * Rosenbrock, a diagonal quadratic, a quadratic with sine ripples and an
 * unbounded one.
 * The tests check that the L-BFGS converges, never increases the loss
 * between accepted steps, and follows torch.optim.LBFGS (strong Wolfe)
 * evaluation by evaluation, including counts; that Adam follows
 * torch.optim.Adam; and that an error from any op call comes back from the
 * optimiser unchanged with nothing leaked.  The PyTorch references come
 * from one run of /usr/bin/python3 (or $STYLEFILTER_PYTHON); those tests
 * are skipped when it has no torch.
 *
 * cpu_ops has none of SfVecOps's optional members, so these runs take
 * optim.c's fallbacks (the host two-loop, values at once).  cpu_deferred_ops
 * adds them on the host as the GPU has them: a deferred result reads NaN
 * until sync, so reading one early would show, and two_loop is the same
 * arithmetic as the fallback.  The L-BFGS with them must give bit for bit
 * the run of the fallbacks (and so torch's), in iterations + evaluations
 * round trips (syncs), and pass the same error sweep.
 */
#include "optim-cpu.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The PyTorch reference                                                     */

static const char torch_script[] =
    "import sys\n"
    "try:\n"
    "    import torch\n"
    "except ImportError:\n"
    "    print('skip no torch'); sys.exit(0)\n"
    "torch.set_default_dtype(torch.float64)\n"
    "def vec(s): return torch.tensor([float(v) for v in s.split(',')])\n"
    "def out(i, name, vals): print(i, name, *[repr(float(v)) for v in vals])\n"
    "def rosenbrock(x, amp, w): return (100 * (x[1:] - x[:-1] ** 2) ** 2"
    " + (1 - x[:-1]) ** 2).sum()\n"
    "def wavy(x, amp, w):\n"
    "    i = torch.arange(x.numel(), dtype=x.dtype)\n"
    "    return (0.5 * (0.5 + 0.25 * i) * x ** 2"
    " + amp * torch.sin(w * x + i)).sum()\n"
    "def softplus(x, amp, w): return -torch.nn.functional.softplus(x).sum()\n"
    "for i, job in enumerate(sys.argv[1:]):\n"
    "    kind, *a = job.split(';')\n"
    "    fs = []\n"
    "    if kind == 'lbfgs':\n"
    "        fn = globals()[a[0]]; amp = float(a[1]); w = float(a[2])\n"
    "        x = vec(a[7]).requires_grad_()\n"
    "        opt = torch.optim.LBFGS([x], history_size=int(a[3]),\n"
    "            max_iter=int(a[4]), max_eval=int(a[5]) or None,\n"
    "            lr=float(a[6]), line_search_fn='strong_wolfe')\n"
    "        def closure():\n"
    "            opt.zero_grad(); f = fn(x, amp, w); f.backward()\n"
    "            fs.append(f.item()); return f\n"
    "        opt.step(closure)\n"
    "        st = opt.state[x]\n"
    "        with torch.no_grad(): out(i, 'f', [fn(x, amp, w)])\n"
    "        out(i, 'iters', [st['n_iter']])\n"
    "        out(i, 'evals', [st['func_evals']])\n"
    "    else:\n"
    "        x = vec(a[2]).requires_grad_(); qa = vec(a[3]); qc = vec(a[4])\n"
    "        opt = torch.optim.Adam([x], lr=float(a[0]))\n"
    "        for _ in range(int(a[1])):\n"
    "            opt.zero_grad(); f = 0.5 * (qa * (x - qc) ** 2).sum()\n"
    "            f.backward(); fs.append(f.item()); opt.step()\n"
    "    out(i, 'x', x.detach()); out(i, 'fs', fs)\n";

/* The L-BFGS runs compared with torch, in 10 dimensions.  History 3 makes
 * the ring drop pairs; the other problems and learning rates send the line
 * search through its other branches (zoom with the step moved off the
 * bracket's ends, the old low end becoming the high end, interpolation with
 * no minimiser, a bracket too small, the best point at step 0, out of
 * evaluations) and make the curvature test refuse pairs. */
typedef struct
{
  Problem problem;
  double amp, w;                /* PROBLEM_WAVY */
  int seed;                     /* start_vector () */
  int history;
  int max_iter;
  int max_eval;                 /* 0: torch's default */
  double lr;
} LbfgsJob;

static const LbfgsJob torch_lbfgs_jobs[] = {
  {PROBLEM_ROSENBROCK, 0., 0., 0, 100, 5, 0, 1.},
  {PROBLEM_ROSENBROCK, 0., 0., 0, 100, 20, 0, 1.},
  {PROBLEM_ROSENBROCK, 0., 0., 0, 3, 20, 0, 1.},
  {PROBLEM_ROSENBROCK, 0., 0., 0, 5, 20, 0, 100.},
  {PROBLEM_WAVY, 0.5, 3., 1, 3, 100, 0, 1e4},
  {PROBLEM_ROSENBROCK, 0., 0., 0, 100, 20, 0, 0.1},
};


#define TORCH_N 10
#define TORCH_ADAM_JOB G_N_ELEMENTS (torch_lbfgs_jobs)

typedef struct
{
  gboolean done;                /* the script has been run */
  char *skip;                   /* why the torch tests are skipped, or NULL */
  char **lines;                 /* its output */
} TorchRef;

static char *
csv (const double *v, int n)
{
  GString *s = g_string_new (NULL);
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  for (int i = 0; i < n; i++)
    g_string_append_printf (s, "%s%s", i ? "," : "",
        g_ascii_formatd (buf, sizeof buf, "%.17g", v[i]));
  return g_string_free (s, FALSE);
}

/* "lbfgs;problem;amp;w;history;max_iter;max_eval;lr;x0" for the script. */
static char *
lbfgs_job_arg (const LbfgsJob * job)
{
  SfVec *x0 = start_vector (TORCH_N, job->seed);
  char *x0s = csv (x0->v, TORCH_N);
  char *arg;

  arg = g_strdup_printf ("lbfgs;%s;%.17g;%.17g;%d;%d;%d;%.17g;%s",
      problem_names[job->problem], job->amp, job->w, job->history,
      job->max_iter, job->max_eval, job->lr, x0s);
  g_free (x0s);
  g_free (x0);
  return arg;
}

static GPtrArray *
torch_argv (void)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  const char *python = g_getenv ("STYLEFILTER_PYTHON");
  double a[ADAM_N], c[ADAM_N], ax0[ADAM_N];
  char *as, *cs, *ax0s;

  g_ptr_array_add (argv, g_strdup (python ? python : "/usr/bin/python3"));
  g_ptr_array_add (argv, g_strdup ("-c"));
  g_ptr_array_add (argv, g_strdup (torch_script));
  for (guint j = 0; j < G_N_ELEMENTS (torch_lbfgs_jobs); j++)
    g_ptr_array_add (argv, lbfgs_job_arg (&torch_lbfgs_jobs[j]));
  adam_problem (a, c, ax0);
  as = csv (a, ADAM_N);
  cs = csv (c, ADAM_N);
  ax0s = csv (ax0, ADAM_N);
  g_ptr_array_add (argv, g_strdup_printf ("adam;%.17g;%d;%s;%s;%s", ADAM_LR,
          ADAM_STEPS, ax0s, as, cs));
  g_ptr_array_add (argv, NULL);
  g_free (as);
  g_free (cs);
  g_free (ax0s);
  return argv;
}

/* Runs the script once; the torch tests skip when ref->skip is set. */
static void
torch_ref_ensure (TorchRef * ref)
{
  GPtrArray *argv;
  char *out = NULL, *err = NULL;
  int status = 0;
  GError *error = NULL;

  if (ref->done)
    return;
  ref->done = TRUE;
  argv = torch_argv ();
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH,
          NULL, NULL, &out, &err, &status, &error)) {
    ref->skip = g_strdup_printf ("cannot run python: %s", error->message);
    g_clear_error (&error);
  } else if (!g_spawn_check_wait_status (status, &error)) {
    g_test_message ("python stderr:\n%s", err);
    g_assert_no_error (error);
  } else if (g_str_has_prefix (out, "skip")) {
    ref->skip = g_strdup (g_strstrip (out));
  } else {
    ref->lines = g_strsplit (out, "\n", -1);
  }
  g_ptr_array_unref (argv);
  g_free (out);
  g_free (err);
}

static void
torch_ref_clear (TorchRef * ref)
{
  g_free (ref->skip);
  g_strfreev (ref->lines);
}

/* The values of output line "<job> <name> v...". */
static GArray *
torch_values (const TorchRef * ref, int job, const char *name)
{
  char *prefix = g_strdup_printf ("%d %s ", job, name);
  GArray *vals = NULL;

  for (char **l = ref->lines; *l != NULL && vals == NULL; l++) {
    char **tok;

    if (!g_str_has_prefix (*l, prefix))
      continue;
    vals = g_array_new (FALSE, FALSE, sizeof (double));
    tok = g_strsplit (*l + strlen (prefix), " ", -1);
    for (char **t = tok; *t != NULL; t++) {
      double v = g_ascii_strtod (*t, NULL);

      g_array_append_val (vals, v);
    }
    g_strfreev (tok);
  }
  g_free (prefix);
  if (vals == NULL)
    g_error ("no '%d %s' line from the torch script", job, name);
  return vals;
}

static double
rel_diff (double a, double b)
{
  return fabs (a - b) / MAX (fabs (b), 1e-300);
}

/* Largest relative difference between a[] and the torch values. */
static double
max_rel_diff (const double *a, guint n, const GArray * ref)
{
  double m = 0.;

  g_assert_cmpuint (n, ==, ref->len);
  for (guint i = 0; i < n; i++)
    m = MAX (m, rel_diff (a[i], g_array_index (ref, double, i)));
  return m;
}

static gboolean
torch_skip (TorchRef * ref)
{
  torch_ref_ensure (ref);
  if (ref->skip != NULL)
    g_test_skip (ref->skip);
  return ref->skip != NULL;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

static void
check_rosenbrock_converges (int n)
{
  CpuCtx c;
  SfVec *x = rosenbrock_start (n);
  SfLbfgsOptions opt;
  Result r;

  cpu_init (&c, n, PROBLEM_ROSENBROCK);
  sf_lbfgs_options_init (&opt, 100);
  run_lbfgs (&c, x, &opt, NULL, &r);
  g_test_message ("%d-D Rosenbrock: %d iterations, %d evaluations, f %g, "
      "max |x - 1| %g", n, r.iters, r.evals, r.f, max_abs_diff_from (x, 1.));
  g_assert_cmpint (r.iters, <=, 100);
  g_assert_cmpint (r.evals, ==, c.eval_calls);
  g_assert_cmpfloat (max_abs_diff_from (x, 1.), <, 1e-4);
  g_free (x);
  cpu_clear (&c);
}

static void
test_lbfgs_rosenbrock_2d (void)
{
  check_rosenbrock_converges (2);
}

static void
test_lbfgs_rosenbrock_10d (void)
{
  check_rosenbrock_converges (10);
}

/* The loss reported after each iteration never rises, f_out is the last of
 * them and is the loss at the final x. */
static void
check_monotone (int n, int history)
{
  CpuCtx c;
  SfVec *x = rosenbrock_start (n);
  SfVec *g = host_vec_new (n);
  SfLbfgsOptions opt;
  Trace tr;
  Result r;
  double prev, f_final;

  cpu_init (&c, n, PROBLEM_ROSENBROCK);
  trace_init (&tr);
  sf_lbfgs_options_init (&opt, 100);
  opt.history = history;
  run_lbfgs (&c, x, &opt, &tr, &r);

  g_assert_cmpuint (tr.fs->len, >, 0);
  prev = g_array_index (c.fs, double, 0);
  for (guint i = 0; i < tr.fs->len; i++) {
    double f = g_array_index (tr.fs, double, i);

    g_assert_cmpint (g_array_index (tr.iters, int, i), ==, i + 1);
    g_assert_cmpfloat (f, <=, prev);
    prev = f;
  }
  g_assert_cmpfloat (r.f, ==, prev);
  f_final = rosenbrock (x->v, n, g->v);
  g_assert_cmpfloat (r.f, ==, f_final);
  trace_clear (&tr);
  g_free (g);
  g_free (x);
  cpu_clear (&c);
}

static void
test_lbfgs_monotone (void)
{
  check_monotone (2, 100);
  check_monotone (10, 100);
  check_monotone (10, 3);
  check_monotone (10, 1);
}

/* A callback returning FALSE ends the run after that iteration; a start at
 * the minimum ends it before the first. */
static void
test_lbfgs_stop (void)
{
  CpuCtx c;
  SfVec *x = rosenbrock_start (4);
  SfLbfgsOptions opt;
  Trace tr;
  Result r;

  cpu_init (&c, 4, PROBLEM_ROSENBROCK);
  trace_init (&tr);
  tr.stop_at = 3;
  sf_lbfgs_options_init (&opt, 50);
  run_lbfgs (&c, x, &opt, &tr, &r);
  g_assert_cmpint (r.iters, ==, 3);
  g_assert_cmpuint (tr.fs->len, ==, 3);
  g_assert_cmpfloat (r.f, ==, g_array_index (tr.fs, double, 2));

  for (int i = 0; i < 4; i++)
    x->v[i] = 1.;
  run_lbfgs (&c, x, &opt, NULL, &r);
  g_assert_cmpint (r.iters, ==, 0);
  g_assert_cmpint (r.evals, ==, 1);
  g_assert_cmpfloat (r.f, ==, 0.);
  trace_clear (&tr);
  g_free (x);
  cpu_clear (&c);
}

/* Unbounded below: the first line search extrapolates until it runs out of
 * evaluations (1 + 25) and takes the last point; the next pair has negative
 * curvature and is not stored. */
static void
check_unbounded (void)
{
  CpuCtx c;
  SfVec *x = start_vector (5, 1);
  SfLbfgsOptions opt;
  Trace tr;
  Result r;

  cpu_init (&c, 5, PROBLEM_SOFTPLUS);
  trace_init (&tr);
  tr.cpu = &c;
  sf_lbfgs_options_init (&opt, 3);
  opt.max_eval = 100;
  opt.lr = 1e-3;
  run_lbfgs (&c, x, &opt, &tr, &r);
  g_assert_cmpuint (tr.evals->len, >=, 2);
  g_assert_cmpint (g_array_index (tr.evals, int, 0), ==, 1 + 26);
  g_assert_cmpfloat (g_array_index (tr.fs, double, 1), <=,
      g_array_index (tr.fs, double, 0));
  g_assert_cmpfloat (g_array_index (tr.fs, double, 0), <,
      g_array_index (c.fs, double, 0));
  trace_clear (&tr);
  g_free (x);
  cpu_clear (&c);
}

/* A gradient of the wrong sign: no step decreases f, so the line search
 * shrinks its bracket to nothing and keeps step 0; x and f stay. */
static void
check_uphill (void)
{
  CpuCtx c;
  SfVec *x = rosenbrock_start (4);
  SfVec *x0 = rosenbrock_start (4);
  SfLbfgsOptions opt;
  Trace tr;
  Result r;

  cpu_init (&c, 4, PROBLEM_ROSENBROCK);
  c.flip = TRUE;
  trace_init (&tr);
  sf_lbfgs_options_init (&opt, 20);
  opt.max_eval = 100;
  run_lbfgs (&c, x, &opt, &tr, &r);
  g_assert_cmpint (r.iters, ==, 1);
  g_assert_cmpuint (tr.fs->len, ==, 1);
  g_assert_cmpfloat (r.f, ==, g_array_index (c.fs, double, 0));
  g_assert_cmpmem (x->v, 4 * sizeof (double), x0->v, 4 * sizeof (double));
  trace_clear (&tr);
  g_free (x0);
  g_free (x);
  cpu_clear (&c);
}

/* A gradient above tolerance_grad but with g.d above -tolerance_change:
 * the first iteration ends before its line search. */
static void
check_flat (void)
{
  CpuCtx c;
  double a[3] = { 1., 1., 1. }, qc[3] = { 0., 0., 0. };
  SfVec *x = host_vec_new (3);
  SfLbfgsOptions opt;
  Trace tr;
  Result r;

  for (int i = 0; i < 3; i++)
    x->v[i] = 1e-5;
  cpu_init (&c, 3, PROBLEM_QUADRATIC);
  c.qa = a;
  c.qc = qc;
  trace_init (&tr);
  sf_lbfgs_options_init (&opt, 20);
  run_lbfgs (&c, x, &opt, &tr, &r);
  g_assert_cmpint (r.iters, ==, 1);
  g_assert_cmpint (r.evals, ==, 1);
  g_assert_cmpuint (tr.fs->len, ==, 0);
  g_assert_cmpfloat (x->v[0], ==, 1e-5);
  trace_clear (&tr);
  g_free (x);
  cpu_clear (&c);
}

static void
test_lbfgs_edges (void)
{
  check_unbounded ();
  check_uphill ();
  check_flat ();
}

/* Same final loss and x, iteration and evaluation counts, and the same loss
 * at every evaluation as torch.optim.LBFGS for job j. */
static void
check_torch_job (const TorchRef * ref, int j, const SfVecOps * ops)
{
  const LbfgsJob *job = &torch_lbfgs_jobs[j];
  CpuCtx c;
  SfVec *x = start_vector (TORCH_N, job->seed);
  SfLbfgsOptions opt;
  Result r;
  GArray *tf, *tx, *tfs, *titers, *tevals;
  double df, dx, dfs;
  guint n_fs;

  cpu_init (&c, TORCH_N, job->problem);
  c.ops = ops;
  c.amp = job->amp;
  c.w = job->w;
  sf_lbfgs_options_init (&opt, job->max_iter);
  opt.history = job->history;
  opt.max_eval = job->max_eval;
  opt.lr = job->lr;
  run_lbfgs (&c, x, &opt, NULL, &r);

  tf = torch_values (ref, j, "f");
  tx = torch_values (ref, j, "x");
  tfs = torch_values (ref, j, "fs");
  titers = torch_values (ref, j, "iters");
  tevals = torch_values (ref, j, "evals");
  df = max_rel_diff (&r.f, 1, tf);
  dx = max_rel_diff (x->v, TORCH_N, tx);
  /* with deferred results, a run that ends on g.d made one evaluation
   * (the line search's first, asked for with g.d) that torch does not */
  n_fs = c.fs->len;
  if (ops != &cpu_ops && n_fs == tfs->len + 1)
    n_fs--;
  dfs = max_rel_diff ((double *) c.fs->data, n_fs, tfs);
  g_test_message ("L-BFGS%s %s, history %d, max_iter %d, lr %g: f %.17g "
      "(torch %.17g), rel. diff f %.3g, x %.3g, every evaluation %.3g; "
      "%d iterations, %d evaluations", ops == &cpu_ops ? "" : " (deferred)",
      problem_names[job->problem], job->history, job->max_iter, job->lr, r.f,
      g_array_index (tf, double, 0), df, dx, dfs, r.iters, r.evals);
  g_assert_cmpint (r.iters, ==, (int) g_array_index (titers, double, 0));
  g_assert_cmpint (r.evals, ==, (int) g_array_index (tevals, double, 0));
  g_assert_cmpfloat (df, <=, 1e-8);
  g_assert_cmpfloat (dx, <=, 1e-8);
  g_assert_cmpfloat (dfs, <=, 1e-8);

  g_array_unref (tf);
  g_array_unref (tx);
  g_array_unref (tfs);
  g_array_unref (titers);
  g_array_unref (tevals);
  g_free (x);
  cpu_clear (&c);
}

static void
test_lbfgs_torch (gconstpointer data)
{
  TorchRef *ref = (TorchRef *) data;

  if (torch_skip (ref))
    return;
  for (guint j = 0; j < G_N_ELEMENTS (torch_lbfgs_jobs); j++) {
    check_torch_job (ref, j, &cpu_ops);
    check_torch_job (ref, j, &cpu_deferred_ops);
  }
}

/* Runs for the deferred-ops comparison: the torch jobs' kinds and the
 * edge cases (converged, unbounded, uphill, flat). */
typedef struct
{
  Problem problem;
  double amp, w;
  int n;
  int seed;
  int history;
  int max_iter;
  int max_eval;
  double lr;
  gboolean flip;
  double start;                 /* != 0: every coordinate starts here */
} DeferredCase;

static const double flat_qa[3] = { 1., 1., 1. }, flat_qc[3] = { 0., 0., 0. };

static const DeferredCase deferred_cases[] = {
  {PROBLEM_ROSENBROCK, 0., 0., 2, 0, 100, 100, 0, 1., FALSE, 0.},
  {PROBLEM_ROSENBROCK, 0., 0., 10, 0, 100, 100, 0, 1., FALSE, 0.},
  {PROBLEM_ROSENBROCK, 0., 0., 10, 0, 1, 100, 0, 1., FALSE, 0.},
  {PROBLEM_ROSENBROCK, 0., 0., 10, 0, 3, 20, 0, 1., FALSE, 0.},
  {PROBLEM_ROSENBROCK, 0., 0., 10, 0, 5, 20, 0, 100., FALSE, 0.},
  {PROBLEM_ROSENBROCK, 0., 0., 10, 0, 100, 20, 0, 0.1, FALSE, 0.},
  {PROBLEM_WAVY, 0.5, 3., 10, 1, 3, 100, 0, 1e4, FALSE, 0.},
  {PROBLEM_SOFTPLUS, 0., 0., 5, 1, 100, 3, 100, 1e-3, FALSE, 0.},
  {PROBLEM_ROSENBROCK, 0., 0., 4, 0, 100, 20, 100, 1., TRUE, 0.},
  {PROBLEM_QUADRATIC, 0., 0., 3, 0, 100, 20, 0, 1., FALSE, 1e-5},
  {PROBLEM_ROSENBROCK, 0., 0., 4, 0, 100, 50, 0, 1., FALSE, 1.},
};

static void
run_deferred_case (const DeferredCase * dc, const SfVecOps * ops,
    CpuCtx * c, SfVec ** x, Result * r)
{
  SfLbfgsOptions opt;

  cpu_init (c, dc->n, dc->problem);
  c->ops = ops;
  c->amp = dc->amp;
  c->w = dc->w;
  c->flip = dc->flip;
  c->qa = flat_qa;
  c->qc = flat_qc;
  *x = start_vector (dc->n, dc->seed);
  if (dc->start != 0.)
    for (int i = 0; i < dc->n; i++)
      (*x)->v[i] = dc->start;
  sf_lbfgs_options_init (&opt, dc->max_iter);
  opt.history = dc->history;
  opt.max_eval = dc->max_eval;
  opt.lr = dc->lr;
  run_lbfgs (c, *x, &opt, NULL, r);
}

/* The optional members change the number of round trips, not a bit of the
 * result: same f, x, counts and evaluations as the fallbacks, except one
 * more evaluation (the first trial asked for with g.d) when g.d ends the
 * run; iterations + evaluations syncs (+1 then). */
static void
test_lbfgs_deferred (void)
{
  int extra_total = 0;

  for (guint j = 0; j < G_N_ELEMENTS (deferred_cases); j++) {
    const DeferredCase *dc = &deferred_cases[j];
    CpuCtx a, b;
    SfVec *xa, *xb;
    Result ra, rb;
    int extra;

    run_deferred_case (dc, &cpu_ops, &a, &xa, &ra);
    run_deferred_case (dc, &cpu_deferred_ops, &b, &xb, &rb);
    extra = (int) b.fs->len - (int) a.fs->len;
    g_test_message ("%s %d-D, history %d, max_iter %d, lr %g: f %.17g, %d "
        "iterations, %d evaluations; deferred: %d syncs (%.2f per "
        "iteration), %d op calls (fallbacks: %d), %d evaluation(s) more",
        problem_names[dc->problem], dc->n, dc->history, dc->max_iter, dc->lr,
        rb.f, rb.iters, rb.evals, b.syncs,
        rb.iters ? (double) b.syncs / rb.iters : 0., b.calls, a.calls, extra);
    g_assert_cmpmem (&rb.f, sizeof (double), &ra.f, sizeof (double));
    g_assert_cmpmem (xb->v, dc->n * sizeof (double), xa->v,
        dc->n * sizeof (double));
    g_assert_cmpint (rb.iters, ==, ra.iters);
    g_assert_cmpint (rb.evals, ==, ra.evals);
    g_assert_cmpint (extra, >=, 0);
    g_assert_cmpint (extra, <=, 1);
    g_assert_cmpmem (b.fs->data, a.fs->len * sizeof (double), a.fs->data,
        a.fs->len * sizeof (double));
    g_assert_cmpint (b.syncs, ==, rb.iters + rb.evals + extra);
    g_assert_cmpint (a.syncs, ==, 0);
    extra_total += extra;
    g_free (xa);
    g_free (xb);
    cpu_clear (&a);
    cpu_clear (&b);
  }
  /* the flat case ends on g.d: the thrown-away evaluation is exercised */
  g_assert_cmpint (extra_total, >=, 1);
}

/* Same x after 50 steps and the same loss at every step as torch's Adam. */
static void
test_adam_torch (gconstpointer data)
{
  TorchRef *ref = (TorchRef *) data;
  CpuCtx c;
  SfVec *x;
  double a[ADAM_N], qc[ADAM_N];
  Trace tr;
  Result r;
  GArray *tx, *tfs;
  double dx, dfs;

  if (torch_skip (ref))
    return;

  cpu_init (&c, ADAM_N, PROBLEM_QUADRATIC);
  x = host_vec_new (ADAM_N);
  trace_init (&tr);
  run_adam (&c, x, a, qc, &tr, &r);
  g_assert_cmpint (r.iters, ==, ADAM_STEPS);
  g_assert_cmpuint (tr.fs->len, ==, ADAM_STEPS);
  g_assert_cmpfloat (r.f, ==, g_array_index (tr.fs, double, ADAM_STEPS - 1));

  tx = torch_values (ref, TORCH_ADAM_JOB, "x");
  tfs = torch_values (ref, TORCH_ADAM_JOB, "fs");
  dx = max_rel_diff (x->v, ADAM_N, tx);
  dfs = max_rel_diff ((double *) tr.fs->data, tr.fs->len, tfs);
  g_test_message ("Adam, %d steps: rel. diff x %.3g, every loss %.3g",
      ADAM_STEPS, dx, dfs);
  g_assert_cmpfloat (dx, <=, 1e-10);
  g_assert_cmpfloat (dfs, <=, 1e-10);

  g_array_unref (tx);
  g_array_unref (tfs);
  trace_clear (&tr);
  g_free (x);
  cpu_clear (&c);
}

/* The runs of the error sweeps, short enough to sweep every op call, with
 * a history small enough to drop pairs; between them their line searches
 * extrapolate and zoom. */
typedef struct
{
  Problem problem;
  double amp, w;
  int n;
  int seed;
  double lr;
} ErrorCase;

static const ErrorCase error_cases[] = {
  {PROBLEM_ROSENBROCK, 0., 0., 6, 0, 1.},
  {PROBLEM_WAVY, 0.5, 3., 10, 1, 1e4},
};

#define ERR_ITERS 12
#define ERR_HISTORY 3

static const SfVecOps *error_ops = &cpu_ops;

static void
error_ctx_init (CpuCtx * c, const ErrorCase * ec)
{
  cpu_init (c, ec->n, ec->problem);
  c->ops = error_ops;
  c->amp = ec->amp;
  c->w = ec->w;
}

/* The run; c holds the counts afterwards. */
static gboolean
lbfgs_error_run (const ErrorCase * ec, CpuCtx * c, double *f, int *iters,
    GError ** error)
{
  SfVec *x = start_vector (ec->n, ec->seed);
  SfLbfgsOptions opt;
  int evals;
  gboolean ok;

  sf_lbfgs_options_init (&opt, ERR_ITERS);
  opt.history = ERR_HISTORY;
  opt.max_eval = 100;
  opt.lr = ec->lr;
  ok = sf_lbfgs_minimize (c->ops, c, x, &opt, NULL, NULL, f, iters, &evals,
      error);
  g_free (x);
  return ok;
}

/* Fails the k-th op call (or eval, with evals_only) and checks that exactly
 * that error comes back, with the outputs untouched and nothing leaked. */
static void
check_lbfgs_fails_at (const ErrorCase * ec, int k, gboolean evals_only)
{
  CpuCtx c;
  GError *error = NULL;
  double f = -1.;
  int iters = -1;
  int code = evals_only ? 2 : 1;
  char *msg;

  error_ctx_init (&c, ec);
  if (evals_only)
    c.fail_eval = k;
  else
    c.fail_call = k;
  g_assert_false (lbfgs_error_run (ec, &c, &f, &iters, &error));
  g_assert_cmpint (c.live, ==, 0);
  msg = g_strdup_printf (evals_only ? "eval %d failed" : "op call %d failed",
      k);
  g_assert_error (error, TEST_ERROR, code);
  g_assert_cmpstr (error->message, ==, msg);
  g_assert_cmpfloat (f, ==, -1.);
  g_assert_cmpint (iters, ==, -1);
  g_free (msg);
  g_clear_error (&error);
  cpu_clear (&c);
}

static void
check_lbfgs_errors (const SfVecOps * ops)
{
  error_ops = ops;
  for (guint j = 0; j < G_N_ELEMENTS (error_cases); j++) {
    const ErrorCase *ec = &error_cases[j];
    CpuCtx c;
    GError *error = NULL;
    double f;
    int iters, calls, evals;

    error_ctx_init (&c, ec);
    g_assert_true (lbfgs_error_run (ec, &c, &f, &iters, &error));
    g_assert_no_error (error);
    g_assert_cmpint (iters, ==, ERR_ITERS);
    calls = c.calls;
    evals = c.eval_calls;
    cpu_clear (&c);

    for (int k = 1; k <= evals; k++)
      check_lbfgs_fails_at (ec, k, TRUE);
    for (int k = 1; k <= calls; k++)
      check_lbfgs_fails_at (ec, k, FALSE);
    g_test_message ("L-BFGS%s %s: failed each of %d evaluations and %d op "
        "calls", ops == &cpu_ops ? "" : " (deferred)",
        problem_names[ec->problem], evals, calls);
  }
  error_ops = &cpu_ops;
}

static void
test_lbfgs_errors (void)
{
  check_lbfgs_errors (&cpu_ops);
  check_lbfgs_errors (&cpu_deferred_ops);
}

/* Adam reports the loss evaluated at the start of each step; a callback
 * returning FALSE ends it after that step; no steps evaluate f once. */
static void
test_adam_stop (void)
{
  double a[ADAM_N], qc[ADAM_N], x0[ADAM_N];
  CpuCtx c;
  SfVec *x = host_vec_new (ADAM_N);
  Trace tr;
  Result r;
  GError *error = NULL;

  adam_problem (a, qc, x0);
  cpu_init (&c, ADAM_N, PROBLEM_QUADRATIC);
  c.qa = a;
  c.qc = qc;
  trace_init (&tr);
  tr.stop_at = 3;
  memcpy (x->v, x0, sizeof x0);
  g_assert_true (sf_adam_minimize (&cpu_ops, &c, x, 10, ADAM_LR, trace_cb,
          &tr, &r.f, &r.iters, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.iters, ==, 3);
  g_assert_cmpuint (c.fs->len, ==, 3);
  g_assert_cmpmem (tr.fs->data, 3 * sizeof (double), c.fs->data,
      3 * sizeof (double));
  g_assert_cmpfloat (r.f, ==, g_array_index (c.fs, double, 2));

  memcpy (x->v, x0, sizeof x0);
  g_assert_true (sf_adam_minimize (&cpu_ops, &c, x, 0, ADAM_LR, NULL, NULL,
          &r.f, &r.iters, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.iters, ==, 0);
  g_assert_cmpfloat (r.f, ==, g_array_index (c.fs, double, 0));
  g_assert_cmpmem (x->v, sizeof x0, x0, sizeof x0);
  g_assert_cmpint (c.live, ==, 0);
  trace_clear (&tr);
  g_free (x);
  cpu_clear (&c);
}

/* The same for Adam, over every op call of a run. */
static void
test_adam_errors (void)
{
  double a[ADAM_N], qc[ADAM_N], x0[ADAM_N];
  int k;

  adam_problem (a, qc, x0);
  for (k = 1;; k++) {
    CpuCtx c;
    SfVec *x = host_vec_new (ADAM_N);
    GError *error = NULL;
    gboolean ok;

    cpu_init (&c, ADAM_N, PROBLEM_QUADRATIC);
    c.qa = a;
    c.qc = qc;
    c.fail_call = k;
    ok = sf_adam_minimize (&cpu_ops, &c, x, 5, ADAM_LR, NULL, NULL, NULL,
        NULL, &error);
    g_assert_cmpint (c.live, ==, 0);
    g_free (x);
    cpu_clear (&c);
    if (ok) {
      g_assert_no_error (error);
      break;
    }
    g_assert_error (error, TEST_ERROR, 1);
    g_clear_error (&error);
  }
  /* 3 vec_new, 2 zero, then eval and adam for each of 5 steps */
  g_assert_cmpint (k, ==, 3 + 2 + 2 * 5 + 1);
}

int
main (int argc, char **argv)
{
  TorchRef ref = { 0, };
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/optim/lbfgs/rosenbrock-2d", test_lbfgs_rosenbrock_2d);
  g_test_add_func ("/optim/lbfgs/rosenbrock-10d", test_lbfgs_rosenbrock_10d);
  g_test_add_func ("/optim/lbfgs/monotone", test_lbfgs_monotone);
  g_test_add_func ("/optim/lbfgs/stop", test_lbfgs_stop);
  g_test_add_func ("/optim/lbfgs/edges", test_lbfgs_edges);
  g_test_add_data_func ("/optim/lbfgs/torch", &ref, test_lbfgs_torch);
  g_test_add_func ("/optim/lbfgs/errors", test_lbfgs_errors);
  g_test_add_func ("/optim/lbfgs/deferred", test_lbfgs_deferred);
  g_test_add_data_func ("/optim/adam/torch", &ref, test_adam_torch);
  g_test_add_func ("/optim/adam/stop", test_adam_stop);
  g_test_add_func ("/optim/adam/errors", test_adam_errors);
  ret = g_test_run ();
  torch_ref_clear (&ref);
  return ret;
}
