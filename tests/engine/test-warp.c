/* test-warp.c - the warp of engine/flow.c (shaders/flow_warp.comp) on its
 * own: each filter against a plain-C reference, and what repeated warps
 * keep of the high frequencies.
 *
 *   /warp/ref           bilinear against a plain-C reference (random flows
 *                       reaching past the borders)
 *   /warp/bicubic       Catmull-Rom, clamped and mirrored at the borders,
 *                       against a plain-C reference (random smooth flows
 *                       reaching past the borders, sizes down to 2x1):
 *                       < 1e-5, its overshoot left unclamped; integer flows
 *                       move pixels exactly
 *   /warp/lanczos       Lanczos-3, mirrored, against the reference: < 1e-5;
 *                       integer flows move pixels exactly, a constant stays
 *                       constant
 *   /warp/filtered-bilinear
 *                       filter 0 through sf_flow_record_warp_filtered: the
 *                       same bits as sf_flow_record_warp_by, _record_warp
 *                       and sf_flow_warp
 *   /warp/repeated      six waves at 0.25 cycles/px warped 10 times by
 *                       (0.5, 0.25) px: the Laplacian's energy kept in the
 *                       interior, against the filters' theoretical gain
 *                       (bilinear 0.0052, bicubic 0.289 of the original,
 *                       Lanczos-3 1.57: it amplifies a little)
 */
#include "engine-test-util.h"
#include "flow.h"

static SfDevice *dev;

static void
ref_warp (const float *src, int c, int w, int h, const float *flow,
    double *dst)
{
  gsize n = (gsize) w * h;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      gsize k = (gsize) y * w + x;
      double fx = CLAMP (x + (double) flow[k], 0.0, w - 1.0);
      double fy = CLAMP (y + (double) flow[n + k], 0.0, h - 1.0);
      int x0 = (int) floor (fx), y0 = (int) floor (fy);
      int x1 = MIN (x0 + 1, w - 1), y1 = MIN (y0 + 1, h - 1);
      double ax = fx - x0, ay = fy - y0;
      for (int ch = 0; ch < c; ch++) {
        const float *s = src + ch * n;
        double r0 = (1 - ax) * s[y0 * w + x0] + ax * s[y0 * w + x1];
        double r1 = (1 - ax) * s[y1 * w + x0] + ax * s[y1 * w + x1];
        dst[ch * n + k] = (1 - ay) * r0 + ay * r1;
      }
    }
}

static void
test_warp_ref (void)
{
  const int cases[][3] = { {37, 23, 3}, {16, 16, 1}, {5, 9, 5}, {1, 7, 2},
  {64, 48, 3}
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *err = NULL;
    int w = cases[i][0], h = cases[i][1], c = cases[i][2];
    gsize n = (gsize) w * h;
    float *src = g_new (float, c * n), *flow = g_new (float, 2 * n);
    test_fill (src, c * n, 40 + i, 0, 1);
    test_fill (flow, 2 * n, 50 + i, -7, 7);
    flow[0] = 0.5f;             /* some exact and integer positions too */
    flow[n] = 0.0f;
    for (gsize k = 1; k < n; k += 5) {
      flow[k] = roundf (flow[k]);
      flow[n + k] = roundf (flow[n + k]);
    }
    SfFlow *f = sf_flow_new (dev, w, h, &err);
    g_assert_no_error (err);
    g_assert_true (sf_buffer_upload (dev, sf_flow_get_backward (f), 0, flow,
            2 * n * sizeof (float), &err));
    SfBuffer *bs = test_upload (dev, src, c * n);
    SfBuffer *bd = test_upload (dev, NULL, c * n);
    g_assert_true (sf_flow_warp (f, bs, c, bd, &err));
    g_assert_no_error (err);
    float *out = test_download (dev, bd, c * n);
    double *ref = g_new (double, c * n);
    ref_warp (src, c, w, h, flow, ref);
    double e = test_max_abs (out, ref, c * n);
    g_test_message ("warp %dx%d, %d channels: max |GPU - reference| %.2e",
        w, h, c, e);
    g_assert_cmpfloat (e, <, 1e-5);

    /* and through the forward flow with the record variant */
    g_assert_true (sf_buffer_upload (dev, sf_flow_get_forward (f), 0, flow,
            2 * n * sizeof (float), &err));
    VkCommandBuffer cb;
    g_assert_true (sf_cmd_begin (dev, &cb, &err));
    g_assert_true (sf_flow_record_warp_by (f, cb, bs, c,
            sf_flow_get_forward (f), bd, &err));
    g_assert_true (sf_cmd_submit_wait (dev, &cb, 1, TRUE, &err));
    g_assert_no_error (err);
    g_free (out);
    out = test_download (dev, bd, c * n);
    g_assert_cmpfloat (test_max_abs (out, ref, c * n), <, 1e-5);

    /* a wrong size is an error, not a crash */
    g_assert_false (sf_flow_warp (f, bs, c + 1, bd, &err));
    g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
    g_clear_error (&err);

    sf_buffer_free (dev, bs);
    sf_buffer_free (dev, bd);
    sf_flow_free (f);
    g_free (src);
    g_free (flow);
    g_free (out);
    g_free (ref);
  }
}

