/* optim-cpu.c - SfVecOps on plain double arrays, for test-optim.c.
 *
 * The reference for what the GPU vector operations must compute, with the
 * small problems the L-BFGS and Adam of engine/optim.c are tested on
 * (Rosenbrock, a diagonal quadratic, a quadratic with sine ripples and the
 * unbounded -softplus), the counting and failure injection the error sweeps
 * use, and the helpers that run the optimisers on it (start vectors, the
 * per-iteration trace, run_lbfgs, run_adam).  cpu_ops has none of
 * SfVecOps's optional members; cpu_deferred_ops adds them on the host as the
 * GPU has them (deferred results read NaN until sync).  Kept apart from the
 * tests so that test-optim.c stays a list of checks.
 */
#include "optim-cpu.h"

#include <math.h>
#include <string.h>

G_DEFINE_QUARK (test-optim-error, test_error)

/* ------------------------------------------------------------------------ */
/* SfVecOps on double arrays                                                 */

/* A deferred result: *out reads NaN until sync writes value. */
typedef struct
{
  double *out;
  double value;
} Later;

void
cpu_init (CpuCtx * c, int n, Problem problem)
{
  memset (c, 0, sizeof *c);
  c->n = n;
  c->problem = problem;
  c->fs = g_array_new (FALSE, FALSE, sizeof (double));
  c->ops = &cpu_ops;
  c->later = g_array_new (FALSE, FALSE, sizeof (Later));
}

void
cpu_clear (CpuCtx * c)
{
  g_array_unref (c->fs);
  g_array_unref (c->later);
}

/* Counts an op call; FALSE with an error when it is the one to fail. */
static gboolean
cpu_tick (CpuCtx * c, GError ** error)
{
  c->calls++;
  if (c->calls != c->fail_call)
    return TRUE;
  g_set_error (error, TEST_ERROR, 1, "op call %d failed", c->calls);
  return FALSE;
}

static SfVec *
cpu_vec_new (gpointer ctx, GError ** error)
{
  CpuCtx *c = ctx;
  SfVec *v;

  if (!cpu_tick (c, error))
    return NULL;
  v = g_malloc (sizeof (SfVec) + c->n * sizeof (double));
  v->n = c->n;
  for (int i = 0; i < c->n; i++)
    v->v[i] = NAN;              /* contents undefined */
  c->live++;
  return v;
}

static void
cpu_vec_free (gpointer ctx, SfVec * v)
{
  CpuCtx *c = ctx;

  g_assert_nonnull (v);
  c->live--;
  g_free (v);
}

double
rosenbrock (const double *x, int n, double *g)
{
  double f = 0.;

  for (int i = 0; i < n; i++)
    g[i] = 0.;
  for (int i = 0; i + 1 < n; i++) {
    double u = x[i + 1] - x[i] * x[i];
    double w = 1 - x[i];

    f += 100 * u * u + w * w;
    g[i] += -400 * x[i] * u - 2 * w;
    g[i + 1] += 200 * u;
  }
  return f;
}

static double
quadratic (const double *x, int n, const double *a, const double *c,
    double *g)
{
  double f = 0.;

  for (int i = 0; i < n; i++) {
    double u = x[i] - c[i];

    f += a[i] * u * u;
    g[i] = a[i] * u;
  }
  return 0.5 * f;
}

static double
wavy (const double *x, int n, double amp, double w, double *g)
{
  double f = 0.;

  for (int i = 0; i < n; i++) {
    double a = 0.5 + 0.25 * i;

    f += 0.5 * a * (x[i] * x[i]) + amp * sin (w * x[i] + i);
    g[i] = a * x[i] + amp * w * cos (w * x[i] + i);
  }
  return f;
}

/* torch.nn.functional.softplus (threshold 20) and its derivative. */
static double
softplus (const double *x, int n, double *g)
{
  double f = 0.;

  for (int i = 0; i < n; i++) {
    double z = exp (x[i]);

    f -= x[i] > 20 ? x[i] : log1p (z);
    g[i] = x[i] > 20 ? -1. : -z / (z + 1);
  }
  return f;
}

