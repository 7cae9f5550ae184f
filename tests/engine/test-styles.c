/* test-styles.c - several style images blended (engine/styles.c): the
 * target at each layer is sum_i w_i G(s_i) with the weights normalised to
 * sum 1.  Blend weights (1, 0) give bit for bit the first style alone;
 * (0.5, 0.5) a target equal to the mean of the two Grams (1e-6 relative);
 * the loss and gradient with two styles at (0.7, 0.3) match the plain-C
 * reference (terms 1e-4, gradient 1e-3); a re-blend runs no VGG pass on
 * the style images, a new image runs one; bad blends are refused and
 * leave the target in force. */
#include "engine-test-util.h"
#include "cpu-ref.h"
#include "stylizer.h"

#define W 32
#define H 28

static SfDevice *dev;
static SfVggWeights *wts;
static SfNet *net;
static float *content, *style[2], *x;
static const int sw[2] = { 30, 24 }, sh[2] = { 26, 34 };

static SfStylizer *
make_stylizer (void)
{
  GError *err = NULL;
  SfStylizer *st = sf_stylizer_new (net, W, H, &err);

  g_assert_no_error (err);
  g_assert_true (sf_stylizer_set_content (st, content, &err));
  g_assert_true (sf_stylizer_set_image (st, x, &err));
  g_assert_no_error (err);
  return st;
}

static void
set_both (SfStylizer *st)
{
  GError *err = NULL;

  for (guint i = 0; i < 2; i++)
    g_assert_true (sf_stylizer_set_style_image (st, i, style[i], sw[i], sh[i],
            &err));
  g_assert_no_error (err);
}

static void
evaluate (SfStylizer *st, SfLossTerms *t, float *grad)
{
  GError *err = NULL;
  SfParams p;

  sf_params_init (&p);
  p.weights.tv = 10.0;
  g_assert_true (sf_stylizer_evaluate (st, &p, t, grad, &err));
  g_assert_no_error (err);
}

static void
test_one_zero (void)
{
  GError *err = NULL;
  SfStylizer *a = make_stylizer (), *b = make_stylizer ();
  const double w[2] = { 1.0, 0.0 };
  gsize n = 3 * (gsize) W * H;
  float *ga = g_new (float, n), *gb = g_new (float, n);
  SfLossTerms ta, tb;

  g_assert_true (sf_stylizer_set_style (a, style[0], sw[0], sh[0], &err));
  set_both (b);
  g_assert_true (sf_stylizer_blend_styles (b, w, 2, &err));
  g_assert_no_error (err);
  evaluate (a, &ta, ga);
  evaluate (b, &tb, gb);
  g_test_message ("style alone %.9g, blend (1, 0) %.9g", ta.style, tb.style);
  g_assert_cmpfloat (ta.style, ==, tb.style);
  g_assert_cmpfloat (ta.total, ==, tb.total);
  g_assert_cmpmem (ga, n * sizeof (float), gb, n * sizeof (float));
  g_free (ga);
  g_free (gb);
  sf_stylizer_free (a);
  sf_stylizer_free (b);
}

static void
test_half_half (void)
{
  GError *err = NULL;
  SfStylizer *st = make_stylizer ();
  const double w[2] = { 2.0, 2.0 };     /* normalised to 0.5, 0.5 */
  double worst = 0.0;

  set_both (st);
  g_assert_true (sf_stylizer_blend_styles (st, w, 2, &err));
  g_assert_no_error (err);
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    gsize c = net->cout[sf_style_convs[l]], cc = c * c;
    float *t = test_download (dev, st->style_gram[l], cc);
    float *g0 = test_download (dev, st->style_grams[0][l], cc);
    float *g1 = test_download (dev, st->style_grams[1][l], cc);
    double d = 0.0, m = 0.0;
    for (gsize i = 0; i < cc; i++) {
      double mean = 0.5 * ((double) g0[i] + g1[i]);
      d += (t[i] - mean) * (t[i] - mean);
      m += mean * mean;
    }
    worst = MAX (worst, sqrt (d / m));
    g_free (t);
    g_free (g0);
    g_free (g1);
  }
  g_test_message ("(0.5, 0.5): target against the mean of the Grams, "
      "worst layer rel L2 %.2e", worst);
  g_assert_cmpfloat (worst, <, 1e-6);
  sf_stylizer_free (st);
}

