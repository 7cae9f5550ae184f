/* test-flow.c - the optical flow of engine/flow.c on synthetic motions.
 *
 * The frames are samples of a continuous random "photograph" F(x, y) (per
 * channel: a few random sinusoids, value noise on a 3-pixel lattice
 * interpolated bicubically (Catmull-Rom), and soft-edged disks and bars),
 * so a frame moved by any sub-pixel translation or zoom is exact:
 *   prev(p) = F(p),  cur(p) = F(A^-1 p)   (A: the motion of the scene)
 * and the true forward flow is A(p) - p, the backward one A^-1(p) - p.
 *
 *   /flow/translate     sub-pixel translations: mean endpoint error (EPE)
 *                       over the interior (the border by the largest shift
 *                       + window + 3 left out) < 0.5 px, both directions
 *   /flow/zoom          scale 1.05 about the centre: EPE < 0.5 px
 *   /flow/warp-frame    warp(prev) by the backward flow vs. cur
 *   (the warp's filters on their own: test-warp.c)
 *   /flow/mask          a textured square moving over a static textured
 *                       background: the disoccluded strip is masked, the
 *                       background and the square's interior are not; the
 *                       mask also against a plain-C check on the same flows,
 *                       and motion-weighted (0.2 on the square, 1 on the
 *                       background)
 *   /flow/record        compute, warp and mask in one command buffer: the
 *                       same bits as the separate calls
 *   /flow/still         identical frames, sizes down to 1x1: zero flow,
 *                       mask all 1
 *   /flow/params        pyramid depth, parameter and size checks
 *   /flow/cost          sf_flow_compute time at 64x64 and 128x128; with
 *                       -m perf also one stylizer evaluation at both sizes
 */
#include "engine-test-util.h"
#include "flow.h"

static SfDevice *dev;

/* ---- the synthetic photograph ------------------------------------------ */

#define N_SIN 6
#define N_SHAPES 10
#define LAT 3.0                 /* value-noise lattice spacing, px */
#define LAT_N 96                /* lattice points per side (covers 285 px) */
#define LAT_ORIGIN (-60.0)

typedef struct
{
  double fx[N_SIN], fy[N_SIN], ph[N_SIN], amp[N_SIN][3];
  double lat[3][LAT_N * LAT_N];
  double cx[N_SHAPES], cy[N_SHAPES], r[N_SHAPES], col[N_SHAPES][3];
  int bar[N_SHAPES];
  double base[3];
} Tex;

static void
tex_init (Tex * t, guint32 seed, double size)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (int i = 0; i < N_SIN; i++) {
    double f = g_rand_double_range (r, 0.02, 0.14);
    double a = g_rand_double_range (r, 0, 2 * G_PI);
    t->fx[i] = f * cos (a);
    t->fy[i] = f * sin (a);
    t->ph[i] = g_rand_double_range (r, 0, 2 * G_PI);
    for (int c = 0; c < 3; c++)
      t->amp[i][c] = g_rand_double_range (r, 0.01, 0.04);
  }
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < LAT_N * LAT_N; i++)
      t->lat[c][i] = g_rand_double_range (r, -0.12, 0.12);
  for (int i = 0; i < N_SHAPES; i++) {
    t->cx[i] = g_rand_double_range (r, 0, size);
    t->cy[i] = g_rand_double_range (r, 0, size);
    t->r[i] = g_rand_double_range (r, 0.06, 0.2) * size;
    t->bar[i] = g_rand_int_range (r, 0, 3);
    for (int c = 0; c < 3; c++)
      t->col[i][c] = g_rand_double_range (r, -0.15, 0.15);
  }
  for (int c = 0; c < 3; c++)
    t->base[c] = g_rand_double_range (r, 0.4, 0.6);
  g_rand_free (r);
}

static double
catmull_rom (double p0, double p1, double p2, double p3, double t)
{
  return p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3
          + t * (3 * (p1 - p2) + p3 - p0)));
}

