/* sf-engine.h - public API of the Vulkan style-transfer engine.
 *
 * The engine optimises an image so that its VGG-19 features match the
 * content of one image and the style (Gram matrices) of another, after
 * Gatys et al.; see README "Loss definition" for the exact loss.  It has no
 * GStreamer types: the element in gst/ and the programs in examples/ and
 * tests/ use this header alone.
 *
 * Objects and lifecycle:
 *   SfDevice    a Vulkan device, created here or borrowed from the caller.
 *   SfNet       VGG-19 weights uploaded to a device (one per model/pooling).
 *   SfStylizer  the optimisation state for one image size: activations,
 *               targets, the image being optimised and the optimiser memory.
 *               Buffers are allocated once, in sf_stylizer_new().
 * Free in reverse order: stylizers, then nets, then the device.
 * Every function that can fail takes a GError and returns FALSE/NULL;
 * errors are in SF_ERROR (sf-error.h) or SF_MODEL_ERROR (sf-weights.h).
 */
#ifndef SF_ENGINE_H
#define SF_ENGINE_H

#include <glib.h>
#include <stdint.h>
#include <vulkan/vulkan.h>

#include "sf-types.h"
#include "sf-error.h"
#include "sf-weights.h"

G_BEGIN_DECLS

typedef struct SfDevice SfDevice;
typedef struct SfNet SfNet;
typedef struct SfStylizer SfStylizer;

/* ---- device ------------------------------------------------------------ */

typedef struct
{
  gboolean is_cpu;              /* lavapipe / llvmpipe or another CPU device */
  gboolean fp16_storage;        /* storageBuffer16BitAccess, enabled (owned devices) */
  gboolean fp16_arithmetic;     /* shaderFloat16 */
  gboolean coopmat_nv;          /* VK_NV_cooperative_matrix */
  uint32_t subgroup_size;
  uint64_t max_buffer_size;     /* largest single storage buffer, bytes */
} SfDeviceFeatures;

/* selector: NULL or "" picks automatically (discrete GPU, then integrated,
 * then virtual, then CPU); a decimal number is a device index in
 * vkEnumeratePhysicalDevices order, anything else a case-insensitive
 * substring of the device name.  (STYLEFILTER_DEVICE: see
 * sf_device_selector_from_env.) */
SfDevice *sf_device_new (const char *selector, GError **error);

/* Uses the caller's Vulkan objects; they must outlive the SfDevice, which
 * will not destroy them.  The device must have been created with the
 * VK_KHR_push_descriptor extension enabled. */
SfDevice *sf_device_new_borrowed (VkInstance instance,
    VkPhysicalDevice physical_device, VkDevice device, VkQueue queue,
    uint32_t queue_family, GError **error);

const char *sf_device_get_name (const SfDevice *dev);
const SfDeviceFeatures *sf_device_get_features (const SfDevice *dev);
void sf_device_free (SfDevice *dev);

/* Lists the Vulkan devices as "index: name (type)" lines, for error messages
 * and `--list-devices`.  Returns a newly allocated string. */
char *sf_device_list (GError **error);

/* Statistics of a device, for benchmarks and diagnostics.  Memory counts
 * every buffer the engine allocates on the device (working data, weights,
 * host-visible scalars and staging), at the size of its allocation.  GPU
 * time is measured with Vulkan timestamps around each submission while
 * profiling is on; the counters only grow (take differences). */
typedef struct
{
  guint64 mem_in_use;           /* bytes allocated now */
  guint64 mem_peak;             /* most bytes at once since the device was
                                 * made or sf_device_reset_peak() */
  guint64 submissions;          /* submissions made while profiling was on */
  guint64 gpu_ns;               /* their GPU time, first command to last */
  gboolean gpu_time_valid;      /* gpu_ns covers every one of them: FALSE
                                 * before the first, and for good where the
                                 * queue has no timestamps */
} SfDeviceStats;

/* Turns GPU timing on or off (default off).  On, each submission carries
 * two timestamp writes (negligible cost), made on first use; a device
 * without timestamps runs as before with gpu_time_valid FALSE. */
void sf_device_set_profiling (SfDevice *dev, gboolean on);

/* Copies the current statistics into *out. */
void sf_device_get_stats (SfDevice *dev, SfDeviceStats *out);

/* Starts a new peak: mem_peak becomes mem_in_use. */
void sf_device_reset_peak (SfDevice *dev);

/* Per-kernel GPU time (default off; on implies sf_device_set_profiling):
 * a timestamp before and after every dispatch (up to 2048 per submission),
 * summed per kernel.  For finding where the time goes, not for the
 * headline figure: the timestamps serialise the dispatches a little more.
 * A dispatch recorded while it is on in a command buffer submitted after
 * another submission may go uncounted. */
