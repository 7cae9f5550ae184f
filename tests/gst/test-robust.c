/* test-robust.c - the element under the hands of real clients: stopping in
 * the middle of a long frame (state change, flushing seek, drain), frames
 * smaller than processing-size, interlaced caps, one ERROR per fault, the
 * one rule for style, model and device changes while playing, and a
 * network whose loss is not finite.
 *
 * Times are compared with one loss evaluation's time measured here, in the
 * same run, from the stats messages of a short first pipeline.
 */
#include <unistd.h>
#include <glib/gstdio.h>

#include "sftest.h"
#include "sf-weights.h"

#define SIZE "width=32,height=24"
#define SRC "videotestsrc pattern=ball is-live=false num-buffers=%d ! " \
  "video/x-raw,format=RGBA," SIZE ",framerate=25/1 ! "

typedef struct
{
  gint frames;
  gint evaluations;
  gdouble ms;
  gint width, height;
  gchar *stops;                 /* stop reasons, one letter a frame */
} Stats;

static void
collect_stats (GstMessage * msg, gpointer user_data)
{
  const GstStructure *st = gst_message_get_structure (msg);
  Stats *s = user_data;
  const gchar *stop;
  gdouble ms;
  gint ev;

  if (!gst_structure_has_name (st, "stylefilter-stats"))
    return;
  gst_structure_get_int (st, "evaluations", &ev);
  gst_structure_get_double (st, "milliseconds", &ms);
  gst_structure_get_int (st, "processing-width", &s->width);
  gst_structure_get_int (st, "processing-height", &s->height);
  stop = gst_structure_get_string (st, "stop-reason");
  s->frames++;
  s->evaluations += ev;
  s->ms += ms;
  s->stops = g_strdup_printf ("%s%c", s->stops ? s->stops : "", stop[0]);
}

static GstElement *
make_pipeline (gint buffers, const gchar * props)
{
  gchar *desc = g_strdup_printf (SRC "stylefilter name=sf %s ! fakesink "
      "name=sink sync=false", buffers, props);
  GstElement *p = gst_parse_launch (desc, NULL);

  fail_unless (p != NULL, "cannot parse %s", desc);
  g_free (desc);
  return p;
}

static GstElement *
get_sf (GstElement * pipeline)
{
  GstElement *sf = gst_bin_get_by_name (GST_BIN (pipeline), "sf");

  sftest_set_fast (sf);
  gst_object_unref (sf);
  return sf;
}

/* ms per loss evaluation at processing-size 32 on this device */
static gdouble
eval_ms (void)
{
  static gdouble ms = 0;
  GstElement *p;
  Stats s = { 0, };

  if (ms > 0)
    return ms;
  p = make_pipeline (2, "");
  g_object_set (get_sf (p), "processing-size", 32, "first-iterations", 3,
      "iterations", 2, NULL);
  sftest_assert_no_error (sftest_run_pipeline (p, collect_stats, &s));
  gst_object_unref (p);
  fail_unless (s.evaluations > 0);
  ms = s.ms / s.evaluations;
  g_print ("one evaluation at 32x24: %.1f ms\n", ms);
  g_free (s.stops);
  return ms;
}

/* Waits for the first stats-less moment: the first frame has begun once
 * the pipeline is PLAYING and a few evaluations' time went by. */
static void
start_long_frame (GstElement * p, gdouble ev)
{
  gst_element_set_state (p, GST_STATE_PLAYING);
  g_usleep ((gulong) (3 * ev * 1000));
}

/* set_state (NULL) in the middle of a 5000-iteration frame returns within
 * two evaluations' time (plus the teardown). */