static double
lattice (const double *lat, double x, double y)
{
  double u = (x - LAT_ORIGIN) / LAT, v = (y - LAT_ORIGIN) / LAT;
  int i = (int) floor (u), j = (int) floor (v);
  double rows[4];
  g_assert (i >= 1 && j >= 1 && i + 2 < LAT_N && j + 2 < LAT_N);
  for (int k = 0; k < 4; k++) {
    const double *row = lat + (j - 1 + k) * LAT_N;
    rows[k] = catmull_rom (row[i - 1], row[i], row[i + 1], row[i + 2], u - i);
  }
  return catmull_rom (rows[0], rows[1], rows[2], rows[3], v - j);
}

/* soft step over about 1.5 px: 0 outside, 1 inside (d: signed distance,
 * negative inside) */
static double
soft_inside (double d)
{
  double s = CLAMP (0.5 - d / 1.5, 0.0, 1.0);
  return s * s * (3 - 2 * s);
}

static double
tex_eval (const Tex * t, int c, double x, double y)
{
  double v = t->base[c];
  for (int i = 0; i < N_SIN; i++)
    v += t->amp[i][c] * sin (2 * G_PI * (t->fx[i] * x + t->fy[i] * y)
        + t->ph[i]);
  v += lattice (t->lat[c], x, y);
  for (int i = 0; i < N_SHAPES; i++) {
    double dx = x - t->cx[i], dy = y - t->cy[i], d;
    if (t->bar[i] == 0)         /* disk */
      d = sqrt (dx * dx + dy * dy) - t->r[i];
    else if (t->bar[i] == 1)    /* vertical bar */
      d = fabs (dx) - 0.3 * t->r[i];
    else                        /* horizontal bar, limited */
      d = MAX (fabs (dy) - 0.25 * t->r[i], fabs (dx) - 2 * t->r[i]);
    v += t->col[i][c] * soft_inside (d);
  }
  return v;
}

/* A scene motion: a point at q in the previous frame is at A(q) in the
 * current one. */
typedef struct
{
  double dx, dy;                /* translation */
  double s, cx, cy;             /* scale s about (cx, cy) (then translated) */
} Motion;

static void
motion_apply (const Motion * m, double x, double y, double *ox, double *oy)
{
  *ox = m->cx + m->s * (x - m->cx) + m->dx;
  *oy = m->cy + m->s * (y - m->cy) + m->dy;
}

static void
motion_inverse (const Motion * m, double x, double y, double *ox, double *oy)
{
  *ox = m->cx + (x - m->dx - m->cx) / m->s;
  *oy = m->cy + (y - m->dy - m->cy) / m->s;
}

/* prev(p) = F(p), cur(p) = F(A^-1 p); true flows [2][h][w] */
static void
make_pair (const Tex * t, const Motion * m, int w, int h, float *prev,
    float *cur, float *true_f, float *true_b)
{
  gsize n = (gsize) w * h;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      gsize k = (gsize) y * w + x;
      double ax, ay, bx, by;
      motion_apply (m, x, y, &ax, &ay);
      motion_inverse (m, x, y, &bx, &by);
      for (int c = 0; c < 3; c++) {
        prev[c * n + k] = (float) tex_eval (t, c, x, y);
        cur[c * n + k] = (float) tex_eval (t, c, bx, by);
      }
      true_f[k] = (float) (ax - x);
      true_f[n + k] = (float) (ay - y);
      true_b[k] = (float) (bx - x);
      true_b[n + k] = (float) (by - y);
    }
}

/* ---- helpers ------------------------------------------------------------ */

static double
epe (const float *flow, const float *truth, int w, int h, int margin,
    double *max_out)
{
  gsize n = (gsize) w * h;
  double s = 0, mx = 0;
  long cnt = 0;
  for (int y = margin; y < h - margin; y++)
    for (int x = margin; x < w - margin; x++) {
      gsize k = (gsize) y * w + x;
      double ex = flow[k] - truth[k], ey = flow[n + k] - truth[n + k];
      double e = sqrt (ex * ex + ey * ey);
      s += e;
      mx = MAX (mx, e);
      cnt++;
    }
  if (max_out)
    *max_out = mx;
  return s / MAX (cnt, 1);
}

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

typedef struct
{
  SfFlow *flow;
  SfBuffer *prev, *cur;
  float *fwd, *bwd;
} Run;