/* ---- bicubic warp ------------------------------------------------------- */

/* Catmull-Rom (a = -0.5) weights of the taps floor - 1 .. floor + 2 at
 * fraction t */
static void
cubic_weights (double t, double w[4])
{
  double t2 = t * t, t3 = t2 * t;
  w[0] = -0.5 * t3 + t2 - 0.5 * t;
  w[1] = 1.5 * t3 - 2.5 * t2 + 1;
  w[2] = -1.5 * t3 + 2 * t2 + 0.5 * t;
  w[3] = 0.5 * t3 - 0.5 * t2;
}

/* a sample position outside [0, last] mirrored about the end it passed */
static double
ref_mirror (double v, double last)
{
  return v < 0 ? -v : v > last ? 2 * last - v : v;
}

/* Lanczos-3 weights of the taps floor - 2 .. floor + 3 at fraction t,
 * normalised to sum 1 (the shader's lanczos_weights) */
static void
lanczos_weights (double t, double w[6])
{
  double sum = 0;
  for (int i = 0; i < 6; i++) {
    double d = t - (i - 2), a = G_PI * d;
    w[i] = fabs (d) < 1e-9 ? 1.0 : 3.0 * sin (a) * sin (a / 3.0) / (a * a);
    sum += w[i];
  }
  for (int i = 0; i < 6; i++)
    w[i] /= sum;
}

/* a filter's taps: how many, the first one's offset from floor, weights */
static int
filter_weights (SfWarpFilter filter, double t, double w[6], int *o0)
{
  if (filter == SF_WARP_LANCZOS_MIRROR) {
    lanczos_weights (t, w);
    *o0 = -2;
    return 6;
  }
  if (filter == SF_WARP_BILINEAR) {
    w[0] = 1 - t;
    w[1] = t;
    *o0 = 0;
    return 2;
  }
  cubic_weights (t, w);
  *o0 = -1;
  return 4;
}

/* plain-C bicubic (Catmull-Rom) or Lanczos-3 warp (double): the sample
 * position clamped as in ref_warp (first mirrored into the image for the
 * mirrored filters), the taps clamped to the edge, no clamping of the
 * value */
static void
ref_warp_filtered (const float *src, int c, int w, int h, const float *flow,
    SfWarpFilter filter, double *dst)
{
  gsize n = (gsize) w * h;
  gboolean mirror = filter == SF_WARP_BICUBIC_MIRROR
      || filter == SF_WARP_LANCZOS_MIRROR;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      gsize k = (gsize) y * w + x;
      double fx = x + (double) flow[k], fy = y + (double) flow[n + k];
      if (mirror) {
        fx = ref_mirror (fx, w - 1.0);
        fy = ref_mirror (fy, h - 1.0);
      }
      fx = CLAMP (fx, 0.0, w - 1.0);
      fy = CLAMP (fy, 0.0, h - 1.0);
      int x0 = (int) floor (fx), y0 = (int) floor (fy), ox, oy;
      double wx[6], wy[6];
      int taps = filter_weights (filter, fx - x0, wx, &ox);
      filter_weights (filter, fy - y0, wy, &oy);
      for (int ch = 0; ch < c; ch++) {
        double v = 0;
        for (int j = 0; j < taps; j++) {
          const float *row = src + ch * n
              + (gsize) CLAMP (y0 + oy + j, 0, h - 1) * w;
          for (int i = 0; i < taps; i++)
            v += wy[j] * wx[i] * row[CLAMP (x0 + ox + i, 0, w - 1)];
        }
        dst[ch * n + k] = v;
      }
    }
}

