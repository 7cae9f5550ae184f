/* frames.c - video frames in and out of a stylizer, and the temporal term.
 *
 * A packed 8-bit frame is copied into a GPU buffer row by row (rows padded
 * to 32 bits) and resampled on the GPU to the processing size
 * (frame_in.comp); the result goes back the same way (frame_out.comp).
 * Between consecutive content frames, mask.comp measures the change (for
 * scene cuts) and builds the temporal mask; the warm start and the
 * temporal target are the previous result (warm-start previous), or the
 * previous result carried along the optical flow (flow.c: bilinear,
 * bicubic, or only the stylization, SfFlowWarp, sampled from an anchor
 * frame through the composed flow: record_carry) with the flow's
 * consistency as the mask (warm-start flow, Ruder et al.).
 */
#include <math.h>
#include <string.h>

#include "stylizer.h"

#define MASK_SIGMA 0.05         /* mean |difference| at which mask = 1/e */
/* flow-warp=style: a pixel the flow moves by less than SF_STILL_PX is
 * still, one it moves by more than SF_MOVING_PX moving (smoothly
 * between), for the coring and the motion weighting below alike */
#define SF_STILL_PX 0.3f
#define SF_MOVING_PX 0.6f
/* flow-warp=style's temporal coring (flow.h, SfCoring): a change of the
 * content below 3 levels (of 255) is taken for noise, one above 9 passes
 * whole, and so does the content wherever the flow moves it by more than
 * 0.6 px (none below 0.3 px): a still, noisy shot stays still, while a
 * pan's detail comes fresh from every frame instead of being resampled
 * once more each frame (on the 96-px pan: output sharpness 0.68 of frame
 * 0's with coring everywhere, 0.74 with none) */
static const SfCoring sf_coring = {
  3.0f / 255.0f, 9.0f / 255.0f, SF_STILL_PX, SF_MOVING_PX
};
/* flow-warp=style's motion weighting of the temporal term (flow.h,
 * SfMotionWeight): where the flow moves a pixel by more than 0.6 px (none
 * below 0.3 px) the temporal term holds it with 0.2 of temporal-weight.
 * A still pixel's target is the previous result itself, a moving one's a
 * resample of it, softer and less stylized; held as firmly, the style
 * faded along a pan (on the 96-px pan, the last frame's style loss 1.57
 * times frame 0's with 1, 1.15 with 0.2, the same warping error), while a
 * still, noisy shot keeps the full weight and stays still */
static const SfMotionWeight sf_motion_weight = {
  SF_STILL_PX, SF_MOVING_PX, 0.2f
};
/* flow-warp=style samples the stylization of one anchor frame for this
 * many frames, then takes the current one as the new anchor: each renewal
 * is one more interpolation of the carried style (on the demo's pan,
 * renewing every 8 frames cost a sixth of the sharpness), while a long
 * pan takes more of the frame from outside the anchor (the edge, clamped) */
#define SF_ANCHOR_FRAMES 30

typedef struct
{
  int bpp, r, g, b, a;
} FormatInfo;

static gboolean
format_info (SfPixelFormat f, FormatInfo * out, GError ** error)
{
  static const FormatInfo table[] = {
    [SF_FORMAT_RGBA] = {4, 0, 1, 2, 3},
    [SF_FORMAT_BGRA] = {4, 2, 1, 0, 3},
    [SF_FORMAT_RGBX] = {4, 0, 1, 2, -1},
    [SF_FORMAT_BGRX] = {4, 2, 1, 0, -1},
    [SF_FORMAT_RGB] = {3, 0, 1, 2, -1},
    [SF_FORMAT_BGR] = {3, 2, 1, 0, -1},
  };
  if ((int) f < 0 || (gsize) f >= G_N_ELEMENTS (table)) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID, "unknown pixel format %d",
        (int) f);
    return FALSE;
  }
  *out = table[f];
  return TRUE;
}

