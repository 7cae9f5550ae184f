/* test-frames.c - video frames through the engine: each packed format in
 * and out (at the processing size the resampling is the identity, so the
 * bytes come back exactly), resampling to and from other sizes against a
 * plain-C box/bilinear expectation on a flat and a gradient frame, the
 * scene-change measure and sequence resets, warm starts, preserve-colors,
 * the frame's fine detail added back on the way out,
 * the temporal coring, flow-warp=style's anchored carry and motion-weighted
 * temporal mask, and cancelling an optimisation from another thread. */
#include "engine-test-util.h"
#include "stylizer.h"
#include "flow.h"

static SfDevice *dev;
static SfVggWeights *wts;
static SfNet *net;

static const struct
{
  SfPixelFormat f;
  int bpp, r, g, b, a;
} formats[] = {
  {SF_FORMAT_RGBA, 4, 0, 1, 2, 3},
  {SF_FORMAT_BGRA, 4, 2, 1, 0, 3},
  {SF_FORMAT_RGBX, 4, 0, 1, 2, 3},
  {SF_FORMAT_BGRX, 4, 2, 1, 0, 3},
  {SF_FORMAT_RGB, 3, 0, 1, 2, -1},
  {SF_FORMAT_BGR, 3, 2, 1, 0, -1},
};

static guint8 *
make_frame (int w, int h, int bpp, int stride, guint32 seed)
{
  guint8 *d = g_malloc0 ((gsize) stride * h);
  GRand *r = g_rand_new_with_seed (seed);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w * bpp; x++)
      d[(gsize) y * stride + x] = (guint8) g_rand_int_range (r, 0, 256);
  g_rand_free (r);
  return d;
}

static SfStylizer *
new_stylizer (int w, int h)
{
  GError *err = NULL;
  SfStylizer *st = sf_stylizer_new (net, w, h, &err);
  g_assert_no_error (err);
  return st;
}

/* Same size in and out: every colour byte round-trips exactly; padding
 * and alpha/x bytes come out as 255 (opaque). */
static void
test_round_trip (void)
{
  GError *err = NULL;
  const int w = 19, h = 17;
  SfStylizer *st = new_stylizer (w, h);
  for (guint k = 0; k < G_N_ELEMENTS (formats); k++) {
    int bpp = formats[k].bpp, stride = w * bpp + 5;
    guint8 *in = make_frame (w, h, bpp, stride, k);
    guint8 *out = g_malloc0 ((gsize) stride * h);
    g_assert_true (sf_stylizer_set_content_frame (st, in, stride, w, h,
            formats[k].f, &err));
    g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_NONE, &err));
    g_assert_true (sf_stylizer_end_frame (st, out, stride, w, h,
            formats[k].f, FALSE, &err));
    g_assert_no_error (err);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        for (int c = 0; c < bpp; c++) {
          gsize i = (gsize) y * stride + x * bpp + c;
          if (c == formats[k].a)
            g_assert_cmpint (out[i], ==, 255);
          else
            g_assert_cmpint (out[i], ==, in[i]);
        }
    /* the content planes are the bytes / 255 in R, G, B order */
    float *rgb = g_new (float, 3 * w * h);
    g_assert_true (sf_buffer_download (dev, st->content, 0, rgb,
            3 * w * h * 4, &err));
    g_assert_cmpfloat (fabs (rgb[0] - in[formats[k].r] / 255.0), <, 1e-6);
    g_assert_cmpfloat (fabs (rgb[w * h] - in[formats[k].g] / 255.0), <, 1e-6);
    g_assert_cmpfloat (fabs (rgb[2 * w * h] - in[formats[k].b] / 255.0), <,
        1e-6);
    g_free (rgb);
    g_free (in);
    g_free (out);
  }
  sf_stylizer_free (st);
}

/* Downscaling by 2 is a 2x2 box average; a horizontal ramp stays a ramp
 * when scaled up; 1x1 frames fill the whole image. */
