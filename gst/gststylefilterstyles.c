/* gststylefilterstyles.c - the style images of a stylefilter: which ones
 * (style-location, or the list style-locations), decoded when they change,
 * uploaded to the stylizers at style-scale x the processing size, and
 * blended with style-blend-weights or the cross-fade position style-blend
 * (the engine's sf_stylizer_blend_styles: the target Gram is
 * sum_i w_i G(s_i), weights normalised to sum 1).
 *
 * Copyright (C) 2025 gst-stylefilter contributors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * Costs: a new style-location is decoded again (the file may have
 * changed); a new style-locations list decodes only the entries whose path
 * changed; new blend weights re-blend the cached Grams on the GPU, with no
 * decode and no VGG pass.  A list and a weights list of different lengths
 * fail at start; while playing they post one warning and the styles in
 * force stay until the two agree (set the list and the weights in either
 * order).  Called from start() and the streaming thread only, never with
 * the object lock held.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>

#include "gststylefilter.h"

GST_DEBUG_CATEGORY_EXTERN (gst_style_filter_debug);
#define GST_CAT_DEFAULT gst_style_filter_debug

/* The headline for style image `loc` (entry `entry` of style-locations,
 * from 1; 0: style-location) that failed with err. */
static gchar *
style_fault_text (const GError * err, const gchar * loc, guint entry,
    gboolean fatal)
{
  gchar *what = entry ? g_strdup_printf ("Style image \"%s\" (entry %u of "
      "style-locations)", loc, entry) : g_strdup_printf ("Style image "
      "\"%s\"", loc);
  const gchar *prop = entry ? "style-locations" : "style-location";
  gchar *tail = fatal ? g_strdup_printf ("check the %s property", prop) :
      g_strdup_printf ("%s ignored, keeping the previous style", prop);
  gchar *text;

  if (err->domain == GST_RESOURCE_ERROR
      && err->code == GST_RESOURCE_ERROR_NOT_FOUND)
    text = g_strdup_printf ("%s not found; %s.", what, tail);
  else if (err->domain == GST_RESOURCE_ERROR && g_file_test (loc,
          G_FILE_TEST_IS_DIR))
    text = g_strdup_printf ("%s is a directory, not an image file; %s.",
        what, tail);
  else if (err->domain == GST_RESOURCE_ERROR)
    text = g_strdup_printf ("Cannot read %s%s; %s%s.", entry ? "" : "the ",
        what, tail, fatal ? " and the file's permissions" : "");
  else
    text = g_strdup_printf ("Cannot decode %s%s; %s%s.", entry ? "" : "the ",
        what, tail, fatal ? " (an image GStreamer can decode)" : "");
  g_free (what);
  g_free (tail);
  return text;
}

/* A GstValueArray of strings as a NULL-terminated vector (NULL when
 * empty); FALSE if an entry is not a string. */
gboolean
gst_style_filter_strv_from_array (const GValue * value, gchar *** out)
{
  guint n = gst_value_array_get_size (value);
  gchar **v = g_new0 (gchar *, n + 1);

  for (guint i = 0; i < n; i++) {
    const GValue *e = gst_value_array_get_value (value, i);
    if (!G_VALUE_HOLDS_STRING (e) || !g_value_get_string (e)) {
      g_strfreev (v);
      return FALSE;
    }
    v[i] = g_value_dup_string (e);
  }
  if (n == 0)
    g_clear_pointer (&v, g_free);
  *out = v;
  return TRUE;
}

/* A GstValueArray of doubles >= 0, not all 0 (empty: none); else NULL
 * with *why. */
