/* flow.c - pyramidal Lucas-Kanade optical flow, warping and the
 * consistency mask on the GPU (see flow.h).
 *
 * Per compute: one dispatch for both grey images of level 0
 * (flow_grey), one per coarser level (flow_down, both images), and
 * `passes` per level for the flow (flow_lk, both directions), coarsest
 * first: 8 dispatches at 128x128 with the defaults.  The finest level's
 * flows are the results.  A warp is one dispatch of flow_warp, bilinear or
 * bicubic by a push constant.
 */

#include "flow.h"

#define MAX_LEVELS 12
#define GROUP 64
#define MAX_GROUPS 65535u

struct SfFlow
{
  SfDevice *dev;
  int w, h;
  int levels;
  int lw[MAX_LEVELS], lh[MAX_LEVELS];
  SfBuffer *grey[MAX_LEVELS];   /* [2][lh][lw]: previous, current */
  SfBuffer *fwd[MAX_LEVELS];    /* [2][lh][lw] */
  SfBuffer *bwd[MAX_LEVELS];
  SfBuffer *tmp_f[MAX_LEVELS];  /* ping-pong for several passes */
  SfBuffer *tmp_b[MAX_LEVELS];
  SfFlowParams params;
};

void
sf_flow_params_init (SfFlowParams *p)
{
  p->radius = 3;
  p->sigma = 2.0f;
  p->iterations = 6;
  p->lambda = 1e-4f;
  p->min_step = 0.01f;
  p->max_step = 2.0f;
  p->max_disp = 2.0f;
  p->min_size = 16;
  p->passes = 1;
  p->cand_dist = 4.0f;
  p->presmooth = TRUE;
}

static guint
groups_for (guint64 n)
{
  return MIN (MAX (sf_div_up (n, GROUP), 1u), MAX_GROUPS);
}

/* Level sizes for the current min_size; buffers for up to MAX_LEVELS are
 * allocated once as needed. */
static gboolean
plan_levels (SfFlow * f, GError ** error)
{
  int w = f->w, h = f->h, n = 1;

  f->lw[0] = w;
  f->lh[0] = h;
  while (n < MAX_LEVELS) {
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    if (MIN (cw, ch) < f->params.min_size)
      break;
    f->lw[n] = w = cw;
    f->lh[n] = h = ch;
    n++;
  }
  f->levels = n;
  for (int l = 0; l < n; l++) {
    if (f->grey[l])
      continue;
    if (!(f->grey[l] = sf_buffer_new_floats (f->dev, 2, f->lw[l], f->lh[l], error))
        || !(f->fwd[l] = sf_buffer_new_floats (f->dev, 2, f->lw[l], f->lh[l], error))
        || !(f->bwd[l] = sf_buffer_new_floats (f->dev, 2, f->lw[l], f->lh[l], error))
        || !(f->tmp_f[l] = sf_buffer_new_floats (f->dev, 2, f->lw[l], f->lh[l], error))
        || !(f->tmp_b[l] = sf_buffer_new_floats (f->dev, 2, f->lw[l], f->lh[l], error)))
      return FALSE;
  }
  return TRUE;
}

SfFlow *
sf_flow_new (SfDevice *dev, int w, int h, GError **error)
{
  SfFlow *f;

  if (w < 1 || h < 1) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "Invalid optical-flow size %d x %d", w, h);
    return NULL;
  }
  f = g_new0 (SfFlow, 1);
  f->dev = dev;
  f->w = w;
  f->h = h;
  sf_flow_params_init (&f->params);
  if (!plan_levels (f, error)) {
    sf_flow_free (f);
    return NULL;
  }
  return f;
}

