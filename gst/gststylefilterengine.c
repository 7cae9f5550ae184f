/* gststylefilterengine.c - the engine objects of a stylefilter (device,
 * network, stylizer, style target) kept up to date with its settings.
 *
 * Copyright (C) 2025 gst-stylefilter contributors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * Called from start() and from the streaming thread (set_info,
 * transform_frame) only, never at the same time and never with the object
 * lock held: they work on a copy of the settings.  Every failure posts one
 * error on the element, naming the property to fix, and returns FALSE;
 * after it, nothing is tried (or posted) again until the next start.  One
 * rule for style-location, model-location and device changed while
 * playing: a change that fails posts a warning naming the property, and
 * the style, network or device in force stays.
 *
 * Which error for which failure:
 *   style image      GST_RESOURCE_ERROR_NOT_FOUND (unset, no such file),
 *                    GST_RESOURCE_ERROR_OPEN_READ (unreadable, directory),
 *                    GST_STREAM_ERROR_DECODE (not a decodable image)
 *   model file       GST_RESOURCE_ERROR_NOT_FOUND, _OPEN_READ, and
 *                    GST_RESOURCE_ERROR_SETTINGS (not a VGG-19 safetensors)
 *   Vulkan device    GST_LIBRARY_ERROR_INIT (no loader, driver or match)
 *   size or memory   GST_RESOURCE_ERROR_NO_SPACE_LEFT (SF_ERROR_TOO_LARGE,
 *                    SF_ERROR_OUT_OF_MEMORY)
 *   anything else    GST_LIBRARY_ERROR_INIT at set-up, _FAILED later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "gststylefilter.h"
#include "sf-pyramid.h"

GST_DEBUG_CATEGORY_EXTERN (gst_style_filter_debug);

void
gst_style_filter_post_engine_error (GstStyleFilter * filter,
    const GError * err, gint library_code, gchar * space_text,
    gchar * other_text)
{
  gboolean space = g_error_matches (err, SF_ERROR, SF_ERROR_TOO_LARGE)
      || g_error_matches (err, SF_ERROR, SF_ERROR_OUT_OF_MEMORY);

  gst_element_message_full (GST_ELEMENT (filter), GST_MESSAGE_ERROR,
      space ? GST_RESOURCE_ERROR : GST_LIBRARY_ERROR,
      space ? GST_RESOURCE_ERROR_NO_SPACE_LEFT : library_code,
      space ? space_text : other_text, g_strdup (err->message), __FILE__,
      GST_FUNCTION, __LINE__);
  g_free (space ? other_text : space_text);
}

/* The engine's log lines (domain "sfengine": a Vulkan call that failed,
 * with file, line and VkResult; GPU time unavailable; a setting the device
 * cannot honour) in the element's debug category, where GST_DEBUG shows
 * them, instead of on stderr. */
static void
route_engine_log (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  GstDebugLevel gl = (level & G_LOG_LEVEL_WARNING) ? GST_LEVEL_WARNING
      : (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) ? GST_LEVEL_INFO
      : GST_LEVEL_DEBUG;

  GST_CAT_LEVEL_LOG (gst_style_filter_debug, gl, NULL, "%s: %s", domain,
      message);
}

void
gst_style_filter_route_engine_log (void)
{
  /* criticals and errors keep GLib's handler: they are bugs */
  g_log_set_handler ("sfengine", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE
      | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG, route_engine_log, NULL);
}
#define GST_CAT_DEFAULT gst_style_filter_debug


/* The stylizer and its half-size companion for coarse-to-fine starts. */
void
gst_style_filter_free_stylizer (GstStyleFilter * filter)
{
  g_clear_pointer (&filter->coarse, sf_stylizer_free);
  g_clear_pointer (&filter->stylizer, sf_stylizer_free);
  gst_style_filter_forget_last (filter);
}

void
gst_style_filter_free_engine (GstStyleFilter * filter)
{
  gst_style_filter_free_stylizer (filter);
  g_clear_pointer (&filter->net, sf_net_free);
  g_clear_pointer (&filter->dev, sf_device_free);
  gst_style_filter_styles_clear (filter);
  filter->dev_serial = filter->net_serial = 0;
}

/* The optimisation size for a frame: the longest side processing_size (0:
 * the frame's own; never more than the frame's own unless upscale), the
 * other by aspect, both at least 16. */
static void
gst_style_filter_get_processing_size (gint processing_size, gboolean upscale,
    gint width, gint height, gint * pw, gint * ph)
{
  if (!upscale && processing_size > MAX (width, height))
    processing_size = 0;
  if (processing_size <= 0) {
    *pw = width;
    *ph = height;
  } else if (width >= height) {
    *pw = processing_size;
    *ph = (gint) gst_util_uint64_scale_int_round (processing_size, height,
        width);
  } else {
    *ph = processing_size;
    *pw = (gint) gst_util_uint64_scale_int_round (processing_size, width,
        height);
  }
  *pw = MAX (*pw, MIN_PROCESSING_SIDE);
  *ph = MAX (*ph, MIN_PROCESSING_SIDE);
}

