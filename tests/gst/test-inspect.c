/* test-inspect.c - the plugin is found through GST_PLUGIN_PATH and
 * gst-inspect-1.0 shows the element with every property; the property
 * specs (types, defaults, ranges, mutability) are as documented.
 */
#include "sftest.h"

/* GstStyleFilterFlowWarp's default */
#define FLOW_WARP_DEFAULT 2     /* style */

static const gchar *properties[] = {
  "style-location", "style-locations", "style-blend-weights", "style-blend",
  "model-location", "iterations", "first-iterations",
  "content-weight", "style-weight", "tv-weight", "range-weight",
  "temporal-weight", "warm-start", "optimizer", "learning-rate",
  "processing-size", "pooling", "network", "style-layers", "preserve-colors",
  "color-mode", "style-scale", "device",
  "seed", "scene-threshold", "max-frame-time", "flow-warp", "coarse-to-fine",
  "upscale", "detail", "drain", "device-name",
};

GST_START_TEST (test_gst_inspect)
{
  const gchar *argv[] = { "gst-inspect-1.0", "stylefilter", NULL };
  gchar *out = NULL, *err_out = NULL;
  GError *err = NULL;
  gint status = 0;
  guint i;

  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH,
          NULL, NULL, &out, &err_out, &status, &err), "%s",
      err ? err->message : "");
  fail_unless (g_spawn_check_wait_status (status, NULL),
      "gst-inspect-1.0 failed: %s", err_out);
  for (i = 0; i < G_N_ELEMENTS (properties); i++) {
    gchar *needle = g_strdup_printf ("\n  %s ", properties[i]);

    fail_unless (strstr (out, needle) != NULL, "%s missing:\n%s",
        properties[i], out);
    g_free (needle);
  }
  fail_unless (strstr (out, "Filter/Effect/Video") != NULL);
  /* every property of the class is in the list above */
  {
    guint n;
    GstElement *sf = gst_element_factory_make ("stylefilter", NULL);
    GObjectClass *klass = G_OBJECT_GET_CLASS (sf);
    GParamSpec **specs = g_object_class_list_properties (klass, &n);
    guint own = 0;

    for (i = 0; i < n; i++)
      own += specs[i]->owner_type == G_OBJECT_CLASS_TYPE (klass);
    fail_unless_equals_int (own, G_N_ELEMENTS (properties));
    g_free (specs);
    gst_object_unref (sf);
  }
  fail_unless (strstr (out, "(0): none") != NULL);
  fail_unless (strstr (out, "(1): previous") != NULL);
  fail_unless (strstr (out, "(0): lbfgs") != NULL);
  fail_unless (strstr (out, "(1): adam") != NULL);
  fail_unless (strstr (out, "(0): max") != NULL);
  fail_unless (strstr (out, "(1): avg") != NULL);
  fail_unless (strstr (out, "(1): bicubic") != NULL);
  fail_unless (strstr (out, "(2): style") != NULL);
  g_free (out);
  g_free (err_out);
}

GST_END_TEST;

GST_START_TEST (test_property_specs)
{
  GstElement *sf = gst_element_factory_make ("stylefilter", NULL);
  GObjectClass *klass;
  GParamSpec *p;
  guint i;

  fail_unless (sf != NULL);
  klass = G_OBJECT_GET_CLASS (sf);
  for (i = 0; i < G_N_ELEMENTS (properties); i++) {
    p = g_object_class_find_property (klass, properties[i]);
    fail_unless (p != NULL, "no property %s", properties[i]);
    if (strcmp (properties[i], "device-name") == 0)
      fail_if (p->flags & G_PARAM_WRITABLE);
    else
      fail_unless (p->flags & GST_PARAM_MUTABLE_PLAYING,
          "%s not changeable while playing", properties[i]);
  }

  p = g_object_class_find_property (klass, "processing-size");
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->default_value, 512);
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->minimum, 0);
  p = g_object_class_find_property (klass, "iterations");
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->default_value, 10);
  p = g_object_class_find_property (klass, "first-iterations");
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->default_value, 50);
  p = g_object_class_find_property (klass, "scene-threshold");
  fail_unless (G_PARAM_SPEC_DOUBLE (p)->default_value == 0.1);
  fail_unless (G_PARAM_SPEC_DOUBLE (p)->maximum == 1.0);
  p = g_object_class_find_property (klass, "max-frame-time");
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->default_value, 0);
  p = g_object_class_find_property (klass, "flow-warp");
  fail_unless_equals_string (g_type_name (p->value_type),
      "GstStyleFilterFlowWarp");
  fail_unless_equals_int (G_PARAM_SPEC_ENUM (p)->default_value,
      FLOW_WARP_DEFAULT);
  p = g_object_class_find_property (klass, "seed");
  fail_unless (G_IS_PARAM_SPEC_UINT64 (p));
  /* the measured defaults (README "The built-in network") */
  p = g_object_class_find_property (klass, "network");
  fail_unless_equals_string (g_type_name (p->value_type),
      "GstStyleFilterNetwork");
  fail_unless_equals_int (G_PARAM_SPEC_ENUM (p)->default_value,
      0 /* structured */ );
  p = g_object_class_find_property (klass, "style-layers");
  fail_unless_equals_string (g_type_name (p->value_type),
      "GstStyleFilterStyleLayers");
  fail_unless_equals_int (G_PARAM_SPEC_FLAGS (p)->default_value,
      0x1f /* relu1_1 .. relu5_1 */ );
  fail_unless_equals_int (G_PARAM_SPEC_FLAGS (p)->flags_class->mask, 0x1f);
  p = g_object_class_find_property (klass, "tv-weight");
  fail_unless (G_PARAM_SPEC_DOUBLE (p)->default_value == 100.0);
  p = g_object_class_find_property (klass, "style-weight");
  fail_unless (G_PARAM_SPEC_DOUBLE (p)->default_value == 1e3);
  p = g_object_class_find_property (klass, "pooling");
  fail_unless_equals_int (G_PARAM_SPEC_ENUM (p)->default_value, 1 /* avg */ );
  p = g_object_class_find_property (klass, "warm-start");
  fail_unless_equals_string (g_type_name (p->value_type),
      "GstStyleFilterWarmStart");
  fail_unless_equals_int (G_PARAM_SPEC_ENUM (p)->default_value,
      2 /* flow */ );

  gst_object_unref (sf);
}

GST_END_TEST;

static Suite *
stylefilter_inspect_suite (void)
{
  Suite *s = suite_create ("stylefilter-inspect");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, SFTEST_TIMEOUT);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_gst_inspect);
  tcase_add_test (tc, test_property_specs);
  return s;
}

GST_CHECK_MAIN (stylefilter_inspect);
