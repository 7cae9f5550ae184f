/* vecops.c - SfVecOps on a stylizer's GPU buffers: each operation
 * recorded into the stylizer's SfVecQueue (vecqueue.c), evaluations
 * through the stylizer's record_eval, the two-loop recursion on the GPU
 * in DEFERRED mode.
 *
 * Errors: a failure to record or submit is logged where it arises (gpu.c)
 * and returned; the queue then drops what was pending.
 */
#include <math.h>
#include <string.h>

#include "stylizer.h"
#include "vecops.h"

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

static gboolean
gv_reduce_later (gpointer ctx, SfVecReduce what, SfVec * a, SfVec * b,
    double *out, GError ** error)
{
  g_return_val_if_fail ((guint) what <= SF_VEC_ASUM, FALSE);
  return sf_vec_queue_reduce (ctx_queue (ctx), what,
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