/* Computes the flow of a frame pair; downloads both flows. */
static void
run_flow (Run * r, int w, int h, const float *prev, const float *cur)
{
  GError *err = NULL;
  gsize n = (gsize) w * h;
  r->flow = sf_flow_new (dev, w, h, &err);
  g_assert_no_error (err);
  r->prev = test_upload (dev, prev, 3 * n);
  r->cur = test_upload (dev, cur, 3 * n);
  g_assert_true (sf_flow_compute (r->flow, r->prev, r->cur, &err));
  g_assert_no_error (err);
  r->fwd = test_download (dev, sf_flow_get_forward (r->flow), 2 * n);
  r->bwd = test_download (dev, sf_flow_get_backward (r->flow), 2 * n);
}

static void
run_clear (Run * r)
{
  sf_buffer_free (dev, r->prev);
  sf_buffer_free (dev, r->cur);
  sf_flow_free (r->flow);
  g_free (r->fwd);
  g_free (r->bwd);
  memset (r, 0, sizeof (*r));
}

#define SIZE 128

/* ---- tests -------------------------------------------------------------- */

static void
check_motion (const char *what, const Motion * m, int w, int h, guint32 seed,
    int margin, double *epe_f, double *epe_b)
{
  gsize n = (gsize) w * h;
  Tex *t = g_new (Tex, 1);
  float *prev = g_new (float, 3 * n), *cur = g_new (float, 3 * n);
  float *tf = g_new (float, 2 * n), *tb = g_new (float, 2 * n);
  Run r = { 0 };
  double mf, mb, z;

  tex_init (t, seed, SIZE);
  make_pair (t, m, w, h, prev, cur, tf, tb);
  run_flow (&r, w, h, prev, cur);
  *epe_f = epe (r.fwd, tf, w, h, margin, &mf);
  *epe_b = epe (r.bwd, tb, w, h, margin, &mb);
  float *zero = g_new0 (float, 2 * n);
  z = epe (zero, tf, w, h, margin, NULL);
  g_test_message ("%s at %dx%d (%d levels): EPE forward %.3f px "
      "(max %.2f), backward %.3f px (max %.2f); zero flow's EPE %.2f px; "
      "interior margin %d px", what, w, h, sf_flow_get_levels (r.flow),
      *epe_f, mf, *epe_b, mb, z, margin);
  g_free (zero);
  run_clear (&r);
  g_free (t);
  g_free (prev);
  g_free (cur);
  g_free (tf);
  g_free (tb);
}

static void
test_translate (void)
{
  const double shifts[][2] = { {1.3, -0.7}, {3.6, 2.2}, {-5.5, 0.25} };
  SfFlowParams p;
  sf_flow_params_init (&p);
  for (guint i = 0; i < G_N_ELEMENTS (shifts); i++) {
    Motion m = { shifts[i][0], shifts[i][1], 1.0, 0, 0 };
    int margin = (int) ceil (MAX (fabs (m.dx), fabs (m.dy))) + p.radius + 3;
    double ef, eb;
    char *what = g_strdup_printf ("translation (%.2f, %.2f)", m.dx, m.dy);
    check_motion (what, &m, SIZE, SIZE, 100 + i, margin, &ef, &eb);
    g_free (what);
    g_assert_cmpfloat (ef, <, 0.5);
    g_assert_cmpfloat (eb, <, 0.5);
  }
  /* odd sizes all the way down the pyramid: 99x73 -> 50x37 -> 25x19 */
  Motion m = { 2.4, -1.7, 1.0, 0, 0 };
  double ef, eb;
  check_motion ("translation (2.40, -1.70)", &m, 99, 73, 103,
      3 + p.radius + 3, &ef, &eb);
  g_assert_cmpfloat (ef, <, 0.5);
  g_assert_cmpfloat (eb, <, 0.5);
}

static void
test_zoom (void)
{
  SfFlowParams p;
  sf_flow_params_init (&p);
  double c = (SIZE - 1) / 2.0;
  Motion m = { 0, 0, 1.05, c, c };
  /* the largest flow, at the corners: 0.05 * c * sqrt 2 = 4.5 px */
  int margin = (int) ceil (0.05 * c) + p.radius + 3;
  double ef, eb;
  check_motion ("zoom 1.05", &m, SIZE, SIZE, 200, margin, &ef, &eb);
  g_assert_cmpfloat (ef, <, 0.5);
  g_assert_cmpfloat (eb, <, 0.5);
}