typedef struct
{
  const char *name;             /* the shader: "conv_fwd", "gram", ... */
  guint64 calls;
  guint64 gpu_ns;
} SfKernelTime;

void sf_device_set_kernel_profiling (SfDevice *dev, gboolean on);
/* Fills out (room for n) with the kernels that ran since the last reset,
 * most time first; returns how many. */
guint sf_device_get_kernel_times (SfDevice *dev, SfKernelTime *out, guint n);
void sf_device_reset_kernel_times (SfDevice *dev);

/* ---- network ------------------------------------------------------------ */

/* Which convolution kernels a network records: conv3x3.comp (direct,
 * register-blocked, no shared memory) or conv_gemm.comp (implicit GEMM over
 * shared-memory tiles, 2x2 pooling fused into the forward epilogue).
 * AUTO picks GEMM on GPUs and DIRECT on CPU devices such as lavapipe,
 * where it measured faster. */
typedef enum
{
  SF_CONV_AUTO,
  SF_CONV_DIRECT,
  SF_CONV_GEMM,
} SfConvImpl;

/* How activations are stored: fp32, or fp16 (16-bit storage, arithmetic and
 * accumulation in fp32; gradients, Gram matrices and losses stay fp32).
 * AUTO is fp32: fp16 stays opt-in until it has been measured on a GPU.
 * FP16 on a device without storageBuffer16BitAccess is SF_ERROR_INVALID. */
typedef enum
{
  SF_PRECISION_AUTO,
  SF_PRECISION_FP32,
  SF_PRECISION_FP16,
} SfPrecision;

typedef struct
{
  SfConvImpl conv;
  SfPrecision precision;
} SfNetOptions;

/* The engine reads no environment variable; front ends (the element,
 * stylize, the benchmarks) that honour them ask with these.
 * sf_net_options_from_env: AUTO, AUTO, then STYLEFILTER_CONV=direct|gemm
 * and STYLEFILTER_PRECISION=fp32|fp16 (fp16 on a device without 16-bit
 * storage: a warning, and fp32).  sf_device_selector_from_env: selector,
 * or where it is NULL or empty the variable STYLEFILTER_DEVICE (NULL when
 * unset). */
void sf_net_options_from_env (const SfDevice *dev, SfNetOptions *options);
const char *sf_device_selector_from_env (const char *selector);

/* sf_net_new: AUTO, AUTO; sf_net_new_with_options: options (NULL: the
 * same). */
SfNet *sf_net_new (SfDevice *dev, const SfVggWeights *weights,
    SfPooling pooling, GError **error);
SfNet *sf_net_new_with_options (SfDevice *dev, const SfVggWeights *weights,
    SfPooling pooling, const SfNetOptions *options, GError **error);
void sf_net_free (SfNet *net);

/* ---- optimisation ----------------------------------------------------- */

typedef enum
{
  SF_OPTIMIZER_LBFGS = 0,
  SF_OPTIMIZER_ADAM = 1,
} SfOptimizer;

typedef struct
{
  SfLossWeights weights;
  SfOptimizer optimizer;
  double learning_rate;         /* Adam's step size; L-BFGS's first step scale */
  int history;                  /* L-BFGS memory (pairs kept) */
} SfParams;

/* content 1, style 1e3, tv 0, temporal 0, range 0 (the peer's loss), L-BFGS,
 * learning rate 1, history 20 */
void sf_params_init (SfParams *params);

/* Called after each optimiser iteration; return FALSE to stop early. */
typedef gboolean (*SfProgressFunc) (int iteration, const SfLossTerms *terms,
    gpointer user_data);

/* width, height: the optimisation size, 16 x 16 at least. */
SfStylizer *sf_stylizer_new (SfNet *net, int width, int height,
    GError **error);
void sf_stylizer_free (SfStylizer *st);
int sf_stylizer_get_width (const SfStylizer *st);
int sf_stylizer_get_height (const SfStylizer *st);

/* Style target from a planar RGB [0,1] image of any size >= 16 x 16:
 * sf_stylizer_set_style_image (st, 0, ...) then blending style 0 alone. */
gboolean sf_stylizer_set_style (SfStylizer *st, const float *rgb, int width,
    int height, GError **error);

/* Several styles (README "The loss"): the Gram matrices of style image
 * `index` (< SF_MAX_STYLES; one VGG pass) are cached in the stylizer; the
 * target stays as it is until sf_stylizer_blend_styles. */
#define SF_MAX_STYLES 8
gboolean sf_stylizer_set_style_image (SfStylizer *st, guint index,
    const float *rgb, int width, int height, GError **error);

