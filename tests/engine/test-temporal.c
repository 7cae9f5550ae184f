/* test-temporal.c - temporal coherence of the three warm starts on a
 * synthetic panning clip (a texture moving 1.5 px right and 0.5 px down
 * per frame), at equal iterations per frame: the temporal warping error
 * (Lai et al. 2018: mean squared difference between output frame t and
 * output frame t-1 warped along the flow of the input, over the pixels the
 * consistency mask keeps) of warm-start=flow is at most half that of
 * warm-start=none and below that of warm-start=previous.  Prints all three
 * and the input clip's own figure. */
#include "engine-test-util.h"
#include "stylizer.h"

#define W 32
#define H 24
#define FRAMES 5

static SfDevice *dev;
static SfVggWeights *wts;
static SfNet *net;

/* a smooth random texture sampled at (x + ox, y + oy), RGB in [0,1] */
static void
texture (double x, double y, guint8 rgb[3])
{
  for (int c = 0; c < 3; c++) {
    double v = 0.5 + 0.18 * sin (0.31 * x + 0.17 * y + 1.3 * c)
        + 0.14 * sin (0.11 * x - 0.43 * y + 0.7 * c)
        + 0.1 * cos (0.57 * x + 0.05 * c) * sin (0.23 * y - c)
        + 0.08 * sin (0.9 * x + 0.8 * y + 2 * c);
    rgb[c] = (guint8) CLAMP (v * 255.0 + 0.5, 0, 255);
  }
}

static guint8 *
make_frame (int t)
{
  guint8 *f = g_malloc (W * H * 4);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      guint8 *p = f + (y * W + x) * 4;
      texture (x - 1.5 * t, y - 0.5 * t, p);
      p[3] = 255;
    }
  return f;
}

static SfBuffer *
planar_from_rgba (const guint8 *f)
{
  float *v = g_new (float, 3 * W * H);
  for (int i = 0; i < W * H; i++)
    for (int c = 0; c < 3; c++)
      v[c * W * H + i] = f[4 * i + c] / 255.0f;
  SfBuffer *b = test_upload (dev, v, 3 * W * H);
  g_free (v);
  return b;
}

/* Stylizes the clip with one warm start; returns the mean warping error of
 * the output (and of the input in *in_err). */
static double
run_clip (SfWarmStart warm, double *in_err)
{
  GError *err = NULL;
  SfStylizer *st = sf_stylizer_new (net, W, H, &err);
  g_assert_no_error (err);
  sf_stylizer_set_flow_warp (st, SF_FLOW_WARP_STYLE);
  float *style = g_new (float, 3 * 64 * 64);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 64; y++)
      for (int x = 0; x < 64; x++)
        style[(c * 64 + y) * 64 + x] =
            (float) (0.5 + 0.45 * sin (0.8 * x + 2.1 * c) * cos (0.6 * y - c));
  g_assert_true (sf_stylizer_set_style (st, style, 64, 64, &err));
  SfParams p;
  sf_params_init (&p);
  p.weights.temporal = 1e6;    /* the element's default */
  SfBuffer *in[FRAMES], *out[FRAMES];
  guint8 *o = g_malloc (W * H * 4);
  SfFrameResult res;
  for (int t = 0; t < FRAMES; t++) {
    guint8 *f = make_frame (t);
    g_assert_true (sf_stylizer_set_content_frame (st, f, W * 4, W, H,
            SF_FORMAT_RGBA, &err));
    g_assert_true (sf_stylizer_begin_frame (st, warm, &err));
    /* as the element does: the optimiser's memory goes on */
    g_assert_true (sf_stylizer_optimize_frame (st, &p, t == 0 ? 10 : 3, 0,
            &res, &err));
    g_assert_true (sf_stylizer_end_frame (st, o, W * 4, W, H, SF_FORMAT_RGBA,
            FALSE, &err));
    g_assert_no_error (err);
    in[t] = planar_from_rgba (f);
    out[t] = planar_from_rgba (o);
    g_free (f);
  }
  SfFlow *flow = sf_flow_new (dev, W, H, &err);
  g_assert_no_error (err);
  double sum = 0, sum_in = 0, kept = 0;
  for (int t = 1; t < FRAMES; t++) {
    double e, ei, k;
    g_assert_true (sf_flow_warp_error (flow, in[t - 1], in[t], out[t - 1],
            out[t], &e, &ei, &k, &err));
    g_assert_no_error (err);
    sum += e;
    sum_in += ei;
    kept += k;
  }
  g_assert_cmpfloat (kept / (FRAMES - 1), >, 0.5);
  for (int t = 0; t < FRAMES; t++) {
    sf_buffer_free (dev, in[t]);
    sf_buffer_free (dev, out[t]);
  }
  sf_flow_free (flow);
  g_free (o);
  g_free (style);
  sf_stylizer_free (st);
  *in_err = sum_in / (FRAMES - 1);
  return sum / (FRAMES - 1);
}

static void
test_warm_starts (void)
{
  double in_none, in_prev, in_flow;
  double none = run_clip (SF_WARM_NONE, &in_none);
  double prev = run_clip (SF_WARM_PREVIOUS, &in_prev);
  double flow = run_clip (SF_WARM_FLOW, &in_flow);
  g_test_message ("warping error (x 1e-4) on a %dx%d panning clip, %d frames,"
      " 3 iterations a frame: none %.3f, previous %.3f, flow %.3f; input "
      "clip %.3f", W, H, FRAMES, none * 1e4, prev * 1e4, flow * 1e4,
      in_none * 1e4);
  g_assert_cmpfloat (in_none, ==, in_flow);
  g_assert_cmpfloat (flow, <=, 0.5 * none);
  g_assert_cmpfloat (flow, <, prev);
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  g_test_init (&argc, &argv, NULL);
  dev = test_device ();
  wts = sf_vgg_weights_new_default (0);
  net = sf_net_new (dev, wts, SF_POOL_AVG, &err);
  g_assert_no_error (err);
  g_test_add_func ("/temporal/warm-starts", test_warm_starts);
  int r = g_test_run ();
  sf_net_free (net);
  sf_vgg_weights_free (wts);
  sf_device_free (dev);
  return r;
}