static void
test_against_ref (void)
{
  GError *err = NULL;
  SfStylizer *st = make_stylizer ();
  const double w[2] = { 0.7, 0.3 };
  const float *styles[2] = { style[0], style[1] };
  gsize n = 3 * (gsize) W * H;
  float *grad = g_new (float, n);
  double *rgrad = g_new (double, n);
  SfLossTerms t, rt;
  SfParams p;

  set_both (st);
  g_assert_true (sf_stylizer_blend_styles (st, w, 2, &err));
  g_assert_no_error (err);
  evaluate (st, &t, grad);
  sf_params_init (&p);
  p.weights.tv = 10.0;
  sf_ref_loss_blend (wts, SF_POOL_MAX, x, content, W, H, 2, styles, sw, sh,
      w, &p.weights, &rt, rgrad);
  double eg = test_rel_l2 (grad, rgrad, n);
  g_test_message ("(0.7, 0.3): style %.7g (ref %.7g) content %.6g (%.6g) "
      "total %.7g (%.7g); gradient rel L2 %.2e", t.style, rt.style,
      t.content, rt.content, t.total, rt.total, eg);
  g_assert_cmpfloat (fabs (t.style - rt.style), <, 1e-4 * rt.style);
  g_assert_cmpfloat (fabs (t.content - rt.content), <, 1e-4 * rt.content);
  g_assert_cmpfloat (fabs (t.total - rt.total), <, 1e-4 * rt.total);
  g_assert_cmpfloat (eg, <, 1e-3);
  g_free (grad);
  g_free (rgrad);
  sf_stylizer_free (st);
}

static void
test_reblend_no_pass (void)
{
  GError *err = NULL;
  SfStylizer *st = make_stylizer ();
  const double w1[2] = { 0.7, 0.3 }, w2[2] = { 0.2, 0.8 };
  SfLossTerms t1, t2;
  guint passes;

  set_both (st);
  g_assert_cmpuint (sf_stylizer_get_style_passes (st), ==, 2);
  g_assert_true (sf_stylizer_blend_styles (st, w1, 2, &err));
  evaluate (st, &t1, NULL);
  passes = sf_stylizer_get_style_passes (st);
  g_assert_true (sf_stylizer_blend_styles (st, w2, 2, &err));
  g_assert_no_error (err);
  evaluate (st, &t2, NULL);
  g_test_message ("style at (0.7, 0.3) %.6g, at (0.2, 0.8) %.6g; style "
      "passes %u then %u", t1.style, t2.style, passes,
      sf_stylizer_get_style_passes (st));
  g_assert_cmpuint (sf_stylizer_get_style_passes (st), ==, passes);
  g_assert_cmpfloat (fabs (t1.style - t2.style), >, 1e-3 * t1.style);
  /* a new image for style 1 runs one pass */
  g_assert_true (sf_stylizer_set_style_image (st, 1, style[0], sw[0], sh[0],
          &err));
  g_assert_cmpuint (sf_stylizer_get_style_passes (st), ==, passes + 1);
  sf_stylizer_free (st);
}

static void
test_bad_blends (void)
{
  GError *err = NULL;
  SfStylizer *st = make_stylizer ();
  const double good[2] = { 0.7, 0.3 };
  const double neg[2] = { 1.0, -0.5 }, zero[2] = { 0.0, 0.0 };
  const double nan2[2] = { NAN, 1.0 }, three[3] = { 1, 1, 1 };
  struct { const double *w; guint n; const char *needle; } bad[] = {
    {good, 0, "give 1 to"}, {neg, 2, "weight 1"}, {zero, 2, "sum to 0"},
    {nan2, 2, "weight 0"}, {three, 3, "style 2 is not set"},
    {good, SF_MAX_STYLES + 1, "give 1 to"},
  };
  SfLossTerms before, after;

  set_both (st);
  g_assert_true (sf_stylizer_blend_styles (st, good, 2, &err));
  evaluate (st, &before, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_false (sf_stylizer_blend_styles (st, bad[i].w, bad[i].n, &err));
    g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
    g_test_message ("refused: %s", err->message);
    g_assert_nonnull (strstr (err->message, bad[i].needle));
    g_clear_error (&err);
  }
  g_assert_false (sf_stylizer_set_style_image (st, SF_MAX_STYLES, style[0],
          sw[0], sh[0], &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);
  evaluate (st, &after, NULL);
  g_assert_cmpfloat (before.style, ==, after.style);
  sf_stylizer_free (st);
}

/* mean[3] and cov[3][3] of a planar image, as the check sees them */
static void
stats (const float *img, gsize n, double *m, double c[3][3])
{
  for (int k = 0; k < 3; k++) {
    m[k] = 0.0;
    for (gsize i = 0; i < n; i++)
      m[k] += img[k * n + i];
    m[k] /= n;
  }
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      c[a][b] = 0.0;
      for (gsize i = 0; i < n; i++)
        c[a][b] += (img[a * n + i] - m[a]) * (img[b * n + i] - m[b]);
      c[a][b] /= n;
    }
}

