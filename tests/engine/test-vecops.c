/* test-vecops.c - the GPU vector operations of engine/vecops.c: deferred
 * recording into one command buffer, deferred results, and the L-BFGS
 * two-loop recursion on the GPU.
 *
 * - The GPU two-loop against the host recursion (sf_lbfgs_two_loop_host
 *   over the same GPU buffers) and a double-precision reference, on random
 *   vectors with m = 0, 1, 5 (and 70, past the first scalar allocation),
 *   at an even and an odd size: relative L2 error below 1e-5, and the whole
 *   recursion in one submission.
 * - 10 L-BFGS iterations of the style loss with every vector operation its
 *   own submission and the host two-loop (the engine before vecops.c),
 *   with deferred recording only, and with everything: the first two give
 *   bit-identical results (recording order is execution order), the last
 *   the same loss within 1e-5 relative; the submissions per iteration are
 *   printed and bounded (two per iteration whose first line-search step is
 *   accepted, one more per extra evaluation).
 * - A progress callback that reads and evaluates the image sees the step
 *   just taken (the pending update is flushed first); Adam: one submission
 *   per step and results identical to the immediate path; nothing is left
 *   pending after an optimisation.
 */
#include "engine-test-util.h"
#include "stylizer.h"
#include "vecops.h"

static SfDevice *dev;
static SfVggWeights *wts;

typedef struct
{
  SfNet *net;
  SfStylizer *st;
  float *content;
  int w, h;
} Fixture;

static void
fixture_init (Fixture * fx, int w, int h, gboolean targets)
{
  GError *err = NULL;
  float *style;

  fx->w = w;
  fx->h = h;
  fx->net = sf_net_new (dev, wts, SF_POOL_MAX, &err);
  g_assert_no_error (err);
  fx->st = sf_stylizer_new (fx->net, w, h, &err);
  g_assert_no_error (err);
  fx->content = test_make_image (w, h, 0, 100);
  if (!targets)
    return;
  style = test_make_image (w, h, 1, 100);
  g_assert_true (sf_stylizer_set_style (fx->st, style, w, h, &err));
  g_assert_true (sf_stylizer_set_content (fx->st, fx->content, &err));
  g_assert_no_error (err);
  g_free (style);
}

static void
fixture_clear (Fixture * fx)
{
  sf_stylizer_free (fx->st);
  sf_net_free (fx->net);
  g_free (fx->content);
}

static guint64
submissions (const Fixture * fx)
{
  return sf_vec_queue_submissions (fx->st->vq);
}

