/* net.c - VGG-19 through relu5_1 on the GPU.
 *
 * Uploads the thirteen convolutions twice: packed for the forward kernel
 * (blocks of eight output channels) and flipped 180 degrees with in/out
 * channels swapped for the input-gradient kernel, which is then the same
 * convolution code.  Weights are frozen, so both packings happen once per
 * SfNet.  Also here: the per-size activation buffers and the small
 * reduction and vector helpers the stylizer records.
 */
#include <string.h>

#include "net.h"

guint
sf_conv_groups (int w, int h, int cout)
{
  guint64 n = (guint64) sf_div_up (w, SF_CONV_PX) * h * sf_div_up (cout, 8);
  return sf_div_up (n, 64);
}

gboolean
sf_net_pool_after (int i)
{
  return i == 1 || i == 3 || i == 7 || i == 11;
}

/* packed[((ob * cin + ci) * 9 + t) * 8 + j] = w[(ob*8+j)][ci][t] */
static float *
pack_forward (const float *w, int cin, int cout, gsize *n_out)
{
  int blocks = (cout + 7) / 8;
  gsize n = (gsize) blocks * cin * 9 * 8;
  float *p = g_new0 (float, n);

  for (int co = 0; co < cout; co++)
    for (int ci = 0; ci < cin; ci++)
      for (int t = 0; t < 9; t++)
        p[(((gsize) (co / 8) * cin + ci) * 9 + t) * 8 + co % 8] =
            w[((gsize) co * cin + ci) * 9 + t];
  *n_out = n;
  return p;
}

/* The backward kernel convolves the gradient (cout channels) into cin
 * channels with w'[ci][co][t] = w[co][ci][8 - t]. */
static float *
pack_backward (const float *w, int cin, int cout, gsize *n_out)
{
  int blocks = (cin + 7) / 8;
  gsize n = (gsize) blocks * cout * 9 * 8;
  float *p = g_new0 (float, n);

  for (int ci = 0; ci < cin; ci++)
    for (int co = 0; co < cout; co++)
      for (int t = 0; t < 9; t++)
        p[(((gsize) (ci / 8) * cout + co) * 9 + t) * 8 + ci % 8] =
            w[((gsize) co * cin + ci) * 9 + (8 - t)];
  *n_out = n;
  return p;
}

static SfBuffer *
upload_new (SfDevice * dev, const float *data, gsize n, GError ** error)
{
  SfBuffer *b = sf_buffer_new (dev, MAX (n, 4) * sizeof (float),
      SF_MEM_DEVICE, error);

  if (b && !sf_buffer_upload (dev, b, 0, data, n * sizeof (float), error)) {
    sf_buffer_free (dev, b);
    return NULL;
  }
  return b;
}

SfNet *
sf_net_new (SfDevice *dev, const SfVggWeights *weights, SfPooling pooling,
    GError **error)
{
  SfNet *net = g_new0 (SfNet, 1);

  net->dev = dev;
  net->pooling = pooling;
  for (int i = 0; i < SF_VGG_NUM_CONVS; i++) {
    const SfConvWeights *c = &weights->conv[i];
    gsize n;
    float *p;

    if (c->cin != sf_vgg_conv_cin (i) || c->cout != sf_vgg_conv_cout (i)) {
      g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
          "convolution %d has %d -> %d channels, VGG-19 needs %d -> %d", i,
          c->cin, c->cout, sf_vgg_conv_cin (i), sf_vgg_conv_cout (i));
      goto fail;
    }
    net->cin[i] = c->cin;
    net->cout[i] = c->cout;
    p = pack_forward (c->weight, c->cin, c->cout, &n);
    net->wfwd[i] = upload_new (dev, p, n, error);
    g_free (p);
    if (!net->wfwd[i])
      goto fail;
    p = pack_backward (c->weight, c->cin, c->cout, &n);
    net->wbwd[i] = upload_new (dev, p, n, error);
    g_free (p);
    if (!net->wbwd[i])
      goto fail;
    net->bias[i] = upload_new (dev, c->bias, c->cout, error);
    if (!net->bias[i])
      goto fail;
  }
  return net;

fail:
  sf_net_free (net);
  return NULL;
}

