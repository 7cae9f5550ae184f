/* vecqueue.c - the pending command buffer of vector operations
 * (SfVecQueue), its deferred reductions and the L-BFGS two-loop recursion
 * on the GPU.  The design is in vecqueue.h: only a value the host needs
 * submits, and the two-loop's scalars stay in a device buffer.
 *
 * Errors: a failure to record or submit is logged where it arises (gpu.c)
 * and returned; the queue then drops what was pending, so a half-recorded
 * command buffer is never submitted and never leaks.
 */
#include <math.h>
#include <string.h>

#include "vecqueue.h"

/* reductions answered by one flush (the L-BFGS asks for at most 4) */
#define RED_SLOTS 8

/* The two-loop's device scalars: the partials of the current dot at
 * [0, SF_PARTIALS), the next axpy's coefficient, then alpha_0.. */
#define TL_COEF SF_PARTIALS
#define TL_ALPHA (SF_PARTIALS + 1)
#define TL_MIN_PAIRS 64

typedef struct
{
  double *out;
  gboolean absmax;
} RedRequest;

struct SfVecQueue
{
  SfDevice *dev;
  guint64 n;                    /* floats per vector */
  SfVecMode mode;
  VkCommandBuffer cb;           /* pending, or VK_NULL_HANDLE */
  SfBuffer *red;                /* host-visible: RED_SLOTS partial slots */
  RedRequest req[RED_SLOTS];
  int n_req;
  SfVecHook hook;
  gpointer hook_data;
  SfBuffer *scal;               /* device: the two-loop's scalars */
  int scal_pairs;               /* alphas scal has room for */
  guint64 submissions;
};

/* ---- the queue ---------------------------------------------------------- */

static SfBuffer *
new_scalars (SfDevice * dev, int pairs, GError ** error)
{
  return sf_buffer_new_floats (dev, TL_ALPHA + (gsize) pairs, 1, 1, error);
}

SfVecQueue *
sf_vec_queue_new (SfDevice *dev, guint64 n, GError **error)
{
  SfVecQueue *q = g_new0 (SfVecQueue, 1);

  q->dev = dev;
  q->n = n;
  q->scal_pairs = TL_MIN_PAIRS;
  if (!(q->red = sf_buffer_new (dev, RED_SLOTS * SF_PARTIALS * sizeof (float),
              SF_MEM_HOST, error))
      || !(q->scal = new_scalars (dev, q->scal_pairs, error))) {
    sf_vec_queue_free (q);
    return NULL;
  }
  return q;
}

void
sf_vec_queue_free (SfVecQueue *q)
{
  if (!q)
    return;
  sf_vec_queue_discard (q);
  sf_buffer_free (q->dev, q->red);
  sf_buffer_free (q->dev, q->scal);
  g_free (q);
}

void
sf_vec_queue_set_mode (SfVecQueue *q, SfVecMode mode)
{
  q->mode = mode;
}

SfVecMode
sf_vec_queue_get_mode (const SfVecQueue *q)
{
  return q->mode;
}

guint64
sf_vec_queue_submissions (const SfVecQueue *q)
{
  return q->submissions;
}

gboolean
sf_vec_queue_cmd (SfVecQueue *q, VkCommandBuffer *cb, GError **error)
{
  if (q->cb == VK_NULL_HANDLE && !sf_cmd_begin (q->dev, &q->cb, error))
    return FALSE;
  *cb = q->cb;
  return TRUE;
}

static void
forget_results (SfVecQueue * q)
{
  q->n_req = 0;
  q->hook = NULL;
  q->hook_data = NULL;
}

void
sf_vec_queue_discard (SfVecQueue *q)
{
  sf_cmd_free (q->dev, q->cb);
  q->cb = VK_NULL_HANDLE;
  forget_results (q);
}

gboolean
sf_vec_queue_flush (SfVecQueue *q, GError **error)
{
  VkCommandBuffer cb = q->cb;
  SfVecHook hook = q->hook;
  gpointer hook_data = q->hook_data;

  if (cb == VK_NULL_HANDLE)
    return TRUE;
  q->cb = VK_NULL_HANDLE;
  q->submissions++;
  if (!sf_cmd_submit_wait (q->dev, &cb, 1, TRUE, error)) {
    forget_results (q);
    return FALSE;
  }
  for (int k = 0; k < q->n_req; k++)
    *q->req[k].out = sf_partials_fold (q->red, k, q->n, q->req[k].absmax);
  forget_results (q);
  if (hook)
    hook (hook_data);
  return TRUE;
}

gboolean
sf_vec_queue_recorded (SfVecQueue *q, GError **error)
{
  return q->mode != SF_VEC_IMMEDIATE || sf_vec_queue_flush (q, error);
}

void
sf_vec_queue_set_hook (SfVecQueue *q, SfVecHook hook, gpointer data)
{
  g_return_if_fail (q->hook == NULL);
  q->hook = hook;
  q->hook_data = data;
}

