/* color.c - colour control on the host: the style image's colours matched
 * to the content's before its Gram matrices are taken (Gatys et al. 2017,
 * "Controlling Perceptual Factors in Neural Style Transfer", the linear
 * form): every style pixel x becomes A (x - mu_s) + mu_c, with mu the RGB
 * means and A = C_c^(1/2) C_s^(-1/2) from the 3x3 RGB covariances, so that
 * the result has the content's mean and covariance; then clamped to
 * [0,1].  Plain C on planar images: no GPU, run once per new style or
 * sequence.
 */
#include <math.h>
#include <string.h>

#include "sf-engine.h"

/* mean[3] and cov[3][3] of a planar RGB image of n pixels */
static void
rgb_stats (const float *img, gsize n, double *mean, double cov[3][3])
{
  memset (cov, 0, 9 * sizeof (double));
  for (int c = 0; c < 3; c++) {
    double s = 0.0;
    for (gsize i = 0; i < n; i++)
      s += img[c * n + i];
    mean[c] = s / (double) n;
  }
  for (int a = 0; a < 3; a++)
    for (int b = a; b < 3; b++) {
      double s = 0.0;
      for (gsize i = 0; i < n; i++)
        s += (img[a * n + i] - mean[a]) * (img[b * n + i] - mean[b]);
      cov[a][b] = cov[b][a] = s / (double) n;
    }
}

/* Eigen-decomposition of a symmetric 3x3 m by Jacobi rotations: m = V
 * diag (w) V^T. */
static void
jacobi3 (double m[3][3], double w[3], double v[3][3])
{
  double a[3][3];

  memcpy (a, m, sizeof (a));
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      v[i][j] = i == j;
  for (int sweep = 0; sweep < 50; sweep++) {
    double off = fabs (a[0][1]) + fabs (a[0][2]) + fabs (a[1][2]);
    if (off < 1e-30)
      break;
    for (int p = 0; p < 2; p++)
      for (int q = p + 1; q < 3; q++) {
        double theta, t, c, s;
        if (fabs (a[p][q]) < 1e-300)
          continue;
        theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
        t = (theta >= 0 ? 1.0 : -1.0) / (fabs (theta) + sqrt (theta * theta
                + 1.0));
        c = 1.0 / sqrt (t * t + 1.0);
        s = t * c;
        for (int k = 0; k < 3; k++) {   /* a = J^T a J */
          double akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < 3; k++) {
          double apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (int k = 0; k < 3; k++) {
          double vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
  }
  for (int i = 0; i < 3; i++)
    w[i] = a[i][i];
}

/* out = m^e for a symmetric positive semi-definite m; eigenvalues below
 * 1e-4 of the largest (and 1e-8) are raised to that, so that a direction
 * the image hardly varies in (a grey style image's chroma) is amplified
 * at most a hundredfold, not by its rounding noise */
static void
sym_pow (double m[3][3], double e, double out[3][3])
{
  double w[3], v[3][3], floor;

  jacobi3 (m, w, v);
  floor = MAX (1e-8, 1e-4 * MAX (w[0], MAX (w[1], w[2])));
  for (int i = 0; i < 3; i++)
    w[i] = pow (MAX (w[i], floor), e);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0.0;
      for (int k = 0; k < 3; k++)
        s += v[i][k] * w[k] * v[j][k];
      out[i][j] = s;
    }
}

void
sf_color_match (float *style, int sw, int sh, const float *content, int cw,
    int ch)
{
  gsize nc = (gsize) cw * ch;
  double mc[3], cc[3][3];

  g_return_if_fail (content && nc > 0);
  rgb_stats (content, nc, mc, cc);
  sf_color_match_to (style, sw, sh, mc, cc);
}

void
sf_color_match_to (float *style, int sw, int sh, const double *mc,
    double cc[3][3])
{
  gsize ns = (gsize) sw * sh;
  double ms[3], cs[3][3], cs_isqrt[3][3], cc_sqrt[3][3];
  double a[3][3];

  g_return_if_fail (style && mc && cc && ns > 0);
  rgb_stats (style, ns, ms, cs);
  sym_pow (cs, -0.5, cs_isqrt);
  sym_pow (cc, 0.5, cc_sqrt);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      double s = 0.0;
      for (int k = 0; k < 3; k++)
        s += cc_sqrt[i][k] * cs_isqrt[k][j];
      a[i][j] = s;
    }
  for (gsize p = 0; p < ns; p++) {
    double d[3], o;
    for (int c = 0; c < 3; c++)
      d[c] = style[c * ns + p] - ms[c];
    for (int c = 0; c < 3; c++) {
      o = mc[c] + a[c][0] * d[0] + a[c][1] * d[1] + a[c][2] * d[2];
      style[c * ns + p] = (float) CLAMP (o, 0.0, 1.0);
    }
  }
}
