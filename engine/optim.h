/* optim.h - L-BFGS (with a strong-Wolfe line search) and Adam, written
 * against an abstract vector interface.
 *
 * The optimisers keep only scalars on the host; every vector operation goes
 * through SfVecOps, which the stylizer implements with GPU buffers (so no
 * image is read back during an optimisation; engine/vecops.c) and the
 * tests implement with plain double arrays.  The L-BFGS follows
 * torch.optim.LBFGS with line_search_fn="strong_wolfe" step for step, so
 * that it can be compared with the PyTorch peer iteration by iteration.
 *
 * Round trips: an implementation where handing a value to the host is dear
 * (a GPU: submit and wait) may provide the optional members at the end of
 * SfVecOps.  two_loop computes the L-BFGS direction without giving its
 * scalars to the host; reduce_later, eval_later and sync let the L-BFGS
 * ask for every value it needs next and fetch them all in one round trip.
 * With them an iteration whose first line-search step is accepted takes
 * two round trips (y.s and y.y; then the direction, g.d, max |d| and the
 * first trial's loss, gradient, g.d and max |g|) and computes exactly what
 * it computes without them.
 */
#ifndef SF_OPTIM_H
#define SF_OPTIM_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct SfVec SfVec;     /* opaque: whatever the implementation keeps */

/* The reductions of SfVecOps.reduce_later, and of the GPU's dot.comp
 * (record.h), whose modes these values are. */
typedef enum
{
  SF_VEC_DOT = 0,               /* a . b */
  SF_VEC_ABSMAX = 1,            /* max_i |a_i| (b unused) */
  SF_VEC_ASUM = 2,              /* sum_i |a_i| (b unused) */
} SfVecReduce;

typedef struct
{
  /* a new vector of the problem's length (contents undefined) */
  SfVec *(*vec_new) (gpointer ctx, GError **error);
  void (*vec_free) (gpointer ctx, SfVec *v);
  /* f(x) and its gradient g at x */
  gboolean (*eval) (gpointer ctx, SfVec *x, double *f, SfVec *g, GError **error);
  gboolean (*dot) (gpointer ctx, SfVec *a, SfVec *b, double *out, GError **error);
  /* y += a * x */
  gboolean (*axpy) (gpointer ctx, double a, SfVec *x, SfVec *y, GError **error);
  /* x *= a */
  gboolean (*scale) (gpointer ctx, double a, SfVec *x, GError **error);
  /* dst = src */
  gboolean (*copy) (gpointer ctx, SfVec *src, SfVec *dst, GError **error);
  /* One Adam update of x from gradient g with moments m, v (t counts from 1,
   * bias-corrected as torch.optim.Adam). */
  gboolean (*adam) (gpointer ctx, SfVec *x, SfVec *g, SfVec *m, SfVec *v,
      double lr, double beta1, double beta2, double eps, int t, GError **error);
  /* sets v to 0 */
  gboolean (*zero) (gpointer ctx, SfVec *v, GError **error);
  /* The two reductions L-BFGS needs besides dot (kept last so that older
   * initialisers still compile; L-BFGS requires both, Adam neither):
   * absmax: *out = max_i |v_i| (torch's v.abs().max(): the gradient test
   * against tolerance_grad, the line search's |d|, the step-size test);
   * asum: *out = sum_i |v_i| (torch's v.abs().sum(): the first step length
   * min (1, 1 / |g|_1) * lr). */
  gboolean (*absmax) (gpointer ctx, SfVec *v, double *out, GError **error);
  gboolean (*asum) (gpointer ctx, SfVec *v, double *out, GError **error);

  /* ---- Optional members (NULL where not provided; kept last so that
   * older initialisers still compile). ---- */

  /* d = -H g by the L-BFGS two-loop recursion over the m pairs s[i], y[i]
   * (oldest first), rho[i] = 1 / y[i].s[i], initial inverse Hessian
   * h_diag I: what sf_lbfgs_two_loop_host computes (the fallback), with
   * its coefficients kept wherever the implementation likes. */
  gboolean (*two_loop) (gpointer ctx, SfVec *g, SfVec *d, SfVec *const *s,
      SfVec *const *y, const double *rho, int m, double h_diag,
      GError **error);
  /* Deferred results (all three or none).  reduce_later records *out =
   * the reduction `what` of a (and b); eval_later records f and g at x as
   * eval does; neither *out nor *f may be read before sync has returned
   * TRUE.  Every op, recorded or not, acts in call order: a vector changed
   * after a request does not change its result.  sync runs all that is
   * recorded and fills the results. */
  gboolean (*reduce_later) (gpointer ctx, SfVecReduce what, SfVec *a,
      SfVec *b, double *out, GError **error);
  gboolean (*eval_later) (gpointer ctx, SfVec *x, double *f, SfVec *g,
      GError **error);
  gboolean (*sync) (gpointer ctx, GError **error);
} SfVecOps;