void
sf_flow_free (SfFlow *f)
{
  if (!f)
    return;
  for (int l = 0; l < MAX_LEVELS; l++) {
    sf_buffer_free (f->dev, f->grey[l]);
    sf_buffer_free (f->dev, f->fwd[l]);
    sf_buffer_free (f->dev, f->bwd[l]);
    sf_buffer_free (f->dev, f->tmp_f[l]);
    sf_buffer_free (f->dev, f->tmp_b[l]);
  }
  g_free (f);
}

gboolean
sf_flow_set_params (SfFlow *f, const SfFlowParams *p, GError **error)
{
  if (p->radius < 1 || p->radius > 8 || p->iterations < 1
      || p->iterations > 50 || p->min_size < 4 || !(p->sigma > 0)
      || !(p->lambda >= 0) || !(p->min_step >= 0) || !(p->max_step > 0)
      || !(p->max_disp > 0)
      || p->passes < 1 || p->passes > 8 || !(p->cand_dist >= 0)) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "Invalid optical-flow parameters (radius %d, sigma %g, iterations "
        "%d, lambda %g, min_size %d)", p->radius, p->sigma, p->iterations,
        p->lambda, p->min_size);
    return FALSE;
  }
  f->params = *p;
  return plan_levels (f, error);
}

const SfFlowParams *
sf_flow_get_params (const SfFlow *f)
{
  return &f->params;
}

int
sf_flow_get_levels (const SfFlow *f)
{
  return f->levels;
}

SfBuffer *
sf_flow_get_forward (SfFlow *f)
{
  return f->fwd[0];
}

SfBuffer *
sf_flow_get_backward (SfFlow *f)
{
  return f->bwd[0];
}

static gboolean
check_size (SfFlow * f, SfBuffer * b, int channels, const char *what,
    GError ** error)
{
  VkDeviceSize need = (VkDeviceSize) channels * f->w * f->h * sizeof (float);

  if (!b || b->size < need) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "Optical flow: %s buffer holds %" G_GUINT64_FORMAT " bytes, needs "
        "%" G_GUINT64_FORMAT " (%d x %d x %d floats)", what,
        (guint64) (b ? b->size : 0), (guint64) need, channels, f->w, f->h);
    return FALSE;
  }
  return TRUE;
}

gboolean
sf_flow_record_compute (SfFlow *f, VkCommandBuffer cb, SfBuffer *prev,
    SfBuffer *cur, GError **error)
{
  const SfFlowParams *pr = &f->params;

  if (!check_size (f, prev, 3, "previous frame", error)
      || !check_size (f, cur, 3, "current frame", error))
    return FALSE;

  struct { int32_t W, H, smooth; } pg = { f->w, f->h, pr->presmooth };
  SfBuffer *bg[3] = { prev, cur, f->grey[0] };
  if (!sf_cmd_dispatch (f->dev, cb, SF_K_FLOW_GREY, bg, 3, &pg, sizeof (pg),
          groups_for (2 * (guint64) f->w * f->h), 1, 1, error))
    return FALSE;
  for (int l = 1; l < f->levels; l++) {
    struct { int32_t W, H, CW, CH; } pd = { f->lw[l - 1], f->lh[l - 1],
      f->lw[l], f->lh[l] };
    SfBuffer *bd[2] = { f->grey[l - 1], f->grey[l] };
    if (!sf_cmd_dispatch (f->dev, cb, SF_K_FLOW_DOWN, bd, 2, &pd,
            sizeof (pd), groups_for (2 * (guint64) f->lw[l] * f->lh[l]), 1,
            1, error))
      return FALSE;
  }
  for (int l = f->levels - 1; l >= 0; l--) {
    for (int pass = 0; pass < pr->passes; pass++) {
      /* the source: the coarser level's flow, this level's previous pass
       * or (first pass at the coarsest level) none */
      int sl = pass == 0 ? l + 1 : l;
      gboolean has_src = sl < f->levels;
      gboolean from_tmp = pass > 0 && (pr->passes - pass) % 2 == 1;
      SfBuffer *sf = !has_src ? f->fwd[l] : pass == 0 ? f->fwd[sl]
          : from_tmp ? f->tmp_f[l] : f->fwd[l];
      SfBuffer *sb = !has_src ? f->bwd[l] : pass == 0 ? f->bwd[sl]
          : from_tmp ? f->tmp_b[l] : f->bwd[l];
      /* the last pass writes fwd/bwd, the one before tmp, and so on */
      gboolean to_tmp = (pr->passes - 1 - pass) % 2 == 1;
      struct
      {
        int32_t W, H, SW, SH, has_src, R, iters;
        float scale, src_mul, src_off, dist, inv_2s2, lambda, eps2, max_step,
            max_disp, cand_spread;
      } pl = {
        f->lw[l], f->lh[l], has_src ? f->lw[sl] : 1, has_src ? f->lh[sl] : 1,
        has_src, pr->radius, pr->iterations,
        pass == 0 ? 2.0f : 1.0f, pass == 0 ? 0.5f : 1.0f,
        pass == 0 ? -0.25f : 0.0f, pr->cand_dist,
        1.0f / (2.0f * pr->sigma * pr->sigma), pr->lambda,
        pr->min_step * pr->min_step, pr->max_step, pr->max_disp, 0.25f
      };
      SfBuffer *bl[5] = { f->grey[l], sf, sb,
        to_tmp ? f->tmp_f[l] : f->fwd[l], to_tmp ? f->tmp_b[l] : f->bwd[l]
      };
      if (!sf_cmd_dispatch (f->dev, cb, SF_K_FLOW_LK, bl, 5, &pl,
              sizeof (pl), groups_for (2 * (guint64) f->lw[l] * f->lh[l]), 1,
              1, error))
        return FALSE;
    }
  }
  return TRUE;
}

