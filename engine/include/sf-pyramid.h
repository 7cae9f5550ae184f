/* sf-pyramid.h - coarse-to-fine optimisation of a frame that starts afresh
 * (engine/pyramid.c): half size first, then full size from the upsampled
 * half-size result, as neural-style's multi-resolution scripts do; and the
 * host resamplers it uses (planar RGB float images). */
#ifndef SF_PYRAMID_H
#define SF_PYRAMID_H

#include "sf-engine.h"

G_BEGIN_DECLS

/* The coarse level of a w x h image: half of each side, rounded ((w + 1)
 * / 2).  FALSE (and *cw, *ch untouched) when a side is not positive or
 * either half would fall below 16, the network's smallest input: no
 * pyramid then. */
gboolean sf_stylizer_coarse_size (int w, int h, int *cw, int *ch);

typedef enum
{
  SF_RESAMPLE_AREA = 0,         /* box filter: each output pixel is the
                                 * mean of the input area it covers (down) */
  SF_RESAMPLE_BILINEAR,         /* pixel centres, edges clamped (up) */
  SF_RESAMPLE_BICUBIC,          /* Keys a = -0.5, clamped to [0,1] (up) */
} SfResample;

/* Resamples a planar RGB image ([3][sh][sw]) to dst ([3][dh][dw]).
 * SF_ERROR_INVALID for a side that is not positive, SF_ERROR_TOO_LARGE
 * where a size does not fit in memory sizes, SF_ERROR_OUT_OF_MEMORY. */
gboolean sf_pyramid_resample (const float *src, int sw, int sh, float *dst,
    int dw, int dh, SfResample filter, GError **error);

/* The upsampling sf_stylizer_optimize_coarse_to_fine uses. */
#define SF_PYRAMID_UPSAMPLE SF_RESAMPLE_BICUBIC

/* Optimises st's image coarse to fine.  coarse is a stylizer on the same
 * SfNet, no larger than st (sf_stylizer_coarse_size gives the usual size),
 * whose style target the caller has set (the style image scaled by the
 * same ratio).  st's content and its current image are downsampled (area)
 * to coarse's size and become coarse's content and image; coarse runs
 * coarse_iterations optimiser iterations (none, and no coarse stage at
 * all, when coarse_iterations <= 0); its result, upsampled
 * (SF_PYRAMID_UPSAMPLE), becomes st's image, from which st runs
 * `iterations`.  final (optional) gets the loss terms at st's resulting
 * image, done (optional) the full-size iterations run.  Both stylizers'
 * optimiser memories start empty; coarse keeps its result.  In place of
 * N direct iterations, coarse_iterations 2N and iterations N/2 cost about
 * the same and ended at 0.44-0.46 of direct's loss at 96x64 and 128x85
 * (tests/engine/test-pyramid.c, embedded network). */
gboolean sf_stylizer_optimize_coarse_to_fine (SfStylizer *st,
    SfStylizer *coarse, const SfParams *params, int coarse_iterations,
    int iterations, SfLossTerms *final, int *done, GError **error);

G_END_DECLS
#endif /* SF_PYRAMID_H */
