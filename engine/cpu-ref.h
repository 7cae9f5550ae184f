/* cpu-ref.h - plain-C reference of everything the GPU computes.
 *
 * Straightforward loops in double precision, written for clarity rather than
 * speed: the tests compare every GPU kernel against these functions, and
 * these functions against finite differences.  Tensors are [C][H][W]
 * row-major; the weight layout is [cout][cin][3][3] as in SfConvWeights.
 */
#ifndef SF_CPU_REF_H
#define SF_CPU_REF_H

#include "sf-types.h"
#include "../models/sf-weights.h"

G_BEGIN_DECLS

/* Output size of 2x2/stride-2 pooling (floor, like PyTorch's default). */
static inline int sf_ref_pool_dim (int n) { return n / 2; }

/* 3x3 convolution, padding 1, stride 1: out[co] = bias[co] + sum W * in;
 * with relu != 0 the ReLU is applied. */
void sf_ref_conv3x3_forward (const double *in, int cin, int h, int w,
    const float *weight, const float *bias, int cout, int relu, double *out);

/* Gradient with respect to the input of the same layer.  gout is the
 * gradient with respect to the layer's output; if out_relu is not NULL it is
 * the layer's (post-ReLU) output and the ReLU mask (out_relu > 0) is applied
 * to gout first.  gin gets [cin][h][w] (overwritten). */
void sf_ref_conv3x3_backward_input (const double *gout, const double *out_relu,
    int cin, int h, int w, const float *weight, int cout, double *gin);

/* 2x2 stride-2 pooling, max or average; out is [c][h/2][w/2]. */
void sf_ref_pool_forward (const double *in, int c, int h, int w,
    SfPooling pool, double *out);

/* Its backward: gin [c][h][w] (overwritten; rows/cols past 2*(h/2) get 0).
 * Max routes the gradient to the first maximum of each window in row-major
 * order, as PyTorch does. */
void sf_ref_pool_backward (const double *in, const double *gout, int c, int h,
    int w, SfPooling pool, double *gin);

/* Gram matrix g[c][c] = F F^T / m, F = [c][m]. */
void sf_ref_gram (const double *f, int c, int m, double *g);

/* The whole loss at one image, exactly as README / torch_gatys.py define it:
 *   x, content, style: planar RGB in [0,1]; x and content are w x h, style is
 *   sw x sh.  Returns total; fills terms (if not NULL) and grad [3][h][w]
 *   (if not NULL) with d total / d x.  temporal is ignored here (0). */
double sf_ref_loss (const SfVggWeights *wts, SfPooling pool,
    const float *x, const float *content, int w, int h,
    const float *style, int sw, int sh,
    const SfLossWeights *weights, SfLossTerms *terms, double *grad);

/* The same with several style images blended (README "The loss"): the
 * style target at each layer is sum_i blend[i] / sum (blend) G(styles[i]);
 * styles[i] is sw[i] x sh[i]; blend >= 0, not all 0. */
double sf_ref_loss_blend (const SfVggWeights *wts, SfPooling pool,
    const float *x, const float *content, int w, int h, guint n_styles,
    const float *const *styles, const int *sw, const int *sh,
    const double *blend, const SfLossWeights *weights, SfLossTerms *terms,
    double *grad);

/* Forward of the network through relu5_1 on a planar RGB image in [0,1]
 * (normalised inside).  feats[k] (k = 0..12), if not NULL, receives a newly
 * g_malloc'ed copy of the post-ReLU output of conv k, with its size in
 * fc[k], fh[k], fw[k]; the caller g_free()s them. */
void sf_ref_vgg_forward (const SfVggWeights *wts, SfPooling pool,
    const float *img, int w, int h, double **feats, int *fc, int *fh, int *fw);

G_END_DECLS
#endif /* SF_CPU_REF_H */
