/* pyramid.c - coarse-to-fine optimisation for frames that start afresh.
 *
 * The first frame of a video and every scene cut run first-iterations
 * optimiser iterations from the content image.  Gatys-style optimisation
 * spends its first iterations laying out the large-scale structure of the
 * style, which a half-size image represents with a quarter of the pixels
 * (about a quarter of the FLOPs per evaluation); neural-style's
 * multi-resolution scripts therefore optimise at a low resolution first
 * and start the full resolution from the upsampled result.  This file
 * does that with two stylizers on one network: st's content and image are
 * area-downsampled to the coarse stylizer, optimised there, and the result
 * is upsampled (bicubic: its full-size loss measured below bilinear's) as
 * st's starting image.  Whether it pays, for the same number of full-size
 * evaluation equivalents, is measured in tests/engine/test-pyramid.c.
 *
 * The resampling runs on the host: the images are small (the processing
 * size), cross the bus once each way per frame, and the resamplers are
 * separable filter tables applied row and column. */
#include <math.h>
#include <string.h>

#include "sf-pyramid.h"
#include "stylizer.h"

gboolean
sf_stylizer_coarse_size (int w, int h, int *cw, int *ch)
{
  int hw, hh;

  if (w <= 0 || h <= 0)
    return FALSE;
  /* (w + 1) / 2 without overflowing at G_MAXINT */
  hw = w / 2 + (w & 1);
  hh = h / 2 + (h & 1);
  if (hw < 16 || hh < 16)
    return FALSE;
  if (cw)
    *cw = hw;
  if (ch)
    *ch = hh;
  return TRUE;
}

/* ---- resampling -------------------------------------------------------- */

/* The filter along one axis: output sample i is the sum over k < stride
 * of w[i * stride + k] * input[idx[i * stride + k]]. */
typedef struct
{
  int stride;
  int *idx;
  float *w;
} Taps;

static void
taps_clear (Taps * t)
{
  g_free (t->idx);
  g_free (t->w);
  t->idx = NULL;
  t->w = NULL;
}

static gboolean
taps_alloc (Taps * t, int n, guint64 stride, GError ** error)
{
  gsize count, bytes;

  if (stride > G_MAXINT || !g_size_checked_mul (&count, n, stride)
      || !g_size_checked_mul (&bytes, count, MAX (sizeof (int),
              sizeof (float)))) {
    g_set_error (error, SF_ERROR, SF_ERROR_TOO_LARGE,
        "resampling filter of %d x %" G_GUINT64_FORMAT " taps is too large",
        n, stride);
    return FALSE;
  }
  t->stride = (int) stride;
  t->idx = g_try_new0 (int, count);
  t->w = g_try_new0 (float, count);
  if (!t->idx || !t->w) {
    taps_clear (t);
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "cannot allocate a resampling filter of %" G_GSIZE_FORMAT " taps",
        count);
    return FALSE;
  }
  return TRUE;
}

/* Keys' cubic convolution kernel, a = -0.5 (Catmull-Rom). */
static double
keys (double x)
{
  const double a = -0.5;

  x = fabs (x);
  if (x <= 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0)
    return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
  return 0.0;
}

/* Box filter: output i covers input [i s, (i + 1) s), s = src / dst; each
 * input pixel weighs the length it shares with that interval. */
static void
taps_fill_area (Taps * t, int src, int dst)
{
  double s = (double) src / dst;

  for (int i = 0; i < dst; i++) {
    double a = i * s, b = MIN ((i + 1) * s, (double) src);
    int j0 = (int) floor (a), k = 0;

    for (int j = j0; j < b && k < t->stride; j++, k++) {
      gsize at = (gsize) i * t->stride + k;
      t->idx[at] = MIN (j, src - 1);
      t->w[at] = (float) ((MIN (b, j + 1.0) - MAX (a, j)) / s);
    }
  }
}

/* Interpolation at pixel centres, u = (i + 1/2) s - 1/2, taps clamped to
 * the edge: 2 taps (linear) or 4 (Keys cubic). */
