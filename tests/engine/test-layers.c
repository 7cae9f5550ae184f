/* test-layers.c - each GPU kernel of the network against the plain-C
 * reference (engine/cpu-ref.c), at even and odd sizes: convolution forward
 * and input gradient (with the ReLU mask), pooling max/avg forward and
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
  SfNet *net;
} Fixture;

static Fixture fx;

static const int sizes[][2] = { {8, 6}, {7, 5}, {16, 16}, {13, 11}, {1, 1},
  {19, 3}
};

/* conv i of the real network on a random input of w x h */
static void
check_conv (int i, int w, int h)
{
  SfNet *net = fx.net;
  int cin = net->cin[i], cout = net->cout[i];
  gsize nin = (gsize) cin * w * h, nout = (gsize) cout * w * h;
  float *in = g_new (float, nin), *gout = g_new (float, nout);
  test_fill (in, nin, 10 + i, -1, 1);
  test_fill (gout, nout, 20 + i, -1, 1);
  SfBuffer *bin = test_upload (fx.dev, in, nin);
  SfBuffer *bout = test_upload (fx.dev, NULL, nout);
  SfBuffer *bgout = test_upload (fx.dev, gout, nout);
  SfBuffer *bgin = test_upload (fx.dev, NULL, nin);

  struct { int32_t W, H, cin, cout; } pf = { w, h, cin, cout };
  SfBuffer *b1[4] = { bin, net->wfwd[i], net->bias[i], bout };
  test_dispatch (fx.dev, SF_K_CONV_FWD, b1, 4, &pf, sizeof (pf),
      sf_conv_groups (w, h, cout), 1, 1);
  struct { int32_t W, H, cin, cout; } pb = { w, h, cout, cin };
  SfBuffer *b2[4] = { bgout, net->wbwd[i], bout, bgin };
  test_dispatch (fx.dev, SF_K_CONV_BWD, b2, 4, &pb, sizeof (pb),
      sf_conv_groups (w, h, cin), 1, 1);

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
  g_test_message ("conv %d at %dx%d: forward rel L2 %.2e, backward %.2e", i,
      w, h, ef, eb);
  g_assert_cmpfloat (ef, <, 1e-5);
  g_assert_cmpfloat (eb, <, 1e-5);
  g_assert_cmpfloat (test_rel_l2 (out, rout, nout), >=, 0);

  SfBuffer *all[] = { bin, bout, bgout, bgin };
  for (guint k = 0; k < G_N_ELEMENTS (all); k++)
    sf_buffer_free (fx.dev, all[k]);
  g_free (in); g_free (gout); g_free (out); g_free (gin); g_free (din);
  g_free (dgout); g_free (rout); g_free (rgin); g_free (dout);
}

static void
test_conv (void)
{
  const int layers[] = { 0, 1, 2, 4, 9, 12 };
  for (guint l = 0; l < G_N_ELEMENTS (layers); l++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
      if (layers[l] >= 9 && s >= 2)
        continue;               /* keep the 512-channel layers small */
      check_conv (layers[l], sizes[s][0], sizes[s][1]);
    }
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
  test_dispatch (fx.dev, SF_K_POOL_BWD, b2, 3, &pp, sizeof (pp),
      sf_div_up (w, 8), sf_div_up (h, 8), c);
  float *out = test_download (fx.dev, bout, nout);
  float *gin = test_download (fx.dev, bgin, nin);
  double *din = test_to_double (in, nin), *dgout = test_to_double (gout, nout);
  double *rout = g_new (double, nout), *rgin = g_new (double, nin);
  sf_ref_pool_forward (din, c, h, w, pool, rout);
  sf_ref_pool_backward (din, dgout, c, h, w, pool, rgin);
  g_assert_cmpfloat (test_max_abs (out, rout, nout), <, 1e-6);
  g_assert_cmpfloat (test_max_abs (gin, rgin, nin), <, 1e-6);
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
  SfBuffer *bf = test_upload (fx.dev, f, nf), *bg = test_upload (fx.dev, NULL, ng);
  SfBuffer *bd = test_upload (fx.dev, d, ng), *bo = test_upload (fx.dev, NULL, nf);
  struct { int32_t C, M; float inv_m; } pg = { c, m, 1.0f / m };
  SfBuffer *b1[2] = { bf, bg };
  test_dispatch (fx.dev, SF_K_GRAM, b1, 2, &pg, sizeof (pg),
      sf_div_up ((guint64) sf_div_up (c, 4) * sf_div_up (c, 4), 64), 1, 1);
  struct { int32_t C, M; float coef; int32_t acc; } ps = { c, m, 0.5f, 0 };
  SfBuffer *b2[3] = { bd, bf, bo };
  test_dispatch (fx.dev, SF_K_STYLE_GRAD, b2, 3, &ps, sizeof (ps),
      sf_div_up ((guint64) sf_div_up (m, 4) * sf_div_up (c, 4), 64), 1, 1);
  float *g = test_download (fx.dev, bg, ng), *o = test_download (fx.dev, bo, nf);
  double *df = test_to_double (f, nf), *rg = g_new (double, ng);
  double *ro = g_new0 (double, nf);
  sf_ref_gram (df, c, m, rg);
  for (int i = 0; i < c; i++)
    for (int j = 0; j < c; j++)
      for (int k = 0; k < m; k++)
        ro[(gsize) i * m + k] += 0.5 * d[(gsize) i * c + j] * df[(gsize) j * m + k];
  g_assert_cmpfloat (test_rel_l2 (g, rg, ng), <, 1e-5);
  g_assert_cmpfloat (test_rel_l2 (o, ro, nf), <, 1e-5);
  SfBuffer *all[] = { bf, bg, bd, bo };
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
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  g_test_init (&argc, &argv, NULL);
  fx.dev = test_device ();
  fx.w = sf_vgg_weights_new_default (7);
  fx.net = sf_net_new (fx.dev, fx.w, SF_POOL_MAX, &err);
  g_assert_no_error (err);
  g_test_add_func ("/layers/conv", test_conv);
  g_test_add_func ("/layers/pool", test_pool);
  g_test_add_func ("/layers/gram", test_gram);
  int r = g_test_run ();
  sf_net_free (fx.net);
  sf_vgg_weights_free (fx.w);
  sf_device_free (fx.dev);
  return r;
}
