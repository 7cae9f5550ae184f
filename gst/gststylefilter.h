/* gststylefilter.h - the stylefilter element: neural style transfer of video
 * frames (Gatys et al.) on the Vulkan compute engine in engine/.
 *
 * Copyright (C) 2025 gst-stylefilter contributors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_STYLE_FILTER_H__
#define __GST_STYLE_FILTER_H__

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>

#include "sf-engine.h"
#include "gststyleimage.h"

G_BEGIN_DECLS

/**
 * GstStyleFilterWarmStart:
 * @GST_STYLE_FILTER_WARM_START_NONE: every frame starts from its content
 * @GST_STYLE_FILTER_WARM_START_PREVIOUS: start from the previous result and
 *   add the temporal loss
 * @GST_STYLE_FILTER_WARM_START_FLOW: start from the previous result warped
 *   along the optical flow, the content where the flow is unreliable, and
 *   add the temporal loss towards the warped result (default)
 *
 * Where the optimisation of a frame starts.
 */
typedef enum
{
  GST_STYLE_FILTER_WARM_START_NONE = 0,
  GST_STYLE_FILTER_WARM_START_PREVIOUS = 1,
  GST_STYLE_FILTER_WARM_START_FLOW = 2,
} GstStyleFilterWarmStart;

/**
 * GstStyleFilterOptimizer:
 * @GST_STYLE_FILTER_OPTIMIZER_LBFGS: L-BFGS (default)
 * @GST_STYLE_FILTER_OPTIMIZER_ADAM: Adam
 */
typedef enum
{
  GST_STYLE_FILTER_OPTIMIZER_LBFGS = 0,
  GST_STYLE_FILTER_OPTIMIZER_ADAM = 1,
} GstStyleFilterOptimizer;

/**
 * GstStyleFilterPooling:
 * @GST_STYLE_FILTER_POOLING_MAX: max pooling, as VGG-19 was trained
 * @GST_STYLE_FILTER_POOLING_AVG: average pooling, as Gatys et al. suggest
 *   (default)
 */
typedef enum
{
  GST_STYLE_FILTER_POOLING_MAX = 0,
  GST_STYLE_FILTER_POOLING_AVG = 1,
} GstStyleFilterPooling;

/**
 * GstStyleFilterColorMode:
 * @GST_STYLE_FILTER_COLOR_MODE_NONE: the colours the optimisation gives
 *   (default)
 * @GST_STYLE_FILTER_COLOR_MODE_LUMINANCE: keep the video's colours and
 *   take the result's luminance (as preserve-colors)
 * @GST_STYLE_FILTER_COLOR_MODE_HISTOGRAM: match the style images' RGB mean
 *   and covariance to the video's (measured on the first frame of each
 *   sequence) before their Gram matrices are taken
 *
 * Colour control (Gatys et al. 2017).
 */
typedef enum
{
  GST_STYLE_FILTER_COLOR_MODE_NONE = 0,
  GST_STYLE_FILTER_COLOR_MODE_LUMINANCE = 1,
  GST_STYLE_FILTER_COLOR_MODE_HISTOGRAM = 2,
} GstStyleFilterColorMode;

/**
 * GstStyleFilterNetwork:
 * @GST_STYLE_FILTER_NETWORK_STRUCTURED: a fixed first layer of edge and
 *   colour-opponent filters under seeded random deeper layers (default)
 * @GST_STYLE_FILTER_NETWORK_RANDOM: every layer seeded random, the
 *   earlier default (kept for reproducing earlier results)
 *
 * The embedded VGG-19 used when model-location is empty.
 */
typedef enum
{
  GST_STYLE_FILTER_NETWORK_STRUCTURED = 0,
  GST_STYLE_FILTER_NETWORK_RANDOM = 1,
} GstStyleFilterNetwork;

/**
 * GstStyleFilterStyleLayers:
 * @GST_STYLE_FILTER_STYLE_LAYER_RELU1_1: relu1_1 (full size: colour, grain)
 * @GST_STYLE_FILTER_STYLE_LAYER_RELU2_1: relu2_1 (half size)
 * @GST_STYLE_FILTER_STYLE_LAYER_RELU3_1: relu3_1 (quarter size)
 * @GST_STYLE_FILTER_STYLE_LAYER_RELU4_1: relu4_1 (eighth size)
 * @GST_STYLE_FILTER_STYLE_LAYER_RELU5_1: relu5_1 (sixteenth size: a few
 *   pixels across at small processing sizes)
 *
 * The VGG-19 layers whose Gram matrices carry the style; the style loss is
 * their mean.
 */