static void
taps_fill_interp (Taps * t, int src, int dst, gboolean cubic)
{
  double s = (double) src / dst;
  int lo = cubic ? -1 : 0;

  for (int i = 0; i < dst; i++) {
    double u = (i + 0.5) * s - 0.5;
    int j0 = (int) floor (u);
    double f = u - j0;

    for (int k = 0; k < t->stride; k++) {
      int j = j0 + lo + k;
      double d = f - (lo + k);
      gsize at = (gsize) i * t->stride + k;
      t->idx[at] = CLAMP (j, 0, src - 1);
      t->w[at] = (float) (cubic ? keys (d) : 1.0 - fabs (d));
    }
  }
}

static gboolean
taps_new (Taps * t, int src, int dst, SfResample filter, GError ** error)
{
  guint64 stride;

  if (filter == SF_RESAMPLE_AREA)
    stride = (guint64) ceil ((double) src / dst) + 1;
  else
    stride = filter == SF_RESAMPLE_BICUBIC ? 4 : 2;
  if (!taps_alloc (t, dst, stride, error))
    return FALSE;
  if (filter == SF_RESAMPLE_AREA)
    taps_fill_area (t, src, dst);
  else
    taps_fill_interp (t, src, dst, filter == SF_RESAMPLE_BICUBIC);
  return TRUE;
}

/* One channel: rows of src (sw x sh) into tmp (dw x sh), then columns of
 * tmp into dst (dw x dh). */
static void
resample_plane (const float *src, int sw, int sh, float *tmp, float *dst,
    int dw, int dh, const Taps * tx, const Taps * ty)
{
  for (int y = 0; y < sh; y++) {
    const float *row = src + (gsize) y * sw;
    for (int x = 0; x < dw; x++) {
      const int *ix = tx->idx + (gsize) x * tx->stride;
      const float *wx = tx->w + (gsize) x * tx->stride;
      float v = 0.0f;
      for (int k = 0; k < tx->stride; k++)
        v += wx[k] * row[ix[k]];
      tmp[(gsize) y * dw + x] = v;
    }
  }
  for (int y = 0; y < dh; y++) {
    const int *iy = ty->idx + (gsize) y * ty->stride;
    const float *wy = ty->w + (gsize) y * ty->stride;
    float *out = dst + (gsize) y * dw;
    for (int x = 0; x < dw; x++) {
      float v = 0.0f;
      for (int k = 0; k < ty->stride; k++)
        v += wy[k] * tmp[(gsize) iy[k] * dw + x];
      out[x] = v;
    }
  }
}

/* Checks the sizes; *plane_src, *plane_dst, *tmp_n get the element counts
 * of a source plane, a destination plane and the intermediate. */
static gboolean
check_sizes (int sw, int sh, int dw, int dh, gsize * plane_src,
    gsize * plane_dst, gsize * tmp_n, GError ** error)
{
  gsize bytes;

  if (sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "cannot resample %dx%d to %dx%d", sw, sh, dw, dh);
    return FALSE;
  }
  if (!g_size_checked_mul (plane_src, sw, sh)
      || !g_size_checked_mul (plane_dst, dw, dh)
      || !g_size_checked_mul (tmp_n, dw, sh)
      || !g_size_checked_mul (&bytes, *tmp_n, sizeof (float))
      || !g_size_checked_mul (&bytes, *plane_src, 3 * sizeof (float))
      || !g_size_checked_mul (&bytes, *plane_dst, 3 * sizeof (float))) {
    g_set_error (error, SF_ERROR, SF_ERROR_TOO_LARGE,
        "resampling %dx%d to %dx%d: the image is too large", sw, sh, dw, dh);
    return FALSE;
  }
  return TRUE;
}

gboolean
sf_pyramid_resample (const float *src, int sw, int sh, float *dst, int dw,
    int dh, SfResample filter, GError **error)
{
  Taps tx = { 0, }, ty = { 0, };
  gsize ps, pd, nt;
  float *tmp = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (src != NULL && dst != NULL, FALSE);
  if (!check_sizes (sw, sh, dw, dh, &ps, &pd, &nt, error)
      || !taps_new (&tx, sw, dw, filter, error)
      || !taps_new (&ty, sh, dh, filter, error))
    goto out;
  if (!(tmp = g_try_new (float, nt))) {
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "cannot allocate %" G_GSIZE_FORMAT " bytes to resample", nt * 4);
    goto out;
  }
  for (int c = 0; c < 3; c++)
    resample_plane (src + c * ps, sw, sh, tmp, dst + c * pd, dw, dh, &tx,
        &ty);
  if (filter == SF_RESAMPLE_BICUBIC)
    for (gsize i = 0; i < 3 * pd; i++)
      dst[i] = CLAMP (dst[i], 0.0f, 1.0f);
  ok = TRUE;