void
sf_net_free (SfNet *net)
{
  if (!net)
    return;
  for (int i = 0; i < SF_VGG_NUM_CONVS; i++) {
    sf_buffer_free (net->dev, net->wfwd[i]);
    sf_buffer_free (net->dev, net->wbwd[i]);
    sf_buffer_free (net->dev, net->bias[i]);
  }
  g_free (net);
}

SfActs *
sf_acts_new (SfNet *net, int w, int h, GError **error)
{
  SfActs *a = g_new0 (SfActs, 1);
  VkDeviceSize bytes;
  int cw = w, chh = h;

  if (w < 16 || h < 16) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "image size %dx%d is below the minimum of 16x16", w, h);
    g_free (a);
    return NULL;
  }
  a->w = w;
  a->h = h;
  if (!sf_size_floats (net->dev, 3, w, h, &bytes, error)
      || !(a->norm = sf_buffer_new (net->dev, bytes, SF_MEM_DEVICE, error)))
    goto fail;
  for (int i = 0; i < SF_VGG_NUM_CONVS; i++) {
    a->cw[i] = cw;
    a->ch[i] = chh;
    if (!sf_size_floats (net->dev, net->cout[i], cw, chh, &bytes, error)
        || !(a->act[i] = sf_buffer_new (net->dev, bytes, SF_MEM_DEVICE,
                error)))
      goto fail;
    a->max_act_bytes = MAX (a->max_act_bytes, bytes);
    if (sf_net_pool_after (i)) {
      cw /= 2;
      chh /= 2;
      if (!sf_size_floats (net->dev, net->cout[i], cw, chh, &bytes, error)
          || !(a->pooled[i] = sf_buffer_new (net->dev, bytes, SF_MEM_DEVICE,
                  error)))
        goto fail;
    }
  }
  return a;

fail:
  sf_acts_free (net, a);
  return NULL;
}

void
sf_acts_free (SfNet *net, SfActs *a)
{
  if (!a)
    return;
  sf_buffer_free (net->dev, a->norm);
  for (int i = 0; i < SF_VGG_NUM_CONVS; i++) {
    sf_buffer_free (net->dev, a->act[i]);
    sf_buffer_free (net->dev, a->pooled[i]);
  }
  g_free (a);
}

static SfBuffer *
conv_input (SfActs * a, int i)
{
  if (i == 0)
    return a->norm;
  return sf_net_pool_after (i - 1) ? a->pooled[i - 1] : a->act[i - 1];
}

gboolean
sf_net_record_forward (SfNet *net, VkCommandBuffer cb, SfActs *a,
    SfBuffer *image, int last, GError **error)
{
  SfDevice *dev = net->dev;
  struct { int32_t plane, mode; } pn = { a->w * a->h, 0 };
  SfBuffer *nb[2] = { image, a->norm };

  if (!sf_cmd_dispatch (dev, cb, SF_K_IMGNORM, nb, 2, &pn, sizeof (pn),
          sf_div_up (3 * (guint64) pn.plane, 256), 1, 1, error))
    return FALSE;
  for (int i = 0; i <= last && i < SF_VGG_NUM_CONVS; i++) {
    struct { int32_t W, H, cin, cout; } pc = {
      a->cw[i], a->ch[i], net->cin[i], net->cout[i] };
    SfBuffer *b[4] = { conv_input (a, i), net->wfwd[i], net->bias[i],
      a->act[i] };
    if (!sf_cmd_dispatch (dev, cb, SF_K_CONV_FWD, b, 4, &pc, sizeof (pc),
            sf_conv_groups (pc.W, pc.H, pc.cout), 1, 1, error))
      return FALSE;
    if (sf_net_pool_after (i) && i < last) {
      struct { int32_t W, H, avg; } pp = { a->cw[i], a->ch[i],
        net->pooling == SF_POOL_AVG };
      SfBuffer *pb[2] = { a->act[i], a->pooled[i] };
      if (!sf_cmd_dispatch (dev, cb, SF_K_POOL_FWD, pb, 2, &pp, sizeof (pp),
              sf_div_up (pp.W / 2, 8), sf_div_up (pp.H / 2, 8), net->cout[i],
              error))
        return FALSE;
    }
  }
  return TRUE;
}

