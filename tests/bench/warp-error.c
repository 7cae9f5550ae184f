/* warp-error.c - temporal coherence and a video-quality report of
 * stylefilter on your own footage.
 *
 *   warp-error [--size WxH] [--frames N] [--set "PROP=VAL PROP=VAL" ...]
 *              [--png-dir DIR] CLIP [PROPERTY=VALUE ...]
 *   warp-error [--size WxH] [--frames N] --stylized OUTPUT CLIP
 *
 * Decodes CLIP, scales it to WxH, runs it through stylefilter with the
 * given properties (e.g. style-location=examples/scream.jpg
 * warm-start=flow processing-size=128) and reports, for each pair of
 * consecutive frames and on average, the temporal warping error of Lai et
 * al. 2018 ("Learning Blind Video Temporal Consistency"): the mean squared
 * difference (values in [0,1]) between output frame t and output frame t-1
 * warped along the optical flow of the input, over the pixels the flow's
 * consistency mask keeps.  The same figure for the input clip is printed
 * beside it: a stylized clip cannot be steadier than about that.
 *
 * The positional PROPERTY=VALUEs are common to every run; each --set is
 * one more run, in this process one after the other, with its properties
 * after them (no --set: one run).  Then one markdown table, a row per run:
 * losses, evaluations, iterations and ms per frame (the stylefilter-stats
 * bus messages), the output's sharpness (variance of the Laplacian of the
 * luma) against the input's and output frame 0's, the warping errors.
 * --png-dir DIR writes each run's first and last output frame as
 * DIR/I-first.png, DIR/I-last.png.  --stylized OUTPUT measures a clip
 * stylized already (examples/render-segments' joined file) against CLIP,
 * its input, frame by frame, with no stylefilter run and no properties.
 * See tests/bench/README.md.  The plugin
 * is found through GST_PLUGIN_PATH (build/gst).
 */
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>

#include "flow.h"

#define SHARP_LAST 3            /* frames averaged for "sharpness last" */

typedef struct
{
  SfDevice *dev;
  SfFlow *flow;
  int w, h;
  SfBuffer *in[2], *out[2];     /* previous and current, swapped */
  char *stylized;               /* --stylized: its URI, or NULL */
} Measure;

/* One frame's stylefilter-stats message: v[F_EVALS] is the iterations
 * where the evaluations field is absent. */
enum
{ F_STYLE, F_CONTENT, F_MS, F_ITERS, F_EVALS, F_N };

typedef struct
{
  gboolean seen, cut;
  double v[F_N];
  const char *stop_reason;      /* interned; NULL without the field */
} FrameStats;

/* One run (one property set). */
typedef struct
{
  char *label;                  /* the set's own properties */
  GArray *stats;                /* FrameStats, by frame number */
  GArray *sharp_in, *sharp_out; /* double, by frame */
  GstSample *first, *last;      /* output frames for --png-dir */
  double warp, warp_in;         /* means over the pairs */
  int frames, pairs;
  gboolean failed, no_evals;    /* no_evals: a message without evaluations */
  gboolean bus_error;           /* the pipeline posted an error */
} Run;

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

/* Variance of the 4-neighbour discrete Laplacian (0 1 0 / 1 -4 1 / 0 1 0)
 * of the luma (BT.601: 0.299 R + 0.587 G + 0.114 B, 0..255) over the
 * interior pixels of a w x h RGBA frame (stride 4 w).  -1 on failure. */
static double
sharpness (Measure * m, GstSample * s)
{
  GstBuffer *buf = gst_sample_get_buffer (s);
  GstMapInfo map;
  int w = m->w, h = m->h;
  double sum = 0, sum2 = 0, n = (double) (w - 2) * (h - 2);
  float *y;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return -1;
  if (map.size < (gsize) w * h * 4) {
    gst_buffer_unmap (buf, &map);
    return -1;
  }
  y = g_new (float, (gsize) w * h);
  for (gsize i = 0; i < (gsize) w * h; i++)
    y[i] = 0.299f * map.data[4 * i] + 0.587f * map.data[4 * i + 1]
        + 0.114f * map.data[4 * i + 2];
  gst_buffer_unmap (buf, &map);
  for (int r = 1; r < h - 1; r++)
    for (int c = 1; c < w - 1; c++) {
      const float *p = y + (gsize) r * w + c;
      double l = p[-1] + p[1] + p[-w] + p[w] - 4.0 * p[0];
      sum += l;
      sum2 += l * l;
    }
  g_free (y);
  return sum2 / n - (sum / n) * (sum / n);
}

