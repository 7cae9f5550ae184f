/* test-weights.c - tests of the VGG-19 table and the seeded default weights.
 *
 * The default network must be torchvision's initialisation (Kaiming normal,
 * fan_out: std = sqrt (2 / (cout * 9)), zero bias) and the same bits for a
 * seed on every machine; a hash of all the bits for one seed is pinned here
 * so that a compiler, libm or architecture that changes them shows up.
 */
#include "sf-weights.h"

#include <math.h>
#include <string.h>

static const int expect_index[SF_VGG_NUM_CONVS] =
    { 0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28 };
static const int expect_cin[SF_VGG_NUM_CONVS] =
    { 3, 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512 };
static const int expect_cout[SF_VGG_NUM_CONVS] =
    { 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512 };

static gsize
conv_numel (const SfConvWeights * c)
{
  return (gsize) c->cout * c->cin * 9;
}

/* FNV-1a over the bits of every weight and bias, conv by conv. */
static guint64
weights_hash (const SfVggWeights * w)
{
  guint64 h = G_GUINT64_CONSTANT (0xcbf29ce484222325);
  int i;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    const guint8 *p[2] = { (const guint8 *) w->conv[i].weight,
      (const guint8 *) w->conv[i].bias
    };
    gsize n[2] = { conv_numel (&w->conv[i]) * 4, (gsize) w->conv[i].cout * 4 };
    int k;
    gsize j;

    for (k = 0; k < 2; k++)
      for (j = 0; j < n[k]; j++)
        h = (h ^ p[k][j]) * G_GUINT64_CONSTANT (0x100000001b3);
  }
  return h;
}

static void
test_table (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new ();
  gsize total = 0;
  int i;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    gsize j;

    g_assert_cmpint (sf_vgg_conv_index (i), ==, expect_index[i]);
    g_assert_cmpint (sf_vgg_conv_cin (i), ==, expect_cin[i]);
    g_assert_cmpint (sf_vgg_conv_cout (i), ==, expect_cout[i]);
    g_assert_cmpint (w->conv[i].index, ==, expect_index[i]);
    g_assert_cmpint (w->conv[i].cin, ==, expect_cin[i]);
    g_assert_cmpint (w->conv[i].cout, ==, expect_cout[i]);
    for (j = 0; j < conv_numel (&w->conv[i]); j++)
      g_assert_true (w->conv[i].weight[j] == 0.0f);
    for (j = 0; j < (gsize) w->conv[i].cout; j++)
      g_assert_true (w->conv[i].bias[j] == 0.0f);
    total += conv_numel (&w->conv[i]) + w->conv[i].cout;
  }
  /* VGG-19 through conv5_1: 12,944,960 parameters. */
  g_assert_cmpuint (total, ==, 12944960);
  sf_vgg_weights_free (NULL);
}

static void
test_default_deterministic (void)
{
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (SfVggWeights) a = sf_vgg_weights_new_default (7);
  gint64 t1 = g_get_monotonic_time ();
  g_autoptr (SfVggWeights) b = sf_vgg_weights_new_default (7);
  g_autoptr (SfVggWeights) c = sf_vgg_weights_new_default (8);
  int i;

  g_test_message ("default weights in %.3f s", (t1 - t0) / 1e6);
  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    gsize n = conv_numel (&a->conv[i]) * sizeof (float);

    g_assert_cmpmem (a->conv[i].weight, n, b->conv[i].weight, n);
    g_assert_true (memcmp (a->conv[i].weight, c->conv[i].weight, n) != 0);
  }
  g_assert_cmpuint (weights_hash (a), ==, weights_hash (b));
  g_assert_cmpuint (weights_hash (a), !=, weights_hash (c));
}

/* Pinned bits: the same on every machine, whatever its libm or FMA. */
static void
test_default_golden (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new_default (0);
  g_autoptr (SfVggWeights) v = sf_vgg_weights_new_default (1234567);

  g_test_message ("hash seed 0: 0x%016" G_GINT64_MODIFIER "x, seed 1234567: "
      "0x%016" G_GINT64_MODIFIER "x", weights_hash (w), weights_hash (v));
  g_assert_cmphex (weights_hash (w), ==,
      G_GUINT64_CONSTANT (0x8f3e801bd998e86a));
  g_assert_cmphex (weights_hash (v), ==,
      G_GUINT64_CONSTANT (0xdfab21a1a51a8f91));
}

/* Mean ~ 0, std ~ sqrt (2 / (cout * 9)), bias zero, per layer; the
 * tolerances are five standard errors of each estimate. */
