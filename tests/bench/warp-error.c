/* warp-error.c - temporal coherence of stylefilter on your own footage.
 *
 *   warp-error [--size WxH] [--frames N] CLIP [PROPERTY=VALUE ...]
 *
 * Decodes CLIP, scales it to WxH, runs it through stylefilter with the
 * given properties (e.g. style-location=examples/scream.jpg
 * warm-start=flow processing-size=128) and reports, for each pair of
 * consecutive frames and on average, the temporal warping error of Lai et
 * al. 2018 ("Learning Blind Video Temporal Consistency"): the mean squared
 * difference (values in [0,1]) between output frame t and output frame t-1
 * warped along the optical flow of the input, over the pixels the flow's
 * consistency mask keeps.  The same figure for the input clip is printed
 * beside it: a stylized clip cannot be steadier than about that.  Run it
 * once per setting to compare warm starts or weights.  The plugin is found
 * through GST_PLUGIN_PATH (build/gst).
 */
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <stdio.h>
#include <string.h>

#include "flow.h"

typedef struct
{
  SfDevice *dev;
  SfFlow *flow;
  int w, h;
  SfBuffer *in[2], *out[2];     /* previous and current, swapped */
} Measure;

static gboolean
upload_sample (Measure * m, GstSample * s, SfBuffer * dst, GError ** error)
{
  GstBuffer *buf = gst_sample_get_buffer (s);
  GstMapInfo map;
  gsize plane = (gsize) m->w * m->h;
  float *v;
  gboolean ok;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return FALSE;
  if (map.size < plane * 4) {
    gst_buffer_unmap (buf, &map);
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID, "short frame");
    return FALSE;
  }
  v = g_new (float, 3 * plane);
  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      v[c * plane + i] = map.data[4 * i + c] / 255.0f;
  gst_buffer_unmap (buf, &map);
  ok = sf_buffer_upload (m->dev, dst, 0, v, 3 * plane * 4, error);
  g_free (v);
  return ok;
}

static char *
make_description (const char *uri, int w, int h, int argc, char **argv)
{
  GString *d = g_string_new (NULL);

  g_string_append_printf (d, "uridecodebin uri=\"%s\" ! videoconvert ! "
      "videoscale ! video/x-raw,format=RGBA,width=%d,height=%d,"
      "pixel-aspect-ratio=1/1 ! tee name=t t. ! queue ! appsink name=in "
      "sync=false t. ! queue ! stylefilter", uri, w, h);
  /* PROPERTY=VALUE as gst-launch-1.0 takes them (a value with spaces in
   * double quotes) */
  for (int i = 0; i < argc; i++) {
    const char *eq = strchr (argv[i], '=');
    if (eq && strchr (eq, ' '))
      g_string_append_printf (d, " %.*s\"%s\"", (int) (eq + 1 - argv[i]),
          argv[i], eq + 1);
    else
      g_string_append_printf (d, " %s", argv[i]);
  }
  g_string_append (d, " ! appsink name=out sync=false");
  return g_string_free (d, FALSE);
}

static int
run (Measure * m, GstElement * pipeline, int max_frames)
{
  GstAppSink *in = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (pipeline),
          "in"));
  GstAppSink *out = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (pipeline),
          "out"));
  GError *err = NULL;
  double sum = 0, sum_in = 0;
  int n = 0, t;

  for (t = 0; max_frames <= 0 || t < max_frames; t++) {
    /* a stalled or failed pipeline ends the measurement, not the program */
    GstSample *si = gst_app_sink_try_pull_sample (in, 120 * GST_SECOND);
    GstSample *so = si ? gst_app_sink_try_pull_sample (out, 600 * GST_SECOND)
        : NULL;
    gboolean ok = si && so
        && upload_sample (m, si, m->in[t % 2], &err)
        && upload_sample (m, so, m->out[t % 2], &err);
    if (si)
      gst_sample_unref (si);
    if (so)
      gst_sample_unref (so);
    if (!ok)
      break;
    if (t > 0) {
      double e, ei, kept;
      if (!sf_flow_warp_error (m->flow, m->in[(t - 1) % 2], m->in[t % 2],
              m->out[(t - 1) % 2], m->out[t % 2], &e, &ei, &kept, &err))
        break;
      printf ("frames %3d-%3d: output %.6f  input %.6f  (%.0f%% of pixels "
          "kept)\n", t - 1, t, e, ei, 100 * kept);
      fflush (stdout);
      sum += e;
      sum_in += ei;
      n++;
    }
  }
  gst_object_unref (in);
  gst_object_unref (out);
  if (err) {
    fprintf (stderr, "warp-error: %s\n", err->message);
    g_error_free (err);
    return 1;
  }
  if (n == 0) {
    fprintf (stderr, "warp-error: fewer than two frames came out (see the "
        "pipeline's error above)\n");
    return 1;
  }
  printf ("warping error over %d frame pairs: output %.6f, input %.6f "
      "(ratio %.2f)\n", n, sum / n, sum_in / n, sum_in > 0 ? sum / sum_in : 0);
  return 0;
}