static double
cpu_problem (CpuCtx * c, const double *x, double *g)
{
  switch (c->problem) {
    case PROBLEM_ROSENBROCK:
      return rosenbrock (x, c->n, g);
    case PROBLEM_QUADRATIC:
      return quadratic (x, c->n, c->qa, c->qc, g);
    case PROBLEM_WAVY:
      return wavy (x, c->n, c->amp, c->w, g);
    case PROBLEM_SOFTPLUS:
      return softplus (x, c->n, g);
  }
  g_assert_not_reached ();
}

static gboolean
cpu_eval (gpointer ctx, SfVec * x, double *f, SfVec * g, GError ** error)
{
  CpuCtx *c = ctx;

  if (!cpu_tick (c, error))
    return FALSE;
  c->eval_calls++;
  if (c->eval_calls == c->fail_eval) {
    g_set_error (error, TEST_ERROR, 2, "eval %d failed", c->eval_calls);
    return FALSE;
  }
  *f = cpu_problem (c, x->v, g->v);
  if (c->flip)
    for (int i = 0; i < c->n; i++)
      g->v[i] = -g->v[i];
  g_array_append_val (c->fs, *f);
  return TRUE;
}

static double
dot_of (const SfVec * a, const SfVec * b)
{
  double s = 0.;

  for (int i = 0; i < a->n; i++)
    s += a->v[i] * b->v[i];
  return s;
}

static double
absmax_of (const SfVec * v)
{
  double m = 0.;

  for (int i = 0; i < v->n; i++)
    m = MAX (m, fabs (v->v[i]));
  return m;
}

static double
asum_of (const SfVec * v)
{
  double s = 0.;

  for (int i = 0; i < v->n; i++)
    s += fabs (v->v[i]);
  return s;
}

static gboolean
cpu_dot (gpointer ctx, SfVec * a, SfVec * b, double *out, GError ** error)
{
  if (!cpu_tick (ctx, error))
    return FALSE;
  *out = dot_of (a, b);
  return TRUE;
}

static gboolean
cpu_axpy (gpointer ctx, double a, SfVec * x, SfVec * y, GError ** error)
{
  if (!cpu_tick (ctx, error))
    return FALSE;
  for (int i = 0; i < x->n; i++)
    y->v[i] += a * x->v[i];
  return TRUE;
}

static gboolean
cpu_scale (gpointer ctx, double a, SfVec * x, GError ** error)
{
  if (!cpu_tick (ctx, error))
    return FALSE;
  for (int i = 0; i < x->n; i++)
    x->v[i] *= a;
  return TRUE;
}

static gboolean
cpu_copy (gpointer ctx, SfVec * src, SfVec * dst, GError ** error)
{
  if (!cpu_tick (ctx, error))
    return FALSE;
  memcpy (dst->v, src->v, src->n * sizeof (double));
  return TRUE;
}

/* torch.optim.Adam's single-tensor update, operation by operation. */
static gboolean
cpu_adam (gpointer ctx, SfVec * x, SfVec * g, SfVec * m, SfVec * v,
    double lr, double beta1, double beta2, double eps, int t,
    GError ** error)
{
  double bias1, bias2, step_size, bias2_sqrt;

  if (!cpu_tick (ctx, error))
    return FALSE;
  bias1 = 1 - pow (beta1, t);
  bias2 = 1 - pow (beta2, t);
  step_size = lr / bias1;
  bias2_sqrt = sqrt (bias2);
  for (int i = 0; i < x->n; i++) {
    double denom;

    m->v[i] = m->v[i] * beta1 + (1 - beta1) * g->v[i];
    v->v[i] = v->v[i] * beta2 + (1 - beta2) * g->v[i] * g->v[i];
    denom = sqrt (v->v[i]) / bias2_sqrt + eps;
    x->v[i] = x->v[i] + -step_size * (m->v[i] / denom);
  }
  return TRUE;
}

static gboolean
cpu_zero (gpointer ctx, SfVec * v, GError ** error)
{
  if (!cpu_tick (ctx, error))
    return FALSE;
  for (int i = 0; i < v->n; i++)
    v->v[i] = 0.;
  return TRUE;
}

