/* element-fps.c - frames per second of the stylefilter element itself.
 *
 *   element-fps [--size WxH] [--frames N] [--iterations N]
 *               [--first-iterations N] [--processing-size N] [--style FILE]
 *               [--pattern NAME] [PROPERTY=VALUE ...]
 *
 * Runs
 *   videotestsrc is-live=false num-buffers=N pattern=ball
 *     ! video/x-raw,width=W,height=H ! stylefilter iterations=4 ...
 *     ! fakesink sync=false
 * to EOS and counts the buffers leaving stylefilter with a pad probe on its
 * source pad.  Frames per second are measured from the first output buffer
 * to the last, (count - 1) / (t_last - t_first): the set-up (device,
 * network, style image, pipelines) and the first frame, which starts a
 * sequence and may run `first-iterations`, are not in the figure.  The
 * stylefilter-stats messages give the optimiser iterations each frame
 * actually ran (L-BFGS can stop early) and the element's own milliseconds
 * per frame.  Why: the engine benchmark (bench) times one loss evaluation;
 * this is what a user of the element gets per frame, upload, flow, warm
 * start, the iterations, rendering back and download included.
 *
 * Defaults: 1280x720, 30 frames, iterations=4, first-iterations = the
 * iterations, processing-size 0 (the frame size, so the figure matches
 * bench's row of the same size), the style examples/scream.jpg of the
 * source tree, pattern ball (a moving picture, so the flow and the warm
 * start do real work).  Further PROPERTY=VALUE arguments go to
 * stylefilter.  Without GST_PLUGIN_PATH the plugin is taken from the build
 * tree (build/gst).  The last line is machine-readable:
 *   element-fps size=WxH processing-size=N iterations=N frames=N measured=N
 *     seconds=S fps=F ms_per_frame=M element_ms=E iters_per_frame=I
 * Not a test: it only measures.
 */
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  char *size;
  int frames;
  int iterations;
  int first_iterations;
  int processing_size;
  char *style;
  char *pattern;
  char **props;
} FpsOptions;

/* Filled by the pad probe (streaming thread) and the bus (main thread),
 * read after EOS: the mutex orders the probe's writes before the read. */
typedef struct
{
  GMutex lock;
  guint64 count;
  gint64 first_us;
  gint64 last_us;
  /* from stylefilter-stats, frames after the first */
  guint64 stats_frames;
  double iterations_sum;
  double element_ms_sum;
} FpsCounter;

static GstPadProbeReturn
count_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  FpsCounter *c = data;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&c->lock);
  if (c->count == 0)
    c->first_us = now;
  c->last_us = now;
  c->count++;
  g_mutex_unlock (&c->lock);
  return GST_PAD_PROBE_OK;
}

static void
take_stats (FpsCounter *c, const GstStructure *s)
{
  guint64 frame = 0;
  int iterations = 0;
  double ms = 0;

  if (!gst_structure_get_uint64 (s, "frame", &frame)
      || !gst_structure_get_int (s, "iterations", &iterations)
      || !gst_structure_get_double (s, "milliseconds", &ms) || frame == 0)
    return;
  c->stats_frames++;
  c->iterations_sum += iterations;
  c->element_ms_sum += ms;
}

static gboolean
parse_size (const char *s, int *w, int *h, GError **error)
{
  char *end = NULL;
  long a = strtol (s, &end, 10), b;
  const char *p;

  if (end == s || (*end != 'x' && *end != 'X'))
    goto bad;
  p = end + 1;
  b = strtol (p, &end, 10);
  if (end == p || *end != '\0' || a < 1 || b < 1 || a > 32768 || b > 32768)
    goto bad;
  *w = (int) a;
  *h = (int) b;
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "bad size '%s': expected WIDTHxHEIGHT, e.g. 1280x720", s);
  return FALSE;
}

