/* test-pipeline.c - stylefilter in real pipelines: EOS and the stats
 * messages, state cycling, renegotiation, properties changed while
 * PLAYING, flushing seeks, latency and a property hammered from another
 * thread.
 */
#include "sftest.h"

#define SRC "videotestsrc num-buffers=%d ! video/x-raw,format=RGBx,width=32,height=24,framerate=25/1 ! "

static GstElement *
make_pipeline (const gchar * description)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (description, &err);
  GstElement *filter;

  fail_unless (pipeline != NULL && err == NULL, "%s: %s", description,
      err ? err->message : "");
  filter = gst_bin_get_by_name (GST_BIN (pipeline), "sf");
  fail_unless (filter != NULL);
  sftest_set_fast (filter);
  gst_object_unref (filter);
  return pipeline;
}

typedef struct
{
  GPtrArray *stats;             /* GstStructure copies */
  GstElement *pipeline;
  gint change_at;               /* frame after which to change things */
  void (*change) (GstElement * pipeline);
} StatsCollector;

static void
collect_stats (GstMessage * msg, gpointer user_data)
{
  StatsCollector *c = user_data;
  const GstStructure *s = gst_message_get_structure (msg);

  if (!gst_structure_has_name (s, "stylefilter-stats"))
    return;
  g_ptr_array_add (c->stats, gst_structure_copy (s));
  if (c->change && (gint) c->stats->len == c->change_at + 1)
    c->change (c->pipeline);
}

static void
check_stats_fields (const GstStructure * s, guint64 expected_frame)
{
  guint64 frame;
  gint iterations, max_iterations;
  gdouble total, content, style, temporal, range, ms;
  gboolean cut;

  fail_unless (gst_structure_get_uint64 (s, "frame", &frame));
  fail_unless (gst_structure_get_int (s, "iterations", &iterations));
  fail_unless (gst_structure_get_int (s, "max-iterations", &max_iterations));
  fail_unless (gst_structure_get_double (s, "total-loss", &total));
  fail_unless (gst_structure_get_double (s, "content-loss", &content));
  fail_unless (gst_structure_get_double (s, "style-loss", &style));
  fail_unless (gst_structure_get_double (s, "temporal-loss", &temporal));
  fail_unless (gst_structure_get_double (s, "range-loss", &range));
  fail_unless (gst_structure_get_double (s, "milliseconds", &ms));
  fail_unless (gst_structure_get_boolean (s, "scene-cut", &cut));

  fail_unless_equals_uint64 (frame, expected_frame);
  fail_unless (max_iterations >= 1 && max_iterations <= 3,
      "max-iterations %d", max_iterations);
  fail_unless (iterations >= 0 && iterations <= max_iterations,
      "iterations %d of %d", iterations, max_iterations);
  fail_unless (isfinite (total) && total > 0, "total-loss %g", total);
  fail_unless (isfinite (content) && content >= 0, "content-loss %g", content);
  fail_unless (isfinite (style) && style >= 0, "style-loss %g", style);
  fail_unless (isfinite (temporal) && temporal >= 0, "temporal-loss %g",
      temporal);
  fail_unless (isfinite (range) && range >= 0, "range-loss %g", range);
  fail_unless (ms > 0 && ms < 600000, "milliseconds %g", ms);
}

GST_START_TEST (test_eos_and_stats)
{
  gchar *desc = g_strdup_printf (SRC "stylefilter name=sf ! fakesink", 6);
  StatsCollector c = { g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_structure_free), NULL, 0, NULL
  };
  GstElement *pipeline = make_pipeline (desc);
  gchar *device_name = NULL;
  GstElement *sf;
  guint i;

  sftest_assert_no_error (sftest_run_pipeline (pipeline, collect_stats, &c));
  fail_unless_equals_int (c.stats->len, 6);
  for (i = 0; i < c.stats->len; i++) {
    const GstStructure *s = g_ptr_array_index (c.stats, i);
    gint iterations;
    gboolean cut;

    check_stats_fields (s, i);
    gst_structure_get_int (s, "max-iterations", &iterations);
    gst_structure_get_boolean (s, "scene-cut", &cut);
    /* smpte is a still picture: first-iterations, then iterations */
    fail_unless_equals_int (iterations,
        i == 0 ? SFTEST_FIRST_ITERATIONS : SFTEST_ITERATIONS);
    fail_if (cut);
    GST_INFO ("%" GST_PTR_FORMAT, s);
  }

  sf = gst_bin_get_by_name (GST_BIN (pipeline), "sf");
  g_object_get (sf, "device-name", &device_name, NULL);
  fail_unless (device_name != NULL && device_name[0] != '\0');
  g_print ("device: %s\n", device_name);
  g_free (device_name);
  gst_object_unref (sf);

  g_ptr_array_unref (c.stats);
  gst_object_unref (pipeline);
  g_free (desc);
}