/* Checks the frame geometry; gives the padded GPU row and total bytes. */
static gboolean
frame_geometry (SfStylizer * st, int w, int h, int stride,
    const FormatInfo * fi, int *row, VkDeviceSize * bytes, GError ** error)
{
  guint64 r, total;

  if (w < 1 || h < 1 || w > 65536 || h > 65536) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "frame size %dx%d is out of range (1..65536)", w, h);
    return FALSE;
  }
  r = ((guint64) w * fi->bpp + 3) / 4 * 4;
  if (stride < w * fi->bpp) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "stride %d is shorter than a row of %d pixels", stride, w);
    return FALSE;
  }
  total = r * (guint64) h;
  if (total > st->dev->features.max_buffer_size || total > G_MAXINT32) {
    g_set_error (error, SF_ERROR, SF_ERROR_TOO_LARGE,
        "a %dx%d frame does not fit in one buffer on %s", w, h,
        st->dev->name);
    return FALSE;
  }
  *row = (int) r;
  *bytes = MAX (total, 16);
  return TRUE;
}

static void frames_free (SfStylizer * st);
static gboolean ensure_planes (SfStylizer * st, SfBuffer ** b, int planes,
    GError ** error);

/* The video state, made on first use with its defaults; whoever makes it
 * tells the stylizer how it goes (sf_stylizer_free). */
static SfVideoState *
video_state (SfStylizer * st)
{
  if (!st->video) {
    st->video = g_new0 (SfVideoState, 1);
    st->video->content_change = -1.0;
    st->video->flow_warp = SF_FLOW_WARP_BICUBIC;
    st->frames_free = frames_free;
  }
  return st->video;
}

static gboolean
ensure_buffer (SfStylizer * st, SfBuffer ** buf, VkDeviceSize bytes,
    GError ** error)
{
  if (*buf && (*buf)->size >= bytes)
    return TRUE;
  sf_buffer_free (st->dev, *buf);
  *buf = sf_buffer_new (st->dev, bytes, SF_MEM_DEVICE, error);
  return *buf != NULL;
}

/* Copies rows between a strided host frame and a padded GPU buffer. */
static gboolean
copy_rows (SfStylizer * st, SfBuffer * buf, guint8 * host, int stride,
    int h, int row, int used, gboolean upload, GError ** error)
{
  guint8 *tmp = buf->mapped ? buf->mapped : g_malloc0 ((gsize) row * h);
  gboolean ok = TRUE;

  if (!upload && !buf->mapped)
    ok = sf_buffer_download (st->dev, buf, 0, tmp, (gsize) row * h, error);
  for (int y = 0; ok && y < h; y++) {
    if (upload)
      memcpy (tmp + (gsize) y * row, host + (gsize) y * stride, used);
    else
      memcpy (host + (gsize) y * stride, tmp + (gsize) y * row, used);
  }
  if (ok && upload && !buf->mapped)
    ok = sf_buffer_upload (st->dev, buf, 0, tmp, (gsize) row * h, error);
  if (!buf->mapped)
    g_free (tmp);
  return ok;
}

