/* vecops.c - SfVecOps on a stylizer's GPU buffers, recorded into one
 * pending command buffer (SfVecQueue), with deferred results and the
 * L-BFGS two-loop recursion on the GPU.  The design is in vecops.h: only a
 * value the host needs submits, and the two-loop's scalars stay in a
 * device buffer.
 *
 * Errors: a failure to record or submit is logged where it arises (gpu.c)
 * and returned; the queue then drops what was pending, so a half-recorded
 * command buffer is never submitted and never leaks.
 */
#include <math.h>
#include <string.h>

#include "stylizer.h"
#include "vecops.h"

/* reductions answered by one flush (the L-BFGS asks for at most 4) */
#define RED_SLOTS 8

/* The two-loop's device scalars: the partials of the current dot at
 * [0, SF_PARTIALS), the next axpy's coefficient, then alpha_0.. */
#define TL_COEF SF_PARTIALS
#define TL_ALPHA (SF_PARTIALS + 1)
#define TL_MIN_PAIRS 64

typedef struct
{
  double *out;
  gboolean absmax;
} RedRequest;

struct SfVecQueue
{
  SfDevice *dev;
  guint64 n;                    /* floats per vector */
  SfVecMode mode;
  VkCommandBuffer cb;           /* pending, or VK_NULL_HANDLE */
  SfBuffer *red;                /* host-visible: RED_SLOTS partial slots */
  RedRequest req[RED_SLOTS];
  int n_req;
  SfVecHook hook;
  gpointer hook_data;
  SfBuffer *scal;               /* device: the two-loop's scalars */
  int scal_pairs;               /* alphas scal has room for */
  guint64 submissions;
};

/* ---- the queue ---------------------------------------------------------- */

static SfBuffer *
new_scalars (SfDevice * dev, int pairs, GError ** error)
{
  return sf_buffer_new_floats (dev, TL_ALPHA + (gsize) pairs, 1, 1, error);
}

SfVecQueue *
sf_vec_queue_new (SfDevice *dev, guint64 n, GError **error)
{
  SfVecQueue *q = g_new0 (SfVecQueue, 1);

  q->dev = dev;
  q->n = n;
  q->scal_pairs = TL_MIN_PAIRS;
  if (!(q->red = sf_buffer_new (dev, RED_SLOTS * SF_PARTIALS * sizeof (float),
              SF_MEM_HOST, error))
      || !(q->scal = new_scalars (dev, q->scal_pairs, error))) {
    sf_vec_queue_free (q);
    return NULL;
  }
  return q;
}

void
sf_vec_queue_free (SfVecQueue *q)
{
  if (!q)
    return;
  sf_vec_queue_discard (q);
  sf_buffer_free (q->dev, q->red);
  sf_buffer_free (q->dev, q->scal);
  g_free (q);
}

void
sf_vec_queue_set_mode (SfVecQueue *q, SfVecMode mode)
{
  q->mode = mode;
}

SfVecMode
sf_vec_queue_get_mode (const SfVecQueue *q)
{
  return q->mode;
}

guint64
sf_vec_queue_submissions (const SfVecQueue *q)
{
  return q->submissions;
}

gboolean
sf_vec_queue_cmd (SfVecQueue *q, VkCommandBuffer *cb, GError **error)
{
  if (q->cb == VK_NULL_HANDLE && !sf_cmd_begin (q->dev, &q->cb, error))
    return FALSE;
  *cb = q->cb;
  return TRUE;
}

static void
forget_results (SfVecQueue * q)
{
  q->n_req = 0;
  q->hook = NULL;
  q->hook_data = NULL;
}

void
sf_vec_queue_discard (SfVecQueue *q)
{
  sf_cmd_free (q->dev, q->cb);
  q->cb = VK_NULL_HANDLE;
  forget_results (q);
}

gboolean
sf_vec_queue_flush (SfVecQueue *q, GError **error)
{
  VkCommandBuffer cb = q->cb;
  SfVecHook hook = q->hook;
  gpointer hook_data = q->hook_data;

  if (cb == VK_NULL_HANDLE)
    return TRUE;
  q->cb = VK_NULL_HANDLE;
  q->submissions++;
  if (!sf_cmd_submit_wait (q->dev, &cb, 1, TRUE, error)) {
    forget_results (q);
    return FALSE;
  }
  for (int k = 0; k < q->n_req; k++)
    *q->req[k].out = sf_partials_fold (q->red, k, q->n, q->req[k].absmax);
  forget_results (q);
  if (hook)
    hook (hook_data);
  return TRUE;
}

