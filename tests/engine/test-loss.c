/* test-loss.c - the whole loss and its image gradient on the GPU against
 * the plain-C reference (sf_ref_loss, checked against finite differences
 * in tests/ref) at 32x32 and 37x29, with a style image of another size,
 * both poolings and every term weighted; then the optimisers: L-BFGS never
 * increases the loss between accepted steps, 40 iterations on a 64x64
 * pair cut the style loss at least tenfold with the content loss bounded,
 * output pixels in [0,1]; Adam decreases the loss. */
#include "engine-test-util.h"
#include "cpu-ref.h"

static SfDevice *dev;
static SfVggWeights *wts;

/* stretch > 1 spreads x around 0.5 past [0,1], so that the range term
 * (weight 1e3 in every case) is not zero */
static void
check_loss_layers (int w, int h, int sw, int sh, SfPooling pool,
    float stretch, guint layers)
{
  GError *err = NULL;
  SfNet *net = test_net_new (dev, wts, pool, &err);
  g_assert_no_error (err);
  SfStylizer *st = sf_stylizer_new (net, w, h, &err);
  g_assert_no_error (err);
  float *content = test_make_image (w, h, 0, 100);
  float *style = test_make_image (sw, sh, 1, 100);
  float *x = test_make_image (w, h, 2, 100);
  SfParams p;
  sf_params_init (&p);
  p.weights.tv = 10.0;
  p.weights.range = 1e3;
  p.weights.style_layers = layers;
  for (gsize i = 0; i < 3 * (gsize) w * h; i++)
    x[i] = (x[i] - 0.5f) * stretch + 0.5f;
  g_assert_true (sf_stylizer_set_style (st, style, sw, sh, &err));
  g_assert_true (sf_stylizer_set_content (st, content, &err));
  g_assert_true (sf_stylizer_set_image (st, x, &err));
  g_assert_no_error (err);

  gsize n = 3 * (gsize) w * h;
  float *grad = g_new (float, n);
  SfLossTerms t, rt;
  g_assert_true (sf_stylizer_evaluate (st, &p, &t, grad, &err));
  g_assert_no_error (err);
  double *rgrad = g_new (double, n);
  double rtotal = sf_ref_loss (wts, pool, x, content, w, h, style, sw, sh,
      &p.weights, &rt, rgrad);
  double eg = test_rel_l2 (grad, rgrad, n);
  g_test_message ("%dx%d (style %dx%d, %s, layers 0x%x): total %.8g (ref %.8g) content "
      "%.6g (%.6g) style %.6g (%.6g) tv %.6g (%.6g) range %.6g (%.6g); "
      "gradient rel L2 %.2e", w, h, sw, sh,
      pool == SF_POOL_MAX ? "max" : "avg", layers, t.total, rtotal, t.content,
      rt.content, t.style, rt.style, t.tv, rt.tv, t.range, rt.range, eg);
  g_assert_cmpfloat (fabs (t.total - rtotal), <, 1e-4 * fabs (rtotal));
  g_assert_cmpfloat (fabs (t.content - rt.content), <, 1e-4 * rt.content);
  g_assert_cmpfloat (fabs (t.style - rt.style), <, 1e-4 * rt.style);
  g_assert_cmpfloat (fabs (t.tv - rt.tv), <, 1e-4 * rt.tv);
  g_assert_cmpfloat (fabs (t.range - rt.range), <=, 1e-4 * rt.range);
  if (stretch > 1.0f)
    g_assert_cmpfloat (rt.range, >, 1e-3);
  else
    g_assert_cmpfloat (t.range, ==, 0.0);
  g_assert_cmpfloat (t.content, >, 0);
  g_assert_cmpfloat (eg, <, 1e-3);

  g_free (grad); g_free (rgrad); g_free (content); g_free (style); g_free (x);
  sf_stylizer_free (st);
  sf_net_free (net);
}

static void
check_loss (int w, int h, int sw, int sh, SfPooling pool, float stretch)
{
  check_loss_layers (w, h, sw, sh, pool, stretch, 0);
}

/* relu1_1 .. relu4_1: the backward pass starts at the content layer, whose
 * gradient is written rather than added; relu1_1 and relu3_1 alone: it
 * starts at relu3_1's conv, above which nothing is computed */
static void
test_loss_layers (void)
{
  check_loss_layers (37, 29, 24, 30, SF_POOL_AVG, 1.6f, 0xf);
  check_loss_layers (32, 32, 32, 32, SF_POOL_MAX, 1.0f, 0x5);
}

static void
test_loss_32 (void)
{
  check_loss (32, 32, 32, 32, SF_POOL_MAX, 1.0f);
}

static void
test_loss_odd (void)
{
  check_loss (37, 29, 41, 35, SF_POOL_MAX, 1.6f);
}

static void
test_loss_avg (void)
{
  check_loss (37, 29, 24, 30, SF_POOL_AVG, 1.6f);
}

typedef struct
{
  double last;
  int calls;
  int increases;
} Track;

static gboolean
track (int iteration, const SfLossTerms *t, gpointer data)
{
  Track *tr = data;
  if (tr->calls > 0 && t->total > tr->last)
    tr->increases++;
  tr->last = t->total;
  tr->calls++;
  return TRUE;
}