/* a smooth random flow [2][h][w]: per plane an offset and two sinusoids,
 * up to about amp px, so that it reaches past the borders */
static void
smooth_flow (float *flow, int w, int h, double amp, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  gsize n = (gsize) w * h;
  for (int pl = 0; pl < 2; pl++) {
    double fx[2], fy[2], ph[2], off = g_rand_double_range (r, -0.3, 0.3) * amp;
    for (int i = 0; i < 2; i++) {
      fx[i] = g_rand_double_range (r, -0.08, 0.08);
      fy[i] = g_rand_double_range (r, -0.08, 0.08);
      ph[i] = g_rand_double_range (r, 0, 2 * G_PI);
    }
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double v = off;
        for (int i = 0; i < 2; i++)
          v += 0.35 * amp * sin (2 * G_PI * (fx[i] * x + fy[i] * y) + ph[i]);
        flow[pl * n + (gsize) y * w + x] = (float) v;
      }
  }
  g_rand_free (r);
}

/* src warped by flow (NULL: f's backward flow) through
 * sf_flow_record_warp_filtered, downloaded */
static float *
gpu_warp (SfFlow * f, SfBuffer * bs, int c, SfBuffer * bflow,
    SfWarpFilter filter, SfBuffer * bd, gsize n)
{
  GError *err = NULL;
  VkCommandBuffer cb;
  g_assert_true (sf_cmd_begin (dev, &cb, &err));
  g_assert_true (sf_flow_record_warp_filtered (f, cb, bs, c, bflow, filter,
          bd, &err));
  g_assert_true (sf_cmd_submit_wait (dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
  return test_download (dev, bd, c * n);
}

/* an integer flow moves the pixels exactly (the weights are 0, 1, 0, 0;
 * Lanczos's within float rounding of sin (k pi)) */
static void
check_integer_shift (SfFlow * f, SfBuffer * bs, const float *src, int c,
    int w, int h, SfBuffer * bd, SfWarpFilter filter, double tol)
{
  gsize n = (gsize) w * h;
  float *flow = g_new (float, 2 * n);
  for (gsize k = 0; k < n; k++) {
    flow[k] = 2.0f;
    flow[n + k] = -1.0f;
  }
  SfBuffer *bf = test_upload (dev, flow, 2 * n);
  float *out = gpu_warp (f, bs, c, bf, filter, bd, n);
  for (int ch = 0; ch < c; ch++)
    for (int y = 1; y < h; y++)
      for (int x = 0; x + 2 < w; x++)
        g_assert_cmpfloat (fabs (out[ch * n + (gsize) y * w + x]
                - src[ch * n + (gsize) (y - 1) * w + x + 2]), <=, tol);
  sf_buffer_free (dev, bf);
  g_free (out);
  g_free (flow);
}

/* One case of the filter tests: a random source (c planes of w x h), a
 * random smooth flow reaching past the borders, uploaded both as f's
 * backward flow and as a buffer of its own, and a destination. */
typedef struct
{
  int w, h, c;
  gsize n;
  float *src, *flow;
  double *ref;
  SfFlow *f;
  SfBuffer *bs, *bd, *bf;
} WarpCase;

static const int warp_cases[][3] = { {37, 29, 3}, {16, 16, 1}, {5, 9, 5},
{1, 7, 2}, {2, 1, 1}
};

static void
warp_case_init (WarpCase * t, const int size[3], guint32 src_seed,
    guint32 flow_seed)
{
  GError *err = NULL;
  t->w = size[0];
  t->h = size[1];
  t->c = size[2];
  t->n = (gsize) t->w * t->h;
  t->src = g_new (float, t->c * t->n);
  t->flow = g_new (float, 2 * t->n);
  t->ref = g_new (double, t->c * t->n);
  test_fill (t->src, t->c * t->n, src_seed, 0, 1);
  smooth_flow (t->flow, t->w, t->h, 4.0, flow_seed);
  t->f = sf_flow_new (dev, t->w, t->h, &err);
  g_assert_no_error (err);
  g_assert_true (sf_buffer_upload (dev, sf_flow_get_backward (t->f), 0,
          t->flow, 2 * t->n * sizeof (float), &err));
  t->bs = test_upload (dev, t->src, t->c * t->n);
  t->bd = test_upload (dev, NULL, t->c * t->n);
  t->bf = test_upload (dev, t->flow, 2 * t->n);
}

static void
warp_case_clear (WarpCase * t)
{
  sf_buffer_free (dev, t->bs);
  sf_buffer_free (dev, t->bd);
  sf_buffer_free (dev, t->bf);
  sf_flow_free (t->f);
  g_free (t->src);
  g_free (t->flow);
  g_free (t->ref);
}

static void
test_warp_bicubic (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (warp_cases); i++) {
    GError *err = NULL;
    WarpCase t;
    warp_case_init (&t, warp_cases[i], 80 + i, 90 + i);
    int w = t.w, h = t.h, c = t.c;
    gsize n = t.n;
    float *src = t.src, *flow = t.flow;
    double *ref = t.ref, lo = 1, hi = 0;
    SfFlow *f = t.f;
    SfBuffer *bs = t.bs, *bd = t.bd, *bf = t.bf;
    float *out = gpu_warp (f, bs, c, NULL, SF_WARP_BICUBIC, bd, n);
    ref_warp_filtered (src, c, w, h, flow, SF_WARP_BICUBIC, ref);
    double e = test_max_abs (out, ref, c * n);
    for (gsize k = 0; k < c * n; k++) {
      lo = MIN (lo, out[k]);
      hi = MAX (hi, out[k]);
    }
    g_test_message ("bicubic warp %dx%d, %d channels: max |GPU - reference| "
        "%.2e; values in [%.3f, %.3f] from a source in [0, 1]", w, h, c, e,
        lo, hi);
    g_assert_cmpfloat (e, <, 1e-5);
    /* the overshoot is left to the caller */
    if (i == 0)
      g_assert_true (lo < 0 || hi > 1);

    /* the same flow passed explicitly: the same bits */
    float *out2 = gpu_warp (f, bs, c, bf, SF_WARP_BICUBIC, bd, n);
    g_assert_cmpmem (out2, c * n * 4, out, c * n * 4);
    check_integer_shift (f, bs, src, c, w, h, bd, SF_WARP_BICUBIC, 0.0);

    /* mirrored: the flow reaches past the borders, where the positions
     * differ from the clamped ones */
    float *outm = gpu_warp (f, bs, c, NULL, SF_WARP_BICUBIC_MIRROR, bd, n);
    ref_warp_filtered (src, c, w, h, flow, SF_WARP_BICUBIC_MIRROR, ref);
    double em = test_max_abs (outm, ref, c * n);
    g_test_message ("mirrored: max |GPU - reference| %.2e", em);
    g_assert_cmpfloat (em, <, 1e-5);
    if (i == 0)
      g_assert_cmpint (memcmp (outm, out, c * n * 4), !=, 0);
    g_free (outm);

    /* an unknown filter or a wrong size is an error (the smallest buffers
     * hold 16 bytes: one channel more fits the tiny ones) */
    VkCommandBuffer cb;
    g_assert_true (sf_cmd_begin (dev, &cb, &err));
    g_assert_false (sf_flow_record_warp_filtered (f, cb, bs, c, NULL,
            (SfWarpFilter) 4, bd, &err));
    g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
    g_clear_error (&err);
    if (n >= 4) {
      g_assert_false (sf_flow_record_warp_filtered (f, cb, bs, c + 1, NULL,
              SF_WARP_BICUBIC, bd, &err));
      g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
      g_clear_error (&err);
    }
    vkEndCommandBuffer (cb);
    sf_cmd_free (dev, cb);

    warp_case_clear (&t);
    g_free (out);
    g_free (out2);
  }
}

/* Lanczos-3, mirrored, against the plain-C reference; integer flows move
 * pixels exactly; a constant stays constant (weights summing to 1) */
static void
test_warp_lanczos (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (warp_cases); i++) {
    GError *err = NULL;
    WarpCase t;
    warp_case_init (&t, warp_cases[i], 180 + i, 190 + i);
    int w = t.w, h = t.h, c = t.c;
    gsize n = t.n;
    float *src = t.src, *flow = t.flow;
    double *ref = t.ref;
    SfFlow *f = t.f;
    SfBuffer *bs = t.bs, *bd = t.bd, *bf = t.bf;
    float *out = gpu_warp (f, bs, c, bf, SF_WARP_LANCZOS_MIRROR, bd, n);
    ref_warp_filtered (src, c, w, h, flow, SF_WARP_LANCZOS_MIRROR, ref);
    double e = test_max_abs (out, ref, c * n);
    /* and it is not Catmull-Rom */
    ref_warp_filtered (src, c, w, h, flow, SF_WARP_BICUBIC_MIRROR, ref);
    double ec = test_max_abs (out, ref, c * n);
    g_test_message ("Lanczos-3 warp %dx%d, %d channels: max |GPU - "
        "reference| %.2e (%.2e from Catmull-Rom)", w, h, c, e, ec);
    g_assert_cmpfloat (e, <, 1e-5);
    if (i == 0)
      g_assert_cmpfloat (ec, >, 1e-3);
    check_integer_shift (f, bs, src, c, w, h, bd, SF_WARP_LANCZOS_MIRROR,
        1e-6);

    for (gsize k = 0; k < c * n; k++)
      src[k] = 0.625f;
    g_assert_true (sf_buffer_upload (dev, bs, 0, src, c * n * 4, &err));
    g_free (out);
    out = gpu_warp (f, bs, c, bf, SF_WARP_LANCZOS_MIRROR, bd, n);
    for (gsize k = 0; k < c * n; k++)
      g_assert_cmpfloat (fabs (out[k] - 0.625), <, 1e-6);

    warp_case_clear (&t);
    g_free (out);
  }
}