/* warp(prev) by the computed backward flow against cur */
static void
test_warp_frame (void)
{
  GError *err = NULL;
  int w = SIZE, h = SIZE;
  gsize n = (gsize) w * h;
  Tex *t = g_new (Tex, 1);
  float *prev = g_new (float, 3 * n), *cur = g_new (float, 3 * n);
  float *tf = g_new (float, 2 * n), *tb = g_new (float, 2 * n);
  Motion m = { 3.6, 2.2, 1.0, 0, 0 };
  int margin = 4 + 3 + 3;
  Run r = { 0 };

  tex_init (t, 300, SIZE);
  make_pair (t, &m, w, h, prev, cur, tf, tb);
  run_flow (&r, w, h, prev, cur);
  SfBuffer *bw = test_upload (dev, NULL, 3 * n);
  g_assert_true (sf_flow_warp (r.flow, r.prev, 3, bw, &err));
  g_assert_no_error (err);
  float *warped = test_download (dev, bw, 3 * n);
  double dw = 0, d0 = 0;
  long cnt = 0;
  for (int c = 0; c < 3; c++)
    for (int y = margin; y < h - margin; y++)
      for (int x = margin; x < w - margin; x++) {
        gsize k = c * n + (gsize) y * w + x;
        dw += fabs (warped[k] - cur[k]);
        d0 += fabs (prev[k] - cur[k]);
        cnt++;
      }
  dw /= cnt;
  d0 /= cnt;
  g_test_message ("warp of the previous frame by the backward flow, "
      "translation (3.6, 2.2): mean |warp(prev) - cur| %.4f, unwarped "
      "mean |prev - cur| %.4f (ratio %.3f)", dw, d0, dw / d0);
  g_assert_cmpfloat (dw, <, 0.15 * d0);
  g_assert_cmpfloat (dw, <, 0.01);
  sf_buffer_free (dev, bw);
  g_free (warped);
  run_clear (&r);
  g_free (t);
  g_free (prev);
  g_free (cur);
  g_free (tf);
  g_free (tb);
}

/* plain-C bilinear warp (double) with the kernel's clamping */
/* plain-C version of flow_consistency.comp */
static void
ref_consistency (const float *fwd, const float *bwd, int w, int h,
    float *mask)
{
  gsize n = (gsize) w * h;
#define BW(xx, yy, c) bwd[(c) * n + (gsize) CLAMP (yy, 0, h - 1) * w \
    + CLAMP (xx, 0, w - 1)]
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      gsize k = (gsize) y * w + x;
      double bx = bwd[k], by = bwd[n + k];
      double fx = x + bx, fy = y + by;
      float m = 1;
      if (fx < 0 || fy < 0 || fx > w - 1 || fy > h - 1) {
        m = 0;
      } else {
        int x0 = (int) floor (fx), y0 = (int) floor (fy);
        int x1 = MIN (x0 + 1, w - 1), y1 = MIN (y0 + 1, h - 1);
        double ax = fx - x0, ay = fy - y0, wf[2];
        for (int c = 0; c < 2; c++) {
          const float *s = fwd + c * n;
          wf[c] = (1 - ay) * ((1 - ax) * s[y0 * w + x0] + ax * s[y0 * w + x1])
              + ay * ((1 - ax) * s[y1 * w + x0] + ax * s[y1 * w + x1]);
        }
        double sx = bx + wf[0], sy = by + wf[1];
        double b2 = bx * bx + by * by;
        if (sx * sx + sy * sy > 0.01 * (b2 + wf[0] * wf[0] + wf[1] * wf[1])
            + 0.5)
          m = 0;
        double g = 0;
        for (int c = 0; c < 2; c++) {
          double gx = 0.5 * (BW (x + 1, y, c) - BW (x - 1, y, c));
          double gy = 0.5 * (BW (x, y + 1, c) - BW (x, y - 1, c));
          g += gx * gx + gy * gy;
        }
        if (g > 0.01 * b2 + 0.002)
          m = 0;
      }
      mask[k] = m;
    }
#undef BW
}

