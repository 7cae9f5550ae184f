/* sf-weights.c - VGG-19's thirteen convolutions on the host, and the seeded
 * default network.
 *
 * Holds the static description of the convolutions the engine runs (VGG-19's
 * features through relu5_1, with torchvision's indices and shapes), the
 * allocation of their weights, and the embedded default: torchvision's
 * default initialisation of vgg19() (Kaiming normal, mode fan_out, so
 * std = sqrt (2 / (cout * 9)), zero bias) drawn from a generator of our own.
 *
 * The default must give the same bits for a seed on every machine, so it
 * uses no libm transcendental function (their last bit differs between
 * libm builds): xoshiro256** seeded by splitmix64 gives the uniforms,
 * Marsaglia's polar method turns them into normals, and the one logarithm it
 * needs is computed here from +, -, *, / only.  sqrt () is correctly rounded
 * by IEEE 754, and fused multiply-adds are turned off for the arithmetic
 * below, since a compiler may otherwise contract a * b + c on machines that
 * have FMA (aarch64, x86-64 with -march=native) and change the bits.
 *
 * The structured network keeps those draws and replaces conv1_1 by fixed
 * filters, computed here with +, -, *, / and sqrt () only, for the same
 * reason.
 *
 * The safetensors reader is in safetensors.c, the writer in
 * safetensors-write.c.
 */
#include "sf-weights.h"

#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#define SF_NO_FP_CONTRACT
#elif defined(__GNUC__)
#define SF_NO_FP_CONTRACT __attribute__ ((optimize ("fp-contract=off")))
#else
#define SF_NO_FP_CONTRACT
#endif

typedef struct
{
  int index;
  int cin;
  int cout;
} SfConvDesc;

/* torchvision vgg19().features: conv1_1 .. conv5_1. */
static const SfConvDesc vgg19_convs[SF_VGG_NUM_CONVS] = {
  {0, 3, 64}, {2, 64, 64},
  {5, 64, 128}, {7, 128, 128},
  {10, 128, 256}, {12, 256, 256}, {14, 256, 256}, {16, 256, 256},
  {19, 256, 512}, {21, 512, 512}, {23, 512, 512}, {25, 512, 512},
  {28, 512, 512},
};

int
sf_vgg_conv_index (int i)
{
  g_return_val_if_fail (i >= 0 && i < SF_VGG_NUM_CONVS, -1);
  return vgg19_convs[i].index;
}

int
sf_vgg_conv_cin (int i)
{
  g_return_val_if_fail (i >= 0 && i < SF_VGG_NUM_CONVS, 0);
  return vgg19_convs[i].cin;
}

int
sf_vgg_conv_cout (int i)
{
  g_return_val_if_fail (i >= 0 && i < SF_VGG_NUM_CONVS, 0);
  return vgg19_convs[i].cout;
}

SfVggWeights *
sf_vgg_weights_new (void)
{
  SfVggWeights *w = g_new0 (SfVggWeights, 1);
  int i;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    SfConvWeights *c = &w->conv[i];
    const SfConvDesc *d = &vgg19_convs[i];

    c->index = d->index;
    c->cin = d->cin;
    c->cout = d->cout;
    /* At most 512 * 512 * 9 floats: the sizes are fixed, no overflow. */
    c->weight = g_new0 (float, (gsize) d->cout * d->cin * 9);
    c->bias = g_new0 (float, (gsize) d->cout);
  }
  return w;
}

void
sf_vgg_weights_free (SfVggWeights *w)
{
  int i;

  if (w == NULL)
    return;
  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    g_free (w->conv[i].weight);
    g_free (w->conv[i].bias);
  }
  g_free (w);
}

/* --- the seeded generator ------------------------------------------------ */

typedef struct
{
  guint64 s[4];
} SfRng;