gboolean
gst_style_filter_weights_from_array (const GValue * value, gdouble ** out, guint * n,
    gchar ** why)
{
  guint len = gst_value_array_get_size (value);
  gdouble *w = g_new0 (gdouble, MAX (len, 1)), sum = 0.0;

  for (guint i = 0; i < len; i++) {
    const GValue *e = gst_value_array_get_value (value, i);
    if (G_VALUE_HOLDS_DOUBLE (e))
      w[i] = g_value_get_double (e);
    else if (G_VALUE_HOLDS_INT (e))
      w[i] = g_value_get_int (e);
    else
      w[i] = NAN;
    if (!(w[i] >= 0.0) || !isfinite (w[i])) {
      *why = g_strdup_printf ("entry %u is not a number >= 0", i + 1);
      g_free (w);
      return FALSE;
    }
    sum += w[i];
  }
  if (len > 0 && !(sum > 0.0)) {
    *why = g_strdup ("the weights are all 0");
    g_free (w);
    return FALSE;
  }
  if (len == 0)
    g_clear_pointer (&w, g_free);
  *out = w;
  *n = len;
  return TRUE;
}

/* The paths wanted by s (borrowed; "" is the built-in style); their count,
 * which may exceed SF_MAX_STYLES (only the first SF_MAX_STYLES are
 * filled). */
static guint
wanted_styles (const GstStyleFilterSettings * s, const gchar ** paths)
{
  guint n;

  if (!s->style_locations || !s->style_locations[0]) {
    paths[0] = s->style_location ? s->style_location : "";
    return 1;
  }
  n = g_strv_length (s->style_locations);
  for (guint i = 0; i < MIN (n, SF_MAX_STYLES); i++)
    paths[i] = s->style_locations[i];
  return n;
}

static GstStyleImage *
decode_style (GstStyleFilter * filter, const gchar * loc, GError ** err)
{
  GstStyleImage *image;

  if (loc[0] != '\0')
    return gst_style_image_load (loc, err);
  image = gst_style_image_load_default (err);
  if (image)
    GST_ELEMENT_INFO (filter, RESOURCE, SETTINGS,
        ("No style-location set: painting in the built-in style, The "
            "Scream (Edvard Munch, 1893); set style-location to choose "
            "another."), (NULL));
  return image;
}

/* Lists that cannot be used: too long, or weights of another length.
 * Returns TRUE to go on; *ok is what update_style_images returns. */
static gboolean
check_lists (GstStyleFilter * filter, const GstStyleFilterSettings * s,
    guint n, gboolean fatal, gboolean * ok)
{
  gchar *text;

  if (n <= SF_MAX_STYLES && (s->n_blend_weights == 0
          || s->n_blend_weights == n || s->style_blend >= 0.0))
    return TRUE;
  fatal = fatal || filter->n_styles == 0;
  *ok = !fatal;
  if (!fatal && filter->warned_style_serial == s->style_serial
      && filter->warned_blend_serial == s->blend_serial)
    return FALSE;
  filter->warned_style_serial = s->style_serial;
  filter->warned_blend_serial = s->blend_serial;
  if (n > SF_MAX_STYLES)
    text = g_strdup_printf ("style-locations has %u entries, at most %d; "
        "%s.", n, SF_MAX_STYLES, fatal ? "shorten it" : "keeping the "
        "previous styles");
  else
    text = g_strdup_printf ("style-blend-weights has %u entries for %u "
        "styles; %s.", s->n_blend_weights, n, fatal ? "give one weight per "
        "style-locations entry" : "keeping the previous styles until they "
        "match");
  POST_FAULT (filter, fatal, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
      text, g_strdup_printf ("%u styles, %u weights", n,
          s->n_blend_weights));
  return FALSE;
}

/* Decodes the entries of paths[0..n) that are new (all of them for
 * style-location, which is decoded again whenever it is set) into
 * images[]; on a failure posts it and returns FALSE with nothing kept. */
