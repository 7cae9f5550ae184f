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

enum
{
  PROP_0,
  PROP_STYLE_LOCATION,
  PROP_STYLE_LOCATIONS,
  PROP_STYLE_BLEND_WEIGHTS,
  PROP_STYLE_BLEND,
  PROP_MODEL_LOCATION,
  PROP_ITERATIONS,
  PROP_FIRST_ITERATIONS,
  PROP_CONTENT_WEIGHT,
  PROP_STYLE_WEIGHT,
  PROP_TV_WEIGHT,
  PROP_RANGE_WEIGHT,
  PROP_TEMPORAL_WEIGHT,
  PROP_WARM_START,
  PROP_OPTIMIZER,
  PROP_LEARNING_RATE,
  PROP_PROCESSING_SIZE,
  PROP_POOLING,
  PROP_STYLE_LAYERS,
  PROP_NETWORK,
  PROP_PRESERVE_COLORS,
  PROP_COLOR_MODE,
  PROP_STYLE_SCALE,
  PROP_DEVICE,
  PROP_SEED,
  PROP_SCENE_THRESHOLD,
  PROP_MAX_FRAME_TIME,
  PROP_FLOW_WARP,
  PROP_COARSE_TO_FINE,
  PROP_UPSCALE,
  PROP_DETAIL,
  PROP_DRAIN,
  PROP_DEVICE_NAME,
};

#define DEFAULT_PROP_STYLE_LOCATION NULL
#define DEFAULT_PROP_STYLE_BLEND -1.0
#define DEFAULT_PROP_MODEL_LOCATION NULL
#define DEFAULT_PROP_ITERATIONS 10
#define DEFAULT_PROP_FIRST_ITERATIONS 50
#define DEFAULT_PROP_CONTENT_WEIGHT 1.0
#define DEFAULT_PROP_STYLE_WEIGHT 1e3
#define DEFAULT_PROP_TV_WEIGHT 100.0
#define DEFAULT_PROP_RANGE_WEIGHT 1e4
#define DEFAULT_PROP_TEMPORAL_WEIGHT 1e6
#define DEFAULT_PROP_WARM_START GST_STYLE_FILTER_WARM_START_FLOW
#define DEFAULT_PROP_OPTIMIZER GST_STYLE_FILTER_OPTIMIZER_LBFGS
#define DEFAULT_PROP_LEARNING_RATE 0.0
#define DEFAULT_PROP_PROCESSING_SIZE 512
#define DEFAULT_PROP_POOLING GST_STYLE_FILTER_POOLING_AVG
#define DEFAULT_PROP_STYLE_LAYERS (GST_STYLE_FILTER_STYLE_LAYER_RELU1_1 \
    | GST_STYLE_FILTER_STYLE_LAYER_RELU2_1 \
    | GST_STYLE_FILTER_STYLE_LAYER_RELU3_1 \
    | GST_STYLE_FILTER_STYLE_LAYER_RELU4_1 \
    | GST_STYLE_FILTER_STYLE_LAYER_RELU5_1)
#define DEFAULT_PROP_NETWORK GST_STYLE_FILTER_NETWORK_STRUCTURED
#define DEFAULT_PROP_PRESERVE_COLORS FALSE
#define DEFAULT_PROP_COLOR_MODE GST_STYLE_FILTER_COLOR_MODE_NONE
#define DEFAULT_PROP_STYLE_SCALE 1.0
#define DEFAULT_PROP_DEVICE NULL
#define DEFAULT_PROP_SEED 0
#define DEFAULT_PROP_SCENE_THRESHOLD 0.1
#define DEFAULT_PROP_MAX_FRAME_TIME 0
#define DEFAULT_PROP_FLOW_WARP GST_STYLE_FILTER_FLOW_WARP_STYLE
#define MAX_FRAME_TIME_MS 3600000
#define DEFAULT_PROP_COARSE_TO_FINE FALSE
#define DEFAULT_PROP_UPSCALE FALSE
#define DEFAULT_PROP_DETAIL 0.0
#define DEFAULT_PROP_DRAIN FALSE

#define MAX_ITERATIONS 10000
#define MAX_WEIGHT 1e12
#define MAX_PROCESSING_SIZE 16384

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

