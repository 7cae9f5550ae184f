/* test-cpu-ref.c - checks the plain-C reference (engine/cpu-ref.c) itself.
 *
 * The GPU kernels are tested against cpu-ref, so cpu-ref must be right on
 * its own terms: every layer's backward against central finite differences
 * of its forward, the Gram matrix, conv, pooling and the loss terms against
 * values worked out by hand on tiny inputs, and the gradient of the whole
 * loss against finite differences on small images with the default
 * network.  (tests/ref/test-ref-peer.c then checks it against PyTorch.)
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "cpu-ref.h"
#include "sf-weights.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

static double *
random_doubles (GRand *r, gsize n, double lo, double hi)
{
  double *v = g_new (double, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    v[i] = g_rand_double_range (r, lo, hi);
  return v;
}

static float *
random_floats (GRand *r, gsize n, double lo, double hi)
{
  float *v = g_new (float, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (r, lo, hi);
  return v;
}

static double
dot (const double *a, const double *b, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

/* ||a - b|| / ||b|| */
static double
rel_l2 (const double *a, const double *b, gsize n)
{
  double d = 0.0, nb = 0.0;

  for (gsize i = 0; i < n; i++) {
    d += (a[i] - b[i]) * (a[i] - b[i]);
    nb += b[i] * b[i];
  }
  return sqrt (d) / MAX (sqrt (nb), 1e-300);
}

static void
assert_close (double got, double want, double rel)
{
  double err = fabs (got - want) / MAX (fabs (want), 1e-300);

  if (!(err <= rel))
    g_error ("got %.17g, want %.17g (relative error %.3g > %.3g)",
        got, want, err, rel);
}

/* A layer under test as a scalar function of its input: L(in) = <r, f(in)>
 * for a fixed random r, so dL/din = backward(r). */
typedef double (*ScalarFn) (const double *in, gpointer data);

/* Central differences of fn at every component of in (modified in place and
 * restored); returns the relative L2 error against analytic. */
static double
fd_check_all (ScalarFn fn, gpointer data, double *in, gsize n,
    const double *analytic, double eps)
{
  double *fd = g_new (double, MAX (n, 1));
  double err;

  for (gsize i = 0; i < n; i++) {
    double v = in[i], fp, fm;
    in[i] = v + eps;
    fp = fn (in, data);
    in[i] = v - eps;
    fm = fn (in, data);
    in[i] = v;
    fd[i] = (fp - fm) / (2.0 * eps);
  }
  err = rel_l2 (fd, analytic, n);
  g_free (fd);
  return err;
}

/* ---------------------------------------------------------------------- */
/* Convolution                                                             */

typedef struct
{
  int cin, cout, h, w, relu;
  float *weight, *bias;
  double *r;                    /* the random cotangent, [cout][h][w] */
  double *out;
} ConvCase;

static double
conv_scalar (const double *in, gpointer data)
{
  ConvCase *c = data;

  sf_ref_conv3x3_forward (in, c->cin, c->h, c->w, c->weight, c->bias, c->cout,
      c->relu, c->out);
  return dot (c->r, c->out, (gsize) c->cout * c->h * c->w);
}

static void
conv_backward_case (GRand *rng, int cin, int cout, int h, int w, int relu)
{
  ConvCase c = { cin, cout, h, w, relu };
  gsize nin = (gsize) cin * h * w, nout = (gsize) cout * h * w;
  double *in = random_doubles (rng, nin, -1, 1);
  double *gin = g_new (double, nin);
  double err;

  c.weight = random_floats (rng, (gsize) cout * cin * 9, -1, 1);
  c.bias = random_floats (rng, cout, -0.5, 0.5);
  c.r = random_doubles (rng, nout, -1, 1);
  c.out = g_new (double, nout);

  conv_scalar (in, &c);
  sf_ref_conv3x3_backward_input (c.r, relu ? c.out : NULL, cin, h, w,
      c.weight, cout, gin);
  err = fd_check_all (conv_scalar, &c, in, nin, gin, 1e-5);
  g_test_message ("conv %dx%d cin %d cout %d relu %d: rel err %.2e",
      w, h, cin, cout, relu, err);
  g_assert_cmpfloat (err, <, 1e-6);

  g_free (in);
  g_free (gin);
  g_free (c.weight);
  g_free (c.bias);
  g_free (c.r);
  g_free (c.out);
}