/* The headline for a device selector that matched nothing usable. */
static gchar *
gst_style_filter_device_fault_text (const GstStyleFilterSettings * s,
    gboolean fatal)
{
  const gchar *env = g_getenv ("STYLEFILTER_DEVICE");
  const gchar *tail = fatal ? "" : " Keeping the previous device.";

  if (s->device && s->device[0])
    return g_strdup_printf ("No usable Vulkan device matches \"%s\"; check "
        "the device property (an index or part of a name, empty = "
        "automatic).%s", s->device, tail);
  if (env && env[0])
    return g_strdup_printf ("No usable Vulkan device matches \"%s\", the "
        "STYLEFILTER_DEVICE environment variable; unset it or set it to an "
        "index or part of a device name.%s", env, tail);
  return g_strdup_printf ("No usable Vulkan device; install a Vulkan driver "
      "(mesa-vulkan-drivers provides lavapipe) or set the device "
      "property.%s", tail);
}

/* Opens the Vulkan device if there is none or device changed.  While
 * playing, a device that cannot be opened is a warning and the previous
 * one stays in use. */
gboolean
gst_style_filter_update_device (GstStyleFilter * filter,
    const GstStyleFilterSettings * s)
{
  GError *err = NULL;
  SfDevice *dev;

  if (filter->dev && filter->dev_serial == s->device_serial)
    return TRUE;

  /* the device property, else STYLEFILTER_DEVICE */
  dev = sf_device_new (sf_device_selector_from_env (s->device), &err);
  if (dev == NULL) {
    gboolean fatal = filter->dev == NULL;

    /* the engine's message lists the devices */
    POST_FAULT (filter, fatal, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT,
        gst_style_filter_device_fault_text (s, fatal),
        g_strdup (err->message));
    g_clear_error (&err);
    filter->dev_serial = s->device_serial;
    return !fatal;
  }

  gst_style_filter_free_stylizer (filter);
  g_clear_pointer (&filter->net, sf_net_free);
  g_clear_pointer (&filter->dev, sf_device_free);
  gst_style_filter_styles_forget_uploads (filter);
  filter->dev = dev;
  filter->dev_serial = s->device_serial;
  /* the net must follow the device */
  filter->net_serial = 0;

  GST_INFO_OBJECT (filter, "using Vulkan device %s", sf_device_get_name (dev));
  GST_OBJECT_LOCK (filter);
  g_free (filter->device_name);
  filter->device_name = g_strdup (sf_device_get_name (dev));
  GST_OBJECT_UNLOCK (filter);
  g_object_notify (G_OBJECT (filter), "device-name");
  return TRUE;
}

/* The weights model-location (or the seed) names; on failure sets err in
 * GST_RESOURCE_ERROR with the headline as its message and *debug. */
static SfVggWeights *
gst_style_filter_load_weights (const GstStyleFilterSettings * s,
    gchar ** debug, GError ** err)
{
  const gchar *loc = s->model_location;
  const gchar *hint = "check the model-location property (empty = the "
      "embedded default network)";
  GError *lerr = NULL;
  SfVggWeights *w;

  if (loc == NULL || loc[0] == '\0')
    return sf_vgg_weights_new_embedded (s->seed,
        s->network == GST_STYLE_FILTER_NETWORK_RANDOM ? SF_VGG_INIT_RANDOM :
        SF_VGG_INIT_STRUCTURED);
  if (g_file_test (loc, G_FILE_TEST_IS_DIR)) {
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "Model file \"%s\" is a directory, not a safetensors file; %s.", loc,
        hint);
    *debug = g_strdup_printf ("%s is a directory", loc);
    return NULL;
  }
  if (!g_file_test (loc, G_FILE_TEST_EXISTS)) {
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "Model file \"%s\" not found; %s.", loc, hint);
    *debug = g_strdup_printf ("no such file: %s", loc);
    return NULL;
  }
  if ((w = sf_vgg_weights_load (loc, &lerr)))
    return w;
  if (lerr->domain == SF_MODEL_ERROR && lerr->code == SF_MODEL_ERROR_IO)
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "Cannot read the model file \"%s\"; %s and the file's "
        "permissions.", loc, hint);
  else
    g_set_error (err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
        "Model file \"%s\" is not a valid VGG-19 safetensors file; %s.",
        loc, hint);
  *debug = g_strdup (lerr->message);
  g_clear_error (&lerr);
  return NULL;
}

/* Loads the weights and uploads the network if there is none or
 * model-location, pooling or seed changed.  While playing, a model that
 * cannot be loaded is a warning and the previous network stays in use. */
