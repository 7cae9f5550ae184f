/* test-optim-warm.c - the optimisers' memory across minimisations
 * (sf_lbfgs_minimize_warm, sf_adam_minimize_warm; engine/optim.c) on the
 * CPU SfVecOps of optim-cpu.c.
 *
 * A video's frames pose a sequence of nearly equal problems; here that is
 * an ill-conditioned quadratic whose minimum moves a little per "frame".
 * Carrying the L-BFGS pairs across frames must reach a lower loss than
 * restarting every frame, with no more evaluations; an empty memory must
 * give exactly sf_lbfgs_minimize's run; Adam's moments must carry so that
 * two calls of k steps equal one call of 2k; every stop reason is
 * reported.
 */
#include <math.h>
#include <string.h>

#include "optim-cpu.h"

#define N 60
#define FRAMES 12
#define ITERS 3

typedef struct
{
  double a[N];
  double c[N];
} Quad;

/* Curvatures from 1 to 1000 (log-spaced), centre moving by `shift` per
 * frame along a fixed direction. */
static void
quad_frame (Quad * q, int frame, double shift)
{
  for (int i = 0; i < N; i++) {
    q->a[i] = pow (1000.0, (double) i / (N - 1));
    q->c[i] = sin (0.7 * i) + shift * frame * cos (0.3 * i);
  }
}

static void
memory_forget (SfOptimMemory * mem, CpuCtx * c)
{
  sf_optim_memory_forget (mem, c->ops, c);
}

/* Runs FRAMES frames of ITERS iterations from x; with `carry` the memory
 * goes on, otherwise it is forgotten before every frame.  Returns the last
 * frame's loss; *evals gets the evaluations of all frames. */
static double
run_sequence (const SfVecOps * ops, gboolean carry, double shift,
    int *evals, int *pairs_last)
{
  CpuCtx c;
  Quad q;
  SfVec *x = start_vector (N, 3);
  SfOptimMemory *mem = sf_optim_memory_new ();
  SfLbfgsOptions opt;
  SfOptimResult r = { 0, };
  GError *error = NULL;

  cpu_init (&c, N, PROBLEM_QUADRATIC);
  c.ops = ops;
  c.qa = q.a;
  c.qc = q.c;
  *evals = 0;
  for (int t = 0; t < FRAMES; t++) {
    quad_frame (&q, t, shift);
    sf_lbfgs_options_init (&opt, ITERS);
    opt.history = 10;
    opt.max_eval = G_MAXINT;
    if (!carry)
      memory_forget (mem, &c);
    g_assert_true (sf_lbfgs_minimize_warm (ops, &c, x, &opt, mem, NULL, NULL,
            &r, &error));
    g_assert_no_error (error);
    g_assert_cmpint (r.iterations, ==, ITERS);
    g_assert_cmpint (r.stop, ==, SF_STOP_ITERATIONS);
    if (t > 0 && carry)
      g_assert_cmpint (r.pairs_at_start, >, 0);
    if (!carry)
      g_assert_cmpint (r.pairs_at_start, ==, 0);
    *evals += r.evaluations;
  }
  *pairs_last = r.pairs_at_start;
  sf_optim_memory_free (mem, ops, &c);
  g_assert_cmpint (c.live, ==, 0);
  cpu_clear (&c);
  g_free (x);
  return r.f;
}

static void
test_carry_beats_restart (gconstpointer data)
{
  const SfVecOps *ops = data;
  int ev_warm, ev_cold, pairs_warm, pairs_cold;
  double f_warm = run_sequence (ops, TRUE, 0.02, &ev_warm, &pairs_warm);
  double f_cold = run_sequence (ops, FALSE, 0.02, &ev_cold, &pairs_cold);

  g_test_message ("%d frames x %d iterations: carried %.6g (%d evaluations, "
      "%d pairs at the last frame), restarted %.6g (%d evaluations)",
      FRAMES, ITERS, f_warm, ev_warm, pairs_warm, f_cold, ev_cold);
  g_assert_cmpint (ev_warm, <=, ev_cold);
  g_assert_cmpfloat (f_warm, <, 0.5 * f_cold);
  g_assert_cmpint (pairs_warm, ==, 10);
}