static void
test_conv_backward (void)
{
  static const int sizes[][2] = { { 6, 6 }, { 7, 5 }, { 5, 7 }, { 1, 3 } };
  static const int chans[][2] = { { 1, 1 }, { 3, 4 }, { 5, 2 }, { 8, 8 } };
  GRand *rng = g_rand_new_with_seed (1);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (guint c = 0; c < G_N_ELEMENTS (chans); c++)
      for (int relu = 0; relu < 2; relu++)
        conv_backward_case (rng, chans[c][0], chans[c][1], sizes[s][1],
            sizes[s][0], relu);
  g_rand_free (rng);
}

/* By hand: one channel, 3x3 input 1..9, all-ones kernel: each output is the
 * sum of its 3x3 neighbourhood (zero padding) plus the bias. */
static void
test_conv_known (void)
{
  const double in[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  const double want[9] = { 12, 21, 16, 27, 45, 33, 24, 39, 28 };
  float weight[9], bias[1] = { -20.5f };
  double out[9];

  for (int i = 0; i < 9; i++)
    weight[i] = 1.0f;
  sf_ref_conv3x3_forward (in, 1, 3, 3, weight, NULL, 1, 0, out);
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat (out[i], ==, want[i]);
  sf_ref_conv3x3_forward (in, 1, 3, 3, weight, bias, 1, 1, out);
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat (out[i], ==, MAX (want[i] - 20.5, 0.0));

  /* one tap: kernel (ky, kx) = (0, 2) reads in[y-1][x+1] */
  memset (weight, 0, sizeof (weight));
  weight[2] = 2.0f;
  sf_ref_conv3x3_forward (in, 1, 3, 3, weight, NULL, 1, 0, out);
  {
    const double w2[9] = { 0, 0, 0, 4, 6, 0, 10, 12, 0 };
    for (int i = 0; i < 9; i++)
      g_assert_cmpfloat (out[i], ==, w2[i]);
  }
}

/* ---------------------------------------------------------------------- */
/* Pooling                                                                 */

typedef struct
{
  int c, h, w;
  SfPooling pool;
  double *r, *out;
} PoolCase;

static double
pool_scalar (const double *in, gpointer data)
{
  PoolCase *p = data;

  sf_ref_pool_forward (in, p->c, p->h, p->w, p->pool, p->out);
  return dot (p->r, p->out,
      (gsize) p->c * sf_ref_pool_dim (p->h) * sf_ref_pool_dim (p->w));
}

static void
pool_backward_case (GRand *rng, int c, int h, int w, SfPooling pool)
{
  gsize nin = (gsize) c * h * w;
  gsize nout = (gsize) c * sf_ref_pool_dim (h) * sf_ref_pool_dim (w);
  PoolCase p = { c, h, w, pool };
  double *in = random_doubles (rng, nin, -1, 1);
  double *gin = g_new (double, nin);
  double err;

  p.r = random_doubles (rng, nout, -1, 1);
  p.out = g_new (double, MAX (nout, 1));
  sf_ref_pool_backward (in, p.r, c, h, w, pool, gin);
  if (nout == 0) {
    for (gsize i = 0; i < nin; i++)
      g_assert_cmpfloat (gin[i], ==, 0.0);
  } else {
    err = fd_check_all (pool_scalar, &p, in, nin, gin, 1e-5);
    g_test_message ("%s pool %dx%d c %d: rel err %.2e",
        pool == SF_POOL_MAX ? "max" : "avg", w, h, c, err);
    g_assert_cmpfloat (err, <, 1e-6);
  }
  /* leftover last row / column: no gradient */
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        if (y >= 2 * (h / 2) || x >= 2 * (w / 2))
          g_assert_cmpfloat (gin[((gsize) ch * h + y) * w + x], ==, 0.0);

  g_free (in);
  g_free (gin);
  g_free (p.r);
  g_free (p.out);
}

static void
test_pool_backward (void)
{
  static const int sizes[][2] = { { 6, 6 }, { 7, 5 }, { 5, 7 }, { 3, 1 } };
  GRand *rng = g_rand_new_with_seed (2);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int c = 1; c <= 3; c += 2)
      for (int pool = 0; pool < 2; pool++)
        pool_backward_case (rng, c, sizes[s][1], sizes[s][0], pool);
  g_rand_free (rng);
}

