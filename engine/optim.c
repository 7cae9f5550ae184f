/* optim.c - L-BFGS with a strong-Wolfe line search, and Adam, over SfVecOps.
 *
 * The L-BFGS is a port of torch.optim.LBFGS.step() with
 * line_search_fn="strong_wolfe" (torch/optim/lbfgs.py: _cubic_interpolate,
 * _strong_wolfe and step), and Adam follows torch.optim.Adam, so that a run
 * can be checked against the PyTorch peer iteration by iteration.  To take
 * the same branches as the Python, every scalar expression is evaluated in
 * the order the Python writes it, and Python's min()/max() tie rules are
 * kept.  Only scalars live on the host; vectors go through SfVecOps and are
 * all allocated when a minimisation starts and freed when it ends, on error
 * paths too.
 *
 * Round trips.  Values reach the L-BFGS through q_reduce and q_eval and
 * are read only after a q_sync.  With an implementation's deferred results
 * (SfVecOps.reduce_later, eval_later, sync) the requests are recorded and
 * answered together at the q_sync; without them each is computed at once
 * and q_sync does nothing.  Either way the same arithmetic happens in the
 * same order, so the two paths give the same numbers; only the number of
 * round trips differs.  To make it small, values are asked for as soon as
 * the vectors they depend on are fixed rather than where torch first
 * reads them: y.y together with y.s (used only when the pair is kept);
 * max |d| (the line search's and the convergence test's) with g.d; the
 * sum |g| of iteration 1 and max |g| with each evaluation; and, with
 * deferred results only, the first trial point of the line search with
 * g.d, so that one round trip carries the direction, g.d, max |d| and the
 * first evaluation.  When g.d then ends the run (torch's
 * g.d > -tolerance_change break) that evaluation is thrown away; it is not
 * counted in evals_out.  The two-loop recursion goes to ops->two_loop when
 * there is one (its scalars never reach the host), else to
 * sf_lbfgs_two_loop_host.
 */
#include "optim.h"

#include <math.h>
#include <string.h>

/* torch's _strong_wolfe defaults */
#define SF_WOLFE_C1 1e-4
#define SF_WOLFE_C2 0.9
#define SF_WOLFE_MAX_LS 25
/* torch stores a (y, s) pair only when y.s exceeds this */
#define SF_LBFGS_CURVATURE_MIN 1e-10
/* the line search holds at most three gradients besides the current one */
#define SF_LS_VECS 3

#define SF_ADAM_BETA1 0.9
#define SF_ADAM_BETA2 0.999
#define SF_ADAM_EPS 1e-8

/* ------------------------------------------------------------------------ */
/* Scalar helpers                                                            */

/* Python's max (a, b) and min (a, b): the first argument is kept unless the
 * second compares strictly greater (smaller), which also fixes what a NaN
 * gives. */
static inline double
py_max (double a, double b)
{
  return b > a ? b : a;
}

static inline double
py_min (double a, double b)
{
  return b < a ? b : a;
}

/* torch's _cubic_interpolate: the minimiser of the cubic through
 * (x1, f1, g1) and (x2, f2, g2), clamped to [lo, hi] when bounds is given
 * and to the interval between x1 and x2 otherwise; the midpoint of that
 * interval when the cubic has no minimiser. */
static double
cubic_interpolate (double x1, double f1, double g1, double x2, double f2,
    double g2, const double *bounds)
{
  double lo, hi, d1, d2_square, d2, min_pos;

  if (bounds != NULL) {
    lo = bounds[0];
    hi = bounds[1];
  } else if (x1 <= x2) {
    lo = x1;
    hi = x2;
  } else {
    lo = x2;
    hi = x1;
  }

  d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  d2_square = d1 * d1 - g1 * g2;
  if (!(d2_square >= 0))
    return (lo + hi) / 2.;

  d2 = sqrt (d2_square);
  if (x1 <= x2)
    min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2));
  else
    min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return py_min (py_max (min_pos, lo), hi);
}

/* ------------------------------------------------------------------------ */
/* L-BFGS state                                                              */

typedef struct
{
  const SfVecOps *ops;
  gpointer ctx;
  const SfLbfgsOptions *opt;
  gboolean deferred;            /* ops has reduce_later, eval_later, sync */
  SfVec *x;                     /* the caller's point, updated in place */
  double g_max;                 /* max |g| */
  gboolean warm;                /* the ring is history long and outlives
                                 * the run (sf_lbfgs_minimize_warm) */
  SfStopReason stop;

  SfVec *g;                     /* gradient at x (torch's flat_grad) */
  SfVec *g_prev;                /* gradient at the previous x */
  SfVec *d;                     /* search direction */
  SfVec *xt;                    /* line-search trial point x + t d */
  SfVec *y, *s;                 /* candidate pair, swapped into the ring */
  SfVec *ls[SF_LS_VECS];        /* line-search gradients */

  /* The history as a ring of cap slots: logical pair i (0 the oldest) is in
   * slot (head + i) % cap.  dirs holds torch's old_dirs (y = g - g_prev),
   * stps its old_stps (s = t d), ro 1 / y.s. */
  int cap;
  int head;
  int num_old;
  SfVec **dirs;
  SfVec **stps;
  double *ro;
  /* the history oldest first, for the two-loop recursion */
  SfVec **tl_s;
  SfVec **tl_y;
  double *tl_rho;
  double *tl_al;                /* the host recursion's coefficients */
} Lbfgs;