/* filter 0 through sf_flow_record_warp_filtered: the bits of
 * sf_flow_record_warp_by, sf_flow_record_warp and sf_flow_warp */
static void
test_warp_filtered_bilinear (void)
{
  const int cases[][3] = { {37, 23, 3}, {5, 9, 5}, {64, 48, 3} };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *err = NULL;
    int w = cases[i][0], h = cases[i][1], c = cases[i][2];
    gsize n = (gsize) w * h, sz = c * n * 4;
    float *src = g_new (float, c * n), *flow = g_new (float, 2 * n);
    test_fill (src, c * n, 110 + i, 0, 1);
    test_fill (flow, 2 * n, 120 + i, -7, 7);
    for (gsize k = 1; k < n; k += 5) {
      flow[k] = roundf (flow[k]);
      flow[n + k] = roundf (flow[n + k]);
    }
    SfFlow *f = sf_flow_new (dev, w, h, &err);
    g_assert_no_error (err);
    g_assert_true (sf_buffer_upload (dev, sf_flow_get_backward (f), 0, flow,
            2 * n * sizeof (float), &err));
    SfBuffer *bs = test_upload (dev, src, c * n);
    SfBuffer *bd = test_upload (dev, NULL, c * n);
    SfBuffer *bf = test_upload (dev, flow, 2 * n);

    VkCommandBuffer cb;
    g_assert_true (sf_cmd_begin (dev, &cb, &err));
    g_assert_true (sf_flow_record_warp_by (f, cb, bs, c, bf, bd, &err));
    g_assert_true (sf_cmd_submit_wait (dev, &cb, 1, TRUE, &err));
    g_assert_no_error (err);
    float *by = test_download (dev, bd, c * n);
    g_assert_true (sf_flow_warp (f, bs, c, bd, &err));
    g_assert_no_error (err);
    float *warp = test_download (dev, bd, c * n);
    float *fl = gpu_warp (f, bs, c, bf, SF_WARP_BILINEAR, bd, n);
    float *fl_bwd = gpu_warp (f, bs, c, NULL, SF_WARP_BILINEAR, bd, n);
    float *cubic = gpu_warp (f, bs, c, NULL, SF_WARP_BICUBIC, bd, n);
    g_assert_cmpmem (fl, sz, by, sz);
    g_assert_cmpmem (fl_bwd, sz, by, sz);
    g_assert_cmpmem (warp, sz, by, sz);
    /* and the push constant reaches the shader */
    g_assert_true (memcmp (cubic, by, sz) != 0);
    g_test_message ("bilinear warp %dx%d, %d channels: filtered and "
        "unfiltered entry points give the same bits", w, h, c);

    g_assert_true (sf_cmd_begin (dev, &cb, &err));
    g_assert_false (sf_flow_record_warp_by (f, cb, bs, c, NULL, bd, &err));
    g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
    g_clear_error (&err);
    vkEndCommandBuffer (cb);
    sf_cmd_free (dev, cb);

    sf_buffer_free (dev, bs);
    sf_buffer_free (dev, bd);
    sf_buffer_free (dev, bf);
    sf_flow_free (f);
    g_free (src); g_free (flow); g_free (by); g_free (warp);
    g_free (fl); g_free (fl_bwd); g_free (cubic);
  }
}