typedef enum
{
  GST_STYLE_FILTER_STYLE_LAYER_RELU1_1 = 1 << 0,
  GST_STYLE_FILTER_STYLE_LAYER_RELU2_1 = 1 << 1,
  GST_STYLE_FILTER_STYLE_LAYER_RELU3_1 = 1 << 2,
  GST_STYLE_FILTER_STYLE_LAYER_RELU4_1 = 1 << 3,
  GST_STYLE_FILTER_STYLE_LAYER_RELU5_1 = 1 << 4,
} GstStyleFilterStyleLayers;

/**
 * GstStyleFilterFlowWarp:
 * @GST_STYLE_FILTER_FLOW_WARP_BILINEAR: bilinear resampling of the previous
 *   result (a low-pass filter at every frame: the video blurs over time)
 * @GST_STYLE_FILTER_FLOW_WARP_BICUBIC: Catmull-Rom bicubic resampling of the
 *   previous result (the steadiest, but a pan blurs over the frames)
 * @GST_STYLE_FILTER_FLOW_WARP_STYLE: warp only what the style added: the
 *   current content frame, cored in time (changes below the noise level
 *   dropped), plus the previous result's difference to the previous
 *   content, warped bicubic: sharp on moving footage, steady on a still,
 *   noisy shot (default)
 *
 * How warm-start=flow carries the previous result into the current frame.
 */
typedef enum
{
  GST_STYLE_FILTER_FLOW_WARP_BILINEAR = 0,
  GST_STYLE_FILTER_FLOW_WARP_BICUBIC = 1,
  GST_STYLE_FILTER_FLOW_WARP_STYLE = 2,
} GstStyleFilterFlowWarp;

#define GST_TYPE_STYLE_FILTER_FLOW_WARP (gst_style_filter_flow_warp_get_type ())
GType gst_style_filter_flow_warp_get_type (void);
#define GST_TYPE_STYLE_FILTER_WARM_START (gst_style_filter_warm_start_get_type ())
GType gst_style_filter_warm_start_get_type (void);
#define GST_TYPE_STYLE_FILTER_OPTIMIZER (gst_style_filter_optimizer_get_type ())
GType gst_style_filter_optimizer_get_type (void);
#define GST_TYPE_STYLE_FILTER_POOLING (gst_style_filter_pooling_get_type ())
GType gst_style_filter_pooling_get_type (void);
#define GST_TYPE_STYLE_FILTER_COLOR_MODE (gst_style_filter_color_mode_get_type ())
GType gst_style_filter_color_mode_get_type (void);
#define GST_TYPE_STYLE_FILTER_NETWORK (gst_style_filter_network_get_type ())
GType gst_style_filter_network_get_type (void);
#define GST_TYPE_STYLE_FILTER_STYLE_LAYERS (gst_style_filter_style_layers_get_type ())
GType gst_style_filter_style_layers_get_type (void);

/* The property values, copied as a whole under the object lock.  The
 * serials count changes of the settings that need more than a new
 * parameter at the next frame. */
typedef struct
{
  gchar *style_location;
  gchar **style_locations;      /* style-locations; NULL: style-location */
  gdouble *blend_weights;       /* style-blend-weights; NULL: equal */
  guint n_blend_weights;
  gdouble style_blend;          /* style-blend; < 0: off */
  gchar *model_location;
  gint iterations;
  gint first_iterations;
  gdouble content_weight;
  gdouble style_weight;
  gdouble tv_weight;
  gdouble range_weight;
  gdouble temporal_weight;
  GstStyleFilterWarmStart warm_start;
  GstStyleFilterOptimizer optimizer;
  gdouble learning_rate;
  gint processing_size;
  GstStyleFilterPooling pooling;
  GstStyleFilterStyleLayers style_layers;
  GstStyleFilterNetwork network;
  gboolean preserve_colors;
  GstStyleFilterColorMode color_mode;
  gdouble style_scale;
  gchar *device;
  guint64 seed;
  gdouble scene_threshold;
  gint max_frame_time;          /* ms, 0 = off */
  GstStyleFilterFlowWarp flow_warp;
  gboolean coarse_to_fine;
  gboolean upscale;             /* processing-size may exceed the frame */
  gdouble detail;               /* the frame's fine detail added back */

  guint style_serial;           /* style-location, style-locations */
  guint blend_serial;           /* style-blend-weights, style-blend */
  guint net_serial;             /* model-location, pooling, seed, network */
  guint device_serial;          /* device */
} GstStyleFilterSettings;