/* A point of the line search: step t, f and gradient at x + t d, the
 * directional derivative g.d and max |g|. */
typedef struct
{
  double t;
  double f;
  double gtd;
  double g_max;
  SfVec *g;
} LsPoint;

/* The line search's spare gradients: the current gradient `keep` may sit in
 * the bracket but is never handed out or taken back. */
typedef struct
{
  SfVec *free[SF_LS_VECS];
  int n;
  SfVec *keep;
} LsPool;

/* ------------------------------------------------------------------------ */
/* Values now or later                                                       */

/* Asks for the reduction `what` of a (and b) into *out, which may be read
 * only after the next q_sync. */
static gboolean
q_reduce (Lbfgs * st, SfVecReduce what, SfVec * a, SfVec * b, double *out,
    GError ** error)
{
  const SfVecOps *ops = st->ops;

  if (st->deferred)
    return ops->reduce_later (st->ctx, what, a, b, out, error);
  switch (what) {
    case SF_VEC_DOT:
      return ops->dot (st->ctx, a, b, out, error);
    case SF_VEC_ABSMAX:
      return ops->absmax (st->ctx, a, out, error);
    case SF_VEC_ASUM:
      return ops->asum (st->ctx, a, out, error);
  }
  g_return_val_if_reached (FALSE);
}

/* Asks for f and g at x; *f may be read only after the next q_sync. */
static gboolean
q_eval (Lbfgs * st, SfVec * x, double *f, SfVec * g, GError ** error)
{
  if (st->deferred)
    return st->ops->eval_later (st->ctx, x, f, g, error);
  return st->ops->eval (st->ctx, x, f, g, error);
}

static gboolean
q_sync (Lbfgs * st, GError ** error)
{
  return !st->deferred || st->ops->sync (st->ctx, error);
}

/* ------------------------------------------------------------------------ */
/* L-BFGS storage                                                            */

static gboolean
vec_new_into (Lbfgs * st, SfVec ** out, GError ** error)
{
  *out = st->ops->vec_new (st->ctx, error);
  return *out != NULL;
}

/* Number of ring slots: torch never holds more than history pairs, and
 * max_iter iterations store at most max_iter - 1 (a warm ring keeps the
 * pairs of earlier runs too). */
static int
lbfgs_ring_size (const SfLbfgsOptions * opt, gboolean warm)
{
  return warm ? opt->history : MIN (opt->history, MAX (opt->max_iter - 1, 1));
}

static gboolean
lbfgs_alloc (Lbfgs * st, GError ** error)
{
  SfVec **fixed[] = { &st->g, &st->g_prev, &st->d, &st->xt, &st->y, &st->s,
    &st->ls[0], &st->ls[1], &st->ls[2]
  };
  guint i;
  int k;

  G_STATIC_ASSERT (SF_LS_VECS == 3);

  for (i = 0; i < G_N_ELEMENTS (fixed); i++)
    if (!vec_new_into (st, fixed[i], error))
      return FALSE;

  st->cap = lbfgs_ring_size (st->opt, st->warm);
  st->dirs = g_new0 (SfVec *, st->cap);
  st->stps = g_new0 (SfVec *, st->cap);
  st->ro = g_new0 (double, st->cap);
  st->tl_s = g_new0 (SfVec *, st->cap);
  st->tl_y = g_new0 (SfVec *, st->cap);
  st->tl_rho = g_new0 (double, st->cap);
  st->tl_al = g_new0 (double, st->cap);
  for (k = 0; k < st->cap; k++) {
    if (!vec_new_into (st, &st->dirs[k], error)
        || !vec_new_into (st, &st->stps[k], error))
      return FALSE;
  }
  return TRUE;
}

static void
lbfgs_free_vec (Lbfgs * st, SfVec * v)
{
  if (v != NULL)
    st->ops->vec_free (st->ctx, v);
}

static void
lbfgs_clear (Lbfgs * st)
{
  int k;

  lbfgs_free_vec (st, st->g);
  lbfgs_free_vec (st, st->g_prev);
  lbfgs_free_vec (st, st->d);
  lbfgs_free_vec (st, st->xt);
  lbfgs_free_vec (st, st->y);
  lbfgs_free_vec (st, st->s);
  for (k = 0; k < SF_LS_VECS; k++)
    lbfgs_free_vec (st, st->ls[k]);
  for (k = 0; k < st->cap; k++) {
    lbfgs_free_vec (st, st->dirs[k]);
    lbfgs_free_vec (st, st->stps[k]);
  }
  g_free (st->dirs);
  g_free (st->stps);
  g_free (st->ro);
  g_free (st->tl_s);
  g_free (st->tl_y);
  g_free (st->tl_rho);
  g_free (st->tl_al);
}