/* ---- repeated warps: how much of the high frequencies is left --------- */

#define REP_SIZE 96
#define REP_WARPS 10
#define REP_DX 0.5
#define REP_DY 0.25
#define REP_WAVES 6
/* The interior the borders never reach: one Lanczos-3 warp by (0.5, 0.25)
 * reads x - 2 .. x + 3 (and y - 2 .. y + 3), ten read x - 20 .. x + 30,
 * and the Laplacian one more pixel each side. */
#define REP_LO 21
#define REP_HI (REP_SIZE - 31)

typedef struct
{
  double u, v, amp, ph;         /* cycles/px in x and y, amplitude, phase */
} Wave;

/* REP_WAVES sinusoids at a quarter of the sampling rate (0.25 cycles/px)
 * in directions spread over a half turn, random phases */
static void
waves_init (Wave * wv, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (int i = 0; i < REP_WAVES; i++) {
    double a = G_PI * (i + g_rand_double_range (r, 0, 1)) / REP_WAVES;
    wv[i].u = 0.25 * cos (a);
    wv[i].v = 0.25 * sin (a);
    wv[i].amp = 0.06;
    wv[i].ph = g_rand_double_range (r, 0, 2 * G_PI);
  }
  g_rand_free (r);
}

static void
waves_render (const Wave * wv, float *img)
{
  for (int y = 0; y < REP_SIZE; y++)
    for (int x = 0; x < REP_SIZE; x++) {
      double v = 0.5;
      for (int i = 0; i < REP_WAVES; i++)
        v += wv[i].amp * sin (2 * G_PI * (wv[i].u * x + wv[i].v * y)
            + wv[i].ph);
      img[y * REP_SIZE + x] = (float) v;
    }
}

