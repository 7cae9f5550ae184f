/* gststyleimage.c - decoding the style image through GStreamer and scaling
 * it to the planar float RGB the engine takes.
 *
 * Copyright (C) 2025 gst-stylefilter contributors
 *
 * This library is free software; you can redistribute it and/or
 * modify it under the terms of the GNU Library General Public
 * License as published by the Free Software Foundation; either
 * version 2.1 of the License, or (at your option) any later version.
 *
 * The image is decoded by a private pipeline
 *   filesrc ! decodebin ! videoconvert ! videoscale !
 *   video/x-raw,format=RGB,pixel-aspect-ratio=1/1 ! appsink
 * brought to PAUSED: the preroll sample is the first frame, so any still
 * image or video format with an installed decoder works.  In-memory data
 * takes the same pipeline with appsrc (no caps, one buffer, then EOS) in
 * place of filesrc.  Only decodebin's first video stream is linked; other
 * streams go to fakesinks, and an input without video is an error as soon
 * as decodebin has exposed its streams (left to the delayed linking of
 * gst_parse_launch(), an audio-only stream pushed by appsrc waited for the
 * timeout).  A decode that takes longer than the timeout (30 s) fails, and
 * if a decoder is stuck for ever its pipeline is abandoned to a thread of
 * its own.  The image is kept at its native size; the element scales it on
 * the CPU to style-scale x the processing size whenever that size changes,
 * without decoding again.
 *
 * The built-in default style is default-style.jpg, embedded as a
 * GResource (default-style.gresource.xml): Edvard Munch, The Scream
 * (1893), public domain; examples/scream.jpg (352x448, from the Debian
 * package darknet) resized to 302x384 (Lanczos) and saved at JPEG quality
 * 90 without metadata by PIL; see default-style.txt.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include "gststyleimage.h"
#include "gststyleimage-resources.h"

GST_DEBUG_CATEGORY_STATIC (gst_style_image_debug);
#define GST_CAT_DEFAULT gst_style_image_debug

/* How long decoding may take before it counts as failed, in ms
 * (gst_style_image_set_timeout()). */
#define STYLE_IMAGE_TIMEOUT_MS_DEFAULT 30000
static gint style_image_timeout_ms = STYLE_IMAGE_TIMEOUT_MS_DEFAULT;

/* default-style.jpg in the embedded resource (registered at load time by
 * the generated gststyleimage-resources.c, read through its
 * gst_style_image_res_get_resource()) */
#define GST_STYLE_IMAGE_DEFAULT_PATH \
  "/org/gstreamer/stylefilter/default-style.jpg"

static void
gst_style_image_init_debug (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    GST_DEBUG_CATEGORY_INIT (gst_style_image_debug, "stylefilterimage", 0,
        "stylefilter style image loading");
    g_once_init_leave (&done, 1);
  }
}

/* Checks the file before building a pipeline, so that the common errors
 * get precise codes whatever filesrc or the typefinder would say. */
static gboolean
gst_style_image_check_file (const gchar * location, GError ** error)
{
  int fd;

  if (location == NULL || location[0] == '\0') {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
        "No style image: style-location is not set");
    return FALSE;
  }
  if (g_file_test (location, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ,
        "\"%s\" is a directory", location);
    return FALSE;
  }
  fd = g_open (location, O_RDONLY, 0);
  if (fd < 0) {
    int errsv = errno;

    g_set_error (error, GST_RESOURCE_ERROR,
        errsv == ENOENT || errsv == ENOTDIR ? GST_RESOURCE_ERROR_NOT_FOUND :
        GST_RESOURCE_ERROR_OPEN_READ, "Cannot open \"%s\": %s", location,
        g_strerror (errsv));
    return FALSE;
  }
  g_close (fd, NULL);
  return TRUE;
}