static gboolean
decode_changed (GstStyleFilter * filter, const GstStyleFilterSettings * s,
    const gchar ** paths, guint n, gboolean fatal, GstStyleImage ** images,
    gboolean * posted_fatal)
{
  gboolean from_list = s->style_locations && s->style_locations[0];

  for (guint i = 0; i < n; i++) {
    GError *err = NULL;

    images[i] = NULL;
    if (from_list && i < filter->n_styles && filter->styles[i]
        && g_strcmp0 (filter->style_paths[i], paths[i]) == 0)
      continue;                 /* unchanged: kept */
    images[i] = decode_style (filter, paths[i], &err);
    if (images[i])
      continue;
    *posted_fatal = fatal || filter->n_styles == 0;
    POST_FAULT (filter, *posted_fatal, err->domain, err->code,
        style_fault_text (err, paths[i], from_list ? i + 1 : 0,
            *posted_fatal), g_strdup (err->message));
    g_clear_error (&err);
    for (guint j = 0; j < i; j++)
      g_clear_pointer (&images[j], gst_style_image_free);
    return FALSE;
  }
  return TRUE;
}

/* The blend weights of s for n styles, normalised by the engine: with
 * style-blend at x >= 0 (clamped to n - 1) a cross-fade, style i weighted
 * max (0, 1 - |x - i|); else style-blend-weights, equal without any. */
static void
take_weights (GstStyleFilter * filter, const GstStyleFilterSettings * s,
    guint n)
{
  gdouble x = MIN (s->style_blend, (gdouble) n - 1.0);

  for (guint i = 0; i < n; i++) {
    if (s->style_blend >= 0.0)
      filter->blend[i] = MAX (0.0, 1.0 - fabs (x - i));
    else
      filter->blend[i] = s->n_blend_weights == n ? s->blend_weights[i] : 1.0;
  }
  filter->blend_stale = TRUE;
}

gboolean
gst_style_filter_update_style_images (GstStyleFilter * filter,
    const GstStyleFilterSettings * s, gboolean fatal)
{
  const gchar *paths[SF_MAX_STYLES];
  GstStyleImage *images[SF_MAX_STYLES];
  gboolean ok = TRUE, posted_fatal = FALSE;
  guint n;

  if (filter->n_styles > 0 && filter->style_serial == s->style_serial
      && filter->blend_serial == s->blend_serial)
    return TRUE;
  n = wanted_styles (s, paths);
  if (!check_lists (filter, s, n, fatal, &ok))
    return ok;
  if (filter->n_styles > 0 && filter->style_serial == s->style_serial) {
    /* the weights alone: a re-blend at the next upload */
    take_weights (filter, s, n);
    filter->blend_serial = s->blend_serial;
    return TRUE;
  }
  filter->style_serial = s->style_serial;
  filter->blend_serial = s->blend_serial;
  if (!decode_changed (filter, s, paths, n, fatal, images, &posted_fatal))
    return !posted_fatal;
  for (guint i = 0; i < SF_MAX_STYLES; i++) {
    if (i < n && !images[i])
      continue;                 /* kept, with its upload */
    g_clear_pointer (&filter->styles[i], gst_style_image_free);
    g_clear_pointer (&filter->style_paths[i], g_free);
    filter->style_w[i] = filter->style_h[i] = 0;
    if (i < n) {
      filter->styles[i] = images[i];
      filter->style_paths[i] = g_strdup (paths[i]);
    }
  }
  filter->n_styles = n;
  take_weights (filter, s, n);
  return TRUE;
}

/* The size of style i scaled to style-scale x the longest side of a
 * stylizer's w x h. */
static void
scaled_size (GstStyleFilter * filter, guint i, const GstStyleFilterSettings
    * s, gint w, gint h, gint * sw, gint * sh)
{
  gint longest = (gint) floor (s->style_scale * MAX (w, h) + 0.5);

  gst_style_image_get_scaled_size (filter->styles[i], MAX (longest, 1),
      MIN_PROCESSING_SIDE, sw, sh);
}

/* Uploads style i at sw x sh to st, its colours matched to the video's
 * under color-mode=histogram. */
