/* gststylefilter.c - the stylefilter element: neural style transfer of video
 * frames (Gatys et al.) on the Vulkan compute engine in engine/.
 *
 * Copyright (C) 2025 gst-stylefilter contributors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */

/**
 * SECTION:element-stylefilter
 * @title: stylefilter
 *
 * Paints each video frame in the style of an image (#GstStyleFilter:style-location)
 * by optimising the frame so that its VGG-19 features keep the frame's
 * content and take on the Gram matrices of the style image (Gatys, Ecker and
 * Bethge, "Image Style Transfer Using Convolutional Neural Networks", 2016).
 * The optimisation runs on a Vulkan device at a processing size
 * (#GstStyleFilter:processing-size, the longest side, the other one by
 * aspect and at least 16); frames are resampled down to it on the GPU and the
 * result is rendered back up to the frame size.  Each frame starts from the
 * previous result, by default warped along the optical flow between the
 * input frames (#GstStyleFilter:warm-start) with a temporal loss, so a
 * few iterations per frame are enough and the video does not flicker; the
 * first frame, and the first frame after a scene cut, a flush or a seek,
 * runs #GstStyleFilter:first-iterations instead.
 *
 * Timestamps, durations and metadata pass through untouched.  After each
 * frame an element message "stylefilter-stats" is posted on the bus with the
 * fields frame (guint64), iterations (gint, the iterations run),
 * max-iterations (gint, iterations or first-iterations), evaluations (gint,
 * the loss evaluations made), stop-reason (string: iterations, converged
 * or deadline), history (gint, optimiser memory carried in from earlier
 * frames), total-loss, content-loss, style-loss, temporal-loss, tv-loss,
 * range-loss (gdouble), milliseconds (gdouble), processing-width and
 * processing-height (gint, the optimised size) and scene-cut (gboolean).
 * stop-reason is also "cancelled" (the drain property stopped the frame),
 * "drain" (sent as its warm start) or "non-finite" (the loss was not
 * finite: the previous good result was sent).
 *
 * The frame in progress stops at its next loss evaluation on a flush
 * (a flushing seek), on a state change down to READY, and when the drain
 * property is set: after a flush or state change it is dropped; with
 * drain it goes out as it is, and the frames after it go out as their
 * warm start.  An application that finishes a file on Ctrl-C sets drain
 * and sends EOS (examples/stylize-video.py).
 *
 * Without style-location the element paints in a built-in style (The
 * Scream, embedded) and posts an INFO message saying so.  Without
 * #GstStyleFilter:model-location it paints on an embedded VGG-19
 * (#GstStyleFilter:network, drawn under #GstStyleFilter:seed); the
 * defaults of #GstStyleFilter:pooling, #GstStyleFilter:style-layers and
 * #GstStyleFilter:tv-weight are the ones measured best on it.  With
 * pretrained weights, keep style-layers on all five layers and lower
 * tv-weight (README, "The built-in network").  Interlaced
 * video is refused at negotiation: put deinterlace in front.
 *
 * Each fault posts one ERROR, naming its cause and the property to fix.
 * While playing, a style-location, model-location or device that cannot
 * be used posts a WARNING naming the property, and the one in force
 * stays.
 *
 * The optimiser's memory (L-BFGS curvature pairs, Adam moments) carries
 * over from frame to frame and is dropped where the sequence restarts
 * (scene cut, flush, seek, new caps, processing size, style, network or
 * loss weights).  Every frame runs all its iterations unless a tolerance
 * stops it earlier or #GstStyleFilter:max-frame-time runs out; set that
 * for live sources.
 *
 * QoS is enabled: frames that would arrive late at a live sink are dropped
 * before they are processed.  The element adds the mean processing time of
 * the last 8 frames to the latency it reports, and posts a latency message
 * when that estimate moves by more than a quarter.
 *
 * The style image is decoded and the network loaded when the element goes
 * from READY to PAUSED, so a missing or broken file fails that state change.
 * Weights, iteration counts, style-location and the other properties marked
 * "changeable in PLAYING state" may change while playing and take effect at
 * the next frame.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e filesrc location=in.mp4 ! decodebin ! videoconvert ! \
 *   stylefilter style-location=scream.jpg processing-size=256 ! \
 *   videoconvert ! vp8enc ! webmmux ! filesink location=out.webm
 * ]| Stylizes a video file at 256 pixels and writes it as WebM.
 * |[
 * gst-launch-1.0 v4l2src ! videoconvert ! \
 *   stylefilter style-location=scream.jpg processing-size=256 iterations=4 ! \
 *   videoconvert ! autovideosink
 * ]| Stylizes a webcam live.
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=10 ! videoconvert ! \
 *   stylefilter style-location=scream.jpg processing-size=64 ! fakesink
 * ]| Prints the per-frame stylefilter-stats messages.
 * |[
 * gst-launch-1.0 -e filesrc location=in.mp4 ! decodebin ! videoconvert ! \
 *   stylefilter style-location=scream.jpg model-location=vgg19.safetensors \
 *   tv-weight=1 ! videoconvert ! vp8enc ! webmmux ! \
 *   filesink location=out.webm
 * ]| The same with pretrained VGG-19 and a small TV weight.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "gststylefilter.h"

GST_DEBUG_CATEGORY (gst_style_filter_debug);
#define GST_CAT_DEFAULT gst_style_filter_debug

#include "gststylefilterprops.h"

/* progressive only: interlaced input needs deinterlace in front (the
 * optimisation would paint the two fields' comb as texture) */
