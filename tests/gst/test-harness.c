/* test-harness.c - stylefilter in a GstHarness: caps for every format,
 * timestamps and metadata kept, deterministic output, odd frame sizes,
 * the frame's fine detail put back by the detail property, the engine's
 * log lines in the element's debug category.
 */
#include "sftest.h"

/* Counts the engine's log lines that reach the stylefilter category. */
static void
count_engine_lines (GstDebugCategory * cat, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  if (g_str_equal (gst_debug_category_get_name (cat), "stylefilter")
      && g_str_has_prefix (gst_debug_message_get (message), "sfengine: "))
    g_atomic_int_inc ((gint *) user_data);
}

static const GstVideoFormat formats[] = {
  GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRA, GST_VIDEO_FORMAT_RGBx,
  GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR,
};

static gchar *
caps_string (GstVideoFormat format, gint width, gint height)
{
  return g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,"
      "framerate=25/1", gst_video_format_to_string (format), width, height);
}

/* Pushes one frame, returns the output. */
static GstBuffer *
push_one (GstHarness * h, GstVideoFormat format, gint width, gint height,
    GstBuffer ** input)
{
  GstBuffer *in = sftest_make_frame (format, width, height, 0, 0, 0);
  GstBuffer *out;

  if (input)
    *input = gst_buffer_ref (in);
  fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
  out = gst_harness_pull (h);
  fail_unless (out != NULL);
  return out;
}

/* The engine logs through GLib (domain sfengine); the element sends those
 * lines to its debug category, where GST_DEBUG=stylefilter:5 shows them
 * (the device and network it made, here), instead of stderr. */
GST_START_TEST (test_engine_log)
{
  gint lines = 0;
  GstHarness *h;
  GstBuffer *out;

  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("stylefilter", GST_LEVEL_DEBUG);
  gst_debug_add_log_function (count_engine_lines, &lines, NULL);
  h = sftest_harness_new ();
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGBA,width=16,"
      "height=16,framerate=25/1");
  out = push_one (h, GST_VIDEO_FORMAT_RGBA, 16, 16, NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  gst_debug_remove_log_function (count_engine_lines);
  gst_debug_unset_threshold_for_name ("stylefilter");
  GST_INFO ("%d engine lines in the stylefilter category",
      g_atomic_int_get (&lines));
  fail_unless (g_atomic_int_get (&lines) > 0,
      "no sfengine line reached the stylefilter debug category");
}

GST_END_TEST;

GST_START_TEST (test_formats)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    GstHarness *h = sftest_harness_new ();
    gchar *caps_str = caps_string (formats[i], 32, 24);
    /* the same caps out, said to be progressive (the templates are) */
    gchar *expected_str = g_strconcat (caps_str,
        ",interlace-mode=(string)progressive", NULL);
    GstCaps *expected = gst_caps_from_string (expected_str);
    GstBuffer *in, *out;
    GstCaps *caps;
    GstVideoInfo info;

    gst_harness_set_src_caps_str (h, caps_str);
    out = push_one (h, formats[i], 32, 24, &in);

    caps = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (caps != NULL);
    fail_unless (gst_caps_is_equal (caps, expected),
        "output caps %" GST_PTR_FORMAT " != %" GST_PTR_FORMAT, caps, expected);
    gst_video_info_from_caps (&info, caps);
    fail_unless_equals_int (gst_buffer_get_size (out),
        GST_VIDEO_INFO_SIZE (&info));
    fail_unless (sftest_frames_differ (formats[i], 32, 24, in, out),
        "%s: output equals input", gst_video_format_to_string (formats[i]));
    GST_INFO ("%s: mean change %.2f", gst_video_format_to_string (formats[i]),
        sftest_frame_mad (formats[i], 32, 24, in, out));

    gst_caps_unref (caps);
    gst_caps_unref (expected);
    gst_buffer_unref (in);
    gst_buffer_unref (out);
    g_free (expected_str);
    g_free (caps_str);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

