/* gststylefilterframe.c - one video frame through a stylefilter: the
 * sequence bookkeeping (resets, scene cuts), the optimisation with its
 * iteration count and time budget, and the per-frame stats message and
 * latency estimate.
 *
 * Copyright (C) 2025 gst-stylefilter contributors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * Runs in the streaming thread only, on a copy of the settings taken under
 * the object lock; no lock is held while the GPU works.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "gststylefilter.h"
#include "sf-pyramid.h"

GST_DEBUG_CATEGORY_EXTERN (gst_style_filter_debug);
#define GST_CAT_DEFAULT gst_style_filter_debug

/* learning-rate 0 picks these */
#define AUTO_LEARNING_RATE_LBFGS 1.0
#define AUTO_LEARNING_RATE_ADAM 0.02

static SfPixelFormat
gst_style_filter_sf_format (GstVideoFormat format)
{
  switch (format) {
    case GST_VIDEO_FORMAT_RGBA:
      return SF_FORMAT_RGBA;
    case GST_VIDEO_FORMAT_BGRA:
      return SF_FORMAT_BGRA;
    case GST_VIDEO_FORMAT_RGBx:
      return SF_FORMAT_RGBX;
    case GST_VIDEO_FORMAT_BGRx:
      return SF_FORMAT_BGRX;
    case GST_VIDEO_FORMAT_RGB:
      return SF_FORMAT_RGB;
    case GST_VIDEO_FORMAT_BGR:
    default:
      return SF_FORMAT_BGR;
  }
}

/* Records the processing time of a frame and posts a latency message when
 * the mean of the last frames moved by more than a quarter. */
static void
gst_style_filter_update_latency (GstStyleFilter * filter, gdouble ms)
{
  GstClockTime mean;
  gboolean changed;
  gdouble sum = 0;
  guint i, n;

  GST_OBJECT_LOCK (filter);
  filter->frame_ms[filter->n_frame_ms % GST_STYLE_FILTER_LATENCY_FRAMES] = ms;
  filter->n_frame_ms++;
  n = MIN (filter->n_frame_ms, GST_STYLE_FILTER_LATENCY_FRAMES);
  for (i = 0; i < n; i++)
    sum += filter->frame_ms[i];
  mean = (GstClockTime) (sum / n * GST_MSECOND);
  changed = mean > filter->latency + filter->latency / 4
      || mean < filter->latency - filter->latency / 4;
  if (changed)
    filter->latency = mean;
  GST_OBJECT_UNLOCK (filter);

  if (changed) {
    GST_DEBUG_OBJECT (filter, "processing latency now %" GST_TIME_FORMAT,
        GST_TIME_ARGS (mean));
    gst_element_post_message (GST_ELEMENT (filter),
        gst_message_new_latency (GST_OBJECT (filter)));
  }
}

/* A frame whose loss is not finite (overflowing weights, a broken model):
 * it shows the previous good result instead, and the first such frame of
 * the element's life posts a warning. */
static gboolean
gst_style_filter_non_finite (GstStyleFilter * filter, SfFrameResult * res,
    GError ** err)
{
  if (!filter->warned_non_finite) {
    filter->warned_non_finite = TRUE;
    GST_ELEMENT_WARNING (filter, STREAM, FAILED,
        ("The loss is not finite (%g); showing the previous good result "
            "instead. Check the weights and the model-location property.",
            res->terms.total), ("frame %" G_GUINT64_FORMAT ": content %g "
            "style %g temporal %g tv %g range %g", filter->frame_count,
            res->terms.content, res->terms.style, res->terms.temporal,
            res->terms.tv, res->terms.range));
  }
  GST_DEBUG_OBJECT (filter, "frame %" G_GUINT64_FORMAT ": non-finite loss, "
      "reverted", filter->frame_count);
  res->stop = "non-finite";
  return sf_stylizer_revert_frame (filter->stylizer, err);
}