GST_START_TEST (test_stop_mid_frame)
{
  gdouble ev = eval_ms ();
  GstElement *p = make_pipeline (3, "");
  gint64 t0;
  gdouble took;

  g_object_set (get_sf (p), "processing-size", 32, "first-iterations", 5000,
      NULL);
  start_long_frame (p, ev);
  t0 = g_get_monotonic_time ();
  fail_unless (gst_element_set_state (p, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  took = (g_get_monotonic_time () - t0) / 1000.0;
  g_print ("set_state (NULL) mid-frame: %.1f ms (one evaluation %.1f ms)\n",
      took, ev);
  fail_unless (took < 2 * ev + 500, "stopping took %.1f ms", took);
  gst_object_unref (p);
}

GST_END_TEST;

/* A flushing seek in the middle of a long frame: the seek returns within
 * two evaluations, and the frame after it starts a new sequence. */
GST_START_TEST (test_seek_mid_frame)
{
  gdouble ev = eval_ms ();
  GstElement *p = make_pipeline (3, "");
  GstElement *sf = get_sf (p);
  gint64 t0;
  gdouble took;

  g_object_set (sf, "processing-size", 32, "first-iterations", 5000, NULL);
  gst_element_set_state (p, GST_STATE_PAUSED);
  g_usleep ((gulong) (3 * ev * 1000));
  t0 = g_get_monotonic_time ();
  fail_unless (gst_element_seek_simple (p, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH, 0));
  took = (g_get_monotonic_time () - t0) / 1000.0;
  g_print ("flushing seek mid-frame: %.1f ms (one evaluation %.1f ms)\n",
      took, ev);
  fail_unless (took < 2 * ev + 500, "the seek took %.1f ms", took);
  g_object_set (sf, "first-iterations", 1, "iterations", 1, NULL);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

GST_END_TEST;

/* drain in the middle of a long first frame: it goes out at once
 * ("cancelled"), the rest as their warm starts ("drain"), and EOS comes
 * within a few evaluations' time. */
GST_START_TEST (test_drain)
{
  gdouble ev = eval_ms ();
  GstElement *p = make_pipeline (4, "");
  GstElement *sf = get_sf (p);
  GstBus *bus = gst_element_get_bus (p);
  Stats s = { 0, };
  GstMessage *msg;
  gint64 t0;
  gdouble took;
  gboolean drain;

  g_object_set (sf, "processing-size", 32, "first-iterations", 5000,
      "iterations", 5000, NULL);
  start_long_frame (p, ev);
  t0 = g_get_monotonic_time ();
  g_object_set (sf, "drain", TRUE, NULL);
  g_object_get (sf, "drain", &drain, NULL);
  fail_unless (drain);
  while ((msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT))) {
    GstMessageType type = GST_MESSAGE_TYPE (msg);

    fail_unless (type != GST_MESSAGE_ERROR);
    if (type == GST_MESSAGE_ELEMENT)
      collect_stats (msg, &s);
    gst_message_unref (msg);
    if (type == GST_MESSAGE_EOS)
      break;
  }
  took = (g_get_monotonic_time () - t0) / 1000.0;
  g_print ("drain: EOS %.1f ms after it was set, stops %s (one evaluation "
      "%.1f ms)\n", took, s.stops, ev);
  fail_unless_equals_int (s.frames, 4);
  fail_unless_equals_string (s.stops, "cddd");
  fail_unless (took < 4 * ev + 2000, "draining took %.1f ms", took);
  gst_element_set_state (p, GST_STATE_NULL);
  g_free (s.stops);
  gst_object_unref (bus);
  gst_object_unref (p);
}

GST_END_TEST;

/* A 32x24 frame with processing-size 64 is optimised at 32x24; with
 * upscale at 64x48. */
GST_START_TEST (test_no_upscale)
{
  for (gint up = 0; up < 2; up++) {
    GstElement *p = make_pipeline (1, "");
    Stats s = { 0, };

    g_object_set (get_sf (p), "processing-size", 64, "upscale", up, NULL);
    sftest_assert_no_error (sftest_run_pipeline (p, collect_stats, &s));
    g_print ("32x24 frames, processing-size 64, upscale %d: %dx%d\n", up,
        s.width, s.height);
    fail_unless_equals_int (s.width, up ? 64 : 32);
    fail_unless_equals_int (s.height, up ? 48 : 24);
    g_free (s.stops);
    gst_object_unref (p);
  }
}

GST_END_TEST;

/* Interlaced caps are refused (deinterlace goes in front). */
GST_START_TEST (test_interlaced)
{
  GstElement *sf = gst_element_factory_make ("stylefilter", NULL);
  GstPad *pad = gst_element_get_static_pad (sf, "sink");
  GstCaps *i = gst_caps_from_string ("video/x-raw,format=RGBA," SIZE
      ",framerate=25/1,interlace-mode=interleaved");
  GstCaps *pr = gst_caps_from_string ("video/x-raw,format=RGBA," SIZE
      ",framerate=25/1,interlace-mode=progressive");

  fail_if (gst_pad_query_accept_caps (pad, i));
  fail_unless (gst_pad_query_accept_caps (pad, pr));
  gst_caps_unref (i);
  gst_caps_unref (pr);
  gst_object_unref (pad);
  gst_object_unref (sf);
}

GST_END_TEST;

/* Runs p to the end and counts the ERROR and WARNING messages stylefilter
 * posted; *first gets the first one's text. */
static void
count_faults (GstElement * p, gint * errors, gint * warnings, gchar ** first)
{
  GstBus *bus = gst_element_get_bus (p);
  GstElement *sf = gst_bin_get_by_name (GST_BIN (p), "sf");
  GstMessage *msg;

  *errors = *warnings = 0;
  gst_element_set_state (p, GST_STATE_PLAYING);
  while ((msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))) {
    GstMessageType type = GST_MESSAGE_TYPE (msg);

    if (type != GST_MESSAGE_EOS && GST_MESSAGE_SRC (msg) == GST_OBJECT (sf)) {
      GError *err = NULL;

      if (type == GST_MESSAGE_ERROR)
        gst_message_parse_error (msg, &err, NULL);
      else
        gst_message_parse_warning (msg, &err, NULL);
      g_print ("%s: %s\n", type == GST_MESSAGE_ERROR ? "ERROR" : "WARNING",
          err->message);
      if (first && !*first)
        *first = g_strdup (err->message);
      g_clear_error (&err);
      (type == GST_MESSAGE_ERROR) ? (*errors)++ : (*warnings)++;
    }
    gst_message_unref (msg);
    if (type == GST_MESSAGE_EOS)
      break;
    /* after an error, what else comes within a second */
    if (type == GST_MESSAGE_ERROR) {
      g_usleep (G_USEC_PER_SEC);
      while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
        if (GST_MESSAGE_SRC (msg) == GST_OBJECT (sf))
          (*errors)++;
        gst_message_unref (msg);
      }
      break;
    }
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sf);
  gst_object_unref (bus);
}