static guint64
splitmix64_next (guint64 * x)
{
  guint64 z = (*x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static void
sf_rng_init (SfRng * rng, guint64 seed)
{
  guint64 x = seed;
  int i;

  /* splitmix64 never yields four zeros in a row, so the state is valid. */
  for (i = 0; i < 4; i++)
    rng->s[i] = splitmix64_next (&x);
}

static inline guint64
rotl64 (guint64 x, int k)
{
  return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna). */
static inline guint64
sf_rng_next (SfRng * rng)
{
  guint64 *s = rng->s;
  guint64 result = rotl64 (s[1] * 5, 7) * 9;
  guint64 t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl64 (s[3], 45);
  return result;
}

/* Uniform on [-1, 1) in steps of 2^-52; both operations are exact. */
static inline double
sf_rng_symmetric (SfRng * rng)
{
  return (double) (sf_rng_next (rng) >> 11) * 0x1.0p-52 - 1.0;
}

/* Natural logarithm of x in (0, 1], from basic arithmetic only, so that it
 * gives the same bits everywhere.  x = m * 2^e with m in [sqrt(1/2),
 * sqrt(2)), and log (m) = 2 atanh (t), t = (m - 1) / (m + 1), |t| < 0.172:
 * the odd series through t^23 is accurate to about 1e-18 relative. */
SF_NO_FP_CONTRACT static double
sf_det_log (double x)
{
  static const double ln2 = 0.693147180559945309417232121458176568;
  int e;
  double m = frexp (x, &e);     /* exact: m in [0.5, 1) */
  double t, t2, p;

  if (m < 0.70710678118654752440) {
    m *= 2.0;                   /* exact */
    e -= 1;
  }
  t = (m - 1.0) / (m + 1.0);
  t2 = t * t;
  p = 1.0 / 23.0;
  p = p * t2 + 1.0 / 21.0;
  p = p * t2 + 1.0 / 19.0;
  p = p * t2 + 1.0 / 17.0;
  p = p * t2 + 1.0 / 15.0;
  p = p * t2 + 1.0 / 13.0;
  p = p * t2 + 1.0 / 11.0;
  p = p * t2 + 1.0 / 9.0;
  p = p * t2 + 1.0 / 7.0;
  p = p * t2 + 1.0 / 5.0;
  p = p * t2 + 1.0 / 3.0;
  p = p * t2 + 1.0;
  return (double) e * ln2 + 2.0 * t * p;
}

/* Two independent standard normals (Marsaglia's polar method). */
SF_NO_FP_CONTRACT static void
sf_rng_normal_pair (SfRng * rng, double *z0, double *z1)
{
  double u, v, s, f;

  do {
    u = sf_rng_symmetric (rng);
    v = sf_rng_symmetric (rng);
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  f = sqrt (-2.0 * sf_det_log (s) / s);
  *z0 = u * f;
  *z1 = v * f;
}

/* Fills out[0..n) with normals of standard deviation std, rounded to float.
 * An odd count drops the last spare, which keeps every conv a fixed number
 * of draws (all VGG-19 counts are even anyway). */
SF_NO_FP_CONTRACT static void
sf_fill_normal (SfRng * rng, float *out, gsize n, double std)
{
  gsize i;
  double z0, z1;

  for (i = 0; i + 1 < n; i += 2) {
    sf_rng_normal_pair (rng, &z0, &z1);
    out[i] = (float) (z0 * std);
    out[i + 1] = (float) (z1 * std);
  }
  if (i < n) {
    sf_rng_normal_pair (rng, &z0, &z1);
    out[i] = (float) (z0 * std);
  }
}

SfVggWeights *
sf_vgg_weights_new_default (uint64_t seed)
{
  SfVggWeights *w = sf_vgg_weights_new ();
  SfRng rng;
  int i;

  sf_rng_init (&rng, seed);
  /* Conv by conv in network order; biases stay zero. */
  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    SfConvWeights *c = &w->conv[i];
    double std = sqrt (2.0 / ((double) c->cout * 9.0));

    sf_fill_normal (&rng, c->weight, (gsize) c->cout * c->cin * 9, std);
  }
  return w;
}

/* --- the structured first layer ------------------------------------------ */

/* out = a (x) b, a 3x3 kernel [y][x] from a vertical and a horizontal 3-tap */
SF_NO_FP_CONTRACT static void
outer3 (const double *a, const double *b, double *out)
{
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 3; x++)
      out[3 * y + x] = a[y] * b[x];
}

/* Appends the filter colour (x) kernel, scaled to unit L2 norm, and its
 * negative: two filters at weight[*n], weight[*n + 1]. */
SF_NO_FP_CONTRACT static void
add_pair (float *weight, int *n, const double *colour, const double *k)
{
  double f[27], ss = 0.0;

  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 9; i++) {
      f[9 * c + i] = colour[c] * k[i];
      ss += f[9 * c + i] * f[9 * c + i];
    }
  ss = sqrt (ss);
  for (int i = 0; i < 27; i++) {
    weight[27 * *n + i] = (float) (f[i] / ss);
    weight[27 * (*n + 1) + i] = (float) (-f[i] / ss);
  }
  *n += 2;
}

