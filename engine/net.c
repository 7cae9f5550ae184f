/* net.c - VGG-19 through relu5_1 on the GPU.
 *
 * Uploads the thirteen convolutions twice: packed for the forward kernel
 * and flipped 180 degrees with in/out channels swapped for the
 * input-gradient kernel, which is then the same convolution code.  Two
 * kernels exist (SfConvImpl): conv3x3.comp, direct, in blocks of eight
 * output channels, and conv_gemm.comp, an implicit GEMM over shared-memory
 * tiles of 64 channels x 8x8 pixels that also fuses the 2x2 pooling; each
 * layer's weights are packed for the kernel that records it.  Weights are
 * frozen, so the packing happens once per SfNet.  Also here: the per-size
 * activation buffers and the Gram matrices.
 */
#include <string.h>

#include "net.h"

void
sf_conv_grid (SfKernelId k, int w, int h, int cout, guint *gx, guint *gy)
{
  /* conv3x3_tx.comp: 8 pixels x 2 rows x 4 channels an invocation;
   * conv3x3.comp: SF_CONV_PX pixels x 8 channels */
  gboolean tx = k == SF_K_CONV_FWD_TX || k == SF_K_CONV_BWD_TX;
  guint64 n = tx ? (guint64) sf_div_up (w, 8) * sf_div_up (h, 2)
      * sf_div_up (cout, 4)
      : (guint64) sf_div_up (w, SF_CONV_PX) * h * sf_div_up (cout, 8);

  sf_grid_rows ((n + 63) / 64, SF_CONV_GRID_X, gx, gy);
}

gboolean
sf_net_pool_after (int i)
{
  return i == 1 || i == 3 || i == 7 || i == 11;
}

/* The kernels' weight k[o][i][t] (o: the kernel's output channel, i: its
 * input channel, t: tap).  Forward: w[o][i][t].  The input gradient
 * convolves the upstream gradient (cout channels) into cin channels with
 * the forward weights flipped 180 degrees: k[o][i][t] = w[i][o][8 - t]. */
static float
kernel_weight (const float *w, int cin, gboolean bwd, int o, int i, int t)
{
  if (!bwd)
    return w[((gsize) o * cin + i) * 9 + t];
  return w[((gsize) i * cin + o) * 9 + (8 - t)];
}

/* conv3x3.comp: p[((o / 8 * kin + i) * 9 + t) * 8 + o % 8] */
static float *
pack_direct (const float *w, int cin, int cout, gboolean bwd, gsize *n_out)
{
  int kin = bwd ? cout : cin, kout = bwd ? cin : cout;
  gsize n = (gsize) sf_div_up (kout, 8) * kin * 9 * 8;
  float *p = g_new0 (float, n);

  for (int o = 0; o < kout; o++)
    for (int i = 0; i < kin; i++)
      for (int t = 0; t < 9; t++)
        p[(((gsize) (o / 8) * kin + i) * 9 + t) * 8 + o % 8] =
            kernel_weight (w, cin, bwd, o, i, t);
  *n_out = n;
  return p;
}

/* conv_gemm.comp: blocks of 64 output channels by chunks of 8 input
 * channels, p[(((o / 64) * nchunk + i / 8) * 72 + (i % 8) * 9 + t) * 64
 * + o % 64], zero-padded. */