/* By hand on a 3x5 plane (one 2x2 window per pair of columns, last row and
 * column unused): values, and where max routes the gradient on ties. */
static void
test_pool_known (void)
{
  const double in[15] = {
    1, 3, 2, 2, 9,
    3, 0, 2, 2, 9,
    9, 9, 9, 9, 9,
  };
  const double gout[2] = { 10, 20 };
  double out[2], gin[15];

  sf_ref_pool_forward (in, 1, 3, 5, SF_POOL_MAX, out);
  g_assert_cmpfloat (out[0], ==, 3);
  g_assert_cmpfloat (out[1], ==, 2);
  sf_ref_pool_backward (in, gout, 1, 3, 5, SF_POOL_MAX, gin);
  for (int i = 0; i < 15; i++) {
    /* window 0: tie 3 at (0,1) and (1,0): the first in row-major order;
     * window 1: four 2s: the top-left one */
    double want = i == 1 ? 10 : i == 2 ? 20 : 0;
    g_assert_cmpfloat (gin[i], ==, want);
  }

  sf_ref_pool_forward (in, 1, 3, 5, SF_POOL_AVG, out);
  g_assert_cmpfloat (out[0], ==, 7.0 / 4);
  g_assert_cmpfloat (out[1], ==, 2);
  sf_ref_pool_backward (in, gout, 1, 3, 5, SF_POOL_AVG, gin);
  for (int i = 0; i < 15; i++) {
    int y = i / 5, x = i % 5;
    double want = y < 2 && x < 4 ? (x < 2 ? 2.5 : 5) : 0;
    g_assert_cmpfloat (gin[i], ==, want);
  }
}

/* ---------------------------------------------------------------------- */
/* Gram                                                                    */

static void
test_gram_known (void)
{
  const double f[6] = { 1, 2, 3, 4, 5, 6 };     /* 2 channels, m = 3 */
  double g[4];

  sf_ref_gram (f, 2, 3, g);
  assert_close (g[0], 14.0 / 3, 1e-15);
  assert_close (g[1], 32.0 / 3, 1e-15);
  assert_close (g[2], 32.0 / 3, 1e-15);
  assert_close (g[3], 77.0 / 3, 1e-15);
}

/* ---------------------------------------------------------------------- */
/* Loss terms by hand                                                      */

/* A network every conv of which is a 1x1 pass-through (only the centre tap
 * is set): conv 0 maps R -> channel 0 and G + 3 -> channel 1 (the 3 keeps it
 * positive through the ReLU), later convs copy channels 0 and 1.  On a
 * constant image every feature map is the constant vector
 * v = (relu(Rn), Gn + 3, 0, ...), Rn/Gn normalised, so G_l = v v^T. */
static SfVggWeights *
passthrough_weights (void)
{
  SfVggWeights *wts = sf_vgg_weights_new ();

  for (int k = 0; k < SF_VGG_NUM_CONVS; k++) {
    SfConvWeights *cv = &wts->conv[k];
    for (int c = 0; c < 2; c++)
      cv->weight[((gsize) c * cv->cin + c) * 9 + 4] = 1.0f;
  }
  wts->conv[0].bias[1] = 3.0f;
  return wts;
}

static float *
constant_image (int w, int h, float r, float g, float b)
{
  gsize plane = (gsize) w * h;
  float *img = g_new (float, 3 * plane);

  for (gsize i = 0; i < plane; i++) {
    img[i] = r;
    img[plane + i] = g;
    img[2 * plane + i] = b;
  }
  return img;
}

static void
feature_vector (const float *rgb, double v[2])
{
  v[0] = MAX (0.0, ((double) rgb[0] - SF_MEAN_R) / SF_STD_R);
  v[1] = ((double) rgb[1] - SF_MEAN_G) / SF_STD_G + 3.0;
}

