/* test-errors.c - every error the element reports: posted by stylefilter at
 * the state change where it is found, with the documented domain and code
 * and a message that names the property to fix; never a crash or a hang.
 */
#include <unistd.h>
#include <glib/gstdio.h>

#include "sftest.h"

#define PIPELINE "videotestsrc num-buffers=2 ! " \
  "video/x-raw,format=RGB,width=16,height=16,framerate=25/1 ! " \
  "stylefilter name=sf ! fakesink"

/* Brings a pipeline with a configured stylefilter to PAUSED and returns the
 * first error message (NULL if it prerolled without one). */
static GstMessage *
preroll_error (void (*configure) (GstElement * sf, gpointer data),
    gpointer data, GstStateChangeReturn * ret)
{
  GstElement *pipeline = gst_parse_launch (PIPELINE, NULL);
  GstElement *sf = gst_bin_get_by_name (GST_BIN (pipeline), "sf");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  sftest_set_fast (sf);
  configure (sf, data);
  *ret = gst_element_set_state (pipeline, GST_STATE_PAUSED);
  msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
      GST_MESSAGE_ERROR | GST_MESSAGE_ASYNC_DONE);
  fail_unless (msg != NULL, "no error and no preroll within 120 s");
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR) {
    gst_message_unref (msg);
    msg = NULL;
  } else {
    fail_unless (GST_MESSAGE_SRC (msg) == GST_OBJECT (sf),
        "error from %s, not stylefilter", GST_MESSAGE_SRC_NAME (msg));
  }
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
      GST_STATE_CHANGE_SUCCESS);
  gst_object_unref (bus);
  gst_object_unref (sf);
  gst_object_unref (pipeline);
  return msg;
}

/* Asserts the error's domain and code, that the message names `needle`,
 * and for errors found in start() that the state change failed. */
static void
check_error (void (*configure) (GstElement * sf, gpointer data),
    gpointer data, GQuark domain, gint code, const gchar * needle,
    gboolean in_start)
{
  GstStateChangeReturn ret;
  GstMessage *msg = preroll_error (configure, data, &ret);
  GError *err = NULL;
  gchar *debug = NULL;

  fail_unless (msg != NULL, "no error posted");
  gst_message_parse_error (msg, &err, &debug);
  g_print ("%s %d: %s\n  (%s)\n", g_quark_to_string (err->domain), err->code,
      err->message, GST_STR_NULL (debug));
  fail_unless (err->domain == domain && err->code == code,
      "expected %s %d, got %s %d: %s", g_quark_to_string (domain), code,
      g_quark_to_string (err->domain), err->code, err->message);
  fail_unless (strstr (err->message, needle) != NULL,
      "message does not name %s: %s", needle, err->message);
  if (in_start)
    fail_unless_equals_int (ret, GST_STATE_CHANGE_FAILURE);
  g_clear_error (&err);
  g_free (debug);
  gst_message_unref (msg);
}

static void
set_string (GstElement * sf, gpointer data)
{
  const gchar **kv = data;

  g_object_set (sf, kv[0], kv[1], NULL);
}

static gchar *
write_temp_file (const gchar * contents, gsize len)
{
  GError *err = NULL;
  gchar *path = NULL;
  gint fd = g_file_open_tmp ("stylefilter-XXXXXX", &path, &err);

  fail_unless (fd >= 0, "%s", err ? err->message : "");
  fail_unless (write (fd, contents, len) == (gssize) len);
  close (fd);
  return path;
}

/* No style-location: not an error; the built-in style, said in an INFO
 * message, and the pipeline runs to EOS. */