static float *
pack_gemm (const float *w, int cin, int cout, gboolean bwd, gsize *n_out)
{
  int kin = bwd ? cout : cin, kout = bwd ? cin : cout;
  int nchunk = sf_div_up (kin, 8);
  gsize n = (gsize) sf_div_up (kout, 64) * nchunk * 72 * 64;
  float *p = g_new0 (float, n);

  for (int o = 0; o < kout; o++)
    for (int i = 0; i < kin; i++)
      for (int t = 0; t < 9; t++)
        p[(((gsize) (o / 64) * nchunk + i / 8) * 72 + (i % 8) * 9 + t) * 64
            + o % 64] = kernel_weight (w, cin, bwd, o, i, t);
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

/* conv_gemm.comp's shared memory: 800 floats of input, 1152 vec4 of
 * weights */
#define SF_CONV_GEMM_SHARED_BYTES (800 * 4 + 1152 * 16)

static SfConvImpl
resolve_impl (SfDevice * dev, SfConvImpl impl)
{
  if (dev->props.limits.maxComputeSharedMemorySize
      < SF_CONV_GEMM_SHARED_BYTES) {
    if (impl == SF_CONV_GEMM)
      g_warning ("device %s has %u bytes of shared memory, the implicit-GEMM "
          "convolution needs %d: using the direct one", dev->name,
          dev->props.limits.maxComputeSharedMemorySize,
          SF_CONV_GEMM_SHARED_BYTES);
    return SF_CONV_DIRECT;
  }
  if (impl != SF_CONV_AUTO)
    return impl;
  /* On a CPU device (lavapipe) shared memory is ordinary memory reached by
   * per-lane gathers and every barrier splits the shader into coroutines:
   * there the direct kernel measured 2x faster (tests/bench, 64x64 and
   * 128x128; README, Performance).
   * GPUs get the tiled kernel. */
  return dev->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU ?
      SF_CONV_DIRECT : SF_CONV_GEMM;
}

/* Packs and uploads conv i's weights for the kernel each direction uses. */
static gboolean
upload_conv (SfNet * net, int i, const SfConvWeights * c, GError ** error)
{
  for (int bwd = 0; bwd < 2; bwd++) {
    int kout = bwd ? c->cin : c->cout;
    gboolean gemm = net->impl == SF_CONV_GEMM && kout >= 64;
    gsize n;
    float *p = gemm ? pack_gemm (c->weight, c->cin, c->cout, bwd, &n)
        : pack_direct (c->weight, c->cin, c->cout, bwd, &n);
    SfBuffer *b = upload_new (net->dev, p, n, error);

    g_free (p);
    if (!b)
      return FALSE;
    if (bwd) {
      net->wbwd[i] = b;
      net->bwd_gemm[i] = gemm;
    } else {
      net->wfwd[i] = b;
      net->fwd_gemm[i] = gemm;
    }
  }
  return TRUE;
}

SfNet *
sf_net_new (SfDevice *dev, const SfVggWeights *weights, SfPooling pooling,
    GError **error)
{
  return sf_net_new_full (dev, weights, pooling, SF_CONV_AUTO,
      SF_PRECISION_AUTO, error);
}

SfNet *
sf_net_new_with_options (SfDevice *dev, const SfVggWeights *weights,
    SfPooling pooling, const SfNetOptions *options, GError **error)
{
  return sf_net_new_full (dev, weights, pooling,
      options ? options->conv : SF_CONV_AUTO,
      options ? options->precision : SF_PRECISION_AUTO, error);
}

void
sf_net_options_from_env (const SfDevice *dev, SfNetOptions *options)
{
  const char *conv = g_getenv ("STYLEFILTER_CONV");
  const char *precision = g_getenv ("STYLEFILTER_PRECISION");

  options->conv = SF_CONV_AUTO;
  options->precision = SF_PRECISION_AUTO;
  if (conv && g_ascii_strcasecmp (conv, "direct") == 0)
    options->conv = SF_CONV_DIRECT;
  else if (conv && g_ascii_strcasecmp (conv, "gemm") == 0)
    options->conv = SF_CONV_GEMM;
  if (precision && g_ascii_strcasecmp (precision, "fp32") == 0)
    options->precision = SF_PRECISION_FP32;
  else if (precision && g_ascii_strcasecmp (precision, "fp16") == 0) {
    if (dev->features.fp16_storage)
      options->precision = SF_PRECISION_FP16;
    else
      g_warning ("STYLEFILTER_PRECISION=fp16: device %s has no 16-bit "
          "storage, using fp32", dev->name);
  }
}

/* fp16 where asked for (and possible), else fp32 */
static gboolean
resolve_precision (SfDevice * dev, SfPrecision precision, GError ** error)
{
  if (precision == SF_PRECISION_FP16 && !dev->features.fp16_storage) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "fp16 activations need 16-bit storage (storageBuffer16BitAccess), "
        "which device %s does not offer", dev->name);
    return FALSE;
  }
  return precision == SF_PRECISION_FP16;
}

SfKernelId
sf_net_kernel (const SfNet *net, SfKernelId k)
{
  SfKernelId t = sf_kernel_info[k].fp16_twin;

  return net->fp16 && t != SF_K_COUNT ? t : k;
}