gboolean
sf_vec_queue_recorded (SfVecQueue *q, GError **error)
{
  return q->mode != SF_VEC_IMMEDIATE || sf_vec_queue_flush (q, error);
}

void
sf_vec_queue_set_hook (SfVecQueue *q, SfVecHook hook, gpointer data)
{
  g_return_if_fail (q->hook == NULL);
  q->hook = hook;
  q->hook_data = data;
}

gboolean
sf_vec_queue_has_hook (const SfVecQueue *q)
{
  return q->hook != NULL;
}

gboolean
sf_vec_queue_reduce (SfVecQueue *q, SfReduceMode mode, SfBuffer *a,
    SfBuffer *b, double *out, GError **error)
{
  VkCommandBuffer cb;
  int k;

  if (q->n_req == RED_SLOTS && !sf_vec_queue_flush (q, error))
    return FALSE;
  if (!sf_vec_queue_cmd (q, &cb, error))
    return FALSE;
  k = q->n_req;
  if (!sf_record_dot (q->dev, cb, a, b, q->n, mode, q->red, k, error)) {
    sf_vec_queue_discard (q);
    return FALSE;
  }
  q->req[k].out = out;
  q->req[k].absmax = mode == SF_REDUCE_ABSMAX;
  q->n_req++;
  return TRUE;
}

/* ---- the two-loop recursion ------------------------------------------- */

/* Room for m alphas; a pending buffer may use the old scalars, so it goes
 * first. */
static gboolean
tl_reserve (SfVecQueue * q, int m, GError ** error)
{
  SfBuffer *b;
  int pairs;

  if (m <= q->scal_pairs)
    return TRUE;
  pairs = MAX (m, 2 * q->scal_pairs);
  if (!sf_vec_queue_flush (q, error)
      || !(b = new_scalars (q->dev, pairs, error)))
    return FALSE;
  sf_buffer_free (q->dev, q->scal);
  q->scal = b;
  q->scal_pairs = pairs;
  return TRUE;
}

/* The coefficient for pair i from a . b: mode 0 alpha_i = rho a.b and
 * coef = -alpha_i; mode 1 coef = alpha_i - rho a.b. */
static gboolean
tl_coef (SfVecQueue * q, VkCommandBuffer cb, SfBuffer * a, SfBuffer * b,
    double rho, int i, int mode, GError ** error)
{
  struct { int32_t groups, coef, alpha, mode; float rho; } pc = {
    (int32_t) sf_reduce_groups (q->n), TL_COEF, TL_ALPHA + i, mode,
    (float) rho };

  return sf_record_dot (q->dev, cb, a, b, q->n, SF_REDUCE_DOT, q->scal, 0,
      error)
      && sf_cmd_dispatch (q->dev, cb, SF_K_FOLD, &q->scal, 1, &pc,
      sizeof (pc), 1, 1, 1, error);
}

/* y += coef x */
static gboolean
tl_axpy (SfVecQueue * q, VkCommandBuffer cb, SfBuffer * x, SfBuffer * y,
    GError ** error)
{
  struct { int32_t n, coef; } pc = { (int32_t) q->n, TL_COEF };
  SfBuffer *b[3] = { x, y, q->scal };

  return sf_cmd_dispatch (q->dev, cb, SF_K_AXPY_DEV, b, 3, &pc, sizeof (pc),
      sf_div_up (q->n, 256), 1, 1, error);
}

/* The recursion of sf_lbfgs_two_loop_host, step for step. */
static gboolean
tl_record (SfVecQueue * q, VkCommandBuffer cb, SfBuffer * g, SfBuffer * d,
    SfBuffer * const *s, SfBuffer * const *y, const double *rho, int m,
    double h_diag, GError ** error)
{
  if (!sf_record_axpby (q->dev, cb, -1.0, g, 0.0, d, q->n, error))
    return FALSE;
  for (int i = m - 1; i >= 0; i--)
    if (!tl_coef (q, cb, s[i], d, rho[i], i, 0, error)
        || !tl_axpy (q, cb, y[i], d, error))
      return FALSE;
  if (!sf_record_axpby (q->dev, cb, 0.0, NULL, h_diag, d, q->n, error))
    return FALSE;
  for (int i = 0; i < m; i++)
    if (!tl_coef (q, cb, y[i], d, rho[i], i, 1, error)
        || !tl_axpy (q, cb, s[i], d, error))
      return FALSE;
  return TRUE;
}