static int
ring_slot (const Lbfgs * st, int i)
{
  return (st->head + i) % st->cap;
}

/* Appends the candidate pair (st->y, st->s) with ro = 1 / ys, dropping the
 * oldest pair when the history is full; the displaced vectors become the
 * next candidate's storage. */
static void
ring_push (Lbfgs * st, double ys)
{
  int slot;
  SfVec *tmp;

  if (st->num_old == st->cap) {
    slot = st->head;
    st->head = (st->head + 1) % st->cap;
  } else {
    slot = ring_slot (st, st->num_old);
    st->num_old++;
  }
  tmp = st->dirs[slot];
  st->dirs[slot] = st->y;
  st->y = tmp;
  tmp = st->stps[slot];
  st->stps[slot] = st->s;
  st->s = tmp;
  st->ro[slot] = 1. / ys;
}

/* ------------------------------------------------------------------------ */
/* Line search (torch's _strong_wolfe)                                       */

static void
pool_init (LsPool * p, Lbfgs * st)
{
  int k;

  for (k = 0; k < SF_LS_VECS; k++)
    p->free[k] = st->ls[k];
  p->n = SF_LS_VECS;
  p->keep = st->g;
}

static SfVec *
pool_take (LsPool * p)
{
  g_assert (p->n > 0);
  return p->free[--p->n];
}

static void
pool_give (LsPool * p, SfVec * v)
{
  if (v == NULL || v == p->keep)
    return;
  g_assert (p->n < SF_LS_VECS);
  p->free[p->n++] = v;
}

/* Asks for p->f, p->g, p->gtd and p->g_max at x + p->t d (torch's
 * _directional_evaluate followed by g_new.dot(d)); valid after q_sync. */
static gboolean
ls_request (Lbfgs * st, LsPoint * p, GError ** error)
{
  const SfVecOps *ops = st->ops;

  return ops->copy (st->ctx, st->x, st->xt, error)
      && ops->axpy (st->ctx, p->t, st->d, st->xt, error)
      && q_eval (st, st->xt, &p->f, p->g, error)
      && q_reduce (st, SF_VEC_DOT, p->g, st->d, &p->gtd, error)
      && q_reduce (st, SF_VEC_ABSMAX, p->g, NULL, &p->g_max, error);
}

/* Fills p at x + p->t d. */
static gboolean
ls_evaluate (Lbfgs * st, LsPoint * p, GError ** error)
{
  return ls_request (st, p, error) && q_sync (st, error);
}

/* Takes a spare gradient for a new point at step t and evaluates it. */
static gboolean
ls_new_point (Lbfgs * st, LsPool * pool, double t, LsPoint * p,
    GError ** error)
{
  p->t = t;
  p->g = pool_take (pool);
  return ls_evaluate (st, p, error);
}

typedef struct
{
  double f;                     /* f and gtd at step 0 */
  double gtd;
  double d_norm;                /* max |d| */
  LsPoint br[2];                /* the bracket (one point when done) */
  int n_br;
  gboolean done;
  int ls_iter;
  int evals;
} LsState;

/* Python's bracket_f[0] <= bracket_f[-1] (or [1]) choice of the low end. */
static void
ls_low_high (const LsState * ls, int *low, int *high)
{
  gboolean first = ls->br[0].f <= ls->br[ls->n_br - 1].f;

  *low = first ? 0 : 1;
  *high = first ? 1 : 0;
}

/* The point at step 0: x itself. */
static LsPoint
ls_origin (const Lbfgs * st, const LsState * ls)
{
  LsPoint p = { 0., ls->f, ls->gtd, st->g_max, st->g };

  return p;
}

/* The bracketing phase: walks out from the evaluated first point until a
 * step satisfies the strong Wolfe conditions (ls->done) or an interval
 * containing one is found. */
