/* test-layers.c - each GPU kernel of the network against the plain-C
 * reference (engine/cpu-ref.c) and its backward against finite
 * differences of its own forward, at even and odd sizes: convolution forward
 * and input gradient (with the ReLU mask) through both kernels (direct and
 * implicit GEMM, with its fused pooling; the direct one both as the
 * texel-buffer twin a CPU device runs and as the storage-buffer kernel),
 * pooling max/avg forward and
 * backward, the Gram matrix and the style gradient GEMM.  The reference's
 * own backward passes are checked against finite differences in
 * tests/ref; here the GPU must agree with it to a relative L2 error below
 * 1e-5 (fp32 against double). */
#include "engine-test-util.h"
#include "cpu-ref.h"

typedef struct
{
  SfDevice *dev;
  SfVggWeights *w;
  SfNet *net;                   /* the one under test: direct or gemm */
  SfNet *nets[2];               /* SF_CONV_DIRECT, SF_CONV_GEMM */
  SfNet *avg_gemm;              /* average pooling, gemm */
} Fixture;

static Fixture fx;

static const int sizes[][2] = { {8, 6}, {7, 5}, {16, 16}, {13, 11}, {1, 1},
  {19, 3}
};

/* The pooling that follows conv i, recorded with it, against the
 * reference pooling of the GPU's own convolution output. */
