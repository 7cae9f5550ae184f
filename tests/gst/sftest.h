/* sftest.h - helpers shared by the stylefilter element tests.
 *
 * The tests run on whatever Vulkan device the engine picks (lavapipe on the
 * CI machines, 2 CPU cores), so everything runs at a processing size of 16
 * to 32 and a few iterations.
 */
#ifndef SFTEST_H
#define SFTEST_H

#include <math.h>
#include <string.h>

#include <gst/gst.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

/* Test timeout in seconds (lavapipe is slow). */
#define SFTEST_TIMEOUT 600

/* A file under examples/ in the source tree; free with g_free(). */
static inline gchar *
sftest_example_path (const gchar * name)
{
  const gchar *src = g_getenv ("STYLEFILTER_SOURCE_DIR");

  return g_build_filename (src ? src : ".", "examples", name, NULL);
}

/* Small, fast settings on an element: processing-size 16, few iterations
 * (max-iterations 2 for a first frame, 1 after; an L-BFGS iteration is
 * about two loss evaluations), the embedded default network with seed 1,
 * scream.jpg as the style. */
#define SFTEST_FIRST_ITERATIONS 2
#define SFTEST_ITERATIONS 1
static inline void
sftest_set_fast (GstElement * element)
{
  gchar *style = sftest_example_path ("scream.jpg");

  g_object_set (element, "style-location", style, "processing-size", 16,
      "iterations", SFTEST_ITERATIONS,
      "first-iterations", SFTEST_FIRST_ITERATIONS, "seed", (guint64) 1, NULL);
  g_free (style);
}

/* A new stylefilter in a harness with sftest_set_fast() settings and
 * `configure` (may be NULL) applied before it starts (the harness starts
 * it at once, and it needs its style image to start). */
static inline GstHarness *
sftest_harness_new_full (void (*configure) (GstElement * sf))
{
  GstElement *sf = gst_element_factory_make ("stylefilter", NULL);
  GstHarness *h;

  fail_unless (sf != NULL, "no stylefilter element: check GST_PLUGIN_PATH");
  sftest_set_fast (sf);
  if (configure)
    configure (sf);
  h = gst_harness_new_with_element (sf, "sink", "src");
  gst_object_unref (sf);
  return h;
}

#define sftest_harness_new() sftest_harness_new_full (NULL)

/* Fills a packed RGB(A/x) frame with a deterministic pattern: gradients, a
 * disc and stripes, shifted by `phase` pixels, plus noise of +-`noise`
 * levels from `noise_seed` (0 = none). */
static inline GstBuffer *
sftest_make_frame (GstVideoFormat format, gint width, gint height,
    gint phase, gint noise, guint32 noise_seed)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  GstBuffer *buf;
  guint32 rng = noise_seed * 2654435761u + 1;
  gint x, y;

  gst_video_info_set_format (&info, format, width, height);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_buffer_memset (buf, 0, 0, GST_VIDEO_INFO_SIZE (&info));
  fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_WRITE));
  for (y = 0; y < height; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    for (x = 0; x < width; x++) {
      gint xs = x + phase;
      gdouble dx = xs - width * 0.5, dy = y - height * 0.45;
      gboolean disc = dx * dx + dy * dy < (width * height) / 10.0;
      gint c[3], i;

      c[0] = disc ? 230 : (xs * 255) / MAX (width, 1);
      c[1] = ((xs / 4 + y / 4) % 2) ? 180 : 60;
      c[2] = disc ? 40 : (y * 255) / MAX (height, 1);
      for (i = 0; i < 3; i++) {
        if (noise_seed) {
          rng = rng * 1664525u + 1013904223u;
          c[i] += (gint) ((rng >> 24) % (2 * noise + 1)) - noise;
        }
        c[i] = CLAMP (c[i], 0, 255);
      }
      for (i = 0; i < 3; i++) {
        gint comp = GST_VIDEO_FRAME_COMP_POFFSET (&frame, i);

        row[x * GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, 0) + comp] = c[i];
      }
      if (GST_VIDEO_INFO_HAS_ALPHA (&info))
        row[x * 4 + GST_VIDEO_FRAME_COMP_POFFSET (&frame, 3)] = 255;
    }
  }
  gst_video_frame_unmap (&frame);
  return buf;
}

/* Mean absolute difference of the colour bytes of two frames (0..255). */
static inline gdouble
sftest_frame_mad (GstVideoFormat format, gint width, gint height,
    GstBuffer * a, GstBuffer * b)
{
  GstVideoInfo info;
  GstVideoFrame fa, fb;
  gdouble sum = 0;
  gint x, y, i;

  gst_video_info_set_format (&info, format, width, height);
  fail_unless (gst_video_frame_map (&fa, &info, a, GST_MAP_READ));
  fail_unless (gst_video_frame_map (&fb, &info, b, GST_MAP_READ));
  for (y = 0; y < height; y++) {
    const guint8 *ra = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fa, 0)
        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&fa, 0);
    const guint8 *rb = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&fb, 0)
        + y * GST_VIDEO_FRAME_PLANE_STRIDE (&fb, 0);
    gint ps = GST_VIDEO_FRAME_COMP_PSTRIDE (&fa, 0);

    for (x = 0; x < width; x++)
      for (i = 0; i < 3; i++) {
        gint off = x * ps + GST_VIDEO_FRAME_COMP_POFFSET (&fa, i);

        sum += abs (ra[off] - rb[off]);
      }
  }
  gst_video_frame_unmap (&fa);
  gst_video_frame_unmap (&fb);
  return sum / (3.0 * width * height);
}

/* TRUE if the colour bytes (not padding or alpha) differ anywhere. */
static inline gboolean
sftest_frames_differ (GstVideoFormat format, gint width, gint height,
    GstBuffer * a, GstBuffer * b)
{
  return sftest_frame_mad (format, width, height, a, b) > 0;
}

/* Runs `pipeline` until EOS or an error, calling `on_message` (may be
 * NULL) for each element message from the filter.  Returns the error
 * message (unref it) or NULL at EOS. */
typedef void (*SfTestMessageFunc) (GstMessage * msg, gpointer user_data);

static inline GstMessage *
sftest_run_pipeline (GstElement * pipeline, SfTestMessageFunc on_message,
    gpointer user_data)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *result = NULL;
  gboolean done = FALSE;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 300 * GST_SECOND,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_ELEMENT);

    fail_unless (msg != NULL, "pipeline timed out");
    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_ERROR:
        result = gst_message_ref (msg);
        done = TRUE;
        break;
      case GST_MESSAGE_EOS:
        done = TRUE;
        break;
      case GST_MESSAGE_ELEMENT:
        if (on_message)
          on_message (msg, user_data);
        break;
      default:
        break;
    }
    gst_message_unref (msg);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return result;
}

/* Fails the test with the error's text when `msg` is an error. */
static inline void
sftest_assert_no_error (GstMessage * msg)
{
  if (msg) {
    GError *err = NULL;
    gchar *debug = NULL;

    gst_message_parse_error (msg, &err, &debug);
    fail ("unexpected error: %s (%s)", err->message, GST_STR_NULL (debug));
  }
}

#endif /* SFTEST_H */