static void gst_style_filter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
static void gst_style_filter_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);
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
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags mutable_flags = flags | GST_PARAM_MUTABLE_PLAYING;
  /* the weights and style-scale: keyframes (a GstControlSource) animate
   * them, synced to each buffer's stream time */
  const GParamFlags control_flags = mutable_flags | GST_PARAM_CONTROLLABLE;

  GST_DEBUG_CATEGORY_INIT (gst_style_filter_debug, "stylefilter", 0,
      "Neural style transfer filter");

  gobject_class->set_property = gst_style_filter_set_property;
  gobject_class->get_property = gst_style_filter_get_property;
  gobject_class->finalize = gst_style_filter_finalize;

  g_object_class_install_property (gobject_class, PROP_STYLE_LOCATION,
      g_param_spec_string ("style-location", "Style location",
          "Path of the style image (any format GStreamer can decode); "
          "empty = the built-in style, The Scream (Munch, 1893)",
          DEFAULT_PROP_STYLE_LOCATION, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_STYLE_LOCATIONS,
      gst_param_spec_array ("style-locations", "Style locations",
          "Several style images, blended (e.g. "
          "style-locations=\"<a.jpg,b.jpg>\"); empty: style-location alone.  "
          "A new list decodes only the entries that changed",
          g_param_spec_string ("location", "Location", "A style image",
              NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS),
          mutable_flags));
  g_object_class_install_property (gobject_class, PROP_STYLE_BLEND_WEIGHTS,
      gst_param_spec_array ("style-blend-weights", "Style blend weights",
          "One weight per style-locations entry, >= 0, not all 0, "
          "normalised to sum 1: the style target is the blend of the "
          "styles' Gram matrices (e.g. style-blend-weights=\"<0.7,0.3>\"); "
          "empty: equal.  A change re-blends without decoding or running "
          "the network on the styles; a value with a negative or all-zero "
          "weight is refused with a warning",
          /* any double, so that set_property names the bad entry */
          g_param_spec_double ("weight", "Weight", "A style's weight, >= 0",
              -G_MAXDOUBLE, G_MAXDOUBLE, 1.0,
              G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS),
          mutable_flags));
  g_object_class_install_property (gobject_class, PROP_STYLE_BLEND,
      g_param_spec_double ("style-blend", "Style blend",
          "A position along style-locations that keyframes can animate: "
          "x in [0, n-1] gives style i the weight max(0, 1 - |x - i|), a "
          "cross-fade from each style to the next (0.25: 3/4 of the "
          "first, 1/4 of the second); it overrides style-blend-weights.  "
          "-1: off, style-blend-weights rule", -1.0, SF_MAX_STYLES - 1,
          DEFAULT_PROP_STYLE_BLEND, control_flags));
  g_object_class_install_property (gobject_class, PROP_MODEL_LOCATION,
      g_param_spec_string ("model-location", "Model location",
          "Path of a VGG-19 in safetensors format (torchvision key names); "
          "empty for the embedded default network (see seed)",
          DEFAULT_PROP_MODEL_LOCATION, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_ITERATIONS,
      g_param_spec_int ("iterations", "Iterations",
          "Optimiser iterations per frame", 1, MAX_ITERATIONS,
          DEFAULT_PROP_ITERATIONS, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_FIRST_ITERATIONS,
      g_param_spec_int ("first-iterations", "First iterations",
          "Optimiser iterations for the first frame and after a scene cut, "
          "flush or seek", 1, MAX_ITERATIONS, DEFAULT_PROP_FIRST_ITERATIONS,
          mutable_flags));
  g_object_class_install_property (gobject_class, PROP_CONTENT_WEIGHT,
      g_param_spec_double ("content-weight", "Content weight",
          "Weight of the content loss", 0.0, MAX_WEIGHT,
          DEFAULT_PROP_CONTENT_WEIGHT, control_flags));
  g_object_class_install_property (gobject_class, PROP_STYLE_WEIGHT,
      g_param_spec_double ("style-weight", "Style weight",
          "Weight of the style loss", 0.0, MAX_WEIGHT,
          DEFAULT_PROP_STYLE_WEIGHT, control_flags));
  g_object_class_install_property (gobject_class, PROP_TV_WEIGHT,
      g_param_spec_double ("tv-weight", "TV weight",
          "Weight of the total variation loss (smoothness)", 0.0, MAX_WEIGHT,
          DEFAULT_PROP_TV_WEIGHT, control_flags));
  g_object_class_install_property (gobject_class, PROP_RANGE_WEIGHT,
      g_param_spec_double ("range-weight", "Range weight",
          "Weight of the range loss, which keeps pixels inside [0,1] while "
          "optimising (the frame sent is clamped, so what strays out is "
          "lost style); 0 = unbounded, as the PyTorch peer", 0.0, MAX_WEIGHT,
          DEFAULT_PROP_RANGE_WEIGHT, control_flags));
  g_object_class_install_property (gobject_class, PROP_TEMPORAL_WEIGHT,
      g_param_spec_double ("temporal-weight", "Temporal weight",
          "Weight of the temporal loss towards the previous result "
          "(warm-start=previous or flow; with flow-warp=style a pixel the "
          "flow moves by more than 0.6 px is held with 0.2 of it)", 0.0,
          MAX_WEIGHT,
          DEFAULT_PROP_TEMPORAL_WEIGHT, control_flags));
  g_object_class_install_property (gobject_class, PROP_WARM_START,
      g_param_spec_enum ("warm-start", "Warm start",
          "Where the optimisation of a frame starts",
          GST_TYPE_STYLE_FILTER_WARM_START, DEFAULT_PROP_WARM_START,
          mutable_flags));
  g_object_class_install_property (gobject_class, PROP_OPTIMIZER,
      g_param_spec_enum ("optimizer", "Optimizer", "The optimiser",
          GST_TYPE_STYLE_FILTER_OPTIMIZER, DEFAULT_PROP_OPTIMIZER,
          mutable_flags));
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_double ("learning-rate", "Learning rate",
          "Step size: Adam's learning rate, L-BFGS's first step scale; "
          "0 = automatic (1.0 for lbfgs, 0.02 for adam)", 0.0, 1000.0,
          DEFAULT_PROP_LEARNING_RATE, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_PROCESSING_SIZE,
      g_param_spec_int ("processing-size", "Processing size",
          "Longest side of the optimised image in pixels, the other side by "
          "aspect and at least 16, never more than the frame's own unless "
          "upscale is set; 0 = the frame size", 0,
          MAX_PROCESSING_SIZE, DEFAULT_PROP_PROCESSING_SIZE, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_POOLING,
      g_param_spec_enum ("pooling", "Pooling", "Pooling layers of the network",
          GST_TYPE_STYLE_FILTER_POOLING, DEFAULT_PROP_POOLING, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_NETWORK,
      g_param_spec_enum ("network", "Network",
          "The embedded VGG-19 used when model-location is empty (drawn "
          "under seed)", GST_TYPE_STYLE_FILTER_NETWORK, DEFAULT_PROP_NETWORK,
          mutable_flags));
  g_object_class_install_property (gobject_class, PROP_STYLE_LAYERS,
      g_param_spec_flags ("style-layers", "Style layers",
          "The VGG-19 layers whose Gram matrices carry the style, joined "
          "by '+' (e.g. \"relu1_1+relu2_1+relu3_1+relu4_1\", all but the "
          "coarsest); the style loss "
          "is their mean.  A value that names none is refused with a "
          "warning",
          GST_TYPE_STYLE_FILTER_STYLE_LAYERS, DEFAULT_PROP_STYLE_LAYERS,
          mutable_flags));
  g_object_class_install_property (gobject_class, PROP_PRESERVE_COLORS,
      g_param_spec_boolean ("preserve-colors", "Preserve colors",
          "Keep the colours of the video and take only the luminance from "
          "the result", DEFAULT_PROP_PRESERVE_COLORS, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_COLOR_MODE,
      g_param_spec_enum ("color-mode", "Color mode",
          "Colour control: none; luminance (the video's colours, as "
          "preserve-colors, which still works on its own); histogram (the "
          "style images take the video's RGB mean and covariance, measured "
          "on the first frame of each sequence, before their Gram matrices)",
          GST_TYPE_STYLE_FILTER_COLOR_MODE, DEFAULT_PROP_COLOR_MODE,
          mutable_flags));
  g_object_class_install_property (gobject_class, PROP_STYLE_SCALE,
      g_param_spec_double ("style-scale", "Style scale",
          "Size of the style image relative to the processing size (its "
          "longest side is style-scale x processing size)", 0.01, 100.0,
          DEFAULT_PROP_STYLE_SCALE, control_flags));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_string ("device", "Device",
          "Vulkan device: an index or a substring of its name; empty = "
          "automatic (or the STYLEFILTER_DEVICE environment variable)",
          DEFAULT_PROP_DEVICE, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Seed of the embedded default network (used when model-location "
          "is empty)", 0, G_MAXUINT64, DEFAULT_PROP_SEED, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_SCENE_THRESHOLD,
      g_param_spec_double ("scene-threshold", "Scene threshold",
          "Mean absolute change between consecutive frames (0..1) above "
          "which a frame is a scene cut and starts afresh; 1 = never",
          0.0, 1.0, DEFAULT_PROP_SCENE_THRESHOLD, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_DEVICE_NAME,
      g_param_spec_string ("device-name", "Device name",
          "Name of the Vulkan device in use (set once the element started)",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  g_object_class_install_property (gobject_class, PROP_MAX_FRAME_TIME,
      g_param_spec_int ("max-frame-time", "Maximum frame time",
          "Time budget of a frame in milliseconds: iterations stop before "
          "the one that would end past it (at least one runs); 0 = off, "
          "every iteration runs", 0, MAX_FRAME_TIME_MS,
          DEFAULT_PROP_MAX_FRAME_TIME, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_FLOW_WARP,
      g_param_spec_enum ("flow-warp", "Flow warp",
          "How warm-start=flow resamples the previous result along the flow",
          GST_TYPE_STYLE_FILTER_FLOW_WARP, DEFAULT_PROP_FLOW_WARP,
          mutable_flags));
  g_object_class_install_property (gobject_class, PROP_COARSE_TO_FINE,
      g_param_spec_boolean ("coarse-to-fine", "Coarse to fine",
          "Frames that start afresh run 2 x first-iterations at half size, "
          "then first-iterations / 2 at full size (about the same cost: a "
          "lower loss, but softer, blotchier pictures on the embedded "
          "network)", DEFAULT_PROP_COARSE_TO_FINE, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_UPSCALE,
      g_param_spec_boolean ("upscale", "Upscale",
          "Optimise at processing-size even when the frame is smaller "
          "(slower; off: frames smaller than processing-size are optimised "
          "at their own size)", DEFAULT_PROP_UPSCALE, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_DETAIL,
      g_param_spec_double ("detail", "Detail",
          "Share of the frame's own fine detail, the part finer than "
          "processing-size can hold, added back when the result is "
          "upsampled to the frame: 0 = the upsampled result alone (soft "
          "when processing-size is well below the frame size), 1 = all of "
          "it.  Costs nothing", 0.0, 1.0, DEFAULT_PROP_DETAIL,
          control_flags));
  g_object_class_install_property (gobject_class, PROP_DRAIN,
      g_param_spec_boolean ("drain", "Drain",
          "Finish quickly: the frame in progress stops at its next loss "
          "evaluation and goes out as it is, and every later frame goes out "
          "as its warm start (the previous result carried along the flow), "
          "with no iterations.  Set it with an EOS on Ctrl-C to finish a "
          "file within seconds", DEFAULT_PROP_DRAIN, mutable_flags));
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
gst_style_filter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstStyleFilter *filter = GST_STYLE_FILTER (object);
  GstStyleFilterSettings *s = &filter->settings;
  const gchar *refused = NULL;
  gchar *why = NULL;
  gchar **strv;
  gdouble *w;
  guint n;

  GST_OBJECT_LOCK (filter);
  switch (prop_id) {
    case PROP_STYLE_LOCATIONS:
      if (gst_style_filter_strv_from_array (value, &strv)) {
        g_strfreev (s->style_locations);
        s->style_locations = strv;
        s->style_serial++;
      } else {
        refused = "an entry is not a string";
      }
      break;
    case PROP_STYLE_BLEND_WEIGHTS:
      if (gst_style_filter_weights_from_array (value, &w, &n, &why)) {
        g_free (s->blend_weights);
        s->blend_weights = w;
        s->n_blend_weights = n;
        s->blend_serial++;
      } else {
        refused = why;
      }
      break;
    case PROP_STYLE_BLEND:
      /* a bound control source sets it at every change only */
      if (s->style_blend != g_value_get_double (value)) {
        s->style_blend = g_value_get_double (value);
        s->blend_serial++;
      }
      break;
    case PROP_STYLE_LOCATION:
      /* always decoded again: the file may have changed */
      g_free (s->style_location);
      s->style_location = g_value_dup_string (value);
      s->style_serial++;
      break;
    case PROP_MODEL_LOCATION:
      if (g_strcmp0 (s->model_location, g_value_get_string (value)) != 0) {
        g_free (s->model_location);
        s->model_location = g_value_dup_string (value);
        s->net_serial++;
      }
      break;
    case PROP_ITERATIONS:
      s->iterations = g_value_get_int (value);
      break;
    case PROP_FIRST_ITERATIONS:
      s->first_iterations = g_value_get_int (value);
      break;
    case PROP_CONTENT_WEIGHT:
      s->content_weight = g_value_get_double (value);
      break;
    case PROP_STYLE_WEIGHT:
      s->style_weight = g_value_get_double (value);
      break;
    case PROP_TV_WEIGHT:
      s->tv_weight = g_value_get_double (value);
      break;
    case PROP_RANGE_WEIGHT:
      s->range_weight = g_value_get_double (value);
      break;
    case PROP_TEMPORAL_WEIGHT:
      s->temporal_weight = g_value_get_double (value);
      break;
    case PROP_WARM_START:
      s->warm_start = g_value_get_enum (value);
      break;
    case PROP_OPTIMIZER:
      s->optimizer = g_value_get_enum (value);
      break;
    case PROP_LEARNING_RATE:
      s->learning_rate = g_value_get_double (value);
      break;
    case PROP_PROCESSING_SIZE:
      s->processing_size = g_value_get_int (value);
      break;
    case PROP_POOLING:
      if (s->pooling != (GstStyleFilterPooling) g_value_get_enum (value)) {
        s->pooling = g_value_get_enum (value);
        s->net_serial++;
      }
      break;
    case PROP_NETWORK:
      if (s->network != (GstStyleFilterNetwork) g_value_get_enum (value)) {
        s->network = g_value_get_enum (value);
        s->net_serial++;
      }
      break;
    case PROP_STYLE_LAYERS:
      if (g_value_get_flags (value) != 0)
        s->style_layers = g_value_get_flags (value);
      else
        refused = "style-layers names no layer";
      break;
    case PROP_PRESERVE_COLORS:
      s->preserve_colors = g_value_get_boolean (value);
      break;
    case PROP_COLOR_MODE:
      s->color_mode = g_value_get_enum (value);
      break;
    case PROP_STYLE_SCALE:
      s->style_scale = g_value_get_double (value);
      break;
    case PROP_DEVICE:
      if (g_strcmp0 (s->device, g_value_get_string (value)) != 0) {
        g_free (s->device);
        s->device = g_value_dup_string (value);
        s->device_serial++;
      }
      break;
    case PROP_SEED:
      if (s->seed != g_value_get_uint64 (value)) {
        s->seed = g_value_get_uint64 (value);
        s->net_serial++;
      }
      break;
    case PROP_SCENE_THRESHOLD:
      s->scene_threshold = g_value_get_double (value);
      break;
    case PROP_MAX_FRAME_TIME:
      s->max_frame_time = g_value_get_int (value);
      break;
    case PROP_FLOW_WARP:
      s->flow_warp = g_value_get_enum (value);
      break;
    case PROP_COARSE_TO_FINE:
      s->coarse_to_fine = g_value_get_boolean (value);
      break;
    case PROP_UPSCALE:
      s->upscale = g_value_get_boolean (value);
      break;
    case PROP_DETAIL:
      s->detail = g_value_get_double (value);
      break;
    case PROP_DRAIN:
      /* the frame in progress sees it at its next evaluation */
      if (g_value_get_boolean (value))
        g_atomic_int_or (&filter->cancel, GST_STYLE_FILTER_CANCEL_DRAIN);
      else
        g_atomic_int_and (&filter->cancel, ~GST_STYLE_FILTER_CANCEL_DRAIN);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (filter);
  /* posted without the lock: posting takes it */
  if (refused)
    GST_ELEMENT_WARNING (filter, RESOURCE, SETTINGS,
        ("Property %s: %s; the previous value stays", pspec->name, refused),
        ("refused value of %s", pspec->name));
  g_free (why);
}

static void
gst_style_filter_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstStyleFilter *filter = GST_STYLE_FILTER (object);
  GstStyleFilterSettings *s = &filter->settings;

  GST_OBJECT_LOCK (filter);
  switch (prop_id) {
    case PROP_STYLE_LOCATION:
      g_value_set_string (value, s->style_location);
      break;
    case PROP_STYLE_LOCATIONS:
      for (guint i = 0; s->style_locations && s->style_locations[i]; i++) {
        GValue e = G_VALUE_INIT;
        g_value_init (&e, G_TYPE_STRING);
        g_value_set_string (&e, s->style_locations[i]);
        gst_value_array_append_and_take_value (value, &e);
      }
      break;
    case PROP_STYLE_BLEND_WEIGHTS:
      for (guint i = 0; i < s->n_blend_weights; i++) {
        GValue e = G_VALUE_INIT;
        g_value_init (&e, G_TYPE_DOUBLE);
        g_value_set_double (&e, s->blend_weights[i]);
        gst_value_array_append_and_take_value (value, &e);
      }
      break;
    case PROP_STYLE_BLEND:
      g_value_set_double (value, s->style_blend);
      break;
    case PROP_MODEL_LOCATION:
      g_value_set_string (value, s->model_location);
      break;
    case PROP_ITERATIONS:
      g_value_set_int (value, s->iterations);
      break;
    case PROP_FIRST_ITERATIONS:
      g_value_set_int (value, s->first_iterations);
      break;
    case PROP_CONTENT_WEIGHT:
      g_value_set_double (value, s->content_weight);
      break;
    case PROP_STYLE_WEIGHT:
      g_value_set_double (value, s->style_weight);
      break;
    case PROP_TV_WEIGHT:
      g_value_set_double (value, s->tv_weight);
      break;
    case PROP_RANGE_WEIGHT:
      g_value_set_double (value, s->range_weight);
      break;
    case PROP_TEMPORAL_WEIGHT:
      g_value_set_double (value, s->temporal_weight);
      break;
    case PROP_WARM_START:
      g_value_set_enum (value, s->warm_start);
      break;
    case PROP_OPTIMIZER:
      g_value_set_enum (value, s->optimizer);
      break;
    case PROP_LEARNING_RATE:
      g_value_set_double (value, s->learning_rate);
      break;
    case PROP_PROCESSING_SIZE:
      g_value_set_int (value, s->processing_size);
      break;
    case PROP_POOLING:
      g_value_set_enum (value, s->pooling);
      break;
    case PROP_NETWORK:
      g_value_set_enum (value, s->network);
      break;
    case PROP_STYLE_LAYERS:
      g_value_set_flags (value, s->style_layers);
      break;
    case PROP_PRESERVE_COLORS:
      g_value_set_boolean (value, s->preserve_colors);
      break;
    case PROP_COLOR_MODE:
      g_value_set_enum (value, s->color_mode);
      break;
    case PROP_STYLE_SCALE:
      g_value_set_double (value, s->style_scale);
      break;
    case PROP_DEVICE:
      g_value_set_string (value, s->device);
      break;
    case PROP_SEED:
      g_value_set_uint64 (value, s->seed);
      break;
    case PROP_SCENE_THRESHOLD:
      g_value_set_double (value, s->scene_threshold);
      break;
    case PROP_MAX_FRAME_TIME:
      g_value_set_int (value, s->max_frame_time);
      break;
    case PROP_FLOW_WARP:
      g_value_set_enum (value, s->flow_warp);
      break;
    case PROP_COARSE_TO_FINE:
      g_value_set_boolean (value, s->coarse_to_fine);
      break;
    case PROP_UPSCALE:
      g_value_set_boolean (value, s->upscale);
      break;
    case PROP_DETAIL:
      g_value_set_double (value, s->detail);
      break;
    case PROP_DRAIN:
      g_value_set_boolean (value, (g_atomic_int_get (&filter->cancel)
              & GST_STYLE_FILTER_CANCEL_DRAIN) != 0);
      break;
    case PROP_DEVICE_NAME:
      g_value_set_string (value, filter->device_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (filter);
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