static gboolean
cpu_absmax (gpointer ctx, SfVec * v, double *out, GError ** error)
{
  if (!cpu_tick (ctx, error))
    return FALSE;
  *out = absmax_of (v);
  return TRUE;
}

static gboolean
cpu_asum (gpointer ctx, SfVec * v, double *out, GError ** error)
{
  if (!cpu_tick (ctx, error))
    return FALSE;
  *out = asum_of (v);
  return TRUE;
}

const SfVecOps cpu_ops = {
  .vec_new = cpu_vec_new,
  .vec_free = cpu_vec_free,
  .eval = cpu_eval,
  .dot = cpu_dot,
  .axpy = cpu_axpy,
  .scale = cpu_scale,
  .copy = cpu_copy,
  .adam = cpu_adam,
  .zero = cpu_zero,
  .absmax = cpu_absmax,
  .asum = cpu_asum,
};

/* ---- the optional members, on the host --------------------------------- */

/* Computed now (ops act in call order), handed over at sync. */
static void
later_add (CpuCtx * c, double *out, double value)
{
  Later l = { out, value };

  *out = NAN;
  g_array_append_val (c->later, l);
}

static gboolean
cpu_reduce_later (gpointer ctx, SfVecReduce what, SfVec * a, SfVec * b,
    double *out, GError ** error)
{
  CpuCtx *c = ctx;

  if (!cpu_tick (c, error))
    return FALSE;
  switch (what) {
    case SF_VEC_DOT:
      later_add (c, out, dot_of (a, b));
      return TRUE;
    case SF_VEC_ABSMAX:
      later_add (c, out, absmax_of (a));
      return TRUE;
    case SF_VEC_ASUM:
      later_add (c, out, asum_of (a));
      return TRUE;
  }
  g_assert_not_reached ();
}

static gboolean
cpu_eval_later (gpointer ctx, SfVec * x, double *f, SfVec * g,
    GError ** error)
{
  double v;

  if (!cpu_eval (ctx, x, &v, g, error))
    return FALSE;
  later_add (ctx, f, v);
  return TRUE;
}

static gboolean
cpu_sync (gpointer ctx, GError ** error)
{
  CpuCtx *c = ctx;

  if (!cpu_tick (c, error))
    return FALSE;
  for (guint k = 0; k < c->later->len; k++) {
    Later *l = &g_array_index (c->later, Later, k);
    *l->out = l->value;
  }
  g_array_set_size (c->later, 0);
  c->syncs++;
  return TRUE;
}

/* sf_lbfgs_two_loop_host's arithmetic in one call. */
static gboolean
cpu_two_loop (gpointer ctx, SfVec * g, SfVec * d, SfVec * const *s,
    SfVec * const *y, const double *rho, int m, double h_diag,
    GError ** error)
{
  double al[128];
  int n = g->n;

  if (!cpu_tick (ctx, error))
    return FALSE;
  g_assert_cmpint (m, <=, (int) G_N_ELEMENTS (al));
  memcpy (d->v, g->v, n * sizeof (double));
  for (int k = 0; k < n; k++)
    d->v[k] *= -1.;
  for (int i = m - 1; i >= 0; i--) {
    al[i] = dot_of (s[i], d) * rho[i];
    for (int k = 0; k < n; k++)
      d->v[k] += -al[i] * y[i]->v[k];
  }
  for (int k = 0; k < n; k++)
    d->v[k] *= h_diag;
  for (int i = 0; i < m; i++) {
    double be_i = dot_of (y[i], d) * rho[i];

    for (int k = 0; k < n; k++)
      d->v[k] += (al[i] - be_i) * s[i]->v[k];
  }
  return TRUE;
}

const SfVecOps cpu_deferred_ops = {
  .vec_new = cpu_vec_new,
  .vec_free = cpu_vec_free,
  .eval = cpu_eval,
  .dot = cpu_dot,
  .axpy = cpu_axpy,
  .scale = cpu_scale,
  .copy = cpu_copy,
  .adam = cpu_adam,
  .zero = cpu_zero,
  .absmax = cpu_absmax,
  .asum = cpu_asum,
  .two_loop = cpu_two_loop,
  .reduce_later = cpu_reduce_later,
  .eval_later = cpu_eval_later,
  .sync = cpu_sync,
};