GST_START_TEST (test_timestamps_and_meta)
{
  GstHarness *h = sftest_harness_new ();
  GstCaps *ref_caps = gst_caps_from_string ("timestamp/x-test");
  gint i;

  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGBx,width=24,height=16,framerate=30/1");
  for (i = 0; i < 3; i++) {
    GstBuffer *in = sftest_make_frame (GST_VIDEO_FORMAT_RGBx, 24, 16, i, 0,
        0);
    GstBuffer *out;
    GstReferenceTimestampMeta *meta;

    GST_BUFFER_PTS (in) = 1000 * GST_SECOND + i * GST_SECOND / 30;
    GST_BUFFER_DTS (in) = 999 * GST_SECOND + i * GST_SECOND / 30;
    GST_BUFFER_DURATION (in) = GST_SECOND / 30;
    GST_BUFFER_OFFSET (in) = 40 + i;
    GST_BUFFER_OFFSET_END (in) = 41 + i;
    gst_buffer_add_reference_timestamp_meta (in, ref_caps, 12345 + i,
        GST_CLOCK_TIME_NONE);

    fail_unless_equals_int (gst_harness_push (h, in), GST_FLOW_OK);
    out = gst_harness_pull (h);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out),
        1000 * GST_SECOND + i * GST_SECOND / 30);
    fail_unless_equals_uint64 (GST_BUFFER_DTS (out),
        999 * GST_SECOND + i * GST_SECOND / 30);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), GST_SECOND / 30);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET (out), 40 + i);
    fail_unless_equals_uint64 (GST_BUFFER_OFFSET_END (out), 41 + i);
    meta = gst_buffer_get_reference_timestamp_meta (out, ref_caps);
    fail_unless (meta != NULL, "reference timestamp meta dropped");
    fail_unless_equals_uint64 (meta->timestamp, 12345 + i);
    gst_buffer_unref (out);
  }
  gst_caps_unref (ref_caps);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Two fresh elements with the same seed give the same bytes for the same
 * input, frame after frame. */
GST_START_TEST (test_deterministic)
{
  GstBuffer *outs[2][3];
  gint run, i;

  for (run = 0; run < 2; run++) {
    GstHarness *h = sftest_harness_new ();

    g_object_set (h->element, "seed", (guint64) 42, NULL);
    gst_harness_set_src_caps_str (h,
        "video/x-raw,format=RGBA,width=32,height=24,framerate=25/1");
    for (i = 0; i < 3; i++) {
      fail_unless_equals_int (gst_harness_push (h,
              sftest_make_frame (GST_VIDEO_FORMAT_RGBA, 32, 24, i, 0, 0)),
          GST_FLOW_OK);
      outs[run][i] = gst_harness_pull (h);
    }
    gst_harness_teardown (h);
  }
  for (i = 0; i < 3; i++) {
    GstMapInfo a, b;

    gst_buffer_map (outs[0][i], &a, GST_MAP_READ);
    gst_buffer_map (outs[1][i], &b, GST_MAP_READ);
    fail_unless_equals_int (a.size, b.size);
    fail_unless (memcmp (a.data, b.data, a.size) == 0,
        "frame %d differs between two runs with the same seed", i);
    gst_buffer_unmap (outs[0][i], &a);
    gst_buffer_unmap (outs[1][i], &b);
    gst_buffer_unref (outs[0][i]);
    gst_buffer_unref (outs[1][i]);
  }
}

GST_END_TEST;

/* A different seed gives a different network and so another result. */
GST_START_TEST (test_seed_matters)
{
  GstBuffer *outs[2];
  gint run;

  for (run = 0; run < 2; run++) {
    GstHarness *h = sftest_harness_new ();

    g_object_set (h->element, "seed", (guint64) (run + 7), NULL);
    gst_harness_set_src_caps_str (h,
        "video/x-raw,format=RGB,width=32,height=24,framerate=25/1");
    outs[run] = push_one (h, GST_VIDEO_FORMAT_RGB, 32, 24, NULL);
    gst_harness_teardown (h);
  }
  fail_unless (sftest_frames_differ (GST_VIDEO_FORMAT_RGB, 32, 24, outs[0],
          outs[1]));
  gst_buffer_unref (outs[0]);
  gst_buffer_unref (outs[1]);
}