static void
test_default_statistics (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new_default (42);
  int i;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    const SfConvWeights *c = &w->conv[i];
    gsize n = conv_numel (c), j;
    double want = sqrt (2.0 / (c->cout * 9.0));
    double sum = 0, sum2 = 0, mean, std, kurt = 0;

    for (j = 0; j < n; j++) {
      sum += c->weight[j];
      sum2 += (double) c->weight[j] * c->weight[j];
    }
    mean = sum / n;
    std = sqrt (sum2 / n - mean * mean);
    for (j = 0; j < n; j++) {
      double z = (c->weight[j] - mean) / std;
      kurt += z * z * z * z;
    }
    kurt /= n;
    g_test_message ("conv %d: n %" G_GSIZE_FORMAT " mean %+.2e std %.5f "
        "(want %.5f) kurtosis %.3f", i, n, mean, std, want, kurt);
    g_assert_cmpfloat (fabs (mean), <, 5 * want / sqrt (n));
    g_assert_cmpfloat (fabs (std / want - 1), <, 5 / sqrt (2.0 * n));
    /* Normal, not uniform: kurtosis 3 (standard error sqrt (24 / n)). */
    g_assert_cmpfloat (fabs (kurt - 3), <, 5 * sqrt (24.0 / n));
    for (j = 0; j < (gsize) c->cout; j++)
      g_assert_true (c->bias[j] == 0.0f);
  }
}

/* The structured network: conv1_1's known filters (the luminance blur
 * first: [1 2 1] (x) [1 2 1] / 16 on (1,1,1)/sqrt3, unit norm, so its centre
 * is (1/sqrt3) (4/16) / (6/16)), each filter of unit norm and followed by
 * its negative, the two luminance x-derivatives, the first colour filter
 * (red-green blur) summing to zero over the channels; every deeper conv
 * bit for bit the random network's; an unknown kind refused. */
static void
test_structured (void)
{
  g_autoptr (SfVggWeights) r = sf_vgg_weights_new_embedded (7,
      SF_VGG_INIT_RANDOM);
  g_autoptr (SfVggWeights) s = sf_vgg_weights_new_embedded (7,
      SF_VGG_INIT_STRUCTURED);
  g_autoptr (SfVggWeights) d = sf_vgg_weights_new_default (7);
  const float *w = s->conv[0].weight;
  double centre = (1.0 / sqrt (3.0)) * (4.0 / 16) / (6.0 / 16);

  g_assert_cmphex (weights_hash (r), ==, weights_hash (d));
  g_assert_cmphex (weights_hash (s), !=, weights_hash (d));
  for (int i = 1; i < SF_VGG_NUM_CONVS; i++)
    g_assert_cmpmem (s->conv[i].weight, conv_numel (&s->conv[i]) * 4,
        d->conv[i].weight, conv_numel (&d->conv[i]) * 4);
  for (int f = 0; f < 64; f++) {
    double ss = 0.0;
    for (int i = 0; i < 27; i++)
      ss += (double) w[27 * f + i] * w[27 * f + i];
    g_assert_cmpfloat (fabs (ss - 1.0), <, 1e-6);
    if (f % 2 == 1)
      for (int i = 0; i < 27; i++)
        g_assert_cmpfloat (w[27 * f + i], ==, -w[27 * (f - 1) + i]);
  }
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat (fabs (w[9 * c + 4] - centre), <, 1e-7);
  /* filter 6: d/dx on luminance, [1 2 1]^T (x) [-1 0 1]: zero middle column */
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 3; y++) {
      g_assert_cmpfloat (w[27 * 6 + 9 * c + 3 * y + 1], ==, 0.0f);
      g_assert_cmpfloat (w[27 * 6 + 9 * c + 3 * y + 2], >, 0.0f);
    }
  /* filter 2: blur on red-green */
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat (fabs (w[54 + i] + w[54 + 9 + i] + w[54 + 18 + i]), <,
        1e-7);
  g_test_message ("structured seed 7: 0x%016" G_GINT64_MODIFIER "x",
      weights_hash (s));
  g_assert_cmphex (weights_hash (s), ==,
      G_GUINT64_CONSTANT (0x6b8dea4656e91c35));
  g_assert_null (sf_vgg_weights_new_embedded (7, (SfVggInit) 9));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/weights/table", test_table);
  g_test_add_func ("/weights/default/deterministic",
      test_default_deterministic);
  g_test_add_func ("/weights/default/golden", test_default_golden);
  g_test_add_func ("/weights/default/statistics", test_default_statistics);
  g_test_add_func ("/weights/structured", test_structured);
  return g_test_run ();
}