SfKernelId
sf_net_kernel_choose (const SfNet *net, SfKernelId k, SfKernelId tx,
    SfBuffer *const *bufs, guint n_bufs)
{
  if (net->fp16)
    return sf_net_kernel (net, k);
  return sf_kernel_choose (net->dev, k, tx, bufs, n_bufs);
}

SfNet *
sf_net_new_full (SfDevice *dev, const SfVggWeights *weights,
    SfPooling pooling, SfConvImpl impl, SfPrecision precision, GError **error)
{
  SfNet *net = g_new0 (SfNet, 1);
  GError *perr = NULL;

  net->dev = dev;
  net->pooling = pooling;
  net->impl = resolve_impl (dev, impl);
  net->fp16 = resolve_precision (dev, precision, &perr);
  if (perr) {
    g_propagate_error (error, perr);
    g_free (net);
    return NULL;
  }
  g_debug ("convolution kernels: %s, activations %s", net->impl ==
      SF_CONV_GEMM ? "implicit GEMM (conv_gemm)" : "direct (conv3x3)",
      net->fp16 ? "fp16" : "fp32");
  for (int i = 0; i < SF_VGG_NUM_CONVS; i++) {
    const SfConvWeights *c = &weights->conv[i];

    if (c->cin != sf_vgg_conv_cin (i) || c->cout != sf_vgg_conv_cout (i)) {
      g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
          "convolution %d has %d -> %d channels, VGG-19 needs %d -> %d", i,
          c->cin, c->cout, sf_vgg_conv_cin (i), sf_vgg_conv_cout (i));
      goto fail;
    }
    net->cin[i] = c->cin;
    net->cout[i] = c->cout;
    if (!upload_conv (net, i, c, error))
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

/* An activation buffer of c x w x h values in the network's precision;
 * fp32_bytes gets the size it would have in fp32. */
static SfBuffer *
act_new (SfNet * net, int c, int w, int h, VkDeviceSize * fp32_bytes,
    GError ** error)
{
  VkDeviceSize bytes;

  if (!sf_size_floats (net->dev, c, w, h, &bytes, error))
    return NULL;
  if (fp32_bytes)
    *fp32_bytes = bytes;
  if (net->fp16)
    bytes = (bytes / 2 + 3) / 4 * 4;
  return sf_buffer_new (net->dev, bytes, SF_MEM_DEVICE, error);
}

SfActs *
sf_acts_new (SfNet *net, int w, int h, GError **error)
{
  SfActs *a = g_new0 (SfActs, 1);
  VkDeviceSize bytes;
  int cw = w, chh = h;
  guint64 part_floats = 0;

  if (w < 16 || h < 16) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "image size %dx%d is below the minimum of 16x16", w, h);
    g_free (a);
    return NULL;
  }
  a->w = w;
  a->h = h;
  if (!(a->norm = act_new (net, 3, w, h, NULL, error)))
    goto fail;
  for (int i = 0; i < SF_VGG_NUM_CONVS; i++) {
    guint64 parts;

    a->cw[i] = cw;
    a->ch[i] = chh;
    /* Gram scratch: the largest over the layers (C <= 512, splits <= 64) */
    parts = sf_gram_splits ((guint64) cw * chh);
    if (parts > 1)
      part_floats = MAX (part_floats, parts * net->cout[i] * net->cout[i]);
    if (!(a->act[i] = act_new (net, net->cout[i], cw, chh, &bytes, error)))
      goto fail;
    a->max_act_bytes = MAX (a->max_act_bytes, bytes);
    if (sf_net_pool_after (i)) {
      cw /= 2;
      chh /= 2;
      if (!(a->pooled[i] = act_new (net, net->cout[i], cw, chh, NULL, error)))
        goto fail;
    }
  }
  if (part_floats > 0
      && !(a->gram_part = sf_buffer_new_floats (net->dev, part_floats, 1, 1,
              error)))
    goto fail;
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
  sf_buffer_free (net->dev, a->gram_part);
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

  if (!sf_cmd_dispatch (dev, cb, sf_net_kernel (net, SF_K_IMGNORM), nb, 2,
          &pn, sizeof (pn),
          sf_div_up (3 * (guint64) pn.plane, 256), 1, 1, error))
    return FALSE;
  for (int i = 0; i <= last && i < SF_VGG_NUM_CONVS; i++) {
    SfBuffer *pooled = sf_net_pool_after (i) && i < last ? a->pooled[i] : NULL;
    if (!sf_net_record_conv (net, cb, i, a->cw[i], a->ch[i], conv_input (a, i),
            a->act[i], pooled, error))
      return FALSE;
  }
  return TRUE;
}