/* Copies the prerolled RGB frame into a packed image. */
static GstStyleImage *
gst_style_image_from_sample (GstSample * sample, GError ** error)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstStyleImage *image;
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstCaps *caps = gst_sample_get_caps (sample);
  gint y;

  if (buffer == NULL || caps == NULL || !gst_video_info_from_caps (&info, caps)
      || GST_VIDEO_INFO_FORMAT (&info) != GST_VIDEO_FORMAT_RGB) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "The decoder gave no RGB frame (caps %" GST_PTR_FORMAT ")", caps);
    return NULL;
  }
  if (!gst_video_frame_map (&frame, &info, buffer, GST_MAP_READ)) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "Cannot map the decoded frame");
    return NULL;
  }

  image = g_new0 (GstStyleImage, 1);
  image->width = GST_VIDEO_FRAME_WIDTH (&frame);
  image->height = GST_VIDEO_FRAME_HEIGHT (&frame);
  image->rgb = g_malloc ((gsize) image->width * image->height * 3);
  for (y = 0; y < image->height; y++) {
    const guint8 *src = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
        + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    memcpy (image->rgb + (gsize) y * image->width * 3, src,
        (gsize) image->width * 3);
  }
  gst_video_frame_unmap (&frame);
  return image;
}

/* Turns an error message of the private pipeline into ours: resource
 * errors (filesrc) keep their code, everything else did not decode. */
static void
gst_style_image_set_error_from_message (GstMessage * msg,
    const gchar * what, GError ** error)
{
  GError *err = NULL;
  gchar *debug = NULL;

  gst_message_parse_error (msg, &err, &debug);
  GST_DEBUG ("decoding %s failed: %s (%s)", what, err->message,
      GST_STR_NULL (debug));
  if (err->domain == GST_RESOURCE_ERROR &&
      (err->code == GST_RESOURCE_ERROR_NOT_FOUND ||
          err->code == GST_RESOURCE_ERROR_OPEN_READ)) {
    g_set_error (error, GST_RESOURCE_ERROR, err->code, "%s: %s", what,
        err->message);
  } else {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "%s could not be decoded as an image: %s%s%s", what,
        err->message, debug ? " - " : "", debug ? debug : "");
  }
  g_clear_error (&err);
  g_free (debug);
}

/* TRUE if decodebin's @pad carries video. */
static gboolean
gst_style_image_pad_is_video (GstPad * pad)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  gboolean video;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  video = gst_caps_get_size (caps) > 0 &&
      g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (caps,
              0)), "video/");
  gst_caps_unref (caps);
  return video;
}

/* decodebin's streams: the first video stream goes to videoconvert (@conv),
 * every other one to a fakesink of its own, so that no stream stops on
 * not-linked and an audio stream next to the video does not matter. */
static void
gst_style_image_pad_added (GstElement * dec, GstPad * pad, gpointer user_data)
{
  GstElement *conv = user_data, *fakesink;
  GstPad *sinkpad = gst_element_get_static_pad (conv, "sink");
  gboolean linked = FALSE;

  if (!gst_pad_is_linked (sinkpad) && gst_style_image_pad_is_video (pad))
    linked = gst_pad_link (pad, sinkpad) == GST_PAD_LINK_OK;
  gst_object_unref (sinkpad);
  if (linked)
    return;

  GST_DEBUG ("discarding the stream of %" GST_PTR_FORMAT, pad);
  fakesink = gst_element_factory_make ("fakesink", NULL);
  if (fakesink == NULL)
    return;                     /* left unlinked */
  g_object_set (fakesink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (GST_ELEMENT_PARENT (dec)), fakesink);
  sinkpad = gst_element_get_static_pad (fakesink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (fakesink);
}

/* All of decodebin's streams are there: without a video stream nothing
 * would ever reach the appsink, so that is an error (not a wait for the
 * timeout). */
static void
gst_style_image_no_more_pads (GstElement * dec, gpointer user_data)
{
  GstElement *conv = user_data;
  GstPad *sinkpad = gst_element_get_static_pad (conv, "sink");

  if (!gst_pad_is_linked (sinkpad)) {
    GError *err = g_error_new (GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "It has no video stream");

    gst_element_post_message (dec, gst_message_new_error (GST_OBJECT (dec),
            err, "decodebin exposed no video stream"));
    g_error_free (err);
  }
  gst_object_unref (sinkpad);
}

/* The private pipeline from a source element of @src_factory (named
 * "src") through decodebin to the RGB appsink (named "sink"); decodebin's
 * streams are linked by gst_style_image_pad_added(). */
static GstElement *
gst_style_image_build_pipeline (const gchar * src_factory, GError ** error)
{
  GstElement *pipeline, *dec, *conv;
  GError *parse_error = NULL;
  gchar *desc;

  desc = g_strdup_printf ("%s name=src ! decodebin name=dec "
      "videoconvert name=conv ! videoscale ! "
      "video/x-raw,format=RGB,pixel-aspect-ratio=1/1 ! "
      "appsink name=sink sync=false max-buffers=1 enable-last-sample=false",
      src_factory);
  pipeline = gst_parse_launch (desc, &parse_error);
  g_free (desc);
  if (pipeline == NULL || parse_error != NULL) {
    /* a missing plugin: decodebin, videoconvert or videoscale */
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
        "Cannot build the style image decoder: %s",
        parse_error ? parse_error->message : "unknown error");
    g_clear_error (&parse_error);
    if (pipeline)
      gst_object_unref (pipeline);
    return NULL;
  }

  dec = gst_bin_get_by_name (GST_BIN (pipeline), "dec");
  conv = gst_bin_get_by_name (GST_BIN (pipeline), "conv");
  /* the pipeline holds conv for as long as dec can emit */
  g_signal_connect (dec, "pad-added",
      G_CALLBACK (gst_style_image_pad_added), conv);
  g_signal_connect (dec, "no-more-pads",
      G_CALLBACK (gst_style_image_no_more_pads), conv);
  gst_object_unref (dec);
  gst_object_unref (conv);
  return pipeline;
}

