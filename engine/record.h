/* record.h - the generic recorders over buffers of floats (record.c),
 * below the network and the stylizer.  Their reductions are optim.h's
 * SfVecReduce, whose values are dot.comp's modes. */
#ifndef SF_RECORD_H
#define SF_RECORD_H

#include "gpu.h"
#include "optim.h"

G_BEGIN_DECLS

/* Partials: a host buffer of SF_PARTIAL_SLOTS slots of SF_PARTIALS floats;
 * reductions write one partial per workgroup into a slot. */
#define SF_PARTIALS 128
#define SF_PARTIAL_SLOTS 16
guint sf_reduce_groups (guint64 n);

/* Records partials of the reduction `mode` of a (and b) into slot. */
gboolean sf_record_dot (SfDevice *dev, VkCommandBuffer cb, SfBuffer *a,
    SfBuffer *b, guint64 n, SfVecReduce mode, SfBuffer *partials, int slot,
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
#endif /* SF_RECORD_H */
