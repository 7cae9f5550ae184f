/* gststylefilterprops.c - the stylefilter element's properties: their
 * installation with one documentation block each (what gst-inspect-1.0
 * stylefilter prints is the blurb; the block is for generated
 * documentation), and set_property / get_property, which copy values
 * into the settings under the object lock and refuse bad ones with a
 * warning naming them.
 *
 * Copyright (C) 2025 gst-stylefilter contributors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "gststylefilterprops.h"

GST_DEBUG_CATEGORY_EXTERN (gst_style_filter_debug);
#define GST_CAT_DEFAULT gst_style_filter_debug

void
gst_style_filter_install_properties (GObjectClass * gobject_class)
{
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags mutable_flags = flags | GST_PARAM_MUTABLE_PLAYING;
  /* the weights and style-scale: keyframes (a GstControlSource) animate
   * them, synced to each buffer's stream time */
  const GParamFlags control_flags = mutable_flags | GST_PARAM_CONTROLLABLE;

  /**
   * GstStyleFilter:style-location:
   *
   * Path of the style image (any format GStreamer can decode); empty = the
   * built-in style, The Scream (Munch, 1893).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STYLE_LOCATION,
      g_param_spec_string ("style-location", "Style location",
          "Path of the style image (any format GStreamer can decode); "
          "empty = the built-in style, The Scream (Munch, 1893)",
          DEFAULT_PROP_STYLE_LOCATION, mutable_flags));

  /**
   * GstStyleFilter:style-locations:
   *
   * Several style images, blended (e.g. style-locations="<a.jpg,b.jpg>");
   * empty: style-location alone. A new list decodes only the entries that
   * changed.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STYLE_LOCATIONS,
      gst_param_spec_array ("style-locations", "Style locations",
          "Several style images, blended (e.g. "
          "style-locations=\"<a.jpg,b.jpg>\"); empty: style-location alone.  "
          "A new list decodes only the entries that changed",
          g_param_spec_string ("location", "Location", "A style image",
              NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS),
          mutable_flags));

  /**
   * GstStyleFilter:style-blend-weights:
   *
   * One weight per style-locations entry, >= 0, not all 0, normalised to sum
   * 1: the style target is the blend of the styles' Gram matrices (e.g.
   * style-blend-weights="<0.7,0.3>"); empty: equal. A change re-blends
   * without decoding or running the network on the styles; a value with a
   * negative or all-zero weight is refused with a warning.
   *
   * Since: 0.1
   */
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

  /**
   * GstStyleFilter:style-blend:
   *
   * A position along style-locations that keyframes can animate: x in [0,
   * n-1] gives style i the weight max(0, 1 - |x - i|), a cross-fade from
   * each style to the next (0.25: 3/4 of the first, 1/4 of the second); it
   * overrides style-blend-weights. -1: off, style-blend-weights rule.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STYLE_BLEND,
      g_param_spec_double ("style-blend", "Style blend",
          "A position along style-locations that keyframes can animate: "
          "x in [0, n-1] gives style i the weight max(0, 1 - |x - i|), a "
          "cross-fade from each style to the next (0.25: 3/4 of the "
          "first, 1/4 of the second); it overrides style-blend-weights.  "
          "-1: off, style-blend-weights rule", -1.0, SF_MAX_STYLES - 1,
          DEFAULT_PROP_STYLE_BLEND, control_flags));

  /**
   * GstStyleFilter:model-location:
   *
   * Path of a VGG-19 in safetensors format (torchvision key names); empty
   * for the embedded default network (see seed).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MODEL_LOCATION,
      g_param_spec_string ("model-location", "Model location",
          "Path of a VGG-19 in safetensors format (torchvision key names); "
          "empty for the embedded default network (see seed)",
          DEFAULT_PROP_MODEL_LOCATION, mutable_flags));

  /**
   * GstStyleFilter:iterations:
   *
   * Optimiser iterations per frame.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_ITERATIONS,
      g_param_spec_int ("iterations", "Iterations",
          "Optimiser iterations per frame", 1, MAX_ITERATIONS,
          DEFAULT_PROP_ITERATIONS, mutable_flags));

  /**
   * GstStyleFilter:first-iterations:
   *
   * Optimiser iterations for the first frame and after a scene cut, flush or
   * seek.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_FIRST_ITERATIONS,
      g_param_spec_int ("first-iterations", "First iterations",
          "Optimiser iterations for the first frame and after a scene cut, "
          "flush or seek", 1, MAX_ITERATIONS, DEFAULT_PROP_FIRST_ITERATIONS,
          mutable_flags));

  /**
   * GstStyleFilter:content-weight:
   *
   * Weight of the content loss.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_CONTENT_WEIGHT,
      g_param_spec_double ("content-weight", "Content weight",
          "Weight of the content loss", 0.0, MAX_WEIGHT,
          DEFAULT_PROP_CONTENT_WEIGHT, control_flags));

  /**
   * GstStyleFilter:style-weight:
   *
   * Weight of the style loss.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STYLE_WEIGHT,
      g_param_spec_double ("style-weight", "Style weight",
          "Weight of the style loss", 0.0, MAX_WEIGHT,
          DEFAULT_PROP_STYLE_WEIGHT, control_flags));

  /**
   * GstStyleFilter:tv-weight:
   *
   * Weight of the total variation loss (smoothness).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TV_WEIGHT,
      g_param_spec_double ("tv-weight", "TV weight",
          "Weight of the total variation loss (smoothness)", 0.0, MAX_WEIGHT,
          DEFAULT_PROP_TV_WEIGHT, control_flags));

  /**
   * GstStyleFilter:range-weight:
   *
   * Weight of the range loss, which keeps pixels inside [0,1] while
   * optimising (the frame sent is clamped, so what strays out is lost
   * style); 0 = unbounded, as the PyTorch peer.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_RANGE_WEIGHT,
      g_param_spec_double ("range-weight", "Range weight",
          "Weight of the range loss, which keeps pixels inside [0,1] while "
          "optimising (the frame sent is clamped, so what strays out is "
          "lost style); 0 = unbounded, as the PyTorch peer", 0.0, MAX_WEIGHT,
          DEFAULT_PROP_RANGE_WEIGHT, control_flags));

  /**
   * GstStyleFilter:temporal-weight:
   *
   * Weight of the temporal loss towards the previous result (warm-
   * start=previous or flow; with flow-warp=style a pixel the flow moves by
   * more than 0.6 px is held with 0.2 of it).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_TEMPORAL_WEIGHT,
      g_param_spec_double ("temporal-weight", "Temporal weight",
          "Weight of the temporal loss towards the previous result "
          "(warm-start=previous or flow; with flow-warp=style a pixel the "
          "flow moves by more than 0.6 px is held with 0.2 of it)", 0.0,
          MAX_WEIGHT,
          DEFAULT_PROP_TEMPORAL_WEIGHT, control_flags));

  /**
   * GstStyleFilter:warm-start:
   *
   * Where the optimisation of a frame starts.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_WARM_START,
      g_param_spec_enum ("warm-start", "Warm start",
          "Where the optimisation of a frame starts",
          GST_TYPE_STYLE_FILTER_WARM_START, DEFAULT_PROP_WARM_START,
          mutable_flags));

  /**
   * GstStyleFilter:optimizer:
   *
   * The optimiser.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_OPTIMIZER,
      g_param_spec_enum ("optimizer", "Optimizer", "The optimiser",
          GST_TYPE_STYLE_FILTER_OPTIMIZER, DEFAULT_PROP_OPTIMIZER,
          mutable_flags));

  /**
   * GstStyleFilter:learning-rate:
   *
   * Step size: Adam's learning rate, L-BFGS's first step scale; 0 =
   * automatic (1.0 for lbfgs, 0.02 for adam).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_LEARNING_RATE,
      g_param_spec_double ("learning-rate", "Learning rate",
          "Step size: Adam's learning rate, L-BFGS's first step scale; "
          "0 = automatic (1.0 for lbfgs, 0.02 for adam)", 0.0, 1000.0,
          DEFAULT_PROP_LEARNING_RATE, mutable_flags));

  /**
   * GstStyleFilter:processing-size:
   *
   * Longest side of the optimised image in pixels, the other side by aspect
   * and at least 16, never more than the frame's own unless upscale is set;
   * 0 = the frame size.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PROCESSING_SIZE,
      g_param_spec_int ("processing-size", "Processing size",
          "Longest side of the optimised image in pixels, the other side by "
          "aspect and at least 16, never more than the frame's own unless "
          "upscale is set; 0 = the frame size", 0,
          MAX_PROCESSING_SIZE, DEFAULT_PROP_PROCESSING_SIZE, mutable_flags));

  /**
   * GstStyleFilter:pooling:
   *
   * Pooling layers of the network.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_POOLING,
      g_param_spec_enum ("pooling", "Pooling", "Pooling layers of the network",
          GST_TYPE_STYLE_FILTER_POOLING, DEFAULT_PROP_POOLING, mutable_flags));

  /**
   * GstStyleFilter:network:
   *
   * The embedded VGG-19 used when model-location is empty (drawn under
   * seed).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_NETWORK,
      g_param_spec_enum ("network", "Network",
          "The embedded VGG-19 used when model-location is empty (drawn "
          "under seed)", GST_TYPE_STYLE_FILTER_NETWORK, DEFAULT_PROP_NETWORK,
          mutable_flags));

  /**
   * GstStyleFilter:style-layers:
   *
   * The VGG-19 layers whose Gram matrices carry the style, joined by '+'
   * (e.g. "relu1_1+relu2_1+relu3_1+relu4_1", all but the coarsest); the
   * style loss is their mean. A value that names none is refused with a
   * warning.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STYLE_LAYERS,
      g_param_spec_flags ("style-layers", "Style layers",
          "The VGG-19 layers whose Gram matrices carry the style, joined "
          "by '+' (e.g. \"relu1_1+relu2_1+relu3_1+relu4_1\", all but the "
          "coarsest); the style loss "
          "is their mean.  A value that names none is refused with a "
          "warning",
          GST_TYPE_STYLE_FILTER_STYLE_LAYERS, DEFAULT_PROP_STYLE_LAYERS,
          mutable_flags));

  /**
   * GstStyleFilter:preserve-colors:
   *
   * Keep the colours of the video and take only the luminance from the
   * result.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_PRESERVE_COLORS,
      g_param_spec_boolean ("preserve-colors", "Preserve colors",
          "Keep the colours of the video and take only the luminance from "
          "the result", DEFAULT_PROP_PRESERVE_COLORS, mutable_flags));

  /**
   * GstStyleFilter:color-mode:
   *
   * Colour control: none; luminance (the video's colours, as preserve-
   * colors, which still works on its own); histogram (the style images take
   * the video's RGB mean and covariance, measured on the first frame of each
   * sequence, before their Gram matrices).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_COLOR_MODE,
      g_param_spec_enum ("color-mode", "Color mode",
          "Colour control: none; luminance (the video's colours, as "
          "preserve-colors, which still works on its own); histogram (the "
          "style images take the video's RGB mean and covariance, measured "
          "on the first frame of each sequence, before their Gram matrices)",
          GST_TYPE_STYLE_FILTER_COLOR_MODE, DEFAULT_PROP_COLOR_MODE,
          mutable_flags));

  /**
   * GstStyleFilter:style-scale:
   *
   * Size of the style image relative to the processing size (its longest
   * side is style-scale x processing size).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_STYLE_SCALE,
      g_param_spec_double ("style-scale", "Style scale",
          "Size of the style image relative to the processing size (its "
          "longest side is style-scale x processing size)", 0.01, 100.0,
          DEFAULT_PROP_STYLE_SCALE, control_flags));

  /**
   * GstStyleFilter:device:
   *
   * Vulkan device: an index or a substring of its name; empty = automatic
   * (or the STYLEFILTER_DEVICE environment variable).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_string ("device", "Device",
          "Vulkan device: an index or a substring of its name; empty = "
          "automatic (or the STYLEFILTER_DEVICE environment variable)",
          DEFAULT_PROP_DEVICE, mutable_flags));

  /**
   * GstStyleFilter:seed:
   *
   * Seed of the embedded default network (used when model-location is
   * empty).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SEED,
      g_param_spec_uint64 ("seed", "Seed",
          "Seed of the embedded default network (used when model-location "
          "is empty)", 0, G_MAXUINT64, DEFAULT_PROP_SEED, mutable_flags));

  /**
   * GstStyleFilter:scene-threshold:
   *
   * Mean absolute change between consecutive frames (0..1) above which a
   * frame is a scene cut and starts afresh; 1 = never.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_SCENE_THRESHOLD,
      g_param_spec_double ("scene-threshold", "Scene threshold",
          "Mean absolute change between consecutive frames (0..1) above "
          "which a frame is a scene cut and starts afresh; 1 = never",
          0.0, 1.0, DEFAULT_PROP_SCENE_THRESHOLD, mutable_flags));

  /**
   * GstStyleFilter:device-name:
   *
   * Name of the Vulkan device in use (set once the element started).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_DEVICE_NAME,
      g_param_spec_string ("device-name", "Device name",
          "Name of the Vulkan device in use (set once the element started)",
          NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  /**
   * GstStyleFilter:max-frame-time:
   *
   * Time budget of a frame in milliseconds: iterations stop before the one
   * that would end past it (at least one runs); 0 = off, every iteration
   * runs.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_MAX_FRAME_TIME,
      g_param_spec_int ("max-frame-time", "Maximum frame time",
          "Time budget of a frame in milliseconds: iterations stop before "
          "the one that would end past it (at least one runs); 0 = off, "
          "every iteration runs", 0, MAX_FRAME_TIME_MS,
          DEFAULT_PROP_MAX_FRAME_TIME, mutable_flags));

  /**
   * GstStyleFilter:flow-warp:
   *
   * How warm-start=flow resamples the previous result along the flow.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_FLOW_WARP,
      g_param_spec_enum ("flow-warp", "Flow warp",
          "How warm-start=flow resamples the previous result along the flow",
          GST_TYPE_STYLE_FILTER_FLOW_WARP, DEFAULT_PROP_FLOW_WARP,
          mutable_flags));

  /**
   * GstStyleFilter:coarse-to-fine:
   *
   * Frames that start afresh run 2 x first-iterations at half size, then
   * first-iterations / 2 at full size (about the same cost: a lower loss,
   * but softer, blotchier pictures on the embedded network).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_COARSE_TO_FINE,
      g_param_spec_boolean ("coarse-to-fine", "Coarse to fine",
          "Frames that start afresh run 2 x first-iterations at half size, "
          "then first-iterations / 2 at full size (about the same cost: a "
          "lower loss, but softer, blotchier pictures on the embedded "
          "network)", DEFAULT_PROP_COARSE_TO_FINE, mutable_flags));

  /**
   * GstStyleFilter:upscale:
   *
   * Optimise at processing-size even when the frame is smaller (slower; off:
   * frames smaller than processing-size are optimised at their own size).
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_UPSCALE,
      g_param_spec_boolean ("upscale", "Upscale",
          "Optimise at processing-size even when the frame is smaller "
          "(slower; off: frames smaller than processing-size are optimised "
          "at their own size)", DEFAULT_PROP_UPSCALE, mutable_flags));

  /**
   * GstStyleFilter:detail:
   *
   * Share of the frame's own fine detail, the part finer than processing-
   * size can hold, added back when the result is upsampled to the frame: 0 =
   * the upsampled result alone (soft when processing-size is well below the
   * frame size), 1 = all of it. Costs nothing.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_DETAIL,
      g_param_spec_double ("detail", "Detail",
          "Share of the frame's own fine detail, the part finer than "
          "processing-size can hold, added back when the result is "
          "upsampled to the frame: 0 = the upsampled result alone (soft "
          "when processing-size is well below the frame size), 1 = all of "
          "it.  Costs nothing", 0.0, 1.0, DEFAULT_PROP_DETAIL,
          control_flags));

  /**
   * GstStyleFilter:drain:
   *
   * Finish quickly: the frame in progress stops at its next loss evaluation
   * and goes out as it is, and every later frame goes out as its warm start
   * (the previous result carried along the flow), with no iterations. Set it
   * with an EOS on Ctrl-C to finish a file within seconds.
   *
   * Since: 0.1
   */
  g_object_class_install_property (gobject_class, PROP_DRAIN,
      g_param_spec_boolean ("drain", "Drain",
          "Finish quickly: the frame in progress stops at its next loss "
          "evaluation and goes out as it is, and every later frame goes out "
          "as its warm start (the previous result carried along the flow), "
          "with no iterations.  Set it with an EOS on Ctrl-C to finish a "
          "file within seconds", DEFAULT_PROP_DRAIN, mutable_flags));
}

void
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

void
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

