/* stylizer.c - the optimisation state for one image size: targets, the
 * loss and its gradient on the GPU (the optimisers run on it from
 * optimize.c, through the SfVecOps of vecops.c; the video state is
 * frames.c's, and the loss reads it).
 *
 * One evaluation is recorded into the pending command buffer of the
 * stylizer's SfVecQueue: the forward pass, the Gram matrices and their
 * differences to the style targets, then the backward pass with the style,
 * content, total-variation and temporal gradients added where they attach;
 * during an optimisation the vector operations before it and the
 * reductions after it share its submission.  Every reduction writes
 * per-workgroup partials into a host-visible buffer that the host folds in
 * double precision, so only scalars are read back; the image stays on the
 * GPU.  Every entry point that submits its own work, uploads or downloads
 * flushes the queue first, so that work recorded earlier runs first.
 */
#include <math.h>
#include <string.h>

#include "stylizer.h"
#include "optim.h"

const int sf_style_convs[SF_NUM_STYLE_LAYERS] = { 0, 2, 4, 8, 12 };

void
sf_params_init (SfParams *p)
{
  memset (p, 0, sizeof (*p));
  p->weights.content = 1.0;
  p->weights.style = 1e3;
  p->optimizer = SF_OPTIMIZER_LBFGS;
  p->learning_rate = 1.0;
  p->history = 20;
}

SfStylizer *
sf_stylizer_new (SfNet *net, int width, int height, GError **error)
{
  SfStylizer *st = g_new0 (SfStylizer, 1);
  VkDeviceSize bytes;

  st->dev = net->dev;
  st->net = net;
  st->w = width;
  st->h = height;
  st->n = 3 * (guint64) width * height;
  st->vec_pool = g_ptr_array_new ();
  if (!(st->vq = sf_vec_queue_new (st->dev, st->n, error))
      || !(st->acts = sf_acts_new (net, width, height, error)))
    goto fail;
  if (!(st->x = sf_buffer_new_floats (st->dev, 3, width, height, error))
      || !(st->grad = sf_buffer_new_floats (st->dev, 3, width, height, error))
      || !(st->content = sf_buffer_new_floats (st->dev, 3, width, height,
              error)))
    goto fail;
  /* fp32 whatever the activations' precision */
  if (!(st->target = sf_buffer_new_floats (st->dev, net->cout[SF_CONTENT_CONV],
              st->acts->cw[SF_CONTENT_CONV], st->acts->ch[SF_CONTENT_CONV],
              error)))
    goto fail;
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    int c = net->cout[sf_style_convs[l]];
    if (!(st->style_gram[l] = sf_buffer_new_floats (st->dev, c, c, 1, error))
        || !(st->gram[l] = sf_buffer_new_floats (st->dev, c, c, 1, error))
        || !(st->gdiff[l] = sf_buffer_new_floats (st->dev, c, c, 1, error)))
      goto fail;
  }
  bytes = MAX (st->acts->max_act_bytes, st->n * sizeof (float));
  if (!(st->ga = sf_buffer_new (st->dev, bytes, SF_MEM_DEVICE, error))
      || !(st->gb = sf_buffer_new (st->dev, bytes, SF_MEM_DEVICE, error)))
    goto fail;
  if (!(st->partials = sf_buffer_new (st->dev,
              SF_PARTIAL_SLOTS * SF_PARTIALS * sizeof (float), SF_MEM_HOST,
              error))
      || !(st->zero = sf_buffer_new (st->dev, 16, SF_MEM_HOST, error)))
    goto fail;
  memset (st->partials->mapped, 0, st->partials->size);
  memset (st->zero->mapped, 0, st->zero->size);
  return st;

fail:
  sf_stylizer_free (st);
  return NULL;
}

void
sf_stylizer_free (SfStylizer *st)
{
  SfDevice *dev;

  if (!st)
    return;
  dev = st->dev;
  if (st->memory_forget)
    st->memory_forget (st);
  g_free (st->memory);
  sf_vec_queue_free (st->vq);
  if (st->frames_free)
    st->frames_free (st);
  sf_acts_free (st->net, st->acts);
  for (guint i = 0; i < st->vec_pool->len; i++)
    sf_buffer_free (dev, g_ptr_array_index (st->vec_pool, i));
  g_ptr_array_free (st->vec_pool, TRUE);
  SfBuffer *bufs[] = { st->x, st->grad, st->content, st->target, st->ga,
    st->gb, st->partials, st->zero
  };
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    sf_buffer_free (dev, bufs[i]);
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    sf_buffer_free (dev, st->style_gram[l]);
    sf_buffer_free (dev, st->gram[l]);
    sf_buffer_free (dev, st->gdiff[l]);
    for (int i = 0; i < SF_MAX_STYLES; i++)
      sf_buffer_free (dev, st->style_grams[i][l]);
  }
  g_free (st);
}

