/* optim-cpu.h - SfVecOps on plain double arrays (optim-cpu.c) and the
 * helpers test-optim.c runs the optimisers of engine/optim.c with.
 *
 * The CPU context counts op calls, evaluations and live vectors, can fail
 * a chosen op call or evaluation, records every f it evaluates and, with
 * cpu_deferred_ops, the syncs.  Test code only.
 */
#ifndef SF_TEST_OPTIM_CPU_H
#define SF_TEST_OPTIM_CPU_H

#include "optim.h"

G_BEGIN_DECLS

/* The domain of the errors the CPU ops inject (code 1: an op call, 2: an
 * evaluation). */
#define TEST_ERROR (test_error_quark ())
GQuark test_error_quark (void);

struct SfVec
{
  int n;
  double v[];
};

typedef enum
{
  PROBLEM_ROSENBROCK,           /* sum 100 (x[i+1] - x[i]^2)^2 + (1 - x[i])^2 */
  PROBLEM_QUADRATIC,            /* 0.5 sum a[i] (x[i] - c[i])^2 */
  /* sum 0.5 (0.5 + i/4) x[i]^2 + amp sin (w x[i] + i): many local minima,
   * which send the line search through its zoom phase */
  PROBLEM_WAVY,
  /* -sum softplus (x[i]): unbounded below, so the line search runs out of
   * evaluations and the curvature test refuses pairs */
  PROBLEM_SOFTPLUS,
} Problem;

typedef struct
{
  int n;
  Problem problem;
  const double *qa;             /* quadratic */
  const double *qc;
  double amp;                   /* wavy */
  double w;
  gboolean flip;                /* return -gradient: uphill directions */
  int live;                     /* vectors allocated and not yet freed */
  int calls;                    /* op calls so far (vec_free excluded) */
  int fail_call;                /* > 0: this op call fails */
  int eval_calls;
  int fail_eval;                /* > 0: this eval call fails */
  GArray *fs;                   /* f of every successful evaluation */
  const SfVecOps *ops;          /* cpu_ops or cpu_deferred_ops */
  GArray *later;                /* Later: deferred results until sync */
  int syncs;
} CpuCtx;

/* No optional members: optim.c's fallbacks (host two-loop, values at once). */
extern const SfVecOps cpu_ops;
/* The optional members on the host: deferred results, eval_later, sync,
 * two_loop. */
extern const SfVecOps cpu_deferred_ops;
/* Problem -> its name in the torch script and the messages. */
extern const char *const problem_names[];

void cpu_init (CpuCtx * c, int n, Problem problem);
void cpu_clear (CpuCtx * c);
double rosenbrock (const double *x, int n, double *g);

#define ADAM_N 6
#define ADAM_STEPS 50
#define ADAM_LR 0.1

typedef struct
{
  GArray *iters;                /* int */
  GArray *fs;                   /* double */
  GArray *evals;                /* int: cpu->eval_calls, when cpu is set */
  const CpuCtx *cpu;
  int stop_at;                  /* > 0: return FALSE at this iteration */
} Trace;

typedef struct
{
  double f;
  int iters;
  int evals;
} Result;

SfVec *host_vec_new (int n);
SfVec *rosenbrock_start (int n);
SfVec *start_vector (int n, int seed);
void adam_problem (double *a, double *c, double *x0);
void trace_init (Trace * tr);
void trace_clear (Trace * tr);
gboolean trace_cb (int iteration, double f, gpointer user_data);
void run_lbfgs (CpuCtx * c, SfVec * x, const SfLbfgsOptions * opt, Trace * tr,
    Result * r);
void run_adam (CpuCtx * c, SfVec * x, double *a, double *qc, Trace * tr,
    Result * r);
double max_abs_diff_from (const SfVec * x, double value);

G_END_DECLS

#endif /* SF_TEST_OPTIM_CPU_H */