GST_START_TEST (test_no_style_location)
{
  GstElement *pipeline = gst_parse_launch (PIPELINE, NULL);
  GstElement *sf = gst_bin_get_by_name (GST_BIN (pipeline), "sf");
  GstBus *bus = gst_element_get_bus (pipeline);
  gboolean info = FALSE;
  GstMessage *msg;

  sftest_set_fast (sf);
  g_object_set (sf, "style-location", NULL, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while ((msg = gst_bus_timed_pop_filtered (bus, 120 * GST_SECOND,
              GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_INFO))) {
    GstMessageType type = GST_MESSAGE_TYPE (msg);

    if (type == GST_MESSAGE_INFO && GST_MESSAGE_SRC (msg) == GST_OBJECT (sf)) {
      GError *err = NULL;

      gst_message_parse_info (msg, &err, NULL);
      g_print ("INFO: %s\n", err->message);
      info = strstr (err->message, "built-in style") != NULL;
      g_clear_error (&err);
    }
    fail_if (type == GST_MESSAGE_ERROR, "an error without style-location");
    gst_message_unref (msg);
    if (type == GST_MESSAGE_EOS)
      break;
  }
  fail_unless (info, "no INFO message about the built-in style");
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (sf);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_missing_style)
{
  const gchar *kv[] = { "style-location", "/nonexistent/dir/style.jpg" };

  check_error (set_string, kv, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND, "style-location", TRUE);
}

GST_END_TEST;

GST_START_TEST (test_unreadable_style)
{
  gchar *dir = g_dir_make_tmp ("stylefilter-XXXXXX", NULL);
  const gchar *kv[] = { "style-location", dir };

  /* a directory cannot be read as a file, even by root */
  check_error (set_string, kv, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_OPEN_READ, "style-location", TRUE);
  g_rmdir (dir);
  g_free (dir);

  if (geteuid () != 0) {
    gchar *path = write_temp_file ("x", 1);

    g_chmod (path, 0);
    kv[1] = path;
    check_error (set_string, kv, GST_RESOURCE_ERROR,
        GST_RESOURCE_ERROR_OPEN_READ, "style-location", TRUE);
    g_unlink (path);
    g_free (path);
  } else {
    g_print ("running as root: permissions not tested, only a directory\n");
  }
}

GST_END_TEST;

GST_START_TEST (test_undecodable_style)
{
  static const gchar text[] = "this is not an image, just some text\n";
  gchar *garbage = write_temp_file (text, sizeof (text) - 1);
  gchar *empty = write_temp_file ("", 0);
  const gchar *kv[] = { "style-location", garbage };

  check_error (set_string, kv, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
      "style-location", TRUE);
  kv[1] = empty;
  check_error (set_string, kv, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
      "style-location", TRUE);
  g_unlink (garbage);
  g_unlink (empty);
  g_free (garbage);
  g_free (empty);
}

GST_END_TEST;

GST_START_TEST (test_invalid_model)
{
  /* a safetensors header that promises more than the file holds */
  static const gchar bad[] = "\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":1}";
  gchar *path = write_temp_file (bad, sizeof (bad) - 1);
  const gchar *kv[] = { "model-location", path };

  check_error (set_string, kv, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_SETTINGS, "model-location", TRUE);
  g_unlink (path);
  g_free (path);
}

GST_END_TEST;

GST_START_TEST (test_missing_model)
{
  const gchar *kv[] = { "model-location", "/nonexistent/vgg19.safetensors" };

  check_error (set_string, kv, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NOT_FOUND, "model-location", TRUE);
}

GST_END_TEST;

GST_START_TEST (test_no_device)
{
  const gchar *kv[] = { "device", "no-such-vulkan-device-anywhere" };

  check_error (set_string, kv, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_INIT,
      "device", TRUE);
}

GST_END_TEST;

static void
set_huge (GstElement * sf, gpointer data)
{
  g_object_set (sf, "processing-size", 16384, "upscale", TRUE, NULL);
}

/* Found when the caps (and so the processing size) are known, during the
 * preroll to PAUSED. */
GST_START_TEST (test_too_large)
{
  check_error (set_huge, NULL, GST_RESOURCE_ERROR,
      GST_RESOURCE_ERROR_NO_SPACE_LEFT, "processing-size", FALSE);
}

GST_END_TEST;

/* After an error the element can be configured properly and run. */
GST_START_TEST (test_recovers)
{
  const gchar *kv[] = { "style-location", "/nonexistent/style.jpg" };
  GstStateChangeReturn ret;
  GstMessage *msg;
  GstElement *pipeline = gst_parse_launch (PIPELINE, NULL);
  GstElement *sf = gst_bin_get_by_name (GST_BIN (pipeline), "sf");
  gchar *style = sftest_example_path ("scream.jpg");

  msg = preroll_error (set_string, kv, &ret);
  fail_unless (msg != NULL);
  gst_message_unref (msg);

  sftest_set_fast (sf);
  g_object_set (sf, "style-location", "/nonexistent/style.jpg", NULL);
  fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_object_set (sf, "style-location", style, NULL);
  sftest_assert_no_error (sftest_run_pipeline (pipeline, NULL, NULL));

  g_free (style);
  gst_object_unref (sf);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static Suite *
stylefilter_errors_suite (void)
{
  Suite *s = suite_create ("stylefilter-errors");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, SFTEST_TIMEOUT);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_no_style_location);
  tcase_add_test (tc, test_missing_style);
  tcase_add_test (tc, test_unreadable_style);
  tcase_add_test (tc, test_undecodable_style);
  tcase_add_test (tc, test_invalid_model);
  tcase_add_test (tc, test_missing_model);
  tcase_add_test (tc, test_no_device);
  tcase_add_test (tc, test_too_large);
  tcase_add_test (tc, test_recovers);
  return s;
}

GST_CHECK_MAIN (stylefilter_errors);