/* a * p + b * q, elementwise over n */
SF_NO_FP_CONTRACT static void
mix (double a, const double *p, double b, const double *q, double *out, int n)
{
  for (int i = 0; i < n; i++)
    out[i] = a * p[i] + b * q[i];
}

SF_NO_FP_CONTRACT void
sf_vgg_structured_conv1_1 (float *weight)
{
  /* cos and sin of 22.5 and 45 degrees */
  static const double c22 = 0.923879532511286756128183189396788933;
  static const double s22 = 0.382683432365089771728459984030398866;
  static const double r2 = 0.707106781186547524400844362104849039;
  const double g[3] = { 0.25, 0.5, 0.25 }, d[3] = { -0.5, 0.0, 0.5 };
  const double s2[3] = { 0.25, -0.5, 0.25 };
  const double ang[4][2] = { {c22, s22}, {s22, c22}, {-s22, c22},
    {-c22, s22}
  };
  const double hue[4][2] = { {r2, r2}, {-r2, r2}, {-r2, -r2}, {r2, -r2} };
  double lum[3], rg[3], by[3], k[8][9], t[9], hc[3];
  const double *colours[3] = { lum, rg, by };
  int n = 0;

  /* the colour axes in normalised-input space: luminance, red-green,
   * blue-yellow, each of unit length */
  for (int c = 0; c < 3; c++)
    lum[c] = 1.0 / sqrt (3.0);
  rg[0] = 1.0 / sqrt (2.0);
  rg[1] = -rg[0];
  rg[2] = 0.0;
  by[0] = by[1] = 1.0 / sqrt (6.0);
  by[2] = -2.0 / sqrt (6.0);
  /* blur, d/dx, d/dy, the two diagonals, d2/dx2, d2/dy2, d2/dxdy */
  outer3 (g, g, k[0]);
  outer3 (g, d, k[1]);
  outer3 (d, g, k[2]);
  mix (r2, k[1], r2, k[2], k[3], 9);
  mix (r2, k[1], -r2, k[2], k[4], 9);
  outer3 (g, s2, k[5]);
  outer3 (s2, g, k[6]);
  outer3 (d, d, k[7]);
  for (int i = 0; i < 8; i++)
    for (int c = 0; c < 3; c++)
      add_pair (weight, &n, colours[c], k[i]);
  /* luminance first derivatives between those orientations */
  for (int i = 0; i < 4; i++) {
    mix (ang[i][0], k[1], ang[i][1], k[2], t, 9);
    add_pair (weight, &n, lum, t);
  }
  /* blurred hues between the opponent axes */
  for (int i = 0; i < 4; i++) {
    mix (hue[i][0], rg, hue[i][1], by, hc, 3);
    add_pair (weight, &n, hc, k[0]);
  }
  g_assert (n == 64);
}

SfVggWeights *
sf_vgg_weights_new_embedded (uint64_t seed, SfVggInit init)
{
  SfVggWeights *w;

  if (init != SF_VGG_INIT_RANDOM && init != SF_VGG_INIT_STRUCTURED)
    return NULL;
  w = sf_vgg_weights_new_default (seed);
  if (init == SF_VGG_INIT_STRUCTURED)
    sf_vgg_structured_conv1_1 (w->conv[0].weight);
  return w;
}
