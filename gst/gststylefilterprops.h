/* gststylefilterprops.h - the stylefilter element's properties: their
 * ids, defaults and limits, shared by the element (gststylefilter.c: the
 * settings' defaults) and gststylefilterprops.c (their installation and
 * set/get).
 *
 * Copyright (C) 2025 gst-stylefilter contributors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_STYLE_FILTER_PROPS_H__
#define __GST_STYLE_FILTER_PROPS_H__

#include "gststylefilter.h"

G_BEGIN_DECLS

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

/* Installs the properties on the class (class_init). */
void gst_style_filter_install_properties (GObjectClass * gobject_class);
void gst_style_filter_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec);
void gst_style_filter_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec);

G_END_DECLS
#endif /* __GST_STYLE_FILTER_PROPS_H__ */