/* The two-loop recursion on the host (the fallback of ops->two_loop), with
 * ops's copy, scale, dot and axpy: the arithmetic of
 * torch.optim.LBFGS.step (q = -g; for i newest to oldest
 * al_i = s_i.q rho_i, q -= al_i y_i; r = q h_diag; for i oldest to newest
 * be_i = y_i.r rho_i, r += (al_i - be_i) s_i; d = r). */
gboolean sf_lbfgs_two_loop_host (const SfVecOps *ops, gpointer ctx,
    SfVec *g, SfVec *d, SfVec *const *s, SfVec *const *y, const double *rho,
    int m, double h_diag, GError **error);

/* Called after each iteration with the loss at the new point; return FALSE
 * to stop. */
typedef gboolean (*SfOptimCallback) (int iteration, double f, gpointer user_data);

typedef struct
{
  int max_iter;                 /* iterations (torch's max_iter) */
  int max_eval;                 /* <= 0: max_iter * 5 / 4, as torch */
  int history;                  /* torch's history_size */
  double lr;                    /* torch's lr (1.0) */
  double tolerance_grad;        /* 1e-7 */
  double tolerance_change;      /* 1e-9 */
} SfLbfgsOptions;

void sf_lbfgs_options_init (SfLbfgsOptions *o, int max_iter);

/* Minimises from x (updated in place).  f_out gets the loss at the final x
 * (as evaluated by the last accepted step), iters_out the iterations run,
 * evals_out the function evaluations.  Returns FALSE only on an error from
 * ops. */
gboolean sf_lbfgs_minimize (const SfVecOps *ops, gpointer ctx, SfVec *x,
    const SfLbfgsOptions *opt, SfOptimCallback cb, gpointer user_data,
    double *f_out, int *iters_out, int *evals_out, GError **error);

/* ---- Memory kept across minimisations (video frames) ------------------
 *
 * Consecutive video frames pose nearly the same problem: the content
 * target and the temporal target move a little, the curvature hardly at
 * all.  A minimisation that starts with an empty memory spends its first
 * iteration on a steepest-descent step of torch's length
 * min (1, 1 / |g|_1) * lr, tiny for an image, and its line search walks
 * out from it; with the memory of the previous frame it starts on the
 * quasi-Newton direction of the pairs kept and the step lr.  The memory
 * holds the L-BFGS pairs (ring of `history`), rho and h_diag, or Adam's
 * moments and step count.  Forget it where the problem changes (a new
 * sequence, style, network, size or weights). */

/* Why a minimisation ended. */
typedef enum
{
  SF_STOP_ITERATIONS = 0,       /* ran the iterations asked for */
  SF_STOP_EVALUATIONS,          /* reached max_eval */
  SF_STOP_CONVERGED,            /* a tolerance (gradient, step, change) */
  SF_STOP_CALLBACK,             /* the callback returned FALSE */
} SfStopReason;

const char *sf_stop_reason_name (SfStopReason r);

typedef struct
{
  double f;                     /* loss at the final x */
  int iterations;
  int evaluations;
  int pairs_at_start;           /* L-BFGS pairs (Adam: steps) remembered */
  SfStopReason stop;
} SfOptimResult;

typedef struct SfOptimMemory SfOptimMemory;

SfOptimMemory *sf_optim_memory_new (void);
/* Pairs held (L-BFGS) or steps taken (Adam); 0 when empty. */
int sf_optim_memory_size (const SfOptimMemory *mem);
/* Empties the memory, giving its vectors back through ops (the ctx of
 * any minimisation over the same vectors). */
void sf_optim_memory_forget (SfOptimMemory *mem, const SfVecOps *ops,
    gpointer ctx);
void sf_optim_memory_free (SfOptimMemory *mem, const SfVecOps *ops,
    gpointer ctx);

/* sf_lbfgs_minimize continuing from mem: the ring of pairs is
 * opt->history long (not cut to max_iter - 1) and survives the call; the
 * first iteration uses the pairs kept, with step opt->lr, when there are
 * any, and torch's first step otherwise.  With an empty memory the run is
 * exactly sf_lbfgs_minimize's.  A memory used by Adam is emptied first.
 * On an error the memory is emptied. */
gboolean sf_lbfgs_minimize_warm (const SfVecOps *ops, gpointer ctx,
    SfVec *x, const SfLbfgsOptions *opt, SfOptimMemory *mem,
    SfOptimCallback cb, gpointer user_data, SfOptimResult *res,
    GError **error);

/* sf_adam_minimize continuing from mem's moments and step count. */
gboolean sf_adam_minimize_warm (const SfVecOps *ops, gpointer ctx, SfVec *x,
    int iterations, double lr, SfOptimMemory *mem, SfOptimCallback cb,
    gpointer user_data, SfOptimResult *res, GError **error);

/* Adam for `iterations` steps (beta1 0.9, beta2 0.999, eps 1e-8). */
gboolean sf_adam_minimize (const SfVecOps *ops, gpointer ctx, SfVec *x,
    int iterations, double lr, SfOptimCallback cb, gpointer user_data,
    double *f_out, int *iters_out, GError **error);

G_END_DECLS
#endif /* SF_OPTIM_H */