static void
test_resample (void)
{
  GError *err = NULL;
  const int w = 16, h = 16;
  SfStylizer *st = new_stylizer (w, h);
  int fw = 32, fh = 32, stride = fw * 4;
  guint8 *in = make_frame (fw, fh, 4, stride, 7);
  g_assert_true (sf_stylizer_set_content_frame (st, in, stride, fw, fh,
          SF_FORMAT_RGBA, &err));
  float *rgb = g_new (float, 3 * w * h);
  g_assert_true (sf_buffer_download (dev, st->content, 0, rgb, 3 * w * h * 4,
          &err));
  double maxerr = 0;
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double s = 0;
        for (int dy = 0; dy < 2; dy++)
          for (int dx = 0; dx < 2; dx++)
            s += in[(2 * y + dy) * stride + (2 * x + dx) * 4 + c];
        maxerr = MAX (maxerr, fabs (rgb[(c * h + y) * w + x] - s / (4 * 255.0)));
      }
  g_assert_cmpfloat (maxerr, <, 1e-5);

  /* up: the 16x16 content, rendered at 32x32, of a 1x1 grey frame */
  guint8 grey[4] = { 100, 150, 200, 255 };
  g_assert_true (sf_stylizer_set_content_frame (st, grey, 4, 1, 1,
          SF_FORMAT_RGBA, &err));
  g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_NONE, &err));
  guint8 *out = g_malloc0 (32 * 32 * 3);
  g_assert_true (sf_stylizer_end_frame (st, out, 32 * 3, 32, 32,
          SF_FORMAT_RGB, FALSE, &err));
  g_assert_no_error (err);
  for (int i = 0; i < 32 * 32; i++) {
    g_assert_cmpint (out[3 * i], ==, 100);
    g_assert_cmpint (out[3 * i + 1], ==, 150);
    g_assert_cmpint (out[3 * i + 2], ==, 200);
  }
  /* bad geometry: a clear error, no crash */
  g_assert_false (sf_stylizer_set_content_frame (st, grey, 2, 1, 1,
          SF_FORMAT_RGBA, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);
  g_assert_false (sf_stylizer_set_content_frame (st, grey, 4, 0, 1,
          SF_FORMAT_RGBA, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);
  g_free (out);
  g_free (in);
  g_free (rgb);
  sf_stylizer_free (st);
}

/* The change measure: negative with no previous frame (at the start and
 * after a reset), 0 for the same frame, the mean absolute difference for
 * another. */
static void
test_change (void)
{
  GError *err = NULL;
  const int w = 16, h = 16;
  SfStylizer *st = new_stylizer (w, h);
  guint8 *a = g_malloc (w * h * 4), *b = g_malloc (w * h * 4);
  memset (a, 40, w * h * 4);
  memset (b, 40 + 51, w * h * 4);
  g_assert_true (sf_stylizer_set_content_frame (st, a, w * 4, w, h,
          SF_FORMAT_RGBX, &err));
  g_assert_cmpfloat (sf_stylizer_get_content_change (st), <, 0);
  g_assert_true (sf_stylizer_set_content_frame (st, a, w * 4, w, h,
          SF_FORMAT_RGBX, &err));
  g_assert_cmpfloat (fabs (sf_stylizer_get_content_change (st)), <, 1e-7);
  g_assert_true (sf_stylizer_set_content_frame (st, b, w * 4, w, h,
          SF_FORMAT_RGBX, &err));
  g_assert_cmpfloat (fabs (sf_stylizer_get_content_change (st) - 0.2), <,
      1e-5);
  /* a reset between frames: the next frame has no predecessor */
  g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_NONE, &err));
  g_assert_true (sf_stylizer_end_frame (st, a, w * 4, w, h, SF_FORMAT_RGBX,
          FALSE, &err));
  sf_stylizer_reset_sequence (st);
  g_assert_true (sf_stylizer_set_content_frame (st, b, w * 4, w, h,
          SF_FORMAT_RGBX, &err));
  g_assert_cmpfloat (sf_stylizer_get_content_change (st), <, 0);
  /* a reset inside a frame (scene cut): this frame precedes the next */
  sf_stylizer_reset_sequence (st);
  memset (a, 40, w * h * 4);
  g_assert_true (sf_stylizer_set_content_frame (st, a, w * 4, w, h,
          SF_FORMAT_RGBX, &err));
  g_assert_cmpfloat (fabs (sf_stylizer_get_content_change (st) - 0.2), <,
      1e-5);
  g_assert_no_error (err);
  g_free (a);
  g_free (b);
  sf_stylizer_free (st);
}