out:
  g_free (tmp);
  taps_clear (&tx);
  taps_clear (&ty);
  return ok;
}

/* ---- coarse to fine ---------------------------------------------------- */

static gboolean
check_pair (SfStylizer * st, SfStylizer * coarse, GError ** error)
{
  const char *why = NULL;

  if (!coarse || coarse == st || coarse->net != st->net)
    why = "the coarse stylizer must be another stylizer on the same network";
  else if (coarse->w > st->w || coarse->h > st->h)
    why = "the coarse stylizer is larger than the full-size one";
  else if (!st->has_content)
    why = "the content target is not set";
  else if (!coarse->has_style)
    why = "the coarse stylizer's style target is not set";
  if (why) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID, "coarse to fine: %s",
        why);
    return FALSE;
  }
  return TRUE;
}

/* A host image of st's size: st->n floats, the byte count checked. */
static float *
host_image (const SfStylizer * st, GError ** error)
{
  gsize bytes;
  float *v;

  if (st->n > G_MAXSIZE || !g_size_checked_mul (&bytes, st->n,
          sizeof (float))) {
    g_set_error (error, SF_ERROR, SF_ERROR_TOO_LARGE,
        "a %dx%d image is too large for host memory", st->w, st->h);
    return NULL;
  }
  if (!(v = g_try_malloc (bytes)))
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "cannot allocate %" G_GSIZE_FORMAT " bytes for a %dx%d image", bytes,
        st->w, st->h);
  return v;
}

/* Area-downsamples st's image buffer b (content or x: read as stored)
 * into small and hands it to set (coarse's content or image). */
static gboolean
downsample_to (SfStylizer * st, SfBuffer * b, SfStylizer * coarse,
    gboolean (*set) (SfStylizer *, const float *, GError **), float *full,
    float *small, GError ** error)
{
  return sf_stylizer_flush (st, error)
      && sf_buffer_download (st->dev, b, 0, full, st->n * sizeof (float),
      error)
      && sf_pyramid_resample (full, st->w, st->h, small, coarse->w,
      coarse->h, SF_RESAMPLE_AREA, error)
      && set (coarse, small, error);
}

/* The coarse stage: coarse optimised from st's content and image, its
 * result upsampled into st's image. */
static gboolean
coarse_stage (SfStylizer * st, SfStylizer * coarse, const SfParams * params,
    int iterations, float *full, float *small, GError ** error)
{
  return downsample_to (st, st->content, coarse, sf_stylizer_set_content,
      full, small, error)
      && downsample_to (st, st->x, coarse, sf_stylizer_set_image, full,
      small, error)
      && sf_stylizer_optimize (coarse, params, iterations, NULL, NULL, NULL,
      NULL, error)
      && sf_stylizer_get_image (coarse, small, error)
      && sf_pyramid_resample (small, coarse->w, coarse->h, full, st->w,
      st->h, SF_PYRAMID_UPSAMPLE, error)
      && sf_stylizer_set_image (st, full, error);
}

gboolean
sf_stylizer_optimize_coarse_to_fine (SfStylizer *st, SfStylizer *coarse,
    const SfParams *params, int coarse_iterations, int iterations,
    SfLossTerms *final, int *done, GError **error)
{
  float *full = NULL, *small = NULL;
  gboolean ok;

  g_return_val_if_fail (st != NULL && params != NULL, FALSE);
  if (coarse_iterations > 0) {
    ok = check_pair (st, coarse, error)
        && (full = host_image (st, error))
        && (small = host_image (coarse, error))
        && coarse_stage (st, coarse, params, coarse_iterations, full, small,
        error);
    g_free (full);
    g_free (small);
    if (!ok)
      return FALSE;
  }
  return sf_stylizer_optimize (st, params, iterations, NULL, NULL, final,
      done, error);
}