/* The engine's parameters from a copy of the settings. */
static void
gst_style_filter_params (const GstStyleFilterSettings * s, SfParams * params)
{
  sf_params_init (params);
  params->weights.content = s->content_weight;
  params->weights.style = s->style_weight;
  params->weights.tv = s->tv_weight;
  /* the flags' bits are the engine's: bit l for relu(l+1)_1 */
  params->weights.style_layers = s->style_layers;
  params->weights.range = s->range_weight;
  params->weights.temporal =
      s->warm_start != GST_STYLE_FILTER_WARM_START_NONE ?
      s->temporal_weight : 0.0;
  params->optimizer = s->optimizer == GST_STYLE_FILTER_OPTIMIZER_ADAM ?
      SF_OPTIMIZER_ADAM : SF_OPTIMIZER_LBFGS;
  if (s->learning_rate > 0)
    params->learning_rate = s->learning_rate;
  else
    params->learning_rate = s->optimizer == GST_STYLE_FILTER_OPTIMIZER_ADAM ?
        AUTO_LEARNING_RATE_ADAM : AUTO_LEARNING_RATE_LBFGS;
}

/* the buffer's stream time (the position in the file, which keyframes and
 * an editor's timeline use), or GST_CLOCK_TIME_NONE */
static GstClockTime
gst_style_filter_stream_time (GstStyleFilter * filter, GstBuffer * buf)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (filter);

  if (trans->segment.format != GST_FORMAT_TIME)
    return GST_CLOCK_TIME_NONE;
  return gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME,
      GST_BUFFER_PTS (buf));
}

/* Brings the controlled properties (a GstControlSource bound to a weight,
 * an editor's keyframes) to the buffer's stream time, before the settings
 * are copied. */
static void
gst_style_filter_sync_controls (GstStyleFilter * filter, GstBuffer * buf)
{
  GstClockTime t = gst_style_filter_stream_time (filter, buf);

  if (GST_CLOCK_TIME_IS_VALID (t))
    gst_object_sync_values (GST_OBJECT (filter), t);
}

/* The stylefilter-stats message of a frame sent. */
static void
gst_style_filter_post_stats (GstStyleFilter * filter,
    const SfFrameResult * res, const SfParams * params,
    const GstStyleFilterSettings * s, gint iterations, gint coarse_iterations,
    gdouble ms, gboolean scene_cut, GstBuffer * buf)
{
  GstMessage *msg;

  msg = gst_message_new_element (GST_OBJECT (filter),
      gst_structure_new ("stylefilter-stats",
          "frame", G_TYPE_UINT64, filter->frame_count,
          "iterations", G_TYPE_INT, res->iterations,
          "max-iterations", G_TYPE_INT, iterations,
          "evaluations", G_TYPE_INT, res->evaluations,
          "stop-reason", G_TYPE_STRING, res->stop,
          "history", G_TYPE_INT, res->history,
          "coarse-iterations", G_TYPE_INT, coarse_iterations,
          "total-loss", G_TYPE_DOUBLE, res->terms.total,
          "content-loss", G_TYPE_DOUBLE, res->terms.content,
          "style-loss", G_TYPE_DOUBLE, res->terms.style,
          "temporal-loss", G_TYPE_DOUBLE, res->terms.temporal,
          "tv-loss", G_TYPE_DOUBLE, res->terms.tv,
          "range-loss", G_TYPE_DOUBLE, res->terms.range,
          "content-weight", G_TYPE_DOUBLE, params->weights.content,
          "style-weight", G_TYPE_DOUBLE, params->weights.style,
          "tv-weight", G_TYPE_DOUBLE, params->weights.tv,
          "temporal-weight", G_TYPE_DOUBLE, params->weights.temporal,
          "style-scale", G_TYPE_DOUBLE, s->style_scale,
          "style-blend", G_TYPE_DOUBLE, s->style_blend,
          "style-passes", G_TYPE_UINT,
          sf_stylizer_get_style_passes (filter->stylizer),
          "milliseconds", G_TYPE_DOUBLE, ms,
          "processing-width", G_TYPE_INT,
          sf_stylizer_get_width (filter->stylizer),
          "processing-height", G_TYPE_INT,
          sf_stylizer_get_height (filter->stylizer),
          "scene-cut", G_TYPE_BOOLEAN, scene_cut,
          "stream-time", G_TYPE_UINT64,
          gst_style_filter_stream_time (filter, buf), NULL));
  gst_element_post_message (GST_ELEMENT (filter), msg);
}