/* Warm starts: PREVIOUS starts from the previous result (not the content)
 * and adds the temporal term; NONE and a reset start from the content. */
static void
test_warm_start (void)
{
  GError *err = NULL;
  const int w = 16, h = 16;
  SfStylizer *st = new_stylizer (w, h);
  float *style = g_new (float, 3 * w * h);
  test_fill (style, 3 * w * h, 9, 0, 1);
  g_assert_true (sf_stylizer_set_style (st, style, w, h, &err));
  guint8 *f = make_frame (w, h, 4, w * 4, 3);
  guint8 *out1 = g_malloc (w * h * 4), *out2 = g_malloc (w * h * 4);
  SfParams p;
  sf_params_init (&p);
  p.weights.temporal = 1e3;
  SfLossTerms t;

  g_assert_true (sf_stylizer_set_content_frame (st, f, w * 4, w, h,
          SF_FORMAT_RGBA, &err));
  g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_PREVIOUS, &err));
  g_assert_true (sf_stylizer_optimize (st, &p, 5, NULL, NULL, &t, NULL, &err));
  g_assert_cmpfloat (t.temporal, ==, 0.0);      /* first frame: none */
  g_assert_true (sf_stylizer_end_frame (st, out1, w * 4, w, h,
          SF_FORMAT_RGBA, FALSE, &err));
  /* same frame again: starts at the previous result, temporal term 0 there */
  g_assert_true (sf_stylizer_set_content_frame (st, f, w * 4, w, h,
          SF_FORMAT_RGBA, &err));
  g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_PREVIOUS, &err));
  g_assert_true (sf_stylizer_evaluate (st, &p, &t, NULL, &err));
  g_assert_cmpfloat (t.temporal, <, 1e-12);
  g_assert_true (sf_stylizer_end_frame (st, out2, w * 4, w, h,
          SF_FORMAT_RGBA, FALSE, &err));
  g_assert_cmpmem (out1, w * h * 4, out2, w * h * 4);
  /* NONE: back to the content frame, which differs from the result */
  g_assert_true (sf_stylizer_set_content_frame (st, f, w * 4, w, h,
          SF_FORMAT_RGBA, &err));
  g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_NONE, &err));
  g_assert_true (sf_stylizer_end_frame (st, out2, w * 4, w, h,
          SF_FORMAT_RGBA, FALSE, &err));
  for (int i = 0; i < w * h * 4; i++)
    g_assert_cmpint (out2[i], ==, i % 4 == 3 ? 255 : f[i]);
  g_assert_no_error (err);
  g_free (f); g_free (out1); g_free (out2); g_free (style);
  sf_stylizer_free (st);
}

/* preserve-colors: the output has the content's chroma; with the result
 * equal to the content the frame comes back unchanged (to rounding). */
static void
test_preserve_colors (void)
{
  GError *err = NULL;
  const int w = 16, h = 16;
  SfStylizer *st = new_stylizer (w, h);
  guint8 *f = make_frame (w, h, 3, w * 3, 5), *out = g_malloc (w * h * 3);
  g_assert_true (sf_stylizer_set_content_frame (st, f, w * 3, w, h,
          SF_FORMAT_BGR, &err));
  g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_NONE, &err));
  g_assert_true (sf_stylizer_end_frame (st, out, w * 3, w, h, SF_FORMAT_BGR,
          TRUE, &err));
  g_assert_no_error (err);
  int maxd = 0;
  for (int i = 0; i < w * h * 3; i++)
    maxd = MAX (maxd, abs ((int) out[i] - (int) f[i]));
  g_test_message ("preserve-colors identity: max byte difference %d", maxd);
  g_assert_cmpint (maxd, <=, 4);
  /* a grey result takes the frame's colours: set x to a flat grey */
  float *grey = g_new (float, 3 * w * h);
  for (int i = 0; i < 3 * w * h; i++)
    grey[i] = 0.5f;
  g_assert_true (sf_stylizer_set_image (st, grey, &err));
  g_assert_true (sf_stylizer_end_frame (st, out, w * 3, w, h, SF_FORMAT_BGR,
          TRUE, &err));
  int differ = 0;
  for (int i = 0; i < w * h; i++)
    differ += out[3 * i] != out[3 * i + 1] || out[3 * i + 1] != out[3 * i + 2];
  g_assert_cmpint (differ, >, w * h / 2);
  g_free (grey);
  g_free (f);
  g_free (out);
  sf_stylizer_free (st);
}