gboolean
sf_vec_queue_two_loop (SfVecQueue *q, SfBuffer *g, SfBuffer *d,
    SfBuffer *const *s, SfBuffer *const *y, const double *rho, int m,
    double h_diag, GError **error)
{
  VkCommandBuffer cb;

  g_return_val_if_fail (m >= 0, FALSE);
  if (!tl_reserve (q, m, error) || !sf_vec_queue_cmd (q, &cb, error))
    return FALSE;
  if (!tl_record (q, cb, g, d, s, y, rho, m, h_diag, error)) {
    sf_vec_queue_discard (q);
    return FALSE;
  }
  return sf_vec_queue_recorded (q, error);
}

/* ---- SfVecOps ----------------------------------------------------------- */

void
sf_vec_ctx_init (SfVecCtx *c, SfStylizer *st, const SfParams *params)
{
  memset (c, 0, sizeof (*c));
  c->st = st;
  c->params = params;
}

gboolean
sf_vec_ctx_find_terms (const SfVecCtx *c, double f, SfLossTerms *out)
{
  for (guint k = 0; k < MIN (c->n_ring, SF_VEC_RING); k++) {
    const SfLossTerms *t = &c->ring[(c->n_ring - 1 - k) % SF_VEC_RING];
    if (t->total == f) {
      *out = *t;
      return TRUE;
    }
  }
  return FALSE;
}

static SfVecQueue *
ctx_queue (gpointer ctx)
{
  return ((SfVecCtx *) ctx)->st->vq;
}

/* The optimisers' vectors come from a pool kept by the stylizer, so that a
 * video allocates them once, not at every frame.  A vector given back may
 * still be used by the pending command buffer; it is only reused by later
 * recordings, which run after it. */
static SfVec *
gv_new (gpointer ctx, GError ** error)
{
  SfStylizer *st = ((SfVecCtx *) ctx)->st;
  GPtrArray *pool = st->vec_pool;

  if (pool->len > 0)
    return g_ptr_array_steal_index_fast (pool, pool->len - 1);
  return (SfVec *) sf_buffer_new_floats (st->dev, 3, st->w, st->h, error);
}

static void
gv_free (gpointer ctx, SfVec * v)
{
  if (v)
    g_ptr_array_add (((SfVecCtx *) ctx)->st->vec_pool, v);
}

/* The pending evaluation's hook: its terms from the partials. */
static void
eval_done (gpointer data)
{
  SfVecCtx *c = data;
  SfLossTerms t;

  sf_stylizer_fold_terms (c->st, c->params, &t);
  c->ring[c->n_ring++ % SF_VEC_RING] = t;
  *c->eval_f = t.total;
  c->eval_f = NULL;
}

/* One evaluation at a time: the partials slots are the stylizer's. */
static gboolean
gv_eval_later (gpointer ctx, SfVec * x, double *f, SfVec * g,
    GError ** error)
{
  SfVecCtx *c = ctx;
  SfVecQueue *q = c->st->vq;
  VkCommandBuffer cb;

  if (sf_vec_queue_has_hook (q) && !sf_vec_queue_flush (q, error))
    return FALSE;
  if (!sf_vec_queue_cmd (q, &cb, error))
    return FALSE;
  if (!sf_stylizer_record_eval (c->st, cb, (SfBuffer *) x, (SfBuffer *) g,
          c->params, error)) {
    sf_vec_queue_discard (q);
    return FALSE;
  }
  c->eval_f = f;
  sf_vec_queue_set_hook (q, eval_done, c);
  return TRUE;
}

static gboolean
gv_eval (gpointer ctx, SfVec * x, double *f, SfVec * g, GError ** error)
{
  return gv_eval_later (ctx, x, f, g, error)
      && sf_vec_queue_flush (ctx_queue (ctx), error);
}

static const SfReduceMode reduce_modes[] = {
  [SF_VEC_DOT] = SF_REDUCE_DOT,
  [SF_VEC_ABSMAX] = SF_REDUCE_ABSMAX,
  [SF_VEC_ASUM] = SF_REDUCE_ASUM,
};

static gboolean
gv_reduce_later (gpointer ctx, SfVecReduce what, SfVec * a, SfVec * b,
    double *out, GError ** error)
{
  g_return_val_if_fail ((guint) what < G_N_ELEMENTS (reduce_modes), FALSE);
  return sf_vec_queue_reduce (ctx_queue (ctx), reduce_modes[what],
      (SfBuffer *) a, (SfBuffer *) b, out, error);
}

static gboolean
gv_sync (gpointer ctx, GError ** error)
{
  return sf_vec_queue_flush (ctx_queue (ctx), error);
}

/* A reduction the host needs now: recorded after what is pending, one
 * submission. */
static gboolean
reduce_now (gpointer ctx, SfVecReduce what, SfVec * a, SfVec * b,
    double *out, GError ** error)
{
  return gv_reduce_later (ctx, what, a, b, out, error)
      && gv_sync (ctx, error);
}