/* Bits of GstStyleFilter.cancel: why the optimisation must stop now. */
#define GST_STYLE_FILTER_CANCEL_FLUSHING 1      /* flush or going to READY:
                                                 * the frame is dropped */
#define GST_STYLE_FILTER_CANCEL_DRAIN 2 /* the drain property: the frame
                                         * goes out as it is */

/* Frames averaged for the latency estimate. */
#define GST_STYLE_FILTER_LATENCY_FRAMES 8

#define GST_TYPE_STYLE_FILTER (gst_style_filter_get_type ())
G_DECLARE_FINAL_TYPE (GstStyleFilter, gst_style_filter, GST, STYLE_FILTER,
    GstVideoFilter)

struct _GstStyleFilter
{
  GstVideoFilter videofilter;

  /* < private > */
  /* protected by the object lock */
  GstStyleFilterSettings settings;
  gchar *device_name;
  gboolean reset_pending;       /* a flush or a new segment was seen */
  gdouble frame_ms[GST_STYLE_FILTER_LATENCY_FRAMES];
  guint n_frame_ms;
  GstClockTime latency;         /* the estimate last reported */

  /* atomic, any thread: GST_STYLE_FILTER_CANCEL_* bits; the stylizers
   * read it before every loss evaluation */
  gint cancel;

  /* engine state, used by start/stop/set_info/transform_frame only, which
   * never run at the same time; no lock is held while they use the GPU */
  SfDevice *dev;
  SfNet *net;
  SfStylizer *stylizer;
  SfStylizer *coarse;           /* half size, for coarse-to-fine starts
                                 * (NULL: none) */
  /* the style images (gststylefilterstyles.c): decoded at native size,
   * what each was decoded from ("" the built-in style), the size each was
   * uploaded to the stylizer at (0: not uploaded), the blend in force */
  GstStyleImage *styles[SF_MAX_STYLES];
  gchar *style_paths[SF_MAX_STYLES];
  guint n_styles;
  gint style_w[SF_MAX_STYLES], style_h[SF_MAX_STYLES];
  gdouble blend[SF_MAX_STYLES]; /* the blend weights in force */
  gboolean blend_stale;         /* the stylizer's blend must be redone */
  /* color-mode=histogram: the video's RGB mean and covariance the styles
   * were matched to (valid), and the mode they were uploaded under */
  gdouble color_mean[3];
  gdouble color_cov[3][3];
  gboolean color_valid;
  GstStyleFilterColorMode color_mode;
  guint dev_serial;
  guint net_serial;
  guint style_serial;
  guint blend_serial;
  guint warned_style_serial;    /* a list and weights that do not match: */
  guint warned_blend_serial;    /* warned once for this pair */
  gboolean new_sequence;         /* the next frame starts a sequence */
  gboolean warned_non_finite;   /* the non-finite loss warning was posted */
  gboolean errored;             /* an error was posted since start() */
  guint64 frame_count;
  /* the last frame sent (gststylefilterframe.c): its input's hash and
   * timestamp, the settings it was made with and its loss terms, so that
   * the same frame asked for again after a flush (an editor's seek to
   * where it stands: GES prerolls, then seeks to the start) is sent again
   * from the stylizer's previous result instead of optimised afresh */
  gboolean last_valid;
  guint64 last_hash;
  GstClockTime last_pts;
  gint last_width, last_height, last_format;
  GstStyleFilterSettings last_settings;
  SfLossTerms last_terms;
};

GST_ELEMENT_REGISTER_DECLARE (stylefilter);

/* gststylefilter.c: copying the settings (with the object lock held) and
 * freeing a copy's strings. */
void gst_style_filter_settings_copy (GstStyleFilterSettings * dst,
    const GstStyleFilterSettings * src);