/* The frame's fine detail added back on the way out: a 16x16 processing
 * size, a 48x40 random frame; with the image equal to the content (no
 * optimisation), detail 1 gives the frame back (to rounding), detail 0
 * the bilinear upsampling alone, detail 0.5 their mean (within 1 level),
 * detail clamps to [0, 1], and preserve-colors still applies. */
static void
test_output_detail (void)
{
  GError *err = NULL;
  const int w = 16, h = 16, fw = 48, fh = 40, stride = fw * 3;
  SfStylizer *st = new_stylizer (w, h);
  guint8 *f = make_frame (fw, fh, 3, stride, 9);
  guint8 *o0 = g_malloc (stride * fh), *o1 = g_malloc (stride * fh);
  guint8 *oh = g_malloc (stride * fh);
  int d1 = 0, d0 = 0, dh = 0;

  g_assert_true (sf_stylizer_set_content_frame (st, f, stride, fw, fh,
          SF_FORMAT_RGB, &err));
  g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_NONE, &err));
  sf_stylizer_set_output_detail (st, 0.0);
  g_assert_true (sf_stylizer_end_frame (st, o0, stride, fw, fh,
          SF_FORMAT_RGB, FALSE, &err));
  sf_stylizer_set_output_detail (st, 7.0);      /* clamped to 1 */
  g_assert_true (sf_stylizer_end_frame (st, o1, stride, fw, fh,
          SF_FORMAT_RGB, FALSE, &err));
  sf_stylizer_set_output_detail (st, 0.5);
  g_assert_true (sf_stylizer_end_frame (st, oh, stride, fw, fh,
          SF_FORMAT_RGB, FALSE, &err));
  g_assert_no_error (err);
  for (int i = 0; i < stride * fh; i++) {
    d1 = MAX (d1, abs ((int) o1[i] - (int) f[i]));
    d0 = MAX (d0, abs ((int) o0[i] - (int) f[i]));
    dh = MAX (dh, abs (2 * (int) oh[i] - (int) o0[i] - (int) o1[i]));
  }
  g_test_message ("detail 1: max difference to the frame %d; detail 0: %d; "
      "detail 0.5 from the mean: %d halves", d1, d0, dh);
  g_assert_cmpint (d1, <=, 1);
  g_assert_cmpint (d0, >, 64);  /* random bytes: upsampling loses them */
  g_assert_cmpint (dh, <=, 2);
  /* with preserve-colors, detail 1 on the unchanged image: the frame */
  sf_stylizer_set_output_detail (st, 1.0);
  g_assert_true (sf_stylizer_end_frame (st, o1, stride, fw, fh,
          SF_FORMAT_RGB, TRUE, &err));
  d1 = 0;
  for (int i = 0; i < stride * fh; i++)
    d1 = MAX (d1, abs ((int) o1[i] - (int) f[i]));
  g_test_message ("detail 1 with preserve-colors: %d", d1);
  g_assert_cmpint (d1, <=, 4);
  g_free (f);
  g_free (o0);
  g_free (o1);
  g_free (oh);
  sf_stylizer_free (st);
}

/* The result kept for the next frame is clamped to [0,1], as shown, so
 * that long runs cannot drift out of range. */
static void
test_no_drift (void)
{
  GError *err = NULL;
  const int w = 16, h = 16;
  SfStylizer *st = new_stylizer (w, h);
  guint8 *f = make_frame (w, h, 4, w * 4, 8);
  float *x = g_new (float, 3 * w * h), *kept = g_new (float, 3 * w * h);
  for (int i = 0; i < 3 * w * h; i++)
    x[i] = (i % 3 == 0) ? 1.7f : (i % 3 == 1) ? -0.6f : 0.25f;
  g_assert_true (sf_stylizer_set_content_frame (st, f, w * 4, w, h,
          SF_FORMAT_RGBA, &err));
  g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_PREVIOUS, &err));
  g_assert_true (sf_stylizer_set_image (st, x, &err));
  g_assert_true (sf_stylizer_end_frame (st, f, w * 4, w, h, SF_FORMAT_RGBA,
          FALSE, &err));
  g_assert_true (sf_buffer_download (dev, st->video->prev_result, 0, kept,
          3 * w * h * 4, &err));
  g_assert_no_error (err);
  for (int i = 0; i < 3 * w * h; i++)
    g_assert_cmpfloat (kept[i], ==, CLAMP (x[i], 0.0f, 1.0f));
  g_free (x);
  g_free (kept);
  g_free (f);
  sf_stylizer_free (st);
}

