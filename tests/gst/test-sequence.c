/* test-sequence.c - stylefilter's optimiser memory across the frames of a
 * sequence: warm frames go on from the previous frame's L-BFGS pairs and
 * run every iteration asked for; every restart event (scene cut, flush,
 * new segment, new caps, new processing size, new style, new network,
 * new loss weights) empties it; max-frame-time stops a frame early only
 * when the budget is short; with coarse-to-fine, frames that start afresh
 * run at half size first.  The figures come from the stylefilter-stats
 * messages (fields history, iterations, evaluations, stop-reason).
 */
#include "sftest.h"

#define W 32
#define H 24
#define FMT GST_VIDEO_FORMAT_RGBx

typedef struct
{
  GstHarness *h;
  GstBus *bus;
  guint32 seed;
} Seq;

static void
configure (GstElement * sf)
{
  g_object_set (sf, "iterations", 3, "first-iterations", 2, NULL);
}

static void
seq_init (Seq * q, gint width, gint height)
{
  gchar *caps = g_strdup_printf ("video/x-raw,format=RGBx,width=%d,height=%d,"
      "framerate=25/1", width, height);

  q->h = sftest_harness_new_full (configure);
  q->bus = gst_bus_new ();
  gst_element_set_bus (q->h->element, q->bus);
  gst_harness_set_src_caps_str (q->h, caps);
  q->seed = 1;
  g_free (caps);
}

static void
seq_clear (Seq * q)
{
  gst_element_set_bus (q->h->element, NULL);
  gst_object_unref (q->bus);
  gst_harness_teardown (q->h);
}

/* Pushes `buf` and returns a copy of its stats (free it). */
static GstStructure *
seq_push_buffer (Seq * q, GstBuffer * buf)
{
  GstStructure *stats = NULL;
  GstMessage *msg;
  GstBuffer *out;

  fail_unless_equals_int (gst_harness_push (q->h, buf), GST_FLOW_OK);
  out = gst_harness_pull (q->h);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  while ((msg = gst_bus_pop_filtered (q->bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "stylefilter-stats")) {
      if (stats)
        gst_structure_free (stats);
      stats = gst_structure_copy (s);
    }
    gst_message_unref (msg);
  }
  fail_unless (stats != NULL, "no stylefilter-stats message");
  return stats;
}

/* The test pattern with +-2 levels of fresh noise: a slowly changing
 * shot (change far below scene-threshold). */
static GstStructure *
seq_push (Seq * q, gint width, gint height)
{
  return seq_push_buffer (q, sftest_make_frame (FMT, width, height, 0, 2,
          q->seed++));
}

static gint
field_int (const GstStructure * s, const gchar * name)
{
  gint v = -1;

  fail_unless (gst_structure_get_int (s, name, &v), "no field %s", name);
  return v;
}

/* Pushes a frame and checks whether it went on from a memory. */
static void
expect_history (Seq * q, gboolean warm, const gchar * what)
{
  GstStructure *s = seq_push (q, W, H);
  gint history = field_int (s, "history");

  GST_INFO ("%s: history %d, iterations %d/%d, evaluations %d, stop %s",
      what, history, field_int (s, "iterations"),
      field_int (s, "max-iterations"), field_int (s, "evaluations"),
      gst_structure_get_string (s, "stop-reason"));
  if (warm)
    fail_unless (history > 0, "%s: the frame did not go on from the "
        "previous frame's memory", what);
  else
    fail_unless_equals_int (history, 0);
  gst_structure_free (s);
}

GST_START_TEST (test_warm_frames_run_all_iterations)
{
  Seq q;
  GstStructure *s;
  gint pairs = 0;

  seq_init (&q, W, H);
  s = seq_push (&q, W, H);
  fail_unless_equals_int (field_int (s, "history"), 0);
  fail_unless_equals_int (field_int (s, "max-iterations"), 2);
  gst_structure_free (s);
  for (gint t = 1; t < 5; t++) {
    s = seq_push (&q, W, H);
    /* all three, not the one that torch's evaluation budget allowed */
    fail_unless_equals_int (field_int (s, "iterations"), 3);
    fail_unless_equals_int (field_int (s, "max-iterations"), 3);
    fail_unless_equals_string (gst_structure_get_string (s, "stop-reason"),
        "iterations");
    fail_unless (field_int (s, "evaluations") >= 3);
    /* the memory grows by the pairs of each frame */
    fail_unless (field_int (s, "history") > pairs);
    pairs = field_int (s, "history");
    gst_structure_free (s);
  }
  seq_clear (&q);
}

GST_END_TEST;

/* Each event, then one frame that must start afresh and one that must
 * go on from it. */