/* Hands @bytes to the appsrc as one buffer, then ends the stream.  An
 * empty input is only the end of the stream (there is no empty buffer to
 * wrap); the typefinder then reports that there is no data. */
static void
gst_style_image_feed (GstElement * src, GBytes * bytes)
{
  GstFlowReturn ret;

  if (g_bytes_get_size (bytes) > 0) {
    ret = gst_app_src_push_buffer (GST_APP_SRC (src),
        gst_buffer_new_wrapped_bytes (bytes));
    /* not OK only when the pipeline already failed: its error is on the
     * bus and the wait reports it */
    if (ret != GST_FLOW_OK)
      GST_DEBUG ("pushing the style image: %s", gst_flow_get_name (ret));
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
}

/* Waits (at most the timeout per message; only the last message comes
 * through the filter) for the pipeline to preroll or fail, and takes the
 * prerolled frame; @timed_out says when nothing came in time. */
static GstStyleImage *
gst_style_image_wait (GstElement * pipeline, GstElement * sink,
    const gchar * what, gboolean * timed_out, GError ** error)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstClockTime timeout =
      g_atomic_int_get (&style_image_timeout_ms) * GST_MSECOND;
  GstStyleImage *image = NULL;
  gboolean done = FALSE;

  *timed_out = FALSE;
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, timeout,
        GST_MESSAGE_ERROR | GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_EOS);

    if (msg == NULL) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
          "Decoding %s took more than %" GST_TIME_FORMAT, what,
          GST_TIME_ARGS (timeout));
      *timed_out = TRUE;
      break;
    }
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR:
        gst_style_image_set_error_from_message (msg, what, error);
        done = TRUE;
        break;
      case GST_MESSAGE_ASYNC_DONE:{
        GstSample *sample =
            gst_app_sink_try_pull_preroll (GST_APP_SINK (sink), 0);

        if (sample) {
          image = gst_style_image_from_sample (sample, error);
          gst_sample_unref (sample);
        } else {
          g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
              "%s has no video frame", what);
        }
        done = TRUE;
        break;
      }
      case GST_MESSAGE_EOS:
        g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
            "%s has no video frame", what);
        done = TRUE;
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
  return image;
}

/* Pipelines abandoned after a timeout that have not finished going to
 * NULL yet (gst_style_image_get_n_stuck()). */
static gint style_image_n_stuck = 0;

static void
gst_style_image_stop (GstElement * pipeline)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
}

static gpointer
gst_style_image_abandoned_thread (gpointer pipeline)
{
  gst_style_image_stop (GST_ELEMENT (pipeline));
  g_atomic_int_add (&style_image_n_stuck, -1);
  GST_DEBUG ("an abandoned style image pipeline is down after all");
  return NULL;
}

/* Stops and frees the pipeline.  After a timeout a streaming thread may
 * be stuck inside an element holding its stream lock (jpegdec 1.22 spins
 * forever on FF D8 FF D8), and going to NULL would wait for it for ever:
 * then a thread of its own tears the pipeline down, as soon as it can or
 * never, so that the caller gets its error. */
