/* styles.c - the style target: the Gram matrices of each style image,
 * cached per style, and their weighted blend (neural-style's
 * -style_blend_weights: A_l = sum_i w_i G_l(s_i), weights normalised to sum
 * 1).  A change of the blend weights re-blends the cached Grams on the GPU
 * without another VGG pass; only a new image runs one.
 */
#include <math.h>

#include "stylizer.h"

/* Style `index`'s Gram buffers, made on first use. */
static gboolean
ensure_style_grams (SfStylizer * st, guint index, GError ** error)
{
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    int c = st->net->cout[sf_style_convs[l]];
    if (!st->style_grams[index][l]
        && !(st->style_grams[index][l] = sf_buffer_new_floats (st->dev, c, c,
                1, error)))
      return FALSE;
  }
  return TRUE;
}

gboolean
sf_stylizer_set_style_image (SfStylizer *st, guint index, const float *rgb,
    int width, int height, GError **error)
{
  SfActs *a = NULL;
  SfBuffer *img = NULL;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  gboolean ok = FALSE;

  if (index >= SF_MAX_STYLES) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "style %u: at most %d styles", index, SF_MAX_STYLES);
    return FALSE;
  }
  if (!sf_stylizer_flush (st, error) || !ensure_style_grams (st, index, error)
      || !(a = sf_acts_new (st->net, width, height, error)))
    return FALSE;
  st->style_set[index] = FALSE;
  if (!(img = sf_buffer_new_floats (st->dev, 3, width, height, error))
      || !sf_buffer_upload (st->dev, img, 0, rgb,
          3 * (gsize) width * height * sizeof (float), error)
      || !sf_cmd_begin (st->dev, &cb, error))
    goto out;
  if (!sf_net_record_forward (st->net, cb, a, img, SF_VGG_NUM_CONVS - 1,
          error))
    goto out;
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++)
    if (!sf_net_record_gram (st->net, cb, a, sf_style_convs[l],
            st->style_grams[index][l], error))
      goto out;
  ok = sf_cmd_submit_wait (st->dev, &cb, 1, TRUE, error);
  cb = VK_NULL_HANDLE;
  st->style_passes++;
  st->style_set[index] = ok;
out:
  sf_cmd_free (st->dev, cb);
  sf_buffer_free (st->dev, img);
  sf_acts_free (st->net, a);
  return ok;
}

static gboolean
check_blend (const SfStylizer * st, const double *weights, guint n,
    double *sum, GError ** error)
{
  *sum = 0.0;
  if (n == 0 || n > SF_MAX_STYLES || !weights) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "blend of %u styles: give 1 to %d", n, SF_MAX_STYLES);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    if (!st->style_set[i]) {
      g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
          "blend: style %u is not set", i);
      return FALSE;
    }
    if (!(weights[i] >= 0.0) || !isfinite (weights[i])) {
      g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
          "blend: weight %u is %g, not a finite number >= 0", i, weights[i]);
      return FALSE;
    }
    *sum += weights[i];
  }
  if (!(*sum > 0.0) || !isfinite (*sum)) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "blend: the weights sum to %g; at least one must be above 0", *sum);
    return FALSE;
  }
  return TRUE;
}

gboolean
sf_stylizer_blend_styles (SfStylizer *st, const double *weights, guint n,
    GError **error)
{
  VkCommandBuffer cb = VK_NULL_HANDLE;
  double sum;
  gboolean ok;

  if (!check_blend (st, weights, n, &sum, error)
      || !sf_stylizer_flush (st, error) || !sf_cmd_begin (st->dev, &cb, error))
    return FALSE;
  /* a new problem: the curvature of the old one does not carry over */
  sf_stylizer_forget_history (st);
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    guint64 c = st->net->cout[sf_style_convs[l]];
    /* target = w0 G0, then += wi Gi; weight 1 copies exactly, 0 reads
     * nothing (axpby.comp) */
    for (guint i = 0; i < n; i++)
      if (!sf_record_axpby (st->dev, cb, weights[i] / sum,
              st->style_grams[i][l], i == 0 ? 0.0 : 1.0, st->style_gram[l],
              c * c, error))
        goto fail;
    if (!sf_record_dot (st->dev, cb, st->style_gram[l], st->style_gram[l],
            c * c, SF_VEC_DOT, st->partials, SLOT_STYLE + l, error))
      goto fail;
  }
  ok = sf_cmd_submit_wait (st->dev, &cb, 1, TRUE, error);
  if (ok) {
    for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
      guint64 c = st->net->cout[sf_style_convs[l]];
      st->style_norm[l] = sf_partials_fold (st->partials, SLOT_STYLE + l,
          c * c, FALSE);
    }
  }
  st->has_style = ok;
  return ok;

fail:
  sf_cmd_free (st->dev, cb);
  return FALSE;
}

gboolean
sf_stylizer_set_style (SfStylizer *st, const float *rgb, int width,
    int height, GError **error)
{
  const double one = 1.0;

  return sf_stylizer_set_style_image (st, 0, rgb, width, height, error)
      && sf_stylizer_blend_styles (st, &one, 1, error);
}

guint
sf_stylizer_get_style_passes (const SfStylizer *st)
{
  return st->style_passes;
}