gboolean
gst_style_filter_update_net (GstStyleFilter * filter,
    const GstStyleFilterSettings * s)
{
  SfVggWeights *weights;
  SfNetOptions options;
  gchar *debug = NULL;
  GError *err = NULL;
  SfNet *net;

  if (filter->net && filter->net_serial == s->net_serial)
    return TRUE;

  if (!(weights = gst_style_filter_load_weights (s, &debug, &err))) {
    gboolean fatal = filter->net == NULL;

    POST_FAULT (filter, fatal, err->domain, err->code,
        fatal ? g_strdup (err->message) : g_strdup_printf ("%s Keeping the "
            "previous network.", err->message), debug);
    g_clear_error (&err);
    filter->net_serial = s->net_serial;
    return !fatal;
  }

  gst_style_filter_free_stylizer (filter);
  g_clear_pointer (&filter->net, sf_net_free);
  gst_style_filter_styles_forget_uploads (filter);
  /* STYLEFILTER_CONV and STYLEFILTER_PRECISION (README, The engine) */
  sf_net_options_from_env (filter->dev, &options);
  net = sf_net_new_with_options (filter->dev, weights,
      s->pooling == GST_STYLE_FILTER_POOLING_AVG ? SF_POOL_AVG : SF_POOL_MAX,
      &options, &err);
  sf_vgg_weights_free (weights);
  if (net == NULL) {
    const gchar *name = sf_device_get_name (filter->dev);

    gst_style_filter_post_engine_error (filter, err, GST_LIBRARY_ERROR_INIT,
        g_strdup_printf ("Not enough memory on the Vulkan device \"%s\" for "
            "the network; choose another device with the device property.",
            name),
        g_strdup_printf ("Cannot set up the network on the Vulkan device "
            "\"%s\".", name));
    g_clear_error (&err);
    return FALSE;
  }
  filter->net = net;
  filter->net_serial = s->net_serial;
  return TRUE;
}

/* Creates the stylizer for frames of width x height unless the current one
 * has the right size; a new stylizer starts a new sequence. */
static gboolean
gst_style_filter_update_stylizer (GstStyleFilter * filter,
    const GstStyleFilterSettings * s, gint width, gint height)
{
  GError *err = NULL;
  gint pw, ph;

  gst_style_filter_get_processing_size (s->processing_size, s->upscale,
      width, height, &pw, &ph);
  if (filter->stylizer && sf_stylizer_get_width (filter->stylizer) == pw
      && sf_stylizer_get_height (filter->stylizer) == ph)
    return TRUE;

  gst_style_filter_free_stylizer (filter);
  gst_style_filter_styles_forget_uploads (filter);
  filter->new_sequence = TRUE;

  GST_DEBUG_OBJECT (filter, "processing %dx%d frames at %dx%d", width, height,
      pw, ph);
  filter->stylizer = sf_stylizer_new (filter->net, pw, ph, &err);
  if (filter->stylizer == NULL) {
    const gchar *name = sf_device_get_name (filter->dev);

    gst_style_filter_post_engine_error (filter, err, GST_LIBRARY_ERROR_INIT,
        g_strdup_printf ("Processing size %dx%d is too large for the Vulkan "
            "device \"%s\"; lower the processing-size property.", pw, ph,
            name),
        g_strdup_printf ("Cannot set up style transfer at %dx%d on the "
            "Vulkan device \"%s\".", pw, ph, name));
    g_clear_error (&err);
    return FALSE;
  }
  sf_stylizer_set_cancel_flag (filter->stylizer, &filter->cancel);
  return TRUE;
}

/* With coarse-to-fine, the half-size companion of the stylizer for frames
 * that start afresh, made when first needed; without it (the property
 * off, the size too small, no memory for it) those run at full size. */
static void
gst_style_filter_update_coarse (GstStyleFilter * filter,
    const GstStyleFilterSettings * s)
{
  GError *err = NULL;
  gint cw, ch;

  if (!s->coarse_to_fine) {
    g_clear_pointer (&filter->coarse, sf_stylizer_free);
    return;
  }
  if (filter->coarse || !sf_stylizer_coarse_size (sf_stylizer_get_width
          (filter->stylizer), sf_stylizer_get_height (filter->stylizer), &cw,
          &ch))
    return;
  filter->coarse = sf_stylizer_new (filter->net, cw, ch, &err);
  if (!filter->coarse) {
    GST_WARNING_OBJECT (filter, "no coarse-to-fine start at %dx%d: %s", cw,
        ch, err->message);
    g_clear_error (&err);
    return;
  }
  sf_stylizer_set_cancel_flag (filter->coarse, &filter->cancel);
  gst_style_filter_upload_coarse_styles (filter, s);
}

/* Brings the engine objects up to date with the settings for frames of
 * width x height.  Errors are posted; FALSE means stop streaming. */
gboolean
gst_style_filter_update_engine (GstStyleFilter * filter,
    const GstStyleFilterSettings * s, gint width, gint height)
{
  /* one fault, one error: after it nothing is tried again until the
   * element starts again (set_info is called again for every buffer of a
   * failed negotiation) */
  if (filter->errored)
    return FALSE;
  if (!gst_style_filter_update_style_images (filter, s, FALSE)
      || !gst_style_filter_update_device (filter, s)
      || !gst_style_filter_update_net (filter, s)
      || !gst_style_filter_update_stylizer (filter, s, width, height)
      || !gst_style_filter_upload_styles (filter, s)) {
    filter->errored = TRUE;
    return FALSE;
  }
  gst_style_filter_update_coarse (filter, s);
  return TRUE;
}