gboolean
sf_vec_queue_has_hook (const SfVecQueue *q)
{
  return q->hook != NULL;
}

gboolean
sf_vec_queue_reduce (SfVecQueue *q, SfVecReduce mode, SfBuffer *a,
    SfBuffer *b, double *out, GError **error)
{
  VkCommandBuffer cb;
  int k;

  if (q->n_req == RED_SLOTS && !sf_vec_queue_flush (q, error))
    return FALSE;
  if (!sf_vec_queue_cmd (q, &cb, error))
    return FALSE;
  k = q->n_req;
  if (!sf_record_dot (q->dev, cb, a, b, q->n, mode, q->red, k, error)) {
    sf_vec_queue_discard (q);
    return FALSE;
  }
  q->req[k].out = out;
  q->req[k].absmax = mode == SF_VEC_ABSMAX;
  q->n_req++;
  return TRUE;
}

/* ---- the two-loop recursion ------------------------------------------- */

/* Room for m alphas; a pending buffer may use the old scalars, so it goes
 * first. */
static gboolean
tl_reserve (SfVecQueue * q, int m, GError ** error)
{
  SfBuffer *b;
  int pairs;

  if (m <= q->scal_pairs)
    return TRUE;
  pairs = MAX (m, 2 * q->scal_pairs);
  if (!sf_vec_queue_flush (q, error)
      || !(b = new_scalars (q->dev, pairs, error)))
    return FALSE;
  sf_buffer_free (q->dev, q->scal);
  q->scal = b;
  q->scal_pairs = pairs;
  return TRUE;
}

/* The coefficient for pair i from a . b: mode 0 alpha_i = rho a.b and
 * coef = -alpha_i; mode 1 coef = alpha_i - rho a.b. */
static gboolean
tl_coef (SfVecQueue * q, VkCommandBuffer cb, SfBuffer * a, SfBuffer * b,
    double rho, int i, int mode, GError ** error)
{
  struct { int32_t groups, coef, alpha, mode; float rho; } pc = {
    (int32_t) sf_reduce_groups (q->n), TL_COEF, TL_ALPHA + i, mode,
    (float) rho };

  return sf_record_dot (q->dev, cb, a, b, q->n, SF_VEC_DOT, q->scal, 0,
      error)
      && sf_cmd_dispatch (q->dev, cb, SF_K_FOLD, &q->scal, 1, &pc,
      sizeof (pc), 1, 1, 1, error);
}

/* y += coef x */
static gboolean
tl_axpy (SfVecQueue * q, VkCommandBuffer cb, SfBuffer * x, SfBuffer * y,
    GError ** error)
{
  struct { int32_t n, coef; } pc = { (int32_t) q->n, TL_COEF };
  SfBuffer *b[3] = { x, y, q->scal };

  return sf_cmd_dispatch (q->dev, cb, SF_K_AXPY_DEV, b, 3, &pc, sizeof (pc),
      sf_div_up (q->n, 256), 1, 1, error);
}

/* The recursion of sf_lbfgs_two_loop_host, step for step. */
static gboolean
tl_record (SfVecQueue * q, VkCommandBuffer cb, SfBuffer * g, SfBuffer * d,
    SfBuffer * const *s, SfBuffer * const *y, const double *rho, int m,
    double h_diag, GError ** error)
{
  if (!sf_record_axpby (q->dev, cb, -1.0, g, 0.0, d, q->n, error))
    return FALSE;
  for (int i = m - 1; i >= 0; i--)
    if (!tl_coef (q, cb, s[i], d, rho[i], i, 0, error)
        || !tl_axpy (q, cb, y[i], d, error))
      return FALSE;
  if (!sf_record_axpby (q->dev, cb, 0.0, NULL, h_diag, d, q->n, error))
    return FALSE;
  for (int i = 0; i < m; i++)
    if (!tl_coef (q, cb, y[i], d, rho[i], i, 1, error)
        || !tl_axpy (q, cb, s[i], d, error))
      return FALSE;
  return TRUE;
}

gboolean
sf_vec_queue_two_loop (SfVecQueue *q, SfBuffer *g, SfBuffer *d,
    SfBuffer *const *s, SfBuffer *const *y, const double *rho, int m,
    double h_diag, GError **error)
{
  VkCommandBuffer cb;

  g_return_val_if_fail (m >= 0, FALSE);
  if (!tl_reserve (q, m, error) || !sf_vec_queue_cmd (q, &cb, error))
    return FALSE;
  if (!tl_record (q, cb, g, d, s, y, rho, m, h_diag, error)) {
    sf_vec_queue_discard (q);
    return FALSE;
  }
  return sf_vec_queue_recorded (q, error);
}

/* ---- SfVecOps ----------------------------------------------------------- */

