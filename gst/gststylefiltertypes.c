/* gststylefiltertypes.c - the enum and flags types of the stylefilter
 * element's properties (warm-start, optimizer, pooling, network,
 * style-layers, flow-warp), registered here so that the element's file
 * holds the element.
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

#include "gststylefilter.h"

GType
gst_style_filter_warm_start_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_STYLE_FILTER_WARM_START_NONE,
        "Start every frame from its content", "none"},
    {GST_STYLE_FILTER_WARM_START_PREVIOUS,
        "Start from the previous result, with the temporal loss", "previous"},
    {GST_STYLE_FILTER_WARM_START_FLOW,
          "Start from the previous result warped along the optical flow, "
          "with the temporal loss", "flow"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstStyleFilterWarmStart", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_style_filter_optimizer_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_STYLE_FILTER_OPTIMIZER_LBFGS, "L-BFGS", "lbfgs"},
    {GST_STYLE_FILTER_OPTIMIZER_ADAM, "Adam", "adam"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstStyleFilterOptimizer", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_style_filter_pooling_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_STYLE_FILTER_POOLING_MAX, "Max pooling (as VGG-19 was trained)",
        "max"},
    {GST_STYLE_FILTER_POOLING_AVG, "Average pooling (as Gatys et al. suggest)",
        "avg"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstStyleFilterPooling", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_style_filter_network_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_STYLE_FILTER_NETWORK_STRUCTURED,
          "Fixed edge and colour-opponent filters in the first layer, seeded "
          "random deeper layers (default)", "structured"},
    {GST_STYLE_FILTER_NETWORK_RANDOM,
        "Every layer seeded random (the earlier default)", "random"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstStyleFilterNetwork", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_style_filter_style_layers_get_type (void)
{
  static GType type = 0;
  static const GFlagsValue values[] = {
    {GST_STYLE_FILTER_STYLE_LAYER_RELU1_1, "relu1_1 (full size)", "relu1_1"},
    {GST_STYLE_FILTER_STYLE_LAYER_RELU2_1, "relu2_1 (half size)", "relu2_1"},
    {GST_STYLE_FILTER_STYLE_LAYER_RELU3_1, "relu3_1 (quarter size)",
        "relu3_1"},
    {GST_STYLE_FILTER_STYLE_LAYER_RELU4_1, "relu4_1 (eighth size)",
        "relu4_1"},
    {GST_STYLE_FILTER_STYLE_LAYER_RELU5_1, "relu5_1 (sixteenth size)",
        "relu5_1"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_flags_register_static ("GstStyleFilterStyleLayers", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_style_filter_flow_warp_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_STYLE_FILTER_FLOW_WARP_BILINEAR,
        "Bilinear (blurs a little at every frame)", "bilinear"},
    {GST_STYLE_FILTER_FLOW_WARP_BICUBIC,
        "Catmull-Rom bicubic (steadiest, but blurs over a pan)", "bicubic"},
    {GST_STYLE_FILTER_FLOW_WARP_STYLE,
          "Carry only what the style added to the content, sampled from an "
          "anchor frame so that it is interpolated once (Lanczos-3, "
          "mirrored into view at the frame's edge); the content comes fresh "
          "from each frame, its noise cored in time where the picture is "
          "still; moving pixels are held with 0.2 of temporal-weight "
          "(default)",
        "style"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstStyleFilterFlowWarp", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_style_filter_color_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_STYLE_FILTER_COLOR_MODE_NONE, "The optimisation's colours "
          "(default)", "none"},
    {GST_STYLE_FILTER_COLOR_MODE_LUMINANCE, "Keep the video's colours, take "
          "the result's luminance (as preserve-colors)", "luminance"},
    {GST_STYLE_FILTER_COLOR_MODE_HISTOGRAM, "Match the style images' RGB "
          "mean and covariance to the video's before their Gram matrices",
        "histogram"},
    {0, NULL, NULL},
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstStyleFilterColorMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}
