/* net.h - VGG-19 through relu5_1 on the GPU: weights, activations of one
 * image size, and the recording of each layer's forward and backward.
 *
 * Layer plan: conv i (i = 0..12) is a 3x3 convolution + bias + ReLU; a 2x2
 * pooling follows conv 1, 3, 7 and 11.  The stylizer composes the backward
 * pass from these pieces because the losses attach in between.
 */
#ifndef SF_NET_H
#define SF_NET_H

#include "gpu.h"
#include "record.h"

G_BEGIN_DECLS

/* SfConvImpl, SfPrecision and SfNetOptions are public (sf-engine.h). */

struct SfNet
{
  SfDevice *dev;
  SfPooling pooling;
  SfConvImpl impl;                      /* DIRECT or GEMM, never AUTO */
  gboolean fp16;                        /* activations stored as fp16 */
  int cin[SF_VGG_NUM_CONVS];
  int cout[SF_VGG_NUM_CONVS];
  /* per layer and direction: TRUE when conv_gemm records it (a GEMM net
   * still convolves into fewer than 64 channels, conv 0's input gradient,
   * directly) */
  gboolean fwd_gemm[SF_VGG_NUM_CONVS];
  gboolean bwd_gemm[SF_VGG_NUM_CONVS];
  SfBuffer *wfwd[SF_VGG_NUM_CONVS];     /* packed for the forward kernel */
  SfBuffer *wbwd[SF_VGG_NUM_CONVS];     /* flipped, transposed, for the input gradient */
  SfBuffer *bias[SF_VGG_NUM_CONVS];
};

/* sf_net_new with a chosen convolution implementation and precision
 * (SF_PRECISION_FP16 on a device without 16-bit storage: SF_ERROR_INVALID). */
SfNet *sf_net_new_full (SfDevice *dev, const SfVggWeights *weights,
    SfPooling pooling, SfConvImpl impl, SfPrecision precision,
    GError **error);

/* The kernel that reads or writes this network's activations in place of
 * the fp32 kernel k (its ACT16 variant when net->fp16). */
SfKernelId sf_net_kernel (const SfNet *net, SfKernelId k);
/* The kernel for k with these buffers: sf_net_kernel's fp16 twin, or
 * for fp32 sf_kernel_choose's answer between k and its texel twin tx. */
SfKernelId sf_net_kernel_choose (const SfNet *net, SfKernelId k,
    SfKernelId tx, SfBuffer *const *bufs, guint n_bufs);

/* Activations of one input size. */
typedef struct
{
  int w, h;                             /* input image */
  int cw[SF_VGG_NUM_CONVS];             /* size of conv i's input and output */
  int ch[SF_VGG_NUM_CONVS];
  SfBuffer *norm;                       /* normalised input [3][h][w] */
  SfBuffer *act[SF_VGG_NUM_CONVS];      /* post-ReLU output of conv i */
  SfBuffer *pooled[SF_VGG_NUM_CONVS];   /* pooling output after conv i, or NULL */
  VkDeviceSize max_act_bytes;           /* largest act or pooled buffer, as fp32
                                         * (the size of a gradient scratch) */
  SfBuffer *gram_part;                  /* split Gram scratch, or NULL */
} SfActs;

/* Pixels per invocation of conv3x3.comp (its PX); the grid of 64-wide
 * workgroups a w x h convolution into cout channels needs with kernel k
 * (conv3x3.comp's blocks, or conv3x3_tx.comp's for SF_K_CONV_*_TX), laid
 * out as rows of at most SF_CONV_GRID_X so that large images stay within
 * the workgroup counts devices allow (65535 per dimension on many). */
#define SF_CONV_PX 8
#define SF_CONV_GRID_X 32
void sf_conv_grid (SfKernelId k, int w, int h, int cout, guint *gx,
    guint *gy);

/* TRUE when a pooling follows conv i. */
gboolean sf_net_pool_after (int i);

/* Allocates the activations for a w x h input (>= 16 x 16). */
SfActs *sf_acts_new (SfNet *net, int w, int h, GError **error);
void sf_acts_free (SfNet *net, SfActs *a);

/* Records normalisation of image and the forward pass through conv `last`. */
gboolean sf_net_record_forward (SfNet *net, VkCommandBuffer cb, SfActs *a,
    SfBuffer *image, int last, GError **error);

/* Records conv i (+ bias + ReLU) of a w x h input `in` into `act`; with
 * `pooled` non-NULL also the network's 2x2 pooling of act into pooled
 * (fused into the convolution where the GEMM kernel records it). */
gboolean sf_net_record_conv (SfNet *net, VkCommandBuffer cb, int i, int w,
    int h, SfBuffer *in, SfBuffer *act, SfBuffer *pooled, GError **error);

/* Records gin = d/d(input of conv i) at w x h from gout = d/d(output of
 * conv i), masked by the ReLU of the forward output act.  The direct
 * kernel masks gout in place first: gout is clobbered. */
gboolean sf_net_record_conv_grad (SfNet *net, VkCommandBuffer cb, int i,
    int w, int h, SfBuffer *gout, SfBuffer *act, SfBuffer *gin,
    GError **error);

/* Records gin = d/d(input of conv i) from gout = d/d(act[i]) (the ReLU mask
 * from act[i] applied). */
gboolean sf_net_record_conv_backward (SfNet *net, VkCommandBuffer cb,
    SfActs *a, int i, SfBuffer *gout, SfBuffer *gin, GError **error);

/* Records gin = d/d(act[i]) from gout = d/d(pooled[i]). */
gboolean sf_net_record_pool_backward (SfNet *net, VkCommandBuffer cb,
    SfActs *a, int i, SfBuffer *gout, SfBuffer *gin, GError **error);

/* Records the Gram matrix of act[i] into g ([C][C]). */
gboolean sf_net_record_gram (SfNet *net, VkCommandBuffer cb, SfActs *a,
    int i, SfBuffer *g, GError **error);

/* The Gram matrix G = F F^T / M of f ([C][M]) is summed in `splits` slices
 * of pixels (gram.comp), then the slices are added (gram_reduce.comp) from
 * a scratch `part` of splits * C * C floats; one split writes G directly.
 * Splits: one per SF_GRAM_PIXELS_PER_SPLIT pixels, at most
 * SF_GRAM_MAX_SPLITS. */
#define SF_GRAM_PIXELS_PER_SPLIT 2048
#define SF_GRAM_MAX_SPLITS 64
guint sf_gram_splits (guint64 m);

/* style_grad_tx.comp's blocks (its RB, PB): 4 SF_STYLE_GRAD_TX_RB rows by
 * 4 SF_STYLE_GRAD_TX_PB pixels an invocation; the invocations it needs
 * for c channels of m pixels (both multiples of 4). */
#define SF_STYLE_GRAD_TX_RB 2
#define SF_STYLE_GRAD_TX_PB 2
static inline guint64
sf_style_grad_tx_invocations (int c, int m)
{
  return (guint64) sf_div_up (m / 4, SF_STYLE_GRAD_TX_PB)
      * sf_div_up (c / 4, SF_STYLE_GRAD_TX_RB);
}
gboolean sf_record_gram (SfDevice *dev, VkCommandBuffer cb, SfBuffer *f,
    gboolean f16, int c, int m, SfBuffer *part, SfBuffer *g, GError **error);


G_END_DECLS
#endif /* SF_NET_H */
