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

G_BEGIN_DECLS

struct SfNet
{
  SfDevice *dev;
  SfPooling pooling;
  int cin[SF_VGG_NUM_CONVS];
  int cout[SF_VGG_NUM_CONVS];
  SfBuffer *wfwd[SF_VGG_NUM_CONVS];     /* packed for conv_fwd */
  SfBuffer *wbwd[SF_VGG_NUM_CONVS];     /* flipped, transposed, for conv_bwd */
  SfBuffer *bias[SF_VGG_NUM_CONVS];
};

/* Activations of one input size. */
typedef struct
{
  int w, h;                             /* input image */
  int cw[SF_VGG_NUM_CONVS];             /* size of conv i's input and output */
  int ch[SF_VGG_NUM_CONVS];
  SfBuffer *norm;                       /* normalised input [3][h][w] */
  SfBuffer *act[SF_VGG_NUM_CONVS];      /* post-ReLU output of conv i */
  SfBuffer *pooled[SF_VGG_NUM_CONVS];   /* pooling output after conv i, or NULL */
  VkDeviceSize max_act_bytes;           /* largest act or pooled buffer */
} SfActs;

/* Pixels per invocation of conv3x3.comp (its PX) and the number of 64-wide
 * workgroups a w x h convolution into cout channels needs. */
#define SF_CONV_PX 8
guint sf_conv_groups (int w, int h, int cout);

/* TRUE when a pooling follows conv i. */
gboolean sf_net_pool_after (int i);

/* Allocates the activations for a w x h input (>= 16 x 16). */
SfActs *sf_acts_new (SfNet *net, int w, int h, GError **error);
void sf_acts_free (SfNet *net, SfActs *a);

/* Records normalisation of image and the forward pass through conv `last`. */
gboolean sf_net_record_forward (SfNet *net, VkCommandBuffer cb, SfActs *a,
    SfBuffer *image, int last, GError **error);

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

/* Partials: a host buffer of SF_PARTIAL_SLOTS slots of SF_PARTIALS floats;
 * reductions write one partial per workgroup into a slot. */
#define SF_PARTIALS 128
#define SF_PARTIAL_SLOTS 16
guint sf_reduce_groups (guint64 n);

typedef enum
{
  SF_REDUCE_DOT = 0,            /* sum a . b */
  SF_REDUCE_ABSMAX = 1,         /* max |a| */
  SF_REDUCE_ASUM = 2,           /* sum |a| */
} SfReduceMode;

/* Records partials of the reduction `mode` of a (and b) into slot. */
gboolean sf_record_dot (SfDevice *dev, VkCommandBuffer cb, SfBuffer *a,
    SfBuffer *b, guint64 n, SfReduceMode mode, SfBuffer *partials, int slot,
    GError **error);
/* Sums (or maxes) the partials of slot that n elements produced. */
double sf_partials_fold (SfBuffer *partials, int slot, guint64 n,
    gboolean absmax);

/* Records y = a x + b y over n floats. */
/* Records dst = src over n floats, clamped to [0,1] with clamp01. */
gboolean sf_record_copy (SfDevice *dev, VkCommandBuffer cb, SfBuffer *src,
    SfBuffer *dst, guint64 n, gboolean clamp01, GError **error);
gboolean sf_record_axpby (SfDevice *dev, VkCommandBuffer cb, double a,
    SfBuffer *x, double b, SfBuffer *y, guint64 n, GError **error);

G_END_DECLS
#endif /* SF_NET_H */