static gboolean
ls_bracket (Lbfgs * st, LsPool * pool, LsState * ls, const LsPoint * first,
    GError ** error)
{
  LsPoint prev = ls_origin (st, ls);
  LsPoint cur = *first;

  ls->evals = 1;

  while (ls->ls_iter < SF_WOLFE_MAX_LS) {
    double bounds[2], t_next;

    if (cur.f > (ls->f + SF_WOLFE_C1 * cur.t * ls->gtd)
        || (ls->ls_iter > 1 && cur.f >= prev.f)) {
      ls->br[0] = prev;
      ls->br[1] = cur;
      ls->n_br = 2;
      return TRUE;
    }
    if (fabs (cur.gtd) <= -SF_WOLFE_C2 * ls->gtd) {
      pool_give (pool, prev.g);
      ls->br[0] = cur;
      ls->n_br = 1;
      ls->done = TRUE;
      return TRUE;
    }
    if (cur.gtd >= 0) {
      ls->br[0] = prev;
      ls->br[1] = cur;
      ls->n_br = 2;
      return TRUE;
    }

    /* extrapolate */
    bounds[0] = cur.t + 0.01 * (cur.t - prev.t);
    bounds[1] = cur.t * 10;
    t_next = cubic_interpolate (prev.t, prev.f, prev.gtd, cur.t, cur.f,
        cur.gtd, bounds);
    pool_give (pool, prev.g);
    prev = cur;
    if (!ls_new_point (st, pool, t_next, &cur, error))
      return FALSE;
    ls->evals++;
    ls->ls_iter++;
  }

  /* out of evaluations: bracket [0, t] */
  pool_give (pool, prev.g);
  ls->br[0] = ls_origin (st, ls);
  ls->br[1] = cur;
  ls->n_br = 2;
  return TRUE;
}

/* The next trial step of the zoom phase, moved 0.1 of the bracket away from
 * its ends when it keeps landing next to them. */
static double
ls_zoom_step (const LsState * ls, gboolean * insuf_progress)
{
  const LsPoint *b = ls->br;
  double t, bmax, bmin, eps;

  t = cubic_interpolate (b[0].t, b[0].f, b[0].gtd, b[1].t, b[1].f, b[1].gtd,
      NULL);
  bmax = py_max (b[0].t, b[1].t);
  bmin = py_min (b[0].t, b[1].t);
  eps = 0.1 * (bmax - bmin);
  if (py_min (bmax - t, t - bmin) < eps) {
    if (*insuf_progress || t >= bmax || t <= bmin) {
      if (fabs (t - bmax) < fabs (t - bmin))
        t = bmax - eps;
      else
        t = bmin + eps;
      *insuf_progress = FALSE;
    } else {
      *insuf_progress = TRUE;
    }
  } else {
    *insuf_progress = FALSE;
  }
  return t;
}

/* Puts the new point p into the bracket as torch does. */
static void
ls_zoom_update (LsState * ls, LsPool * pool, const LsPoint * p, int *low,
    int *high)
{
  if (p->f > (ls->f + SF_WOLFE_C1 * p->t * ls->gtd) || p->f >= ls->br[*low].f) {
    /* Armijo fails or no lower than the low end: p is the new high end */
    pool_give (pool, ls->br[*high].g);
    ls->br[*high] = *p;
    ls_low_high (ls, low, high);
    return;
  }

  if (fabs (p->gtd) <= -SF_WOLFE_C2 * ls->gtd) {
    ls->done = TRUE;
    pool_give (pool, ls->br[*low].g);
  } else if (p->gtd * (ls->br[*high].t - ls->br[*low].t) >= 0) {
    /* the old low end becomes the high end */
    pool_give (pool, ls->br[*high].g);
    ls->br[*high] = ls->br[*low];
  } else {
    pool_give (pool, ls->br[*low].g);
  }
  ls->br[*low] = *p;
}

/* The zoom phase: shrinks the bracket until a point satisfies the strong
 * Wolfe conditions, the bracket is too small or the evaluations run out;
 * *low ends as the index of the best point. */
static gboolean
ls_zoom (Lbfgs * st, LsPool * pool, LsState * ls, int *low, GError ** error)
{
  gboolean insuf_progress = FALSE;
  int high;

  ls_low_high (ls, low, &high);
  while (!ls->done && ls->ls_iter < SF_WOLFE_MAX_LS) {
    LsPoint p;

    if (fabs (ls->br[1].t - ls->br[0].t) * ls->d_norm
        < st->opt->tolerance_change)
      break;

    if (!ls_new_point (st, pool, ls_zoom_step (ls, &insuf_progress), &p,
            error))
      return FALSE;
    ls->evals++;
    ls->ls_iter++;
    ls_zoom_update (ls, pool, &p, low, &high);
  }
  return TRUE;
}

/* torch's _strong_wolfe from x along d, with f, gtd and d_norm = max |d|
 * at x, gradient st->g, and its first point (at the initial step) already
 * evaluated with a gradient from pool.  On return *out is the accepted
 * point and st->g holds its gradient; *evals_out counts the evaluations. */
static gboolean
strong_wolfe (Lbfgs * st, LsPool * pool, const LsPoint * first, double f,
    double gtd, double d_norm, LsPoint * out, int *evals_out,
    GError ** error)
{
  LsState ls = { 0, };
  int low;

  ls.f = f;
  ls.gtd = gtd;
  ls.d_norm = d_norm;
  if (!ls_bracket (st, pool, &ls, first, error)
      || !ls_zoom (st, pool, &ls, &low, error))
    return FALSE;

  *out = ls.br[low];
  *evals_out = ls.evals;
  if (ls.br[low].g == st->g)
    return TRUE;
  return st->ops->copy (st->ctx, ls.br[low].g, st->g, error);
}