/* flow_core.comp against its plain-C reference (the definition in
 * engine/flow.h), on differences spread across both thresholds and flows
 * spread across the motion thresholds; and what it is for: on a still
 * pixel a change below t0 is dropped, one above t1 kept whole, and the
 * result never further than t1 from the content; a moving pixel takes the
 * content whole. */
static void
test_core (void)
{
  GError *err = NULL;
  const int w = 23, h = 19, np = w * h, n = 3 * np;
  const SfCoring co = { 3.0f / 255, 9.0f / 255, 0.3f, 0.6f };
  float *c = g_new (float, n), *wv = g_new (float, n), *out = g_new (float, n);
  float *fl = g_new (float, 2 * np);
  GRand *r = g_rand_new_with_seed (5);
  SfFlow *flow = sf_flow_new (dev, w, h, &err);
  VkCommandBuffer cb;

  g_assert_no_error (err);
  for (int i = 0; i < n; i++) {
    c[i] = (float) g_rand_double (r);
    wv[i] = c[i] + (float) g_rand_double_range (r, -2.5 * co.t1, 2.5 * co.t1);
  }
  /* half the pixels still (|b| <= 0.2 px), the others from 0 to 1 px */
  for (int k = 0; k < np; k++) {
    double len = k % 2 ? g_rand_double_range (r, 0.0, 1.0)
        : g_rand_double_range (r, 0.0, 0.2), a = g_rand_double (r) * 6.283;
    fl[k] = (float) (len * cos (a));
    fl[np + k] = (float) (len * sin (a));
  }
  SfBuffer *bc = test_upload (dev, c, n), *bw = test_upload (dev, wv, n);
  SfBuffer *bf = test_upload (dev, fl, 2 * np);
  g_assert_true (sf_cmd_begin (dev, &cb, &err));
  g_assert_true (sf_flow_record_core (flow, cb, bc, bw, bf, &co, &err));
  g_assert_true (sf_cmd_submit_wait (dev, &cb, 1, TRUE, &err));
  g_assert_true (sf_buffer_download (dev, bw, 0, out, n * sizeof (float),
          &err));
  g_assert_no_error (err);
  double maxe = 0;
  int below = 0, above = 0, moving = 0;
  for (int i = 0; i < n; i++) {
    int k = i % np;
    double d = (double) c[i] - wv[i], m = hypot (fl[k], fl[np + k]);
    double s = MAX (test_smoothstep (co.t0, co.t1, fabs (d)),
        test_smoothstep (co.m0, co.m1, m));
    double ref = wv[i] + s * d;
    maxe = MAX (maxe, fabs (out[i] - ref));
    g_assert_cmpfloat (fabs (out[i] - c[i]), <=, co.t1 + 1e-6);
    if (m > co.m1) {
      g_assert_cmpfloat (fabs (out[i] - c[i]), <, 1e-6);
      moving++;
    } else if (m < co.m0 && fabs (d) < co.t0) {
      g_assert_cmpfloat (out[i], ==, wv[i]);
      below++;
    } else if (fabs (d) > co.t1) {
      g_assert_cmpfloat (fabs (out[i] - c[i]), <, 1e-6);
      above++;
    }
  }
  g_test_message ("flow_core %dx%d: max |GPU - reference| %.2e (%d still "
      "values below t0, %d above t1, %d moving)", w, h, maxe, below, above,
      moving);
  g_assert_cmpfloat (maxe, <, 1e-6);
  g_assert_cmpint (below, >, n / 20);
  g_assert_cmpint (above, >, n / 4);
  g_assert_cmpint (moving, >, n / 8);

  /* thresholds out of order are refused before anything is recorded */
  const SfCoring bad[] = { {co.t1, co.t0, co.m0, co.m1},
  {co.t0, co.t1, co.m0, co.m0}
  };
  g_assert_true (sf_cmd_begin (dev, &cb, &err));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (sf_flow_record_core (flow, cb, bc, bw, bf, &bad[i], &err));
    g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
    g_clear_error (&err);
  }
  vkEndCommandBuffer (cb);
  sf_cmd_free (dev, cb);
  sf_buffer_free (dev, bc);
  sf_buffer_free (dev, bw);
  sf_buffer_free (dev, bf);
  sf_flow_free (flow);
  g_rand_free (r);
  g_free (c); g_free (wv); g_free (out); g_free (fl);
}