/* PROPERTY=VALUE as gst-launch-1.0 takes them (a value with spaces in
 * double quotes) */
static void
append_properties (GString * d, int argc, char **argv)
{
  for (int i = 0; i < argc; i++) {
    const char *eq = strchr (argv[i], '=');
    if (eq && strchr (eq, ' '))
      g_string_append_printf (d, " %.*s\"%s\"", (int) (eq + 1 - argv[i]),
          argv[i], eq + 1);
    else
      g_string_append_printf (d, " %s", argv[i]);
  }
}

/* CLIP (uri) decoded to appsink "in" and, through stylefilter, to "out";
 * or with stylized (a URI) that clip decoded to "out" beside it. */
static char *
make_description (const char *uri, const char *stylized, int w, int h,
    int argc, char **argv, char **set)
{
  GString *d = g_string_new (NULL);
  const char *scale = "videoconvert ! videoscale ! "
      "video/x-raw,format=RGBA,width=%d,height=%d,pixel-aspect-ratio=1/1";

  if (stylized) {
    g_string_append_printf (d, "uridecodebin uri=\"%s\" ! ", uri);
    g_string_append_printf (d, scale, w, h);
    g_string_append_printf (d, " ! appsink name=in sync=false "
        "uridecodebin uri=\"%s\" ! ", stylized);
    g_string_append_printf (d, scale, w, h);
    g_string_append (d, " ! appsink name=out sync=false");
    return g_string_free (d, FALSE);
  }
  g_string_append_printf (d, "uridecodebin uri=\"%s\" ! ", uri);
  g_string_append_printf (d, scale, w, h);
  g_string_append (d, " ! tee name=t t. ! queue ! appsink name=in "
      "sync=false t. ! queue ! stylefilter");
  append_properties (d, argc, argv);
  if (set)
    append_properties (d, g_strv_length (set), set);
  g_string_append (d, " ! appsink name=out sync=false");
  return g_string_free (d, FALSE);
}

/* label: the set's properties, taken */
static void
run_init (Run * r, char *label)
{
  r->label = label;
  r->stats = g_array_new (FALSE, TRUE, sizeof (FrameStats));
  r->sharp_in = g_array_new (FALSE, FALSE, sizeof (double));
  r->sharp_out = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
run_clear (Run * r)
{
  g_free (r->label);
  g_array_unref (r->stats);
  g_array_unref (r->sharp_in);
  g_array_unref (r->sharp_out);
  if (r->first)
    gst_sample_unref (r->first);
  if (r->last)
    gst_sample_unref (r->last);
}

static void
record_stats (Run * r, const GstStructure * st)
{
  guint64 frame = r->stats->len;
  FrameStats fs = { TRUE };
  int it = 0, ev;

  gst_structure_get_uint64 (st, "frame", &frame);
  if (frame > 100000)
    return;
  gst_structure_get_int (st, "iterations", &it);
  if (!gst_structure_get_int (st, "evaluations", &ev)) {
    ev = it;
    r->no_evals = TRUE;
  }
  fs.v[F_ITERS] = it;
  fs.v[F_EVALS] = ev;
  gst_structure_get_double (st, "style-loss", &fs.v[F_STYLE]);
  gst_structure_get_double (st, "content-loss", &fs.v[F_CONTENT]);
  gst_structure_get_double (st, "milliseconds", &fs.v[F_MS]);
  gst_structure_get_boolean (st, "scene-cut", &fs.cut);
  fs.stop_reason = g_intern_string (gst_structure_get_string (st,
          "stop-reason"));
  if (frame >= r->stats->len)
    g_array_set_size (r->stats, frame + 1);
  g_array_index (r->stats, FrameStats, frame) = fs;
}

/* Takes the stats and errors queued on the bus. */
static void
drain_bus (GstElement * pipeline, Run * r)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;

  while ((msg = gst_bus_pop (bus))) {
    const GstStructure *st = gst_message_get_structure (msg);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
        && gst_structure_has_name (st, "stylefilter-stats")) {
      record_stats (r, st);
    } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *perr = NULL;
      gst_message_parse_error (msg, &perr, NULL);
      fprintf (stderr, "warp-error: pipeline error: %s\n", perr->message);
      g_error_free (perr);
      r->bus_error = TRUE;
    }
    gst_message_unref (msg);
  }
  gst_object_unref (bus);
}