/* ------------------------------------------------------------------------ */
/* L-BFGS iteration                                                          */

/* Stores the pair (g - g_prev, t d) when its curvature is positive enough,
 * updating *h_diag = y.s / y.y as torch does (y.y is asked for with y.s,
 * in the same round trip, and used only when the pair is kept). */
static gboolean
lbfgs_update_memory (Lbfgs * st, double t, double *h_diag, GError ** error)
{
  const SfVecOps *ops = st->ops;
  double ys, yy;

  if (!ops->copy (st->ctx, st->g, st->y, error)
      || !ops->axpy (st->ctx, -1., st->g_prev, st->y, error)
      || !ops->copy (st->ctx, st->d, st->s, error)
      || !ops->scale (st->ctx, t, st->s, error)
      || !q_reduce (st, SF_VEC_DOT, st->y, st->s, &ys, error)
      || !q_reduce (st, SF_VEC_DOT, st->y, st->y, &yy, error)
      || !q_sync (st, error))
    return FALSE;
  if (!(ys > SF_LBFGS_CURVATURE_MIN))
    return TRUE;

  ring_push (st, ys);
  *h_diag = ys / yy;
  return TRUE;
}

/* The host two-loop recursion once al has room for m coefficients. */
static gboolean
two_loop_host_run (const SfVecOps * ops, gpointer ctx, SfVec * g, SfVec * d,
    SfVec * const *s, SfVec * const *y, const double *rho, int m,
    double h_diag, double *al, GError ** error)
{
  int i;

  if (!ops->copy (ctx, g, d, error) || !ops->scale (ctx, -1., d, error))
    return FALSE;

  for (i = m - 1; i >= 0; i--) {
    double sq;

    if (!ops->dot (ctx, s[i], d, &sq, error))
      return FALSE;
    al[i] = sq * rho[i];
    if (!ops->axpy (ctx, -al[i], y[i], d, error))
      return FALSE;
  }

  if (!ops->scale (ctx, h_diag, d, error))
    return FALSE;

  for (i = 0; i < m; i++) {
    double yr, be_i;

    if (!ops->dot (ctx, y[i], d, &yr, error))
      return FALSE;
    be_i = yr * rho[i];
    if (!ops->axpy (ctx, al[i] - be_i, s[i], d, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
sf_lbfgs_two_loop_host (const SfVecOps * ops, gpointer ctx, SfVec * g,
    SfVec * d, SfVec * const *s, SfVec * const *y, const double *rho, int m,
    double h_diag, GError ** error)
{
  double *al;
  gboolean ok;

  g_return_val_if_fail (ops != NULL && g != NULL && d != NULL, FALSE);
  g_return_val_if_fail (m >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  al = g_new (double, MAX (m, 1));
  ok = two_loop_host_run (ops, ctx, g, d, s, y, rho, m, h_diag, al, error);
  g_free (al);
  return ok;
}

/* d = -H g by the two-loop recursion over the stored pairs, with the
 * initial inverse Hessian h_diag I. */
static gboolean
lbfgs_direction (Lbfgs * st, double h_diag, GError ** error)
{
  int i;

  for (i = 0; i < st->num_old; i++) {
    int k = ring_slot (st, i);

    st->tl_s[i] = st->stps[k];
    st->tl_y[i] = st->dirs[k];
    st->tl_rho[i] = st->ro[k];
  }
  if (st->ops->two_loop != NULL)
    return st->ops->two_loop (st->ctx, st->g, st->d, st->tl_s, st->tl_y,
        st->tl_rho, st->num_old, h_diag, error);
  return two_loop_host_run (st->ops, st->ctx, st->g, st->d, st->tl_s,
      st->tl_y, st->tl_rho, st->num_old, h_diag, st->tl_al, error);
}

typedef struct
{
  double f;                     /* loss at x */
  double t;                     /* last step length */
  double h_diag;
  double g_sum;                 /* sum |g| at the start (iteration 1's step) */
  int n_iter;
  int evals;
  gboolean from_memory;         /* iteration 1 uses pairs of earlier runs */
} LbfgsRun;

/* Sets the search direction for iteration run->n_iter. */
static gboolean
lbfgs_search_direction (Lbfgs * st, LbfgsRun * run, GError ** error)
{
  if (run->n_iter == 1 && run->from_memory)
    return lbfgs_direction (st, run->h_diag, error);
  if (run->n_iter == 1) {
    st->num_old = 0;
    st->head = 0;
    run->h_diag = 1.;
    return st->ops->copy (st->ctx, st->g, st->d, error)
        && st->ops->scale (st->ctx, -1., st->d, error);
  }
  return lbfgs_update_memory (st, run->t, &run->h_diag, error)
      && lbfgs_direction (st, run->h_diag, error);
}

/* Whether the loop must stop after an accepted step (torch's checks, in
 * its order, after the caller's callback); d_max = max |d|.  Sets
 * st->stop to the reason. */
static gboolean
lbfgs_converged (Lbfgs * st, const LbfgsRun * run, double prev_loss,
    double d_max)
{
  const SfLbfgsOptions *opt = st->opt;
  int max_eval = opt->max_eval > 0 ? opt->max_eval : opt->max_iter * 5 / 4;

  if (run->n_iter == opt->max_iter)
    st->stop = SF_STOP_ITERATIONS;
  else if (run->evals >= max_eval)
    st->stop = SF_STOP_EVALUATIONS;
  else if (st->g_max <= opt->tolerance_grad
      || d_max * fabs (run->t) <= opt->tolerance_change
      || fabs (run->f - prev_loss) < opt->tolerance_change)
    st->stop = SF_STOP_CONVERGED;
  else
    return FALSE;
  return TRUE;
}

/* Asks for g.d and max |d| at the start of a line search and evaluates
 * its first point (in the same round trip with deferred results; only
 * when g.d lets the search go on without).  *go is FALSE when g.d ends
 * the run. */
static gboolean
lbfgs_line_start (Lbfgs * st, LsPoint * first, double *gtd, double *d_norm,
    gboolean * go, GError ** error)
{
  if (!q_reduce (st, SF_VEC_DOT, st->g, st->d, gtd, error)
      || !q_reduce (st, SF_VEC_ABSMAX, st->d, NULL, d_norm, error)
      || (st->deferred && !ls_request (st, first, error))
      || !q_sync (st, error))
    return FALSE;
  *go = !(*gtd > -st->opt->tolerance_change);
  if (!*go || st->deferred)
    return TRUE;
  return ls_evaluate (st, first, error);
}

/* One L-BFGS iteration from x; *stop is set when the loop must end. */
static gboolean
lbfgs_iterate (Lbfgs * st, LbfgsRun * run, SfOptimCallback cb,
    gpointer user_data, gboolean * stop, GError ** error)
{
  const SfVecOps *ops = st->ops;
  double prev_loss, gtd, d_norm;
  LsPool pool;
  LsPoint first = { 0, }, best;
  gboolean go;
  int ls_evals;

  run->n_iter++;
  if (!lbfgs_search_direction (st, run, error)
      || !ops->copy (st->ctx, st->g, st->g_prev, error))
    return FALSE;
  prev_loss = run->f;

  /* initial step length */
  if (run->n_iter == 1 && !run->from_memory)
    run->t = py_min (1., 1. / run->g_sum) * st->opt->lr;
  else
    run->t = st->opt->lr;

  pool_init (&pool, st);
  first.t = run->t;
  first.g = pool_take (&pool);
  if (!lbfgs_line_start (st, &first, &gtd, &d_norm, &go, error))
    return FALSE;
  if (!go) {
    st->stop = SF_STOP_CONVERGED;
    *stop = TRUE;
    return TRUE;
  }

  if (!strong_wolfe (st, &pool, &first, run->f, gtd, d_norm, &best,
          &ls_evals, error)
      || !ops->axpy (st->ctx, best.t, st->d, st->x, error))
    return FALSE;
  run->f = best.f;
  run->t = best.t;
  st->g_max = best.g_max;
  run->evals += ls_evals;

  if (cb != NULL && !cb (run->n_iter, run->f, user_data)) {
    st->stop = SF_STOP_CALLBACK;
    *stop = TRUE;
    return TRUE;
  }
  *stop = lbfgs_converged (st, run, prev_loss, d_norm);
  return TRUE;
}

/* The run, ending with nothing left to do in ops (the last step of x
 * done). */
static gboolean
lbfgs_run (Lbfgs * st, LbfgsRun * run, SfOptimCallback cb,
    gpointer user_data, GError ** error)
{
  gboolean stop = FALSE;

  if (!q_eval (st, st->x, &run->f, st->g, error)
      || !q_reduce (st, SF_VEC_ABSMAX, st->g, NULL, &st->g_max, error)
      || !q_reduce (st, SF_VEC_ASUM, st->g, NULL, &run->g_sum, error)
      || !q_sync (st, error))
    return FALSE;
  run->evals = 1;
  st->stop = SF_STOP_ITERATIONS;
  if (st->g_max <= st->opt->tolerance_grad) {
    st->stop = SF_STOP_CONVERGED;
    return TRUE;
  }

  while (!stop && run->n_iter < st->opt->max_iter) {
    if (!lbfgs_iterate (st, run, cb, user_data, &stop, error))
      return FALSE;
  }
  return q_sync (st, error);
}

void
sf_lbfgs_options_init (SfLbfgsOptions * o, int max_iter)
{
  g_return_if_fail (o != NULL);

  o->max_iter = max_iter;
  o->max_eval = 0;
  o->history = 100;
  o->lr = 1.;
  o->tolerance_grad = 1e-7;
  o->tolerance_change = 1e-9;
}

/* Holds 9 + 2 * min (history, max_iter - 1) vectors for the whole run.  As
 * in torch, *iters_out is state['n_iter'] (an iteration that ends before
 * stepping because g.d > -tolerance_change counts, without a callback) and
 * *evals_out state['func_evals']; the callback sees every accepted step. */
gboolean
sf_lbfgs_minimize (const SfVecOps * ops, gpointer ctx, SfVec * x,
    const SfLbfgsOptions * opt, SfOptimCallback cb, gpointer user_data,
    double *f_out, int *iters_out, int *evals_out, GError ** error)
{
  Lbfgs st = { 0, };
  LbfgsRun run = { 0, };
  gboolean ok;

  g_return_val_if_fail (ops != NULL && x != NULL && opt != NULL, FALSE);
  g_return_val_if_fail (ops->absmax != NULL && ops->asum != NULL, FALSE);
  g_return_val_if_fail ((ops->reduce_later == NULL) == (ops->sync == NULL)
      && (ops->eval_later == NULL) == (ops->sync == NULL), FALSE);
  g_return_val_if_fail (opt->history >= 1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  st.ops = ops;
  st.ctx = ctx;
  st.opt = opt;
  st.deferred = ops->sync != NULL;
  st.x = x;

  ok = lbfgs_alloc (&st, error) && lbfgs_run (&st, &run, cb, user_data,
      error);
  lbfgs_clear (&st);
  if (!ok)
    return FALSE;

  if (f_out != NULL)
    *f_out = run.f;
  if (iters_out != NULL)
    *iters_out = run.n_iter;
  if (evals_out != NULL)
    *evals_out = run.evals;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Memory across minimisations                                               */

struct SfOptimMemory
{
  gboolean lbfgs_ready;         /* lb holds its vectors and ring */
  Lbfgs lb;
  double h_diag;                /* the last run's initial inverse Hessian */
  SfVec *adam_m, *adam_v;       /* Adam's moments, NULL when empty */
  int adam_t;
};

const char *
sf_stop_reason_name (SfStopReason r)
{
  switch (r) {
    case SF_STOP_ITERATIONS:
      return "iterations";
    case SF_STOP_EVALUATIONS:
      return "evaluations";
    case SF_STOP_CONVERGED:
      return "converged";
    case SF_STOP_CALLBACK:
      return "callback";
  }
  return "unknown";
}

SfOptimMemory *
sf_optim_memory_new (void)
{
  return g_new0 (SfOptimMemory, 1);
}

int
sf_optim_memory_size (const SfOptimMemory * mem)
{
  if (mem->lbfgs_ready)
    return mem->lb.num_old;
  return mem->adam_m ? mem->adam_t : 0;
}

void
sf_optim_memory_forget (SfOptimMemory * mem, const SfVecOps * ops,
    gpointer ctx)
{
  if (mem == NULL)
    return;
  if (mem->lbfgs_ready) {
    mem->lb.ops = ops;
    mem->lb.ctx = ctx;
    lbfgs_clear (&mem->lb);
  }
  if (mem->adam_m)
    ops->vec_free (ctx, mem->adam_m);
  if (mem->adam_v)
    ops->vec_free (ctx, mem->adam_v);
  memset (mem, 0, sizeof (*mem));
}

void
sf_optim_memory_free (SfOptimMemory * mem, const SfVecOps * ops,
    gpointer ctx)
{
  sf_optim_memory_forget (mem, ops, ctx);
  g_free (mem);
}

/* Readies mem's L-BFGS for a run of opt over ops: allocates the vectors
 * and a ring of opt->history slots unless it has them already. */
static gboolean
lbfgs_memory_prepare (SfOptimMemory * mem, const SfVecOps * ops,
    gpointer ctx, SfVec * x, const SfLbfgsOptions * opt, GError ** error)
{
  Lbfgs *lb = &mem->lb;

  if (mem->adam_m || (mem->lbfgs_ready && lb->cap != opt->history))
    sf_optim_memory_forget (mem, ops, ctx);
  lb->ops = ops;
  lb->ctx = ctx;
  lb->opt = opt;
  lb->deferred = ops->sync != NULL;
  lb->x = x;
  lb->warm = TRUE;
  if (mem->lbfgs_ready)
    return TRUE;
  mem->lbfgs_ready = TRUE;      /* lbfgs_clear frees what alloc made */
  mem->h_diag = 1.;
  return lbfgs_alloc (lb, error);
}

gboolean
sf_lbfgs_minimize_warm (const SfVecOps * ops, gpointer ctx, SfVec * x,
    const SfLbfgsOptions * opt, SfOptimMemory * mem, SfOptimCallback cb,
    gpointer user_data, SfOptimResult * res, GError ** error)
{
  LbfgsRun run = { 0, };
  int pairs;

  g_return_val_if_fail (ops != NULL && x != NULL && opt != NULL
      && mem != NULL, FALSE);
  g_return_val_if_fail (ops->absmax != NULL && ops->asum != NULL, FALSE);
  g_return_val_if_fail (opt->history >= 1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lbfgs_memory_prepare (mem, ops, ctx, x, opt, error)) {
    sf_optim_memory_forget (mem, ops, ctx);
    return FALSE;
  }
  pairs = mem->lb.num_old;
  run.from_memory = pairs > 0;
  run.h_diag = mem->h_diag;
  if (!lbfgs_run (&mem->lb, &run, cb, user_data, error)) {
    sf_optim_memory_forget (mem, ops, ctx);
    return FALSE;
  }
  mem->h_diag = run.h_diag;
  if (res != NULL) {
    res->f = run.f;
    res->iterations = run.n_iter;
    res->evaluations = run.evals;
    res->pairs_at_start = pairs;
    res->stop = mem->lb.stop;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Adam                                                                      */

/* Adam from mem's moments (zeroed when new) and step count. */
static gboolean
adam_memory_prepare (SfOptimMemory * mem, const SfVecOps * ops,
    gpointer ctx, GError ** error)
{
  if (mem->lbfgs_ready)
    sf_optim_memory_forget (mem, ops, ctx);
  if (mem->adam_m)
    return TRUE;
  if ((mem->adam_m = ops->vec_new (ctx, error)) == NULL
      || (mem->adam_v = ops->vec_new (ctx, error)) == NULL)
    return FALSE;
  mem->adam_t = 0;
  return ops->zero (ctx, mem->adam_m, error)
      && ops->zero (ctx, mem->adam_v, error);
}

gboolean
sf_adam_minimize_warm (const SfVecOps * ops, gpointer ctx, SfVec * x,
    int iterations, double lr, SfOptimMemory * mem, SfOptimCallback cb,
    gpointer user_data, SfOptimResult * res, GError ** error)
{
  SfOptimResult r = { 0, };
  SfVec *g;
  gboolean ok;
  int k;

  g_return_val_if_fail (ops != NULL && x != NULL && mem != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!adam_memory_prepare (mem, ops, ctx, error)
      || (g = ops->vec_new (ctx, error)) == NULL) {
    sf_optim_memory_forget (mem, ops, ctx);
    return FALSE;
  }
  r.pairs_at_start = mem->adam_t;
  r.stop = SF_STOP_ITERATIONS;
  ok = TRUE;
  for (k = 1; ok && k <= iterations; k++) {
    ok = ops->eval (ctx, x, &r.f, g, error)
        && ops->adam (ctx, x, g, mem->adam_m, mem->adam_v, lr, SF_ADAM_BETA1,
        SF_ADAM_BETA2, SF_ADAM_EPS, ++mem->adam_t, error);
    r.evaluations += ok;
    r.iterations += ok;
    if (ok && cb != NULL && !cb (k, r.f, user_data)) {
      r.stop = SF_STOP_CALLBACK;
      break;
    }
  }
  if (ok && iterations <= 0)
    ok = ops->eval (ctx, x, &r.f, g, error);
  if (ok && ops->sync != NULL)
    ok = ops->sync (ctx, error);
  ops->vec_free (ctx, g);
  if (!ok) {
    sf_optim_memory_forget (mem, ops, ctx);
    return FALSE;
  }
  if (res != NULL)
    *res = r;
  return TRUE;
}

/* The still-image Adam: the warm one on a memory of its own, so steps
 * 1..iterations with f and g at x, then the bias-corrected update
 * (torch's loss = closure (); optimizer.step ()); the callback gets step t
 * and the loss evaluated at its start, as the PyTorch loop would print.
 * f_out gets the loss of the last evaluation: at the start of the last
 * step taken (one evaluation at x when iterations <= 0). */
gboolean
sf_adam_minimize (const SfVecOps * ops, gpointer ctx, SfVec * x,
    int iterations, double lr, SfOptimCallback cb, gpointer user_data,
    double *f_out, int *iters_out, GError ** error)
{
  SfOptimMemory *mem;
  SfOptimResult r = { 0, };
  gboolean ok;

  g_return_val_if_fail (ops != NULL && x != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  mem = sf_optim_memory_new ();
  ok = sf_adam_minimize_warm (ops, ctx, x, iterations, lr, mem, cb,
      user_data, &r, error);
  sf_optim_memory_free (mem, ops, ctx);
  if (!ok)
    return FALSE;
  if (f_out != NULL)
    *f_out = r.f;
  if (iters_out != NULL)
    *iters_out = r.iterations;
  return TRUE;
}