/* flow-warp=style carries the stylization through one interpolation from
 * its anchor, not one per frame: a smooth content pans by (0.4, 0.3) px a
 * frame, frame 0's result is the content plus a fine pattern (waves near
 * 0.25 cycles/px, what the random network's style looks like), and each
 * next frame is sent as its warm start, without optimising.  What is
 * measured on frame k's start x: the Laplacian of x - content against the
 * Laplacian of the pattern moved by k (0.4, 0.3) px, inside a margin,
 * kept = <L(r), L(ideal)> / <L(ideal), L(ideal)>.  Against the chain of
 * one warp per frame (the anchor dropped before every frame). */
static double
carry_content (int c, double x, double y)
{
  return 0.5 + 0.15 * sin (2 * G_PI * (0.031 * x + 0.017 * y) + c)
      + 0.1 * cos (2 * G_PI * (0.023 * x - 0.041 * y) + 2 * c);
}

static double
carry_pattern (int c, double x, double y)
{
  return 0.06 * cos (2 * G_PI * (0.23 * x + 0.19 * y) + c)
      + 0.05 * cos (2 * G_PI * (0.27 * x - 0.21 * y) + 3 * c);
}

static double
laplacian_at (const double *r, int w, int i)
{
  return 4 * r[i] - r[i - 1] - r[i + 1] - r[i - w] - r[i + w];
}

/* The temporal mask of a pan moving every pixel by |(sx, sy)| px:
 * flow-warp=style weights it by mix (1, 0.2, smoothstep (0.3, 0.6, |b|))
 * (frames.c, sf_motion_weight); inside a margin the mean mask is that
 * weight within the flow's error (0.41 at 0.5 px), not the 1 of a mask
 * left unweighted */
static void
check_motion_weight (SfStylizer * st, int w, int h, int m, double sx,
    double sy)
{
  GError *err = NULL;
  float *mask = g_new (float, w * h);
  double sum = 0;
  double want = 1.0 - 0.8 * test_smoothstep (0.3, 0.6, hypot (sx, sy));
  int cnt = 0;

  g_assert_true (sf_buffer_download (dev, st->video->mask, 0, mask,
          (gsize) w * h * sizeof (float), &err));
  g_assert_no_error (err);
  for (int y = m; y < h - m; y++)
    for (int i = m; i < w - m; i++, cnt++)
      sum += mask[y * w + i];
  g_assert_cmpfloat (fabs (sum / cnt - want), <, 0.1);
  g_free (mask);
}