static void
test_loss_known (void)
{
  const float cx[3] = { 0.75f, 0.25f, 0.5f };
  const float cc[3] = { 0.625f, 0.5f, 0.125f };
  const float cs[3] = { 0.875f, 0.0f, 1.0f };
  const int w = 17, h = 16, sw = 16, sh = 19;
  g_autoptr (SfVggWeights) wts = passthrough_weights ();
  float *x = constant_image (w, h, cx[0], cx[1], cx[2]);
  float *c = constant_image (w, h, cc[0], cc[1], cc[2]);
  float *s = constant_image (sw, sh, cs[0], cs[1], cs[2]);
  SfLossWeights lw = { 2.0, 1e3, 10.0, 0.0 };
  SfLossTerms t;
  double v[2], p[2], u[2], style, content, num, den, total;

  feature_vector (cx, v);
  feature_vector (cc, p);
  feature_vector (cs, u);
  /* ||v v^T - u u^T||^2 / ||u u^T||^2, the same at all five layers */
  num = pow (v[0] * v[0] - u[0] * u[0], 2)
      + 2 * pow (v[0] * v[1] - u[0] * u[1], 2)
      + pow (v[1] * v[1] - u[1] * u[1], 2);
  den = pow (u[0] * u[0] + u[1] * u[1], 2);
  style = num / den;
  content = (pow (v[0] - p[0], 2) + pow (v[1] - p[1], 2))
      / (p[0] * p[0] + p[1] * p[1]);

  for (int pool = 0; pool < 2; pool++) {
    total = sf_ref_loss (wts, pool, x, c, w, h, s, sw, sh, &lw, &t, NULL);
    g_test_message ("known: style %.9g content %.9g", t.style, t.content);
    assert_close (t.style, style, 1e-12);
    assert_close (t.content, content, 1e-12);
    g_assert_cmpfloat (t.tv, ==, 0.0);
    g_assert_cmpfloat (t.temporal, ==, 0.0);
    assert_close (t.total, 2.0 * content + 1e3 * style, 1e-12);
    g_assert_cmpfloat (total, ==, t.total);
  }
  g_free (x);
  g_free (c);
  g_free (s);
}

/* Feature sizes through the network (pooling floors: 19x17 -> 9x8 -> 4x4 ->
 * 2x2 -> 1x1) and the pass-through network's features on a constant image. */
static void
test_vgg_forward_shapes (void)
{
  static const int want_w[SF_VGG_NUM_CONVS] =
      { 19, 19, 9, 9, 4, 4, 4, 4, 2, 2, 2, 2, 1 };
  static const int want_h[SF_VGG_NUM_CONVS] =
      { 17, 17, 8, 8, 4, 4, 4, 4, 2, 2, 2, 2, 1 };
  const float rgb[3] = { 0.75f, 0.25f, 0.5f };
  g_autoptr (SfVggWeights) wts = passthrough_weights ();
  float *img = constant_image (19, 17, rgb[0], rgb[1], rgb[2]);
  double *feats[SF_VGG_NUM_CONVS];
  int fc[SF_VGG_NUM_CONVS], fh[SF_VGG_NUM_CONVS], fw[SF_VGG_NUM_CONVS];
  double v[2];

  feature_vector (rgb, v);
  for (int pool = 0; pool < 2; pool++) {
    sf_ref_vgg_forward (wts, pool, img, 19, 17, feats, fc, fh, fw);
    for (int k = 0; k < SF_VGG_NUM_CONVS; k++) {
      gsize plane = (gsize) fh[k] * fw[k];
      g_assert_cmpint (fc[k], ==, sf_vgg_conv_cout (k));
      g_assert_cmpint (fw[k], ==, want_w[k]);
      g_assert_cmpint (fh[k], ==, want_h[k]);
      for (gsize i = 0; i < plane; i++) {
        assert_close (feats[k][i], v[0], 1e-15);
        assert_close (feats[k][plane + i], v[1], 1e-15);
        g_assert_cmpfloat (feats[k][2 * plane + i], ==, 0.0);
      }
      g_free (feats[k]);
    }
  }
  g_free (img);
}

/* TV of a linear ramp x = 0.2 + a y + b x (all channels): every vertical
 * difference is a and every horizontal one b, so tv = a^2 + b^2.  With only
 * the TV weight set, the gradient is TV's alone: +-2a/nv on the last/first
 * row, +-2b/nh on the last/first column, nv = 3 (h-1) w, nh = 3 h (w-1). */