GST_END_TEST;

GST_START_TEST (test_odd_sizes)
{
  static const gint sizes[][2] = { {1, 1}, {7, 5}, {33, 17}, {5, 7} };
  static const GstVideoFormat fmts[] = { GST_VIDEO_FORMAT_RGB,
    GST_VIDEO_FORMAT_BGRA
  };
  guint i, f;

  for (f = 0; f < G_N_ELEMENTS (fmts); f++) {
    for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
      gint w = sizes[i][0], hgt = sizes[i][1];
      GstHarness *h = sftest_harness_new ();
      gchar *caps_str = caps_string (fmts[f], w, hgt);
      GstVideoInfo info;
      GstBuffer *out;

      gst_harness_set_src_caps_str (h, caps_str);
      gst_video_info_set_format (&info, fmts[f], w, hgt);
      out = push_one (h, fmts[f], w, hgt, NULL);
      fail_unless_equals_int (gst_buffer_get_size (out),
          GST_VIDEO_INFO_SIZE (&info));
      /* a second frame, warm-started */
      gst_buffer_unref (out);
      out = push_one (h, fmts[f], w, hgt, NULL);
      gst_buffer_unref (out);
      g_free (caps_str);
      gst_harness_teardown (h);
    }
  }
}

GST_END_TEST;

/* processing-size 0 works at the frame size, and a frame larger than the
 * processing size is rendered back at its own size. */