static void
check_fused_pool (SfNet * net, int i, int w, int h, SfBuffer * bin,
    const float *out)
{
  int cout = net->cout[i], wo = w / 2, ho = h / 2;
  gsize nout = (gsize) cout * w * h, np = (gsize) cout * wo * ho;
  SfBuffer *bact = test_upload (fx.dev, NULL, nout);
  SfBuffer *bpool = test_upload (fx.dev, NULL, np);
  VkCommandBuffer cb;
  GError *err = NULL;

  g_assert_true (sf_cmd_begin (fx.dev, &cb, &err));
  g_assert_true (sf_net_record_conv (net, cb, i, w, h, bin, bact, bpool,
          &err));
  g_assert_true (sf_cmd_submit_wait (fx.dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
  float *act = test_download (fx.dev, bact, nout);
  float *pool = test_download (fx.dev, bpool, np);
  double *dout = test_to_double (out, nout), *rpool = g_new (double, MAX (np, 1));
  sf_ref_pool_forward (dout, cout, h, w, net->pooling, rpool);
  /* the fused kernel writes the same activation and pools exactly */
  g_assert_cmpmem (act, nout * 4, out, nout * 4);
  g_assert_cmpfloat (test_max_abs (pool, rpool, np), <, 1e-6);
  g_test_message ("conv %d at %dx%d (%s): fused %s pooling within 1e-6", i, w, h,
      net->impl == SF_CONV_GEMM ? "gemm" : "direct",
      net->pooling == SF_POOL_AVG ? "average" : "max");
  sf_buffer_free (fx.dev, bact);
  sf_buffer_free (fx.dev, bpool);
  g_free (act); g_free (pool); g_free (dout); g_free (rpool);
}

static void
record_conv (SfNet * net, int i, int w, int h, SfBuffer * in, SfBuffer * out)
{
  VkCommandBuffer cb;
  GError *err = NULL;
  g_assert_true (sf_cmd_begin (fx.dev, &cb, &err));
  g_assert_true (sf_net_record_conv (net, cb, i, w, h, in, out, NULL, &err));
  g_assert_true (sf_cmd_submit_wait (fx.dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
}

static void
record_conv_grad (SfNet * net, int i, int w, int h, SfBuffer * gout,
    SfBuffer * act, SfBuffer * gin)
{
  VkCommandBuffer cb;
  GError *err = NULL;
  g_assert_true (sf_cmd_begin (fx.dev, &cb, &err));
  g_assert_true (sf_net_record_conv_grad (net, cb, i, w, h, gout, act, gin,
          &err));
  g_assert_true (sf_cmd_submit_wait (fx.dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
}

/* conv i of the real network on a random input of w x h */
static void
check_conv (SfNet * net, int i, int w, int h)
{
  int cin = net->cin[i], cout = net->cout[i];
  gsize nin = (gsize) cin * w * h, nout = (gsize) cout * w * h;
  float *in = g_new (float, nin), *gout = g_new (float, nout);
  test_fill (in, nin, 10 + i, -1, 1);
  test_fill (gout, nout, 20 + i, -1, 1);
  SfBuffer *bin = test_upload (fx.dev, in, nin);
  SfBuffer *bout = test_upload (fx.dev, NULL, nout);
  SfBuffer *bgout = test_upload (fx.dev, gout, nout);
  SfBuffer *bgin = test_upload (fx.dev, NULL, nin);

  record_conv (net, i, w, h, bin, bout);
  record_conv_grad (net, i, w, h, bgout, bout, bgin);

  float *out = test_download (fx.dev, bout, nout);
  float *gin = test_download (fx.dev, bgin, nin);
  double *din = test_to_double (in, nin), *dgout = test_to_double (gout, nout);
  double *rout = g_new (double, nout), *rgin = g_new (double, nin);
  sf_ref_conv3x3_forward (din, cin, h, w, fx.w->conv[i].weight,
      fx.w->conv[i].bias, cout, 1, rout);
  /* the mask from the GPU's own output, so that values at the ReLU kink
   * cannot differ between the two */
  double *dout = test_to_double (out, nout);
  sf_ref_conv3x3_backward_input (dgout, dout, cin, h, w, fx.w->conv[i].weight,
      cout, rgin);
  double ef = test_rel_l2 (out, rout, nout), eb = test_rel_l2 (gin, rgin, nin);
  g_test_message ("conv %d at %dx%d (%s forward, %s gradient): forward rel "
      "L2 %.2e, backward %.2e", i, w, h, net->fwd_gemm[i] ? "gemm" : "direct",
      net->bwd_gemm[i] ? "gemm" : "direct", ef, eb);
  g_assert_cmpfloat (ef, <, 1e-5);
  g_assert_cmpfloat (eb, <, 1e-5);
  if (sf_net_pool_after (i) && w >= 2 && h >= 2)
    check_fused_pool (net, i, w, h, bin, out);

  SfBuffer *all[] = { bin, bout, bgout, bgin };
  for (guint k = 0; k < G_N_ELEMENTS (all); k++)
    sf_buffer_free (fx.dev, all[k]);
  g_free (in); g_free (gout); g_free (out); g_free (gin); g_free (din);
  g_free (dgout); g_free (rout); g_free (rgin); g_free (dout);
}

static void
test_conv (gconstpointer data)
{
  SfNet *net = fx.nets[GPOINTER_TO_INT (data)];
  const int layers[] = { 0, 1, 2, 3, 4, 9, 11, 12 };
  for (guint l = 0; l < G_N_ELEMENTS (layers); l++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
      if (layers[l] >= 9 && s >= 2)
        continue;               /* keep the 512-channel layers small */
      check_conv (net, layers[l], sizes[s][0], sizes[s][1]);
    }
  /* fused average pooling, and a size spanning several tiles each way */
  check_conv (fx.avg_gemm, 1, 19, 17);
  check_conv (fx.avg_gemm, 3, 8, 6);
  check_conv (net, 1, 27, 18);
}

static void
check_pool (SfPooling pool, int c, int w, int h)
{
  int wo = w / 2, ho = h / 2;
  gsize nin = (gsize) c * w * h, nout = (gsize) c * wo * ho;
  float *in = g_new (float, nin), *gout = g_new (float, nout);
  test_fill (in, nin, 3, -1, 1);
  test_fill (gout, nout, 4, -1, 1);
  SfBuffer *bin = test_upload (fx.dev, in, nin);
  SfBuffer *bout = test_upload (fx.dev, NULL, nout);
  SfBuffer *bgout = test_upload (fx.dev, gout, nout);
  SfBuffer *bgin = test_upload (fx.dev, NULL, nin);
  struct { int32_t W, H, avg; } pp = { w, h, pool == SF_POOL_AVG };
  SfBuffer *b1[2] = { bin, bout };
  test_dispatch (fx.dev, SF_K_POOL_FWD, b1, 2, &pp, sizeof (pp),
      sf_div_up (wo, 8), sf_div_up (ho, 8), c);
  SfBuffer *b2[3] = { bin, bgout, bgin };
  float *out = test_download (fx.dev, bout, nout);
  double *din = test_to_double (in, nin), *dgout = test_to_double (gout, nout);
  double *rout = g_new (double, nout), *rgin = g_new (double, nin);
  sf_ref_pool_forward (din, c, h, w, pool, rout);
  sf_ref_pool_backward (din, dgout, c, h, w, pool, rgin);
  g_assert_cmpfloat (test_max_abs (out, rout, nout), <, 1e-6);
  /* the backward as storage-buffer kernel and, on a CPU device, as its
   * texel-buffer twin */
  float *gin = NULL;
  SfKernelId kb[2] = { SF_K_POOL_BWD, sf_kernel_choose (fx.dev,
        SF_K_POOL_BWD, SF_K_POOL_BWD_TX, b2, 3) };
  float *zero = g_new0 (float, nin);
  GError *err = NULL;
  for (int k = 0; k < (kb[1] == kb[0] ? 1 : 2); k++) {
    /* cleared, so that a kernel that wrote nothing cannot pass */
    g_assert_true (sf_buffer_upload (fx.dev, bgin, 0, zero, nin * 4, &err));
    test_dispatch (fx.dev, kb[k], b2, 3, &pp, sizeof (pp),
        sf_div_up (w, 8), sf_div_up (h, 8), c);
    g_free (gin);
    gin = test_download (fx.dev, bgin, nin);
    g_assert_cmpfloat (test_max_abs (gin, rgin, nin), <, 1e-6);
  }
  g_free (zero);
  SfBuffer *all[] = { bin, bout, bgout, bgin };
  for (guint k = 0; k < G_N_ELEMENTS (all); k++)
    sf_buffer_free (fx.dev, all[k]);
  g_free (in); g_free (gout); g_free (out); g_free (gin); g_free (din);
  g_free (dgout); g_free (rout); g_free (rgin);
}

static void
test_pool (void)
{
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    check_pool (SF_POOL_MAX, 5, sizes[s][0], sizes[s][1]);
    check_pool (SF_POOL_AVG, 5, sizes[s][0], sizes[s][1]);
  }
}

/* Gram and the style-gradient GEMM (D F) against the reference Gram and a
 * direct double loop, at channel counts that are not tile multiples. */
static void
check_gram (int c, int m)
{
  gsize nf = (gsize) c * m, ng = (gsize) c * c;
  float *f = g_new (float, nf), *d = g_new (float, ng);
  test_fill (f, nf, 5, 0, 1);
  test_fill (d, ng, 6, -1, 1);
  /* D = G - A is symmetric, which style_grad_tx uses */
  for (int i = 0; i < c; i++)
    for (int j = 0; j < i; j++)
      d[(gsize) j * c + i] = d[(gsize) i * c + j];
  SfBuffer *bf = test_upload (fx.dev, f, nf), *bg = test_upload (fx.dev, NULL, ng);
  SfBuffer *bd = test_upload (fx.dev, d, ng), *bo = test_upload (fx.dev, NULL, nf);
  guint splits = sf_gram_splits (m);
  SfBuffer *bp = test_upload (fx.dev, NULL, (gsize) splits * c * c);
  VkCommandBuffer cb;
  GError *err = NULL;
  g_assert_true (sf_cmd_begin (fx.dev, &cb, &err));
  g_assert_true (sf_record_gram (fx.dev, cb, bf, FALSE, c, m, bp, bg, &err));
  g_assert_true (sf_cmd_submit_wait (fx.dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
  struct { int32_t C, M; float coef; int32_t acc; } ps = { c, m, 0.5f, 0 };
  SfBuffer *b2[3] = { bd, bf, bo };
  /* as stylizer.c chooses: the texel twin for multiples of 4 */
  SfKernelId ksg = c % 4 || m % 4 ? SF_K_STYLE_GRAD : sf_kernel_choose (fx.dev,
      SF_K_STYLE_GRAD, SF_K_STYLE_GRAD_TX, b2, 3);
  guint64 n_sg = ksg == SF_K_STYLE_GRAD_TX ? sf_style_grad_tx_invocations (c, m)
      : (guint64) sf_div_up (m, 4) * sf_div_up (c, 4);
  test_dispatch (fx.dev, ksg, b2, 3, &ps, sizeof (ps), sf_div_up (n_sg, 64),
      1, 1);
  float *g = test_download (fx.dev, bg, ng), *o = test_download (fx.dev, bo, nf);
  double *df = test_to_double (f, nf), *rg = g_new (double, ng);
  double *ro = g_new0 (double, nf);
  sf_ref_gram (df, c, m, rg);
  for (int i = 0; i < c; i++)
    for (int j = 0; j < c; j++)
      for (int k = 0; k < m; k++)
        ro[(gsize) i * m + k] += 0.5 * d[(gsize) i * c + j] * df[(gsize) j * m + k];
  g_test_message ("Gram %d x %d in %u split(s): rel L2 %.2e; %s: %.2e", c,
      m, splits, test_rel_l2 (g, rg, ng), sf_kernel_name (ksg),
      test_rel_l2 (o, ro, nf));
  g_assert_cmpfloat (test_rel_l2 (g, rg, ng), <, 1e-5);
  g_assert_cmpfloat (test_rel_l2 (o, ro, nf), <, 1e-5);
  /* accumulate: the same again added to what is there, 2 D F */
  ps.acc = 1;
  test_dispatch (fx.dev, ksg, b2, 3, &ps, sizeof (ps), sf_div_up (n_sg, 64),
      1, 1);
  g_free (o);
  o = test_download (fx.dev, bo, nf);
  for (gsize k = 0; k < nf; k++)
    ro[k] *= 2.0;
  g_assert_cmpfloat (test_rel_l2 (o, ro, nf), <, 1e-5);
  SfBuffer *all[] = { bf, bg, bd, bo, bp };
  for (guint k = 0; k < G_N_ELEMENTS (all); k++)
    sf_buffer_free (fx.dev, all[k]);
  g_free (f); g_free (d); g_free (g); g_free (o); g_free (df); g_free (rg);
  g_free (ro);
}

static void
test_gram (void)
{
  check_gram (64, 35);
  check_gram (37, 1);
  check_gram (128, 290);
  check_gram (3, 7);
  check_gram (32, 100);
  check_gram (128, 292);
  check_gram (512, 4);
  check_gram (256, 16);
  /* split over pixels: 2, and 3 uneven slices (the last one shorter) */
  g_assert_cmpuint (sf_gram_splits (4096), ==, 2);
  check_gram (64, 4096);
  check_gram (13, 3 * 2048 + 1000);
  g_assert_cmpuint (sf_gram_splits (1u << 30), ==, SF_GRAM_MAX_SPLITS);
}

/* The GPU's own backward against central finite differences of the GPU's
 * own forward, in fp32: L(x) = sum r * layer(x) for a fixed random r, so
 * dL/dx = backward(r); the directional derivative along a random d
 * against (L(x + e d) - L(x - e d)) / 2e, with the sums in double on the
 * host, e = 0.01.  Outputs that the step could carry across a kink (a
 * ReLU output below 0.05, a pooling window whose two largest inputs are
 * closer than 0.05; the step moves an output by about 0.01) get r = 0: there the function is not differentiable at the scale
 * of the step, and each such crossing alone costs percents.  Relative
 * error below 1e-3. */
static double
layer_objective (int kind, int i, SfBuffer *bx, const float *x, const float *d,
    double e, gsize nin, int w, int h, const float *r, gsize nout,
    SfBuffer *bout, float **out_keep)
{
  float *xe = g_new (float, nin);
  GError *err = NULL;
  for (gsize k = 0; k < nin; k++)
    xe[k] = (float) (x[k] + e * d[k]);
  g_assert_true (sf_buffer_upload (fx.dev, bx, 0, xe, nin * 4, &err));
  if (kind == 0) {
    record_conv (fx.net, i, w, h, bx, bout);
  } else {
    struct { int32_t W, H, avg; } pp = { w, h, kind == 2 };
    SfBuffer *b[2] = { bx, bout };
    test_dispatch (fx.dev, SF_K_POOL_FWD, b, 2, &pp, sizeof (pp),
        sf_div_up (w / 2, 8), sf_div_up (h / 2, 8), 5);
  }
  float *out = test_download (fx.dev, bout, nout);
  double s = 0;
  for (gsize k = 0; k < nout; k++)
    s += (double) r[k] * out[k];
  if (out_keep)
    *out_keep = out;
  else
    g_free (out);
  g_free (xe);
  return s;
}

/* r = 0 where a step of the test's size could cross a kink */
static void
mask_kinks (int kind, const float *x, const float *out, float *r, int w,
    int h, gsize nout)
{
  if (kind == 0) {
    for (gsize k = 0; k < nout; k++)
      if (out[k] < 0.05f)
        r[k] = 0;
  } else if (kind == 1) {
    int wo = w / 2, ho = h / 2;
    for (int c = 0; c < 5; c++)
      for (int y = 0; y < ho; y++)
        for (int xx = 0; xx < wo; xx++) {
          const float *b = x + ((gsize) c * h + 2 * y) * w + 2 * xx;
          float v[4] = { b[0], b[1], b[w], b[w + 1] }, m1 = -2, m2 = -2;
          for (int k = 0; k < 4; k++) {
            if (v[k] > m1) {
              m2 = m1;
              m1 = v[k];
            } else if (v[k] > m2) {
              m2 = v[k];
            }
          }
          if (m1 - m2 < 0.05f)
            r[((gsize) c * ho + y) * wo + xx] = 0;
        }
  }
}

/* kind 0: conv i; 1: max pooling; 2: average pooling (5 channels) */
static void
check_fd (int kind, int i, int w, int h)
{
  GError *err = NULL;
  int cin = kind == 0 ? fx.net->cin[i] : 5;
  int cout = kind == 0 ? fx.net->cout[i] : 5;
  int ow = kind == 0 ? w : w / 2, oh = kind == 0 ? h : h / 2;
  gsize nin = (gsize) cin * w * h, nout = (gsize) cout * ow * oh;
  float *x = g_new (float, nin), *d = g_new (float, nin), *r = g_new (float, nout);
  float *out0 = NULL;
  test_fill (x, nin, 31 + i, -1, 1);
  test_fill (d, nin, 32 + i, -1, 1);
  test_fill (r, nout, 33 + i, -1, 1);
  SfBuffer *bx = test_upload (fx.dev, x, nin);
  SfBuffer *bout = test_upload (fx.dev, NULL, nout);
  SfBuffer *bg = test_upload (fx.dev, NULL, nin);

  /* the output at x: the kinks to avoid, and the ReLU mask */
  layer_objective (kind, i, bx, x, d, 0.0, nin, w, h, r, nout, bout, &out0);
  mask_kinks (kind, x, out0, r, w, h, nout);
  SfBuffer *br = test_upload (fx.dev, r, nout);
  if (kind == 0) {
    record_conv_grad (fx.net, i, w, h, br, bout, bg);
  } else {
    struct { int32_t W, H, avg; } pp = { w, h, kind == 2 };
    SfBuffer *b[3] = { bx, br, bg };
    test_dispatch (fx.dev, SF_K_POOL_BWD, b, 3, &pp, sizeof (pp),
        sf_div_up (w, 8), sf_div_up (h, 8), 5);
  }
  float *g = test_download (fx.dev, bg, nin);
  double an = 0;
  for (gsize k = 0; k < nin; k++)
    an += (double) g[k] * d[k];
  const double e = 1e-2;
  double lp = layer_objective (kind, i, bx, x, d, e, nin, w, h, r, nout, bout,
      NULL);
  double lm = layer_objective (kind, i, bx, x, d, -e, nin, w, h, r, nout, bout,
      NULL);
  double fd = (lp - lm) / (2 * e);
  double rel = fabs (an - fd) / MAX (fabs (fd), 1e-12);
  g_test_message ("%s %d at %dx%d: analytic %.6g, finite difference %.6g, "
      "relative error %.1e", kind == 0 ? "conv" : kind == 1 ? "max pool" :
      "avg pool", i, w, h, an, fd, rel);
  g_assert_no_error (err);
  g_assert_cmpfloat (fabs (fd), >, 1e-3);
  g_assert_cmpfloat (rel, <, 1e-3);
  SfBuffer *all[] = { bx, bout, br, bg };
  for (guint k = 0; k < G_N_ELEMENTS (all); k++)
    sf_buffer_free (fx.dev, all[k]);
  g_free (x); g_free (d); g_free (r); g_free (g); g_free (out0);
}

static void
test_finite_differences (gconstpointer data)
{
  const int layers[] = { 0, 1, 4, 12 };
  fx.net = fx.nets[GPOINTER_TO_INT (data)];
  for (guint l = 0; l < G_N_ELEMENTS (layers); l++) {
    check_fd (0, layers[l], 8, 6);
    check_fd (0, layers[l], 7, 5);
  }
  for (int kind = 1; kind <= 2; kind++) {
    check_fd (kind, 0, 8, 6);
    check_fd (kind, 0, 7, 5);
  }
}

/* The storage-buffer kernels that a CPU device (where the tests run)
 * replaces by their texel-buffer twins (sf_kernel_choose): conv_fwd,
 * conv_bwd, gram and style_grad, with the device's texel reads off. */
static void
test_storage_twins (gconstpointer data)
{
  gboolean was = fx.dev->texel_reads;

  fx.dev->texel_reads = FALSE;
  if (GPOINTER_TO_INT (data) == 0)
    test_conv (GINT_TO_POINTER (0));
  else
    test_gram ();
  fx.dev->texel_reads = was;
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  g_test_init (&argc, &argv, NULL);
  fx.dev = test_device ();
  fx.w = sf_vgg_weights_new_default (7);
  for (int k = 0; k < 2; k++) {
    fx.nets[k] = sf_net_new_full (fx.dev, fx.w, SF_POOL_MAX,
        k == 0 ? SF_CONV_DIRECT : SF_CONV_GEMM, SF_PRECISION_FP32, &err);
    g_assert_no_error (err);
  }
  fx.avg_gemm = sf_net_new_full (fx.dev, fx.w, SF_POOL_AVG, SF_CONV_GEMM,
      SF_PRECISION_FP32, &err);
  g_assert_no_error (err);
  /* the GEMM net records every layer but conv 0's input gradient (3
   * channels) with conv_gemm */
  g_assert_true (fx.nets[1]->fwd_gemm[0] && fx.nets[1]->bwd_gemm[1]);
  g_assert_false (fx.nets[1]->bwd_gemm[0] || fx.nets[0]->fwd_gemm[1]);
  fx.net = fx.nets[0];
  /* CPU devices read through texel buffers; the storage twins are tested
   * with that turned off */
  g_assert_cmpint (fx.dev->texel_reads, ==,
      sf_device_get_features (fx.dev)->is_cpu);
  g_test_add_data_func ("/layers/conv/direct", GINT_TO_POINTER (0), test_conv);
  g_test_add_data_func ("/layers/conv/direct-storage", GINT_TO_POINTER (0),
      test_storage_twins);
  g_test_add_data_func ("/layers/gram/storage", GINT_TO_POINTER (1),
      test_storage_twins);
  g_test_add_data_func ("/layers/conv/gemm", GINT_TO_POINTER (1), test_conv);
  g_test_add_func ("/layers/pool", test_pool);
  g_test_add_func ("/layers/gram", test_gram);
  g_test_add_data_func ("/layers/finite-differences/direct",
      GINT_TO_POINTER (0), test_finite_differences);
  g_test_add_data_func ("/layers/finite-differences/gemm",
      GINT_TO_POINTER (1), test_finite_differences);
  int r = g_test_run ();
  for (int k = 0; k < 2; k++)
    sf_net_free (fx.nets[k]);
  sf_net_free (fx.avg_gemm);
  sf_vgg_weights_free (fx.w);
  sf_device_free (fx.dev);
  return r;
}