/* conv_gemm.comp's grid: 8x8 pixel tiles (x, y) by blocks of 64 channels */
static gboolean
dispatch_gemm (SfNet * net, VkCommandBuffer cb, gboolean bwd, int w, int h,
    int cin, int cout, int pool, SfBuffer ** b, GError ** error)
{
  struct { int32_t W, H, cin, cout, pool; } pc = { w, h, cin, cout, pool };

  return sf_cmd_dispatch (net->dev, cb, sf_net_kernel (net, bwd ?
          SF_K_CONV_GEMM_BWD : SF_K_CONV_GEMM_FWD), b, bwd ? 4 : 5, &pc,
      sizeof (pc), sf_div_up (w, 8), sf_div_up (h, 8), sf_div_up (cout, 64),
      error);
}

gboolean
sf_net_record_conv (SfNet *net, VkCommandBuffer cb, int i, int w, int h,
    SfBuffer *in, SfBuffer *act, SfBuffer *pooled, GError **error)
{
  SfDevice *dev = net->dev;
  struct { int32_t W, H, cin, cout; } pc = { w, h, net->cin[i], net->cout[i] };
  struct { int32_t W, H, avg; } pp = { w, h, net->pooling == SF_POOL_AVG };
  SfBuffer *b[5] = { in, net->wfwd[i], net->bias[i], act,
    pooled ? pooled : act };
  SfBuffer *pb[2] = { act, pooled };

  guint gx, gy;

  if (net->fwd_gemm[i])
    return dispatch_gemm (net, cb, FALSE, w, h, pc.cin, pc.cout,
        pooled ? 1 + pp.avg : 0, b, error);
  SfKernelId k = sf_net_kernel_choose (net, SF_K_CONV_FWD, SF_K_CONV_FWD_TX,
      b, 4);
  sf_conv_grid (k, w, h, pc.cout, &gx, &gy);
  if (!sf_cmd_dispatch (dev, cb, k, b, 4, &pc, sizeof (pc), gx, gy, 1,
          error))
    return FALSE;
  return !pooled || sf_cmd_dispatch (dev, cb, sf_net_kernel (net,
          SF_K_POOL_FWD), pb, 2, &pp,
      sizeof (pp), sf_div_up (w / 2, 8), sf_div_up (h / 2, 8), pc.cout, error);
}

/* g = act > 0 ? g : 0 over n values, in place (relu_mask.comp) */
static gboolean
record_relu_mask (SfNet * net, VkCommandBuffer cb, SfBuffer * act,
    SfBuffer * g, guint64 n, GError ** error)
{
  struct { int32_t n; } pc = { (int32_t) n };
  SfBuffer *b[3] = { act, g, g };
  guint gx, gy;
  SfKernelId k = sf_net_kernel_choose (net, SF_K_RELU_MASK,
      SF_K_RELU_MASK_TX, b, 3);

  sf_grid_rows ((n + 255) / 256, 1024, &gx, &gy);
  return sf_cmd_dispatch (net->dev, cb, k, b, k == SF_K_RELU_MASK_TX ? 3 : 2,
      &pc, sizeof (pc), gx, gy, 1, error);
}

