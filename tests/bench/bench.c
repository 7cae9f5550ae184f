/* bench.c - how fast the engine optimises, per image size.
 *
 *   bench [--repeats N] [--warmup N] [--device SEL] [--pooling max|avg]
 *         [--optimizer lbfgs|adam] [--flops-only] [WxH ...]
 *                                        (default 128x128 256x256)
 *
 * Prints the device and its features, then for every size:
 *   eval   one loss evaluation: VGG-19 forward through relu5_1, the backward
 *          pass to the image gradient and all loss terms (sf_stylizer_evaluate,
 *          the gradient left on the device); `--warmup` (3) untimed, then
 *          `--repeats` (20) timed;
 *   iter   one optimiser iteration: one sf_stylizer_optimize call of
 *          warmup + repeats iterations, each timed through the progress
 *          callback, the first `--warmup` not counted (L-BFGS's first
 *          iteration starts from a tiny step and searches longer): its
 *          evaluations plus the optimiser's vector work;
 *   flow   warm-start=flow's per-frame work (flow both ways, warp, mask);
 * each as the median of the timed repetitions on two clocks: the GPU's
 * (Vulkan timestamps around every submission, sf_device_set_profiling:
 * the device's own working time) and the host's wall clock (adds the
 * submission, the wait and the host's share).  Beside them: the
 * evaluation's floating-point operations counted from the network's layer
 * shapes (count_flops), TFLOP/s = those / the median GPU time, and the
 * peak device memory of the size (weights, the stylizer's buffers, staging;
 * during the evaluations and iterations).  Output: an aligned table, then
 * one machine-readable "bench size=..." line per size (tests/bench/README.md
 * gives the format; gpu-table.sh reads it).
 *
 * --flops-only prints the FLOP counts alone (no device needed), with the
 * check against the issue's figure for 1280x720.
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

/* fewer timed repetitions than this print a warning */
#define BENCH_MIN_REPEATS 20

typedef struct
{
  int repeats;
  int warmup;
  gboolean flops_only;
  gboolean evaluations_only;    /* no optimiser iterations, no flow */
  int kernels;                  /* > 0: per-kernel breakdown over this many */
  char *device;
  char *pooling;
  char *optimizer;
  char **sizes;
} BenchOptions;

/* Floating-point operations of one loss evaluation (multiply and add
 * counted as two), from VGG-19's layer shapes. */
typedef struct
{
  double conv_fwd;              /* 13 3x3 convolutions forward */
  double conv_bwd;              /* their input gradients, conv 0's included */
  double gram;                  /* Gram matrices at the 5 style layers */
  double style_grad;            /* the style gradient (G - A) F at each */
  double total;
} FlopCount;

/* Medians of one measurement on both clocks, milliseconds. */
typedef struct
{
  double gpu;                   /* NAN when GPU time is unavailable */
  double wall;
  double wall_mean;
  int n;
} Timing;

typedef struct
{
  int width;
  int height;
  FlopCount flops;
  Timing eval;
  Timing iter;
  Timing flow;
  double evals_per_iter;
  double peak_mib;
} BenchResult;

/* Per-iteration clocks recorded by the progress callback. */
typedef struct
{
  SfDevice *dev;
  GArray *wall;                 /* double, seconds (monotonic clock) */
  GArray *gpu_ns;               /* guint64, the device's cumulative GPU time */
} IterClock;

/* VGG-19 through relu5_1 (torchvision's vgg19().features[:30]). */
static const int vgg_cin[SF_VGG_NUM_CONVS] =
    { 3, 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512 };
static const int vgg_cout[SF_VGG_NUM_CONVS] =
    { 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512 };
/* relu1_1 .. relu5_1 */
static const int vgg_style[] = { 0, 2, 4, 8, 12 };

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static guint64
gpu_ns_now (SfDevice *dev)
{
  SfDeviceStats s;

  sf_device_get_stats (dev, &s);
  return s.gpu_ns;
}

