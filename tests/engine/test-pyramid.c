/* test-pyramid.c - coarse-to-fine optimisation (engine/pyramid.c) against
 * direct L-BFGS from the content image at equal cost.
 *
 * The sizes and resamplers first (sf_stylizer_coarse_size, the area,
 * bilinear and bicubic filters, the errors).  Then the measurement, on
 * examples/horses.jpg in the style of examples/scream.jpg (gdk-pixbuf;
 * synthetic images without it) with the element's defaults (average
 * pooling, style weight 1e3, no TV) on the embedded network.  Cost is
 * counted in full-size evaluation equivalents, a coarse evaluation at 1/4
 * of a full one (its pixels) and at the ratio timed here.  Each split (k
 * coarse iterations, then m full) is compared with direct L-BFGS's loss
 * within the same cost, read off one direct run from the content (the
 * last iterate whose cost fits; its first iterations are exactly the
 * element's first frame of N iterations).  Prints the table; asserts
 * correctness (finite, pixels in [0,1], the coarse loss decreased) and
 * that the (2N, N/2) split ends at most 0.95 x direct's loss at its cost.
 * With STYLEFILTER_PYRAMID_OUT set to a directory, writes the content,
 * the direct result after N iterations, the first direct iterate at or
 * below the best pyramid loss and each pyramid result there as PNG.
 * STYLEFILTER_PYRAMID_N overrides N (10, the demo's first-iterations).
 * /pyramid/128x85 runs with -m slow only. */
#include "engine-test-util.h"
#include "stylizer.h"
#include "sf-pyramid.h"
#ifdef HAVE_GDK_PIXBUF
#include <gdk-pixbuf/gdk-pixbuf.h>
#endif

#define MAX_POINTS 512

static SfDevice *dev;
static SfVggWeights *wts;
static SfNet *net;

/* ---- sizes and resampling --------------------------------------------- */

static void
test_coarse_size (void)
{
  int cw = -1, ch = -1;

  g_assert_true (sf_stylizer_coarse_size (96, 64, &cw, &ch));
  g_assert_cmpint (cw, ==, 48);
  g_assert_cmpint (ch, ==, 32);
  g_assert_true (sf_stylizer_coarse_size (128, 85, &cw, &ch));
  g_assert_cmpint (cw, ==, 64);
  g_assert_cmpint (ch, ==, 43);
  g_assert_true (sf_stylizer_coarse_size (31, 32, &cw, &ch));
  g_assert_cmpint (cw, ==, 16);
  g_assert_cmpint (ch, ==, 16);
  g_assert_true (sf_stylizer_coarse_size (G_MAXINT, G_MAXINT, &cw, &ch));
  g_assert_cmpint (cw, ==, G_MAXINT / 2 + 1);
  cw = ch = -1;
  g_assert_false (sf_stylizer_coarse_size (30, 64, &cw, &ch));
  g_assert_false (sf_stylizer_coarse_size (64, 30, &cw, &ch));
  g_assert_false (sf_stylizer_coarse_size (0, 64, &cw, &ch));
  g_assert_false (sf_stylizer_coarse_size (-64, 64, &cw, &ch));
  g_assert_false (sf_stylizer_coarse_size (G_MININT, 64, &cw, &ch));
  g_assert_cmpint (cw, ==, -1);
  g_assert_cmpint (ch, ==, -1);
}

static float *
resampled (const float *src, int sw, int sh, int dw, int dh, SfResample f)
{
  GError *err = NULL;
  float *dst = g_new (float, 3 * (gsize) dw * dh);

  g_assert_true (sf_pyramid_resample (src, sw, sh, dst, dw, dh, f, &err));
  g_assert_no_error (err);
  return dst;
}

static double
plane_mean (const float *v, gsize n)
{
  double s = 0;
  for (gsize i = 0; i < n; i++)
    s += v[i];
  return s / n;
}