static gboolean
upload_one (GstStyleFilter * filter, SfStylizer * st, guint i, gint sw,
    gint sh, GError ** err)
{
  gfloat *rgb = gst_style_image_resample (filter->styles[i], sw, sh);
  gboolean ok;

  if (filter->color_mode == GST_STYLE_FILTER_COLOR_MODE_HISTOGRAM
      && filter->color_valid)
    sf_color_match_to (rgb, sw, sh, filter->color_mean, filter->color_cov);
  ok = sf_stylizer_set_style_image (st, i, rgb, sw, sh, err);

  g_free (rgb);
  return ok;
}

void
gst_style_filter_upload_coarse_styles (GstStyleFilter * filter,
    const GstStyleFilterSettings * s)
{
  gint cw = sf_stylizer_get_width (filter->coarse);
  gint ch = sf_stylizer_get_height (filter->coarse);
  GError *err = NULL;
  gboolean ok = TRUE;

  for (guint i = 0; ok && i < filter->n_styles; i++) {
    gint sw, sh;
    scaled_size (filter, i, s, cw, ch, &sw, &sh);
    ok = upload_one (filter, filter->coarse, i, sw, sh, &err);
  }
  ok = ok && sf_stylizer_blend_styles (filter->coarse, filter->blend,
      filter->n_styles, &err);
  if (!ok) {
    /* the frames that start afresh then run at full size */
    GST_WARNING_OBJECT (filter, "no coarse-to-fine start: %s", err->message);
    g_clear_error (&err);
    g_clear_pointer (&filter->coarse, sf_stylizer_free);
  }
}

/* Posts the failure of an upload or blend as an error naming what to
 * change. */
static void
post_upload_error (GstStyleFilter * filter, const GstStyleFilterSettings * s,
    guint i, gint sw, gint sh, const GError * err)
{
  gst_style_filter_post_engine_error (filter, err, GST_LIBRARY_ERROR_FAILED,
      g_strdup_printf ("Style image at %dx%d is too large for the Vulkan "
          "device \"%s\"; lower the style-scale or processing-size "
          "property.", sw, sh, sf_device_get_name (filter->dev)),
      g_strdup_printf ("Cannot compute the style target from \"%s\".",
          GST_STR_NULL (filter->style_paths[i])));
}

gboolean
gst_style_filter_upload_styles (GstStyleFilter * filter,
    const GstStyleFilterSettings * s)
{
  gint pw = sf_stylizer_get_width (filter->stylizer);
  gint ph = sf_stylizer_get_height (filter->stylizer);
  gboolean changed = filter->blend_stale;
  GError *err = NULL;
  gint sw = 0, sh = 0;

  for (guint i = 0; i < filter->n_styles; i++) {
    scaled_size (filter, i, s, pw, ph, &sw, &sh);
    if (sw == filter->style_w[i] && sh == filter->style_h[i])
      continue;
    if (MAX (sw, sh) > MAX_STYLE_SIDE) {
      GST_ELEMENT_ERROR (filter, RESOURCE, NO_SPACE_LEFT,
          ("Style image at %dx%d is too large (at most %d pixels a side); "
              "lower the style-scale or processing-size property.", sw, sh,
              MAX_STYLE_SIDE), ("style-scale %g, processing %dx%d",
              s->style_scale, pw, ph));
      return FALSE;
    }
    GST_DEBUG_OBJECT (filter, "style image %u, %dx%d, scaled to %dx%d", i,
        filter->styles[i]->width, filter->styles[i]->height, sw, sh);
    if (!upload_one (filter, filter->stylizer, i, sw, sh, &err)) {
      post_upload_error (filter, s, i, sw, sh, err);
      g_clear_error (&err);
      return FALSE;
    }
    filter->style_w[i] = sw;
    filter->style_h[i] = sh;
    changed = TRUE;
  }
  if (!changed)
    return TRUE;
  if (!sf_stylizer_blend_styles (filter->stylizer, filter->blend,
          filter->n_styles, &err)) {
    post_upload_error (filter, s, 0, sw, sh, err);
    g_clear_error (&err);
    return FALSE;
  }
  filter->blend_stale = FALSE;
  if (filter->coarse)
    gst_style_filter_upload_coarse_styles (filter, s);
  return TRUE;
}