gboolean
sf_stylizer_flush (SfStylizer *st, GError **error)
{
  return sf_vec_queue_flush (st->vq, error);
}

int
sf_stylizer_get_width (const SfStylizer *st)
{
  return st->w;
}

int
sf_stylizer_get_height (const SfStylizer *st)
{
  return st->h;
}

/* ---- targets ----------------------------------------------------------- */

/* diff.comp (see there for the modes); a_is_act: a is one of the
 * network's activations, stored in its precision (diff16 for fp16). */
static gboolean
record_diff_full (SfStylizer * st, VkCommandBuffer cb, gboolean a_is_act,
    SfBuffer * a, SfBuffer * b, SfBuffer * out, SfBuffer * mask, int mode,
    double coef, int slot, guint64 n, int mask_plane, GError ** error)
{
  struct { int32_t n, mode; float coef; int32_t off, mask_plane; } pc = {
    (int32_t) n, mode, (float) coef, slot * SF_PARTIALS, mask_plane };
  SfBuffer *bufs[5] = { a, b, out ? out : st->zero, mask ? mask : st->zero,
    st->partials };
  SfKernelId k = a_is_act ? sf_net_kernel (st->net, SF_K_DIFF) : SF_K_DIFF;

  return sf_cmd_dispatch (st->dev, cb, k, bufs, 5, &pc, sizeof (pc),
      sf_reduce_groups (n), 1, 1, error);
}

static gboolean
record_diff (SfStylizer * st, VkCommandBuffer cb, SfBuffer * a, SfBuffer * b,
    SfBuffer * out, SfBuffer * mask, int mode, double coef, int slot,
    guint64 n, int mask_plane, GError ** error)
{
  return record_diff_full (st, cb, FALSE, a, b, out, mask, mode, coef, slot,
      n, mask_plane, error);
}

/* The content target: relu4_2 features of st->content, and their norm. */
gboolean
sf_stylizer_update_content_target (SfStylizer *st, GError **error)
{
  return sf_stylizer_update_content_target_from (st, st->content, error);
}

gboolean
sf_stylizer_update_content_target_from (SfStylizer *st, SfBuffer *src,
    GError **error)
{
  VkCommandBuffer cb;
  SfActs *a = st->acts;
  guint64 n = (guint64) st->net->cout[SF_CONTENT_CONV]
      * a->cw[SF_CONTENT_CONV] * a->ch[SF_CONTENT_CONV];

  if (!sf_stylizer_flush (st, error) || !sf_cmd_begin (st->dev, &cb, error))
    return FALSE;
  if (!sf_net_record_forward (st->net, cb, a, src, SF_CONTENT_CONV, error)
      /* mode 3: target = the features (as fp32), partials of its norm;
       * b is not read, target stands in for it */
      || !record_diff_full (st, cb, TRUE, a->act[SF_CONTENT_CONV],
          st->target, st->target, NULL, 3, 0.0, SLOT_SCRATCH, n, 0, error)) {
    sf_cmd_free (st->dev, cb);
    return FALSE;
  }
  if (!sf_cmd_submit_wait (st->dev, &cb, 1, TRUE, error))
    return FALSE;
  st->target_norm = sf_partials_fold (st->partials, SLOT_SCRATCH, n, FALSE);
  st->has_content = TRUE;
  st->target_stale = FALSE;
  return TRUE;
}

gboolean
sf_stylizer_set_content (SfStylizer *st, const float *rgb, GError **error)
{
  if (!sf_buffer_upload (st->dev, st->content, 0, rgb,
          st->n * sizeof (float), error))
    return FALSE;
  return sf_stylizer_update_content_target (st, error);
}

gboolean
sf_stylizer_set_image (SfStylizer *st, const float *rgb, GError **error)
{
  return sf_stylizer_flush (st, error)
      && sf_buffer_upload (st->dev, st->x, 0, rgb, st->n * sizeof (float),
      error);
}

gboolean
sf_stylizer_get_image (SfStylizer *st, float *rgb, GError **error)
{
  if (!sf_stylizer_flush (st, error)
      || !sf_buffer_download (st->dev, st->x, 0, rgb, st->n * sizeof (float),
          error))
    return FALSE;
  for (guint64 i = 0; i < st->n; i++)
    rgb[i] = CLAMP (rgb[i], 0.0f, 1.0f);
  return TRUE;
}