static void
test_lbfgs (void)
{
  GError *err = NULL;
  const int w = 64, h = 64;
  SfNet *net = test_net_new (dev, wts, SF_POOL_MAX, &err);
  SfStylizer *st = sf_stylizer_new (net, w, h, &err);
  g_assert_no_error (err);
  float *content = test_make_image (w, h, 0, 100);
  float *style = test_make_image (w, h, 1, 100);
  SfParams p;
  sf_params_init (&p);
  g_assert_true (sf_stylizer_set_style (st, style, w, h, &err));
  g_assert_true (sf_stylizer_set_content (st, content, &err));
  g_assert_true (sf_stylizer_set_image (st, content, &err));
  SfLossTerms t0, t1;
  g_assert_true (sf_stylizer_evaluate (st, &p, &t0, NULL, &err));
  Track tr = { 0 };
  int done = 0;
  /* the suite: 40 iterations (a third of the time); -m slow: 100.  The
   * content term first rises while the style is imposed (1.04 after 40)
   * and comes back below a blank image's 1 by 100 (0.97) */
  int iters = g_test_slow () ? 100 : 40;
  double content_bound = g_test_slow () ? 1.0 : 1.5;
  g_assert_true (sf_stylizer_optimize (st, &p, iters, track, &tr, &t1, &done,
          &err));
  g_assert_no_error (err);
  g_test_message ("L-BFGS %d iterations at %dx%d: style %.4g -> %.4g "
      "(%.1fx), content %.4g -> %.4g, total %.4g -> %.4g, %d iterations, "
      "%d increases", iters, w, h, t0.style, t1.style, t0.style / t1.style, t0.content,
      t1.content, t0.total, t1.total, done, tr.increases);
  g_assert_cmpint (tr.calls, >, 10);
  g_assert_cmpint (tr.increases, ==, 0);
  g_assert_cmpfloat (t1.style * 10, <=, t0.style);
  g_assert_cmpfloat (t1.content, <, content_bound);    /* bounded */
  g_assert_cmpfloat (t1.total, <, t0.total);
  float *out = g_new (float, 3 * w * h);
  g_assert_true (sf_stylizer_get_image (st, out, &err));
  double mn = 1, mx = 0, diff = 0;
  for (int i = 0; i < 3 * w * h; i++) {
    mn = MIN (mn, out[i]);
    mx = MAX (mx, out[i]);
    diff += fabs (out[i] - content[i]);
  }
  g_assert_cmpfloat (mn, >=, 0.0);
  g_assert_cmpfloat (mx, <=, 1.0);
  g_assert_cmpfloat (diff / (3 * w * h), >, 0.01);  /* it did change */
  g_free (out); g_free (content); g_free (style);
  sf_stylizer_free (st);
  sf_net_free (net);
}

static void
test_adam (void)
{
  GError *err = NULL;
  const int w = 32, h = 32;
  SfNet *net = test_net_new (dev, wts, SF_POOL_MAX, &err);
  SfStylizer *st = sf_stylizer_new (net, w, h, &err);
  g_assert_no_error (err);
  float *content = test_make_image (w, h, 0, 100);
  float *style = test_make_image (w, h, 1, 100);
  SfParams p;
  sf_params_init (&p);
  p.optimizer = SF_OPTIMIZER_ADAM;
  p.learning_rate = 0.01;
  g_assert_true (sf_stylizer_set_style (st, style, w, h, &err));
  g_assert_true (sf_stylizer_set_content (st, content, &err));
  g_assert_true (sf_stylizer_set_image (st, content, &err));
  SfLossTerms t0, t1;
  g_assert_true (sf_stylizer_evaluate (st, &p, &t0, NULL, &err));
  int done = 0;
  g_assert_true (sf_stylizer_optimize (st, &p, 30, NULL, NULL, &t1, &done,
          &err));
  g_assert_no_error (err);
  g_test_message ("Adam 30 iterations: total %.4g -> %.4g", t0.total,
      t1.total);
  g_assert_cmpint (done, ==, 30);
  g_assert_cmpfloat (t1.total, <, 0.5 * t0.total);
  g_free (content); g_free (style);
  sf_stylizer_free (st);
  sf_net_free (net);
}

static void
test_not_ready (void)
{
  GError *err = NULL;
  SfNet *net = test_net_new (dev, wts, SF_POOL_MAX, &err);
  SfStylizer *st = sf_stylizer_new (net, 16, 16, &err);
  SfParams p;
  sf_params_init (&p);
  g_assert_false (sf_stylizer_evaluate (st, &p, NULL, NULL, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);
  g_assert_null (sf_stylizer_new (net, 15, 40, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);
  /* far beyond any device's storage-buffer limit: a clear error, no crash */
  g_assert_null (sf_stylizer_new (net, 60000, 60000, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_TOO_LARGE);
  g_clear_error (&err);
  sf_stylizer_free (st);
  sf_net_free (net);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dev = test_device ();
  wts = sf_vgg_weights_new_default (0);
  g_test_add_func ("/loss/32x32", test_loss_32);
  g_test_add_func ("/loss/37x29", test_loss_odd);
  g_test_add_func ("/loss/avg-pool", test_loss_avg);
  g_test_add_func ("/loss/style-layers", test_loss_layers);
  g_test_add_func ("/loss/not-ready", test_not_ready);
  g_test_add_func ("/optim/lbfgs-64", test_lbfgs);
  g_test_add_func ("/optim/adam", test_adam);
  int r = g_test_run ();
  sf_vgg_weights_free (wts);
  sf_device_free (dev);
  return r;
}