static gboolean
gv_dot (gpointer ctx, SfVec * a, SfVec * b, double *out, GError ** error)
{
  return reduce_now (ctx, SF_VEC_DOT, a, b, out, error);
}

static gboolean
gv_absmax (gpointer ctx, SfVec * a, double *out, GError ** error)
{
  return reduce_now (ctx, SF_VEC_ABSMAX, a, NULL, out, error);
}

static gboolean
gv_asum (gpointer ctx, SfVec * a, double *out, GError ** error)
{
  return reduce_now (ctx, SF_VEC_ASUM, a, NULL, out, error);
}

/* Appends y = a x + b y (x NULL: y = b y). */
static gboolean
gv_axpby (gpointer ctx, double a, SfVec * x, double b, SfVec * y,
    GError ** error)
{
  SfVecQueue *q = ctx_queue (ctx);
  VkCommandBuffer cb;

  if (!sf_vec_queue_cmd (q, &cb, error))
    return FALSE;
  if (!sf_record_axpby (((SfVecCtx *) ctx)->st->dev, cb, a, (SfBuffer *) x,
          b, (SfBuffer *) y, ((SfVecCtx *) ctx)->st->n, error)) {
    sf_vec_queue_discard (q);
    return FALSE;
  }
  return sf_vec_queue_recorded (q, error);
}

static gboolean
gv_axpy (gpointer ctx, double a, SfVec * x, SfVec * y, GError ** error)
{
  return gv_axpby (ctx, a, x, 1.0, y, error);
}

static gboolean
gv_scale (gpointer ctx, double a, SfVec * x, GError ** error)
{
  return gv_axpby (ctx, 0.0, NULL, a, x, error);
}

static gboolean
gv_copy (gpointer ctx, SfVec * src, SfVec * dst, GError ** error)
{
  return gv_axpby (ctx, 1.0, src, 0.0, dst, error);
}

static gboolean
gv_zero (gpointer ctx, SfVec * x, GError ** error)
{
  return gv_axpby (ctx, 0.0, NULL, 0.0, x, error);
}

static gboolean
gv_adam (gpointer ctx, SfVec * x, SfVec * g, SfVec * m, SfVec * v, double lr,
    double b1, double b2, double eps, int t, GError ** error)
{
  SfStylizer *st = ((SfVecCtx *) ctx)->st;
  SfVecQueue *q = st->vq;
  VkCommandBuffer cb;
  struct { int32_t n; float lr, b1, b2, eps, bc1, bc2; } pc = {
    (int32_t) st->n, (float) lr, (float) b1, (float) b2, (float) eps,
    (float) (1.0 - pow (b1, t)), (float) (1.0 - pow (b2, t)) };
  SfBuffer *b[4] = { (SfBuffer *) x, (SfBuffer *) g, (SfBuffer *) m,
    (SfBuffer *) v };

  if (!sf_vec_queue_cmd (q, &cb, error))
    return FALSE;
  if (!sf_cmd_dispatch (st->dev, cb, SF_K_ADAM, b, 4, &pc, sizeof (pc),
          sf_div_up (st->n, 256), 1, 1, error)) {
    sf_vec_queue_discard (q);
    return FALSE;
  }
  return sf_vec_queue_recorded (q, error);
}

static gboolean
gv_two_loop (gpointer ctx, SfVec * g, SfVec * d, SfVec * const *s,
    SfVec * const *y, const double *rho, int m, double h_diag,
    GError ** error)
{
  return sf_vec_queue_two_loop (ctx_queue (ctx), (SfBuffer *) g,
      (SfBuffer *) d, (SfBuffer * const *) s, (SfBuffer * const *) y, rho,
      m, h_diag, error);
}

#define GV_BASIC_OPS \
  .vec_new = gv_new, \
  .vec_free = gv_free, \
  .eval = gv_eval, \
  .dot = gv_dot, \
  .axpy = gv_axpy, \
  .scale = gv_scale, \
  .copy = gv_copy, \
  .adam = gv_adam, \
  .zero = gv_zero, \
  .absmax = gv_absmax, \
  .asum = gv_asum

static const SfVecOps gpu_ops_basic = {
  GV_BASIC_OPS,
};

static const SfVecOps gpu_ops_deferred = {
  GV_BASIC_OPS,
  .two_loop = gv_two_loop,
  .reduce_later = gv_reduce_later,
  .eval_later = gv_eval_later,
  .sync = gv_sync,
};

const SfVecOps *
sf_vec_ops_get (SfVecMode mode)
{
  return mode == SF_VEC_DEFERRED ? &gpu_ops_deferred : &gpu_ops_basic;
}