static void
gst_style_image_teardown (GstElement * pipeline, gboolean timed_out)
{
  GThread *thread = NULL;

  if (timed_out) {
    GST_WARNING ("abandoning the stuck style image pipeline %" GST_PTR_FORMAT,
        pipeline);
    g_atomic_int_inc (&style_image_n_stuck);
    thread = g_thread_try_new ("styleimage-teardown",
        gst_style_image_abandoned_thread, pipeline, NULL);
    if (thread == NULL)
      g_atomic_int_add (&style_image_n_stuck, -1);
  }
  if (thread)
    g_thread_unref (thread);
  else
    gst_style_image_stop (pipeline);
}

/* Decodes the first frame of a file (@location set, filesrc) or of
 * in-memory data (@bytes set, appsrc); @what names the input in the
 * messages. */
static GstStyleImage *
gst_style_image_decode (const gchar * location, GBytes * bytes,
    const gchar * what, GError ** error)
{
  GstElement *pipeline, *src, *sink;
  GstStyleImage *image;
  gboolean timed_out;

  gst_style_image_init_debug ();
  pipeline = gst_style_image_build_pipeline (bytes ? "appsrc" : "filesrc",
      error);
  if (pipeline == NULL)
    return NULL;

  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (bytes) {
    /* no caps: decodebin's typefinder finds the format */
    g_object_set (src, "format", GST_FORMAT_BYTES,
        "size", (gint64) g_bytes_get_size (bytes), NULL);
  } else {
    g_object_set (src, "location", location, NULL);
  }

  GST_DEBUG ("decoding style image %s", what);
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  if (bytes)
    gst_style_image_feed (src, bytes);
  image = gst_style_image_wait (pipeline, sink, what, &timed_out, error);

  gst_object_unref (src);
  gst_object_unref (sink);
  gst_style_image_teardown (pipeline, timed_out);

  if (image)
    GST_DEBUG ("style image %s is %dx%d", what, image->width, image->height);
  return image;
}

GstStyleImage *
gst_style_image_load (const gchar * location, GError ** error)
{
  GstStyleImage *image;
  gchar *what;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!gst_style_image_check_file (location, error))
    return NULL;

  what = g_strdup_printf ("\"%s\"", location);
  image = gst_style_image_decode (location, NULL, what, error);
  g_free (what);
  return image;
}

GstStyleImage *
gst_style_image_load_bytes (GBytes * bytes, const gchar * what,
    GError ** error)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return gst_style_image_decode (NULL, bytes, what ? what : "the image data",
      error);
}

void
gst_style_image_set_timeout (GstClockTime timeout)
{
  gint ms = STYLE_IMAGE_TIMEOUT_MS_DEFAULT;

  if (GST_CLOCK_TIME_IS_VALID (timeout) && timeout > 0)
    ms = (gint) MIN (MAX (timeout / GST_MSECOND, 1), G_MAXINT);
  g_atomic_int_set (&style_image_timeout_ms, ms);
}

guint
gst_style_image_get_n_stuck (void)
{
  return (guint) MAX (g_atomic_int_get (&style_image_n_stuck), 0);
}

GstStyleImage *
gst_style_image_load_default (GError ** error)
{
  GstStyleImage *image;
  GBytes *bytes;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  bytes = g_resource_lookup_data (gst_style_image_res_get_resource (),
      GST_STYLE_IMAGE_DEFAULT_PATH, G_RESOURCE_LOOKUP_FLAGS_NONE, error);
  if (bytes == NULL)
    return NULL;
  image = gst_style_image_load_bytes (bytes,
      "the built-in default style (The Scream)", error);
  g_bytes_unref (bytes);
  return image;
}

void
gst_style_image_free (GstStyleImage * image)
{
  if (image == NULL)
    return;
  g_free (image->rgb);
  g_free (image);
}

void
gst_style_image_get_scaled_size (const GstStyleImage * image, gint longest,
    gint min_side, gint * width, gint * height)
{
  gint w, h;

  if (image->width >= image->height) {
    w = longest;
    h = (gint) floor ((gdouble) longest * image->height / image->width + 0.5);
  } else {
    h = longest;
    w = (gint) floor ((gdouble) longest * image->width / image->height + 0.5);
  }
  *width = MAX (w, min_side);
  *height = MAX (h, min_side);
}

/* Tent filter taps for resampling src_len samples to dst_len: output i
 * reads n[i] samples from first[i] with weights w[i * max_taps ...]. */