gboolean
sf_flow_compute (SfFlow *f, SfBuffer *prev, SfBuffer *cur, GError **error)
{
  VkCommandBuffer cb;

  if (!sf_cmd_begin (f->dev, &cb, error))
    return FALSE;
  if (!sf_flow_record_compute (f, cb, prev, cur, error)) {
    vkEndCommandBuffer (cb);
    sf_cmd_free (f->dev, cb);
    return FALSE;
  }
  return sf_cmd_submit_wait (f->dev, &cb, 1, TRUE, error);
}

gboolean
sf_flow_record_warp_filtered (SfFlow *f, VkCommandBuffer cb, SfBuffer *src,
    int channels, SfBuffer *flow, SfWarpFilter filter, SfBuffer *dst,
    GError **error)
{
  if (!flow)
    flow = f->bwd[0];
  if (channels < 1 || src == dst
      || (guint) filter > (guint) SF_WARP_LANCZOS_MIRROR) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "Optical flow warp: %s", channels < 1 ? "no channels"
        : src == dst ? "source and destination are the same buffer"
        : "unknown filter");
    return FALSE;
  }
  if (!check_size (f, src, channels, "warp source", error)
      || !check_size (f, dst, channels, "warp destination", error)
      || !check_size (f, flow, 2, "flow", error))
    return FALSE;
  struct { int32_t W, H, C, filter; } pw = { f->w, f->h, channels, filter };
  SfBuffer *b[3] = { src, flow, dst };
  return sf_cmd_dispatch (f->dev, cb, SF_K_FLOW_WARP, b, 3, &pw, sizeof (pw),
      groups_for ((guint64) f->w * f->h), 1, 1, error);
}

gboolean
sf_flow_record_warp_by (SfFlow *f, VkCommandBuffer cb, SfBuffer *src,
    int channels, SfBuffer *flow, SfBuffer *dst, GError **error)
{
  /* a missing flow stays an error here (the error it always was) instead
   * of meaning the backward flow */
  if (!flow)
    return check_size (f, flow, 2, "flow", error);
  return sf_flow_record_warp_filtered (f, cb, src, channels, flow,
      SF_WARP_BILINEAR, dst, error);
}