void
gst_style_filter_styles_forget_uploads (GstStyleFilter * filter)
{
  for (guint i = 0; i < SF_MAX_STYLES; i++)
    filter->style_w[i] = filter->style_h[i] = 0;
  filter->blend_stale = TRUE;
}

void
gst_style_filter_styles_clear (GstStyleFilter * filter)
{
  for (guint i = 0; i < SF_MAX_STYLES; i++) {
    g_clear_pointer (&filter->styles[i], gst_style_image_free);
    g_clear_pointer (&filter->style_paths[i], g_free);
  }
  filter->n_styles = 0;
  filter->style_serial = filter->blend_serial = 0;
  filter->warned_style_serial = filter->warned_blend_serial = 0;
  gst_style_filter_styles_forget_uploads (filter);
}

/* RGB mean and covariance (levels of 1) of a packed 8-bit RGB frame, on
 * every second pixel of every second row. */
static void
frame_colors (GstVideoFrame * frame, gdouble * mean, gdouble cov[3][3])
{
  gint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  gint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
  const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint off[3];
  gdouble s[3] = { 0 }, ss[3][3] = { {0} }, n = 0;

  for (gint c = 0; c < 3; c++)
    off[c] = GST_VIDEO_FRAME_COMP_POFFSET (frame, c);
  for (gint y = 0; y < h; y += 2)
    for (gint x = 0; x < w; x += 2) {
      const guint8 *p = data + (gsize) y * stride + (gsize) x * ps;
      gdouble v[3];
      for (gint c = 0; c < 3; c++) {
        v[c] = p[off[c]] / 255.0;
        s[c] += v[c];
      }
      for (gint a = 0; a < 3; a++)
        for (gint b = 0; b < 3; b++)
          ss[a][b] += v[a] * v[b];
      n++;
    }
  for (gint a = 0; a < 3; a++)
    mean[a] = s[a] / n;
  for (gint a = 0; a < 3; a++)
    for (gint b = 0; b < 3; b++)
      cov[a][b] = ss[a][b] / n - mean[a] * mean[b];
}

void
gst_style_filter_styles_measure_colors (GstStyleFilter * filter,
    GstVideoFrame * frame, GstStyleFilterColorMode mode, gboolean restart)
{
  gboolean hist = mode == GST_STYLE_FILTER_COLOR_MODE_HISTOGRAM;
  gboolean was = filter->color_mode == GST_STYLE_FILTER_COLOR_MODE_HISTOGRAM;

  filter->color_mode = mode;
  if (hist && (restart || !filter->color_valid || !was)) {
    frame_colors (frame, filter->color_mean, filter->color_cov);
    filter->color_valid = TRUE;
    gst_style_filter_styles_forget_uploads (filter);
    GST_DEBUG_OBJECT (filter, "styles matched to the video's colours: mean "
        "%.3f %.3f %.3f", filter->color_mean[0], filter->color_mean[1],
        filter->color_mean[2]);
  } else if (!hist && was) {
    gst_style_filter_styles_forget_uploads (filter);       /* unmatched */
  }
}

gboolean
gst_style_filter_styles_rematch_colors (GstStyleFilter * filter,
    GstVideoFrame * frame, const GstStyleFilterSettings * s)
{
  if (s->color_mode != GST_STYLE_FILTER_COLOR_MODE_HISTOGRAM)
    return TRUE;
  gst_style_filter_styles_measure_colors (filter, frame, s->color_mode, TRUE);
  return gst_style_filter_upload_styles (filter, s);
}
