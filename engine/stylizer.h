/* stylizer.h - the SfStylizer object, shared by stylizer.c (targets, loss,
 * optimisation), frames.c (video frames, temporal term) and vecops.c (the
 * optimisers' vector operations, recorded into the stylizer's SfVecQueue:
 * whatever submits or touches the image outside the optimisation flushes
 * that queue first, sf_stylizer_flush). */
#ifndef SF_STYLIZER_H
#define SF_STYLIZER_H

#include "net.h"
#include "flow.h"
#include "vecqueue.h"

G_BEGIN_DECLS

/* style layers: convs 0, 2, 4, 8, 12 (relu1_1 .. relu5_1) */
extern const int sf_style_convs[SF_NUM_STYLE_LAYERS];

/* partial slots */
enum
{
  SLOT_CONTENT = 0,
  SLOT_STYLE = 1,               /* 1 .. 5 */
  SLOT_TV = 6,
  SLOT_TEMPORAL = 7,
  SLOT_SCRATCH = 8,
  SLOT_CHANGE = 9,
  SLOT_RANGE = 10,
};

/* A stylizer's video state (frames.c): the previous content and result,
 * the temporal mask and target, the flow and what flow-warp=style
 * carries, and the packed frames.  frames.c makes it with the first frame
 * (sf_stylizer_set_content_frame and the frame functions), frees it (the
 * teardown it registers with the stylizer) and hands it to the loss
 * evaluation, which adds the temporal term while temporal_active. */
typedef struct
{
  SfBuffer *content_prev;       /* previous content frame */
  SfBuffer *prev_result;        /* previous stylized frame, planar */
  SfBuffer *mask;               /* temporal mask, one per pixel */
  SfFlow *flow;                 /* optical flow, made on first use */
  SfBuffer *warped;             /* previous result warped by the flow */
  SfBuffer *temporal_target;    /* prev_result or warped */
  SfFlowWarp flow_warp;
  double output_detail;         /* sf_stylizer_set_output_detail, 0..1 */
  SfBuffer *residual;           /* SF_FLOW_WARP_STYLE: prev_result minus the
                                 * previous clean content */
  SfBuffer *clean;              /* SF_FLOW_WARP_STYLE: the content cored in
                                 * time (flow_core.comp), this frame's after
                                 * begin_frame */
  SfBuffer *clean_warp;         /* scratch: the previous clean, warped */
  gboolean clean_valid;         /* clean holds the previous frame's */
  /* SF_FLOW_WARP_STYLE's anchor (frames.c, record_carry): the stylization
   * of an earlier frame, sampled once per frame through the composed flow
   * to it, so that it is interpolated once and not once per frame */
  SfBuffer *anchor;             /* the anchor frame's residual */
  SfBuffer *anchor_flow;        /* [2]: this frame's p is at p + A(p) there */
  SfBuffer *anchor_flow_tmp;    /* scratch, [2] */
  SfBuffer *anchor_sample;      /* the anchor sampled for this frame */
  gboolean anchor_valid;
  int anchor_age;               /* frames since the anchor was taken */
  gboolean has_prev_content;
  gboolean sequence_reset;      /* the next content frame starts a sequence */
  gboolean in_frame;            /* between set_content_frame and end_frame */
  gboolean has_prev_result;
  gboolean temporal_active;
  double content_change;
  SfBuffer *frame;              /* packed input frame */
  SfBuffer *frame_out;          /* packed output frame */
  int frame_w, frame_h, frame_row;
  SfPixelFormat frame_format;
} SfVideoState;

struct SfStylizer
{
  SfDevice *dev;
  SfNet *net;
  int w, h;
  guint64 n;                    /* 3 * w * h */
  SfActs *acts;
  SfBuffer *x;                  /* the image being optimised */
  SfBuffer *grad;
  SfBuffer *content;            /* content image / frame, planar */
  SfBuffer *target;             /* content features (relu4_2) */
  double target_norm;           /* ||target||^2 */
  gboolean has_content;
  gboolean target_stale;        /* a new content frame: the target is made
                                 * when first needed (check_ready), or by
                                 * begin_frame from the clean content */
  SfBuffer *style_gram[SF_NUM_STYLE_LAYERS];  /* the target: the blend */
  double style_norm[SF_NUM_STYLE_LAYERS];
  gboolean has_style;
  /* styles.c: each style image's Grams (made on first use), whether they
   * are set, and the VGG passes run on style images */
  SfBuffer *style_grams[SF_MAX_STYLES][SF_NUM_STYLE_LAYERS];
  gboolean style_set[SF_MAX_STYLES];
  guint style_passes;
  SfBuffer *gram[SF_NUM_STYLE_LAYERS];  /* Gram of x */
  SfBuffer *gdiff[SF_NUM_STYLE_LAYERS]; /* Gram(x) - style Gram */
  SfBuffer *ga, *gb;            /* backward scratch, largest activation */
  SfBuffer *partials;           /* host-visible */
  SfBuffer *zero;               /* one float 0 (unused mask binding) */
  /* the video state: frames.c makes it with the first frame, frees it
   * and hands it to the loss (NULL for stills) */
  SfVideoState *video;
  int evals;
  GPtrArray *vec_pool;          /* image-sized optimiser vectors, reused */
  SfOptimMemory *memory;        /* optimiser state across video frames */
  SfParams memory_params;       /* the parameters it was built with */
  SfVecQueue *vq;               /* pending vector operations (vecqueue.c) */
  /* the owners of state made on first use register how it goes, so that
   * sf_stylizer_free needs neither: optimize.c the optimiser memory,
   * frames.c the video frames' buffers and flow */
  void (*memory_forget) (SfStylizer *st);
  void (*frames_free) (SfStylizer *st);
  const gint *cancel;           /* borrowed; non-zero: stop (may be NULL) */
};


/* stylizer.c: recomputes the content target from st->content (or from
 * src, an image-sized buffer). */
gboolean sf_stylizer_update_content_target (SfStylizer *st, GError **error);
gboolean sf_stylizer_update_content_target_from (SfStylizer *st,
    SfBuffer *src, GError **error);

/* stylizer.c: submits the pending vector operations (nothing is pending
 * outside sf_stylizer_optimize, except during its progress callback). */
gboolean sf_stylizer_flush (SfStylizer *st, GError **error);
/* FALSE (SF_ERROR_INVALID) until both targets are set; makes a stale
 * content target. */
gboolean sf_stylizer_check_ready (SfStylizer *st, GError **error);

/* stylizer.c: records one loss evaluation at x (gradient into grad) into
 * cb; its partials go to st->partials, to be folded by
 * sf_stylizer_fold_terms once cb has run.  Checks only the cancel flag
 * (SF_ERROR_CANCELLED): the targets must be set. */
gboolean sf_stylizer_record_eval (SfStylizer *st, VkCommandBuffer cb,
    SfBuffer *x, SfBuffer *grad, const SfParams *p, GError **error);
void sf_stylizer_fold_terms (SfStylizer *st, const SfParams *p,
    SfLossTerms *t);

/* frames.c */

G_END_DECLS
#endif /* SF_STYLIZER_H */