gboolean
sf_flow_record_warp (SfFlow *f, VkCommandBuffer cb, SfBuffer *src,
    int channels, SfBuffer *dst, GError **error)
{
  return sf_flow_record_warp_filtered (f, cb, src, channels, NULL,
      SF_WARP_BILINEAR, dst, error);
}

gboolean
sf_flow_record_consistency (SfFlow *f, VkCommandBuffer cb, SfBuffer *mask,
    GError **error)
{
  return sf_flow_record_consistency_weighted (f, cb, mask, NULL, error);
}

gboolean
sf_flow_record_consistency_weighted (SfFlow *f, VkCommandBuffer cb,
    SfBuffer *mask, const SfMotionWeight *mw, GError **error)
{
  static const SfMotionWeight none = { 0.0f, 1.0f, 1.0f };

  if (!mw)
    mw = &none;
  /* smoothstep (e0, e1, x) is undefined for e0 >= e1; a weight outside
   * [0, 1] would reward or over-count a difference */
  if (!(mw->m0 < mw->m1) || !(mw->moving >= 0.0f && mw->moving <= 1.0f)) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID, "motion weighting: %s",
        !(mw->m0 < mw->m1) ? "m0 must be below m1"
        : "the moving weight must lie in [0, 1]");
    return FALSE;
  }
  if (!check_size (f, mask, 1, "mask", error))
    return FALSE;
  struct { int32_t W, H; float m0, m1, moving; } pc = { f->w, f->h, mw->m0,
    mw->m1, mw->moving };
  SfBuffer *b[3] = { f->fwd[0], f->bwd[0], mask };
  return sf_cmd_dispatch (f->dev, cb, SF_K_FLOW_CONSISTENCY, b, 3, &pc,
      sizeof (pc), groups_for ((guint64) f->w * f->h), 1, 1, error);
}

gboolean
sf_flow_record_core (SfFlow *f, VkCommandBuffer cb, SfBuffer *content,
    SfBuffer *clean, SfBuffer *flow, const SfCoring *c, GError **error)
{
  guint64 n = 3 * (guint64) f->w * f->h;

  if (!flow)
    flow = f->bwd[0];
  /* smoothstep (e0, e1, x) is undefined for e0 >= e1 */
  if (!c || !(c->t0 < c->t1) || !(c->m0 < c->m1)) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID, "temporal coring: %s",
        !c ? "no thresholds" : "each lower threshold must be below its upper");
    return FALSE;
  }
  if (!check_size (f, content, 3, "content", error)
      || !check_size (f, clean, 3, "clean", error)
      || !check_size (f, flow, 2, "flow", error))
    return FALSE;
  struct { int32_t n; float t0, t1, m0, m1; } pc = { (int32_t) n, c->t0,
    c->t1, c->m0, c->m1 };
  SfBuffer *b[3] = { content, clean, flow };
  return sf_cmd_dispatch (f->dev, cb, SF_K_FLOW_CORE, b, 3, &pc, sizeof (pc),
      groups_for (n), 1, 1, error);
}

/* Records one of the above into its own command buffer and waits. */
static gboolean
run_one (SfFlow * f, gboolean warp, SfBuffer * src, int channels,
    SfBuffer * dst, GError ** error)
{
  VkCommandBuffer cb;
  gboolean ok;

  if (!sf_cmd_begin (f->dev, &cb, error))
    return FALSE;
  ok = warp ? sf_flow_record_warp (f, cb, src, channels, dst, error)
      : sf_flow_record_consistency (f, cb, dst, error);
  if (!ok) {
    vkEndCommandBuffer (cb);
    sf_cmd_free (f->dev, cb);
    return FALSE;
  }
  return sf_cmd_submit_wait (f->dev, &cb, 1, TRUE, error);
}

gboolean
sf_flow_warp (SfFlow *f, SfBuffer *src, int channels, SfBuffer *dst,
    GError **error)
{
  return run_one (f, TRUE, src, channels, dst, error);
}