/* The style target at every layer: sum of weights[i] / sum (weights) times
 * style i's Grams, for styles 0 .. n-1, all set; no VGG pass.  Refuses (and
 * keeps the target in force) n of 0 or above SF_MAX_STYLES, a style not
 * set, a negative or non-finite weight, or weights that sum to 0. */
gboolean sf_stylizer_blend_styles (SfStylizer *st, const double *weights,
    guint n, GError **error);

/* Colour control (engine/color.c, README "Colour"): matches the style
 * image's RGB mean and covariance to the content's, in place (x becomes
 * C_c^(1/2) C_s^(-1/2) (x - mu_s) + mu_c, clamped to [0,1]); both planar
 * RGB. */
void sf_color_match (float *style, int sw, int sh, const float *content,
    int cw, int ch);
/* The same towards a given RGB mean[3] and covariance cov[3][3] (levels
 * of 1), e.g. measured on a video frame. */
void sf_color_match_to (float *style, int sw, int sh, const double *mean,
    double cov[3][3]);

/* VGG forward passes run on style images so far (for tests). */
guint sf_stylizer_get_style_passes (const SfStylizer *st);

/* Content target, planar RGB at the stylizer's size.  Does not touch the
 * image being optimised. */
gboolean sf_stylizer_set_content (SfStylizer *st, const float *rgb,
    GError **error);

/* The image being optimised, planar RGB at the stylizer's size. */
gboolean sf_stylizer_set_image (SfStylizer *st, const float *rgb,
    GError **error);

/* Reads back the image being optimised, clamped to [0,1]. */
gboolean sf_stylizer_get_image (SfStylizer *st, float *rgb, GError **error);

/* One evaluation of the loss at the current image; grad (optional,
 * [3][h][w]) receives d total / d image. */
gboolean sf_stylizer_evaluate (SfStylizer *st, const SfParams *params,
    SfLossTerms *terms, float *grad, GError **error);

/* Runs up to `iterations` optimiser iterations from the current image (the
 * optimiser's memory starts empty at each call).  final (optional) gets the
 * loss terms at the resulting image, done (optional) the iterations run. */
gboolean sf_stylizer_optimize (SfStylizer *st, const SfParams *params,
    int iterations, SfProgressFunc progress, gpointer user_data,
    SfLossTerms *final, int *done, GError **error);

/* Makes the optimisations interruptible: flag (borrowed, NULL = none) is
 * read atomically before every loss evaluation, and when it is non-zero
 * sf_stylizer_optimize, sf_stylizer_optimize_frame and
 * sf_stylizer_optimize_coarse_to_fine return FALSE with SF_ERROR_CANCELLED,
 * at the latest when the evaluation in progress ends.  The image then
 * holds the last accepted iterate (a valid picture; sf_stylizer_end_frame
 * may still render it) and the optimiser's memory is forgotten.  Another
 * thread may raise the flag (g_atomic_int_set) at any time; it must
 * outlive the stylizer or be unset first. */
void sf_stylizer_set_cancel_flag (SfStylizer *st, const gint *flag);

/* ---- optimising the frames of a video ---------------------------------- */

/* What sf_stylizer_optimize_frame did. */
typedef struct
{
  SfLossTerms terms;            /* at the resulting image */
  int iterations;               /* optimiser iterations run */
  int evaluations;              /* loss evaluations made (the frame's cost) */
  int history;                  /* L-BFGS pairs (Adam: steps) carried in
                                 * from earlier frames; 0 = a fresh start */
  const char *stop;             /* why it stopped: "iterations" (all ran),
                                 * "converged" (a tolerance), "deadline"
                                 * (the time budget), "evaluations" */
} SfFrameResult;

/* Like sf_stylizer_optimize, but the optimiser's memory (the L-BFGS
 * curvature pairs and step scaling, or Adam's moments) carries over from
 * the previous call, since consecutive frames pose nearly the same
 * problem: a warm-started frame goes on with quasi-Newton steps of the
 * full length instead of restarting from a tiny steepest-descent step.
 * All `iterations` run (no evaluation budget) unless a convergence
 * tolerance stops earlier, or, with deadline_us > 0 (a
 * g_get_monotonic_time () value), the next iteration would end past it
 * at the mean pace of this call's iterations (at least one runs).  The
 * memory is forgotten by sf_stylizer_reset_sequence, a frame that
 * sf_stylizer_begin_frame starts from its content, a new style, a
 * change of the loss weights, optimiser, learning rate or history, and
 * sf_stylizer_forget_history; an L-BFGS ring holds params->history pairs
 * of image-sized vectors (2 x 4 x 3 x w x h bytes each pair). */
gboolean sf_stylizer_optimize_frame (SfStylizer *st, const SfParams *params,
    int iterations, gint64 deadline_us, SfFrameResult *res, GError **error);