/* The complex gain of one warp by a constant shift 0 <= d < 1 at angular
 * frequency om (rad/px): a pixel becomes sum_j w_j src(x + o_j). */
static void
warp_gain (SfWarpFilter filter, double d, double om, double *re, double *im)
{
  double w[6];
  int o0, taps = filter_weights (filter, d, w, &o0);
  *re = *im = 0;
  for (int j = 0; j < taps; j++) {
    *re += w[j] * cos (om * (o0 + j));
    *im += w[j] * sin (om * (o0 + j));
  }
}

/* the waves after REP_WARPS warps away from the borders (theory): each
 * multiplied by (Hx Hy)^REP_WARPS */
static void
waves_warped (const Wave * wv, SfWarpFilter filter, Wave * out)
{
  for (int i = 0; i < REP_WAVES; i++) {
    double xr, xi, yr, yi;
    warp_gain (filter, REP_DX, 2 * G_PI * wv[i].u, &xr, &xi);
    warp_gain (filter, REP_DY, 2 * G_PI * wv[i].v, &yr, &yi);
    double gr = xr * yr - xi * yi, gi = xr * yi + xi * yr;
    out[i] = wv[i];
    out[i].amp *= pow (hypot (gr, gi), REP_WARPS);
    out[i].ph += REP_WARPS * atan2 (gi, gr);
  }
}

/* variance of the 5-point Laplacian over the interior */
static double
lap_energy (const float *img)
{
  double s = 0, s2 = 0;
  int cnt = 0;
  for (int y = REP_LO; y < REP_HI; y++)
    for (int x = REP_LO; x < REP_HI; x++) {
      const float *p = img + y * REP_SIZE + x;
      double l = (double) p[-1] + p[1] + p[-REP_SIZE] + p[REP_SIZE] - 4.0 * p[0];
      s += l;
      s2 += l * l;
      cnt++;
    }
  return s2 / cnt - (s / cnt) * (s / cnt);
}