/* The next sample of an appsink, waiting up to timeout_s seconds and
 * taking the bus's messages meanwhile; NULL at EOS, after a pipeline error
 * or the timeout.  Neither sink gives a sample before the pipeline is
 * PLAYING, that is before stylefilter's first frame has prerolled the out
 * sink. */
static GstSample *
pull (GstAppSink * sink, GstElement * pipeline, Run * r, int timeout_s)
{
  for (int i = 0; i < timeout_s; i++) {
    GstSample *s = gst_app_sink_try_pull_sample (sink, GST_SECOND);
    if (s)
      return s;
    drain_bus (pipeline, r);
    if (r->bus_error || gst_app_sink_is_eos (sink))
      return NULL;
  }
  fprintf (stderr, "warp-error: no frame from %s in %d s\n",
      GST_OBJECT_NAME (sink), timeout_s);
  return NULL;
}

/* Sharpness of both frames, the output kept for --png-dir. */
static gboolean
note_frame (Measure * m, Run * r, GstSample * si, GstSample * so)
{
  double a = sharpness (m, si), b = sharpness (m, so);

  if (a < 0 || b < 0)
    return FALSE;
  g_array_append_val (r->sharp_in, a);
  g_array_append_val (r->sharp_out, b);
  if (!r->first)
    r->first = gst_sample_ref (so);
  if (r->last)
    gst_sample_unref (r->last);
  r->last = gst_sample_ref (so);
  return TRUE;
}

static int
run (Measure * m, GstElement * pipeline, int max_frames, Run * r)
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
    GstSample *si = pull (in, pipeline, r, 600);
    GstSample *so = si ? pull (out, pipeline, r, 600) : NULL;
    gboolean ok = si && so
        && upload_sample (m, si, m->in[t % 2], &err)
        && upload_sample (m, so, m->out[t % 2], &err)
        && note_frame (m, r, si, so);
    if (si)
      gst_sample_unref (si);
    if (so)
      gst_sample_unref (so);
    drain_bus (pipeline, r);
    if (!ok)
      break;
    if (t > 0) {
      double e, ei, kept;
      if (!sf_flow_warp_error (m->flow, m->in[(t - 1) % 2], m->in[t % 2],
              m->out[(t - 1) % 2], m->out[t % 2], &e, &ei, &kept, &err))
        break;
      printf ("frames %3d-%3d: output %.6g  input %.6g  (%.0f%% of pixels "
          "kept)\n", t - 1, t, e, ei, 100 * kept);
      fflush (stdout);
      sum += e;
      sum_in += ei;
      n++;
    }
  }
  gst_object_unref (in);
  gst_object_unref (out);
  r->frames = r->sharp_out->len;
  r->pairs = n;
  r->warp = n ? sum / n : 0;
  r->warp_in = n ? sum_in / n : 0;
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

/* DIR/INDEX-first.png and -last.png through pngenc; 0 on success */
static int
write_pngs (Run * r, int index, const char *dir)
{
  const char *which[2] = { "first", "last" };
  GstSample *s[2] = { r->first, r->last };
  GstCaps *caps = gst_caps_new_empty_simple ("image/png");
  int ret = 0;

  for (int i = 0; dir && r->first && i < 2; i++) {
    char *path = g_strdup_printf ("%s/%d-%s.png", dir, index, which[i]);
    GError *err = NULL;
    GstSample *png = gst_video_convert_sample (s[i], caps, 60 * GST_SECOND,
        &err);
    GstMapInfo map;
    gboolean ok = png && g_mkdir_with_parents (dir, 0755) == 0
        && gst_buffer_map (gst_sample_get_buffer (png), &map, GST_MAP_READ);
    if (ok) {
      ok = g_file_set_contents (path, (const char *) map.data, map.size,
          &err);
      gst_buffer_unmap (gst_sample_get_buffer (png), &map);
    }
    if (ok)
      printf ("wrote %s\n", path);
    else {
      fprintf (stderr, "warp-error: %s: %s\n", path,
          err ? err->message : "cannot encode or write the PNG");
      g_clear_error (&err);
      ret = 1;
    }
    if (png)
      gst_sample_unref (png);
    g_free (path);
  }
  gst_caps_unref (caps);
  return ret;
}

/* One pipeline: CLIP through stylefilter with the common properties and
 * the set's; 0 on success. */