/* Empties the optimiser memory: the next sf_stylizer_optimize_frame
 * starts as sf_stylizer_optimize does. */
void sf_stylizer_forget_history (SfStylizer *st);

/* The pairs (or Adam steps) the optimiser memory holds now. */
int sf_stylizer_get_history (const SfStylizer *st);

/* ---- video frames (used by the GStreamer element) ---------------------- */

typedef enum
{
  SF_FORMAT_RGBA = 0,
  SF_FORMAT_BGRA,
  SF_FORMAT_RGBX,
  SF_FORMAT_BGRX,
  SF_FORMAT_RGB,
  SF_FORMAT_BGR,
} SfPixelFormat;

typedef enum
{
  SF_WARM_NONE = 0,             /* start from the content frame */
  SF_WARM_PREVIOUS = 1,         /* start from the previous result */
  SF_WARM_FLOW = 2,             /* ... warped along the optical flow */
} SfWarmStart;

/* Uploads a packed 8-bit frame of any size (>= 1 x 1), resamples it on the
 * GPU to the stylizer's size and makes it the content target.  The
 * previous content frame is kept for the scene-cut measure and the
 * temporal mask. */
gboolean sf_stylizer_set_content_frame (SfStylizer *st, const guint8 *data,
    int stride, int width, int height, SfPixelFormat format, GError **error);

/* Mean absolute difference (0..1, over pixels and channels) between the
 * last two content frames; negative when there is no previous frame. */
double sf_stylizer_get_content_change (SfStylizer *st);

/* Forgets the previous content frame and the previous result.  Called
 * between frames (after a flush or seek), the next frame has no
 * predecessor; called inside a frame (after sf_stylizer_set_content_frame,
 * at a scene cut), the current frame starts the new sequence and is the
 * next frame's predecessor. */
void sf_stylizer_reset_sequence (SfStylizer *st);

/* How SF_WARM_FLOW carries the previous result into the current frame. */
typedef enum
{
  SF_FLOW_WARP_BILINEAR = 0,    /* bilinear: low-passes at every frame */
  SF_FLOW_WARP_BICUBIC = 1,     /* Catmull-Rom (the default) */
  SF_FLOW_WARP_STYLE = 2,       /* the current content plus the
                                 * warped (bicubic) difference between the
                                 * previous result and the previous
                                 * content: only the stylization is
                                 * carried, the content's detail comes
                                 * fresh from every frame */
} SfFlowWarp;

/* Takes effect at the next sf_stylizer_begin_frame. */
void sf_stylizer_set_flow_warp (SfStylizer *st, SfFlowWarp warp);

/* Prepares the image to optimise for the current frame: from the content
 * frame, or (SF_WARM_PREVIOUS, when there is a previous result) from the
 * previous result, which then also becomes the temporal target with the
 * mask m = exp(-|c_t - c_{t-1}| / 0.05) (per pixel, mean over channels).
 * SF_WARM_FLOW (Ruder et al.): the previous result carried along the
 * backward optical flow between the content frames (sf_stylizer_set_flow_warp
 * says how) is the start and the temporal target; the consistency (0
 * where the flow is unreliable: forward-backward inconsistency, motion
 * boundaries, outside the image; 1 elsewhere) is the mask. */
gboolean sf_stylizer_begin_frame (SfStylizer *st, SfWarmStart warm,
    GError **error);

/* Puts the image back to the previous result (the content frame when
 * there is none) and forgets the optimiser's memory: what a frame whose
 * optimisation went wrong (a non-finite loss) should show instead. */
gboolean sf_stylizer_revert_frame (SfStylizer *st, GError **error);

/* Ends the frame: the current image becomes the previous result. Then
 * writes it clamped to [0,1], resampled to width x height, into a packed
 * 8-bit frame.  preserve_colors keeps the content frame's chroma (YIQ) and
 * takes only the luminance from the result. */
gboolean sf_stylizer_end_frame (SfStylizer *st, guint8 *data, int stride,
    int width, int height, SfPixelFormat format, gboolean preserve_colors,
    GError **error);

/* How much of the content frame's own fine detail sf_stylizer_end_frame
 * adds back when it upsamples the result to a frame larger than the
 * processing size: out = up (result) + detail x (frame - up (content)),
 * where up is the bilinear upsampling and content the frame at the
 * processing size, so detail 1 on an unchanged image gives the frame back
 * and 0 (the default) the upsampled result alone.  Clamped to [0, 1];
 * only where the frame given to sf_stylizer_set_content_frame has the
 * output's size and format (else 0). */
void sf_stylizer_set_output_detail (SfStylizer *st, double detail);

G_END_DECLS
#endif /* SF_ENGINE_H */