static gboolean
parse_options (int *argc, char ***argv, FpsOptions *o, GError **error)
{
  GOptionEntry entries[] = {
    {"size", 's', 0, G_OPTION_ARG_STRING, &o->size,
        "Frame size (default 1280x720)", "WxH"},
    {"frames", 'n', 0, G_OPTION_ARG_INT, &o->frames,
        "Frames to run, at least 2 (default 30)", "N"},
    {"iterations", 'i', 0, G_OPTION_ARG_INT, &o->iterations,
        "stylefilter iterations per frame (default 4)", "N"},
    {"first-iterations", 0, 0, G_OPTION_ARG_INT, &o->first_iterations,
        "Iterations of the first frame (default: --iterations; the first "
        "frame is not measured)", "N"},
    {"processing-size", 'p', 0, G_OPTION_ARG_INT, &o->processing_size,
        "stylefilter processing-size (default 0: the frame size)", "N"},
    {"style", 0, 0, G_OPTION_ARG_FILENAME, &o->style,
        "Style image (default examples/scream.jpg)", "FILE"},
    {"pattern", 0, 0, G_OPTION_ARG_STRING, &o->pattern,
        "videotestsrc pattern (default ball)", "NAME"},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->props, NULL,
        "[PROPERTY=VALUE ...]"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new (NULL);
  gboolean ok;

  g_option_context_set_summary (ctx, "Frames per second of stylefilter "
      "(videotestsrc ! stylefilter ! fakesink), from the first output frame "
      "to the last.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  ok = g_option_context_parse (ctx, argc, argv, error);
  g_option_context_free (ctx);
  if (!ok)
    return FALSE;
  if (o->frames < 2 || o->iterations < 1 || o->processing_size < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--frames must be at least 2, --iterations at least 1 and "
        "--processing-size at least 0");
    return FALSE;
  }
  if (o->first_iterations < 1)
    o->first_iterations = o->iterations;
  if (!o->size)
    o->size = g_strdup ("1280x720");
  if (!o->style)
    o->style = g_strdup (SF_SOURCE_DIR "/examples/scream.jpg");
  if (!o->pattern)
    o->pattern = g_strdup ("ball");
  if (!g_file_test (o->style, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
        "style image %s not found (--style FILE)", o->style);
    return FALSE;
  }
  return TRUE;
}

static char *
make_description (const FpsOptions *o, int w, int h)
{
  GString *d = g_string_new (NULL);
  char *style = g_strescape (o->style, NULL);

  g_string_append_printf (d, "videotestsrc is-live=false num-buffers=%d "
      "pattern=%s ! video/x-raw,width=%d,height=%d ! stylefilter name=sf "
      "iterations=%d first-iterations=%d processing-size=%d "
      "style-location=\"%s\"", o->frames, o->pattern, w, h, o->iterations,
      o->first_iterations, o->processing_size, style);
  for (char **p = o->props; p && *p; p++) {
    const char *eq = strchr (*p, '=');
    if (eq && strchr (eq, ' '))
      g_string_append_printf (d, " %.*s\"%s\"", (int) (eq + 1 - *p), *p,
          eq + 1);
    else
      g_string_append_printf (d, " %s", *p);
  }
  g_string_append (d, " ! fakesink sync=false");
  g_free (style);
  return g_string_free (d, FALSE);
}

/* Runs the pipeline to EOS; FALSE with the first error message. */
static gboolean
run_pipeline (GstElement *pipe, FpsCounter *c, GError **error)
{
  GstBus *bus = gst_element_get_bus (pipe);
  gboolean ok = TRUE, done = FALSE;
  GstClockTime wait = GST_CLOCK_TIME_NONE;

  if (gst_element_set_state (pipe, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE) {
    /* the error message on the bus says why; don't wait for EOS */
    ok = FALSE;
    wait = 5 * GST_SECOND;
  }
  while (!done) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, wait,
        GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_ELEMENT);
    if (!m)
      break;
    switch (GST_MESSAGE_TYPE (m)) {
      case GST_MESSAGE_ERROR:{
        GError *e = NULL;
        char *dbg = NULL;
        gst_message_parse_error (m, &e, &dbg);
        g_printerr ("element-fps: error from %s: %s\n%s\n",
            GST_OBJECT_NAME (GST_MESSAGE_SRC (m)), e->message,
            dbg ? dbg : "");
        g_propagate_error (error, e);
        g_free (dbg);
        ok = FALSE;
        done = TRUE;
        break;
      }
      case GST_MESSAGE_EOS:
        done = TRUE;
        break;
      default:{
        const GstStructure *s = gst_message_get_structure (m);
        if (s && gst_structure_has_name (s, "stylefilter-stats"))
          take_stats (c, s);
        break;
      }
    }
    gst_message_unref (m);
  }
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  if (!ok && error && !*error)
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "the pipeline did not start");
  return ok;
}

