/* embed.c - using the stylefilter element from a C program: builds
 *   videotestsrc ! videoconvert ! stylefilter ! videoconvert ! fakesink
 * (or, with --input, filesrc ! decodebin ! ... ), runs it on a GMainLoop
 * and prints every "stylefilter-stats" message the element posts.
 *
 *   embed --style examples/scream.jpg --frames 10 --size 64
 *   embed --style examples/scream.jpg --input clip.webm --size 128
 *
 * The plugin must be on the plugin path: GST_PLUGIN_PATH=$PWD/build/gst,
 * or run it under `meson devenv -C build`.
 */
#include <stdlib.h>

#include <gst/gst.h>

typedef struct
{
  GMainLoop *loop;
  gint status;
} EmbedState;

static void
print_stats (const GstStructure * s)
{
  guint64 frame = 0;
  gint iterations = 0;
  gdouble total = 0, content = 0, style = 0, temporal = 0, ms = 0;
  gboolean cut = FALSE;

  gst_structure_get (s,
      "frame", G_TYPE_UINT64, &frame,
      "iterations", G_TYPE_INT, &iterations,
      "total-loss", G_TYPE_DOUBLE, &total,
      "content-loss", G_TYPE_DOUBLE, &content,
      "style-loss", G_TYPE_DOUBLE, &style,
      "temporal-loss", G_TYPE_DOUBLE, &temporal,
      "milliseconds", G_TYPE_DOUBLE, &ms,
      "scene-cut", G_TYPE_BOOLEAN, &cut, NULL);
  g_print ("frame %4" G_GUINT64_FORMAT ": %3d iterations  loss %-10.4g "
      "(content %.4g, style %.4g, temporal %.4g)  %8.1f ms%s\n", frame,
      iterations, total, content, style, temporal, ms,
      cut ? "  [scene cut]" : "");
}

static gboolean
on_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  EmbedState *state = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (gst_structure_has_name (s, "stylefilter-stats"))
        print_stats (s);
      break;
    }
    case GST_MESSAGE_WARNING:{
      GError *err = NULL;

      gst_message_parse_warning (msg, &err, NULL);
      g_printerr ("warning: %s\n", err->message);
      g_clear_error (&err);
      break;
    }
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *debug = NULL;

      gst_message_parse_error (msg, &err, &debug);
      g_printerr ("error from %s: %s\n%s\n", GST_MESSAGE_SRC_NAME (msg),
          err->message, debug ? debug : "");
      g_clear_error (&err);
      g_free (debug);
      state->status = 1;
      g_main_loop_quit (state->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (state->loop);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static void
on_pad_added (GstElement * decode, GstPad * pad, gpointer user_data)
{
  GstElement *convert = user_data;
  GstPad *sinkpad = gst_element_get_static_pad (convert, "sink");
  GstCaps *caps = gst_pad_get_current_caps (pad);

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (!gst_pad_is_linked (sinkpad) && g_str_has_prefix
      (gst_structure_get_name (gst_caps_get_structure (caps, 0)), "video/"))
    gst_pad_link (pad, sinkpad);
  gst_caps_unref (caps);
  gst_object_unref (sinkpad);
}

static GstElement *
make (const gchar * factory, const gchar * name)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (e == NULL) {
    g_printerr ("no element \"%s\": is the plugin on GST_PLUGIN_PATH?\n",
        factory);
    exit (1);
  }
  return e;
}

int
main (int argc, char **argv)
{
  gchar *style = NULL, *input = NULL;
  gint frames = 10, size = 64, iterations = 5, first_iterations = 10;
  GOptionEntry entries[] = {
    {"style", 's', 0, G_OPTION_ARG_FILENAME, &style, "Style image", "FILE"},
    {"input", 'i', 0, G_OPTION_ARG_FILENAME, &input,
        "Video file to stylize (default: a test pattern)", "FILE"},
    {"frames", 'n', 0, G_OPTION_ARG_INT, &frames,
        "Test pattern frames (default 10)", "N"},
    {"size", 'p', 0, G_OPTION_ARG_INT, &size,
        "processing-size (default 64)", "PIXELS"},
    {"iterations", 't', 0, G_OPTION_ARG_INT, &iterations,
        "iterations per frame (default 5)", "N"},
    {"first-iterations", 'f', 0, G_OPTION_ARG_INT, &first_iterations,
        "iterations for the first frame (default 10)", "N"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- print stylefilter stats");
  GError *err = NULL;
  GstElement *pipeline, *src, *convert, *filter, *convert2, *sink;
  EmbedState state = { NULL, 0 };
  GstBus *bus;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (style == NULL) {
    g_printerr ("usage: %s --style IMAGE [--input VIDEO] [--frames N] "
        "[--size PIXELS]\n", argv[0]);
    return 2;
  }

  pipeline = gst_pipeline_new ("embed");
  convert = make ("videoconvert", NULL);
  filter = make ("stylefilter", "style");
  convert2 = make ("videoconvert", NULL);
  sink = make ("fakesink", NULL);
  g_object_set (filter, "style-location", style, "processing-size", size,
      "iterations", iterations, "first-iterations", first_iterations, NULL);

  if (input) {
    GstElement *decode = make ("decodebin", NULL);

    src = make ("filesrc", NULL);
    g_object_set (src, "location", input, NULL);
    gst_bin_add_many (GST_BIN (pipeline), src, decode, convert, filter,
        convert2, sink, NULL);
    gst_element_link (src, decode);
    /* decodebin's pads appear once the stream type is known */
    g_signal_connect (decode, "pad-added", G_CALLBACK (on_pad_added),
        convert);
  } else {
    src = make ("videotestsrc", NULL);
    g_object_set (src, "num-buffers", frames, "pattern", 18 /* ball */ ,
        NULL);
    gst_bin_add_many (GST_BIN (pipeline), src, convert, filter, convert2,
        sink, NULL);
    gst_element_link (src, convert);
  }
  gst_element_link_many (convert, filter, convert2, sink, NULL);

  state.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_message, &state);

  /* a failed state change leaves its error message on the bus, for the
   * loop to print; a bad style-location fails here, for example */
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE && !gst_bus_have_pending (bus)) {
    g_printerr ("cannot start the pipeline\n");
    state.status = 1;
  } else {
    g_main_loop_run (state.loop);
  }

  {
    gchar *device = NULL;

    g_object_get (filter, "device-name", &device, NULL);
    if (device)
      g_print ("device: %s\n", device);
    g_free (device);
  }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_bus_remove_watch (bus);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_main_loop_unref (state.loop);
  g_free (style);
  g_free (input);
  return state.status;
}
