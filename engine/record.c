/* record.c - the generic recorders over buffers of floats, below the
 * network and the stylizer: reductions into host-visible partials (dot.comp:
 * a . b, max |a|, sum |a|) and their fold on the host, y = a x + b y and
 * copies (axpby.comp).  The optimisers' vector operations (vecqueue.c,
 * vecops.c), the network's style targets and the loss terms record
 * them. */
#include "record.h"

guint
sf_reduce_groups (guint64 n)
{
  return (guint) CLAMP (sf_div_up (n, 256), 1, SF_PARTIALS);
}

gboolean
sf_record_dot (SfDevice *dev, VkCommandBuffer cb, SfBuffer *a, SfBuffer *b,
    guint64 n, SfVecReduce mode, SfBuffer *partials, int slot,
    GError **error)
{
  struct { int32_t n, mode, off; } pc = { (int32_t) n, mode,
    slot * SF_PARTIALS };
  SfBuffer *bufs[3] = { a, b ? b : a, partials };

  return sf_cmd_dispatch (dev, cb, SF_K_DOT, bufs, 3, &pc, sizeof (pc),
      sf_reduce_groups (n), 1, 1, error);
}

double
sf_partials_fold (SfBuffer *partials, int slot, guint64 n, gboolean absmax)
{
  const float *p = (const float *) partials->mapped + slot * SF_PARTIALS;
  guint groups = sf_reduce_groups (n);
  double s = 0.0;

  for (guint i = 0; i < groups; i++)
    s = absmax ? MAX (s, p[i]) : s + p[i];
  return s;
}

static gboolean
record_axpby (SfDevice * dev, VkCommandBuffer cb, double a, SfBuffer * x,
    double b, SfBuffer * y, guint64 n, gboolean clamp01, GError ** error)
{
  struct { int32_t n; float a, b; int32_t clamp01; } pc = { (int32_t) n,
    (float) a, (float) b, clamp01 };
  SfBuffer *bufs[2] = { x ? x : y, y };

  return sf_cmd_dispatch (dev, cb, SF_K_AXPBY, bufs, 2, &pc, sizeof (pc),
      sf_div_up (n, 256), 1, 1, error);
}

gboolean
sf_record_axpby (SfDevice *dev, VkCommandBuffer cb, double a, SfBuffer *x,
    double b, SfBuffer *y, guint64 n, GError **error)
{
  return record_axpby (dev, cb, a, x, b, y, n, FALSE, error);
}

gboolean
sf_record_copy (SfDevice *dev, VkCommandBuffer cb, SfBuffer *src,
    SfBuffer *dst, guint64 n, gboolean clamp01, GError **error)
{
  return record_axpby (dev, cb, 1.0, src, 0.0, dst, n, clamp01, error);
}