/* A textured square (side S, at (X0, Y0) in the previous frame) moves by
 * (MDX, MDY) over a static textured background. */
#define S 40
#define X0 36
#define Y0 44
#define MDX 6
#define MDY 0

static gboolean
in_square (int x, int y, int ox, int oy)
{
  return x >= ox && x < ox + S && y >= oy && y < oy + S;
}

/* the mask motion-weighted (sf_flow_record_consistency_weighted): the
 * plain mask times mix (1, moving, smoothstep (m0, m1, |b|)), so 0.2 of
 * it on the moving square and all of it on the still background; m0 >= m1
 * or a weight outside [0, 1] is an error */
static void
check_motion_weight (Run * r, SfBuffer * bm, const float *mask, int w, int h)
{
  const SfMotionWeight mw = { 0.3f, 0.6f, 0.2f };
  const SfMotionWeight bad[] = { {0.6f, 0.3f, 0.2f}, {0.3f, 0.6f, 1.5f},
  {0.3f, 0.6f, -0.1f}
  };
  GError *err = NULL;
  VkCommandBuffer cb;
  gsize n = (gsize) w * h;
  double e = 0;
  int moving = 0, still = 0;

  g_assert_true (sf_cmd_begin (dev, &cb, &err));
  g_assert_true (sf_flow_record_consistency_weighted (r->flow, cb, bm, &mw,
          &err));
  g_assert_true (sf_cmd_submit_wait (dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
  float *wm = test_download (dev, bm, n);
  for (gsize k = 0; k < n; k++) {
    double b = hypot (r->bwd[k], r->bwd[n + k]);
    double g = 1.0 + (mw.moving - 1.0) * test_smoothstep (mw.m0, mw.m1, b);
    e = MAX (e, fabs (wm[k] - mask[k] * g));
    moving += mask[k] == 1.0f && b > 5.0 && fabs (wm[k] - 0.2) < 1e-6;
    still += mask[k] == 1.0f && b < 0.1 && wm[k] == 1.0f;
  }
  g_test_message ("motion-weighted mask: max |GPU - reference| %.2e; %d "
      "moving pixels weighted 0.2, %d still ones 1", e, moving, still);
  g_assert_cmpfloat (e, <, 1e-5);
  g_assert_cmpint (moving, >=, S * S / 2);
  g_assert_cmpint (still, >=, (int) n / 2);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    /* refused before anything is recorded */
    g_assert_false (sf_flow_record_consistency_weighted (r->flow,
            VK_NULL_HANDLE, bm, &bad[i], &err));
    g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
    g_clear_error (&err);
  }
  g_free (wm);
}

static void
test_mask (void)
{
  GError *err = NULL;
  int w = SIZE, h = SIZE;
  gsize n = (gsize) w * h;
  Tex *bg = g_new (Tex, 1), *sq = g_new (Tex, 1);
  float *prev = g_new (float, 3 * n), *cur = g_new (float, 3 * n);
  SfFlowParams p;
  Run r = { 0 };

  sf_flow_params_init (&p);
  tex_init (bg, 400, SIZE);
  tex_init (sq, 401, S);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        gsize k = c * n + (gsize) y * w + x;
        prev[k] = in_square (x, y, X0, Y0)
            ? tex_eval (sq, c, x - X0, y - Y0) : tex_eval (bg, c, x, y);
        cur[k] = in_square (x, y, X0 + MDX, Y0 + MDY)
            ? tex_eval (sq, c, x - X0 - MDX, y - Y0 - MDY)
            : tex_eval (bg, c, x, y);
      }
  run_flow (&r, w, h, prev, cur);
  SfBuffer *bm = test_upload (dev, NULL, n);
  g_assert_true (sf_flow_consistency (r.flow, bm, &err));
  g_assert_no_error (err);
  float *mask = test_download (dev, bm, n);

  /* regions of the current frame */
  int strip = 0, strip0 = 0, back = 0, back1 = 0, inner = 0, inner1 = 0;
  int border = p.radius + 2;    /* windows straddling a motion edge */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float mv = mask[(gsize) y * w + x];
      gboolean now = in_square (x, y, X0 + MDX, Y0 + MDY);
      gboolean before = in_square (x, y, X0, Y0);
      if (before && !now) {     /* disoccluded background */
        strip++;
        strip0 += mv == 0.0f;
      } else if (!in_square (x, y, X0 - border, Y0 - border)
          && !in_square (x, y, X0 + MDX - border, Y0 + MDY - border)
          && !in_square (x, y, X0 + border, Y0 + border)
          && !in_square (x, y, X0 + MDX + border, Y0 + MDY + border)
          && x >= 2 && y >= 2 && x < w - 2 && y < h - 2) {
        back++;                 /* background away from the square */
        back1 += mv == 1.0f;
      } else if (x >= X0 + MDX + border && x < X0 + MDX + S - border
          && y >= Y0 + MDY + border && y < Y0 + MDY + S - border) {
        inner++;
        inner1 += mv == 1.0f;
      }
    }
  double fs = (double) strip0 / strip, fb = (double) back1 / back;
  double fi = (double) inner1 / inner;
  g_test_message ("mask, square of %d px moving (%d, %d) over a static "
      "background: disoccluded strip masked %.3f (%d px), background kept "
      "%.3f (%d px), square interior kept %.3f (%d px); overall kept %.3f",
      S, MDX, MDY, fs, strip, fb, back, fi, inner, (strip + back + inner)
      ? (double) (strip0 + back1 + inner1) / (strip + back + inner) : 0.0);
  g_assert_cmpfloat (fs, >=, 0.9);
  g_assert_cmpfloat (fb, >=, 0.95);
  g_assert_cmpfloat (fi, >=, 0.95);

  /* the kernel against the plain-C check on the same flows: the values are
   * thresholds, so only pixels within rounding of one may differ */
  float *ref = g_new (float, n);
  ref_consistency (r.fwd, r.bwd, w, h, ref);
  int diff = 0;
  for (gsize k = 0; k < n; k++)
    diff += ref[k] != mask[k];
  g_test_message ("mask: %d of %zu pixels differ from the plain-C check",
      diff, n);
  g_assert_cmpint (diff, <=, 3);

  check_motion_weight (&r, bm, mask, w, h);

  sf_buffer_free (dev, bm);
  g_free (mask);
  g_free (ref);
  run_clear (&r);
  g_free (bg);
  g_free (sq);
  g_free (prev);
  g_free (cur);
}