gboolean
sf_stylizer_set_content_frame (SfStylizer *st, const guint8 *data,
    int stride, int width, int height, SfPixelFormat format, GError **error)
{
  SfVideoState *v = video_state (st);
  FormatInfo fi;
  VkDeviceSize bytes;
  VkCommandBuffer cb;
  SfBuffer *t;
  int row;
  guint64 plane = (guint64) st->w * st->h;

  if (!ensure_planes (st, &v->content_prev, 3, error)
      || !ensure_planes (st, &v->prev_result, 3, error)
      || !ensure_planes (st, &v->mask, 1, error)
      || !format_info (format, &fi, error)
      || !frame_geometry (st, width, height, stride, &fi, &row, &bytes, error)
      || !ensure_buffer (st, &v->frame, bytes, error)
      || !copy_rows (st, v->frame, (guint8 *) data, stride, height, row,
          width * fi.bpp, TRUE, error))
    return FALSE;
  v->frame_w = width;
  v->frame_h = height;
  v->frame_row = row;
  v->frame_format = format;

  /* the current content becomes the previous one */
  t = v->content_prev;
  v->content_prev = st->content;
  st->content = t;
  v->has_prev_content = st->has_content && !v->sequence_reset;
  v->sequence_reset = FALSE;
  v->in_frame = TRUE;

  if (!sf_cmd_begin (st->dev, &cb, error))
    return FALSE;
  struct { int32_t sw, sh, srow, bpp, r, g, b, dw, dh; } pc = {
    width, height, row, fi.bpp, fi.r, fi.g, fi.b, st->w, st->h };
  SfBuffer *fb[2] = { v->frame, st->content };
  struct { int32_t plane, off; float inv_sigma; } pm = { (int32_t) plane,
    SLOT_CHANGE * SF_PARTIALS, (float) (1.0 / MASK_SIGMA) };
  SfBuffer *mb[4] = { st->content, v->content_prev, v->mask, st->partials };
  if (!sf_cmd_dispatch (st->dev, cb, SF_K_FRAME_IN, fb, 2, &pc, sizeof (pc),
          sf_div_up (st->w, 8), sf_div_up (st->h, 8), 1, error)
      || (v->has_prev_content
          && !sf_cmd_dispatch (st->dev, cb, SF_K_MASK, mb, 4, &pm,
              sizeof (pm), sf_reduce_groups (plane), 1, 1, error))) {
    sf_cmd_free (st->dev, cb);
    return FALSE;
  }
  if (!sf_cmd_submit_wait (st->dev, &cb, 1, TRUE, error))
    return FALSE;
  v->content_change = v->has_prev_content
      ? sf_partials_fold (st->partials, SLOT_CHANGE, plane, FALSE)
      / (3.0 * plane) : -1.0;
  /* the content target waits for its first use: with flow-warp=style
   * begin_frame makes it from the clean content instead */
  st->has_content = TRUE;
  st->target_stale = TRUE;
  return TRUE;
}

double
sf_stylizer_get_content_change (SfStylizer *st)
{
  SfVideoState *v = video_state (st);
  return v->content_change;
}

/* Drops what flow-warp=style carries: the next warm frame takes a new
 * clean content and a new anchor. */
static void
forget_carry (SfStylizer * st)
{
  SfVideoState *v = video_state (st);
  v->clean_valid = FALSE;
  v->anchor_valid = FALSE;
}

void
sf_stylizer_reset_sequence (SfStylizer *st)
{
  SfVideoState *v = video_state (st);
  v->has_prev_content = FALSE;
  /* between frames (a flush, a seek) the next frame has no predecessor;
   * inside a frame (a scene cut) this frame starts the sequence and is
   * the next one's predecessor */
  v->sequence_reset = !v->in_frame;
  v->has_prev_result = FALSE;
  v->temporal_active = FALSE;
  v->content_change = -1.0;
  forget_carry (st);
  sf_stylizer_forget_history (st);
}

/* dst = src (image-sized), clamped to [0,1] with clamp01 */
static gboolean
copy_buffer (SfStylizer * st, SfBuffer * src, SfBuffer * dst,
    gboolean clamp01, GError ** error)
{
  VkCommandBuffer cb;

  if (!sf_cmd_begin (st->dev, &cb, error))
    return FALSE;
  if (!sf_record_copy (st->dev, cb, src, dst, st->n, clamp01, error)) {
    sf_cmd_free (st->dev, cb);
    return FALSE;
  }
  return sf_cmd_submit_wait (st->dev, &cb, 1, TRUE, error);
}

void
sf_stylizer_set_flow_warp (SfStylizer *st, SfFlowWarp warp)
{
  SfVideoState *v = video_state (st);
  v->flow_warp = warp;
}

void
sf_stylizer_set_output_detail (SfStylizer *st, double detail)
{
  SfVideoState *v = video_state (st);
  v->output_detail = isfinite (detail) ? CLAMP (detail, 0.0, 1.0) : 0.0;
}

static gboolean
ensure_planes (SfStylizer * st, SfBuffer ** b, int planes, GError ** error)
{
  return *b || (*b = sf_buffer_new_floats (st->dev, planes, st->w, st->h,
          error));
}

static gboolean
ensure_image (SfStylizer * st, SfBuffer ** b, GError ** error)
{
  return ensure_planes (st, b, 3, error);
}