const char *const problem_names[] = {
  [PROBLEM_ROSENBROCK] = "rosenbrock",
  [PROBLEM_QUADRATIC] = "quadratic",
  [PROBLEM_WAVY] = "wavy",
  [PROBLEM_SOFTPLUS] = "softplus",
};

/* ------------------------------------------------------------------------ */
/* Problems and runs                                                         */

/* A vector outside the ops' bookkeeping, for the tests' own use. */
SfVec *
host_vec_new (int n)
{
  SfVec *x = g_malloc0 (sizeof (SfVec) + n * sizeof (double));

  x->n = n;
  return x;
}

/* The classic Rosenbrock start (-1.2, 1, -1.2, 1, ...). */
SfVec *
rosenbrock_start (int n)
{
  SfVec *x = host_vec_new (n);

  for (int i = 0; i < n; i++)
    x->v[i] = i % 2 == 0 ? -1.2 : 1.0;
  return x;
}

/* Starts in [-2, 2] that differ with seed; seed 0 is rosenbrock_start. */
SfVec *
start_vector (int n, int seed)
{
  SfVec *x;

  if (seed == 0)
    return rosenbrock_start (n);
  x = host_vec_new (n);
  for (int i = 0; i < n; i++)
    x->v[i] = 0.25 * ((i * 7 + seed * 13) % 17 - 8);
  return x;
}

/* The quadratic for Adam: curvatures a, centre c, start x0. */
void
adam_problem (double *a, double *c, double *x0)
{
  for (int i = 0; i < ADAM_N; i++) {
    a[i] = 0.5 + i;
    c[i] = 0.75 * i - 1.5;
    x0[i] = 0.25 * (i % 3) + 0.5;
  }
}


void
trace_init (Trace * tr)
{
  tr->iters = g_array_new (FALSE, FALSE, sizeof (int));
  tr->fs = g_array_new (FALSE, FALSE, sizeof (double));
  tr->evals = g_array_new (FALSE, FALSE, sizeof (int));
  tr->cpu = NULL;
  tr->stop_at = 0;
}

void
trace_clear (Trace * tr)
{
  g_array_unref (tr->iters);
  g_array_unref (tr->fs);
  g_array_unref (tr->evals);
}

gboolean
trace_cb (int iteration, double f, gpointer user_data)
{
  Trace *tr = user_data;

  g_array_append_val (tr->iters, iteration);
  g_array_append_val (tr->fs, f);
  if (tr->cpu != NULL)
    g_array_append_val (tr->evals, tr->cpu->eval_calls);
  return iteration != tr->stop_at;
}


void
run_lbfgs (CpuCtx * c, SfVec * x, const SfLbfgsOptions * opt, Trace * tr,
    Result * r)
{
  GError *error = NULL;
  gboolean ok;

  ok = sf_lbfgs_minimize (c->ops, c, x, opt, tr ? trace_cb : NULL, tr,
      &r->f, &r->iters, &r->evals, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (c->live, ==, 0);
}

double
max_abs_diff_from (const SfVec * x, double value)
{
  double m = 0.;

  for (int i = 0; i < x->n; i++)
    m = MAX (m, fabs (x->v[i] - value));
  return m;
}

/* Adam for ADAM_STEPS steps on the quadratic; a, qc receive it. */
void
run_adam (CpuCtx * c, SfVec * x, double *a, double *qc, Trace * tr,
    Result * r)
{
  GError *error = NULL;
  double x0[ADAM_N];
  gboolean ok;

  adam_problem (a, qc, x0);
  c->qa = a;
  c->qc = qc;
  memcpy (x->v, x0, sizeof x0);
  ok = sf_adam_minimize (&cpu_ops, c, x, ADAM_STEPS, ADAM_LR,
      tr ? trace_cb : NULL, tr, &r->f, &r->iters, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (c->live, ==, 0);
}
