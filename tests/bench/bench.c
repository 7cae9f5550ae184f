/* bench.c - how fast the engine optimises, per image size.
 *
 *   bench [--iterations N] [--warmup N] [--device SEL] [--pooling max|avg]
 *         [--optimizer lbfgs|adam] [WxH ...]        (default 128x128 256x256)
 *
 * Prints the device and its features, then for every size:
 *   eval   one loss evaluation: VGG-19 forward through relu5_1, the backward
 *          pass to the image gradient and all loss terms (sf_stylizer_evaluate,
 *          the gradient left on the device); `--warmup` untimed evaluations
 *          first, then `--iterations` timed ones;
 *   iter   one optimiser iteration: one sf_stylizer_optimize call of
 *          warmup + iterations, each iteration timed through the progress
 *          callback, the first `--warmup` not counted (L-BFGS's first
 *          iteration starts from a tiny step and searches longer).  That is
 *          evaluations plus the optimiser's vector work.  An L-BFGS iteration
 *          may evaluate more than once (line search); the public API does not
 *          count evaluations, so evals/iter is estimated as mean iter time /
 *          mean eval time.  L-BFGS also stops after 5/4 x its iteration count
 *          in evaluations (as torch.optim.LBFGS): the "iters" column says how
 *          many were timed.
 * Median and mean of each.  Output: an aligned table, then one
 * machine-readable line per size ("bench size=WxH eval_ms=... iter_ms=...
 * evals_per_iter=...", medians) for tests/bench/compare.sh and other
 * scripts.
 *
 * Not a test: it only measures.  The images are synthetic and seeded; the
 * network is the embedded default VGG-19 (seed 0), which costs the same as
 * pretrained weights.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf-engine.h"
#include "flow.h"
#include "net.h"

typedef struct
{
  int iterations;
  int warmup;
  char *device;
  char *pooling;
  char *optimizer;
  char **sizes;
} BenchOptions;

typedef struct
{
  int width;
  int height;
  double eval_median;
  double eval_mean;
  double iter_median;
  double iter_mean;
  int iters_timed;
  double evals_per_iter;
  double flow_median;           /* warm-start=flow's per-frame work */
} BenchResult;

/* Per-iteration timestamps recorded by the progress callback. */
typedef struct
{
  GArray *times;                /* double, seconds (monotonic clock) */
} IterClock;

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Median and mean of n values (sorted in place); n > 0. */
static void
summarise (double *v, int n, double *median, double *mean)
{
  double sum = 0.0;

  qsort (v, n, sizeof (double), compare_double);
  for (int i = 0; i < n; i++)
    sum += v[i];
  *mean = sum / n;
  *median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static gboolean
parse_size (const char *s, int *w, int *h, GError **error)
{
  const char *p;
  char *end = NULL;
  long a, b;

  a = strtol (s, &end, 10);
  if (end == s || (*end != 'x' && *end != 'X'))
    goto bad;
  p = end + 1;
  b = strtol (p, &end, 10);
  if (end == p || *end != '\0' || a < 1 || b < 1 || a > 65536 || b > 65536)
    goto bad;
  *w = (int) a;
  *h = (int) b;
  return TRUE;

bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "bad size '%s': expected WIDTHxHEIGHT, e.g. 256x256", s);
  return FALSE;
}

/* Smooth structure plus seeded noise, planar RGB in [0,1]. */
static float *
make_image (int w, int h, guint32 seed)
{
  float *img = g_try_new (float, 3 * (gsize) w * h);
  GRand *r;

  if (!img)
    return NULL;
  r = g_rand_new_with_seed (seed);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double v = 0.5 + 0.3 * sin (0.11 * x * (seed % 3 + 1) + c)
            * cos (0.07 * y + 0.5 * c);
        v += 0.1 * g_rand_double_range (r, -1, 1);
        img[((gsize) c * h + y) * w + x] = (float) CLAMP (v, 0.0, 1.0);
      }
  g_rand_free (r);
  return img;
}

static void
print_features (SfDevice *dev)
{
  const SfDeviceFeatures *f = sf_device_get_features (dev);

  printf ("device: %s\n", sf_device_get_name (dev));
  printf ("features: %s, fp16 storage %s, fp16 arithmetic %s, "
      "NV cooperative matrix %s, subgroup %u, max buffer %.0f MiB\n",
      f->is_cpu ? "CPU" : "GPU", f->fp16_storage ? "yes" : "no",
      f->fp16_arithmetic ? "yes" : "no", f->coopmat_nv ? "yes" : "no",
      f->subgroup_size, f->max_buffer_size / (1024.0 * 1024.0));
}