typedef struct
{
  gint max_taps;
  gint *first;
  gint *n;
  gfloat *w;
} GstStyleImageTaps;

static void
gst_style_image_taps_init (GstStyleImageTaps * taps, gint src_len,
    gint dst_len)
{
  gdouble scale = (gdouble) src_len / dst_len;
  gdouble radius = MAX (scale, 1.0);
  gint i;

  taps->max_taps = (gint) ceil (2 * radius) + 1;
  taps->first = g_new (gint, dst_len);
  taps->n = g_new (gint, dst_len);
  taps->w = g_new0 (gfloat, (gsize) dst_len * taps->max_taps);

  for (i = 0; i < dst_len; i++) {
    gdouble center = (i + 0.5) * scale - 0.5;
    gint lo = (gint) ceil (center - radius);
    gint hi = (gint) floor (center + radius);
    gfloat *w = taps->w + (gsize) i * taps->max_taps;
    gdouble sum = 0;
    gint j, k;

    lo = MAX (lo, 0);
    hi = MIN (hi, src_len - 1);
    if (hi < lo)                /* cannot happen for sane sizes */
      hi = lo = CLAMP ((gint) floor (center + 0.5), 0, src_len - 1);
    if (hi - lo + 1 > taps->max_taps)
      hi = lo + taps->max_taps - 1;

    for (j = lo, k = 0; j <= hi; j++, k++) {
      gdouble d = 1.0 - fabs (j - center) / radius;

      w[k] = (gfloat) MAX (d, 0.0);
      sum += w[k];
    }
    if (sum <= 0) {
      w[0] = 1.0f;
      hi = lo;
      sum = 1.0;
    }
    for (k = 0; k <= hi - lo; k++)
      w[k] = (gfloat) (w[k] / sum);
    taps->first[i] = lo;
    taps->n[i] = hi - lo + 1;
  }
}

static void
gst_style_image_taps_clear (GstStyleImageTaps * taps)
{
  g_free (taps->first);
  g_free (taps->n);
  g_free (taps->w);
}

gfloat *
gst_style_image_resample (const GstStyleImage * image, gint width,
    gint height)
{
  GstStyleImageTaps tx, ty;
  gint sw = image->width, sh = image->height;
  gsize tplane = (gsize) sh * width, oplane = (gsize) height * width;
  gfloat *tmp, *out;
  gint x, y, c, k;

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  gst_style_image_taps_init (&tx, sw, width);
  gst_style_image_taps_init (&ty, sh, height);
  tmp = g_new (gfloat, 3 * tplane);
  out = g_new (gfloat, 3 * oplane);

  /* horizontal pass: packed u8 [sh][sw][3] -> planar [3][sh][width] */
  for (y = 0; y < sh; y++) {
    const guint8 *row = image->rgb + (gsize) y * sw * 3;

    for (x = 0; x < width; x++) {
      const gfloat *w = tx.w + (gsize) x * tx.max_taps;
      const guint8 *p = row + (gsize) tx.first[x] * 3;
      gfloat acc[3] = { 0, 0, 0 };

      for (k = 0; k < tx.n[x]; k++, p += 3) {
        acc[0] += w[k] * p[0];
        acc[1] += w[k] * p[1];
        acc[2] += w[k] * p[2];
      }
      for (c = 0; c < 3; c++)
        tmp[c * tplane + (gsize) y * width + x] = acc[c] / 255.0f;
    }
  }

  /* vertical pass */
  for (c = 0; c < 3; c++) {
    for (y = 0; y < height; y++) {
      const gfloat *w = ty.w + (gsize) y * ty.max_taps;
      gfloat *dst = out + c * oplane + (gsize) y * width;

      for (x = 0; x < width; x++)
        dst[x] = 0;
      for (k = 0; k < ty.n[y]; k++) {
        const gfloat *src = tmp + c * tplane + (gsize) (ty.first[y] + k) * width;

        for (x = 0; x < width; x++)
          dst[x] += w[k] * src[x];
      }
      for (x = 0; x < width; x++)
        dst[x] = CLAMP (dst[x], 0.0f, 1.0f);
    }
  }

  gst_style_image_taps_clear (&tx);
  gst_style_image_taps_clear (&ty);
  g_free (tmp);
  return out;
}