static double
carry_run (gboolean anchored, int frames, GArray * kept)
{
  GError *err = NULL;
  const int w = 48, h = 40, n = 3 * w * h, m = 8;
  const double sx = 0.4, sy = 0.3;
  SfStylizer *st = new_stylizer (w, h);
  guint8 *f = g_malloc (4 * w * h);
  float *x = g_new (float, n);
  double *r = g_new (double, n), *ideal = g_new (double, n);
  double k_last = 0;

  sf_stylizer_set_flow_warp (st, SF_FLOW_WARP_STYLE);
  for (int k = 0; k <= frames; k++) {
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++) {
          double v = carry_content (c, i + k * sx, y + k * sy);
          f[(y * w + i) * 4 + c] = (guint8) CLAMP (v * 255 + 0.5, 0, 255);
          f[(y * w + i) * 4 + 3] = 255;
        }
    g_assert_true (sf_stylizer_set_content_frame (st, f, 4 * w, w, h,
            SF_FORMAT_RGBA, &err));
    if (!anchored)
      st->video->anchor_valid = FALSE;
    g_assert_true (sf_stylizer_begin_frame (st, SF_WARM_FLOW, &err));
    g_assert_no_error (err);
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++) {
          int j = (c * h + y) * w + i;
          ideal[j] = carry_pattern (c, i + k * sx, y + k * sy);
          if (k == 0)
            x[j] = f[(y * w + i) * 4 + c] / 255.0f + (float) ideal[j];
        }
    if (k == 0)
      g_assert_true (sf_stylizer_set_image (st, x, &err));
    else {
      double num = 0, den = 0;
      if (anchored)
        check_motion_weight (st, w, h, m, sx, sy);
      g_assert_true (sf_stylizer_get_image (st, x, &err));
      for (int j = 0; j < n; j++)
        r[j] = x[j] - f[((j % (w * h)) * 4) + j / (w * h)] / 255.0;
      for (int c = 0; c < 3; c++)
        for (int y = m; y < h - m; y++)
          for (int i = m; i < w - m; i++) {
            int j = (c * h + y) * w + i;
            double li = laplacian_at (ideal, w, j);
            num += laplacian_at (r, w, j) * li;
            den += li * li;
          }
      k_last = num / den;
      g_array_append_val (kept, k_last);
    }
    g_assert_true (sf_stylizer_end_frame (st, f, 4 * w, w, h, SF_FORMAT_RGBA,
            FALSE, &err));
    g_assert_no_error (err);
  }
  /* a new sequence takes a new anchor */
  g_assert_true (st->video->anchor_valid);
  sf_stylizer_reset_sequence (st);
  g_assert_false (st->video->anchor_valid);
  g_free (f); g_free (x); g_free (r); g_free (ideal);
  sf_stylizer_free (st);
  return k_last;
}

static void
test_carry (void)
{
  const int frames = 10;
  GArray *ka = g_array_new (FALSE, FALSE, sizeof (double));
  GArray *kc = g_array_new (FALSE, FALSE, sizeof (double));
  double c;

  carry_run (TRUE, frames, ka);
  c = carry_run (FALSE, frames, kc);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < ka->len; i++)
    g_string_append_printf (s, " %.3f/%.3f", g_array_index (ka, double, i),
        g_array_index (kc, double, i));
  g_test_message ("pattern kept, anchored/chained, frames 1..%d:%s", frames,
      s->str);
  /* one Lanczos-3 interpolation from the anchor, however many frames:
   * measured 0.85 to 1.03, mean 0.96 (Catmull-Rom: 0.77 to 0.94, mean
   * 0.86); what falls off is the composed flow's error */
  double mean = 0;
  for (guint i = 0; i < ka->len; i++) {
    double v = g_array_index (ka, double, i);
    g_assert_cmpfloat (fabs (v - 1.0), <, 0.2);
    mean += v / ka->len;
  }
  g_assert_cmpfloat (mean, >, 0.92);
  /* the anchor dropped before every frame makes a chain of Lanczos warps,
   * which amplify near a quarter of the sampling rate (1.13 after 10
   * frames; Catmull-Rom's chain fell to 0.17): the reason the frame to
   * frame part of the carry is Catmull-Rom */
  g_assert_cmpfloat (fabs (c - 1.0), >, 0.1);
  g_string_free (s, TRUE);
  g_array_free (ka, TRUE);
  g_array_free (kc, TRUE);
}

/* Cancellation: another thread raises the flag in the middle of a long
 * optimisation; the call returns SF_ERROR_CANCELLED within about one
 * loss evaluation of the flag (measured here, bound 2 evaluations + 50 ms),
 * the image is a finite picture in [0, 1] that moved from the start, and
 * with the flag lowered the stylizer optimises again. */
typedef struct
{
  gint *flag;
  gulong delay_us;
  gint64 raised_us;
} CancelCtx;

static gpointer
raise_later (gpointer data)
{
  CancelCtx *c = data;

  g_usleep (c->delay_us);
  c->raised_us = g_get_monotonic_time ();
  g_atomic_int_set (c->flag, 1);
  return NULL;
}