#define VIDEO_CAPS GST_VIDEO_CAPS_MAKE ("{ RGBA, BGRA, RGBx, BGRx, RGB, BGR }") \
    ", interlace-mode = (string) progressive"

static GstStaticPadTemplate gst_style_filter_sink_template =
GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (VIDEO_CAPS));

static GstStaticPadTemplate gst_style_filter_src_template =
GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS (VIDEO_CAPS));

#define gst_style_filter_parent_class parent_class
G_DEFINE_TYPE (GstStyleFilter, gst_style_filter, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (stylefilter, "stylefilter", GST_RANK_NONE,
    GST_TYPE_STYLE_FILTER);

static void gst_style_filter_finalize (GObject * object);

static GstStateChangeReturn gst_style_filter_change_state (GstElement *
    element, GstStateChange transition);
static gboolean gst_style_filter_start (GstBaseTransform * trans);
static gboolean gst_style_filter_stop (GstBaseTransform * trans);
static gboolean gst_style_filter_sink_event (GstBaseTransform * trans,
    GstEvent * event);
static gboolean gst_style_filter_query (GstBaseTransform * trans,
    GstPadDirection direction, GstQuery * query);
static gboolean gst_style_filter_set_info (GstVideoFilter * vfilter,
    GstCaps * incaps, GstVideoInfo * in_info, GstCaps * outcaps,
    GstVideoInfo * out_info);
static GstFlowReturn gst_style_filter_transform_frame (GstVideoFilter *
    vfilter, GstVideoFrame * in_frame, GstVideoFrame * out_frame);

static void
gst_style_filter_class_init (GstStyleFilterClass * klass)
{
  GObjectClass *gobject_class = (GObjectClass *) klass;
  GstElementClass *element_class = (GstElementClass *) klass;
  GstBaseTransformClass *trans_class = (GstBaseTransformClass *) klass;
  GstVideoFilterClass *vfilter_class = (GstVideoFilterClass *) klass;

  GST_DEBUG_CATEGORY_INIT (gst_style_filter_debug, "stylefilter", 0,
      "Neural style transfer filter");
  gst_style_filter_route_engine_log ();

  gobject_class->set_property = gst_style_filter_set_property;
  gobject_class->get_property = gst_style_filter_get_property;
  gobject_class->finalize = gst_style_filter_finalize;

  gst_style_filter_install_properties (gobject_class);
  gst_element_class_set_static_metadata (element_class,
      "Neural style transfer", "Filter/Effect/Video",
      "Paints video in the style of an image (Gatys et al. style transfer "
      "on Vulkan compute)", "gst-stylefilter contributors");
  gst_element_class_add_static_pad_template (element_class,
      &gst_style_filter_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &gst_style_filter_src_template);

  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_style_filter_change_state);
  trans_class->start = GST_DEBUG_FUNCPTR (gst_style_filter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_style_filter_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_style_filter_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_style_filter_query);
  vfilter_class->set_info = GST_DEBUG_FUNCPTR (gst_style_filter_set_info);
  vfilter_class->transform_frame =
      GST_DEBUG_FUNCPTR (gst_style_filter_transform_frame);

  gst_type_mark_as_plugin_api (GST_TYPE_STYLE_FILTER_WARM_START, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_STYLE_FILTER_OPTIMIZER, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_STYLE_FILTER_POOLING, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_STYLE_FILTER_STYLE_LAYERS, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_STYLE_FILTER_NETWORK, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_STYLE_FILTER_COLOR_MODE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_STYLE_FILTER_FLOW_WARP, 0);
}

