/* flow.h - dense optical flow between consecutive frames on the GPU, for
 * the temporal coherence of video stylisation (Ruder et al. 2016): forward
 * and backward flow, backward warping and the forward-backward
 * consistency mask.  Internal to the engine.
 *
 * Method: pyramidal iterative Lucas-Kanade (Bouguet) on the luminance,
 * dense (one Gaussian-weighted window per pixel), both directions in each
 * dispatch.  The pyramid halves the size (binomial [1 3 3 1] filter)
 * while the smaller side stays >= min_size.  Each level starts, per pixel,
 * from the best (smallest window residual) of the coarser level's doubled
 * flow at p and at four neighbours p +- cand_dist (so that a pixel near a
 * motion boundary or the image border can take the flow of its correct
 * side), then runs up to `iterations` damped Gauss-Newton steps,
 * resampling the target image (bilinear) at the current flow each time; a
 * step that raises the window residual is halved.  See
 * shaders/flow_lk.comp.
 *
 * Cost on lavapipe (2 cores) with the defaults: about 20 ms at 64x64 and
 * 75 ms at 128x128 for both flows, some 5% of one stylizer loss
 * evaluation at the same size.
 *
 * Images are planar float [C][h][w] in SfBuffers; flows are [2][h][w],
 * the dx plane then the dy plane, in pixels:
 *   forward  f(p): previous frame's p is at p + f(p) in the current frame
 *   backward b(p): current frame's p is at p + b(p) in the previous frame
 * Buffers are allocated once in sf_flow_new(); the record variants only
 * record dispatches (each followed by a barrier) into the caller's command
 * buffer, the others submit and wait.
 */
#ifndef SF_FLOW_H
#define SF_FLOW_H

#include "gpu.h"

G_BEGIN_DECLS

typedef struct SfFlow SfFlow;

typedef struct
{
  int radius;           /* LK window half size: (2 radius + 1)^2 taps */
  float sigma;          /* Gaussian window weight's standard deviation, px */
  int iterations;       /* Gauss-Newton steps per level and pass (at most) */
  float lambda;         /* Tikhonov term added to the window's weighted
                         * mean of Ix^2 and Iy^2 ((grey / px)^2, grey
                         * levels in [0,1]) */
  float min_step;       /* stop iterating once |du| < min_step (px) */
  float max_step;       /* |du| clamped to this per step (px) */
  float max_disp;       /* a pass changes its starting flow by at most
                         * this (px at that level) */
  int min_size;         /* coarsest level's smaller side stays >= this */
  int passes;           /* LK passes per level: the first starts from the
                         * coarser level's flow, the others from the
                         * previous pass's */
  float cand_dist;      /* each pass starts from the best (smallest window
                         * residual) of the starting flow at p and at
                         * p +- cand_dist in x and y (px; 0: at p only) */
  gboolean presmooth;   /* 3x3 binomial on level 0's grey images */
} SfFlowParams;

/* radius 3 (7x7 window), sigma 2, 6 iterations, lambda 1e-4, min_step
 * 0.01, max_step 2, max_disp 2, min_size 16, 1 pass, cand_dist 4,
 * presmooth on */
void sf_flow_params_init (SfFlowParams *params);

/* w x h: the processing size (>= 1 x 1); allocates the pyramid. */
SfFlow *sf_flow_new (SfDevice *dev, int w, int h, GError **error);
void sf_flow_free (SfFlow *f);

/* Changes the method's parameters (checked: radius 1..8, iterations
 * 1..50, passes 1..8, min_size >= 4, the floats positive (lambda,
 * min_step, cand_dist >= 0); FALSE with SF_ERROR_INVALID otherwise). */
gboolean sf_flow_set_params (SfFlow *f, const SfFlowParams *params,
    GError **error);
const SfFlowParams *sf_flow_get_params (const SfFlow *f);
int sf_flow_get_levels (const SfFlow *f);

/* prev, cur: RGB [3][h][w] in [0,1].  Computes the forward (prev -> cur)
 * and backward (cur -> prev) flows. */
gboolean sf_flow_compute (SfFlow *f, SfBuffer *prev, SfBuffer *cur,
    GError **error);
gboolean sf_flow_record_compute (SfFlow *f, VkCommandBuffer cb,
    SfBuffer *prev, SfBuffer *cur, GError **error);

/* [2][h][w], owned by f; valid after a compute. */
SfBuffer *sf_flow_get_forward (SfFlow *f);
SfBuffer *sf_flow_get_backward (SfFlow *f);

/* How a warp samples between pixels.  Every sub-pixel shift low-passes,
 * and a video warm-starts each frame from the previous result warped, so
 * the losses compound: a 0.5 px shift keeps 0.71 of the amplitude at a
 * quarter of the sampling rate bilinear, 0.88 Catmull-Rom; after 10
 * warps 0.03 against 0.29.  Measured (tests/engine/test-warp.c): ten
 * warps by (0.5, 0.25) px keep 0.0052 of the Laplacian's energy of waves
 * at 0.25 cycles/px bilinear, 0.29 bicubic.  Lanczos-3 keeps 1.02 of the
 * amplitude per warp there (its gain peaks at 1.027): 1.57 of the energy
 * after ten, so it is for a pattern sampled once, never for a chain of
 * warps.  Bicubic and Lanczos overshoot at edges: the result may leave
 * the source's range (clamp it where that matters). */