/* img warped REP_WARPS times in a row by bf, in one command buffer */
static float *
warp_repeatedly (SfFlow * f, const float *img, SfBuffer * bf,
    SfWarpFilter filter)
{
  GError *err = NULL;
  gsize n = REP_SIZE * REP_SIZE;
  SfBuffer *b[2] = { test_upload (dev, img, n), test_upload (dev, NULL, n) };
  VkCommandBuffer cb;
  g_assert_true (sf_cmd_begin (dev, &cb, &err));
  for (int i = 0; i < REP_WARPS; i++)
    g_assert_true (sf_flow_record_warp_filtered (f, cb, b[i % 2], 1, bf,
            filter, b[(i + 1) % 2], &err));
  g_assert_true (sf_cmd_submit_wait (dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
  float *out = test_download (dev, b[REP_WARPS % 2], n);
  sf_buffer_free (dev, b[0]);
  sf_buffer_free (dev, b[1]);
  return out;
}

static void
test_warp_repeated (void)
{
  static const SfWarpFilter filters[] = { SF_WARP_BILINEAR, SF_WARP_BICUBIC,
    SF_WARP_LANCZOS_MIRROR
  };
  static const char *names[] = { "bilinear", "bicubic", "Lanczos-3" };
  GError *err = NULL;
  gsize n = REP_SIZE * REP_SIZE;
  Wave wv[REP_WAVES], ww[REP_WAVES];
  float *img = g_new (float, n), *pred = g_new (float, n);
  float *flow = g_new (float, 2 * n);
  double kept[3], g[3];

  waves_init (wv, 900);
  waves_render (wv, img);
  double e0 = lap_energy (img);
  for (gsize k = 0; k < n; k++) {
    flow[k] = REP_DX;
    flow[n + k] = REP_DY;
  }
  SfFlow *f = sf_flow_new (dev, REP_SIZE, REP_SIZE, &err);
  g_assert_no_error (err);
  SfBuffer *bf = test_upload (dev, flow, 2 * n);
  for (int i = 0; i < 3; i++) {
    float *out = warp_repeatedly (f, img, bf, filters[i]);
    double gi;
    waves_warped (wv, filters[i], ww);
    waves_render (ww, pred);
    double theory = lap_energy (pred) / e0;
    kept[i] = lap_energy (out) / e0;
    warp_gain (filters[i], 0.5, G_PI / 2, &g[i], &gi);
    g[i] = hypot (g[i], gi);
    g_test_message ("%d %s warps by (%.2f, %.2f) px of %d waves at 0.25 "
        "cycles/px, %dx%d: Laplacian energy kept %.4f (theory %.4f), "
        "amplitude %.3f; one warp by 0.5 px in one dimension keeps %.3f of "
        "the amplitude", REP_WARPS, names[i], REP_DX, REP_DY, REP_WAVES,
        REP_SIZE, REP_SIZE, kept[i], theory, sqrt (kept[i]), g[i]);
    /* float rounding is far below this */
    g_assert_cmpfloat (fabs (kept[i] - theory), <=, 0.02 * theory);
    g_free (out);
  }
  g_test_message ("bicubic keeps %.1f times the energy bilinear keeps",
      kept[1] / kept[0]);
  /* measured 0.0052 and 0.289: a bicubic path falling back to bilinear
   * fails all three */
  g_assert_cmpfloat (kept[1], >=, 10 * kept[0]);
  g_assert_cmpfloat (kept[1], >=, 0.2);
  g_assert_cmpfloat (kept[1], <=, 1.0);
  /* Lanczos-3 passes a quarter of the sampling rate a little amplified
   * (1.022 per warp by 0.5 px; its gain peaks at 1.027): it is for a
   * pattern sampled once, not chained */
  g_assert_cmpfloat (g[2], >, 1.0);
  g_assert_cmpfloat (g[2], <, 1.03);
  g_assert_cmpfloat (kept[2], >, 2 * kept[1]);

  sf_buffer_free (dev, bf);
  sf_flow_free (f);
  g_free (img);
  g_free (pred);
  g_free (flow);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dev = test_device ();
  g_test_add_func ("/warp/ref", test_warp_ref);
  g_test_add_func ("/warp/bicubic", test_warp_bicubic);
  g_test_add_func ("/warp/lanczos", test_warp_lanczos);
  g_test_add_func ("/warp/filtered-bilinear", test_warp_filtered_bilinear);
  g_test_add_func ("/warp/repeated", test_warp_repeated);
  int r = g_test_run ();
  sf_device_free (dev);
  return r;
}