static void
gst_style_filter_init (GstStyleFilter * filter)
{
  GstStyleFilterSettings *s = &filter->settings;

  s->style_location = g_strdup (DEFAULT_PROP_STYLE_LOCATION);
  s->style_blend = DEFAULT_PROP_STYLE_BLEND;
  s->model_location = g_strdup (DEFAULT_PROP_MODEL_LOCATION);
  s->iterations = DEFAULT_PROP_ITERATIONS;
  s->first_iterations = DEFAULT_PROP_FIRST_ITERATIONS;
  s->content_weight = DEFAULT_PROP_CONTENT_WEIGHT;
  s->style_weight = DEFAULT_PROP_STYLE_WEIGHT;
  s->tv_weight = DEFAULT_PROP_TV_WEIGHT;
  s->range_weight = DEFAULT_PROP_RANGE_WEIGHT;
  s->temporal_weight = DEFAULT_PROP_TEMPORAL_WEIGHT;
  s->warm_start = DEFAULT_PROP_WARM_START;
  s->optimizer = DEFAULT_PROP_OPTIMIZER;
  s->learning_rate = DEFAULT_PROP_LEARNING_RATE;
  s->processing_size = DEFAULT_PROP_PROCESSING_SIZE;
  s->pooling = DEFAULT_PROP_POOLING;
  s->style_layers = DEFAULT_PROP_STYLE_LAYERS;
  s->network = DEFAULT_PROP_NETWORK;
  s->preserve_colors = DEFAULT_PROP_PRESERVE_COLORS;
  s->color_mode = DEFAULT_PROP_COLOR_MODE;
  s->style_scale = DEFAULT_PROP_STYLE_SCALE;
  s->device = g_strdup (DEFAULT_PROP_DEVICE);
  s->seed = DEFAULT_PROP_SEED;
  s->scene_threshold = DEFAULT_PROP_SCENE_THRESHOLD;
  s->max_frame_time = DEFAULT_PROP_MAX_FRAME_TIME;
  s->flow_warp = DEFAULT_PROP_FLOW_WARP;
  s->coarse_to_fine = DEFAULT_PROP_COARSE_TO_FINE;
  s->upscale = DEFAULT_PROP_UPSCALE;
  s->detail = DEFAULT_PROP_DETAIL;
  /* serials start at 1 so that the engine state (0) is always stale */
  s->style_serial = s->net_serial = s->device_serial = s->blend_serial = 1;

  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (filter), TRUE);
}

/* Copies the settings; call with the object lock held. */
void
gst_style_filter_settings_copy (GstStyleFilterSettings * dst,
    const GstStyleFilterSettings * src)
{
  *dst = *src;
  dst->style_location = g_strdup (src->style_location);
  dst->style_locations = g_strdupv (src->style_locations);
  dst->blend_weights = g_memdup2 (src->blend_weights,
      src->n_blend_weights * sizeof (gdouble));
  dst->model_location = g_strdup (src->model_location);
  dst->device = g_strdup (src->device);
}

void
gst_style_filter_settings_clear (GstStyleFilterSettings * s)
{
  g_clear_pointer (&s->style_location, g_free);
  g_clear_pointer (&s->style_locations, g_strfreev);
  g_clear_pointer (&s->blend_weights, g_free);
  s->n_blend_weights = 0;
  g_clear_pointer (&s->model_location, g_free);
  g_clear_pointer (&s->device, g_free);
}