/* Records warped = the stylization carried into this frame, from
 * residual = the previous result minus the previous clean content.
 * Warping the residual from frame to frame interpolates it once per
 * frame, and the interpolations compound: after 11 frames of a pan a
 * Catmull-Rom chain keeps a third of a stylized frame's Laplacian
 * energy.  So the residual is split in two: the anchor (an earlier
 * frame's residual) sampled once, through the flow composed since then,
 *   A = b + A(p + b)       (bilinear: a flow is smooth),
 *   S = anchor(p + A)      (Lanczos-3: sharper than Catmull-Rom, and
 *                          sampled once, so its gain a little above 1
 *                          does not compound: on the 96-px pan the last
 *                          frames keep 0.81 of frame 0's sharpness, 0.79
 *                          with E's chain in Lanczos-3 too, 0.76 with
 *                          Catmull-Rom throughout and no motion weight),
 * and what the frames since the anchor changed, E = residual - S (the
 * previous frame's S), carried from frame to frame as before:
 *   warped = S + E(p + b)  (Catmull-Rom).
 * Both residual samples mirror a position outside the frame back into it
 * (the _MIRROR filters): what a pan brings into view takes the
 * stylization next to the edge.  Clamped, it took the edge's residual
 * smeared into streaks, close to the bare photograph, and a few
 * iterations a frame did not stylize it, since the style loss is a
 * statistic of the whole frame (on the 96-px pan the new strips kept 0.4
 * of frame 0's Laplacian energy, 0.8 mirrored).
 * Without optimisation E stays 0 and a pattern moves through one
 * interpolation however many frames it is carried.  The anchor is taken
 * at the first warm frame of a sequence (A = 0, E = 0) and renewed every
 * SF_ANCHOR_FRAMES frames, so that a long pan does not carry it out of
 * view. */
static gboolean
record_carry (SfStylizer * st, VkCommandBuffer cb, GError ** error)
{
  SfVideoState *v = video_state (st);
  SfBuffer *b = sf_flow_get_backward (v->flow);
  guint64 n2 = 2 * (guint64) st->w * st->h;
  gboolean renew = !v->anchor_valid || v->anchor_age >= SF_ANCHOR_FRAMES;
  gboolean ok;

  if (!ensure_planes (st, &v->anchor, 3, error)
      || !ensure_planes (st, &v->anchor_flow, 2, error)
      || !ensure_planes (st, &v->anchor_flow_tmp, 2, error)
      || !ensure_planes (st, &v->anchor_sample, 3, error))
    return FALSE;
  /* renewing: anchor = residual, A = 0, E = 0; else E = residual - S */
  ok = renew
      ? sf_record_copy (st->dev, cb, v->residual, v->anchor, st->n, FALSE,
      error)
      && sf_record_axpby (st->dev, cb, 0.0, b, 0.0, v->anchor_flow, n2,
      error)
      && sf_record_axpby (st->dev, cb, 0.0, b, 0.0, v->residual, st->n,
      error)
      : sf_record_axpby (st->dev, cb, -1.0, v->anchor_sample, 1.0,
      v->residual, st->n, error);
  ok = ok && sf_flow_record_warp_filtered (v->flow, cb, v->anchor_flow, 2,
      NULL, SF_WARP_BILINEAR, v->anchor_flow_tmp, error)
      && sf_record_copy (st->dev, cb, b, v->anchor_flow, n2, FALSE, error)
      && sf_record_axpby (st->dev, cb, 1.0, v->anchor_flow_tmp, 1.0,
      v->anchor_flow, n2, error)
      && sf_flow_record_warp_filtered (v->flow, cb, v->anchor, 3,
      v->anchor_flow, SF_WARP_LANCZOS_MIRROR, v->anchor_sample, error)
      && sf_flow_record_warp_filtered (v->flow, cb, v->residual, 3, NULL,
      SF_WARP_BICUBIC_MIRROR, v->warped, error)
      && sf_record_axpby (st->dev, cb, 1.0, v->anchor_sample, 1.0,
      v->warped, st->n, error);
  /* a failed recording is never submitted: what the buffers hold is then
   * unknown, so the next warm frame renews */
  v->anchor_valid = ok;
  v->anchor_age = renew ? 1 : v->anchor_age + 1;
  return ok;
}