GST_END_TEST;

/* A scene cut starts afresh with first-iterations and is flagged; small
 * noise is not a cut. */
GST_START_TEST (test_scene_cut)
{
  GstHarness *h = sftest_harness_new ();
  GstBus *bus = gst_bus_new ();
  guint i;

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=32,height=24,framerate=25/1");
  for (i = 0; i < 6; i++) {
    GstBuffer *in;
    GstMessage *msg;
    const GstStructure *st;
    gint iterations;
    gboolean cut;

    if (i < 3) {
      /* the same picture with a little noise */
      in = sftest_make_frame (GST_VIDEO_FORMAT_RGB, 32, 24, 0, 3, i + 1);
    } else {
      /* another picture: its negative */
      GstMapInfo map;
      gsize j;

      in = sftest_make_frame (GST_VIDEO_FORMAT_RGB, 32, 24, 0, 0, 0);
      gst_buffer_map (in, &map, GST_MAP_WRITE);
      for (j = 0; j < map.size; j++)
        map.data[j] = 255 - map.data[j];
      gst_buffer_unmap (in, &map);
    }
    gst_buffer_unref (gst_harness_push_and_pull (h, in));
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
    fail_unless (msg != NULL);
    st = gst_message_get_structure (msg);
    GST_INFO ("%" GST_PTR_FORMAT, st);
    fail_unless (gst_structure_get_int (st, "max-iterations", &iterations));
    fail_unless (gst_structure_get_boolean (st, "scene-cut", &cut));
    fail_unless_equals_int (cut, i == 3);
    fail_unless_equals_int (iterations, (i == 0 || i == 3) ?
        SFTEST_FIRST_ITERATIONS : SFTEST_ITERATIONS);
    gst_message_unref (msg);
  }
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

GST_START_TEST (test_state_cycling)
{
  gchar *desc = g_strdup_printf (SRC "stylefilter name=sf ! fakesink", 2);
  GstElement *pipeline = make_pipeline (desc);
  GstBus *bus = gst_element_get_bus (pipeline);
  gint i;

  for (i = 0; i < 20; i++) {
    GstMessage *msg;

    fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int (gst_element_get_state (pipeline, NULL, NULL,
            300 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
    /* let a frame or two through on every other cycle */
    if (i % 2 == 0) {
      msg = gst_bus_timed_pop_filtered (bus, 300 * GST_SECOND,
          GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
      fail_unless (msg != NULL);
      fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
      gst_message_unref (msg);
    }
    fail_unless_equals_int (gst_element_set_state (pipeline, GST_STATE_NULL),
        GST_STATE_CHANGE_SUCCESS);
    gst_bus_set_flushing (bus, TRUE);
    gst_bus_set_flushing (bus, FALSE);
  }
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_free (desc);
}

GST_END_TEST;

static void
change_caps (GstElement * pipeline)
{
  GstElement *cf = gst_bin_get_by_name (GST_BIN (pipeline), "cf");
  GstCaps *caps = gst_caps_from_string ("video/x-raw,format=BGR,width=20,"
      "height=36,framerate=25/1");

  g_object_set (cf, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_object_unref (cf);
}

static GstPadProbeReturn
record_caps (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstCaps **last = user_data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (ev) == GST_EVENT_CAPS) {
    GstCaps *caps;

    gst_event_parse_caps (ev, &caps);
    gst_caps_replace (last, caps);
  }
  return GST_PAD_PROBE_OK;
}

GST_START_TEST (test_renegotiation)
{
  StatsCollector c = { g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_structure_free), NULL, 2, change_caps
  };
  GstElement *pipeline = make_pipeline ("videotestsrc num-buffers=8 ! "
      "capsfilter name=cf caps=video/x-raw,format=RGBA,width=32,height=24,"
      "framerate=25/1 ! stylefilter name=sf ! fakesink name=sink");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  GstCaps *caps = NULL;
  GstStructure *s;
  gint w, hgt, first_after = -1;
  guint i;

  c.pipeline = pipeline;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      record_caps, &caps, NULL);
  sftest_assert_no_error (sftest_run_pipeline (pipeline, collect_stats, &c));
  fail_unless_equals_int (c.stats->len, 8);
  for (i = 0; i < c.stats->len; i++) {
    gint iterations;

    gst_structure_get_int (g_ptr_array_index (c.stats, i), "max-iterations",
        &iterations);
    check_stats_fields (g_ptr_array_index (c.stats, i), i);
    /* the new size starts a new sequence: first-iterations again */
    if (i > 0 && iterations == SFTEST_FIRST_ITERATIONS && first_after < 0)
      first_after = i;
  }
  fail_unless (first_after > 2, "no restart after the caps change");

  /* the sink saw the new size last */
  fail_unless (caps != NULL);
  s = gst_caps_get_structure (caps, 0);
  gst_structure_get_int (s, "width", &w);
  gst_structure_get_int (s, "height", &hgt);
  fail_unless_equals_int (w, 20);
  fail_unless_equals_int (hgt, 36);
  gst_caps_unref (caps);

  gst_object_unref (pad);
  gst_object_unref (sink);
  g_ptr_array_unref (c.stats);
  gst_object_unref (pipeline);
}

GST_END_TEST;

static void
change_settings (GstElement * pipeline)
{
  GstElement *sf = gst_bin_get_by_name (GST_BIN (pipeline), "sf");
  gchar *style = sftest_example_path ("horses.jpg");

  g_object_set (sf, "style-location", style, "style-weight", 1e4,
      "content-weight", 2.0, "tv-weight", 1.0, "temporal-weight", 10.0,
      "iterations", 3, "style-scale", 1.5, "preserve-colors", TRUE,
      "optimizer", 1 /* adam */ , NULL);
  g_free (style);
  gst_object_unref (sf);
}

GST_START_TEST (test_change_while_playing)
{
  StatsCollector c = { g_ptr_array_new_with_free_func ((GDestroyNotify)
        gst_structure_free), NULL, 1, change_settings
  };
  gchar *desc = g_strdup_printf (SRC "stylefilter name=sf ! fakesink", 8);
  GstElement *pipeline = make_pipeline (desc);
  gint last_iterations = 0;
  guint i;

  c.pipeline = pipeline;
  sftest_assert_no_error (sftest_run_pipeline (pipeline, collect_stats, &c));
  fail_unless_equals_int (c.stats->len, 8);
  for (i = 0; i < c.stats->len; i++)
    check_stats_fields (g_ptr_array_index (c.stats, i), i);
  /* the change was made while frame 1's message was handled; a frame or
   * two may be in flight, by the end the new count is in effect */
  gst_structure_get_int (g_ptr_array_index (c.stats, 7), "max-iterations",
      &last_iterations);
  fail_unless_equals_int (last_iterations, 3);
  /* Adam runs exactly as many iterations as asked */
  gst_structure_get_int (g_ptr_array_index (c.stats, 7), "iterations",
      &last_iterations);
  fail_unless_equals_int (last_iterations, 3);

  g_ptr_array_unref (c.stats);
  gst_object_unref (pipeline);
  g_free (desc);
}

GST_END_TEST;

/* In a harness the change is synchronous: it applies to the very next
 * frame, and a new style changes the output of that frame. */
GST_START_TEST (test_style_change_next_frame)
{
  GstHarness *h[2];
  GstBuffer *out[2];
  gint run, i;

  for (run = 0; run < 2; run++) {
    h[run] = sftest_harness_new ();
    g_object_set (h[run]->element, "warm-start", 0, NULL);
    gst_harness_set_src_caps_str (h[run],
        "video/x-raw,format=RGB,width=24,height=24,framerate=25/1");
    for (i = 0; i < 2; i++) {
      gst_buffer_unref (gst_harness_push_and_pull (h[run],
              sftest_make_frame (GST_VIDEO_FORMAT_RGB, 24, 24, 0, 0, 0)));
    }
    if (run == 1) {
      gchar *style = sftest_example_path ("horses.jpg");

      g_object_set (h[run]->element, "style-location", style, NULL);
      g_free (style);
    }
    out[run] = gst_harness_push_and_pull (h[run],
        sftest_make_frame (GST_VIDEO_FORMAT_RGB, 24, 24, 0, 0, 0));
    gst_harness_teardown (h[run]);
  }
  fail_unless (sftest_frames_differ (GST_VIDEO_FORMAT_RGB, 24, 24, out[0],
          out[1]), "new style not used by the next frame");
  gst_buffer_unref (out[0]);
  gst_buffer_unref (out[1]);
}

GST_END_TEST;

/* A bad style-location while playing keeps the old style and warns. */
GST_START_TEST (test_bad_style_while_playing)
{
  GstHarness *h = sftest_harness_new ();
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=16,height=16,framerate=25/1");
  gst_buffer_unref (gst_harness_push_and_pull (h,
          sftest_make_frame (GST_VIDEO_FORMAT_RGB, 16, 16, 0, 0, 0)));
  g_object_set (h->element, "style-location", "/nonexistent/style.png", NULL);
  gst_buffer_unref (gst_harness_push_and_pull (h,
          sftest_make_frame (GST_VIDEO_FORMAT_RGB, 16, 16, 0, 0, 0)));

  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL);
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND), "%s", err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg == NULL, "the element failed");

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The style loss of one frame (warm-start none) with the given
 * style-layers and network, from its stats message. */