gboolean
sf_net_record_conv_grad (SfNet *net, VkCommandBuffer cb, int i, int w, int h,
    SfBuffer *gout, SfBuffer *act, SfBuffer *gin, GError **error)
{
  /* the backward kernel's "cin" is the forward cout and vice versa */
  struct { int32_t W, H, cin, cout; } pc = { w, h, net->cout[i], net->cin[i] };
  SfBuffer *b[4] = { gout, net->wbwd[i], act, gin };
  guint gx, gy;

  if (net->bwd_gemm[i])
    return dispatch_gemm (net, cb, TRUE, w, h, pc.cin, pc.cout, 0, b, error);
  if (!record_relu_mask (net, cb, act, gout, (guint64) pc.cin * w * h,
          error))
    return FALSE;
  SfKernelId k = sf_net_kernel_choose (net, SF_K_CONV_BWD, SF_K_CONV_BWD_TX,
      b, 4);
  sf_conv_grid (k, w, h, pc.cout, &gx, &gy);
  return sf_cmd_dispatch (net->dev, cb, k, b, 4, &pc, sizeof (pc), gx, gy, 1,
      error);
}

gboolean
sf_net_record_conv_backward (SfNet *net, VkCommandBuffer cb, SfActs *a,
    int i, SfBuffer *gout, SfBuffer *gin, GError **error)
{
  return sf_net_record_conv_grad (net, cb, i, a->cw[i], a->ch[i], gout,
      a->act[i], gin, error);
}

gboolean
sf_net_record_pool_backward (SfNet *net, VkCommandBuffer cb, SfActs *a,
    int i, SfBuffer *gout, SfBuffer *gin, GError **error)
{
  struct { int32_t W, H, avg; } pp = { a->cw[i], a->ch[i],
    net->pooling == SF_POOL_AVG };
  SfBuffer *b[3] = { a->act[i], gout, gin };
  SfKernelId k = sf_net_kernel_choose (net, SF_K_POOL_BWD, SF_K_POOL_BWD_TX,
      b, 3);

  return sf_cmd_dispatch (net->dev, cb, k, b, 3, &pp, sizeof (pp),
      sf_div_up (pp.W, 8), sf_div_up (pp.H, 8), net->cout[i], error);
}

guint
sf_gram_splits (guint64 m)
{
  return (guint) CLAMP (m / SF_GRAM_PIXELS_PER_SPLIT, 1, SF_GRAM_MAX_SPLITS);
}

gboolean
sf_record_gram (SfDevice *dev, VkCommandBuffer cb, SfBuffer *f, gboolean f16,
    int c, int m, SfBuffer *part, SfBuffer *g, GError **error)
{
  guint splits = sf_gram_splits (m), blocks = sf_div_up (c, 4);
  float inv_m = 1.0f / (float) m;
  struct { int32_t C, M; float scale; int32_t kps; } pc = { c, m,
    splits > 1 ? 1.0f : inv_m, (int32_t) sf_div_up (m, splits) };
  struct { int32_t n, splits; float scale; } pr = { c * c, (int32_t) splits,
    inv_m };
  SfBuffer *b[2] = { f, splits > 1 ? part : g };
  SfBuffer *br[2] = { part, g };

  if (splits > 1 && (!part
          || part->size < (VkDeviceSize) splits * c * c * sizeof (float))) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "Gram of %d channels x %d pixels needs %u x %d x %d floats of "
        "scratch", c, m, splits, c, c);
    return FALSE;
  }
  /* gram_tx.comp: four pixels a fetch, the blocks on and above the
   * diagonal */
  SfKernelId k = f16 ? SF_K_GRAM16 : m % 4 ? SF_K_GRAM
      : sf_kernel_choose (dev, SF_K_GRAM, SF_K_GRAM_TX, b, 2);
  guint64 n_blocks = (guint64) blocks * blocks;
  if (k == SF_K_GRAM_TX) {
    pc.kps = (pc.kps + 3) / 4 * 4;
    n_blocks = (guint64) blocks * (blocks + 1) / 2;
  }
  if (!sf_cmd_dispatch (dev, cb, k, b, 2, &pc, sizeof (pc),
          sf_div_up (n_blocks, 64), splits, 1, error))
    return FALSE;
  return splits == 1 || sf_cmd_dispatch (dev, cb, SF_K_GRAM_REDUCE, br, 2, &pr,
      sizeof (pr), sf_div_up ((guint64) c * c, 256), 1, 1, error);
}

gboolean
sf_net_record_gram (SfNet *net, VkCommandBuffer cb, SfActs *a, int i,
    SfBuffer *g, GError **error)
{
  return sf_record_gram (net->dev, cb, a->act[i], net->fp16, net->cout[i],
      a->cw[i] * a->ch[i], a->gram_part, g, error);
}