/* seconds per sf_flow_compute at w x w (best of 3 after a warm-up) */
static double
time_flow (int w)
{
  GError *err = NULL;
  gsize n = (gsize) w * w;
  Tex *t = g_new (Tex, 1);
  float *prev = g_new (float, 3 * n), *cur = g_new (float, 3 * n);
  float *tf = g_new (float, 2 * n), *tb = g_new (float, 2 * n);
  Motion m = { 2.3, -1.4, 1.0, 0, 0 };
  Run r = { 0 };
  double best = 1e9;

  tex_init (t, 500, w);
  make_pair (t, &m, w, w, prev, cur, tf, tb);
  run_flow (&r, w, w, prev, cur);
  for (int i = 0; i < 3; i++) {
    double t0 = now_s ();
    g_assert_true (sf_flow_compute (r.flow, r.prev, r.cur, &err));
    g_assert_no_error (err);
    best = MIN (best, now_s () - t0);
  }
  run_clear (&r);
  g_free (t);
  g_free (prev);
  g_free (cur);
  g_free (tf);
  g_free (tb);
  return best;
}

/* seconds per sf_stylizer_evaluate at w x w (random VGG weights: the cost
 * does not depend on them) */
static double
time_evaluate (SfNet * net, int w)
{
  GError *err = NULL;
  gsize n = (gsize) 3 * w * w;
  float *img = g_new (float, n);
  SfParams params;
  SfLossTerms terms;
  double best = 1e9;

  test_fill (img, n, 7, 0, 1);
  SfStylizer *st = sf_stylizer_new (net, w, w, &err);
  g_assert_no_error (err);
  g_assert_true (sf_stylizer_set_style (st, img, w, w, &err));
  g_assert_true (sf_stylizer_set_content (st, img, &err));
  g_assert_true (sf_stylizer_set_image (st, img, &err));
  sf_params_init (&params);
  g_assert_true (sf_stylizer_evaluate (st, &params, &terms, NULL, &err));
  for (int i = 0; i < 2; i++) {
    double t0 = now_s ();
    g_assert_true (sf_stylizer_evaluate (st, &params, &terms, NULL, &err));
    g_assert_no_error (err);
    best = MIN (best, now_s () - t0);
  }
  sf_stylizer_free (st);
  g_free (img);
  return best;
}