/* ---- the loss ---------------------------------------------------------- */

static double
safe_inv (double v)
{
  return v > 0.0 ? 1.0 / v : 0.0;
}

/* FALSE with SF_ERROR_CANCELLED when the cancel flag is raised. */
static gboolean
check_cancel (SfStylizer * st, GError ** error)
{
  if (st->cancel == NULL || g_atomic_int_get (st->cancel) == 0)
    return TRUE;
  g_set_error (error, SF_ERROR, SF_ERROR_CANCELLED,
      "the optimisation was cancelled after %d loss evaluations", st->evals);
  return FALSE;
}

/* Records the loss and gradient at x into grad (both n floats), unless the
 * cancel flag is raised: every evaluation, direct or deferred, passes
 * here. */
gboolean
sf_stylizer_record_eval (SfStylizer *st, VkCommandBuffer cb, SfBuffer *x,
    SfBuffer *grad, const SfParams *p, GError **error)
{
  SfNet *net = st->net;
  SfActs *a = st->acts;
  SfBuffer *gcur = st->ga, *gother = st->gb, *tmp;
  const SfLossWeights *w = &p->weights;

  guint mask = sf_style_layer_mask (w);
  int nl = sf_style_layer_count (mask), top = SF_CONTENT_CONV;
  gboolean written = FALSE;     /* gcur holds a gradient at conv i */

  if (!check_cancel (st, error))
    return FALSE;
  st->evals++;
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++)
    if (mask & (1u << l))
      top = MAX (top, sf_style_convs[l]);
  if (!sf_net_record_forward (net, cb, a, x, top, error))
    return FALSE;
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    guint64 c = net->cout[sf_style_convs[l]];
    if (!(mask & (1u << l)))
      continue;
    if (!sf_net_record_gram (net, cb, a, sf_style_convs[l], st->gram[l],
            error)
        || !record_diff (st, cb, st->gram[l], st->style_gram[l], st->gdiff[l],
            NULL, 1, 0.0, SLOT_STYLE + l, c * c, 0, error))
      return FALSE;
  }
  for (int i = top; i >= 0; i--) {
    int M = a->cw[i] * a->ch[i], C = net->cout[i];
    for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
      if (sf_style_convs[l] != i || !(mask & (1u << l)))
        continue;
      struct { int32_t C, M; float coef; int32_t acc; } pc = { C, M,
        (float) (w->style * 4.0 / (nl * (double) M)
            * safe_inv (st->style_norm[l])), written };
      SfBuffer *b[3] = { st->gdiff[l], a->act[i], gcur };
      /* style_grad_tx reads D and F as vec4 texels: C and M multiples
       * of 4 */
      SfKernelId k = M % 4 || C % 4 ? sf_net_kernel (net, SF_K_STYLE_GRAD)
          : sf_net_kernel_choose (net, SF_K_STYLE_GRAD, SF_K_STYLE_GRAD_TX,
          b, 3);
      guint64 n = k == SF_K_STYLE_GRAD_TX ? sf_style_grad_tx_invocations (C, M)
          : (guint64) sf_div_up (M, 4) * sf_div_up (C, 4);
      if (!sf_cmd_dispatch (st->dev, cb, k, b, 3, &pc,
              sizeof (pc), sf_div_up (n, 64), 1, 1, error))
        return FALSE;
      written = TRUE;
    }
    /* mode 2 adds the content gradient, mode 4 writes it */
    if (i == SF_CONTENT_CONV
        && !record_diff_full (st, cb, TRUE, a->act[i], st->target, gcur, NULL,
            written ? 2 : 4,
            2.0 * w->content * safe_inv (st->target_norm), SLOT_CONTENT,
            (guint64) C * M, 0, error))
      return FALSE;
    written = TRUE;
    if (!sf_net_record_conv_backward (net, cb, a, i, gcur, gother, error))
      return FALSE;
    if (i > 0 && sf_net_pool_after (i - 1)) {
      if (!sf_net_record_pool_backward (net, cb, a, i - 1, gother, gcur,
              error))
        return FALSE;
    } else {
      tmp = gcur;
      gcur = gother;
      gother = tmp;
    }
  }
  /* gcur now holds d/d(normalised image) */
  struct { int32_t plane, mode; } pn = { st->w * st->h, 1 };
  SfBuffer *nb[2] = { gcur, grad };
  if (!sf_cmd_dispatch (st->dev, cb, SF_K_IMGNORM, nb, 2, &pn, sizeof (pn),
          sf_div_up (st->n, 256), 1, 1, error))
    return FALSE;
  struct { int32_t W, H; float wv, wh, coef; int32_t off; } pt = {
    st->w, st->h,
    st->h > 1 ? (float) (1.0 / (3.0 * (st->h - 1) * st->w)) : 0.0f,
    st->w > 1 ? (float) (1.0 / (3.0 * st->h * (st->w - 1))) : 0.0f,
    (float) w->tv, SLOT_TV * SF_PARTIALS };
  SfBuffer *tb[3] = { x, grad, st->partials };
  if (!sf_cmd_dispatch (st->dev, cb, SF_K_TV, tb, 3, &pt, sizeof (pt),
          sf_reduce_groups (st->n), 1, 1, error))
    return FALSE;
  struct { int32_t n; float inv_n, coef; int32_t off; } pr = {
    (int32_t) st->n, (float) (1.0 / (double) st->n), (float) w->range,
    SLOT_RANGE * SF_PARTIALS };
  if (!sf_cmd_dispatch (st->dev, cb, SF_K_RANGE, tb, 3, &pr, sizeof (pr),
          sf_reduce_groups (st->n), 1, 1, error))
    return FALSE;
  /* the video state frames.c hands in: the temporal term */
  if (st->video && st->video->temporal_active
      && !record_diff (st, cb, x, st->video->temporal_target, grad,
          st->video->mask, 2, 2.0 * w->temporal / (double) st->n,
          SLOT_TEMPORAL, st->n, st->w * st->h, error))
    return FALSE;
  return TRUE;
}