static int
run_set (Measure * m, const char *clip, const char *uri, int frames,
    int argc, char **argv, char **set, Run * r)
{
  GError *err = NULL;
  char *desc = make_description (uri, m->stylized, m->w, m->h, argc, argv,
      set);
  GstElement *pipeline = gst_parse_launch (desc, &err);
  int ret;

  g_free (desc);
  if (err) {                    /* also the recoverable errors */
    fprintf (stderr, "warp-error: %s\n", err->message);
    g_error_free (err);
    if (pipeline)
      gst_object_unref (pipeline);
    return 1;
  }
  if (m->stylized)
    printf ("%s at %dx%d against %s\n", clip, m->w, m->h, m->stylized);
  else
    printf ("%s at %dx%d, stylefilter", clip, m->w, m->h);
  for (int i = 0; !m->stylized && i < argc; i++)
    printf (" %s", argv[i]);
  for (int i = 0; !m->stylized && set && set[i]; i++)
    printf (" %s", set[i]);
  if (!m->stylized)
    printf ("\n");
  fflush (stdout);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      == GST_STATE_CHANGE_FAILURE)
    ret = 1;
  else
    ret = run (m, pipeline, frames, r);
  drain_bus (pipeline, r);
  if (r->bus_error)
    ret = 1;
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return ret;
}

/* ---- the table ---- */

static FrameStats *
frame_at (const Run * r, int t)
{
  FrameStats *fs;

  if (t < 0 || t >= r->frames || (guint) t >= r->stats->len)
    return NULL;
  fs = &g_array_index (r->stats, FrameStats, t);
  return fs->seen ? fs : NULL;
}

/* Mean of a field over the measured frames from..r->frames-1 that have
 * stats (their number in *count). */
static double
stats_mean (const Run * r, int from, int field, int *count)
{
  double sum = 0;
  int n = 0;

  for (int t = from; t < r->frames; t++) {
    FrameStats *fs = frame_at (r, t);
    if (fs) {
      sum += fs->v[field];
      n++;
    }
  }
  if (count)
    *count = n;
  return n ? sum / n : 0;
}

static void
cell (GString * row, gboolean have, const char *fmt, double v,
    const char *mark)
{
  g_string_append (row, " | ");
  if (have) {
    g_string_append_printf (row, fmt, v);
    g_string_append (row, mark);
  } else
    g_string_append (row, "-");
}

/* mean of a[from..to) */
static double
array_mean (GArray * a, int from, int to)
{
  double s = 0;

  for (int i = from; i < to; i++)
    s += g_array_index (a, double, i);
  return to > from ? s / (to - from) : 0;
}

static void
print_row (const Run * r)
{
  GString *row = g_string_new ("| ");
  FrameStats *f0 = frame_at (r, 0), *fl = frame_at (r, r->frames - 1);
  int k = MIN (SHARP_LAST, r->frames), all, later;
  double s_out = array_mean (r->sharp_out, r->frames - k, r->frames);
  double s_in = array_mean (r->sharp_in, r->frames - k, r->frames);
  double s_0 = r->frames ? g_array_index (r->sharp_out, double, 0) : 0;
  double ratio = fl && f0 && f0->v[F_STYLE] > 0 ?
      fl->v[F_STYLE] / f0->v[F_STYLE] : -1;
  const char *star = r->no_evals ? "*" : "";

  g_string_append (row, r->label[0] ? r->label : "(common)");
  if (r->failed)
    g_string_append (row, " (failed)");
  stats_mean (r, 0, F_STYLE, &all);
  stats_mean (r, 1, F_STYLE, &later);
  cell (row, all > 0, "%.4g", stats_mean (r, 0, F_STYLE, NULL), "");
  cell (row, fl != NULL, "%.4g", fl ? fl->v[F_STYLE] : 0, "");
  cell (row, ratio >= 0, "%.3f", ratio, "");
  cell (row, all > 0, "%.4g", stats_mean (r, 0, F_CONTENT, NULL), "");
  cell (row, fl != NULL, "%.4g", fl ? fl->v[F_CONTENT] : 0, "");
  cell (row, k > 0 && s_in > 0, "%.3f", s_in > 0 ? s_out / s_in : 0, "");
  cell (row, k > 0 && s_0 > 0, "%.3f", s_0 > 0 ? s_out / s_0 : 0, "");
  cell (row, r->pairs > 0, "%.2f", r->warp * 1e4, "");
  cell (row, r->pairs > 0, "%.2f", r->warp_in * 1e4, "");
  cell (row, f0 != NULL, "%.0f", f0 ? f0->v[F_EVALS] : 0, star);
  cell (row, later > 0, "%.2f", stats_mean (r, 1, F_EVALS, NULL), star);
  cell (row, f0 != NULL, "%.0f", f0 ? f0->v[F_ITERS] : 0, "");
  cell (row, later > 0, "%.2f", stats_mean (r, 1, F_ITERS, NULL), "");
  cell (row, f0 != NULL, "%.0f", f0 ? f0->v[F_MS] : 0, "");
  cell (row, later > 0, "%.0f", stats_mean (r, 1, F_MS, NULL), "");
  printf ("%s |\n", row->str);
  g_string_free (row, TRUE);
}