static void
test_cancel (void)
{
  GError *err = NULL;
  const int w = 32, h = 24;
  SfStylizer *st = new_stylizer (w, h);
  float *img = g_new (float, 3 * w * h), *img0 = g_new (float, 3 * w * h);
  gint flag = 0;
  CancelCtx c = { &flag, 0, 0 };
  SfFrameResult res;
  SfLossTerms t;
  SfParams p;

  test_fill (img, 3 * w * h, 9, 0, 1);
  g_assert_true (sf_stylizer_set_style (st, img, w, h, &err));
  test_fill (img0, 3 * w * h, 4, 0, 1);
  g_assert_true (sf_stylizer_set_content (st, img0, &err));
  g_assert_true (sf_stylizer_set_image (st, img0, &err));
  sf_params_init (&p);
  sf_stylizer_set_cancel_flag (st, &flag);

  /* one evaluation's time, measured on this device (after a first one
   * that warms the pipelines up) */
  g_assert_true (sf_stylizer_evaluate (st, &p, &t, NULL, &err));
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (sf_stylizer_evaluate (st, &p, &t, NULL, &err));
  gint64 eval_us = g_get_monotonic_time () - t0;

  for (int mode = 0; mode < 2; mode++) {
    flag = 0;
    c.delay_us = 3 * eval_us + 20000;
    GThread *th = g_thread_new ("cancel", raise_later, &c);
    gboolean ok = mode == 0
        ? sf_stylizer_optimize (st, &p, 5000, NULL, NULL, NULL, NULL, &err)
        : sf_stylizer_optimize_frame (st, &p, 5000, 0, &res, &err);
    gint64 late_us = g_get_monotonic_time () - c.raised_us;
    g_thread_join (th);
    g_test_message ("%s: returned %.1f ms after the flag, one evaluation "
        "%.1f ms", mode == 0 ? "optimize" : "optimize_frame",
        late_us / 1000.0, eval_us / 1000.0);
    g_assert_false (ok);
    g_assert_error (err, SF_ERROR, SF_ERROR_CANCELLED);
    g_clear_error (&err);
    g_assert_cmpint (late_us, <, 2 * eval_us + 50000);
    g_assert_cmpint (sf_stylizer_get_history (st), ==, 0);
  }

  /* the image is a picture, and it moved */
  g_assert_true (sf_stylizer_get_image (st, img, &err));
  double moved = 0;
  for (int i = 0; i < 3 * w * h; i++) {
    g_assert_true (isfinite (img[i]) && img[i] >= 0 && img[i] <= 1);
    moved += fabs (img[i] - img0[i]);
  }
  g_assert_cmpfloat (moved / (3 * w * h), >, 1e-4);

  /* lowered: works again; raised before the call: not one evaluation */
  flag = 0;
  int done = 0;
  g_assert_true (sf_stylizer_optimize (st, &p, 2, NULL, NULL, NULL, &done,
          &err));
  g_assert_no_error (err);
  g_assert_cmpint (done, >=, 1);
  flag = 1;
  g_assert_false (sf_stylizer_optimize (st, &p, 2, NULL, NULL, NULL, NULL,
          &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_CANCELLED);
  g_clear_error (&err);
  sf_stylizer_set_cancel_flag (st, NULL);
  g_assert_true (sf_stylizer_optimize (st, &p, 1, NULL, NULL, NULL, NULL,
          &err));
  g_assert_no_error (err);
  g_free (img);
  g_free (img0);
  sf_stylizer_free (st);
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  g_test_init (&argc, &argv, NULL);
  dev = test_device ();
  wts = sf_vgg_weights_new_default (0);
  net = sf_net_new (dev, wts, SF_POOL_MAX, &err);
  g_assert_no_error (err);
  g_test_add_func ("/frames/round-trip", test_round_trip);
  g_test_add_func ("/frames/resample", test_resample);
  g_test_add_func ("/frames/change", test_change);
  g_test_add_func ("/frames/warm-start", test_warm_start);
  g_test_add_func ("/frames/preserve-colors", test_preserve_colors);
  g_test_add_func ("/frames/output-detail", test_output_detail);
  g_test_add_func ("/frames/no-drift", test_no_drift);
  g_test_add_func ("/frames/cancel", test_cancel);
  g_test_add_func ("/frames/core", test_core);
  g_test_add_func ("/frames/carry", test_carry);
  int r = g_test_run ();
  sf_net_free (net);
  sf_vgg_weights_free (wts);
  sf_device_free (dev);
  return r;
}