static void
test_cost (void)
{
  const int sizes[] = { 64, 128 };
  SfVggWeights *wts = NULL;
  SfNet *net = NULL;

  if (g_test_perf ()) {
    GError *err = NULL;
    wts = sf_vgg_weights_new_default (7);
    net = sf_net_new (dev, wts, SF_POOL_MAX, &err);
    g_assert_no_error (err);
  }
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    double tf = time_flow (sizes[i]);
    if (net) {
      double te = time_evaluate (net, sizes[i]);
      g_test_message ("%dx%d on %s: sf_flow_compute %.1f ms, one "
          "sf_stylizer_evaluate %.1f ms (flow = %.3f evaluations)", sizes[i],
          sizes[i], sf_device_get_name (dev), tf * 1e3, te * 1e3, tf / te);
      g_assert_cmpfloat (tf, <, 2 * te);
    } else {
      g_test_message ("%dx%d on %s: sf_flow_compute %.1f ms (-m perf also "
          "times a stylizer evaluation)", sizes[i], sizes[i],
          sf_device_get_name (dev), tf * 1e3);
    }
  }
  if (net)
    sf_net_free (net);
  if (wts)
    sf_vgg_weights_free (wts);
}

/* compute, warp and mask recorded into one command buffer give the same
 * bits as the separate calls */