/* processing-size beyond the device: one ERROR, not one per buffer. */
GST_START_TEST (test_one_error)
{
  GstElement *p = make_pipeline (5, "");
  gchar *text = NULL;
  gint errors, warnings;

  g_object_set (get_sf (p), "processing-size", 16384, "upscale", TRUE, NULL);
  count_faults (p, &errors, &warnings, &text);
  fail_unless_equals_int (errors, 1);
  fail_unless (strstr (text, "processing-size") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (p);
}

GST_END_TEST;

/* The headline names the cause: a directory, the environment variable. */
GST_START_TEST (test_headlines)
{
  gchar *dir = g_dir_make_tmp ("stylefilter-XXXXXX", NULL);
  GstElement *p = make_pipeline (1, "");
  gchar *text = NULL;
  gint errors, warnings;

  g_object_set (get_sf (p), "model-location", dir, NULL);
  count_faults (p, &errors, &warnings, &text);
  fail_unless_equals_int (errors, 1);
  fail_unless (strstr (text, "is a directory") != NULL, "%s", text);
  g_clear_pointer (&text, g_free);
  gst_object_unref (p);

  g_setenv ("STYLEFILTER_DEVICE", "no-such-device-bogus", TRUE);
  p = make_pipeline (1, "");
  get_sf (p);
  count_faults (p, &errors, &warnings, &text);
  g_unsetenv ("STYLEFILTER_DEVICE");
  fail_unless_equals_int (errors, 1);
  fail_unless (strstr (text, "STYLEFILTER_DEVICE") != NULL, "%s", text);
  fail_unless (strstr (text, "no-such-device-bogus") != NULL, "%s", text);
  g_free (text);
  gst_object_unref (p);
  g_rmdir (dir);
  g_free (dir);
}

GST_END_TEST;

typedef struct
{
  const gchar *property;
  const gchar *value;
} BadChange;

static GstPadProbeReturn
change_on_second_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstElement *sf = GST_ELEMENT (gst_pad_get_parent (pad));
  BadChange *c = data;
  gint n = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (sf), "n"));

  if (n == 1)
    g_object_set (sf, c->property, c->value, NULL);
  g_object_set_data (G_OBJECT (sf), "n", GINT_TO_POINTER (n + 1));
  gst_object_unref (sf);
  return GST_PAD_PROBE_OK;
}