static void
gst_style_filter_finalize (GObject * object)
{
  GstStyleFilter *filter = GST_STYLE_FILTER (object);

  gst_style_filter_free_engine (filter);
  gst_style_filter_settings_clear (&filter->settings);
  g_free (filter->device_name);

  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* ---- GstElement / GstBaseTransform / GstVideoFilter -------------------- */

/* Going down to READY cancels the frame in progress at its next loss
 * evaluation: the pads' deactivation waits for the streaming thread, which
 * would otherwise finish every iteration first. */
static GstStateChangeReturn
gst_style_filter_change_state (GstElement * element, GstStateChange transition)
{
  GstStyleFilter *filter = GST_STYLE_FILTER (element);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      g_atomic_int_and (&filter->cancel, ~GST_STYLE_FILTER_CANCEL_FLUSHING);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      GST_DEBUG_OBJECT (filter, "going to READY: cancelling the frame");
      g_atomic_int_or (&filter->cancel, GST_STYLE_FILTER_CANCEL_FLUSHING);
      break;
    default:
      break;
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static gboolean
gst_style_filter_start (GstBaseTransform * trans)
{
  GstStyleFilter *filter = GST_STYLE_FILTER (trans);
  GstStyleFilterSettings s;
  gboolean ok;

  GST_OBJECT_LOCK (filter);
  gst_style_filter_settings_copy (&s, &filter->settings);
  filter->reset_pending = FALSE;
  filter->n_frame_ms = 0;
  filter->latency = 0;
  GST_OBJECT_UNLOCK (filter);

  filter->frame_count = 0;
  filter->new_sequence = TRUE;
  filter->errored = FALSE;
  gst_style_filter_free_engine (filter);

  /* files first, so that their errors do not wait for the device */
  ok = gst_style_filter_update_style_images (filter, &s, TRUE)
      && gst_style_filter_update_device (filter, &s)
      && gst_style_filter_update_net (filter, &s);
  gst_style_filter_settings_clear (&s);

  if (!ok)
    gst_style_filter_free_engine (filter);
  return ok;
}

static gboolean
gst_style_filter_stop (GstBaseTransform * trans)
{
  GstStyleFilter *filter = GST_STYLE_FILTER (trans);

  gst_style_filter_free_engine (filter);
  return TRUE;
}

static gboolean
gst_style_filter_sink_event (GstBaseTransform * trans, GstEvent * event)
{
  GstStyleFilter *filter = GST_STYLE_FILTER (trans);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      /* the frame in progress stops at its next evaluation and is dropped */
      GST_DEBUG_OBJECT (filter, "flush-start: cancelling the frame");
      g_atomic_int_or (&filter->cancel, GST_STYLE_FILTER_CANCEL_FLUSHING);
      break;
    case GST_EVENT_FLUSH_STOP:
      g_atomic_int_and (&filter->cancel, ~GST_STYLE_FILTER_CANCEL_FLUSHING);
      /* fall through */
    case GST_EVENT_SEGMENT:
      /* the next frame restarts from its content with first-iterations */
      GST_DEBUG_OBJECT (filter, "%s: new sequence",
          GST_EVENT_TYPE_NAME (event));
      GST_OBJECT_LOCK (filter);
      filter->reset_pending = TRUE;
      GST_OBJECT_UNLOCK (filter);
      break;
    default:
      break;
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_style_filter_query (GstBaseTransform * trans, GstPadDirection direction,
    GstQuery * query)
{
  GstStyleFilter *filter = GST_STYLE_FILTER (trans);
  gboolean ret;

  ret = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction,
      query);

  if (ret && direction == GST_PAD_SRC
      && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    GstClockTime min, max, ours;
    gboolean live;

    GST_OBJECT_LOCK (filter);
    ours = filter->latency;
    GST_OBJECT_UNLOCK (filter);

    gst_query_parse_latency (query, &live, &min, &max);
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID (max))
      max += ours;
    GST_DEBUG_OBJECT (filter, "latency: ours %" GST_TIME_FORMAT ", total min %"
        GST_TIME_FORMAT " max %" GST_TIME_FORMAT, GST_TIME_ARGS (ours),
        GST_TIME_ARGS (min), GST_TIME_ARGS (max));
    gst_query_set_latency (query, live, min, max);
  }
  return ret;
}

static gboolean
gst_style_filter_set_info (GstVideoFilter * vfilter, GstCaps * incaps,
    GstVideoInfo * in_info, GstCaps * outcaps, GstVideoInfo * out_info)
{
  GstStyleFilter *filter = GST_STYLE_FILTER (vfilter);
  GstStyleFilterSettings s;
  gboolean ok;

  GST_DEBUG_OBJECT (filter, "caps %" GST_PTR_FORMAT, incaps);

  GST_OBJECT_LOCK (filter);
  gst_style_filter_settings_copy (&s, &filter->settings);
  GST_OBJECT_UNLOCK (filter);

  ok = gst_style_filter_update_engine (filter, &s,
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info));
  gst_style_filter_settings_clear (&s);
  /* a new size starts a new sequence */
  filter->new_sequence = TRUE;
  /* the caps are fine: a failure (posted) stops the first frame with a
   * flow error instead of failing the negotiation over and over */
  if (!ok)
    GST_DEBUG_OBJECT (filter, "caps accepted, the engine failed");
  return TRUE;
}


static GstFlowReturn
gst_style_filter_transform_frame (GstVideoFilter * vfilter,
    GstVideoFrame * in_frame, GstVideoFrame * out_frame)
{
  return gst_style_filter_process_frame (GST_STYLE_FILTER (vfilter), in_frame,
      out_frame);
}
