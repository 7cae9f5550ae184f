/* optimize.c - the optimisers (optim.c: L-BFGS, Adam) run on a stylizer
 * through the GPU SfVecOps (vecops.c): a still image's optimisation
 * (sf_stylizer_optimize) and a video frame's, whose optimiser memory goes
 * on from the previous frame of the sequence (sf_stylizer_optimize_frame,
 * sf_stylizer_forget_history).  Above the stylizer and the adapter, so
 * that neither needs the other's caller.
 */
#include "stylizer.h"
#include "vecops.h"

/* ---- optimisation ------------------------------------------------------ */

typedef struct
{
  SfVecCtx vec;
  SfProgressFunc progress;
  gpointer user_data;
} OptCtx;

static gboolean
opt_progress (int iteration, double f, gpointer user_data)
{
  OptCtx *c = user_data;
  SfLossTerms t = { .total = f };

  if (!c->progress)
    return TRUE;
  sf_vec_ctx_find_terms (&c->vec, f, &t);
  return c->progress (iteration, &t, c->user_data);
}

/* The L-BFGS options for params: history 20 and step scale 1 unless
 * params give others. */
static void
lbfgs_options (const SfParams * params, int iterations, SfLbfgsOptions * o)
{
  sf_lbfgs_options_init (o, iterations);
  o->history = params->history > 0 ? params->history : 20;
  o->lr = params->learning_rate > 0 ? params->learning_rate : 1.0;
}

/* Runs the optimiser chosen in params through ops. */
static gboolean
run_optimizer (SfStylizer * st, const SfParams * params, int iterations,
    OptCtx * c, double *f, int *iters, GError ** error)
{
  const SfVecOps *ops = sf_vec_ops_get (sf_vec_queue_get_mode (st->vq));
  SfLbfgsOptions o;
  int evals = 0;

  if (params->optimizer == SF_OPTIMIZER_ADAM)
    return sf_adam_minimize (ops, &c->vec, (SfVec *) st->x, iterations,
        params->learning_rate, opt_progress, c, f, iters, error);
  lbfgs_options (params, iterations, &o);
  return sf_lbfgs_minimize (ops, &c->vec, (SfVec *) st->x, &o, opt_progress,
      c, f, iters, &evals, error);
}

gboolean
sf_stylizer_optimize (SfStylizer *st, const SfParams *params, int iterations,
    SfProgressFunc progress, gpointer user_data, SfLossTerms *final,
    int *done, GError **error)
{
  OptCtx c;
  double f = 0.0;
  int iters = 0;

  if (!sf_stylizer_check_ready (st, error) || !sf_stylizer_flush (st, error))
    return FALSE;
  if (iterations <= 0) {
    if (done)
      *done = 0;
    return final ? sf_stylizer_evaluate (st, params, final, NULL, error) : TRUE;
  }
  sf_vec_ctx_init (&c.vec, st, params);
  c.progress = progress;
  c.user_data = user_data;
  /* the optimisers end with nothing pending; after an error, what was
   * recorded is dropped */
  if (!run_optimizer (st, params, iterations, &c, &f, &iters, error)
      || !sf_stylizer_flush (st, error)) {
    sf_vec_queue_discard (st->vq);
    return FALSE;
  }
  if (done)
    *done = iters;
  if (final && !sf_vec_ctx_find_terms (&c.vec, f, final))
    return sf_stylizer_evaluate (st, params, final, NULL, error);
  return TRUE;
}

/* ---- optimising video frames ------------------------------------------- */

typedef struct
{
  OptCtx opt;
  gint64 start_us;
  gint64 deadline_us;
  gboolean deadline_hit;
} FrameCtx;

/* Stops when the next iteration, at this call's mean pace, would end
 * past the deadline. */
static gboolean
frame_progress (int iteration, double f, gpointer user_data)
{
  FrameCtx *c = user_data;
  gint64 now, mean;

  if (c->deadline_us <= 0)
    return TRUE;
  now = g_get_monotonic_time ();
  mean = (now - c->start_us) / MAX (iteration, 1);
  c->deadline_hit = now + mean > c->deadline_us;
  return !c->deadline_hit;
}

static gboolean
same_params (const SfParams * a, const SfParams * b)
{
  return a->weights.content == b->weights.content
      && a->weights.style == b->weights.style
      && a->weights.tv == b->weights.tv
      && a->weights.temporal == b->weights.temporal
      && a->weights.range == b->weights.range
      && sf_style_layer_mask (&a->weights) == sf_style_layer_mask (&b->weights)
      && a->optimizer == b->optimizer
      && a->learning_rate == b->learning_rate && a->history == b->history;
}

void
sf_stylizer_forget_history (SfStylizer *st)
{
  SfVecCtx c;

  if (!st->memory)
    return;
  sf_vec_ctx_init (&c, st, NULL);
  sf_optim_memory_forget (st->memory, sf_vec_ops_get (SF_VEC_DEFERRED), &c);
}

int
sf_stylizer_get_history (const SfStylizer *st)
{
  return st->memory ? sf_optim_memory_size (st->memory) : 0;
}

static gboolean
run_frame_optimizer (SfStylizer * st, const SfParams * params,
    int iterations, FrameCtx * c, SfOptimResult * r, GError ** error)
{
  const SfVecOps *ops = sf_vec_ops_get (sf_vec_queue_get_mode (st->vq));
  SfLbfgsOptions o;

  if (params->optimizer == SF_OPTIMIZER_ADAM)
    return sf_adam_minimize_warm (ops, &c->opt.vec, (SfVec *) st->x,
        iterations, params->learning_rate, st->memory, frame_progress, c, r,
        error);
  lbfgs_options (params, iterations, &o);
  /* every iteration asked for runs: no evaluation budget */
  o.max_eval = G_MAXINT;
  return sf_lbfgs_minimize_warm (ops, &c->opt.vec, (SfVec *) st->x, &o,
      st->memory, frame_progress, c, r, error);
}

gboolean
sf_stylizer_optimize_frame (SfStylizer *st, const SfParams *params,
    int iterations, gint64 deadline_us, SfFrameResult *res, GError **error)
{
  FrameCtx c = { 0, };
  SfOptimResult r = { 0, };
  int evals0 = st->evals;

  if (!sf_stylizer_check_ready (st, error) || !sf_stylizer_flush (st, error))
    return FALSE;
  if (!st->memory)
    st->memory = sf_optim_memory_new ();
  st->memory_forget = sf_stylizer_forget_history;
  if (!same_params (params, &st->memory_params))
    sf_stylizer_forget_history (st);
  st->memory_params = *params;
  sf_vec_ctx_init (&c.opt.vec, st, params);
  c.start_us = g_get_monotonic_time ();
  c.deadline_us = deadline_us;
  if (!run_frame_optimizer (st, params, MAX (iterations, 1), &c, &r, error)
      || !sf_stylizer_flush (st, error)) {
    sf_vec_queue_discard (st->vq);
    sf_stylizer_forget_history (st);
    return FALSE;
  }
  res->iterations = r.iterations;
  res->evaluations = st->evals - evals0;
  res->history = r.pairs_at_start;
  res->stop = c.deadline_hit ? "deadline" : sf_stop_reason_name (r.stop);
  if (!sf_vec_ctx_find_terms (&c.opt.vec, r.f, &res->terms))
    return sf_stylizer_evaluate (st, params, &res->terms, NULL, error);
  return TRUE;
}