gboolean
sf_net_record_conv_backward (SfNet *net, VkCommandBuffer cb, SfActs *a,
    int i, SfBuffer *gout, SfBuffer *gin, GError **error)
{
  /* the backward kernel's "cin" is the forward cout and vice versa */
  struct { int32_t W, H, cin, cout; } pc = {
    a->cw[i], a->ch[i], net->cout[i], net->cin[i] };
  SfBuffer *b[4] = { gout, net->wbwd[i], a->act[i], gin };

  return sf_cmd_dispatch (net->dev, cb, SF_K_CONV_BWD, b, 4, &pc, sizeof (pc),
      sf_conv_groups (pc.W, pc.H, pc.cout), 1, 1, error);
}

gboolean
sf_net_record_pool_backward (SfNet *net, VkCommandBuffer cb, SfActs *a,
    int i, SfBuffer *gout, SfBuffer *gin, GError **error)
{
  struct { int32_t W, H, avg; } pp = { a->cw[i], a->ch[i],
    net->pooling == SF_POOL_AVG };
  SfBuffer *b[3] = { a->act[i], gout, gin };

  return sf_cmd_dispatch (net->dev, cb, SF_K_POOL_BWD, b, 3, &pp, sizeof (pp),
      sf_div_up (pp.W, 8), sf_div_up (pp.H, 8), net->cout[i], error);
}

gboolean
sf_net_record_gram (SfNet *net, VkCommandBuffer cb, SfActs *a, int i,
    SfBuffer *g, GError **error)
{
  int C = net->cout[i], M = a->cw[i] * a->ch[i];
  struct { int32_t C, M; float inv_m; } pc = { C, M, 1.0f / (float) M };
  SfBuffer *b[2] = { a->act[i], g };

  guint blocks = sf_div_up (C, 4);

  return sf_cmd_dispatch (net->dev, cb, SF_K_GRAM, b, 2, &pc, sizeof (pc),
      sf_div_up ((guint64) blocks * blocks, 64), 1, 1, error);
}

guint
sf_reduce_groups (guint64 n)
{
  return (guint) CLAMP (sf_div_up (n, 256), 1, SF_PARTIALS);
}

gboolean
sf_record_dot (SfDevice *dev, VkCommandBuffer cb, SfBuffer *a, SfBuffer *b,
    guint64 n, SfReduceMode mode, SfBuffer *partials, int slot,
    GError **error)
{
  struct { int32_t n, mode, off; } pc = { (int32_t) n, mode,
    slot * SF_PARTIALS };
  SfBuffer *bufs[3] = { a, b ? b : a, partials };

  return sf_cmd_dispatch (dev, cb, SF_K_DOT, bufs, 3, &pc, sizeof (pc),
      sf_reduce_groups (n), 1, 1, error);
}

double
sf_partials_fold (SfBuffer *partials, int slot, guint64 n, gboolean absmax)
{
  const float *p = (const float *) partials->mapped + slot * SF_PARTIALS;
  guint groups = sf_reduce_groups (n);
  double s = 0.0;

  for (guint i = 0; i < groups; i++)
    s = absmax ? MAX (s, p[i]) : s + p[i];
  return s;
}

static gboolean
record_axpby (SfDevice * dev, VkCommandBuffer cb, double a, SfBuffer * x,
    double b, SfBuffer * y, guint64 n, gboolean clamp01, GError ** error)
{
  struct { int32_t n; float a, b; int32_t clamp01; } pc = { (int32_t) n,
    (float) a, (float) b, clamp01 };
  SfBuffer *bufs[2] = { x ? x : y, y };

  return sf_cmd_dispatch (dev, cb, SF_K_AXPBY, bufs, 2, &pc, sizeof (pc),
      sf_div_up (n, 256), 1, 1, error);
}

gboolean
sf_record_axpby (SfDevice *dev, VkCommandBuffer cb, double a, SfBuffer *x,
    double b, SfBuffer *y, guint64 n, GError **error)
{
  return record_axpby (dev, cb, a, x, b, y, n, FALSE, error);
}

gboolean
sf_record_copy (SfDevice *dev, VkCommandBuffer cb, SfBuffer *src,
    SfBuffer *dst, guint64 n, gboolean clamp01, GError **error)
{
  return record_axpby (dev, cb, 1.0, src, 0.0, dst, n, clamp01, error);
}