/* While playing, a style-location, model-location or device that cannot
 * be used: one WARNING naming the property, no error, every frame out. */
GST_START_TEST (test_playing_rule)
{
  BadChange changes[] = {
    {"style-location", "/nonexistent/style.jpg"},
    {"model-location", "/nonexistent/vgg19.safetensors"},
    {"device", "no-such-vulkan-device-anywhere"},
  };

  for (guint k = 0; k < G_N_ELEMENTS (changes); k++) {
    GstElement *p = make_pipeline (3, "");
    GstElement *sf = get_sf (p);
    GstPad *pad = gst_element_get_static_pad (sf, "sink");
    gchar *text = NULL;
    gint errors, warnings;

    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER,
        change_on_second_buffer, &changes[k], NULL);
    count_faults (p, &errors, &warnings, &text);
    fail_unless_equals_int (errors, 0);
    fail_unless_equals_int (warnings, 1);
    fail_unless (strstr (text, changes[k].property) != NULL, "%s", text);
    fail_unless (strstr (text, "eeping") != NULL, "%s", text);
    g_free (text);
    gst_object_unref (pad);
    gst_object_unref (p);
  }
}

GST_END_TEST;

/* A network whose activations overflow (finite weights x 1e30): one
 * WARNING for the whole run, and the frames go out as the input, not as
 * the unoptimised or NaN image. */
GST_START_TEST (test_non_finite_loss)
{
  SfVggWeights *w = sf_vgg_weights_new_default (1);
  GError *err = NULL;
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("stylefilter-XXXXXX.safetensors", &path, &err);
  GstElement *sf;
  GstHarness *h;
  gint errors = 0, warnings = 0;
  GstMessage *msg;
  GstBus *bus;

  fail_unless (fd >= 0);
  close (fd);
  for (gint i = 0; i < 9 * 64 * 3; i++)
    w->conv[0].weight[i] *= 1e30f;
  fail_unless (sf_vgg_weights_save (w, path, &err), "%s",
      err ? err->message : "");
  sf_vgg_weights_free (w);

  sf = gst_element_factory_make ("stylefilter", NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (sf, bus);
  sftest_set_fast (sf);
  g_object_set (sf, "model-location", path, NULL);
  h = gst_harness_new_with_element (sf, "sink", "src");
  gst_object_unref (sf);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGBA,width=16,"
      "height=16,framerate=25/1");
  for (gint f = 0; f < 3; f++) {
    GstBuffer *in = sftest_make_frame (GST_VIDEO_FORMAT_RGBA, 16, 16, 0, 0, 0);
    GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_ref (in));

    fail_unless (out != NULL);
    g_print ("frame %d: mean difference to the input %.3f\n", f,
        sftest_frame_mad (GST_VIDEO_FORMAT_RGBA, 16, 16, in, out));
    fail_unless (sftest_frame_mad (GST_VIDEO_FORMAT_RGBA, 16, 16, in,
            out) < 0.5);
    gst_buffer_unref (in);
    gst_buffer_unref (out);
  }
  while ((msg = gst_bus_pop (bus))) {
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
      errors++;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_WARNING)
      warnings++;
    gst_message_unref (msg);
  }
  fail_unless_equals_int (errors, 0);
  fail_unless_equals_int (warnings, 1);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

static Suite *
stylefilter_robust_suite (void)
{
  Suite *s = suite_create ("stylefilter-robust");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, SFTEST_TIMEOUT);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_stop_mid_frame);
  tcase_add_test (tc, test_seek_mid_frame);
  tcase_add_test (tc, test_drain);
  tcase_add_test (tc, test_no_upscale);
  tcase_add_test (tc, test_interlaced);
  tcase_add_test (tc, test_one_error);
  tcase_add_test (tc, test_headlines);
  tcase_add_test (tc, test_playing_rule);
  tcase_add_test (tc, test_non_finite_loss);
  return s;
}

GST_CHECK_MAIN (stylefilter_robust);