/* ---- the same frame again after a flush -------------------------------- */

/* FNV-1a over the frame's visible bytes, row by row (not the padding). */
static guint64
gst_style_filter_frame_hash (GstVideoFrame * frame)
{
  const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  gsize row = (gsize) GST_VIDEO_FRAME_WIDTH (frame) *
      GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
  guint64 h = G_GUINT64_CONSTANT (14695981039346656037);
  gint y;
  gsize x;

  for (y = 0; y < GST_VIDEO_FRAME_HEIGHT (frame); y++) {
    const guint8 *p = data + (gsize) y * stride;
    for (x = 0; x + 8 <= row; x += 8) {
      guint64 w;
      memcpy (&w, p + x, 8);
      h = (h ^ w) * G_GUINT64_CONSTANT (1099511628211);
    }
    for (; x < row; x++)
      h = (h ^ p[x]) * G_GUINT64_CONSTANT (1099511628211);
  }
  return h;
}

/* Whether two copies of the settings make the same frame: every value,
 * the style paths, network and device through their serials. */
static gboolean
gst_style_filter_settings_same (const GstStyleFilterSettings * a,
    const GstStyleFilterSettings * b)
{
  return a->iterations == b->iterations
      && a->first_iterations == b->first_iterations
      && a->content_weight == b->content_weight
      && a->style_weight == b->style_weight
      && a->tv_weight == b->tv_weight
      && a->range_weight == b->range_weight
      && a->temporal_weight == b->temporal_weight
      && a->warm_start == b->warm_start && a->optimizer == b->optimizer
      && a->learning_rate == b->learning_rate
      && a->processing_size == b->processing_size
      && a->pooling == b->pooling && a->style_layers == b->style_layers
      && a->network == b->network && a->preserve_colors == b->preserve_colors
      && a->color_mode == b->color_mode && a->style_scale == b->style_scale
      && a->seed == b->seed && a->scene_threshold == b->scene_threshold
      && a->max_frame_time == b->max_frame_time
      && a->flow_warp == b->flow_warp
      && a->coarse_to_fine == b->coarse_to_fine && a->upscale == b->upscale
      && a->detail == b->detail
      && a->style_serial == b->style_serial
      /* the blend by value: a control source on style-blend may set
       * other values between a frame and its repeat, then the same again */
      && a->style_blend == b->style_blend
      && a->n_blend_weights == b->n_blend_weights
      && (a->n_blend_weights == 0 || memcmp (a->blend_weights,
              b->blend_weights, a->n_blend_weights * sizeof (gdouble)) == 0)
      && a->net_serial == b->net_serial
      && a->device_serial == b->device_serial;
}

void
gst_style_filter_forget_last (GstStyleFilter * filter)
{
  filter->last_valid = FALSE;
  gst_style_filter_settings_clear (&filter->last_settings);
}

static void
gst_style_filter_remember_last (GstStyleFilter * filter, guint64 hash,
    GstBuffer * buf, SfPixelFormat format, gint width, gint height,
    const GstStyleFilterSettings * s, const SfLossTerms * terms)
{
  gst_style_filter_forget_last (filter);
  filter->last_valid = TRUE;
  filter->last_hash = hash;
  filter->last_pts = GST_BUFFER_PTS (buf);
  filter->last_format = format;
  filter->last_width = width;
  filter->last_height = height;
  filter->last_terms = *terms;
  gst_style_filter_settings_copy (&filter->last_settings, s);
}

/* After a flush (not new caps or a new stylizer), the first frame is the
 * last one sent: same timestamp, same pixels, same settings. */
static gboolean
gst_style_filter_is_repeat (GstStyleFilter * filter, gboolean reset,
    guint64 hash, GstBuffer * buf, SfPixelFormat format, gint width,
    gint height, const GstStyleFilterSettings * s)
{
  return reset && !filter->new_sequence && filter->last_valid
      && filter->stylizer != NULL && filter->last_hash == hash
      && filter->last_pts == GST_BUFFER_PTS (buf)
      && GST_CLOCK_TIME_IS_VALID (filter->last_pts)
      && (gint) filter->last_format == (gint) format
      && filter->last_width == width && filter->last_height == height
      && gst_style_filter_settings_same (&filter->last_settings, s);
}