static void
test_tv_known (void)
{
  const int w = 19, h = 16;
  const double a = 1.0 / 64, b = -1.0 / 128;
  const double nv = 3.0 * (h - 1) * w, nh = 3.0 * h * (w - 1);
  g_autoptr (SfVggWeights) wts = passthrough_weights ();
  SfLossWeights lw = { 0.0, 0.0, 3.0, 0.0 };
  float *x = g_new (float, 3 * w * h);
  double *grad = g_new (double, 3 * w * h);
  SfLossTerms t;

  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int i = 0; i < w; i++)
        x[(c * h + y) * w + i] = (float) (0.25 + a * y + b * i);
  sf_ref_loss (wts, SF_POOL_MAX, x, x, w, h, x, w, h, &lw, &t, grad);
  assert_close (t.tv, a * a + b * b, 1e-12);
  assert_close (t.total, 3.0 * (a * a + b * b), 1e-12);
  g_assert_cmpfloat (t.content, ==, 0.0);
  g_assert_cmpfloat (t.style, ==, 0.0);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int i = 0; i < w; i++) {
        double want = 0.0;
        if (y == 0)
          want -= 2 * a / nv;
        if (y == h - 1)
          want += 2 * a / nv;
        if (i == 0)
          want -= 2 * b / nh;
        if (i == w - 1)
          want += 2 * b / nh;
        want *= 3.0;
        g_assert_cmpfloat (fabs (grad[(c * h + y) * w + i] - want), <,
            1e-12 * 2 * fabs (a) / nv);
      }
  g_free (x);
  g_free (grad);
}

/* ---------------------------------------------------------------------- */
/* The range term of an image whose three planes are 1.25, -0.5 and 0.75:
 * (0.25^2 + 0.5^2 + 0) / 3, and a gradient of 2 e / n at each pixel. */
static void
test_range_known (void)
{
  const int w = 17, h = 16;
  const gsize plane = (gsize) w * h, n = 3 * plane;
  const double e[3] = { 0.25, -0.5, 0.0 };
  g_autoptr (SfVggWeights) wts = passthrough_weights ();
  SfLossWeights lw = {.range = 4.0 };
  float *x = constant_image (w, h, 1.25f, -0.5f, 0.75f);
  double *grad = g_new (double, n);
  SfLossTerms t;

  sf_ref_loss (wts, SF_POOL_MAX, x, x, w, h, x, w, h, &lw, &t, grad);
  assert_close (t.range, (0.0625 + 0.25) / 3.0, 1e-12);
  assert_close (t.total, 4.0 * (0.0625 + 0.25) / 3.0, 1e-12);
  for (gsize i = 0; i < n; i++)
    assert_close (grad[i], 4.0 * 2.0 * e[i / plane] / (double) n, 1e-15);
  g_free (x);
  g_free (grad);
}

/* The whole loss against finite differences                               */

/* x and content are w x h, style sw x sh (another size on purpose). */
typedef struct
{
  const SfVggWeights *wts;
  SfPooling pool;
  int w, h, sw, sh;
  float *content, *style;
  SfLossWeights lw;
} LossCase;

static double
loss_at (const LossCase *lc, const float *x)
{
  return sf_ref_loss (lc->wts, lc->pool, x, lc->content, lc->w, lc->h,
      lc->style, lc->sw, lc->sh, &lc->lw, NULL, NULL);
}

/* Offset of the first maximum of the 2x2 window at (oy, ox) of a plane. */
static gsize
window_argmax (const double *plane, int w, int oy, int ox)
{
  gsize best = (gsize) (2 * oy) * w + 2 * ox;

  for (int t = 1; t < 4; t++) {
    gsize i = (gsize) (2 * oy + t / 2) * w + 2 * ox + t % 2;
    if (plane[i] > plane[best])
      best = i;
  }
  return best;
}

/* Whether the network is the same piecewise-linear piece at a and b: every
 * ReLU on the same side and every max-pool window picking the same input.
 * The loss is smooth between two such images (short of a crossing and
 * crossing back), so finite differences across them are meaningful. */