static gboolean
gpu_valid (SfDevice *dev)
{
  SfDeviceStats s;

  sf_device_get_stats (dev, &s);
  return s.gpu_time_valid;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Median of n values (sorted in place); n > 0. */
static double
median (double *v, int n)
{
  qsort (v, n, sizeof (double), compare_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double
mean (const double *v, int n)
{
  double sum = 0.0;

  for (int i = 0; i < n; i++)
    sum += v[i];
  return sum / n;
}

/* Fills t from n wall and GPU durations (ms; both arrays sorted here). */
static void
summarise (double *wall, double *gpu, int n, gboolean gpu_ok, Timing *t)
{
  t->n = n;
  t->wall_mean = mean (wall, n);
  t->wall = median (wall, n);
  t->gpu = gpu_ok ? median (gpu, n) : NAN;
}

/* Conv i's input is w x h; pooling (floor) after convs 1, 3, 7, 11. */
static void
count_flops (int w, int h, FlopCount *f)
{
  double cw = w, ch = h;
  int s = 0;

  memset (f, 0, sizeof (*f));
  for (int i = 0; i < SF_VGG_NUM_CONVS; i++) {
    double m = cw * ch;
    double conv = 2.0 * 9 * vgg_cin[i] * vgg_cout[i] * m;

    f->conv_fwd += conv;
    f->conv_bwd += conv;
    if (s < (int) G_N_ELEMENTS (vgg_style) && vgg_style[s] == i) {
      double c = vgg_cout[i];
      f->gram += 2.0 * c * c * m;
      f->style_grad += 2.0 * c * c * m;
      s++;
    }
    if (sf_net_pool_after (i)) {
      cw = floor (cw / 2);
      ch = floor (ch / 2);
    }
  }
  f->total = f->conv_fwd + f->conv_bwd + f->gram + f->style_grad;
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

/* Smooth structure plus seeded noise, planar RGB in [0,1]; NULL when the
 * host is out of memory (w, h <= 65536: 3 w h fits a gsize). */
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
time_evaluations (SfDevice *dev, SfStylizer *st, const SfParams *p,
    const BenchOptions *o, BenchResult *r, GError **error)
{
  double *wall = g_new (double, o->repeats), *gpu = g_new (double, o->repeats);
  gboolean ok = TRUE;

  for (int i = 0; ok && i < o->warmup; i++)
    ok = sf_stylizer_evaluate (st, p, NULL, NULL, error);
  for (int i = 0; ok && i < o->repeats; i++) {
    guint64 g0 = gpu_ns_now (dev);
    double t0 = now_s ();
    ok = sf_stylizer_evaluate (st, p, NULL, NULL, error);
    wall[i] = 1e3 * (now_s () - t0);
    gpu[i] = (gpu_ns_now (dev) - g0) / 1e6;
  }
  if (ok)
    summarise (wall, gpu, o->repeats, gpu_valid (dev), &r->eval);
  g_free (wall);
  g_free (gpu);
  return ok;
}

static gboolean
record_iteration (int iteration, const SfLossTerms *terms, gpointer data)
{
  IterClock *clock = data;
  double t = now_s ();
  guint64 g = gpu_ns_now (clock->dev);

  g_array_append_val (clock->wall, t);
  g_array_append_val (clock->gpu_ns, g);
  return TRUE;
}

/* One optimize() call of warmup + repeats iterations; the first `warmup`
 * are not counted: L-BFGS's first iteration starts from a tiny step and
 * usually needs a longer line search.  L-BFGS also stops after 5/4 x its
 * iteration count in evaluations (as torch.optim.LBFGS), so fewer
 * iterations than asked may be timed; at least one always is. */
static gboolean
time_iterations (SfDevice *dev, SfStylizer *st, const SfParams *p,
    const BenchOptions *o, BenchResult *r, GError **error)
{
  IterClock clock = { dev, g_array_new (FALSE, FALSE, sizeof (double)),
    g_array_new (FALSE, FALSE, sizeof (guint64))
  };
  double start, *wall, *gpu;
  guint64 gpu_start;
  int n, skip;

  gpu_start = gpu_ns_now (dev);
  start = now_s ();
  if (!sf_stylizer_optimize (st, p, o->warmup + o->repeats,
          record_iteration, &clock, NULL, NULL, error))
    goto fail;
  n = (int) clock.wall->len;
  if (n == 0) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "the optimiser stopped before its first iteration (converged?)");
    goto fail;
  }
  skip = MIN (o->warmup, n - 1);
  wall = g_new (double, n);
  gpu = g_new (double, n);
  for (int i = 0; i < n; i++) {
    double w0 = i == 0 ? start : g_array_index (clock.wall, double, i - 1);
    guint64 g0 = i == 0 ? gpu_start
        : g_array_index (clock.gpu_ns, guint64, i - 1);
    wall[i] = 1e3 * (g_array_index (clock.wall, double, i) - w0);
    gpu[i] = (g_array_index (clock.gpu_ns, guint64, i) - g0) / 1e6;
  }
  summarise (wall + skip, gpu + skip, n - skip, gpu_valid (dev), &r->iter);
  r->evals_per_iter = r->eval.wall_mean > 0
      ? r->iter.wall_mean / r->eval.wall_mean : 0.0;
  g_free (wall);
  g_free (gpu);
  g_array_unref (clock.wall);
  g_array_unref (clock.gpu_ns);
  return TRUE;

fail:
  g_array_unref (clock.wall);
  g_array_unref (clock.gpu_ns);
  return FALSE;
}

/* The per-frame cost of warm-start=flow: flow both ways between two
 * frames, the warp of the previous result and the consistency mask, in
 * one submission, as the stylizer records them. */
static gboolean
time_flow (SfDevice *dev, const BenchOptions *o, int w, int h, BenchResult *r,
    GError **error)
{
  gsize n = 3 * (gsize) w * h;
  int total = o->warmup + o->repeats;
  float *a = make_image (w, h, 11), *b = make_image (w, h, 12);
  SfBuffer *ba = sf_buffer_new_floats (dev, 3, w, h, error);
  SfBuffer *bb = ba ? sf_buffer_new_floats (dev, 3, w, h, error) : NULL;
  SfBuffer *bw = bb ? sf_buffer_new_floats (dev, 3, w, h, error) : NULL;
  SfBuffer *bm = bw ? sf_buffer_new_floats (dev, 1, w, h, error) : NULL;
  SfFlow *flow = bm ? sf_flow_new (dev, w, h, error) : NULL;
  double *wall = g_new (double, total), *gpu = g_new (double, total);
  gboolean ok;

  if (flow && (!a || !b)) {
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "cannot allocate two %dx%d host images", w, h);
    ok = FALSE;
  } else {
    ok = flow && sf_buffer_upload (dev, ba, 0, a, n * 4, error)
        && sf_buffer_upload (dev, bb, 0, b, n * 4, error);
  }
  for (int i = 0; ok && i < total; i++) {
    VkCommandBuffer cb;
    guint64 g0 = gpu_ns_now (dev);
    double t0 = now_s ();
    ok = sf_cmd_begin (dev, &cb, error);
    if (ok && !(sf_flow_record_compute (flow, cb, ba, bb, error)
            && sf_flow_record_warp (flow, cb, ba, 3, bw, error)
            && sf_flow_record_consistency (flow, cb, bm, error))) {
      sf_cmd_free (dev, cb);
      ok = FALSE;
    }
    ok = ok && sf_cmd_submit_wait (dev, &cb, 1, TRUE, error);
    wall[i] = (now_s () - t0) * 1e3;
    gpu[i] = (gpu_ns_now (dev) - g0) / 1e6;
  }
  if (ok)
    summarise (wall + o->warmup, gpu + o->warmup, o->repeats,
        gpu_valid (dev), &r->flow);
  sf_flow_free (flow);
  sf_buffer_free (dev, ba);
  sf_buffer_free (dev, bb);
  sf_buffer_free (dev, bw);
  sf_buffer_free (dev, bm);
  g_free (a);
  g_free (b);
  g_free (wall);
  g_free (gpu);
  return ok;
}

/* --kernels N: N more evaluations with a timestamp pair around every
 * dispatch, then a line per kernel (most time first): calls and GPU ms per
 * evaluation and the share of the kernels' total; machine-readable lines
 * "kernel size=WxH name=... calls=... ms=... share=...". */
static gboolean
kernel_breakdown (SfDevice *dev, SfStylizer *st, const SfParams *p,
    const BenchOptions *o, int w, int h, GError **error)
{
  SfKernelTime kt[128];
  guint n;
  guint64 total = 0;
  gboolean ok = TRUE;

  sf_device_set_kernel_profiling (dev, TRUE);
  sf_device_reset_kernel_times (dev);
  for (int i = 0; ok && i < o->kernels; i++)
    ok = sf_stylizer_evaluate (st, p, NULL, NULL, error);
  sf_device_set_kernel_profiling (dev, FALSE);
  sf_device_set_profiling (dev, TRUE);  /* the rest of the bench times too */
  if (!ok)
    return FALSE;
  n = sf_device_get_kernel_times (dev, kt, G_N_ELEMENTS (kt));
  for (guint i = 0; i < n; i++)
    total += kt[i].gpu_ns;
  printf ("\n%dx%d, per evaluation (%d evaluations, a timestamp pair around "
      "each dispatch):\n%-18s %8s %10s %7s\n", w, h, o->kernels, "kernel",
      "calls", "GPU ms", "share");
  for (guint i = 0; i < n; i++)
    printf ("%-18s %8.1f %10.3f %6.1f%%\n", kt[i].name,
        (double) kt[i].calls / o->kernels, kt[i].gpu_ns / 1e6 / o->kernels,
        total ? 100.0 * kt[i].gpu_ns / total : 0.0);
  for (guint i = 0; i < n; i++)
    printf ("kernel size=%dx%d name=%s calls=%.1f ms=%.4f share=%.2f\n", w, h,
        kt[i].name, (double) kt[i].calls / o->kernels,
        kt[i].gpu_ns / 1e6 / o->kernels,
        total ? 100.0 * kt[i].gpu_ns / total : 0.0);
  printf ("\n");
  return TRUE;
}

static gboolean
bench_size (SfNet *net, const SfParams *p, const BenchOptions *o, int w,
    int h, BenchResult *r, GError **error)
{
  SfDevice *dev = net->dev;
  SfDeviceStats stats;
  SfStylizer *st;
  gboolean ok;

  r->width = w;
  r->height = h;
  count_flops (w, h, &r->flops);
  /* the peak of this size: the weights already there plus what it adds */
  sf_device_reset_peak (dev);
  st = sf_stylizer_new (net, w, h, error);
  if (!st)
    return FALSE;
  ok = prepare (st, w, h, error)
      && time_evaluations (dev, st, p, o, r, error)
      && (o->kernels <= 0 || kernel_breakdown (dev, st, p, o, w, h, error));
  if (o->evaluations_only) {
    r->iter.gpu = r->iter.wall = r->flow.gpu = r->flow.wall = NAN;
    r->evals_per_iter = NAN;
  } else {
    ok = ok && time_iterations (dev, st, p, o, r, error);
  }
  sf_device_get_stats (dev, &stats);
  r->peak_mib = stats.mem_peak / (1024.0 * 1024.0);
  ok = ok && (o->evaluations_only || time_flow (dev, o, w, h, r, error));
  sf_stylizer_free (st);
  return ok;
}

/* TFLOP/s of the evaluation at the median time on one clock (ms). */
static double
tflops (const BenchResult *r, double ms)
{
  return ms > 0 ? r->flops.total / (ms * 1e-3) / 1e12 : NAN;
}

static void
print_table_header (void)
{
  printf ("\n%-11s %9s %10s %10s %8s %9s %10s %10s %6s %6s %9s %9s\n",
      "size", "GFLOP", "eval GPU", "eval wall", "TFLOP/s", "peak MiB",
      "iter GPU", "iter wall", "iters", "ev/it", "flow GPU", "flow wall");
}

static void
print_table_row (const BenchResult *r)
{
  char size[32];

  g_snprintf (size, sizeof size, "%dx%d", r->width, r->height);
  printf ("%-11s %9.2f %10.2f %10.2f %8.3f %9.1f %10.2f %10.2f %6d %6.2f "
      "%9.2f %9.2f\n", size, r->flops.total / 1e9, r->eval.gpu,
      r->eval.wall, tflops (r, r->eval.gpu), r->peak_mib, r->iter.gpu,
      r->iter.wall, r->iter.n, r->evals_per_iter, r->flow.gpu, r->flow.wall);
  fflush (stdout);
}

/* A value for the machine line: "na" for NAN (no GPU timestamps). */
static const char *
fmt_value (char *buf, gsize len, const char *format, double v)
{
  if (isnan (v))
    return "na";
  g_snprintf (buf, len, format, v);
  return buf;
}

static void
print_machine_line (const BenchResult *r, const BenchOptions *o)
{
  char b1[32], b2[32], b3[32], b4[32];

  printf ("bench size=%dx%d flop=%.0f eval_gpu_ms=%s eval_wall_ms=%.3f "
      "tflops=%s tflops_wall=%.4f peak_mib=%.1f iter_gpu_ms=%s "
      "iter_wall_ms=%.3f iters=%d evals_per_iter=%.2f flow_gpu_ms=%s "
      "flow_wall_ms=%.3f repeats=%d warmup=%d optimizer=%s pooling=%s\n",
      r->width, r->height, r->flops.total,
      fmt_value (b1, sizeof b1, "%.3f", r->eval.gpu), r->eval.wall,
      fmt_value (b2, sizeof b2, "%.4f", tflops (r, r->eval.gpu)),
      tflops (r, r->eval.wall), r->peak_mib,
      fmt_value (b3, sizeof b3, "%.3f", r->iter.gpu), r->iter.wall,
      r->iter.n, r->evals_per_iter,
      fmt_value (b4, sizeof b4, "%.3f", r->flow.gpu), r->flow.wall,
      o->repeats, o->warmup, o->optimizer, o->pooling);
}

static gboolean
parse_options (int *argc, char ***argv, BenchOptions *o, GError **error)
{
  GOptionEntry entries[] = {
    {"repeats", 'n', 0, G_OPTION_ARG_INT, &o->repeats,
        "Timed evaluations, optimiser iterations and flows per size "
        "(default 20; fewer print a warning)", "N"},
    {"iterations", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &o->repeats,
        "Old name of --repeats", "N"},
    {"warmup", 'w', 0, G_OPTION_ARG_INT, &o->warmup,
        "Untimed repetitions first (default 3)", "N"},
    {"device", 'd', 0, G_OPTION_ARG_STRING, &o->device,
        "Vulkan device: index or part of the name (default: automatic)",
        "SEL"},
    {"pooling", 0, 0, G_OPTION_ARG_STRING, &o->pooling,
        "max or avg (default max)", "POOL"},
    {"optimizer", 0, 0, G_OPTION_ARG_STRING, &o->optimizer,
        "lbfgs or adam (default lbfgs)", "OPT"},
    {"kernels", 'k', 0, G_OPTION_ARG_INT, &o->kernels,
        "After the timed evaluations, N more with every dispatch timed: "
        "GPU ms per kernel (default 0: none)", "N"},
    {"evaluations-only", 'e', 0, G_OPTION_ARG_NONE, &o->evaluations_only,
        "Time the loss evaluations only, not the optimiser iterations and "
        "the flow (their figures print as nan)", NULL},
    {"flops-only", 0, 0, G_OPTION_ARG_NONE, &o->flops_only,
        "Print the FLOP count per evaluation of each size (and the check "
        "at 1280x720) and exit; needs no device", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->sizes, NULL,
        "[WxH ...]"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new (NULL);
  gboolean ok;

  g_option_context_set_summary (ctx, "Milliseconds per loss evaluation, "
      "per optimiser iteration and per flow (medians on the GPU's "
      "timestamps and the wall clock), TFLOP/s and peak device memory, for "
      "each size (default 128x128 256x256).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  ok = g_option_context_parse (ctx, argc, argv, error);
  g_option_context_free (ctx);
  if (!ok)
    return FALSE;
  if (o->repeats < 1 || o->warmup < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--repeats must be at least 1 and --warmup at least 0");
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

/* --flops-only: the counts per size, then the cross-check with the issue's
 * estimate for 1280x720 (666 GFLOP forward + ~663 GFLOP input gradient =
 * 1.33 TFLOP, convolutions only).  FALSE when the count is off by more
 * than 3 %. */
static gboolean
print_flops (const int *ws, const int *hs, int n, GError **error)
{
  const double issue_conv = 1329e9;
  FlopCount f;
  double off;

  printf ("%-11s %12s %12s %10s %12s %12s\n", "size", "conv fwd", "conv grad",
      "Gram", "style grad", "total");
  for (int i = 0; i < n; i++) {
    char size[32];
    count_flops (ws[i], hs[i], &f);
    g_snprintf (size, sizeof size, "%dx%d", ws[i], hs[i]);
    printf ("%-11s %12.2f %12.2f %10.2f %12.2f %12.2f  GFLOP\n", size,
        f.conv_fwd / 1e9, f.conv_bwd / 1e9, f.gram / 1e9, f.style_grad / 1e9,
        f.total / 1e9);
    printf ("flops size=%dx%d flop=%.0f conv_fwd=%.0f conv_grad=%.0f "
        "gram=%.0f style_grad=%.0f\n", ws[i], hs[i], f.total, f.conv_fwd,
        f.conv_bwd, f.gram, f.style_grad);
  }
  count_flops (1280, 720, &f);
  off = (f.conv_fwd + f.conv_bwd) / issue_conv - 1.0;
  printf ("check 1280x720: convolutions %.1f GFLOP forward + %.1f GFLOP "
      "input gradient = %.1f GFLOP against the issue's 666 + 663 = 1329 "
      "(%+.2f %%); the Gram matrices and style gradient add %.1f GFLOP: "
      "%.1f GFLOP per evaluation (%+.2f %% against 1.33 TFLOP)\n",
      f.conv_fwd / 1e9, f.conv_bwd / 1e9, (f.conv_fwd + f.conv_bwd) / 1e9,
      100 * off, (f.gram + f.style_grad) / 1e9, f.total / 1e9,
      100 * (f.total / 1.33e12 - 1.0));
  if (fabs (off) > 0.03) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "the convolution FLOP count at 1280x720 is %+.2f %% off the issue's "
        "1329 GFLOP", 100 * off);
    return FALSE;
  }
  return TRUE;
}

static gboolean
run (const BenchOptions *o, const int *ws, const int *hs, int n,
    GError **error)
{
  SfDevice *dev = NULL;
  SfNet *net = NULL;
  SfNetOptions net_options;
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
  dev = sf_device_new (sf_device_selector_from_env (o->device), error);
  if (!dev)
    goto out;
  sf_device_set_profiling (dev, TRUE);
  print_features (dev);
  printf ("network: default VGG-19 (seed 0), %s pooling; optimizer %s; "
      "%d timed after %d warm-up; medians in ms\n", o->pooling, o->optimizer,
      o->repeats, o->warmup);
  weights = sf_vgg_weights_new_default (0);
  sf_net_options_from_env (dev, &net_options);
  net = sf_net_new_with_options (dev, weights,
      strcmp (o->pooling, "avg") == 0 ? SF_POOL_AVG : SF_POOL_MAX,
      &net_options, error);
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
  if (done > 0) {
    printf ("\ngpu time: %s\n", gpu_valid (dev) ? "Vulkan timestamps"
        : "unavailable (no timestamps on this queue): GPU columns are na");
    for (int i = 0; i < done; i++)
      print_machine_line (&results[i], o);
  }
  g_free (results);
  sf_net_free (net);
  sf_vgg_weights_free (weights);
  sf_device_free (dev);
  return ok;
}

int
main (int argc, char **argv)
{
  BenchOptions o = { .repeats = BENCH_MIN_REPEATS, .warmup = 3 };
  GError *error = NULL;
  int *ws = NULL, *hs = NULL, n = 0, status = 0;
  gboolean ok;

  ok = parse_options (&argc, &argv, &o, &error)
      && parse_sizes (o.sizes, &ws, &hs, &n, &error);
  if (ok && o.flops_only) {
    ok = print_flops (ws, hs, n, &error);
  } else if (ok) {
    if (o.repeats < BENCH_MIN_REPEATS)
      fprintf (stderr, "bench: warning: --repeats %d is below %d: the "
          "medians are less stable (a quick run, not a measurement)\n",
          o.repeats, BENCH_MIN_REPEATS);
    ok = run (&o, ws, hs, n, &error);
  }
  if (!ok) {
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
