/* test-keyframes.c - keyframes: a GstInterpolationControlSource bound to a
 * weight animates it frame by frame (the element syncs the controlled
 * properties to each buffer's stream time before it copies its settings),
 * and the stylefilter-stats message reports the weights in force; the
 * same for style-blend, the cross-fade between several styles.
 */
#include <gst/controller/gstinterpolationcontrolsource.h>
#include <gst/controller/gstdirectcontrolbinding.h>

#include "sftest.h"

#define FRAMES 10

static void
collect (GstMessage * msg, gpointer user_data)
{
  GArray *weights = user_data;
  const GstStructure *s = gst_message_get_structure (msg);
  gdouble w = -1;

  if (!gst_structure_has_name (s, "stylefilter-stats"))
    return;
  fail_unless (gst_structure_get_double (s, "style-weight", &w));
  g_array_append_val (weights, w);
}

/* style-weight ramps linearly from 0 at the first frame to 1e3 at the
 * last (9/25 s): the stats follow it, frame by frame */
GST_START_TEST (test_style_weight_ramp)
{
  GstElement *pipeline = gst_parse_launch ("videotestsrc num-buffers=10 ! "
      "video/x-raw,format=RGBx,width=32,height=24,framerate=25/1 ! "
      "stylefilter name=sf ! fakesink", NULL);
  GstElement *sf = gst_bin_get_by_name (GST_BIN (pipeline), "sf");
  GstControlSource *cs = gst_interpolation_control_source_new ();
  GArray *weights = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GParamSpec *p;

  p = g_object_class_find_property (G_OBJECT_GET_CLASS (sf), "style-weight");
  fail_unless (p->flags & GST_PARAM_CONTROLLABLE);
  sftest_set_fast (sf);
  g_object_set (cs, "mode", GST_INTERPOLATION_MODE_LINEAR, NULL);
  gst_timed_value_control_source_set (GST_TIMED_VALUE_CONTROL_SOURCE (cs),
      0, 0.0);
  gst_timed_value_control_source_set (GST_TIMED_VALUE_CONTROL_SOURCE (cs),
      gst_util_uint64_scale (FRAMES - 1, GST_SECOND, 25), 1e3);
  fail_unless (gst_object_add_control_binding (GST_OBJECT (sf),
          gst_direct_control_binding_new_absolute (GST_OBJECT (sf),
              "style-weight", cs)));

  sftest_assert_no_error (sftest_run_pipeline (pipeline, collect, weights));
  fail_unless_equals_int (weights->len, FRAMES);
  for (guint i = 0; i < weights->len; i++) {
    gdouble want = 1e3 * i / (FRAMES - 1), got = g_array_index (weights,
        gdouble, i);
    g_print ("frame %u: style-weight %g (ramp %g)\n", i, got, want);
    fail_unless (fabs (got - want) <= 1e-6 * 1e3, "frame %u: %g, not %g", i,
        got, want);
  }
  g_array_unref (weights);
  gst_object_unref (cs);
  gst_object_unref (sf);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* style-blend ramps from 0 (The Scream alone) to 1 (the dog alone) over
 * the 10 frames: the stats follow it (test_crossfade in test-blend.c
 * checks what a position paints), and
 * no frame runs the network on the style images again (style-passes
 * stays at the two of the start) */
typedef struct
{
  GArray *blend, *passes;
} BlendStats;

static void
collect_blend (GstMessage * msg, gpointer user_data)
{
  BlendStats *b = user_data;
  const GstStructure *s = gst_message_get_structure (msg);
  gdouble x = -2;
  guint passes = 0;

  if (!gst_structure_has_name (s, "stylefilter-stats"))
    return;
  fail_unless (gst_structure_get_double (s, "style-blend", &x));
  fail_unless (gst_structure_get_uint (s, "style-passes", &passes));
  g_array_append_val (b->blend, x);
  g_array_append_val (b->passes, passes);
}

GST_START_TEST (test_style_blend_ramp)
{
  GstElement *pipeline = gst_parse_launch ("videotestsrc num-buffers=10 ! "
      "video/x-raw,format=RGBx,width=32,height=24,framerate=25/1 ! "
      "stylefilter name=sf ! fakesink", NULL);
  GstElement *sf = gst_bin_get_by_name (GST_BIN (pipeline), "sf");
  GstControlSource *cs = gst_interpolation_control_source_new ();
  gchar *a = sftest_example_path ("scream.jpg");
  gchar *d = sftest_example_path ("dog.jpg");
  gchar *list = g_strdup_printf ("<\"%s\",\"%s\">", a, d);
  BlendStats b = { g_array_new (FALSE, FALSE, sizeof (gdouble)),
    g_array_new (FALSE, FALSE, sizeof (guint))
  };

  sftest_set_fast (sf);
  gst_util_set_object_arg (G_OBJECT (sf), "style-locations", list);
  g_object_set (cs, "mode", GST_INTERPOLATION_MODE_LINEAR, NULL);
  gst_timed_value_control_source_set (GST_TIMED_VALUE_CONTROL_SOURCE (cs),
      0, 0.0);
  gst_timed_value_control_source_set (GST_TIMED_VALUE_CONTROL_SOURCE (cs),
      gst_util_uint64_scale (FRAMES - 1, GST_SECOND, 25), 1.0);
  fail_unless (gst_object_add_control_binding (GST_OBJECT (sf),
          gst_direct_control_binding_new_absolute (GST_OBJECT (sf),
              "style-blend", cs)));

  sftest_assert_no_error (sftest_run_pipeline (pipeline, collect_blend, &b));
  fail_unless_equals_int (b.blend->len, FRAMES);
  for (guint i = 0; i < FRAMES; i++) {
    gdouble want = (gdouble) i / (FRAMES - 1);
    gdouble got = g_array_index (b.blend, gdouble, i);
    guint passes = g_array_index (b.passes, guint, i);
    g_print ("frame %u: style-blend %g (ramp %g), style passes %u\n", i, got,
        want, passes);
    fail_unless (fabs (got - want) <= 1e-9, "frame %u: %g, not %g", i, got,
        want);
    fail_unless_equals_int (passes, 2);
  }
  g_array_unref (b.blend);
  g_array_unref (b.passes);
  g_free (list);
  g_free (a);
  g_free (d);
  gst_object_unref (cs);
  gst_object_unref (sf);
  gst_object_unref (pipeline);
}

GST_END_TEST;

/* gst-inspect shows the flag on the weights and style-scale */
GST_START_TEST (test_controllable_flags)
{
  GstElement *sf = gst_element_factory_make ("stylefilter", NULL);
  const gchar *names[] = { "content-weight", "style-weight", "tv-weight",
    "temporal-weight", "range-weight", "style-scale", "style-blend", "detail"
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    GParamSpec *p = g_object_class_find_property (G_OBJECT_GET_CLASS (sf),
        names[i]);
    fail_unless (p && (p->flags & GST_PARAM_CONTROLLABLE), "%s", names[i]);
  }
  gst_object_unref (sf);
}

GST_END_TEST;

static Suite *
stylefilter_keyframes_suite (void)
{
  Suite *s = suite_create ("stylefilter-keyframes");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, SFTEST_TIMEOUT);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_controllable_flags);
  tcase_add_test (tc, test_style_weight_ramp);
  tcase_add_test (tc, test_style_blend_ramp);
  return s;
}

GST_CHECK_MAIN (stylefilter_keyframes);