static gboolean
same_linear_piece (const LossCase *lc, const float *a, const float *b)
{
  double *fa[SF_VGG_NUM_CONVS], *fb[SF_VGG_NUM_CONVS];
  int fc[SF_VGG_NUM_CONVS], fh[SF_VGG_NUM_CONVS], fw[SF_VGG_NUM_CONVS];
  gboolean same = TRUE;

  sf_ref_vgg_forward (lc->wts, lc->pool, a, lc->w, lc->h, fa, fc, fh, fw);
  sf_ref_vgg_forward (lc->wts, lc->pool, b, lc->w, lc->h, fb, NULL, NULL,
      NULL);
  for (int k = 0; k < SF_VGG_NUM_CONVS; k++) {
    gsize plane = (gsize) fh[k] * fw[k];
    gboolean pooled = k == 1 || k == 3 || k == 7 || k == 11;
    for (gsize i = 0; same && i < fc[k] * plane; i++)
      same = (fa[k][i] > 0) == (fb[k][i] > 0);
    if (pooled && lc->pool == SF_POOL_MAX)
      for (int c = 0; same && c < fc[k]; c++)
        for (int oy = 0; same && oy < fh[k] / 2; oy++)
          for (int ox = 0; same && ox < fw[k] / 2; ox++)
            same = window_argmax (fa[k] + c * plane, fw[k], oy, ox)
                == window_argmax (fb[k] + c * plane, fw[k], oy, ox);
    g_free (fa[k]);
    g_free (fb[k]);
  }
  return same;
}

/* (f(x + s) - f(x - s)) / 2 against <grad, s>, where s is what the float
 * image really moved by (the rounded steps, measured in double).  Returns
 * the relative error; -1 if it is above tol because the step crosses a ReLU
 * or max-pool kink (then finite differences say nothing about the
 * gradient, and the caller draws another step). */
static double
directional_error (const LossCase *lc, const float *x, const double *grad,
    const double *dir, double eps, double tol)
{
  gsize n = (gsize) 3 * lc->w * lc->h;
  float *xp = g_new (float, n), *xm = g_new (float, n);
  double predicted = 0.0, fd, err;

  for (gsize i = 0; i < n; i++) {
    xp[i] = (float) (x[i] + eps * dir[i]);
    xm[i] = (float) (x[i] - eps * dir[i]);
    predicted += grad[i] * ((double) xp[i] - (double) xm[i]);
  }
  fd = loss_at (lc, xp) - loss_at (lc, xm);
  err = fabs (fd - predicted) / fabs (predicted);
  if (!(err < tol) && !same_linear_piece (lc, xp, xm)) {
    g_test_message ("  rel err %.2e across a kink", err);
    err = -1.0;
  }
  g_free (xp);
  g_free (xm);
  return err;
}