/* Sets style and content targets and the starting image. */
static gboolean
prepare (SfStylizer *st, int w, int h, GError **error)
{
  float *content = make_image (w, h, 1), *style = make_image (w, h, 2);
  gboolean ok;

  if (!content || !style) {
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "cannot allocate two %dx%d host images", w, h);
    ok = FALSE;
  } else {
    ok = sf_stylizer_set_style (st, style, w, h, error)
        && sf_stylizer_set_content (st, content, error)
        && sf_stylizer_set_image (st, content, error);
  }
  g_free (content);
  g_free (style);
  return ok;
}

static gboolean
time_evaluations (SfStylizer *st, const SfParams *p, const BenchOptions *o,
    BenchResult *r, GError **error)
{
  double *t = g_new (double, o->iterations);
  gboolean ok = TRUE;

  for (int i = 0; ok && i < o->warmup; i++)
    ok = sf_stylizer_evaluate (st, p, NULL, NULL, error);
  for (int i = 0; ok && i < o->iterations; i++) {
    double t0 = now_s ();
    ok = sf_stylizer_evaluate (st, p, NULL, NULL, error);
    t[i] = 1e3 * (now_s () - t0);
  }
  if (ok)
    summarise (t, o->iterations, &r->eval_median, &r->eval_mean);
  g_free (t);
  return ok;
}

static gboolean
record_iteration (int iteration, const SfLossTerms *terms, gpointer data)
{
  IterClock *clock = data;
  double t = now_s ();

  g_array_append_val (clock->times, t);
  return TRUE;
}

/* One optimize() call of warmup + iterations; the first `warmup` iterations
 * are not counted: L-BFGS's first iteration starts from a tiny step and
 * usually needs a longer line search.  L-BFGS also stops after
 * 5/4 x its iteration count in evaluations (as torch.optim.LBFGS), so fewer
 * iterations than asked may be timed; at least one always is. */
static gboolean
time_iterations (SfStylizer *st, const SfParams *p, const BenchOptions *o,
    BenchResult *r, GError **error)
{
  IterClock clock = { g_array_new (FALSE, FALSE, sizeof (double)) };
  double start, *d;
  int n, skip;

  start = now_s ();
  if (!sf_stylizer_optimize (st, p, o->warmup + o->iterations,
          record_iteration, &clock, NULL, NULL, error)) {
    g_array_unref (clock.times);
    return FALSE;
  }
  n = (int) clock.times->len;
  if (n == 0) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "the optimiser stopped before its first iteration (converged?)");
    g_array_unref (clock.times);
    return FALSE;
  }
  skip = MIN (o->warmup, n - 1);
  d = g_new (double, n);
  for (int i = 0; i < n; i++) {
    double prev = i == 0 ? start : g_array_index (clock.times, double, i - 1);
    d[i] = 1e3 * (g_array_index (clock.times, double, i) - prev);
  }
  summarise (d + skip, n - skip, &r->iter_median, &r->iter_mean);
  r->iters_timed = n - skip;
  r->evals_per_iter = r->eval_mean > 0 ? r->iter_mean / r->eval_mean : 0.0;
  g_free (d);
  g_array_unref (clock.times);
  return TRUE;
}

/* The per-frame cost of warm-start=flow: flow both ways between two
 * frames, the warp of the previous result and the consistency mask, in
 * one submission, as the stylizer records them. */
