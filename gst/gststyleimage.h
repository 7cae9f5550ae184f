/* gststyleimage.h - decoding the style image (a file, in-memory data or the
 * built-in default, The Scream) through GStreamer and scaling it to the
 * planar float RGB the engine takes.
 *
 * Copyright (C) 2025 gst-stylefilter contributors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 */
#ifndef __GST_STYLE_IMAGE_H__
#define __GST_STYLE_IMAGE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* A decoded image, packed 8-bit RGB, square pixels. */
typedef struct
{
  gint width;
  gint height;
  guint8 *rgb;                  /* rows of 3 * width bytes, no padding */
} GstStyleImage;

/* Decodes the first frame of any file GStreamer can decode (filesrc !
 * decodebin ! videoconvert ! videoscale ! RGB ! appsink), at its native
 * size.  On failure sets @error to one of GST_RESOURCE_ERROR_NOT_FOUND
 * (no location, or no such file), GST_RESOURCE_ERROR_OPEN_READ (a
 * directory, or not readable) or GST_STREAM_ERROR_DECODE (anything that
 * is not a decodable image), with the details in the message. */
GstStyleImage *gst_style_image_load (const gchar * location, GError ** error);

/* Decodes in-memory data (a whole image file) through the same pipeline,
 * with appsrc in place of filesrc: the format is found by typefinding.
 * @what names the data in error messages ("the built-in default style");
 * NULL says "the image data".  On failure sets @error to
 * GST_STREAM_ERROR_DECODE with the details in the message. */
GstStyleImage *gst_style_image_load_bytes (GBytes * bytes, const gchar * what,
    GError ** error);

/* Decodes the built-in default style, an embedded copy of Edvard Munch's
 * The Scream (1893, public domain), 302x384 (gst/default-style.txt).
 * Fails with GST_STREAM_ERROR_DECODE only when GStreamer cannot decode a
 * JPEG (no jpegdec). */
GstStyleImage *gst_style_image_load_default (GError ** error);

void gst_style_image_free (GstStyleImage * image);

/* How long a decode may take before it fails with GST_STREAM_ERROR_DECODE
 * ("took more than"), for every later call; 0 or GST_CLOCK_TIME_NONE
 * restores the default, 30 s.  A decoder stuck past it is abandoned to a
 * thread of its own, so the call returns in time.  For the tests and the
 * fuzz driver. */
void gst_style_image_set_timeout (GstClockTime timeout);

/* How many of the pipelines abandoned after a timeout have not finished
 * tearing down: each is a streaming thread stuck inside a GStreamer
 * element (a decoder that never returns), until the process exits. */
guint gst_style_image_get_n_stuck (void);

/* The size with the longest side @longest, the other side by aspect, both
 * at least @min_side. */
void gst_style_image_get_scaled_size (const GstStyleImage * image,
    gint longest, gint min_side, gint * width, gint * height);

/* Resamples the image to @width x @height (tent filter: bilinear when
 * enlarging, averaging when shrinking) into newly allocated planar RGB
 * floats in [0,1], [3][height][width]; free with g_free(). */
gfloat *gst_style_image_resample (const GstStyleImage * image, gint width,
    gint height);

G_END_DECLS

#endif /* __GST_STYLE_IMAGE_H__ */