gboolean
sf_flow_consistency (SfFlow *f, SfBuffer *mask, GError **error)
{
  return run_one (f, FALSE, NULL, 1, mask, error);
}

/* mean over kept pixels and channels of (a - b)^2, and the kept count */
static double
masked_mse (const float *a, const float *b, const float *m, gsize plane,
    double *kept)
{
  double s = 0.0, k = 0.0;

  for (gsize p = 0; p < plane; p++) {
    if (m[p] < 0.5f)
      continue;
    k += 1.0;
    for (int c = 0; c < 3; c++) {
      double d = (double) a[c * plane + p] - b[c * plane + p];
      s += d * d;
    }
  }
  *kept = k;
  return k > 0 ? s / (3.0 * k) : 0.0;
}

gboolean
sf_flow_warp_error (SfFlow *f, SfBuffer *in_prev, SfBuffer *in_cur,
    SfBuffer *out_prev, SfBuffer *out_cur, double *out_error,
    double *in_error, double *kept, GError **error)
{
  gsize plane = (gsize) f->w * f->h;
  SfBuffer *wo = NULL, *wi = NULL, *mask = NULL;
  float *h_wo = NULL, *h_wi = NULL, *h_cur = NULL, *h_in = NULL, *h_m = NULL;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  gboolean ok = FALSE;
  double k = 0.0;

  if (!(wo = sf_buffer_new_floats (f->dev, 3, f->w, f->h, error))
      || !(wi = sf_buffer_new_floats (f->dev, 3, f->w, f->h, error))
      || !(mask = sf_buffer_new_floats (f->dev, 1, f->w, f->h, error))
      || !sf_cmd_begin (f->dev, &cb, error))
    goto out;
  if (!sf_flow_record_compute (f, cb, in_prev, in_cur, error)
      /* bicubic: a bilinear warp would blur the previous frame and so
       * count a sharp clip's own detail as instability */
      || !sf_flow_record_warp_filtered (f, cb, out_prev, 3, NULL,
          SF_WARP_BICUBIC, wo, error)
      || !sf_flow_record_warp_filtered (f, cb, in_prev, 3, NULL,
          SF_WARP_BICUBIC, wi, error)
      || !sf_flow_record_consistency (f, cb, mask, error))
    goto out;
  ok = sf_cmd_submit_wait (f->dev, &cb, 1, TRUE, error);
  cb = VK_NULL_HANDLE;
  if (!ok)
    goto out;
  h_wo = g_new (float, 3 * plane);
  h_wi = g_new (float, 3 * plane);
  h_cur = g_new (float, 3 * plane);
  h_in = g_new (float, 3 * plane);
  h_m = g_new (float, plane);
  ok = sf_buffer_download (f->dev, wo, 0, h_wo, 3 * plane * 4, error)
      && sf_buffer_download (f->dev, wi, 0, h_wi, 3 * plane * 4, error)
      && sf_buffer_download (f->dev, out_cur, 0, h_cur, 3 * plane * 4, error)
      && sf_buffer_download (f->dev, in_cur, 0, h_in, 3 * plane * 4, error)
      && sf_buffer_download (f->dev, mask, 0, h_m, plane * 4, error);
  if (ok) {
    *out_error = masked_mse (h_cur, h_wo, h_m, plane, &k);
    if (in_error)
      *in_error = masked_mse (h_in, h_wi, h_m, plane, &k);
    if (kept)
      *kept = k / plane;
  }
out:
  sf_cmd_free (f->dev, cb);
  sf_buffer_free (f->dev, wo);
  sf_buffer_free (f->dev, wi);
  sf_buffer_free (f->dev, mask);
  g_free (h_wo);
  g_free (h_wi);
  g_free (h_cur);
  g_free (h_in);
  g_free (h_m);
  return ok;
}