typedef enum
{
  SF_WARP_BILINEAR = 0,         /* 2x2 taps */
  SF_WARP_BICUBIC = 1,          /* Catmull-Rom (a = -0.5), 4x4 taps,
                                 * clamped to the edge */
  SF_WARP_BICUBIC_MIRROR = 2,   /* Catmull-Rom, a sample position outside
                                 * the image mirrored into it */
  SF_WARP_LANCZOS_MIRROR = 3    /* Lanczos-3, 6x6 taps, mirrored as 2;
                                 * the last: flow.c checks the range */
} SfWarpFilter;

/* dst(p) = src(p + flow(p)) for each of `channels` planes, sample position
 * clamped to the image (mirrored into it for the _MIRROR filters),
 * interpolated by `filter`.  flow: any flow
 * [2][h][w] (e.g. the forward flow), NULL for f's backward flow, which
 * brings the previous frame (or the previous stylised result) into the
 * current frame.  src and dst must differ; FALSE with SF_ERROR_INVALID for
 * a wrong size or an unknown filter. */
gboolean sf_flow_record_warp_filtered (SfFlow *f, VkCommandBuffer cb,
    SfBuffer *src, int channels, SfBuffer *flow, SfWarpFilter filter,
    SfBuffer *dst, GError **error);

/* Bilinear by the backward flow (sf_flow_record_warp_filtered with NULL,
 * SF_WARP_BILINEAR). */
gboolean sf_flow_warp (SfFlow *f, SfBuffer *src, int channels, SfBuffer *dst,
    GError **error);
gboolean sf_flow_record_warp (SfFlow *f, VkCommandBuffer cb, SfBuffer *src,
    int channels, SfBuffer *dst, GError **error);

/* Bilinear by any flow [2][h][w] (not NULL). */
gboolean sf_flow_record_warp_by (SfFlow *f, VkCommandBuffer cb,
    SfBuffer *src, int channels, SfBuffer *flow, SfBuffer *dst,
    GError **error);

/* mask [h][w]: 1 where the backward flow is reliable, 0 where p + b(p)
 * leaves the image, where the forward-backward check fails
 * (|b(p) + f(p + b(p))|^2 > 0.01 (|b|^2 + |f(p + b)|^2) + 0.5: occlusion
 * or disocclusion) and at motion boundaries (|grad b|^2 > 0.01 |b|^2 +
 * 0.002), after Ruder et al.'s consistencyChecker (without its final
 * smoothing). */
gboolean sf_flow_consistency (SfFlow *f, SfBuffer *mask, GError **error);
gboolean sf_flow_record_consistency (SfFlow *f, VkCommandBuffer cb,
    SfBuffer *mask, GError **error);

/* Motion weighting of the consistency mask: where the backward flow moves
 * a pixel by more than m1 pixels its mask is multiplied by `moving`, by 1
 * below m0, smoothly between. */
typedef struct
{
  float m0, m1;
  float moving;
} SfMotionWeight;

/* The mask above, motion-weighted: mask *= mix (1, moving, smoothstep (m0,
 * m1, |b(p)|)) (mw NULL: not weighted).  FALSE with SF_ERROR_INVALID for
 * a wrong size, m0 >= m1 or `moving` outside [0, 1]. */
gboolean sf_flow_record_consistency_weighted (SfFlow *f, VkCommandBuffer cb,
    SfBuffer *mask, const SfMotionWeight *mw, GError **error);

/* Thresholds of the temporal coring: a change of a value below t0 is
 * dropped, one above t1 passes whole; where the flow moves a pixel by
 * more than m1 pixels everything passes (none below m0). */
typedef struct
{
  float t0, t1, m0, m1;
} SfCoring;

/* Temporal coring (shaders/flow_core.comp), in place on clean, which holds
 * the previous clean content warped along flow (3 planes; flow: NULL for
 * f's backward flow):
 * clean += max (smoothstep (t0, t1, |d|), smoothstep (m0, m1, |flow|)) d,
 * d = content - clean, per value.  A change below t0 is taken for noise
 * and dropped, one above t1 passes whole, so clean stays within t1 of the
 * content; a moving pixel takes the content whole, so that repeated
 * sub-pixel interpolations do not blur it.  FALSE with SF_ERROR_INVALID
 * for a wrong size or thresholds not t0 < t1, m0 < m1. */
gboolean sf_flow_record_core (SfFlow *f, VkCommandBuffer cb,
    SfBuffer *content, SfBuffer *clean, SfBuffer *flow, const SfCoring *c,
    GError **error);

/* The temporal warping error of Lai et al. 2018 between two consecutive
 * frames of a clip: the flow is computed between the input frames
 * in_prev -> in_cur (RGB [3][h][w] in [0,1]); the output frame out_prev is
 * warped along it and compared with out_cur over the pixels the
 * consistency mask keeps: mean over kept pixels and channels of
 * (out_cur - warp(out_prev))^2, warped bicubic (bilinear would blur
 * out_prev and count a sharp clip's detail as instability).  *in_error (optional) gets the same figure
 * for the input frames themselves; *kept (optional) the fraction of
 * pixels kept. */
gboolean sf_flow_warp_error (SfFlow *f, SfBuffer *in_prev, SfBuffer *in_cur,
    SfBuffer *out_prev, SfBuffer *out_cur, double *out_error,
    double *in_error, double *kept, GError **error);

G_END_DECLS
#endif /* SF_FLOW_H */