/* The stop-reason fields in frame order, runs of the same counted
 * ("lbfgs-evaluations x1, iterations x11"), and the scene cuts after
 * frame 0; NULL when there is neither. */
static char *
describe_stops (const Run * r)
{
  GString *s = g_string_new (NULL);
  const char *prev = NULL;
  int n = 0, cuts = 0;

  for (int t = 0; t <= r->frames; t++) {
    FrameStats *fs = frame_at (r, t);
    const char *reason = fs ? fs->stop_reason : NULL;
    cuts += t > 0 && fs && fs->cut;
    if (prev && prev == reason) {       /* interned */
      n++;
      continue;
    }
    if (prev)
      g_string_append_printf (s, "%s%s x%d", s->len ? ", " : "stop reasons: ",
          prev, n);
    prev = reason;
    n = 1;
  }
  if (cuts)
    g_string_append_printf (s, "%s%d scene cut(s) after frame 0",
        s->len ? "; " : "", cuts);
  return g_string_free (s, s->len == 0);      /* NULL when empty */
}

static void
print_table (const char *clip, const Measure * m, int argc, char **argv,
    Run * runs, int n)
{
  gboolean fallback = FALSE;

  printf ("\n%s at %dx%d, stylefilter", clip, m->w, m->h);
  for (int i = 0; i < argc; i++)
    printf (" %s", argv[i]);
  printf (" and per row:\n\n");
  printf ("| set | style mean | style last | style last/first "
      "| content mean | content last | sharpness last/input "
      "| sharpness last/frame0 | warp out x1e-4 | warp in x1e-4 "
      "| evals frame 0 | evals later | iters frame 0 | iters later "
      "| ms frame 0 | ms later |\n");
  printf ("| --- |");
  for (int i = 0; i < 15; i++)
    printf (" ---: |");
  printf ("\n");
  for (int i = 0; i < n; i++) {
    print_row (&runs[i]);
    fallback |= runs[i].no_evals;
  }
  printf ("\nLosses: unweighted (stylefilter-stats).  Sharpness: variance "
      "of the 4-neighbour Laplacian of the BT.601 luma (0..255) at %dx%d, "
      "the output's mean over the last %d frames over the input's and over "
      "output frame 0's.  Warping error: mean over the pairs (0..1).  "
      "\"later\": mean over frames 1 to the last.\n", m->w, m->h, SHARP_LAST);
  if (fallback)
    printf ("* no `evaluations` field in the stats: the iterations are "
        "shown.\n");
  for (int i = 0; i < n; i++) {
    char *stops = describe_stops (&runs[i]);
    printf ("set %d: %s; %d frames%s%s\n", i, runs[i].label[0] ?
        runs[i].label : "(common)", runs[i].frames, stops ? "; " : "",
        stops ? stops : "");
    g_free (stops);
  }
}

/* ---- main ---- */

static gboolean
measure_init (Measure * m, int w, int h, GError ** err)
{
  m->w = w;
  m->h = h;
  if (!(m->dev = sf_device_new (sf_device_selector_from_env (NULL), err))
      || !(m->flow = sf_flow_new (m->dev, w, h, err)))
    return FALSE;
  for (int i = 0; i < 2; i++)
    if (!(m->in[i] = sf_buffer_new (m->dev, 3 * (gsize) w * h * 4,
                SF_MEM_DEVICE, err))
        || !(m->out[i] = sf_buffer_new (m->dev, 3 * (gsize) w * h * 4,
                SF_MEM_DEVICE, err)))
      return FALSE;
  return TRUE;
}

static void
measure_clear (Measure * m)
{
  sf_flow_free (m->flow);
  g_free (m->stylized);
  if (!m->dev)
    return;
  for (int i = 0; i < 2; i++) {
    sf_buffer_free (m->dev, m->in[i]);
    sf_buffer_free (m->dev, m->out[i]);
  }
  sf_device_free (m->dev);
}

