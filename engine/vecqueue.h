/* vecqueue.h - a pending command buffer for vector operations on GPU
 * buffers (SfVecQueue), with deferred results and the L-BFGS two-loop
 * recursion on the GPU; below the stylizer, which records its
 * evaluations into it, and vecops.c, which implements the optimisers'
 * SfVecOps over it.
 *
 * Why: every submit-and-wait is a host round trip (tens of microseconds
 * on a GPU, against a few milliseconds for a whole L-BFGS iteration), and
 * the engine used to make one per vector operation: each copy, scale,
 * axpy and dot, and 2 m dots (read back) in every two-loop recursion.
 *
 * How: an SfVecQueue (one per stylizer, with its scalar buffers allocated
 * once) holds a pending command buffer.  Operations that give the host
 * nothing (copy, scale, axpy, zero, adam, the two-loop recursion) are
 * appended to it.  A reduction records its partials into a slot of the
 * queue's host-visible partials buffer and is answered at the next flush;
 * an evaluation records the whole loss and gradient into the same buffer
 * (stylizer.c's record_eval) and is answered then too.  A flush submits
 * once, waits, folds the reductions in double and runs the evaluation's
 * hook.  Everything else in the stylizer that submits, uploads or
 * downloads (set_image, get_image, evaluate, targets, the frame functions
 * that touch x) flushes first, so recording order is execution order;
 * sf_stylizer_optimize flushes at its end and discards on an error, so
 * nothing is pending between calls.
 *
 * The two-loop recursion runs on the GPU with its scalars in a small
 * device buffer that the host never reads: per pair a dot.comp writes
 * workgroup partials into it, fold.comp (one workgroup) turns them into
 * the coefficient (alpha_i = rho_i s_i.q, then alpha_i - rho_i y_i.r), and
 * axpy_dev.comp reads the coefficient from there.  rho_i = 1 / y_i.s_i
 * is known on the host and goes in as a push constant.  The partials are
 * fp32, as everywhere; the fold is an fp32 tree over at most 128 of them
 * (the host folds reductions in double), and the alphas are kept in fp32
 * between the two loops: the direction agrees with the host recursion to
 * about 1e-7 relative (tests/engine/test-vecops.c).
 */
#ifndef SF_VECQUEUE_H
#define SF_VECQUEUE_H

#include "record.h"

G_BEGIN_DECLS

typedef struct SfVecQueue SfVecQueue;

/* How the GPU vector operations run; DEFERRED unless a test or benchmark
 * asks for one of the others, to compare with the earlier engine. */
typedef enum
{
  SF_VEC_DEFERRED,              /* recorded; deferred results; GPU two-loop */
  SF_VEC_HOST_LOOP,             /* recorded; each reduction submits; the
                                 * two-loop on the host */
  SF_VEC_IMMEDIATE,             /* every operation its own submission, the
                                 * two-loop on the host (the engine before
                                 * SfVecQueue) */
} SfVecMode;

/* A queue for vectors of n floats. */
SfVecQueue *sf_vec_queue_new (SfDevice *dev, guint64 n, GError **error);
/* Discards anything pending, frees the buffers. */
void sf_vec_queue_free (SfVecQueue *q);

void sf_vec_queue_set_mode (SfVecQueue *q, SfVecMode mode);
SfVecMode sf_vec_queue_get_mode (const SfVecQueue *q);
/* Submissions made by flushes so far. */
guint64 sf_vec_queue_submissions (const SfVecQueue *q);

/* The pending command buffer, begun when there is none. */
gboolean sf_vec_queue_cmd (SfVecQueue *q, VkCommandBuffer *cb,
    GError **error);
/* Submits what is pending and waits, then answers the recorded reductions
 * and runs the hook; TRUE at once when nothing is pending.  On an error
 * nothing stays pending and no result is filled. */
gboolean sf_vec_queue_flush (SfVecQueue *q, GError **error);
/* Drops what is pending unsubmitted, with its reductions and hook. */
void sf_vec_queue_discard (SfVecQueue *q);
/* Called after an operation has been recorded: flushes in IMMEDIATE mode. */
gboolean sf_vec_queue_recorded (SfVecQueue *q, GError **error);

/* Records the reduction `mode` of a (and b) over n floats; *out gets the
 * value at the next flush. */
gboolean sf_vec_queue_reduce (SfVecQueue *q, SfVecReduce mode, SfBuffer *a,
    SfBuffer *b, double *out, GError **error);

/* hook (data) runs after the next successful flush (one at a time). */
typedef void (*SfVecHook) (gpointer data);
void sf_vec_queue_set_hook (SfVecQueue *q, SfVecHook hook, gpointer data);
gboolean sf_vec_queue_has_hook (const SfVecQueue *q);

/* Records d = -H g, the L-BFGS two-loop recursion (SfVecOps.two_loop). */
gboolean sf_vec_queue_two_loop (SfVecQueue *q, SfBuffer *g, SfBuffer *d,
    SfBuffer *const *s, SfBuffer *const *y, const double *rho, int m,
    double h_diag, GError **error);

G_END_DECLS
#endif /* SF_VECQUEUE_H */