/* An empty memory: the same run as sf_lbfgs_minimize, f for f. */
static void
test_empty_is_cold (void)
{
  CpuCtx c1, c2;
  SfVec *x1 = rosenbrock_start (10), *x2 = rosenbrock_start (10);
  SfOptimMemory *mem = sf_optim_memory_new ();
  SfLbfgsOptions opt;
  SfOptimResult r;
  Result cold;
  GError *error = NULL;

  cpu_init (&c1, 10, PROBLEM_ROSENBROCK);
  cpu_init (&c2, 10, PROBLEM_ROSENBROCK);
  sf_lbfgs_options_init (&opt, 25);
  opt.history = 25;
  opt.max_eval = 1000;
  run_lbfgs (&c1, x1, &opt, NULL, &cold);
  g_assert_true (sf_lbfgs_minimize_warm (c2.ops, &c2, x2, &opt, mem, NULL,
          NULL, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c1.fs->len, ==, c2.fs->len);
  for (guint i = 0; i < c1.fs->len; i++)
    g_assert_cmpfloat (g_array_index (c1.fs, double, i), ==,
        g_array_index (c2.fs, double, i));
  for (int i = 0; i < 10; i++)
    g_assert_cmpfloat (x1->v[i], ==, x2->v[i]);
  g_assert_cmpfloat (cold.f, ==, r.f);
  g_assert_cmpint (cold.iters, ==, r.iterations);
  g_assert_cmpint (cold.evals, ==, r.evaluations);
  g_assert_cmpint (r.pairs_at_start, ==, 0);
  g_assert_cmpint (sf_optim_memory_size (mem), ==, 24);
  sf_optim_memory_free (mem, c2.ops, &c2);
  g_assert_cmpint (c2.live, ==, 0);
  cpu_clear (&c1);
  cpu_clear (&c2);
  g_free (x1);
  g_free (x2);
}

static gboolean
stop_at_2 (int iteration, double f, gpointer user_data)
{
  return iteration < 2;
}

static void
test_stop_reasons (void)
{
  CpuCtx c;
  Quad q;
  SfVec *x = start_vector (N, 5);
  SfOptimMemory *mem = sf_optim_memory_new ();
  SfLbfgsOptions opt;
  SfOptimResult r;
  GError *error = NULL;

  cpu_init (&c, N, PROBLEM_QUADRATIC);
  quad_frame (&q, 0, 0.0);
  c.qa = q.a;
  c.qc = q.c;
  sf_lbfgs_options_init (&opt, 4);
  opt.max_eval = G_MAXINT;
  g_assert_true (sf_lbfgs_minimize_warm (c.ops, &c, x, &opt, mem, stop_at_2,
          NULL, &r, &error));
  g_assert_cmpint (r.stop, ==, SF_STOP_CALLBACK);
  g_assert_cmpint (r.iterations, ==, 2);
  g_assert_cmpstr (sf_stop_reason_name (r.stop), ==, "callback");
  /* an evaluation budget, as torch's */
  opt.max_eval = 2;
  g_assert_true (sf_lbfgs_minimize_warm (c.ops, &c, x, &opt, mem, NULL,
          NULL, &r, &error));
  g_assert_cmpint (r.stop, ==, SF_STOP_EVALUATIONS);
  /* a quadratic converges long before 500 iterations */
  opt.max_iter = 500;
  opt.max_eval = G_MAXINT;
  g_assert_true (sf_lbfgs_minimize_warm (c.ops, &c, x, &opt, mem, NULL,
          NULL, &r, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.stop, ==, SF_STOP_CONVERGED);
  g_assert_cmpint (r.iterations, <, 500);
  g_assert_cmpstr (sf_stop_reason_name (r.stop), ==, "converged");
  /* forgetting empties it and gives every vector back */
  memory_forget (mem, &c);
  g_assert_cmpint (sf_optim_memory_size (mem), ==, 0);
  g_assert_cmpint (c.live, ==, 0);
  sf_optim_memory_free (mem, c.ops, &c);
  cpu_clear (&c);
  g_free (x);
}

/* Adam: 2 calls of 5 steps with the memory are 1 call of 10. */
static void
test_adam_carry (void)
{
  double a[ADAM_N], qc[ADAM_N], x0[ADAM_N];
  CpuCtx c;
  SfVec *x1 = host_vec_new (ADAM_N), *x2 = host_vec_new (ADAM_N);
  SfOptimMemory *mem = sf_optim_memory_new ();
  SfOptimResult r;
  GError *error = NULL;
  double f_cold;
  int it;

  adam_problem (a, qc, x0);
  cpu_init (&c, ADAM_N, PROBLEM_QUADRATIC);
  c.qa = a;
  c.qc = qc;
  memcpy (x1->v, x0, sizeof x0);
  memcpy (x2->v, x0, sizeof x0);
  g_assert_true (sf_adam_minimize (c.ops, &c, x1, 10, ADAM_LR, NULL, NULL,
          &f_cold, &it, &error));
  for (int k = 0; k < 2; k++) {
    g_assert_true (sf_adam_minimize_warm (c.ops, &c, x2, 5, ADAM_LR, mem,
            NULL, NULL, &r, &error));
    g_assert_no_error (error);
    g_assert_cmpint (r.pairs_at_start, ==, 5 * k);
    g_assert_cmpint (r.evaluations, ==, 5);
  }
  for (int i = 0; i < ADAM_N; i++)
    g_assert_cmpfloat (x1->v[i], ==, x2->v[i]);
  g_assert_cmpfloat (r.f, ==, f_cold);
  g_assert_cmpint (sf_optim_memory_size (mem), ==, 10);
  /* restarted moments give another point */
  memory_forget (mem, &c);
  memcpy (x2->v, x0, sizeof x0);
  for (int k = 0; k < 2; k++) {
    memory_forget (mem, &c);
    g_assert_true (sf_adam_minimize_warm (c.ops, &c, x2, 5, ADAM_LR, mem,
            NULL, NULL, &r, &error));
  }
  g_assert_cmpfloat (fabs (x1->v[0] - x2->v[0]), >, 1e-6);
  sf_optim_memory_free (mem, c.ops, &c);
  g_assert_cmpint (c.live, ==, 0);
  cpu_clear (&c);
  g_free (x1);
  g_free (x2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/optim-warm/lbfgs/carry-beats-restart", &cpu_ops,
      test_carry_beats_restart);
  g_test_add_data_func ("/optim-warm/lbfgs/carry-beats-restart-deferred",
      &cpu_deferred_ops, test_carry_beats_restart);
  g_test_add_func ("/optim-warm/lbfgs/empty-is-cold", test_empty_is_cold);
  g_test_add_func ("/optim-warm/lbfgs/stop-reasons", test_stop_reasons);
  g_test_add_func ("/optim-warm/adam/carry", test_adam_carry);
  return g_test_run ();
}