/* The sets' property lists (shell words); NULL entry for the no---set
 * run.  FALSE on a bad --set. */
static gboolean
parse_sets (char **sets, GPtrArray * out)
{
  if (!sets || !sets[0]) {
    g_ptr_array_add (out, NULL);
    return TRUE;
  }
  for (int i = 0; sets[i]; i++) {
    /* "" or blanks: a run with the common properties only */
    char **words = sets[i][strspn (sets[i], " \t")] ? NULL : g_new0 (char *,
        1);
    GError *err = NULL;
    if (!words && !g_shell_parse_argv (sets[i], NULL, &words, &err)) {
      fprintf (stderr, "warp-error: --set \"%s\": %s\n", sets[i],
          err->message);
      g_error_free (err);
      return FALSE;
    }
    g_ptr_array_add (out, words);
  }
  return TRUE;
}

static int
run_all (Measure * m, const char *clip, const char *uri, int frames,
    int argc, char **argv, GPtrArray * sets, const char *png_dir)
{
  Run *runs = g_new0 (Run, sets->len);
  int ret = 0;

  for (guint i = 0; i < sets->len; i++) {
    char **set = g_ptr_array_index (sets, i);
    run_init (&runs[i], set ? g_strjoinv (" ", set) : g_strdup (""));
    if (i > 0)
      printf ("\n");
    runs[i].failed = run_set (m, clip, uri, frames, argc, argv, set,
        &runs[i]) != 0;
    ret |= runs[i].failed;
    ret |= write_pngs (&runs[i], i, png_dir);
  }
  print_table (clip, m, argc, argv, runs, sets->len);
  for (guint i = 0; i < sets->len; i++)
    run_clear (&runs[i]);
  g_free (runs);
  return ret;
}

int
main (int argc, char **argv)
{
  char *size = NULL, *png_dir = NULL, *uri = NULL, **sets = NULL;
  char *stylized = NULL;
  int frames = 0, w = 0, h = 0, ret = 1;
  GError *err = NULL;
  GOptionEntry entries[] = {
    {"size", 's', 0, G_OPTION_ARG_STRING, &size,
        "Measuring size WxH (default 128x96)", "WxH"},
    {"frames", 'n', 0, G_OPTION_ARG_INT, &frames,
        "Stop after N frames (default: the whole clip)", "N"},
    {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
        "One run (a table row) with these stylefilter properties besides "
        "the common ones (repeatable)", "\"PROP=VAL PROP=VAL\""},
    {"png-dir", 0, 0, G_OPTION_ARG_FILENAME, &png_dir,
        "Write each run's first and last output frame as DIR/I-first.png "
        "and DIR/I-last.png", "DIR"},
    {"stylized", 0, 0, G_OPTION_ARG_FILENAME, &stylized,
        "Measure this clip, CLIP stylized already, instead of running "
        "stylefilter (no properties, no --set)", "OUTPUT"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("CLIP [PROPERTY=VALUE ...]");
  GPtrArray *set_words = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_strfreev);
  Measure m = { 0 };

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err) || argc < 2) {
    fprintf (stderr, "%s\n", err ? err->message :
        "usage: warp-error [--size WxH] [--frames N] [--set \"PROP=VAL ...\" "
        "...] [--png-dir DIR] CLIP [PROPERTY=VALUE ...]");
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
  if (stylized && (argc > 2 || sets)) {
    fprintf (stderr, "warp-error: --stylized takes no properties and no "
        "--set\n");
    return 2;
  }
  if (!parse_sets (sets, set_words)) {
    ret = 2;
    goto out;
  }
  uri = gst_uri_is_valid (argv[1]) ? g_strdup (argv[1])
      : gst_filename_to_uri (argv[1], &err);
  if (uri && stylized)
    m.stylized = gst_uri_is_valid (stylized) ? g_strdup (stylized)
        : gst_filename_to_uri (stylized, &err);
  if (uri && (!stylized || m.stylized) && measure_init (&m, w, h, &err))
    ret = run_all (&m, argv[1], uri, frames, argc - 2, argv + 2, set_words,
        png_dir);

out:
  if (err) {
    fprintf (stderr, "warp-error: %s\n", err->message);
    g_error_free (err);
  }
  measure_clear (&m);
  g_ptr_array_unref (set_words);
  g_strfreev (sets);
  g_free (uri);
  g_free (size);
  g_free (png_dir);
  g_free (stylized);
  return ret;
}