/* Records warped = the previous result carried along the backward flow:
 * resampled bilinear or bicubic, or (SF_FLOW_WARP_STYLE) the clean
 * content + the carried (previous result - previous clean content)
 * (record_carry),
 * where the clean content is the content cored in time: the previous
 * clean, warped, plus the changes above the noise (sf_flow_record_core),
 * so that sensor noise is neither carried into the start nor chased by
 * the content term, while every real change comes fresh from the frame. */
static gboolean
record_warp (SfStylizer * st, VkCommandBuffer cb, GError ** error)
{
  SfVideoState *v = video_state (st);
  SfWarpFilter filter = v->flow_warp == SF_FLOW_WARP_BILINEAR
      ? SF_WARP_BILINEAR : SF_WARP_BICUBIC;

  if (v->flow_warp != SF_FLOW_WARP_STYLE) {
    v->clean_valid = v->anchor_valid = FALSE;
    return sf_flow_record_warp_filtered (v->flow, cb, v->prev_result, 3,
        NULL, filter, v->warped, error);
  }
  if (!ensure_image (st, &v->residual, error)
      || !ensure_image (st, &v->clean, error)
      || !ensure_image (st, &v->clean_warp, error))
    return FALSE;
  if (!v->clean_valid && !sf_record_copy (st->dev, cb, v->content_prev,
          v->clean, st->n, FALSE, error))
    return FALSE;
  v->clean_valid = TRUE;
  return sf_record_copy (st->dev, cb, v->prev_result, v->residual, st->n,
      FALSE, error)
      && sf_record_axpby (st->dev, cb, -1.0, v->clean, 1.0, v->residual,
      st->n, error)
      && record_carry (st, cb, error)
      && sf_flow_record_warp_filtered (v->flow, cb, v->clean, 3, NULL,
      SF_WARP_BICUBIC, v->clean_warp, error)
      && sf_flow_record_core (v->flow, cb, st->content, v->clean_warp,
      NULL, &sf_coring, error)
      && sf_record_copy (st->dev, cb, v->clean_warp, v->clean, st->n,
      FALSE, error)
      && sf_record_axpby (st->dev, cb, 1.0, v->clean, 1.0, v->warped,
      st->n, error);
}

/* The flow warm start: flow between the last two content frames, the
 * previous result carried along it (record_warp): the start everywhere
 * and the temporal target; the consistency mask, which gates only the
 * temporal term (Ruder et al.: where the flow is unreliable the optimiser
 * repaints freely, from a start that is already stylized; filling those
 * pixels with the content instead left patches that a few iterations do
 * not stylize); one submission. */
static gboolean
begin_flow (SfStylizer * st, GError ** error)
{
  SfVideoState *v = video_state (st);
  VkCommandBuffer cb;

  if (!v->flow && !(v->flow = sf_flow_new (st->dev, st->w, st->h, error)))
    return FALSE;
  if (!v->warped && !(v->warped = sf_buffer_new_floats (st->dev, 3, st->w,
              st->h, error)))
    return FALSE;
  if (!sf_cmd_begin (st->dev, &cb, error))
    return FALSE;
  if (!sf_flow_record_compute (v->flow, cb, v->content_prev, st->content,
          error)
      || !record_warp (st, cb, error)
      || !sf_flow_record_consistency_weighted (v->flow, cb, v->mask,
          v->flow_warp == SF_FLOW_WARP_STYLE ? &sf_motion_weight : NULL,
          error)
      || !sf_record_copy (st->dev, cb, v->warped, st->x, st->n, FALSE,
          error)) {
    sf_cmd_free (st->dev, cb);
    return FALSE;
  }
  if (!sf_cmd_submit_wait (st->dev, &cb, 1, TRUE, error))
    return FALSE;
  v->temporal_target = v->warped;
  v->temporal_active = TRUE;
  /* the content term holds the frame to its clean content */
  return v->flow_warp != SF_FLOW_WARP_STYLE
      || sf_stylizer_update_content_target_from (st, v->clean, error);
}