/* Sends the last frame again: its content frame back in place, the image
 * put back to the previous result (which is that frame's result, whatever
 * a cancelled frame after it left), and the sequence goes on from there. */
static gboolean
gst_style_filter_repeat_frame (GstStyleFilter * filter,
    GstVideoFrame * in_frame, GstVideoFrame * out_frame,
    const GstStyleFilterSettings * s, SfPixelFormat format, gint64 start_us,
    GError ** err)
{
  gint width = GST_VIDEO_FRAME_WIDTH (in_frame);
  gint height = GST_VIDEO_FRAME_HEIGHT (in_frame);
  SfFrameResult res = { {0,}, };
  SfParams params;

  if (!sf_stylizer_set_content_frame (filter->stylizer,
          GST_VIDEO_FRAME_PLANE_DATA (in_frame, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (in_frame, 0), width, height, format,
          err)
      || !sf_stylizer_revert_frame (filter->stylizer, err)
      || !sf_stylizer_end_frame (filter->stylizer,
          GST_VIDEO_FRAME_PLANE_DATA (out_frame, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (out_frame, 0), width, height, format,
          s->preserve_colors
          || s->color_mode == GST_STYLE_FILTER_COLOR_MODE_LUMINANCE, err))
    return FALSE;

  GST_DEBUG_OBJECT (filter, "frame %" G_GUINT64_FORMAT ": the frame before "
      "the flush again, sent from its result", filter->frame_count);
  res.terms = filter->last_terms;
  res.stop = "repeat";
  gst_style_filter_params (s, &params);
  gst_style_filter_post_stats (filter, &res, &params, s, 0, 0,
      (g_get_monotonic_time () - start_us) / 1000.0, FALSE, in_frame->buffer);
  filter->frame_count++;
  return TRUE;
}

/* One frame's work: what process_frame's steps share. */
typedef struct
{
  GstStyleFilterSettings s;     /* the settings' copy for this frame */
  GstVideoFrame *in, *out;
  SfPixelFormat format;
  gint width, height;
  gint64 start_us;
  guint64 hash;
  gboolean reset;               /* a flush, new segment, caps or stylizer */
  gboolean first;               /* the sequence starts here */
  gboolean scene_cut;
  gint iterations;              /* iterations or first-iterations */
  gint coarse_iterations;       /* at half size first (coarse-to-fine) */
  SfParams params;
  SfFrameResult res;
} FrameJob;

/* The sequence decision: a reset starts it again, and so does a scene cut
 * (a content change past scene-threshold), which also re-measures the
 * colours for color-mode=histogram.  Sets job->first, scene_cut and
 * iterations; FALSE with err set, or with the error posted (*posted). */
static gboolean
frame_sequence (GstStyleFilter * filter, FrameJob * job, gboolean * posted,
    GError ** err)
{
  gdouble change;

  job->reset = job->reset || filter->new_sequence;
  filter->new_sequence = FALSE;
  if (job->reset) {
    sf_stylizer_reset_sequence (filter->stylizer);
    gst_style_filter_forget_last (filter);      /* its result is gone */
  }
  if (!sf_stylizer_set_content_frame (filter->stylizer,
          GST_VIDEO_FRAME_PLANE_DATA (job->in, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (job->in, 0), job->width, job->height,
          job->format, err))
    return FALSE;
  /* the content change of the first frame after a reset means nothing */
  change = job->reset ? -1.0
      : sf_stylizer_get_content_change (filter->stylizer);
  job->scene_cut = change >= 0 && change > job->s.scene_threshold;
  if (job->scene_cut) {
    GST_DEBUG_OBJECT (filter, "scene cut: change %f > %f", change,
        job->s.scene_threshold);
    sf_stylizer_reset_sequence (filter->stylizer);
    gst_style_filter_forget_last (filter);
    /* color-mode=histogram: the new shot's colours, not the last one's */
    if (!gst_style_filter_styles_rematch_colors (filter, job->in, &job->s)) {
      *posted = TRUE;
      return FALSE;
    }
  }
  job->first = change < 0 || job->scene_cut;
  job->iterations = job->first ? job->s.first_iterations : job->s.iterations;
  return TRUE;
}

/* The settings that shape this frame, into the stylizer and job->params,
 * and its warm start. */
static gboolean
frame_configure (GstStyleFilter * filter, FrameJob * job, GError ** err)
{
  const GstStyleFilterSettings *s = &job->s;

  sf_stylizer_set_output_detail (filter->stylizer, s->detail);
  sf_stylizer_set_flow_warp (filter->stylizer,
      s->flow_warp == GST_STYLE_FILTER_FLOW_WARP_BILINEAR ?
      SF_FLOW_WARP_BILINEAR : s->flow_warp == GST_STYLE_FILTER_FLOW_WARP_STYLE ?
      SF_FLOW_WARP_STYLE : SF_FLOW_WARP_BICUBIC);
  gst_style_filter_params (s, &job->params);
  return sf_stylizer_begin_frame (filter->stylizer,
      s->warm_start == GST_STYLE_FILTER_WARM_START_FLOW ? SF_WARM_FLOW :
      s->warm_start == GST_STYLE_FILTER_WARM_START_PREVIOUS ?
      SF_WARM_PREVIOUS : SF_WARM_NONE, err);
}

/* The optimisation: none while draining (the warm start goes out as it
 * is); for a frame that starts afresh with coarse-to-fine, 2 N iterations
 * at half size then N / 2 at full size for N first-iterations (about the
 * cost of N at full size: README); the optimiser's memory goes on from the
 * previous frame of the sequence, and max-frame-time bounds the frame. */
static gboolean
frame_optimize (GstStyleFilter * filter, FrameJob * job, GError ** err)
{
  gint64 deadline_us;

  if (g_atomic_int_get (&filter->cancel) & GST_STYLE_FILTER_CANCEL_DRAIN) {
    job->res.stop = "drain";
    job->coarse_iterations = 0;
    return TRUE;
  }
  job->coarse_iterations = job->first && filter->coarse
      ? 2 * job->iterations : 0;
  if (job->coarse_iterations > 0
      && !sf_stylizer_optimize_coarse_to_fine (filter->stylizer,
          filter->coarse, &job->params, job->coarse_iterations, 0, NULL,
          NULL, err))
    return FALSE;
  deadline_us = job->s.max_frame_time > 0
      ? job->start_us + (gint64) job->s.max_frame_time * 1000 : 0;
  if (!sf_stylizer_optimize_frame (filter->stylizer, &job->params,
          job->coarse_iterations > 0 ? MAX (job->iterations / 2, 1)
          : job->iterations, deadline_us, &job->res, err))
    return FALSE;
  return isfinite (job->res.terms.total)
      || gst_style_filter_non_finite (filter, &job->res, err);
}

/* The result into the output frame, then the log line, the stats message,
 * the repeat bookkeeping and the latency estimate. */
static gboolean
frame_finish (GstStyleFilter * filter, FrameJob * job, GError ** err)
{
  const GstStyleFilterSettings *s = &job->s;
  SfFrameResult *res = &job->res;
  gdouble ms;

  if (!sf_stylizer_end_frame (filter->stylizer,
          GST_VIDEO_FRAME_PLANE_DATA (job->out, 0),
          GST_VIDEO_FRAME_PLANE_STRIDE (job->out, 0), job->width, job->height,
          job->format, s->preserve_colors
          || s->color_mode == GST_STYLE_FILTER_COLOR_MODE_LUMINANCE, err))
    return FALSE;
  ms = (g_get_monotonic_time () - job->start_us) / 1000.0;
  GST_LOG_OBJECT (filter, "frame %" G_GUINT64_FORMAT ": %d iterations, %d "
      "evaluations (%s), loss %g (content %g style %g temporal %g tv %g "
      "range %g), %.1f ms%s", filter->frame_count, res->iterations,
      res->evaluations, res->stop, res->terms.total, res->terms.content,
      res->terms.style, res->terms.temporal, res->terms.tv, res->terms.range,
      ms, job->scene_cut ? ", scene cut" : "");
  gst_style_filter_post_stats (filter, res, &job->params, s, job->iterations,
      job->coarse_iterations, ms, job->scene_cut, job->in->buffer);
  filter->frame_count++;
  gst_style_filter_remember_last (filter, job->hash, job->in->buffer,
      job->format, job->width, job->height, s, &res->terms);
  gst_style_filter_update_latency (filter, ms);
  return TRUE;
}

/* An engine failure of the frame, posted once. */
static GstFlowReturn
frame_error (GstStyleFilter * filter, GError ** err)
{
  const gchar *name = sf_device_get_name (filter->dev);

  filter->errored = TRUE;
  gst_style_filter_post_engine_error (filter, *err, GST_LIBRARY_ERROR_FAILED,
      g_strdup_printf ("The frame does not fit the Vulkan device \"%s\" "
          "(out of memory or past its limits); lower the processing-size "
          "property.", name),
      g_strdup_printf ("Style transfer failed on the Vulkan device \"%s\".",
          name));
  g_clear_error (err);
  return GST_FLOW_ERROR;
}

/* The frame through its steps on the job's settings.  An optimisation
 * cancelled by a flush or a stop drops the frame; cancelled by drain, it
 * goes out as it is (the image holds the last accepted iterate). */
static GstFlowReturn
frame_run (GstStyleFilter * filter, FrameJob * job)
{
  GError *err = NULL;
  gboolean posted = FALSE;

  if (gst_style_filter_is_repeat (filter, job->reset, job->hash,
          job->in->buffer, job->format, job->width, job->height, &job->s))
    return gst_style_filter_repeat_frame (filter, job->in, job->out, &job->s,
        job->format, job->start_us, &err) ? GST_FLOW_OK
        : frame_error (filter, &err);

  /* color-mode=histogram: the styles follow the video's colours, measured
   * at the start of a sequence (and at a scene cut) */
  gst_style_filter_styles_measure_colors (filter, job->in, job->s.color_mode,
      job->reset || filter->new_sequence);
  /* changes of style, model, device or size since the last frame */
  if (!gst_style_filter_update_engine (filter, &job->s, job->width,
          job->height))
    return GST_FLOW_ERROR;
  if (!frame_sequence (filter, job, &posted, &err))
    return posted ? GST_FLOW_ERROR : frame_error (filter, &err);
  if (!frame_configure (filter, job, &err))
    return frame_error (filter, &err);
  if (!frame_optimize (filter, job, &err)) {
    if (!g_error_matches (err, SF_ERROR, SF_ERROR_CANCELLED))
      return frame_error (filter, &err);
    GST_DEBUG_OBJECT (filter, "frame %" G_GUINT64_FORMAT ": %s",
        filter->frame_count, err->message);
    g_clear_error (&err);
    if (g_atomic_int_get (&filter->cancel) & GST_STYLE_FILTER_CANCEL_FLUSHING)
      return GST_FLOW_FLUSHING;
    job->res.stop = "cancelled";
  }
  return frame_finish (filter, job, &err) ? GST_FLOW_OK
      : frame_error (filter, &err);
}

GstFlowReturn
gst_style_filter_process_frame (GstStyleFilter * filter,
    GstVideoFrame * in_frame, GstVideoFrame * out_frame)
{
  FrameJob job = { .in = in_frame, .out = out_frame };
  GstFlowReturn ret;

  job.format = gst_style_filter_sf_format (GST_VIDEO_FRAME_FORMAT (in_frame));
  job.width = GST_VIDEO_FRAME_WIDTH (in_frame);
  job.height = GST_VIDEO_FRAME_HEIGHT (in_frame);
  gst_style_filter_sync_controls (filter, in_frame->buffer);
  GST_OBJECT_LOCK (filter);
  gst_style_filter_settings_copy (&job.s, &filter->settings);
  job.reset = filter->reset_pending;
  filter->reset_pending = FALSE;
  GST_OBJECT_UNLOCK (filter);

  job.start_us = g_get_monotonic_time ();
  job.hash = gst_style_filter_frame_hash (in_frame);
  ret = frame_run (filter, &job);
  gst_style_filter_settings_clear (&job.s);
  return ret;
}
