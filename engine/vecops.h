/* vecops.h - the optimisers' vector operations (SfVecOps, optim.h) on a
 * stylizer's GPU buffers, recorded into its SfVecQueue (vecqueue.h says
 * why and how).  Above the stylizer: only this adapter and optimize.c,
 * which runs the optimisers through it, know both. */
#ifndef SF_VECOPS_H
#define SF_VECOPS_H

#include "vecqueue.h"

G_BEGIN_DECLS

/* ---- SfVecOps ----------------------------------------------------------- */

#define SF_VEC_RING 64

/* The context of the GPU SfVecOps for one optimisation of st. */
typedef struct
{
  SfStylizer *st;
  const SfParams *params;
  SfLossTerms ring[SF_VEC_RING];        /* recent evaluations' terms */
  guint n_ring;
  double *eval_f;               /* where the pending evaluation's loss goes */
} SfVecCtx;

void sf_vec_ctx_init (SfVecCtx *c, SfStylizer *st, const SfParams *params);
/* The terms of the most recent evaluation whose total is f. */
gboolean sf_vec_ctx_find_terms (const SfVecCtx *c, double f,
    SfLossTerms *out);

/* The operations for st's queue mode: every member in DEFERRED, none of
 * the optional ones otherwise. */
const SfVecOps *sf_vec_ops_get (SfVecMode mode);

G_END_DECLS
#endif /* SF_VECOPS_H */