static gdouble
one_frame_style_loss (const gchar * layers, const gchar * network,
    GstBuffer ** out)
{
  GstHarness *h = sftest_harness_new ();
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  gdouble style = -1;

  gst_element_set_bus (h->element, bus);
  g_object_set (h->element, "warm-start", 0, NULL);
  gst_util_set_object_arg (G_OBJECT (h->element), "style-layers", layers);
  gst_util_set_object_arg (G_OBJECT (h->element), "network", network);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=24,height=24,framerate=25/1");
  *out = gst_harness_push_and_pull (h,
      sftest_make_frame (GST_VIDEO_FORMAT_RGB, 24, 24, 0, 0, 0));
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *st = gst_message_get_structure (msg);
    if (gst_structure_has_name (st, "stylefilter-stats"))
      gst_structure_get_double (st, "style-loss", &style);
    gst_message_unref (msg);
  }
  fail_unless (gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR) == NULL);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
  fail_unless (style >= 0, "no stats message");
  return style;
}

/* style-layers and network reach the optimisation: each changes the style
 * loss of the same frame; a style-layers value naming no layer is refused
 * with a warning that names the property, and the value in force stays. */
GST_START_TEST (test_style_layers_and_network)
{
  GstElement *sf = gst_element_factory_make ("stylefilter", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  guint flags = 0;
  GstBuffer *out[3];
  gdouble four, low, rnd;

  gst_element_set_bus (sf, bus);
  gst_util_set_object_arg (G_OBJECT (sf), "style-layers", "relu1_1+relu3_1");
  g_object_get (sf, "style-layers", &flags, NULL);
  fail_unless_equals_int (flags, 0x5);
  g_object_set (sf, "style-layers", 0, NULL);
  g_object_get (sf, "style-layers", &flags, NULL);
  fail_unless_equals_int (flags, 0x5);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning for style-layers 0");
  gst_message_parse_warning (msg, &err, NULL);
  fail_unless (g_error_matches (err, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_SETTINGS), "%s", err->message);
  fail_unless (strstr (err->message, "style-layers") != NULL, "%s",
      err->message);
  g_clear_error (&err);
  gst_message_unref (msg);
  gst_element_set_bus (sf, NULL);
  gst_object_unref (bus);
  gst_object_unref (sf);

  four = one_frame_style_loss ("relu1_1+relu2_1+relu3_1+relu4_1",
      "structured", &out[0]);
  low = one_frame_style_loss ("relu1_1", "structured", &out[1]);
  rnd = one_frame_style_loss ("relu1_1+relu2_1+relu3_1+relu4_1", "random",
      &out[2]);
  g_print ("style loss: four layers %g, relu1_1 %g, random network %g\n",
      four, low, rnd);
  fail_unless (fabs (four - low) > 0.05 * four);
  fail_unless (fabs (four - rnd) > 0.05 * four);
  fail_unless (sftest_frames_differ (GST_VIDEO_FORMAT_RGB, 24, 24, out[0],
          out[2]), "the network did not change the output");
  for (int i = 0; i < 3; i++)
    gst_buffer_unref (out[i]);
}

GST_END_TEST;

/* A flush (as in a flushing seek) restarts from the content with
 * first-iterations. */
GST_START_TEST (test_flush_restarts)
{
  GstHarness *h = sftest_harness_new ();
  GstBus *bus = gst_bus_new ();
  const gint f = SFTEST_FIRST_ITERATIONS, n = SFTEST_ITERATIONS;
  gint expected[] = { f, n, n, f, n, f };
  guint i;

  gst_element_set_bus (h->element, bus);
  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=16,height=16,framerate=25/1");
  for (i = 0; i < G_N_ELEMENTS (expected); i++) {
    GstMessage *msg;
    gint iterations;

    if (i == 3) {
      GstSegment seg;

      fail_unless (gst_harness_push_event (h, gst_event_new_flush_start ()));
      fail_unless (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
      gst_segment_init (&seg, GST_FORMAT_TIME);
      fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
    }
    if (i == 5) {
      GstSegment seg;

      gst_segment_init (&seg, GST_FORMAT_TIME);
      seg.start = seg.time = 10 * GST_SECOND;
      fail_unless (gst_harness_push_event (h, gst_event_new_segment (&seg)));
    }
    gst_buffer_unref (gst_harness_push_and_pull (h,
            sftest_make_frame (GST_VIDEO_FORMAT_RGB, 16, 16, 0, 0, 0)));
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT);
    fail_unless (msg != NULL);
    fail_unless (gst_structure_get_int (gst_message_get_structure (msg),
            "max-iterations", &iterations));
    GST_INFO ("frame %u: %" GST_PTR_FORMAT, i, gst_message_get_structure (msg));
    fail_unless_equals_int (iterations, expected[i]);
    gst_message_unref (msg);
  }
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}

GST_END_TEST;

/* The reported latency grows by the processing time once frames ran. */
GST_START_TEST (test_latency)
{
  GstHarness *h = sftest_harness_new ();
  GstClockTime before, after;
  gint i;

  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGB,width=16,height=16,framerate=25/1");
  gst_harness_set_upstream_latency (h, 5 * GST_MSECOND);
  before = gst_harness_query_latency (h);
  for (i = 0; i < 3; i++)
    gst_buffer_unref (gst_harness_push_and_pull (h,
            sftest_make_frame (GST_VIDEO_FORMAT_RGB, 16, 16, 0, 0, 0)));
  after = gst_harness_query_latency (h);
  g_print ("latency %" GST_TIME_FORMAT " before, %" GST_TIME_FORMAT
      " after 3 frames\n", GST_TIME_ARGS (before), GST_TIME_ARGS (after));
  fail_unless_equals_uint64 (before, 5 * GST_MSECOND);
  fail_unless (after > before);
  fail_unless (gst_base_transform_is_qos_enabled (GST_BASE_TRANSFORM
          (h->element)));
  gst_harness_teardown (h);
}

GST_END_TEST;

/* Properties hammered from other threads while frames are processed. */
GST_START_TEST (test_stress_properties)
{
  GstHarness *h = sftest_harness_new ();
  GstHarnessThread *t[4];
  GValue v[4] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  gchar *style = sftest_example_path ("horses.jpg");
  gint i;

  g_value_init (&v[0], G_TYPE_DOUBLE);
  g_value_set_double (&v[0], 5e3);
  g_value_init (&v[1], G_TYPE_INT);
  g_value_set_int (&v[1], 1);
  g_value_init (&v[2], G_TYPE_STRING);
  g_value_set_string (&v[2], style);
  g_value_init (&v[3], G_TYPE_DOUBLE);
  g_value_set_double (&v[3], 0.5);

  gst_harness_set_src_caps_str (h,
      "video/x-raw,format=RGBx,width=24,height=16,framerate=25/1");
  t[0] = gst_harness_stress_property_start_full (h, "style-weight", &v[0], 0);
  t[1] = gst_harness_stress_property_start_full (h, "iterations", &v[1], 100);
  t[2] = gst_harness_stress_property_start_full (h, "style-location", &v[2],
      20000);
  t[3] = gst_harness_stress_property_start_full (h, "scene-threshold", &v[3],
      10);
  for (i = 0; i < 6; i++)
    gst_buffer_unref (gst_harness_push_and_pull (h,
            sftest_make_frame (GST_VIDEO_FORMAT_RGBx, 24, 16, i, 0, 0)));
  for (i = 0; i < 4; i++) {
    fail_unless (gst_harness_stress_thread_stop (t[i]) > 0);
    g_value_unset (&v[i]);
  }
  g_free (style);
  gst_harness_teardown (h);
}

GST_END_TEST;

static Suite *
stylefilter_pipeline_suite (void)
{
  Suite *s = suite_create ("stylefilter-pipeline");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, SFTEST_TIMEOUT);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_eos_and_stats);
  tcase_add_test (tc, test_scene_cut);
  tcase_add_test (tc, test_state_cycling);
  tcase_add_test (tc, test_renegotiation);
  tcase_add_test (tc, test_change_while_playing);
  tcase_add_test (tc, test_style_change_next_frame);
  tcase_add_test (tc, test_bad_style_while_playing);
  tcase_add_test (tc, test_style_layers_and_network);
  tcase_add_test (tc, test_flush_restarts);
  tcase_add_test (tc, test_latency);
  tcase_add_test (tc, test_stress_properties);
  return s;
}

GST_CHECK_MAIN (stylefilter_pipeline);