void gst_style_filter_settings_clear (GstStyleFilterSettings * s);

/* gststylefilterframe.c: stylizes one frame (the transform_frame vfunc). */
GstFlowReturn gst_style_filter_process_frame (GstStyleFilter * filter,
    GstVideoFrame * in_frame, GstVideoFrame * out_frame);
/* Forgets the last frame sent (its stylizer is gone). */
void gst_style_filter_forget_last (GstStyleFilter * filter);

/* The engine's smallest optimisation size. */
#define MIN_PROCESSING_SIDE 16
/* Longest side of the scaled style image (3 x 4096 x 4096 floats on the
 * host are 200 MB; no device holds much more in one buffer). */
#define MAX_STYLE_SIDE 4096

/* Posts a fault as an error when fatal (at start, or nothing to fall
 * back on) or else as a warning: one rule for the style images,
 * model-location and device.  Takes text and debug. */
#define POST_FAULT(filter, fatal, domain, code, text, debug) \
  gst_element_message_full (GST_ELEMENT (filter), \
      (fatal) ? GST_MESSAGE_ERROR : GST_MESSAGE_WARNING, (domain), (code), \
      (text), (debug), __FILE__, GST_FUNCTION, __LINE__)

/* gststylefilterstyles.c: the style images (style-location or
 * style-locations), decoded when they change (at start fatal: a failure
 * is an error, else a warning and the styles in force stay), uploaded to
 * the stylizers at style-scale and blended with style-blend-weights. */
gboolean gst_style_filter_strv_from_array (const GValue * value,
    gchar *** out);
gboolean gst_style_filter_weights_from_array (const GValue * value,
    gdouble ** out, guint * n, gchar ** why);
gboolean gst_style_filter_update_style_images (GstStyleFilter * filter,
    const GstStyleFilterSettings * s, gboolean fatal);
gboolean gst_style_filter_upload_styles (GstStyleFilter * filter,
    const GstStyleFilterSettings * s);
void gst_style_filter_upload_coarse_styles (GstStyleFilter * filter,
    const GstStyleFilterSettings * s);
void gst_style_filter_styles_forget_uploads (GstStyleFilter * filter);
void gst_style_filter_styles_measure_colors (GstStyleFilter * filter,
    GstVideoFrame * frame, GstStyleFilterColorMode mode, gboolean restart);
/* At a scene cut under color-mode=histogram: the styles matched to the
 * new shot's colours and uploaded again (one VGG pass per style); posts
 * its errors. */
gboolean gst_style_filter_styles_rematch_colors (GstStyleFilter * filter,
    GstVideoFrame * frame, const GstStyleFilterSettings * s);
void gst_style_filter_styles_clear (GstStyleFilter * filter);

/* gststylefilterengine.c, private to the plugin: bringing the engine
 * objects up to date with a copy of the settings.  Each posts its errors
 * and returns FALSE on failure. */
void gst_style_filter_free_engine (GstStyleFilter * filter);
/* Posts err, an engine failure, as the element's ERROR: SF_ERROR_TOO_LARGE
 * and SF_ERROR_OUT_OF_MEMORY as GST_RESOURCE_ERROR_NO_SPACE_LEFT with
 * space_text (what to lower), anything else as GST_LIBRARY_ERROR
 * library_code (INIT at set-up, FAILED later) with other_text; the
 * engine's message is the debug text.  Takes both texts. */
void gst_style_filter_post_engine_error (GstStyleFilter * filter,
    const GError * err, gint library_code, gchar * space_text,
    gchar * other_text);
/* Sends the engine's log domain ("sfengine") to the stylefilter debug
 * category (class_init, once). */
void gst_style_filter_route_engine_log (void);
void gst_style_filter_free_stylizer (GstStyleFilter * filter);
gboolean gst_style_filter_update_device (GstStyleFilter * filter,
    const GstStyleFilterSettings * s);
gboolean gst_style_filter_update_net (GstStyleFilter * filter,
    const GstStyleFilterSettings * s);
gboolean gst_style_filter_update_engine (GstStyleFilter * filter,
    const GstStyleFilterSettings * s, gint width, gint height);

G_END_DECLS

#endif /* __GST_STYLE_FILTER_H__ */