static void
loss_gradient_case (const SfVggWeights *wts, SfPooling pool, int w, int h,
    SfLossWeights lw, guint32 seed, int n_dirs, int n_comps)
{
  const double tol = 1e-5;
  GRand *rng = g_rand_new_with_seed (seed);
  gsize n = (gsize) 3 * w * h;
  LossCase lc = { wts, pool, w, h, 16, 17 };
  /* with the range term weighted, x strays outside [0,1] so that it is not
   * zero */
  float *x = lw.range > 0 ? random_floats (rng, n, -0.25, 1.25)
      : random_floats (rng, n, 0.25, 0.75);
  double *grad = g_new (double, n);
  double *dir = g_new (double, n);
  double gmax = 0.0;
  SfLossTerms t;

  lc.content = random_floats (rng, n, 0.25, 0.75);
  lc.style = random_floats (rng, (gsize) 3 * lc.sw * lc.sh, 0, 1);
  lc.lw = lw;
  sf_ref_loss (wts, pool, x, lc.content, w, h, lc.style, lc.sw, lc.sh, &lw,
      &t, grad);
  g_test_message ("%dx%d %s w (%g %g %g %g): total %.6e content %.6e "
      "style %.6e tv %.6e range %.6e", w, h,
      pool == SF_POOL_MAX ? "max" : "avg", lw.content, lw.style, lw.tv,
      lw.range, t.total, t.content, t.style, t.tv, t.range);
  if (lw.range > 0)
    g_assert_cmpfloat (t.range, >, 1e-3);

  /* Random directions, unit L2 norm, a step of 3e-6 in total (about 1e-7
   * per component, a few float ulps, measured exactly by
   * directional_error).  Larger steps cross ReLU and max-pool kinks more
   * often: at 1e-5 about half the directions at 19x17 do, with errors up
   * to 1e-2 (one max-pool switch matters when relu5_1 is 1x1); at 1e-6
   * round-off starts to show. */
  for (int d = 0, tries = 0; d < n_dirs; tries++) {
    double norm, err;
    g_assert_cmpint (tries, <, 10);
    for (gsize i = 0; i < n; i++)
      dir[i] = g_rand_double_range (rng, -1, 1);
    norm = sqrt (dot (dir, dir, n));
    for (gsize i = 0; i < n; i++)
      dir[i] /= norm;
    err = directional_error (&lc, x, grad, dir, 3e-6, tol);
    if (err < 0) {
      g_test_message ("  direction crosses a kink, drawing another");
      continue;
    }
    g_test_message ("  direction %d: rel err %.2e", d++, err);
    g_assert_cmpfloat (err, <, tol);
  }

  /* single components: the largest one and random ones among those at least
   * a tenth of it (tiny components would only measure round-off) */
  for (gsize i = 0; i < n; i++)
    gmax = MAX (gmax, fabs (grad[i]));
  for (int k = 0, tries = 0; k < n_comps; tries++) {
    gsize i = 0;
    double err;
    g_assert_cmpint (tries, <, 10);
    if (k == 0 && tries == 0) {
      while (fabs (grad[i]) < gmax)
        i++;
    } else {
      do
        i = g_rand_int_range (rng, 0, (gint32) n);
      while (fabs (grad[i]) < 0.1 * gmax);
    }
    memset (dir, 0, n * sizeof (double));
    dir[i] = 1.0;
    /* 2^-18: exact in float for x in [0.25, 0.75] */
    err = directional_error (&lc, x, grad, dir, 1.0 / (1 << 18), tol);
    if (err < 0) {
      g_test_message ("  component %" G_GSIZE_FORMAT " crosses a kink", i);
      continue;
    }
    g_test_message ("  component %" G_GSIZE_FORMAT " (grad %.3e): "
        "rel err %.2e", i, grad[i], err);
    g_assert_cmpfloat (err, <, tol);
    k++;
  }

  g_free (x);
  g_free (grad);
  g_free (dir);
  g_free (lc.content);
  g_free (lc.style);
  g_rand_free (rng);
}

static void
test_loss_gradient_terms (void)
{
  g_autoptr (SfVggWeights) wts = sf_vgg_weights_new_default (0);
  const SfLossWeights only[4] = { {.content = 1}, {.style = 1}, {.tv = 1},
    {.range = 1}
  };

  /* each term alone, so that no term hides another's error */
  for (int i = 0; i < 4; i++)
    loss_gradient_case (wts, SF_POOL_MAX, 16, 16, only[i], 10 + i, 1, 1);
}

static void
test_loss_gradient_total (void)
{
  g_autoptr (SfVggWeights) wts = sf_vgg_weights_new_default (0);
  const SfLossWeights lw = { 1, 1e3, 10 };
  const SfLossWeights lr = { 1, 1e3, 10, 0, 1e3 };

  loss_gradient_case (wts, SF_POOL_MAX, 16, 16, lw, 20, 3, 3);
  loss_gradient_case (wts, SF_POOL_MAX, 16, 16, lr, 23, 3, 3);
  loss_gradient_case (wts, SF_POOL_MAX, 19, 17, lw, 21, 3, 3);
  loss_gradient_case (wts, SF_POOL_AVG, 19, 17, lw, 22, 1, 1);
}

/* A subset of the style layers: the style term alone over relu1_1 and
 * relu3_1, and the total with relu1_1 .. relu4_1 (the gradient then starts
 * at the content layer, below relu5_1). */
static void
test_loss_gradient_layers (void)
{
  g_autoptr (SfVggWeights) wts = sf_vgg_weights_new_default (0);
  const SfLossWeights odd = {.style = 1,.style_layers = 0x5 };
  const SfLossWeights low = { 1, 1e3, 10, 0, 0, 0xf };

  loss_gradient_case (wts, SF_POOL_MAX, 16, 16, odd, 30, 1, 1);
  loss_gradient_case (wts, SF_POOL_AVG, 19, 17, low, 31, 1, 1);
}