GST_START_TEST (test_restart_events)
{
  Seq q;
  gchar *horses = sftest_example_path ("horses.jpg");
  GstSegment seg;

  seq_init (&q, W, H);
  expect_history (&q, FALSE, "first frame");
  expect_history (&q, TRUE, "second frame");

  /* a scene cut: a black frame */
  {
    GstBuffer *black = sftest_make_frame (FMT, W, H, 0, 0, 0);
    GstStructure *s;
    gboolean cut = FALSE;

    gst_buffer_memset (black, 0, 0, gst_buffer_get_size (black));
    s = seq_push_buffer (&q, black);
    fail_unless (gst_structure_get_boolean (s, "scene-cut", &cut) && cut);
    fail_unless_equals_int (field_int (s, "history"), 0);
    gst_structure_free (s);
    /* and back: another cut */
    expect_history (&q, FALSE, "cut back");
    expect_history (&q, TRUE, "after the cut");
  }

  fail_unless (gst_harness_push_event (q.h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (q.h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (q.h, gst_event_new_segment (&seg)));
  expect_history (&q, FALSE, "flush");
  expect_history (&q, TRUE, "after the flush");

  gst_segment_init (&seg, GST_FORMAT_TIME);
  seg.start = seg.time = 5 * GST_SECOND;
  fail_unless (gst_harness_push_event (q.h, gst_event_new_segment (&seg)));
  expect_history (&q, FALSE, "new segment (seek)");
  expect_history (&q, TRUE, "after the segment");

  g_object_set (q.h->element, "processing-size", 20, NULL);
  expect_history (&q, FALSE, "processing-size");
  expect_history (&q, TRUE, "after processing-size");

  g_object_set (q.h->element, "style-location", horses, NULL);
  expect_history (&q, FALSE, "style-location");
  expect_history (&q, TRUE, "after style-location");

  g_object_set (q.h->element, "seed", (guint64) 7, NULL);
  expect_history (&q, FALSE, "seed (new network)");
  expect_history (&q, TRUE, "after seed");

  g_object_set (q.h->element, "style-weight", 500.0, NULL);
  expect_history (&q, FALSE, "style-weight");
  expect_history (&q, TRUE, "after style-weight");

  /* new caps at the same processing size */
  gst_harness_set_src_caps_str (q.h,
      "video/x-raw,format=RGBx,width=32,height=24,framerate=30/1");
  expect_history (&q, FALSE, "new caps");
  expect_history (&q, TRUE, "after new caps");

  g_free (horses);
  seq_clear (&q);
}

GST_END_TEST;

/* A flushing seek back to the frame just sent (GES prerolls the first
 * frame, then seeks to it; an editor seeks to where it stands): the same
 * pixels at the same timestamp with the same settings are sent again from
 * their result, with no evaluation, byte for byte, and the next frame goes
 * on from it as a warm frame.  Anything different optimises afresh. */
static GstBuffer *
push_timed (Seq * q, GstBuffer * in, GstClockTime pts, GstStructure ** stats)
{
  GstMessage *msg;
  GstBuffer *out;

  GST_BUFFER_PTS (in) = pts;
  GST_BUFFER_DURATION (in) = 40 * GST_MSECOND;
  fail_unless_equals_int (gst_harness_push (q->h, in), GST_FLOW_OK);
  out = gst_harness_pull (q->h);
  fail_unless (out != NULL);
  *stats = NULL;
  while ((msg = gst_bus_pop_filtered (q->bus, GST_MESSAGE_ELEMENT))) {
    const GstStructure *s = gst_message_get_structure (msg);
    if (gst_structure_has_name (s, "stylefilter-stats")) {
      if (*stats)
        gst_structure_free (*stats);
      *stats = gst_structure_copy (s);
    }
    gst_message_unref (msg);
  }
  fail_unless (*stats != NULL, "no stylefilter-stats message");
  return out;
}

static void
flush (Seq * q)
{
  GstSegment seg;

  fail_unless (gst_harness_push_event (q->h, gst_event_new_flush_start ()));
  fail_unless (gst_harness_push_event (q->h, gst_event_new_flush_stop (TRUE)));
  gst_segment_init (&seg, GST_FORMAT_TIME);
  fail_unless (gst_harness_push_event (q->h, gst_event_new_segment (&seg)));
}

static void
expect_stop (GstStructure * s, const gchar * stop, gint max_iterations)
{
  GST_INFO ("stop %s, evaluations %d, max-iterations %d",
      gst_structure_get_string (s, "stop-reason"),
      field_int (s, "evaluations"), field_int (s, "max-iterations"));
  if (stop) {
    fail_unless_equals_string (gst_structure_get_string (s, "stop-reason"),
        stop);
  } else {
    fail_if (g_strcmp0 (gst_structure_get_string (s, "stop-reason"),
            "repeat") == 0, "a changed frame was sent again");
  }
  fail_unless_equals_int (field_int (s, "max-iterations"), max_iterations);
  gst_structure_free (s);
}

GST_START_TEST (test_same_frame_after_flush)
{
  GstBuffer *a = sftest_make_frame (FMT, W, H, 0, 2, 1);
  GstBuffer *b = sftest_make_frame (FMT, W, H, 1, 2, 2);
  GstBuffer *sent, *again, *out;
  GstStructure *s;
  Seq q;

  seq_init (&q, W, H);
  sent = push_timed (&q, gst_buffer_copy (a), 0, &s);
  expect_stop (s, NULL, 2);
  flush (&q);
  again = push_timed (&q, gst_buffer_copy (a), 0, &s);
  fail_unless_equals_int (field_int (s, "evaluations"), 0);
  expect_stop (s, "repeat", 0);
  fail_unless_equals_float (sftest_frame_mad (FMT, W, H, sent, again), 0.0);
  out = push_timed (&q, gst_buffer_copy (b), 40 * GST_MSECOND, &s);
  fail_unless (sftest_frame_mad (FMT, W, H, sent, out) > 0.0);
  gst_buffer_unref (out);
  expect_stop (s, NULL, 3);     /* a warm frame after the repeat */

  /* the same pixels at another time, other pixels at the same time,
   * other settings: optimised afresh */
  flush (&q);
  gst_buffer_unref (push_timed (&q, gst_buffer_copy (b), 0, &s));
  expect_stop (s, NULL, 2);
  flush (&q);
  gst_buffer_unref (push_timed (&q, gst_buffer_copy (a), 0, &s));
  expect_stop (s, NULL, 2);
  g_object_set (q.h->element, "style-weight", 500.0, NULL);
  flush (&q);
  gst_buffer_unref (push_timed (&q, gst_buffer_copy (a), 0, &s));
  expect_stop (s, NULL, 2);
  /* and with nothing changed it repeats again */
  flush (&q);
  gst_buffer_unref (push_timed (&q, gst_buffer_copy (a), 0, &s));
  expect_stop (s, "repeat", 0);
  /* the blend compared by value: set to another value and back between a
   * frame and its repeat (a control source on style-blend may, around
   * GES's seek), it still repeats; a new blend does not */
  g_object_set (q.h->element, "style-blend", 0.0, NULL);
  flush (&q);
  gst_buffer_unref (push_timed (&q, gst_buffer_copy (a), 0, &s));
  expect_stop (s, NULL, 2);
  g_object_set (q.h->element, "style-blend", 0.5, NULL);
  g_object_set (q.h->element, "style-blend", 0.0, NULL);
  flush (&q);
  gst_buffer_unref (push_timed (&q, gst_buffer_copy (a), 0, &s));
  expect_stop (s, "repeat", 0);

  gst_buffer_unref (sent);
  gst_buffer_unref (again);
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  seq_clear (&q);
}

GST_END_TEST;

/* max-frame-time: a 1 ms budget stops after the first iteration, a large
 * one lets all run. */
GST_START_TEST (test_max_frame_time)
{
  Seq q;
  GstStructure *s;

  seq_init (&q, W, H);
  g_object_set (q.h->element, "iterations", 6, "max-frame-time", 1, NULL);
  gst_structure_free (seq_push (&q, W, H));
  s = seq_push (&q, W, H);
  fail_unless_equals_int (field_int (s, "iterations"), 1);
  fail_unless_equals_string (gst_structure_get_string (s, "stop-reason"),
      "deadline");
  gst_structure_free (s);

  g_object_set (q.h->element, "max-frame-time", 600000, NULL);
  s = seq_push (&q, W, H);
  fail_unless_equals_int (field_int (s, "iterations"), 6);
  fail_unless_equals_string (gst_structure_get_string (s, "stop-reason"),
      "iterations");
  gst_structure_free (s);
  seq_clear (&q);
}

GST_END_TEST;

/* With coarse-to-fine, a frame that starts afresh at a processing size
 * with a coarse level (32x32: 16x16) runs 2 N iterations there and N / 2 at full size; a warm
 * frame none. */
GST_START_TEST (test_coarse_to_fine)
{
  Seq q;
  GstStructure *s;

  seq_init (&q, 32, 32);
  g_object_set (q.h->element, "processing-size", 32, "first-iterations", 4,
      "coarse-to-fine", TRUE, NULL);
  s = seq_push (&q, 32, 32);
  fail_unless_equals_int (field_int (s, "coarse-iterations"), 8);
  fail_unless_equals_int (field_int (s, "iterations"), 2);
  gst_structure_free (s);
  s = seq_push (&q, 32, 32);
  fail_unless_equals_int (field_int (s, "coarse-iterations"), 0);
  fail_unless_equals_int (field_int (s, "iterations"), 3);
  fail_unless (field_int (s, "history") > 0);
  gst_structure_free (s);
  seq_clear (&q);
}

GST_END_TEST;

static Suite *
stylefilter_sequence_suite (void)
{
  Suite *s = suite_create ("stylefilter-sequence");
  TCase *tc = tcase_create ("sequence");

  tcase_set_timeout (tc, SFTEST_TIMEOUT);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_warm_frames_run_all_iterations);
  tcase_add_test (tc, test_restart_events);
  tcase_add_test (tc, test_same_frame_after_flush);
  tcase_add_test (tc, test_max_frame_time);
  tcase_add_test (tc, test_coarse_to_fine);
  return s;
}

GST_CHECK_MAIN (stylefilter_sequence);