int
main (int argc, char **argv)
{
  char *size = NULL;
  int frames = 0, w = 0, h = 0, ret = 1;
  GError *err = NULL;
  GOptionEntry entries[] = {
    {"size", 's', 0, G_OPTION_ARG_STRING, &size,
        "Measuring size WxH (default 128x96)", "WxH"},
    {"frames", 'n', 0, G_OPTION_ARG_INT, &frames,
        "Stop after N frames (default: the whole clip)", "N"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("CLIP [PROPERTY=VALUE ...]");
  Measure m = { 0 };

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || argc < 2) {
    fprintf (stderr, "%s\n", err ? err->message :
        "usage: warp-error [--size WxH] [--frames N] CLIP [PROPERTY=VALUE ...]");
    g_clear_error (&err);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (!size || sscanf (size, "%dx%d", &w, &h) != 2) {
    w = 128;
    h = 96;
  }
  if (w < 16 || h < 16 || w > 4096 || h > 4096) {
    fprintf (stderr, "warp-error: --size must be between 16x16 and "
        "4096x4096\n");
    return 2;
  }
  m.w = w;
  m.h = h;
  char *uri = gst_uri_is_valid (argv[1]) ? g_strdup (argv[1])
      : gst_filename_to_uri (argv[1], &err);
  if (!uri)
    goto out;
  if (!(m.dev = sf_device_new (NULL, &err))
      || !(m.flow = sf_flow_new (m.dev, w, h, &err)))
    goto out;
  for (int i = 0; i < 2; i++)
    if (!(m.in[i] = sf_buffer_new (m.dev, 3 * (gsize) w * h * 4,
                SF_MEM_DEVICE, &err))
        || !(m.out[i] = sf_buffer_new (m.dev, 3 * (gsize) w * h * 4,
                SF_MEM_DEVICE, &err)))
      goto out;

  char *desc = make_description (uri, w, h, argc - 2, argv + 2);
  GstElement *pipeline = gst_parse_launch (desc, &err);
  g_free (desc);
  if (err) {                    /* also the recoverable errors */
    if (pipeline)
      gst_object_unref (pipeline);
    goto out;
  }
  printf ("%s at %dx%d, stylefilter", argv[1], w, h);
  for (int i = 2; i < argc; i++)
    printf (" %s", argv[i]);
  printf ("\n");
  fflush (stdout);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  ret = run (&m, pipeline, frames);
  GstMessage *msg = gst_bus_pop_filtered (GST_ELEMENT_BUS (pipeline),
      GST_MESSAGE_ERROR);
  if (msg) {
    GError *perr = NULL;
    gst_message_parse_error (msg, &perr, NULL);
    fprintf (stderr, "warp-error: pipeline error: %s\n", perr->message);
    g_error_free (perr);
    gst_message_unref (msg);
    ret = 1;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

out:
  if (err) {
    fprintf (stderr, "warp-error: %s\n", err->message);
    g_error_free (err);
  }
  for (int i = 0; i < 2; i++) {
    if (m.dev) {
      sf_buffer_free (m.dev, m.in[i]);
      sf_buffer_free (m.dev, m.out[i]);
    }
  }
  sf_flow_free (m.flow);
  if (m.dev)
    sf_device_free (m.dev);
  g_free (uri);
  g_free (size);
  return ret;
}