static gboolean
measure (const FpsOptions *o, GError **error)
{
  FpsCounter c = { 0 };
  GstElement *pipe, *sf;
  GstPad *src;
  char *desc, *device = NULL;
  int w, h;
  gboolean ok;
  double seconds, fps;

  if (!parse_size (o->size, &w, &h, error))
    return FALSE;
  desc = make_description (o, w, h);
  printf ("pipeline: %s\n", desc);
  pipe = gst_parse_launch (desc, error);
  g_free (desc);
  if (!pipe)
    return FALSE;
  sf = gst_bin_get_by_name (GST_BIN (pipe), "sf");
  if (!sf) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "no stylefilter in the pipeline: is GST_PLUGIN_PATH right?");
    gst_object_unref (pipe);
    return FALSE;
  }
  g_mutex_init (&c.lock);
  src = gst_element_get_static_pad (sf, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &c, NULL);
  gst_object_unref (src);
  ok = run_pipeline (pipe, &c, error);
  g_object_get (sf, "device-name", &device, NULL);
  gst_object_unref (sf);
  gst_object_unref (pipe);

  g_mutex_lock (&c.lock);
  if (ok && c.count < 2) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
        "only %" G_GUINT64_FORMAT " frame(s) left stylefilter: need 2 to "
        "time one", c.count);
    ok = FALSE;
  }
  if (ok) {
    seconds = (c.last_us - c.first_us) / 1e6;
    fps = seconds > 0 ? (c.count - 1) / seconds : 0.0;
    printf ("device: %s\n", device ? device : "?");
    printf ("%" G_GUINT64_FORMAT " frames of %dx%d, %" G_GUINT64_FORMAT
        " timed (after the first) in %.3f s: %.3f frames/s, %.1f ms/frame; "
        "stylefilter's own %.1f ms/frame, %.2f iterations/frame\n", c.count,
        w, h, c.count - 1, seconds, fps, 1e3 * seconds / (c.count - 1),
        c.stats_frames ? c.element_ms_sum / c.stats_frames : 0.0,
        c.stats_frames ? c.iterations_sum / c.stats_frames : 0.0);
    printf ("element-fps size=%dx%d processing-size=%d iterations=%d "
        "frames=%" G_GUINT64_FORMAT " measured=%" G_GUINT64_FORMAT
        " seconds=%.4f fps=%.3f ms_per_frame=%.2f element_ms=%.2f "
        "iters_per_frame=%.2f\n", w, h, o->processing_size, o->iterations,
        c.count, c.count - 1, seconds, fps, 1e3 * seconds / (c.count - 1),
        c.stats_frames ? c.element_ms_sum / c.stats_frames : 0.0,
        c.stats_frames ? c.iterations_sum / c.stats_frames : 0.0);
  }
  g_mutex_unlock (&c.lock);
  g_mutex_clear (&c.lock);
  g_free (device);
  return ok;
}

int
main (int argc, char **argv)
{
  FpsOptions o = { NULL, 30, 4, 0, 0, NULL, NULL, NULL };
  GError *error = NULL;
  int status = 0;

  /* the build tree's plugin unless the caller says otherwise */
  if (!g_getenv ("GST_PLUGIN_PATH"))
    g_setenv ("GST_PLUGIN_PATH", SF_PLUGIN_DIR, TRUE);
  if (!parse_options (&argc, &argv, &o, &error) || !measure (&o, &error)) {
    fprintf (stderr, "element-fps: %s\n", error ? error->message : "failed");
    g_clear_error (&error);
    status = 1;
  }
  g_free (o.size);
  g_free (o.style);
  g_free (o.pattern);
  g_strfreev (o.props);
  return status;
}