gboolean
sf_stylizer_begin_frame (SfStylizer *st, SfWarmStart warm, GError **error)
{
  SfVideoState *v = video_state (st);
  gboolean sequence = v->has_prev_result && v->has_prev_content;

  /* vector operations still pending on x run before x is replaced */
  if (!sf_stylizer_flush (st, error))
    return FALSE;
  if (!st->has_content) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "begin_frame without a content frame");
    return FALSE;
  }
  v->temporal_active = FALSE;
  if (warm == SF_WARM_FLOW && sequence)
    return begin_flow (st, error);
  v->temporal_active = warm == SF_WARM_PREVIOUS && sequence;
  v->temporal_target = v->prev_result;
  forget_carry (st);
  /* a start from the content is far from where the memory's steps were
   * taken: with it, a full quasi-Newton step from there jumps far and the
   * texture flickers (30 levels of frame-to-frame change on a still shot
   * against 4 without) */
  if (!v->temporal_active)
    sf_stylizer_forget_history (st);
  return copy_buffer (st, v->temporal_active ? v->prev_result : st->content,
      st->x, FALSE, error);
}

gboolean
sf_stylizer_revert_frame (SfStylizer *st, GError **error)
{
  SfVideoState *v = video_state (st);
  if (!sf_stylizer_flush (st, error))
    return FALSE;
  sf_stylizer_forget_history (st);
  forget_carry (st);
  return copy_buffer (st, v->has_prev_result ? v->prev_result :
      st->content, st->x, FALSE, error);
}

gboolean
sf_stylizer_end_frame (SfStylizer *st, guint8 *data, int stride, int width,
    int height, SfPixelFormat format, gboolean preserve_colors,
    GError **error)
{
  SfVideoState *v = video_state (st);
  FormatInfo fi;
  VkDeviceSize bytes;
  VkCommandBuffer cb;
  int row, preserve = 0, orig;

  /* what the next frame starts from and is held to is what was shown
   * (with any vector operation still pending on x done first) */
  if (!sf_stylizer_flush (st, error)
      || !ensure_planes (st, &v->prev_result, 3, error)
      || !copy_buffer (st, st->x, v->prev_result, TRUE, error))
    return FALSE;
  v->in_frame = FALSE;
  v->has_prev_result = TRUE;
  v->temporal_active = FALSE;
  if (!format_info (format, &fi, error)
      || !frame_geometry (st, width, height, stride, &fi, &row, &bytes, error)
      || !ensure_buffer (st, &v->frame_out, bytes, error))
    return FALSE;
  /* the original frame, when it is the output's size and layout */
  orig = v->frame && v->frame_w == width && v->frame_h == height
      && v->frame_format == format;
  if (preserve_colors)
    preserve = orig ? 2 : 1;
  struct { int32_t dw, dh, drow, bpp, r, g, b, a, sw, sh, preserve, orig;
    float detail; } pc = { width, height, row, fi.bpp, fi.r, fi.g, fi.b,
    fi.a, st->w, st->h, preserve, orig, (float) v->output_detail };
  SfBuffer *b[4] = { st->x, st->content, orig ? v->frame : st->zero,
    v->frame_out };
  if (!sf_cmd_begin (st->dev, &cb, error))
    return FALSE;
  if (!sf_cmd_dispatch (st->dev, cb, SF_K_FRAME_OUT, b, 4, &pc, sizeof (pc),
          sf_div_up (row / 4, 8), sf_div_up (height, 8), 1, error)) {
    sf_cmd_free (st->dev, cb);
    return FALSE;
  }
  if (!sf_cmd_submit_wait (st->dev, &cb, 1, TRUE, error))
    return FALSE;
  return copy_rows (st, v->frame_out, data, stride, height, row,
      width * fi.bpp, FALSE, error);
}

static void
frames_free (SfStylizer * st)
{
  SfVideoState *v = st->video;
  SfBuffer *bufs[] = { v->content_prev, v->prev_result, v->mask, v->frame,
    v->frame_out, v->warped, v->residual, v->clean, v->clean_warp,
    v->anchor, v->anchor_flow, v->anchor_flow_tmp, v->anchor_sample
  };

  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    sf_buffer_free (st->dev, bufs[i]);
  sf_flow_free (v->flow);
  g_free (v);
  st->video = NULL;
  st->frames_free = NULL;
}