void
sf_stylizer_fold_terms (SfStylizer *st, const SfParams *p, SfLossTerms *t)
{
  SfNet *net = st->net;
  SfActs *a = st->acts;
  const SfLossWeights *w = &p->weights;
  guint64 nc = (guint64) net->cout[SF_CONTENT_CONV]
      * a->cw[SF_CONTENT_CONV] * a->ch[SF_CONTENT_CONV];

  guint mask = sf_style_layer_mask (w);

  memset (t, 0, sizeof (*t));
  t->content = sf_partials_fold (st->partials, SLOT_CONTENT, nc, FALSE)
      * safe_inv (st->target_norm);
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    guint64 c = net->cout[sf_style_convs[l]];
    if (mask & (1u << l))
      t->style += sf_partials_fold (st->partials, SLOT_STYLE + l, c * c,
          FALSE) * safe_inv (st->style_norm[l]);
  }
  t->style /= sf_style_layer_count (mask);
  t->tv = sf_partials_fold (st->partials, SLOT_TV, st->n, FALSE);
  t->range = sf_partials_fold (st->partials, SLOT_RANGE, st->n, FALSE);
  if (st->video && st->video->temporal_active)
    t->temporal = sf_partials_fold (st->partials, SLOT_TEMPORAL, st->n,
        FALSE) / (double) st->n;
  t->total = w->content * t->content + w->style * t->style + w->tv * t->tv
      + w->temporal * t->temporal + w->range * t->range;
}

gboolean
sf_stylizer_check_ready (SfStylizer *st, GError **error)
{
  if (!st->has_style || !st->has_content) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "the %s target is not set", st->has_style ? "content" : "style");
    return FALSE;
  }
  return !st->target_stale || sf_stylizer_update_content_target (st, error);
}

void
sf_stylizer_set_cancel_flag (SfStylizer *st, const gint *flag)
{
  st->cancel = flag;
}


/* One evaluation, recorded after whatever is pending, in one submission. */
static gboolean
eval_at (SfStylizer * st, const SfParams * p, SfBuffer * x, SfBuffer * grad,
    SfLossTerms * terms, GError ** error)
{
  VkCommandBuffer cb;

  if (!sf_stylizer_check_ready (st, error) || !sf_vec_queue_cmd (st->vq, &cb, error))
    return FALSE;
  if (!sf_stylizer_record_eval (st, cb, x, grad, p, error)) {
    sf_vec_queue_discard (st->vq);
    return FALSE;
  }
  if (!sf_vec_queue_flush (st->vq, error))
    return FALSE;
  sf_stylizer_fold_terms (st, p, terms);
  return TRUE;
}

gboolean
sf_stylizer_evaluate (SfStylizer *st, const SfParams *params,
    SfLossTerms *terms, float *grad, GError **error)
{
  SfLossTerms t;

  if (!eval_at (st, params, st->x, st->grad, &t, error))
    return FALSE;
  if (terms)
    *terms = t;
  if (grad)
    return sf_buffer_download (st->dev, st->grad, 0, grad,
        st->n * sizeof (float), error);
  return TRUE;
}