/* Nothing pending: a flush submits nothing. */
static void
assert_nothing_pending (Fixture * fx)
{
  GError *err = NULL;
  guint64 before = submissions (fx);

  g_assert_true (sf_stylizer_flush (fx->st, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (submissions (fx), ==, before);
}

static float *
download_image (Fixture * fx)
{
  GError *err = NULL;
  float *x = g_new (float, 3 * (gsize) fx->w * fx->h);

  g_assert_true (sf_stylizer_get_image (fx->st, x, &err));
  g_assert_no_error (err);
  return x;
}

/* ---- the two-loop recursion -------------------------------------------- */

static double
dotd (const double *a, const double *b, gsize n)
{
  double s = 0;

  for (gsize i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

/* d = -H g in double (optim.c's recursion). */
static double *
two_loop_ref (const double *g, double *const *s, double *const *y,
    const double *rho, int m, double h_diag, gsize n)
{
  double *d = g_new (double, n), *al = g_new (double, MAX (m, 1));

  for (gsize k = 0; k < n; k++)
    d[k] = -g[k];
  for (int i = m - 1; i >= 0; i--) {
    al[i] = dotd (s[i], d, n) * rho[i];
    for (gsize k = 0; k < n; k++)
      d[k] += -al[i] * y[i][k];
  }
  for (gsize k = 0; k < n; k++)
    d[k] *= h_diag;
  for (int i = 0; i < m; i++) {
    double be = dotd (y[i], d, n) * rho[i];
    for (gsize k = 0; k < n; k++)
      d[k] += (al[i] - be) * s[i][k];
  }
  g_free (al);
  return d;
}

/* Pairs as an L-BFGS would store them: s random, y = A s + noise with A a
 * positive diagonal, so that y.s > 0; g random plus a combination of the
 * s, so that the pairs change the direction markedly. */
static void
make_pairs (gsize n, int m, guint32 seed, float **gf, float **sf, float **yf)
{
  float *a = g_new (float, n);

  *gf = g_new (float, n);
  test_fill (*gf, n, seed, -1, 1);
  test_fill (a, n, seed + 1, 0.5f, 2.0f);
  for (int i = 0; i < m; i++) {
    sf[i] = g_new (float, n);
    yf[i] = g_new (float, n);
    test_fill (sf[i], n, seed + 10 + i, -0.1f, 0.1f);
    test_fill (yf[i], n, seed + 100 + i, -0.01f, 0.01f);
    for (gsize k = 0; k < n; k++) {
      yf[i][k] += a[k] * sf[i][k];
      (*gf)[k] += 3.0f * (i + 1) * sf[i][k];    /* g partly in their span */
    }
  }
  g_free (a);
}

static void
check_two_loop (Fixture * fx, int m)
{
  GError *err = NULL;
  gsize n = fx->st->n;
  float *gf, *sf[80], *yf[80], *dg, *dh;
  double *gd, *sd[80], *yd[80], rho[80], h_diag = 1.0, *ref;
  SfBuffer *g, *dgpu, *dhost, *s[80], *y[80];
  SfVecCtx c;
  const SfVecOps *ops = sf_vec_ops_get (SF_VEC_DEFERRED);
  const SfVecOps *basic = sf_vec_ops_get (SF_VEC_HOST_LOOP);
  guint64 before;
  double e_gpu_host, e_gpu_ref, e_host_ref;

  g_assert_cmpint (m, <=, 80);
  make_pairs (n, m, 7 + m, &gf, sf, yf);
  gd = test_to_double (gf, n);
  for (int i = 0; i < m; i++) {
    sd[i] = test_to_double (sf[i], n);
    yd[i] = test_to_double (yf[i], n);
    rho[i] = 1.0 / dotd (yd[i], sd[i], n);
    if (i == m - 1)
      h_diag = dotd (yd[i], sd[i], n) / dotd (yd[i], yd[i], n);
    s[i] = test_upload (dev, sf[i], n);
    y[i] = test_upload (dev, yf[i], n);
  }
  g = test_upload (dev, gf, n);
  dgpu = test_upload (dev, NULL, n);
  dhost = test_upload (dev, NULL, n);
  sf_vec_ctx_init (&c, fx->st, NULL);

  /* the GPU recursion: recorded, then one submission */
  before = submissions (fx);
  g_assert_true (ops->two_loop (&c, (SfVec *) g, (SfVec *) dgpu,
          (SfVec * const *) s, (SfVec * const *) y, rho, m, h_diag, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (submissions (fx), ==, before);
  g_assert_true (ops->sync (&c, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (submissions (fx), ==, before + 1);

  /* the host recursion over the same buffers (2 m dots read back) */
  sf_vec_queue_set_mode (fx->st->vq, SF_VEC_HOST_LOOP);
  g_assert_true (sf_lbfgs_two_loop_host (basic, &c, (SfVec *) g,
          (SfVec *) dhost, (SfVec * const *) s, (SfVec * const *) y, rho, m,
          h_diag, &err));
  g_assert_true (sf_stylizer_flush (fx->st, &err));
  g_assert_no_error (err);
  sf_vec_queue_set_mode (fx->st->vq, SF_VEC_DEFERRED);

  dg = test_download (dev, dgpu, n);
  dh = test_download (dev, dhost, n);
  ref = two_loop_ref (gd, sd, yd, rho, m, h_diag, n);
  e_gpu_ref = test_rel_l2 (dg, ref, n);
  e_host_ref = test_rel_l2 (dh, ref, n);
  {
    double *dhd = test_to_double (dh, n);
    e_gpu_host = test_rel_l2 (dg, dhd, n);
    g_free (dhd);
  }
  g_test_message ("two-loop %dx%d (n %" G_GSIZE_FORMAT "), m %d: rel. L2 "
      "GPU vs host recursion %.2e, GPU vs double %.2e, host vs double %.2e",
      fx->w, fx->h, n, m, e_gpu_host, e_gpu_ref, e_host_ref);
  g_assert_cmpfloat (e_gpu_host, <, 1e-5);
  g_assert_cmpfloat (e_gpu_ref, <, 1e-5);
  g_assert_cmpfloat (e_host_ref, <, 1e-5);
  /* the direction really depends on the pairs: far from -h g */
  if (m > 0) {
    double dev_from_g = 0, norm = 0;
    for (gsize k = 0; k < n; k++) {
      dev_from_g += pow (ref[k] + h_diag * gd[k], 2);
      norm += ref[k] * ref[k];
    }
    g_assert_cmpfloat (sqrt (dev_from_g / norm), >, 1e-2);
  }

  for (int i = 0; i < m; i++) {
    sf_buffer_free (dev, s[i]);
    sf_buffer_free (dev, y[i]);
    g_free (sf[i]);
    g_free (yf[i]);
    g_free (sd[i]);
    g_free (yd[i]);
  }
  sf_buffer_free (dev, g);
  sf_buffer_free (dev, dgpu);
  sf_buffer_free (dev, dhost);
  g_free (gf);
  g_free (gd);
  g_free (dg);
  g_free (dh);
  g_free (ref);
}

static void
test_two_loop (void)
{
  Fixture fx;

  /* 128 partials, some invocations summing two products */
  fixture_init (&fx, 128, 96, FALSE);
  check_two_loop (&fx, 0);
  check_two_loop (&fx, 1);
  check_two_loop (&fx, 5);
  fixture_clear (&fx);
  /* an odd size with 4 partials; 70 pairs grow the scalar buffer */
  fixture_init (&fx, 17, 16, FALSE);
  check_two_loop (&fx, 0);
  check_two_loop (&fx, 1);
  check_two_loop (&fx, 5);
  check_two_loop (&fx, 70);
  fixture_clear (&fx);
}

/* ---- whole optimisations ----------------------------------------------- */

#define LBFGS_ITERS 10

typedef struct
{
  Fixture *fx;
  int n;
  guint64 subs[LBFGS_ITERS + 1];        /* [0]: at the start */
  int evals[LBFGS_ITERS + 1];
  double f[LBFGS_ITERS + 1];
} Counts;

static gboolean
count_cb (int iteration, const SfLossTerms *t, gpointer data)
{
  Counts *c = data;

  g_assert_cmpint (iteration, ==, c->n + 1);
  g_assert_cmpint (c->n, <, LBFGS_ITERS);
  c->n++;
  c->subs[c->n] = submissions (c->fx);
  c->evals[c->n] = c->fx->st->evals;
  c->f[c->n] = t->total;
  return TRUE;
}

typedef struct
{
  SfLossTerms final;
  float *x;
  Counts counts;
  guint64 total_subs;
  int done;
} RunResult;

static void
run_mode (Fixture * fx, SfVecMode mode, SfOptimizer optimizer, int iters,
    RunResult * r)
{
  GError *err = NULL;
  SfParams p;

  sf_params_init (&p);
  p.optimizer = optimizer;
  if (optimizer == SF_OPTIMIZER_ADAM)
    p.learning_rate = 0.01;
  g_assert_true (sf_stylizer_set_image (fx->st, fx->content, &err));
  sf_vec_queue_set_mode (fx->st->vq, mode);
  memset (&r->counts, 0, sizeof (r->counts));
  r->counts.fx = fx;
  r->counts.subs[0] = submissions (fx);
  r->counts.evals[0] = fx->st->evals;
  g_assert_true (sf_stylizer_optimize (fx->st, &p, iters, count_cb,
          &r->counts, &r->final, &r->done, &err));
  g_assert_no_error (err);
  /* L-BFGS may stop early (max_eval = 1.25 iterations) */
  g_assert_cmpint (r->done, ==, r->counts.n);
  g_assert_cmpint (r->done, >=, iters * 3 / 4);
  r->total_subs = submissions (fx) - r->counts.subs[0];
  assert_nothing_pending (fx);
  sf_vec_queue_set_mode (fx->st->vq, SF_VEC_DEFERRED);
  r->x = download_image (fx);
}

static const char *const mode_names[] = {
  [SF_VEC_DEFERRED] = "deferred + GPU two-loop",
  [SF_VEC_HOST_LOOP] = "deferred ops, host two-loop",
  [SF_VEC_IMMEDIATE] = "one submission per op (before)",
};

static void
print_counts (SfVecMode mode, const RunResult * r)
{
  GString *s = g_string_new (NULL);
  const Counts *c = &r->counts;

  for (int i = 1; i <= c->n; i++)
    g_string_append_printf (s, " %d/%d",
        (int) (c->subs[i] - c->subs[i - 1]), c->evals[i] - c->evals[i - 1]);
  g_test_message ("%-31s: %.1f submissions per iteration (%" G_GUINT64_FORMAT
      " for %d iterations, %d evaluations); per iteration, submissions/"
      "evaluations:%s; loss %.9g", mode_names[mode],
      (double) r->total_subs / c->n, r->total_subs, c->n,
      c->evals[c->n] - c->evals[0], s->str, r->final.total);
  g_string_free (s, TRUE);
}

static double
rel_l2_f (const float *a, const float *b, gsize n)
{
  double *bd = test_to_double (b, n), e = test_rel_l2 (a, bd, n);

  g_free (bd);
  return e;
}

/* Submissions of deferred iteration i: one for y.s and y.y (not in the
 * first), then one per evaluation (the first with the direction, g.d and
 * max |d|); the first also carries the starting evaluation. */
static void
check_deferred_counts (const Counts * c)
{
  for (int i = 1; i <= c->n; i++) {
    int subs = (int) (c->subs[i] - c->subs[i - 1]);
    int evals = c->evals[i] - c->evals[i - 1];

    g_assert_cmpint (subs, ==, i == 1 ? evals : evals + 1);
    if (evals == 1 && i > 1)
      g_assert_cmpint (subs, <=, 2);
  }
}

static void
test_lbfgs_modes (void)
{
  Fixture fx;
  RunResult r[3];
  gsize n;
  double df, dx, dx_host;

  fixture_init (&fx, 32, 32, TRUE);
  n = fx.st->n;
  run_mode (&fx, SF_VEC_IMMEDIATE, SF_OPTIMIZER_LBFGS, LBFGS_ITERS, &r[0]);
  run_mode (&fx, SF_VEC_HOST_LOOP, SF_OPTIMIZER_LBFGS, LBFGS_ITERS, &r[1]);
  run_mode (&fx, SF_VEC_DEFERRED, SF_OPTIMIZER_LBFGS, LBFGS_ITERS, &r[2]);
  print_counts (SF_VEC_IMMEDIATE, &r[0]);
  print_counts (SF_VEC_HOST_LOOP, &r[1]);
  print_counts (SF_VEC_DEFERRED, &r[2]);

  /* deferred recording alone computes exactly what the immediate path
   * does */
  dx_host = rel_l2_f (r[1].x, r[0].x, n);
  g_assert_cmpfloat (r[1].final.total, ==, r[0].final.total);
  g_assert_cmpmem (r[1].x, n * sizeof (float), r[0].x, n * sizeof (float));
  /* the GPU two-loop differs by fp32 rounding of its scalars */
  df = fabs (r[2].final.total - r[0].final.total) / r[0].final.total;
  dx = rel_l2_f (r[2].x, r[0].x, n);
  g_test_message ("after %d iterations: loss %.9g (before) %.9g (deferred), "
      "relative difference %.2e; image rel. L2 %.2e (host-loop path: %.2e)",
      r[0].done, r[0].final.total, r[2].final.total, df, dx, dx_host);
  g_assert_cmpfloat (df, <, 1e-5);
  /* how far the images drift apart over 8 iterations depends on the
   * trajectory: 1.9e-6 with the storage-buffer Gram kernel, 1.9e-4 with
   * the texel twin a CPU device runs (gram_tx.comp: the same Gram to 1e-7,
   * summed in another order, and a trajectory to a lower loss), with the
   * loss within 2.3e-6 and the evaluation counts equal either way; a wrong
   * two-loop recursion moves the image by far more */
  g_assert_cmpfloat (dx, <, 1e-3);
  g_assert_cmpint (r[2].done, ==, r[0].done);
  for (int i = 1; i <= r[0].done; i++)
    g_assert_cmpint (r[2].counts.evals[i] - r[2].counts.evals[i - 1], ==,
        r[0].counts.evals[i] - r[0].counts.evals[i - 1]);

  check_deferred_counts (&r[2].counts);
  /* the mean, the extra evaluations of the first iterations and the final
   * flush of x included (2.5 when this was written) */
  g_assert_cmpuint (r[2].total_subs, ==,
      r[2].counts.subs[r[2].done] - r[2].counts.subs[0] + 1);
  g_assert_cmpfloat ((double) r[2].total_subs / r[2].done, <=, 4.0);
  g_assert_cmpfloat ((double) r[0].total_subs, >=, 5.0 * r[2].total_subs);

  for (int k = 0; k < 3; k++)
    g_free (r[k].x);
  fixture_clear (&fx);
}

/* Adam: every step's evaluation carries the previous update, the last one
 * goes with the final flush; the same numbers as the immediate path. */
static void
test_adam_modes (void)
{
  Fixture fx;
  RunResult r[2];
  const int iters = 5;

  fixture_init (&fx, 32, 32, TRUE);
  run_mode (&fx, SF_VEC_IMMEDIATE, SF_OPTIMIZER_ADAM, iters, &r[0]);
  run_mode (&fx, SF_VEC_DEFERRED, SF_OPTIMIZER_ADAM, iters, &r[1]);
  g_test_message ("Adam, %d steps: %" G_GUINT64_FORMAT " submissions "
      "(before: %" G_GUINT64_FORMAT "), loss %.9g (before %.9g)", iters,
      r[1].total_subs, r[0].total_subs, r[1].final.total, r[0].final.total);
  g_assert_cmpint (r[1].done, ==, iters);
  g_assert_cmpuint (r[1].total_subs, ==, iters + 1);
  g_assert_cmpuint (r[0].total_subs, ==, 2 + 2 * iters);
  g_assert_cmpfloat (r[1].final.total, ==, r[0].final.total);
  g_assert_cmpmem (r[1].x, fx.st->n * sizeof (float), r[0].x,
      fx.st->n * sizeof (float));
  g_free (r[0].x);
  g_free (r[1].x);
  fixture_clear (&fx);
}

typedef struct
{
  Fixture *fx;
  SfParams p;
  float *seen;                  /* the image read in the callback */
  double f_seen, f_eval;
  int flushed;                  /* submissions made by get_image */
} Peek;

/* At iteration 3: the image and its loss as a caller would read them. */
static gboolean
peek_cb (int iteration, const SfLossTerms *t, gpointer data)
{
  Peek *pk = data;
  GError *err = NULL;
  SfLossTerms now;
  guint64 before;

  if (iteration < 3)
    return TRUE;
  before = submissions (pk->fx);
  pk->seen = download_image (pk->fx);
  pk->flushed = (int) (submissions (pk->fx) - before);
  g_assert_true (sf_stylizer_evaluate (pk->fx->st, &pk->p, &now, NULL,
          &err));
  g_assert_no_error (err);
  pk->f_seen = t->total;
  pk->f_eval = now.total;
  return FALSE;
}

static void
test_callback_flush (void)
{
  Fixture fx;
  Peek pk = { 0, };
  GError *err = NULL;
  float *after;
  int done = 0;

  fixture_init (&fx, 32, 32, TRUE);
  pk.fx = &fx;
  sf_params_init (&pk.p);
  g_assert_true (sf_stylizer_set_image (fx.st, fx.content, &err));
  g_assert_true (sf_stylizer_optimize (fx.st, &pk.p, 10, peek_cb, &pk, NULL,
          &done, &err));
  g_assert_no_error (err);
  g_assert_cmpint (done, ==, 3);
  after = download_image (&fx);
  g_test_message ("callback at iteration 3: the step to x was pending (%d "
      "submission to read it); loss reported %.9g, evaluated at the image "
      "read %.9g", pk.flushed, pk.f_seen, pk.f_eval);
  /* the update of x was still recorded, and reading x ran it first */
  g_assert_cmpint (pk.flushed, ==, 1);
  g_assert_cmpmem (pk.seen, fx.st->n * sizeof (float), after,
      fx.st->n * sizeof (float));
  g_assert_cmpfloat (fabs (pk.f_eval - pk.f_seen), <=,
      1e-6 * fabs (pk.f_seen));
  assert_nothing_pending (&fx);
  g_free (pk.seen);
  g_free (after);
  fixture_clear (&fx);
}

int
main (int argc, char **argv)
{
  int r;

  g_test_init (&argc, &argv, NULL);
  dev = test_device ();
  wts = sf_vgg_weights_new_default (0);
  g_test_add_func ("/vecops/two-loop", test_two_loop);
  g_test_add_func ("/vecops/lbfgs-modes", test_lbfgs_modes);
  g_test_add_func ("/vecops/adam-modes", test_adam_modes);
  g_test_add_func ("/vecops/callback-flush", test_callback_flush);
  r = g_test_run ();
  sf_vgg_weights_free (wts);
  sf_device_free (dev);
  return r;
}