static gboolean
time_flow (SfDevice *dev, const BenchOptions *o, int w, int h, BenchResult *r,
    GError **error)
{
  gsize n = 3 * (gsize) w * h;
  float *a = make_image (w, h, 11), *b = make_image (w, h, 12);
  SfBuffer *ba = sf_buffer_new_floats (dev, 3, w, h, error);
  SfBuffer *bb = ba ? sf_buffer_new_floats (dev, 3, w, h, error) : NULL;
  SfBuffer *bw = bb ? sf_buffer_new_floats (dev, 3, w, h, error) : NULL;
  SfBuffer *bm = bw ? sf_buffer_new_floats (dev, 1, w, h, error) : NULL;
  SfFlow *flow = bm ? sf_flow_new (dev, w, h, error) : NULL;
  double *t = g_new (double, o->warmup + o->iterations);
  gboolean ok = flow && sf_buffer_upload (dev, ba, 0, a, n * 4, error)
      && sf_buffer_upload (dev, bb, 0, b, n * 4, error);

  for (int i = 0; ok && i < o->warmup + o->iterations; i++) {
    VkCommandBuffer cb;
    double t0 = now_s ();
    ok = sf_cmd_begin (dev, &cb, error);
    if (ok && !(sf_flow_record_compute (flow, cb, ba, bb, error)
            && sf_flow_record_warp (flow, cb, ba, 3, bw, error)
            && sf_flow_record_consistency (flow, cb, bm, error))) {
      sf_cmd_free (dev, cb);
      ok = FALSE;
    }
    ok = ok && sf_cmd_submit_wait (dev, &cb, 1, TRUE, error);
    t[i] = (now_s () - t0) * 1e3;
  }
  if (ok) {
    double mean;
    summarise (t + o->warmup, o->iterations, &r->flow_median, &mean);
  }
  sf_flow_free (flow);
  sf_buffer_free (dev, ba);
  sf_buffer_free (dev, bb);
  sf_buffer_free (dev, bw);
  sf_buffer_free (dev, bm);
  g_free (a);
  g_free (b);
  g_free (t);
  return ok;
}

static gboolean
bench_size (SfNet *net, const SfParams *p, const BenchOptions *o, int w,
    int h, BenchResult *r, GError **error)
{
  SfStylizer *st = sf_stylizer_new (net, w, h, error);
  gboolean ok;

  if (!st)
    return FALSE;
  r->width = w;
  r->height = h;
  ok = prepare (st, w, h, error)
      && time_evaluations (st, p, o, r, error)
      && time_iterations (st, p, o, r, error)
      && time_flow (net->dev, o, w, h, r, error);
  sf_stylizer_free (st);
  return ok;
}

static void
print_table_header (void)
{
  printf ("\n%-11s %12s %12s %12s %12s %7s %11s %12s\n", "size",
      "eval med ms", "eval mean ms", "iter med ms", "iter mean ms", "iters",
      "evals/iter", "flow med ms");
}

static void
print_table_row (const BenchResult *r)
{
  char size[32];

  g_snprintf (size, sizeof size, "%dx%d", r->width, r->height);
  printf ("%-11s %12.1f %12.1f %12.1f %12.1f %7d %11.2f %12.1f\n", size,
      r->eval_median, r->eval_mean, r->iter_median, r->iter_mean,
      r->iters_timed, r->evals_per_iter, r->flow_median);
  fflush (stdout);
}

static void
print_machine_line (const BenchResult *r, const BenchOptions *o)
{
  printf ("bench size=%dx%d eval_ms=%.3f eval_mean_ms=%.3f iter_ms=%.3f "
      "iter_mean_ms=%.3f evals_per_iter=%.2f iters=%d flow_ms=%.3f "
      "flow_per_iter=%.3f optimizer=%s pooling=%s\n", r->width, r->height,
      r->eval_median, r->eval_mean, r->iter_median, r->iter_mean,
      r->evals_per_iter, r->iters_timed, r->flow_median,
      r->iter_median > 0 ? r->flow_median / r->iter_median : 0,
      o->optimizer, o->pooling);
}