/* The style term with a subset of layers is the mean over those layers:
 * each layer's term from a one-layer mask, then their mean against the
 * two-layer mask; and the five-layer term is not the subset's (the mask is
 * read). */
static void
test_loss_layers_mean (void)
{
  g_autoptr (SfVggWeights) wts = sf_vgg_weights_new_default (0);
  GRand *rng = g_rand_new_with_seed (5);
  const int w = 24, h = 20;
  gsize n = (gsize) 3 * w * h;
  float *x = random_floats (rng, n, 0, 1);
  float *c = random_floats (rng, n, 0, 1);
  float *st = random_floats (rng, n, 0, 1);
  SfLossWeights lw = {.style = 1 };
  SfLossTerms t;
  double per[SF_NUM_STYLE_LAYERS], all;

  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    lw.style_layers = 1u << l;
    sf_ref_loss (wts, SF_POOL_AVG, x, c, w, h, st, w, h, &lw, &t, NULL);
    per[l] = t.style;
  }
  lw.style_layers = 0x9;        /* relu1_1 + relu4_1 */
  sf_ref_loss (wts, SF_POOL_AVG, x, c, w, h, st, w, h, &lw, &t, NULL);
  g_test_message ("per layer %.6g %.6g %.6g %.6g %.6g; relu1_1+relu4_1 %.6g",
      per[0], per[1], per[2], per[3], per[4], t.style);
  assert_close (t.style, 0.5 * (per[0] + per[3]), 1e-12);
  lw.style_layers = 0;
  sf_ref_loss (wts, SF_POOL_AVG, x, c, w, h, st, w, h, &lw, &t, NULL);
  all = (per[0] + per[1] + per[2] + per[3] + per[4]) / 5;
  assert_close (t.style, all, 1e-12);
  g_assert_cmpfloat (fabs (all - 0.5 * (per[0] + per[3])), >, 0.01 * all);
  g_free (x);
  g_free (c);
  g_free (st);
  g_rand_free (rng);
}

/* Speed guard: the GPU tests call the reference at sizes like this.  CPU
 * time rather than wall time, so that a busy machine does not fail it. */
static void
test_loss_speed (void)
{
  g_autoptr (SfVggWeights) wts = sf_vgg_weights_new_default (0);
  GRand *rng = g_rand_new_with_seed (3);
  const int w = 37, h = 29;
  gsize n = (gsize) 3 * w * h;
  float *x = random_floats (rng, n, 0, 1);
  float *c = random_floats (rng, n, 0, 1);
  double *grad = g_new (double, n);
  SfLossWeights lw = { 1, 1e3, 10 };
  gint64 t0 = g_get_monotonic_time ();
  clock_t c0 = clock ();
  double secs;

  sf_ref_loss (wts, SF_POOL_MAX, x, c, w, h, c, w, h, &lw, NULL, grad);
  secs = (double) (clock () - c0) / CLOCKS_PER_SEC;
  g_test_message ("loss + gradient at %dx%d: %.3f s CPU, %.3f s wall", w, h,
      secs, (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpfloat (secs, <, 2.0);
  g_free (x);
  g_free (c);
  g_free (grad);
  g_rand_free (rng);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ref/conv/known", test_conv_known);
  g_test_add_func ("/ref/conv/backward", test_conv_backward);
  g_test_add_func ("/ref/pool/known", test_pool_known);
  g_test_add_func ("/ref/pool/backward", test_pool_backward);
  g_test_add_func ("/ref/gram/known", test_gram_known);
  g_test_add_func ("/ref/vgg/forward-shapes", test_vgg_forward_shapes);
  g_test_add_func ("/ref/loss/known", test_loss_known);
  g_test_add_func ("/ref/loss/tv-known", test_tv_known);
  g_test_add_func ("/ref/loss/range-known", test_range_known);
  g_test_add_func ("/ref/loss/gradient-terms", test_loss_gradient_terms);
  g_test_add_func ("/ref/loss/gradient-total", test_loss_gradient_total);
  g_test_add_func ("/ref/loss/gradient-layers", test_loss_gradient_layers);
  g_test_add_func ("/ref/loss/layers-mean", test_loss_layers_mean);
  g_test_add_func ("/ref/loss/speed", test_loss_speed);
  return g_test_run ();
}