/* sf_color_match: the style image takes the content's RGB mean and
 * covariance (1e-5, where nothing is clamped) */
static void
test_color_match (void)
{
  const int cw = 40, ch = 30, sw2 = 33, sh2 = 27;
  gsize nc = (gsize) cw * ch, ns = (gsize) sw2 * sh2;
  float *c = g_new (float, 3 * nc), *st = g_new (float, 3 * ns);
  double mc[3], ms[3], cc[3][3], cs[3][3], worst = 0.0;
  GRand *rng = g_rand_new_with_seed (9);

  /* content: correlated, mid-grey; style: orange-blue, wider */
  for (gsize i = 0; i < nc; i++) {
    double u = g_rand_double (rng) - 0.5, v = g_rand_double (rng) - 0.5;
    double q = g_rand_double (rng) - 0.5;
    c[i] = 0.5 + 0.2 * u;
    c[nc + i] = 0.45 + 0.1 * u + 0.1 * v + 0.05 * q;
    c[2 * nc + i] = 0.4 + 0.15 * v;
  }
  for (gsize i = 0; i < ns; i++) {
    double u = g_rand_double (rng) - 0.5, v = g_rand_double (rng) - 0.5;
    double q = g_rand_double (rng) - 0.5;
    st[i] = 0.7 + 0.4 * u;
    st[ns + i] = 0.4 + 0.2 * u - 0.2 * v + 0.1 * q;
    st[2 * ns + i] = 0.3 + 0.4 * v;
  }
  sf_color_match (st, sw2, sh2, c, cw, ch);
  stats (c, nc, mc, cc);
  stats (st, ns, ms, cs);
  for (int a = 0; a < 3; a++) {
    worst = MAX (worst, fabs (ms[a] - mc[a]));
    for (int b = 0; b < 3; b++)
      worst = MAX (worst, fabs (cs[a][b] - cc[a][b]));
  }
  g_test_message ("matched: means %.4f %.4f %.4f (content %.4f %.4f %.4f); "
      "worst difference of mean or covariance %.2e", ms[0], ms[1], ms[2],
      mc[0], mc[1], mc[2], worst);
  g_assert_cmpfloat (worst, <, 1e-5);
  g_free (c);
  g_free (st);
  g_rand_free (rng);
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  int r;

  g_test_init (&argc, &argv, NULL);
  dev = test_device ();
  wts = sf_vgg_weights_new_default (0);
  net = sf_net_new (dev, wts, SF_POOL_MAX, &err);
  g_assert_no_error (err);
  content = test_make_image (W, H, 0, 100);
  style[0] = test_make_image (sw[0], sh[0], 1, 101);
  style[1] = test_make_image (sw[1], sh[1], 1, 202);
  x = test_make_image (W, H, 2, 100);
  g_test_add_func ("/styles/one-zero", test_one_zero);
  g_test_add_func ("/styles/half-half", test_half_half);
  g_test_add_func ("/styles/against-ref", test_against_ref);
  g_test_add_func ("/styles/reblend-no-pass", test_reblend_no_pass);
  g_test_add_func ("/styles/bad-blends", test_bad_blends);
  g_test_add_func ("/color/match", test_color_match);
  r = g_test_run ();
  g_free (content);
  g_free (style[0]);
  g_free (style[1]);
  g_free (x);
  sf_net_free (net);
  sf_vgg_weights_free (wts);
  sf_device_free (dev);
  return r;
}