static gboolean
parse_options (int *argc, char ***argv, BenchOptions *o, GError **error)
{
  GOptionEntry entries[] = {
    {"iterations", 'n', 0, G_OPTION_ARG_INT, &o->iterations,
        "Timed evaluations and optimiser iterations per size (default 10)",
        "N"},
    {"warmup", 'w', 0, G_OPTION_ARG_INT, &o->warmup,
        "Untimed evaluations / iterations first (default 2)", "N"},
    {"device", 'd', 0, G_OPTION_ARG_STRING, &o->device,
        "Vulkan device: index or part of the name (default: automatic)",
        "SEL"},
    {"pooling", 0, 0, G_OPTION_ARG_STRING, &o->pooling,
        "max or avg (default max)", "POOL"},
    {"optimizer", 0, 0, G_OPTION_ARG_STRING, &o->optimizer,
        "lbfgs or adam (default lbfgs)", "OPT"},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->sizes, NULL,
        "[WxH ...]"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new (NULL);
  gboolean ok;

  g_option_context_set_summary (ctx, "Milliseconds per loss evaluation and "
      "per optimiser iteration, for each size (default 128x128 256x256).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  ok = g_option_context_parse (ctx, argc, argv, error);
  g_option_context_free (ctx);
  if (!ok)
    return FALSE;
  if (o->iterations < 1 || o->warmup < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--iterations must be at least 1 and --warmup at least 0");
    return FALSE;
  }
  if (!o->pooling)
    o->pooling = g_strdup ("max");
  if (!o->optimizer)
    o->optimizer = g_strdup ("lbfgs");
  if (strcmp (o->pooling, "max") != 0 && strcmp (o->pooling, "avg") != 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--pooling must be max or avg, not '%s'", o->pooling);
    return FALSE;
  }
  if (strcmp (o->optimizer, "lbfgs") != 0
      && strcmp (o->optimizer, "adam") != 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--optimizer must be lbfgs or adam, not '%s'", o->optimizer);
    return FALSE;
  }
  return TRUE;
}

/* Checks every size before any work, so a typo fails at once. */
static gboolean
parse_sizes (char **sizes, int **ws, int **hs, int *n, GError **error)
{
  static const char *defaults[] = { "128x128", "256x256", NULL };
  const char *const *list = sizes && sizes[0] ? (const char *const *) sizes
      : defaults;

  *n = (int) g_strv_length ((char **) list);
  *ws = g_new (int, *n);
  *hs = g_new (int, *n);
  for (int i = 0; i < *n; i++)
    if (!parse_size (list[i], &(*ws)[i], &(*hs)[i], error))
      return FALSE;
  return TRUE;
}

static gboolean
run (const BenchOptions *o, const int *ws, const int *hs, int n,
    GError **error)
{
  SfDevice *dev = NULL;
  SfNet *net = NULL;
  SfVggWeights *weights = NULL;
  BenchResult *results = g_new0 (BenchResult, n);
  SfParams p;
  gboolean ok = FALSE;
  int done = 0;

  sf_params_init (&p);
  p.optimizer = strcmp (o->optimizer, "adam") == 0 ? SF_OPTIMIZER_ADAM
      : SF_OPTIMIZER_LBFGS;
  if (p.optimizer == SF_OPTIMIZER_ADAM)
    p.learning_rate = 0.01;
  dev = sf_device_new (o->device, error);
  if (!dev)
    goto out;
  print_features (dev);
  printf ("network: default VGG-19 (seed 0), %s pooling; optimizer %s; "
      "%d timed after %d warm-up\n", o->pooling, o->optimizer, o->iterations,
      o->warmup);
  weights = sf_vgg_weights_new_default (0);
  net = sf_net_new (dev, weights,
      strcmp (o->pooling, "avg") == 0 ? SF_POOL_AVG : SF_POOL_MAX, error);
  if (!net)
    goto out;
  print_table_header ();
  for (done = 0; done < n; done++) {
    if (!bench_size (net, &p, o, ws[done], hs[done], &results[done], error))
      goto out;
    print_table_row (&results[done]);
  }
  ok = TRUE;

out:
  if (done > 0)
    printf ("\n");
  for (int i = 0; i < done; i++)
    print_machine_line (&results[i], o);
  g_free (results);
  sf_net_free (net);
  sf_vgg_weights_free (weights);
  sf_device_free (dev);
  return ok;
}

int
main (int argc, char **argv)
{
  BenchOptions o = { 10, 2, NULL, NULL, NULL, NULL };
  GError *error = NULL;
  int *ws = NULL, *hs = NULL, n = 0, status = 0;

  if (!parse_options (&argc, &argv, &o, &error)
      || !parse_sizes (o.sizes, &ws, &hs, &n, &error)
      || !run (&o, ws, hs, n, &error)) {
    fprintf (stderr, "bench: %s\n", error ? error->message : "failed");
    g_clear_error (&error);
    status = 1;
  }
  g_free (ws);
  g_free (hs);
  g_free (o.device);
  g_free (o.pooling);
  g_free (o.optimizer);
  g_strfreev (o.sizes);
  return status;
}