static void
test_resample (void)
{
  float flat[3 * 37 * 29];
  for (int c = 0; c < 3; c++)
    for (int i = 0; i < 37 * 29; i++)
      flat[c * 37 * 29 + i] = 0.2f + 0.3f * c;
  /* a constant stays constant through every filter */
  const int sizes[][2] = { {19, 15}, {74, 58}, {37, 29}, {50, 16} };
  for (int f = SF_RESAMPLE_AREA; f <= SF_RESAMPLE_BICUBIC; f++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
      int dw = sizes[s][0], dh = sizes[s][1];
      float *d = resampled (flat, 37, 29, dw, dh, f);
      for (int c = 0; c < 3; c++)
        for (int i = 0; i < dw * dh; i++)
          g_assert_cmpfloat_with_epsilon (d[c * dw * dh + i], 0.2f + 0.3f * c,
              1e-6);
      g_free (d);
    }

  /* area, 2x: the mean of each 2x2 block; 3 -> 2: weights 1, 1/2 / 1.5 */
  float b[3 * 16];
  test_fill (b, 48, 5, 0, 1);
  float *d = resampled (b, 4, 4, 2, 2, SF_RESAMPLE_AREA);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 2; x++) {
        const float *p = b + c * 16 + 2 * y * 4 + 2 * x;
        g_assert_cmpfloat_with_epsilon (d[c * 4 + y * 2 + x],
            (p[0] + p[1] + p[4] + p[5]) / 4, 1e-6);
      }
  g_free (d);
  float r[9] = { 0.9f, 0.3f, 0.6f, 0, 0, 0, 1, 1, 1 };
  d = resampled (r, 3, 1, 2, 1, SF_RESAMPLE_AREA);
  g_assert_cmpfloat_with_epsilon (d[0], (0.9 + 0.15) / 1.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (d[1], (0.15 + 0.6) / 1.5, 1e-6);
  g_free (d);

  /* area keeps the mean at an odd ratio (85 -> 43) */
  float *big = g_new (float, 3 * 128 * 85);
  test_fill (big, 3 * 128 * 85, 9, 0, 1);
  d = resampled (big, 128, 85, 64, 43, SF_RESAMPLE_AREA);
  for (int c = 0; c < 3; c++)
    g_assert_cmpfloat_with_epsilon (plane_mean (d + c * 64 * 43, 64 * 43),
        plane_mean (big + c * 128 * 85, 128 * 85), 1e-5);
  g_free (d);
  g_free (big);

  /* interpolation reproduces a ramp away from the edges: output i samples
   * input (i + 1/2) / 2 - 1/2 */
  float ramp[3 * 8 * 16];
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 16; y++)
      for (int x = 0; x < 8; x++)
        ramp[(c * 16 + y) * 8 + x] = x / 16.0f;
  for (int f = SF_RESAMPLE_BILINEAR; f <= SF_RESAMPLE_BICUBIC; f++) {
    d = resampled (ramp, 8, 16, 16, 32, f);
    for (int y = 0; y < 32; y++)
      for (int x = 3; x < 13; x++)
        g_assert_cmpfloat_with_epsilon (d[(2 * 32 + y) * 16 + x],
            ((x + 0.5) / 2 - 0.5) / 16, 1e-6);
    g_free (d);
  }

  /* bicubic overshoots at a step; clamped to [0,1] */
  float step[3 * 16 * 16];
  for (int i = 0; i < 3 * 256; i++)
    step[i] = (i % 16) < 8 ? 0.0f : 1.0f;
  d = resampled (step, 16, 16, 32, 32, SF_RESAMPLE_BICUBIC);
  for (int i = 0; i < 3 * 1024; i++)
    g_assert_true (d[i] >= 0.0f && d[i] <= 1.0f);
  g_free (d);

  GError *err = NULL;
  float one[3];
  g_assert_false (sf_pyramid_resample (flat, 37, 29, one, 0, 1,
          SF_RESAMPLE_AREA, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);
  g_assert_false (sf_pyramid_resample (flat, 37, -2, one, 1, 1,
          SF_RESAMPLE_BILINEAR, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_clear_error (&err);
  /* never read: the sizes fail first */
  g_assert_false (sf_pyramid_resample (flat, G_MAXINT, G_MAXINT, one, 1, 1,
          SF_RESAMPLE_AREA, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_TOO_LARGE);
  g_clear_error (&err);
}

static SfStylizer *
stylizer (SfNet *n, int w, int h, gboolean style)
{
  GError *err = NULL;
  SfStylizer *st = sf_stylizer_new (n, w, h, &err);
  g_assert_no_error (err);
  if (style) {
    float *s = test_make_image (w, h, 1, 3);
    g_assert_true (sf_stylizer_set_style (st, s, w, h, &err));
    g_assert_no_error (err);
    g_free (s);
  }
  return st;
}

static void
expect_invalid (SfStylizer *st, SfStylizer *coarse, const SfParams *p)
{
  GError *err = NULL;
  int done = -7;

  g_assert_false (sf_stylizer_optimize_coarse_to_fine (st, coarse, p, 2, 2,
          NULL, &done, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_INVALID);
  g_test_message ("%s", err->message);
  g_clear_error (&err);
  g_assert_cmpint (done, ==, -7);
}

static void
test_errors (void)
{
  GError *err = NULL;
  SfParams p;
  sf_params_init (&p);
  SfNet *other = sf_net_new (dev, wts, SF_POOL_AVG, &err);
  g_assert_no_error (err);
  SfStylizer *st = stylizer (net, 32, 32, TRUE);
  SfStylizer *coarse = stylizer (net, 16, 16, TRUE);
  SfStylizer *bare = stylizer (net, 16, 16, FALSE);
  SfStylizer *big = stylizer (net, 40, 16, TRUE);
  SfStylizer *alien = stylizer (other, 16, 16, TRUE);
  float *c = test_make_image (32, 32, 0, 3);

  expect_invalid (st, coarse, &p);      /* no content yet */
  g_assert_true (sf_stylizer_set_content (st, c, &err));
  g_assert_true (sf_stylizer_set_image (st, c, &err));
  g_assert_no_error (err);
  expect_invalid (st, NULL, &p);
  expect_invalid (st, st, &p);
  expect_invalid (st, alien, &p);
  expect_invalid (st, big, &p);
  expect_invalid (st, bare, &p);

  /* no coarse stage: plain optimisation, coarse not needed */
  SfLossTerms t;
  int done = -1;
  g_assert_true (sf_stylizer_optimize_coarse_to_fine (st, NULL, &p, 0, 2, &t,
          &done, &err));
  g_assert_no_error (err);
  /* (L-BFGS's evaluation budget, 5/4 of the iterations, may end it) */
  g_assert_cmpint (done, >=, 1);
  g_assert_cmpint (done, <=, 2);
  g_assert_true (isfinite (t.total));

  g_free (c);
  sf_stylizer_free (alien);
  sf_stylizer_free (big);
  sf_stylizer_free (bare);
  sf_stylizer_free (coarse);
  sf_stylizer_free (st);
  sf_net_free (other);
}

/* ---- the images of the measurement ------------------------------------ */

typedef struct
{
  const char *what;
  int w, h, cw, ch;
  float *content;
  float *style, *cstyle;        /* at the full and the coarse scale */
  int sw, sh, csw, csh;
} Scene;

#ifdef HAVE_GDK_PIXBUF
/* examples/<name> scaled to w x h (HYPER, as the stylize example), planar */
static float *
load_example (const char *name, int w, int h)
{
  const char *root = g_getenv ("STYLEFILTER_SOURCE_DIR");
  char *path = g_build_filename (root ? root : ".", "examples", name, NULL);
  GdkPixbuf *pb = gdk_pixbuf_new_from_file (path, NULL), *sc;
  float *v = NULL;

  g_free (path);
  if (!pb)
    return NULL;
  sc = gdk_pixbuf_scale_simple (pb, w, h, GDK_INTERP_HYPER);
  g_object_unref (pb);
  if (!sc)
    return NULL;
  const guint8 *px = gdk_pixbuf_read_pixels (sc);
  int stride = gdk_pixbuf_get_rowstride (sc);
  int nc = gdk_pixbuf_get_n_channels (sc);
  v = g_new (float, 3 * (gsize) w * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        v[((gsize) c * h + y) * w + x] = px[y * stride + x * nc + c] / 255.0f;
  g_object_unref (sc);
  return v;
}

static gboolean
scene_load (Scene *s)
{
  /* the style at the processing size's longest side (style-scale 1),
   * keeping scream.jpg's 352 x 448 */
  s->sh = MAX (s->w, s->h);
  s->sw = (int) floor (352.0 * s->sh / 448.0 + 0.5);
  s->csh = MAX (s->cw, s->ch);
  s->csw = (int) floor (352.0 * s->csh / 448.0 + 0.5);
  s->content = load_example ("horses.jpg", s->w, s->h);
  s->style = load_example ("scream.jpg", s->sw, s->sh);
  s->cstyle = load_example ("scream.jpg", s->csw, s->csh);
  s->what = "horses.jpg in the style of scream.jpg";
  return s->content && s->style && s->cstyle;
}

static void
write_png (const char *name, const Scene *s, const float *rgb)
{
  const char *dir = g_getenv ("STYLEFILTER_PYRAMID_OUT");
  if (!dir)
    return;
  GdkPixbuf *pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, s->w, s->h);
  guint8 *px = gdk_pixbuf_get_pixels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);
  for (int y = 0; y < s->h; y++)
    for (int x = 0; x < s->w; x++)
      for (int c = 0; c < 3; c++)
        px[y * stride + 3 * x + c] = (guint8) (CLAMP (rgb[((gsize) c * s->h
                    + y) * s->w + x], 0, 1) * 255 + 0.5);
  char *file = g_strdup_printf ("%s/pyramid-%dx%d-%s.png", dir, s->w, s->h,
      name);
  GError *err = NULL;
  g_assert_true (gdk_pixbuf_save (pb, file, "png", &err, NULL));
  g_assert_no_error (err);
  g_test_message ("wrote %s", file);
  g_free (file);
  g_object_unref (pb);
}
#else
static gboolean
scene_load (Scene *s)
{
  return FALSE;
}

static void
write_png (const char *name, const Scene *s, const float *rgb)
{
}
#endif

static void
scene_init (Scene *s, int w, int h)
{
  memset (s, 0, sizeof (*s));
  s->w = w;
  s->h = h;
  g_assert_true (sf_stylizer_coarse_size (w, h, &s->cw, &s->ch));
  if (scene_load (s))
    return;
  g_free (s->content);
  g_free (s->style);
  g_free (s->cstyle);
  s->what = "synthetic images (no gdk-pixbuf or no examples/)";
  s->content = test_make_image (w, h, 0, 11);
  s->sw = w;
  s->sh = h;
  s->style = test_make_image (w, h, 1, 11);
  s->csw = s->cw;
  s->csh = s->ch;
  s->cstyle = resampled (s->style, w, h, s->cw, s->ch, SF_RESAMPLE_AREA);
}

static void
scene_clear (Scene *s)
{
  g_free (s->content);
  g_free (s->style);
  g_free (s->cstyle);
}

/* ---- the measurement --------------------------------------------------- */

typedef struct
{
  Scene sc;
  SfStylizer *st, *coarse;
  SfParams p;
  int N;                        /* direct iterations (first-iterations) */
  double ratio;                 /* timed: coarse / full evaluation */
  gsize n;
  float *out;
} Bench;

/* The direct path from the content: cost (full evaluations, as a direct
 * run counts them: its first evaluation, then its line searches') and
 * loss after each iteration; point 0 is the content image (cost 1). */
typedef struct
{
  Bench *b;
  int evals0, max_cost, n;
  int cost[MAX_POINTS];
  SfLossTerms t[MAX_POINTS];
  int direct;                   /* the point where N direct iterations end */
  double snap_below;            /* first iterate below this: written out */
  int snap;                     /* ... its point, 0 if none */
} Curve;

typedef struct
{
  int k, m;                     /* coarse and full iterations asked for */
  int ec, ef, done;             /* evaluations made, full iterations run */
  SfLossTerms t;                /* full-size terms at the result */
  double start, start_other;    /* full loss at the upsampled start (the
                                 * function's filter, the other one) */
  double coarse0, coarse1;      /* coarse loss before and after */
} Split;

static double
mean_eval_seconds (SfStylizer *st, const SfParams *p, int reps)
{
  GError *err = NULL;
  SfLossTerms t;

  g_assert_true (sf_stylizer_evaluate (st, p, &t, NULL, &err));
  gint64 t0 = g_get_monotonic_time ();
  for (int i = 0; i < reps; i++)
    g_assert_true (sf_stylizer_evaluate (st, p, &t, NULL, &err));
  g_assert_no_error (err);
  return (g_get_monotonic_time () - t0) / 1e6 / reps;
}

static void
bench_init (Bench *b, int w, int h, int N)
{
  GError *err = NULL;

  scene_init (&b->sc, w, h);
  sf_params_init (&b->p);
  b->N = N;
  b->n = 3 * (gsize) w * h;
  b->out = g_new (float, b->n);
  b->st = sf_stylizer_new (net, w, h, &err);
  g_assert_no_error (err);
  b->coarse = sf_stylizer_new (net, b->sc.cw, b->sc.ch, &err);
  g_assert_no_error (err);
  g_assert_true (sf_stylizer_set_style (b->st, b->sc.style, b->sc.sw,
          b->sc.sh, &err));
  g_assert_true (sf_stylizer_set_style (b->coarse, b->sc.cstyle, b->sc.csw,
          b->sc.csh, &err));
  g_assert_true (sf_stylizer_set_content (b->st, b->sc.content, &err));
  g_assert_true (sf_stylizer_set_image (b->st, b->sc.content, &err));
  /* the coarse stylizer needs a content for the timing only */
  float *cc = resampled (b->sc.content, w, h, b->sc.cw, b->sc.ch,
      SF_RESAMPLE_AREA);
  g_assert_true (sf_stylizer_set_content (b->coarse, cc, &err));
  g_assert_true (sf_stylizer_set_image (b->coarse, cc, &err));
  g_assert_no_error (err);
  g_free (cc);
  double tf = mean_eval_seconds (b->st, &b->p, 2);
  double tc = mean_eval_seconds (b->coarse, &b->p, 2);
  b->ratio = tc / tf;
  g_test_message ("%s, %dx%d, coarse %dx%d (style %dx%d, %dx%d), N = %d; "
      "one evaluation %.3f s full, %.3f s coarse: ratio %.3f (pixels %.3f)",
      b->sc.what, w, h, b->sc.cw, b->sc.ch, b->sc.sw, b->sc.sh, b->sc.csw,
      b->sc.csh, N, tf, tc, b->ratio, (double) b->sc.cw * b->sc.ch / (w * h));
  write_png ("content", &b->sc, b->sc.content);
}

static void
bench_clear (Bench *b)
{
  sf_stylizer_free (b->coarse);
  sf_stylizer_free (b->st);
  scene_clear (&b->sc);
  g_free (b->out);
}

/* Reads st's image into b->out, checks it (pixels in [0,1]) and writes it
 * as `name`. */
static void
check_image (Bench *b, SfStylizer *st, const char *name)
{
  GError *err = NULL;

  g_assert_true (sf_stylizer_get_image (st, b->out, &err));
  g_assert_no_error (err);
  for (gsize i = 0; i < b->n; i++)
    g_assert_true (b->out[i] >= 0.0f && b->out[i] <= 1.0f);
  write_png (name, &b->sc, b->out);
}

/* Where N direct iterations stop: after the N-th, or once they have made
 * the 5/4 N evaluations of sf_lbfgs_options_init's budget. */
static gboolean
direct_ends (const Curve *c, int i)
{
  int N = c->b->N;
  return i == N || c->cost[i] >= N * 5 / 4;
}

static gboolean
curve_step (int iteration, const SfLossTerms *t, gpointer data)
{
  Curve *c = data;
  int i = c->n++;

  c->cost[i] = c->b->st->evals - c->evals0;
  c->t[i] = *t;
  /* (the image may be read in the callback: that flushes what is pending) */
  if (!c->direct && direct_ends (c, i)) {
    c->direct = i;
    check_image (c->b, c->b->st, "direct");
  }
  if (!c->snap && t->total <= c->snap_below) {
    c->snap = i;
    check_image (c->b, c->b->st, "direct-at-pyramid-loss");
  }
  return c->n < MAX_POINTS && c->cost[i] < c->max_cost;
}

static void
run_curve (Bench *b, Curve *c, int max_cost, double snap_below)
{
  GError *err = NULL;

  memset (c, 0, sizeof (*c));
  c->b = b;
  c->max_cost = max_cost;
  c->snap_below = snap_below;
  g_assert_true (sf_stylizer_set_image (b->st, b->sc.content, &err));
  g_assert_true (sf_stylizer_evaluate (b->st, &b->p, &c->t[0], NULL, &err));
  c->cost[0] = 1;
  c->n = 1;
  c->evals0 = b->st->evals;
  g_assert_true (sf_stylizer_optimize (b->st, &b->p, 10 * max_cost,
          curve_step, c, NULL, NULL, &err));
  g_assert_no_error (err);
  g_assert_cmpint (c->direct, >, 0);
}

/* Direct L-BFGS within a budget of `cost` full evaluations: the last
 * iterate whose cost fits. */
static const SfLossTerms *
curve_at (const Curve *c, double cost)
{
  int i = 0;
  while (i + 1 < c->n && c->cost[i + 1] <= cost + 1e-9)
    i++;
  return &c->t[i];
}

/* The cost at which direct L-BFGS first reaches `loss` (-1: not within
 * the path). */
static int
curve_reaches (const Curve *c, double loss)
{
  for (int i = 0; i < c->n; i++)
    if (c->t[i].total <= loss)
      return c->cost[i];
  return -1;
}

static double
cost_of (const Split *s, double ratio)
{
  return s->ec * ratio + s->ef;
}

static double
loss_at (Bench *b, SfStylizer *st, const float *img)
{
  GError *err = NULL;
  SfLossTerms t;

  g_assert_true (sf_stylizer_set_image (st, img, &err));
  g_assert_true (sf_stylizer_evaluate (st, &b->p, &t, NULL, &err));
  g_assert_no_error (err);
  g_assert_true (isfinite (t.total));
  return t.total;
}

/* After a split: the coarse stylizer's loss at its result and at its
 * start (the content downsampled), the full-size loss at the start made
 * from its result by either upsampling.  None of it counts in the cost. */
static void
split_extras (Bench *b, Split *s)
{
  gsize nc = 3 * (gsize) b->sc.cw * b->sc.ch;
  float *small = g_new (float, nc), *up;
  GError *err = NULL;
  SfResample other = SF_PYRAMID_UPSAMPLE == SF_RESAMPLE_BICUBIC
      ? SF_RESAMPLE_BILINEAR : SF_RESAMPLE_BICUBIC;

  g_assert_true (sf_stylizer_get_image (b->coarse, small, &err));
  g_assert_no_error (err);
  s->coarse1 = loss_at (b, b->coarse, small);
  up = resampled (small, b->sc.cw, b->sc.ch, b->sc.w, b->sc.h,
      SF_PYRAMID_UPSAMPLE);
  s->start = loss_at (b, b->st, up);
  g_free (up);
  up = resampled (small, b->sc.cw, b->sc.ch, b->sc.w, b->sc.h, other);
  s->start_other = loss_at (b, b->st, up);
  g_free (up);
  g_free (small);
  small = resampled (b->sc.content, b->sc.w, b->sc.h, b->sc.cw, b->sc.ch,
      SF_RESAMPLE_AREA);
  s->coarse0 = loss_at (b, b->coarse, small);
  g_free (small);
}

static void
run_split (Bench *b, Split *s)
{
  GError *err = NULL;
  int ec0 = b->coarse->evals, ef0 = b->st->evals;

  g_assert_true (sf_stylizer_set_image (b->st, b->sc.content, &err));
  g_assert_true (sf_stylizer_optimize_coarse_to_fine (b->st, b->coarse,
          &b->p, s->k, s->m, &s->t, &s->done, &err));
  g_assert_no_error (err);
  s->ec = b->coarse->evals - ec0;
  s->ef = b->st->evals - ef0;
  g_assert_true (isfinite (s->t.total));
  g_assert_cmpint (s->done, >=, 1);
  g_assert_cmpint (s->done, <=, s->m);
  char *name = g_strdup_printf ("pyramid-%d-%d", s->k, s->m);
  check_image (b, b->st, name);
  g_free (name);
  split_extras (b, s);
}

static void
print_split (const Bench *b, const Curve *c, const Split *s)
{
  double c4 = cost_of (s, 0.25), ct = cost_of (s, b->ratio);
  const SfLossTerms *d4 = curve_at (c, c4), *dt = curve_at (c, ct);

  g_test_message ("%3d+%-3d %4d %4d %4d %6.2f %6.2f %8.4g (%5.3f %6.4f) "
      "%8.4g (%5.3f %6.4f) %5.3f %8.4g %5.3f %8.4g %8.4g %8.4g -> %-8.4g "
      "%4d", s->k, s->m, s->ec, s->ef, s->done, c4, ct, s->t.total,
      s->t.content, s->t.style, d4->total, d4->content, d4->style,
      s->t.total / d4->total, dt->total, s->t.total / dt->total, s->start,
      s->start_other, s->coarse0, s->coarse1,
      curve_reaches (c, s->t.total));
}

static void
print_path (const Curve *c)
{
  GString *path = g_string_new ("direct path (evaluations: loss):");

  for (int i = 0; i < c->n; i++)
    g_string_append_printf (path, " %d: %.4g", c->cost[i], c->t[i].total);
  g_test_message ("%s", path->str);
  g_string_free (path, TRUE);
  g_test_message ("direct: %d iterations from the content stop after %d "
      "(%d evaluations): loss %.6g (content %.4g, style %.4g); the content "
      "image %.6g", c->b->N, c->direct, c->cost[c->direct],
      c->t[c->direct].total, c->t[c->direct].content,
      c->t[c->direct].style, c->t[0].total);
}

static void
print_table (const Bench *b, const Curve *c, const Split *s, int n)
{
  g_test_message ("k+m: coarse + full iterations asked; ec, ef: coarse and "
      "full evaluations; done: full iterations run; cost in full "
      "evaluations, a coarse one at 1/4 and at the timed %.3f; loss "
      "(content, style) at the result; direct/4: direct L-BFGS within "
      "cost/4; ratio: loss / direct's; then the same within cost/t; "
      "start: full loss at the upsampled coarse result (%s, then the "
      "other); coarse: its loss before -> after; reach: the cost at which "
      "direct L-BFGS reaches the loss (-1: beyond %d)", b->ratio,
      SF_PYRAMID_UPSAMPLE == SF_RESAMPLE_BICUBIC ? "bicubic" : "bilinear",
      c->max_cost);
  g_test_message ("  k+m     ec   ef done cost/4 cost/t     loss (content "
      " style)  direct/4 (content  style) ratio direct/t ratio    start "
      "   other   coarse              reach");
  for (int i = 0; i < n; i++)
    print_split (b, c, &s[i]);
}

/* km: k + m pairs for N = 10, scaled to N; meant to cost about what N
 * direct iterations cost.  claim: the split that the assertion holds to
 * 0.95 of direct L-BFGS's loss at its cost. */
static void
bench (int w, int h, const int (*km)[2], int n_splits, int claim)
{
  const char *ne = g_getenv ("STYLEFILTER_PYRAMID_N");
  Split *s = g_new0 (Split, n_splits);
  Curve *c = g_new0 (Curve, 1);
  double best = G_MAXDOUBLE;
  Bench b;

  bench_init (&b, w, h, ne ? atoi (ne) : 10);
  g_assert_cmpint (b.N, >, 0);
  for (int i = 0; i < n_splits; i++) {
    s[i].k = km[i][0] * b.N / 10;
    s[i].m = MAX (km[i][1] * b.N / 10, 1);
    run_split (&b, &s[i]);
    best = MIN (best, s[i].t.total);
  }
  /* long enough for N direct iterations twice over */
  run_curve (&b, c, 2 * (b.N * 5 / 4) + 4, best);
  print_path (c);
  print_table (&b, c, s, n_splits);

  /* correctness, whatever the numbers */
  for (int i = 0; i < n_splits; i++) {
    g_assert_cmpfloat (s[i].coarse1, <, s[i].coarse0);
    g_assert_cmpfloat (s[i].t.total, <, c->t[0].total);
  }
  /* what was found: the pyramid reaches a lower full-size loss than
   * direct L-BFGS at the same cost, a coarse evaluation counted at 1/4 (its
   * pixels: deterministic, unlike the timed ratio, which is only printed;
   * the advantage held at the 0.28-0.36 timed on lavapipe) */
  double cost = cost_of (&s[claim], 0.25);
  g_assert_cmpfloat (s[claim].t.total, <=, 0.95 * curve_at (c, cost)->total);

  g_free (s);
  g_free (c);
  bench_clear (&b);
}

/* (12, 7), (20, 5), (30, 3): a coarse iteration costs a quarter, L-BFGS
 * makes about 1.2 evaluations an iteration, and each stage's first
 * iteration about 6 (its first step, min (1, 1 / |g|_1), is tiny) */
static const int splits[][2] = { {12, 7}, {20, 5}, {30, 3} };

/* the asserted split alone, unless -m slow asks for the whole table (the
 * suite's time: all three splits take some 6 minutes on lavapipe) */
static const int split_claimed[][2] = { {20, 5} };

/* the suite: the asserted split at 64x42 (a third of 96x64's time) */
static void
test_bench_64 (void)
{
  bench (64, 42, split_claimed, 1, 0);
}

static void
test_bench_96 (void)
{
  if (!g_test_slow ()) {
    g_test_skip ("about 4 minutes on lavapipe: run with -m slow");
    return;
  }
  bench (96, 64, splits, G_N_ELEMENTS (splits), 1);
}

static void
test_bench_128 (void)
{
  if (!g_test_slow ()) {
    g_test_skip ("about twice the time of 96x64: run with -m slow");
    return;
  }
  bench (128, 85, splits, G_N_ELEMENTS (splits), 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  dev = test_device ();
  wts = sf_vgg_weights_new_default (0);
  GError *err = NULL;
  net = sf_net_new (dev, wts, SF_POOL_AVG, &err);
  g_assert_no_error (err);
  g_test_add_func ("/pyramid/coarse-size", test_coarse_size);
  g_test_add_func ("/pyramid/resample", test_resample);
  g_test_add_func ("/pyramid/errors", test_errors);
  g_test_add_func ("/pyramid/64x42", test_bench_64);
  g_test_add_func ("/pyramid/96x64", test_bench_96);
  g_test_add_func ("/pyramid/128x85", test_bench_128);
  int r = g_test_run ();
  sf_net_free (net);
  sf_vgg_weights_free (wts);
  sf_device_free (dev);
  return r;
}