GST_START_TEST (test_processing_sizes)
{
  static const gint psizes[] = { 0, 16, 24 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (psizes); i++) {
    GstHarness *h = sftest_harness_new ();
    GstBuffer *in, *out;

    g_object_set (h->element, "processing-size", psizes[i], NULL);
    gst_harness_set_src_caps_str (h,
        "video/x-raw,format=BGRx,width=40,height=20,framerate=25/1");
    out = push_one (h, GST_VIDEO_FORMAT_BGRx, 40, 20, &in);
    fail_unless_equals_int (gst_buffer_get_size (out), 40 * 20 * 4);
    fail_unless (sftest_frames_differ (GST_VIDEO_FORMAT_BGRx, 40, 20, in,
            out));
    gst_buffer_unref (in);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}

GST_END_TEST;

/* preserve-colors keeps the content's chroma: the result is closer to the
 * input in colour than without it. */
GST_START_TEST (test_preserve_colors)
{
  gdouble mad[2];
  gint run;

  for (run = 0; run < 2; run++) {
    GstHarness *h = sftest_harness_new ();
    GstBuffer *in, *out;

    g_object_set (h->element, "preserve-colors", run == 1, NULL);
    gst_harness_set_src_caps_str (h,
        "video/x-raw,format=RGBA,width=32,height=32,framerate=25/1");
    out = push_one (h, GST_VIDEO_FORMAT_RGBA, 32, 32, &in);
    mad[run] = sftest_frame_mad (GST_VIDEO_FORMAT_RGBA, 32, 32, in, out);
    gst_buffer_unref (in);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
  GST_INFO ("mean change: %.2f plain, %.2f preserve-colors", mad[0], mad[1]);
  fail_unless (mad[1] > 0);
}

GST_END_TEST;

/* The mean of an RGBA frame's colour bytes over the k x k block at
 * (bx, by), channel c. */
static gdouble
block_mean (const guint8 * d, gint w, gint k, gint bx, gint by, gint c)
{
  gdouble s = 0;

  for (gint y = k * by; y < k * by + k; y++)
    for (gint x = k * bx; x < k * bx + k; x++)
      s += d[(y * w + x) * 4 + c];
  return s / (k * k);
}

/* A frame's fine detail: the mean absolute deviation from its 2x2 block
 * means (levels); and its coarse picture, the 16x16 block means. */
static gdouble
bands (GstBuffer * buf, gint w, gint h, gdouble * coarse)
{
  GstMapInfo m;
  gdouble fine = 0;

  fail_unless (gst_buffer_map (buf, &m, GST_MAP_READ));
  for (gint by = 0; by < h / 2; by++)
    for (gint bx = 0; bx < w / 2; bx++)
      for (gint c = 0; c < 3; c++) {
        gdouble mean = block_mean (m.data, w, 2, bx, by, c);
        for (gint y = 2 * by; y < 2 * by + 2; y++)
          for (gint x = 2 * bx; x < 2 * bx + 2; x++)
            fine += fabs (m.data[(y * w + x) * 4 + c] - mean) / (3.0 * w * h);
      }
  for (gint by = 0; by < h / 16; by++)
    for (gint bx = 0; bx < w / 16; bx++)
      for (gint c = 0; c < 3; c++)
        coarse[(by * (w / 16) + bx) * 3 + c] = block_mean (m.data, w, 16, bx,
            by, c);
  gst_buffer_unmap (buf, &m);
  return fine;
}

/* detail: at processing-size 16 a 64x64 frame with per-pixel grain comes
 * out without the grain; detail 1 puts it back (at least 0.8 of the
 * input's fine detail, against at most 0.35 without) and leaves the
 * painted picture as it was (16x16 block means within 3 levels on average
 * of detail 0's). */
GST_START_TEST (test_detail)
{
  const gint w = 64, h = 64, nb = (64 / 16) * (64 / 16) * 3;
  gdouble fine[3], coarse[3][(64 / 16) * (64 / 16) * 3], moved = 0;
  GstBuffer *in = sftest_make_frame (GST_VIDEO_FORMAT_RGBA, w, h, 0, 40, 3);

  for (gint run = 0; run < 2; run++) {
    GstHarness *hs = sftest_harness_new ();
    GstBuffer *out;

    g_object_set (hs->element, "processing-size", 16, "detail",
        run ? 1.0 : 0.0, NULL);
    gst_harness_set_src_caps_str (hs,
        "video/x-raw,format=RGBA,width=64,height=64,framerate=25/1");
    out = gst_harness_push_and_pull (hs, gst_buffer_ref (in));
    fine[run] = bands (out, w, h, coarse[run]);
    gst_buffer_unref (out);
    gst_harness_teardown (hs);
  }
  fine[2] = bands (in, w, h, coarse[2]);
  for (gint i = 0; i < nb; i++)
    moved += fabs (coarse[1][i] - coarse[0][i]) / nb;
  g_print ("fine detail (levels): input %.2f, detail 0 %.2f, detail 1 %.2f; "
      "coarse picture moved %.2f levels\n", fine[2], fine[0], fine[1], moved);
  fail_unless (fine[1] >= 0.8 * fine[2] && fine[0] <= 0.35 * fine[2]);
  fail_unless (moved < 3.0);
  gst_buffer_unref (in);
}

GST_END_TEST;

static Suite *
stylefilter_harness_suite (void)
{
  Suite *s = suite_create ("stylefilter-harness");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, SFTEST_TIMEOUT);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_formats);
  tcase_add_test (tc, test_engine_log);
  tcase_add_test (tc, test_timestamps_and_meta);
  tcase_add_test (tc, test_deterministic);
  tcase_add_test (tc, test_seed_matters);
  tcase_add_test (tc, test_odd_sizes);
  tcase_add_test (tc, test_processing_sizes);
  tcase_add_test (tc, test_preserve_colors);
  tcase_add_test (tc, test_detail);
  return s;
}

GST_CHECK_MAIN (stylefilter_harness);