static void
test_record (void)
{
  GError *err = NULL;
  int w = 61, h = 47;
  gsize n = (gsize) w * h;
  Tex *t = g_new (Tex, 1);
  float *prev = g_new (float, 3 * n), *cur = g_new (float, 3 * n);
  float *tf = g_new (float, 2 * n), *tb = g_new (float, 2 * n);
  Motion m = { -1.6, 2.7, 1.0, 0, 0 };
  Run r = { 0 };

  tex_init (t, 600, 64);
  make_pair (t, &m, w, h, prev, cur, tf, tb);
  run_flow (&r, w, h, prev, cur);
  SfBuffer *bw = test_upload (dev, NULL, 3 * n), *bm = test_upload (dev, NULL, n);
  g_assert_true (sf_flow_warp (r.flow, r.prev, 3, bw, &err));
  g_assert_true (sf_flow_consistency (r.flow, bm, &err));
  g_assert_no_error (err);
  float *warp1 = test_download (dev, bw, 3 * n);
  float *mask1 = test_download (dev, bm, n);

  SfFlow *f2 = sf_flow_new (dev, w, h, &err);
  g_assert_no_error (err);
  VkCommandBuffer cb;
  g_assert_true (sf_cmd_begin (dev, &cb, &err));
  g_assert_true (sf_flow_record_compute (f2, cb, r.prev, r.cur, &err));
  g_assert_true (sf_flow_record_warp (f2, cb, r.prev, 3, bw, &err));
  g_assert_true (sf_flow_record_consistency (f2, cb, bm, &err));
  g_assert_true (sf_cmd_submit_wait (dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
  float *fwd2 = test_download (dev, sf_flow_get_forward (f2), 2 * n);
  float *bwd2 = test_download (dev, sf_flow_get_backward (f2), 2 * n);
  float *warp2 = test_download (dev, bw, 3 * n);
  float *mask2 = test_download (dev, bm, n);
  g_assert_cmpmem (fwd2, 2 * n * 4, r.fwd, 2 * n * 4);
  g_assert_cmpmem (bwd2, 2 * n * 4, r.bwd, 2 * n * 4);
  g_assert_cmpmem (warp2, 3 * n * 4, warp1, 3 * n * 4);
  g_assert_cmpmem (mask2, n * 4, mask1, n * 4);
  g_test_message ("one submission at %dx%d: EPE forward %.3f px, same bits "
      "as the separate calls", w, h, epe (fwd2, tf, w, h, 9, NULL));

  /* several passes per level (ping-pong through the spare buffers) */
  for (int passes = 2; passes <= 3; passes++) {
    SfFlowParams fp;
    sf_flow_params_init (&fp);
    fp.passes = passes;
    g_assert_true (sf_flow_set_params (f2, &fp, &err));
    g_assert_true (sf_flow_compute (f2, r.prev, r.cur, &err));
    g_assert_no_error (err);
    g_free (fwd2);
    g_free (bwd2);
    fwd2 = test_download (dev, sf_flow_get_forward (f2), 2 * n);
    bwd2 = test_download (dev, sf_flow_get_backward (f2), 2 * n);
    double ef = epe (fwd2, tf, w, h, 9, NULL), eb = epe (bwd2, tb, w, h, 9, NULL);
    g_test_message ("%d passes per level: EPE forward %.3f px, backward "
        "%.3f px", passes, ef, eb);
    g_assert_cmpfloat (ef, <, 0.5);
    g_assert_cmpfloat (eb, <, 0.5);
  }

  /* a frame too small for the flow is an error */
  SfBuffer *small = test_upload (dev, NULL, 3 * n - 1);
  g_assert_false (sf_flow_compute (f2, small, r.cur, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);

  sf_buffer_free (dev, small);
  sf_flow_free (f2);
  sf_buffer_free (dev, bw);
  sf_buffer_free (dev, bm);
  g_free (warp1); g_free (mask1); g_free (fwd2); g_free (bwd2);
  g_free (warp2); g_free (mask2);
  run_clear (&r);
  g_free (t); g_free (prev); g_free (cur); g_free (tf); g_free (tb);
}

/* identical frames at tiny and odd sizes: zero flow, full mask */
static void
test_still (void)
{
  const int sizes[][2] = { {1, 1}, {5, 3}, {2, 9}, {16, 16}, {33, 17} };
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    GError *err = NULL;
    int w = sizes[i][0], h = sizes[i][1];
    gsize n = (gsize) w * h;
    float *img = g_new (float, 3 * n);
    test_fill (img, 3 * n, 70 + i, 0, 1);
    Run r = { 0 };
    run_flow (&r, w, h, img, img);
    SfBuffer *bm = test_upload (dev, NULL, n);
    g_assert_true (sf_flow_consistency (r.flow, bm, &err));
    g_assert_no_error (err);
    float *mask = test_download (dev, bm, n);
    for (gsize k = 0; k < 2 * n; k++) {
      g_assert_cmpfloat (r.fwd[k], ==, 0.0f);
      g_assert_cmpfloat (r.bwd[k], ==, 0.0f);
    }
    for (gsize k = 0; k < n; k++)
      g_assert_cmpfloat (mask[k], ==, 1.0f);
    sf_buffer_free (dev, bm);
    g_free (mask);
    g_free (img);
    run_clear (&r);
  }
}

static void
test_params (void)
{
  GError *err = NULL;
  SfFlow *f = sf_flow_new (dev, 100, 40, &err);
  SfFlowParams p;
  g_assert_no_error (err);
  /* 100x40 -> 50x20; 25x10 would be below 16 */
  g_assert_cmpint (sf_flow_get_levels (f), ==, 2);
  sf_flow_params_init (&p);
  p.min_size = 5;
  g_assert_true (sf_flow_set_params (f, &p, &err));
  g_assert_cmpint (sf_flow_get_levels (f), ==, 4);
  p.radius = 0;
  g_assert_false (sf_flow_set_params (f, &p, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);
  g_assert_cmpint (sf_flow_get_params (f)->radius, ==, 3);
  sf_flow_free (f);
  g_assert_null (sf_flow_new (dev, 0, 4, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dev = test_device ();
  g_test_add_func ("/flow/params", test_params);
  g_test_add_func ("/flow/translate", test_translate);
  g_test_add_func ("/flow/zoom", test_zoom);
  g_test_add_func ("/flow/warp-frame", test_warp_frame);
  g_test_add_func ("/flow/mask", test_mask);
  g_test_add_func ("/flow/record", test_record);
  g_test_add_func ("/flow/still", test_still);
  g_test_add_func ("/flow/cost", test_cost);
  int r = g_test_run ();
  sf_device_free (dev);
  return r;
}
