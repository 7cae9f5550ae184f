/* cpu-ref.c - plain-C, double-precision reference of the engine's maths.
 *
 * Every GPU kernel is tested against these loops, and these loops are tested
 * against finite differences and against the PyTorch peer
 * (tests/peer/torch_gatys.py), so they favour being obviously right over
 * being fast.  The convolutions still go through im2col so that the inner
 * loop is a long contiguous axpy: the whole loss and gradient at 37x29
 * takes about half a second at -O2.
 *
 * Layout: tensors are [C][H][W] row-major; conv weights [cout][cin][3][3].
 *
 * The loss (see sf_ref_loss) is the peer's, term for term:
 *   x in [0,1] is normalised per channel, xn = (x - mean) / std, and run
 *   through VGG-19's 13 convolutions (3x3, pad 1, bias, ReLU) with 2x2/2
 *   pooling (floor) after convs 1, 3, 7 and 11.  F_l is the post-ReLU output
 *   of conv l, seen as a C x M matrix with M = H*W.
 *   Gram:    G = F F^T / M
 *   style:   mean over l in {0, 2, 4, 8, 12} of ||G_l(x) - A_l||^2 / ||A_l||^2
 *            with A_l = G_l(style image)
 *   content: ||F_9(x) - P||^2 / ||P||^2 with P = F_9(content image)
 *   tv:      mean over (c, y, x) of (x[c][y+1][x] - x[c][y][x])^2
 *          + mean over (c, y, x) of (x[c][y][x+1] - x[c][y][x])^2
 *   range:   mean over (c, y, x) of max (x - 1, 0)^2 + max (-x, 0)^2
 *   total:   content_weight * content + style_weight * style + tv_weight * tv
 *          + range_weight * range
 *
 * Gradients (derived in the comments next to each function):
 *   style layer: L = ||G - A||^2 / N, N = ||A||^2.  dL/dG = 2 (G - A) / N;
 *     dG = (dF F^T + F dF^T) / M, so dL/dF = (dL/dG + dL/dG^T) F / M and,
 *     G - A being symmetric, dL/dF = 4 (G - A) F / (M N).  The style term
 *     is the mean of 5 layers, so each layer's gradient is divided by 5.
 *   content: dC/dF = 2 (F - P) / ||P||^2.
 *   tv: each squared difference d^2 / n contributes +2d/n to the later pixel
 *     and -2d/n to the earlier one.
 *   range: e^2 / n for the excess e of a pixel contributes 2e/n to it.
 *   normalisation: d/dx = (d/dxn) / std of the channel.
 *
 * Zero denominators (an all-zero style Gram or content feature map) give
 * inf/NaN, exactly as in the peer; sf_ref_loss needs both sides of every
 * image to be at least 16 so that relu5_1 is not empty, as PyTorch does.
 */
#include "cpu-ref.h"

#include <math.h>
#include <string.h>

/* Convs (0-based) followed by 2x2 pooling, and the loss layers. */
static const int pool_after[] = { 1, 3, 7, 11 };
static const int style_convs[SF_NUM_STYLE_LAYERS] = { 0, 2, 4, 8, 12 };

static const double img_mean[3] = { SF_MEAN_R, SF_MEAN_G, SF_MEAN_B };
static const double img_std[3] = { SF_STD_R, SF_STD_G, SF_STD_B };

/* Number of elements of a [c][h][w] tensor; aborts on overflow (a reference
 * for tests: a size that overflows is a bug in the caller). */
static gsize
tensor_numel (int c, int h, int w)
{
  gsize hw, n;

  g_assert (c >= 0 && h >= 0 && w >= 0);
  if (!g_size_checked_mul (&hw, (gsize) h, (gsize) w)
      || !g_size_checked_mul (&n, hw, (gsize) c)
      || n > G_MAXSIZE / sizeof (double))
    g_error ("cpu-ref: tensor %d x %d x %d is too large", c, h, w);
  return n;
}

static double *
tensor_new0 (int c, int h, int w)
{
  return g_new0 (double, tensor_numel (c, h, w));
}

static gboolean
is_pool_after (int k)
{
  for (guint i = 0; i < G_N_ELEMENTS (pool_after); i++)
    if (pool_after[i] == k)
      return TRUE;
  return FALSE;
}

/* ---------------------------------------------------------------------- */
/* Convolution                                                             */

/* dst[y][x] += src[y + dy][x + dx] for every (y, x) of the h x w plane whose
 * source lies inside the plane; the rest of dst is left as it is (zero
 * padding when dst starts zeroed). */
static void
plane_add_shifted (double *dst, const double *src, int h, int w, int dy,
    int dx)
{
  int y0 = MAX (0, -dy), y1 = MIN (h, h - dy);
  int x0 = MAX (0, -dx), x1 = MIN (w, w - dx);

  for (int y = y0; y < y1; y++) {
    double *d = dst + (gsize) y * w;
    const double *s = src + (gsize) (y + dy) * w + dx;
    for (int x = x0; x < x1; x++)
      d[x] += s[x];
  }
}

/* dst[i] += a * src[i], i < n: the inner loop of both convolutions. */
static void
axpy (double *dst, const double *src, double a, gsize n)
{
  if (a == 0.0)
    return;
  for (gsize i = 0; i < n; i++)
    dst[i] += a * src[i];
}

/* The convolution is a matrix product through "im2col": row ci*9 + t of
 * col [cin*9][h*w] is input plane ci shifted by tap t = ky*3 + kx, i.e.
 * col[ci*9+t][y][x] = in[ci][y+ky-1][x+kx-1] (0 outside), so that
 *   out[co] = bias[co] + sum_k W[co][k] col[k]     (k = ci*9 + t).
 * This keeps every inner loop a long contiguous axpy, even at the 1x1 and
 * 2x2 planes of the deepest layers. */
static double *
im2col (const double *in, int cin, int h, int w)
{
  gsize plane = tensor_numel (1, h, w), n = tensor_numel (cin, h, w);
  double *col;

  if (n > G_MAXSIZE / 9 / sizeof (double))
    g_error ("cpu-ref: im2col of %d x %d x %d is too large", cin, h, w);
  col = g_new0 (double, MAX (n * 9, 1));
  for (int ci = 0; ci < cin; ci++)
    for (int t = 0; t < 9; t++)
      plane_add_shifted (col + ((gsize) ci * 9 + t) * plane, in + ci * plane,
          h, w, t / 3 - 1, t % 3 - 1);
  return col;
}

void
sf_ref_conv3x3_forward (const double *in, int cin, int h, int w,
    const float *weight, const float *bias, int cout, int relu, double *out)
{
  gsize plane = tensor_numel (1, h, w), nk = (gsize) cin * 9;
  double *col;

  tensor_numel (cout, h, w);
  col = im2col (in, cin, h, w);
  for (int co = 0; co < cout; co++) {
    double *o = out + co * plane;
    const float *wr = weight + co * nk;
    double b = bias ? bias[co] : 0.0;

    for (gsize i = 0; i < plane; i++)
      o[i] = b;
    for (gsize k = 0; k < nk; k++)
      axpy (o, col + k * plane, wr[k], plane);
    if (relu)
      for (gsize i = 0; i < plane; i++)
        o[i] = o[i] > 0.0 ? o[i] : 0.0;
  }
  g_free (col);
}

/* Backward of out = bias + W col (see im2col): d col = W^T g, that is
 * gcol[k] = sum_co W[co][k] g[co], and each col row was in[ci] shifted by
 * (dy, dx), so gin[ci][y][x] += gcol[ci*9+t][y-dy][x-dx]: the shift
 * negated.  g is gout masked by the ReLU (whose derivative is 1 where its
 * output is > 0, else 0). */
void
sf_ref_conv3x3_backward_input (const double *gout, const double *out_relu,
    int cin, int h, int w, const float *weight, int cout, double *gin)
{
  gsize plane = tensor_numel (1, h, w), nk = (gsize) cin * 9;
  gsize nout = tensor_numel (cout, h, w);
  double *masked = NULL, *gcol;
  const double *g = gout;

  memset (gin, 0, tensor_numel (cin, h, w) * sizeof (double));
  if (out_relu) {
    masked = g_new (double, MAX (nout, 1));
    for (gsize i = 0; i < nout; i++)
      masked[i] = out_relu[i] > 0.0 ? gout[i] : 0.0;
    g = masked;
  }
  gcol = g_new (double, MAX (plane, 1));
  for (gsize k = 0; k < nk; k++) {
    int t = k % 9;

    memset (gcol, 0, plane * sizeof (double));
    for (int co = 0; co < cout; co++)
      axpy (gcol, g + co * plane, weight[co * nk + k], plane);
    plane_add_shifted (gin + (k / 9) * plane, gcol, h, w, -(t / 3 - 1),
        -(t % 3 - 1));
  }
  g_free (gcol);
  g_free (masked);
}

/* ---------------------------------------------------------------------- */
/* Pooling                                                                 */

/* Offset, within one input plane, of the element of window (oy, ox) that
 * max pooling picks: the first maximum in row-major order (a later element
 * must be strictly greater to replace it).  As in PyTorch's kernel a NaN
 * always replaces the current pick, so the output is NaN if any input is. */
static gsize
max_window_argmax (const double *plane, int w, int oy, int ox)
{
  gsize best = (gsize) (2 * oy) * w + 2 * ox;

  for (int t = 1; t < 4; t++) {
    gsize i = (gsize) (2 * oy + t / 2) * w + 2 * ox + t % 2;
    if (plane[i] > plane[best] || isnan (plane[i]))
      best = i;
  }
  return best;
}

void
sf_ref_pool_forward (const double *in, int c, int h, int w, SfPooling pool,
    double *out)
{
  int oh = sf_ref_pool_dim (h), ow = sf_ref_pool_dim (w);
  gsize plane = tensor_numel (1, h, w), oplane = tensor_numel (1, oh, ow);

  tensor_numel (c, h, w);
  for (int ch = 0; ch < c; ch++) {
    const double *p = in + ch * plane;
    double *o = out + ch * oplane;

    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        const double *q = p + (gsize) (2 * oy) * w + 2 * ox;
        if (pool == SF_POOL_MAX)
          o[oy * ow + ox] = p[max_window_argmax (p, w, oy, ox)];
        else
          o[oy * ow + ox] = 0.25 * (q[0] + q[1] + q[w] + q[w + 1]);
      }
  }
}

/* Max: the window's gradient goes to its argmax only.  Average: each of
 * the four inputs gets a quarter.  Rows/cols past 2*(h/2), 2*(w/2) take no
 * part in the forward, so their gradient is 0. */
void
sf_ref_pool_backward (const double *in, const double *gout, int c, int h,
    int w, SfPooling pool, double *gin)
{
  int oh = sf_ref_pool_dim (h), ow = sf_ref_pool_dim (w);
  gsize plane = tensor_numel (1, h, w), oplane = tensor_numel (1, oh, ow);

  memset (gin, 0, tensor_numel (c, h, w) * sizeof (double));
  for (int ch = 0; ch < c; ch++) {
    const double *p = in + ch * plane;
    const double *go = gout + ch * oplane;
    double *gi = gin + ch * plane;

    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        double g = go[oy * ow + ox];
        gsize i0 = (gsize) (2 * oy) * w + 2 * ox;
        if (pool == SF_POOL_MAX) {
          gi[max_window_argmax (p, w, oy, ox)] += g;
        } else {
          gi[i0] += 0.25 * g;
          gi[i0 + 1] += 0.25 * g;
          gi[i0 + w] += 0.25 * g;
          gi[i0 + w + 1] += 0.25 * g;
        }
      }
  }
}

/* ---------------------------------------------------------------------- */
/* Gram and the loss terms                                                 */

static double
dot (const double *a, const double *b, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

/* g[i][j] = sum_k f[i][k] f[j][k] / m (computed once per pair, mirrored). */
void
sf_ref_gram (const double *f, int c, int m, double *g)
{
  tensor_numel (1, c, m);
  tensor_numel (1, c, c);
  for (int i = 0; i < c; i++)
    for (int j = 0; j <= i; j++) {
      double v = dot (f + (gsize) i * m, f + (gsize) j * m, m) / m;
      g[(gsize) i * c + j] = v;
      g[(gsize) j * c + i] = v;
    }
}

/* One style layer: returns L = ||G - A||^2 / ||A||^2 for F = [c][m] and,
 * if gf is not NULL, adds scale * dL/dF = scale * 4 (G - A) F / (M ||A||^2)
 * to gf [c][m]. */
static double
style_layer (const double *f, int c, int m, const double *a, double scale,
    double *gf)
{
  gsize cc = tensor_numel (1, c, c);
  double *g = g_new (double, MAX (cc, 1));
  double num = 0.0, den = 0.0;

  sf_ref_gram (f, c, m, g);
  for (gsize i = 0; i < cc; i++) {
    g[i] -= a[i];               /* g now holds G - A */
    num += g[i] * g[i];
    den += a[i] * a[i];
  }
  if (gf) {
    double k = scale * 4.0 / ((double) m * den);
    for (int i = 0; i < c; i++)
      for (int j = 0; j < c; j++) {
        double d = k * g[(gsize) i * c + j];
        double *row = gf + (gsize) i * m;
        const double *fj = f + (gsize) j * m;
        if (d != 0.0)
          for (int t = 0; t < m; t++)
            row[t] += d * fj[t];
      }
  }
  g_free (g);
  return num / den;
}

/* Content: returns C = ||F - P||^2 / ||P||^2 over n elements and, if gf is
 * not NULL, adds scale * dC/dF = scale * 2 (F - P) / ||P||^2 to gf. */
static double
content_term (const double *f, const double *p, gsize n, double scale,
    double *gf)
{
  double num = 0.0, den = dot (p, p, n);

  for (gsize i = 0; i < n; i++)
    num += (f[i] - p[i]) * (f[i] - p[i]);
  if (gf)
    for (gsize i = 0; i < n; i++)
      gf[i] += scale * 2.0 * (f[i] - p[i]) / den;
  return num / den;
}

/* TV over the [3][h][w] image x: returns
 *   sum (vertical diff)^2 / (3 (h-1) w) + sum (horizontal diff)^2 / (3 h (w-1))
 * and, if grad is not NULL, adds scale * d tv / dx to grad. */
static double
tv_term (const float *x, int w, int h, double scale, double *grad)
{
  double nv = 3.0 * (h - 1) * w, nh = 3.0 * h * (w - 1);
  double sv = 0.0, sh = 0.0;

  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int i = 0; i < w; i++) {
        gsize p = ((gsize) c * h + y) * w + i;
        if (y + 1 < h) {
          double d = (double) x[p + w] - x[p];
          sv += d * d;
          if (grad) {
            grad[p + w] += scale * 2.0 * d / nv;
            grad[p] -= scale * 2.0 * d / nv;
          }
        }
        if (i + 1 < w) {
          double d = (double) x[p + 1] - x[p];
          sh += d * d;
          if (grad) {
            grad[p + 1] += scale * 2.0 * d / nh;
            grad[p] -= scale * 2.0 * d / nh;
          }
        }
      }
  return sv / nv + sh / nh;
}

/* The range term over the [3][h][w] image x: returns the mean over the
 * pixels of the squared excess outside [0,1] and, if grad is not NULL, adds
 * scale * d range / dx to grad. */
static double
range_term (const float *x, int w, int h, double scale, double *grad)
{
  gsize n = (gsize) 3 * w * h;
  double s = 0.0;

  for (gsize i = 0; i < n; i++) {
    double v = x[i];
    double e = v > 1.0 ? v - 1.0 : (v < 0.0 ? v : 0.0);
    s += e * e;
    if (grad)
      grad[i] += scale * 2.0 * e / (double) n;
  }
  return s / (double) n;
}

/* ---------------------------------------------------------------------- */
/* The network                                                             */

/* Post-ReLU outputs of the 13 convs and their sizes. */
typedef struct
{
  double *act[SF_VGG_NUM_CONVS];
  int c[SF_VGG_NUM_CONVS], h[SF_VGG_NUM_CONVS], w[SF_VGG_NUM_CONVS];
} Activations;

static void
activations_clear (Activations *a)
{
  for (int k = 0; k < SF_VGG_NUM_CONVS; k++)
    g_clear_pointer (&a->act[k], g_free);
}

/* Runs the network on img [3][h][w] in [0,1] and fills a (owned by a). */
static void
vgg_forward (const SfVggWeights *wts, SfPooling pool, const float *img, int w,
    int h, Activations *a)
{
  gsize plane = tensor_numel (3, h, w) / 3;
  double *owned = g_new (double, MAX (3 * plane, 1));
  const double *in = owned;     /* input of conv k */
  int cin = 3;

  memset (a, 0, sizeof (*a));
  for (int c = 0; c < 3; c++)
    for (gsize i = 0; i < plane; i++)
      owned[c * plane + i] = (img[c * plane + i] - img_mean[c]) / img_std[c];

  for (int k = 0; k < SF_VGG_NUM_CONVS; k++) {
    const SfConvWeights *cv = &wts->conv[k];

    g_assert (cv->cin == cin);
    a->c[k] = cv->cout;
    a->h[k] = h;
    a->w[k] = w;
    a->act[k] = g_new (double, MAX (tensor_numel (cv->cout, h, w), 1));
    sf_ref_conv3x3_forward (in, cin, h, w, cv->weight, cv->bias, cv->cout, 1,
        a->act[k]);
    g_clear_pointer (&owned, g_free);
    cin = cv->cout;
    in = a->act[k];
    if (is_pool_after (k)) {
      int oh = sf_ref_pool_dim (h), ow = sf_ref_pool_dim (w);
      owned = g_new (double, MAX (tensor_numel (cin, oh, ow), 1));
      sf_ref_pool_forward (a->act[k], cin, h, w, pool, owned);
      in = owned;
      h = oh;
      w = ow;
    }
  }
  g_free (owned);
}

void
sf_ref_vgg_forward (const SfVggWeights *wts, SfPooling pool,
    const float *img, int w, int h, double **feats, int *fc, int *fh, int *fw)
{
  Activations a;

  g_return_if_fail (wts != NULL && img != NULL && w >= 0 && h >= 0);
  vgg_forward (wts, pool, img, w, h, &a);
  for (int k = 0; k < SF_VGG_NUM_CONVS; k++) {
    if (fc)
      fc[k] = a.c[k];
    if (fh)
      fh[k] = a.h[k];
    if (fw)
      fw[k] = a.w[k];
    if (feats) {
      feats[k] = a.act[k];      /* hand over the buffer itself */
      a.act[k] = NULL;
    }
  }
  activations_clear (&a);
}

/* Adds to gacts[k] (allocated on first use) scale times the gradients of the
 * style and content terms with respect to the activations of x, and returns
 * the two terms.  targets: A_l for each style layer, P for content. */
static void
loss_terms_at_features (const Activations *x, double *const *grams,
    const double *p, guint layers, double style_scale, double content_scale,
    double *gacts[], gboolean want_grad, double *style, double *content)
{
  double s = 0.0;
  int nl = sf_style_layer_count (layers);

  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    int k = style_convs[l];
    int m = x->h[k] * x->w[k];
    if (!(layers & (1u << l)))
      continue;
    if (want_grad && !gacts[k])
      gacts[k] = tensor_new0 (x->c[k], x->h[k], x->w[k]);
    /* style = mean of the layers in force, hence the 1/nl on each
     * gradient */
    s += style_layer (x->act[k], x->c[k], m, grams[l], style_scale / nl,
        want_grad ? gacts[k] : NULL);
  }
  *style = s / nl;

  {
    int k = SF_CONTENT_CONV;
    if (want_grad && !gacts[k])
      gacts[k] = tensor_new0 (x->c[k], x->h[k], x->w[k]);
    *content = content_term (x->act[k], p,
        tensor_numel (x->c[k], x->h[k], x->w[k]), content_scale,
        want_grad ? gacts[k] : NULL);
  }
}

/* Backpropagates the per-layer gradients gacts[k] (with respect to the
 * post-ReLU output of conv k; NULL where no loss touches it; consumed)
 * through the network down to the image, and adds d/dx to grad [3][h][w]. */
static void
backward_to_image (const SfVggWeights *wts, SfPooling pool,
    const Activations *a, double *gacts[], double *grad)
{
  double *g = NULL;             /* d loss / d post-ReLU output of conv k */

  for (int k = SF_VGG_NUM_CONVS - 1; k >= 0; k--) {
    const SfConvWeights *cv = &wts->conv[k];
    gsize n = tensor_numel (a->c[k], a->h[k], a->w[k]);
    double *gin;

    if (gacts[k]) {
      if (!g) {
        g = gacts[k];
      } else {
        for (gsize i = 0; i < n; i++)
          g[i] += gacts[k][i];
        g_free (gacts[k]);
      }
      gacts[k] = NULL;
    }
    if (!g)
      continue;                 /* no loss at or above this layer */

    gin = g_new (double, MAX (tensor_numel (cv->cin, a->h[k], a->w[k]), 1));
    sf_ref_conv3x3_backward_input (g, a->act[k], cv->cin, a->h[k], a->w[k],
        cv->weight, cv->cout, gin);
    g_free (g);
    g = gin;
    if (k > 0 && is_pool_after (k - 1)) {
      gsize np = tensor_numel (a->c[k - 1], a->h[k - 1], a->w[k - 1]);
      double *gp = g_new (double, MAX (np, 1));
      sf_ref_pool_backward (a->act[k - 1], g, a->c[k - 1], a->h[k - 1],
          a->w[k - 1], pool, gp);
      g_free (g);
      g = gp;
    }
  }
  if (g) {
    /* chain rule through xn = (x - mean) / std */
    gsize plane = tensor_numel (1, a->h[0], a->w[0]);
    for (int c = 0; c < 3; c++)
      for (gsize i = 0; i < plane; i++)
        grad[c * plane + i] += g[c * plane + i] / img_std[c];
    g_free (g);
  }
}

/* The style targets at the style layers (newly allocated): the Gram
 * matrices of the style images blended, sum of blend[i] / sum (blend)
 * times style i's. */
static void
style_targets (const SfVggWeights *wts, SfPooling pool, guint n,
    const float *const *styles, const int *sw, const int *sh,
    const double *blend, double *grams[])
{
  double sum = 0.0;

  for (guint i = 0; i < n; i++)
    sum += blend[i];
  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
    int c = sf_vgg_conv_cout (style_convs[l]);
    grams[l] = g_new0 (double, MAX (tensor_numel (1, c, c), 1));
  }
  for (guint i = 0; i < n; i++) {
    Activations s;

    vgg_forward (wts, pool, styles[i], sw[i], sh[i], &s);
    for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++) {
      int k = style_convs[l];
      gsize cc = tensor_numel (1, s.c[k], s.c[k]);
      double *g = g_new (double, MAX (cc, 1));
      sf_ref_gram (s.act[k], s.c[k], s.h[k] * s.w[k], g);
      for (gsize j = 0; j < cc; j++)
        grams[l][j] += blend[i] / sum * g[j];
      g_free (g);
    }
    activations_clear (&s);
  }
}

double
sf_ref_loss (const SfVggWeights *wts, SfPooling pool,
    const float *x, const float *content, int w, int h,
    const float *style, int sw, int sh,
    const SfLossWeights *weights, SfLossTerms *terms, double *grad)
{
  const double one = 1.0;

  return sf_ref_loss_blend (wts, pool, x, content, w, h, 1, &style, &sw, &sh,
      &one, weights, terms, grad);
}

double
sf_ref_loss_blend (const SfVggWeights *wts, SfPooling pool,
    const float *x, const float *content, int w, int h, guint n_styles,
    const float *const *styles, const int *sw, const int *sh,
    const double *blend, const SfLossWeights *weights, SfLossTerms *terms,
    double *grad)
{
  double *grams[SF_NUM_STYLE_LAYERS];
  double *gacts[SF_VGG_NUM_CONVS] = { NULL };
  Activations ax, ac;
  double style_v, content_v, tv_v, range_v, total, bsum = 0.0;

  g_return_val_if_fail (wts && x && content && styles && weights && blend,
      NAN);
  g_return_val_if_fail (w >= 16 && h >= 16 && n_styles >= 1, NAN);
  for (guint i = 0; i < n_styles; i++) {
    g_return_val_if_fail (styles[i] && sw[i] >= 16 && sh[i] >= 16, NAN);
    g_return_val_if_fail (blend[i] >= 0.0, NAN);
    bsum += blend[i];
  }
  g_return_val_if_fail (bsum > 0.0, NAN);

  style_targets (wts, pool, n_styles, styles, sw, sh, blend, grams);
  vgg_forward (wts, pool, content, w, h, &ac);
  vgg_forward (wts, pool, x, w, h, &ax);

  loss_terms_at_features (&ax, grams, ac.act[SF_CONTENT_CONV],
      sf_style_layer_mask (weights), weights->style, weights->content, gacts, grad != NULL, &style_v,
      &content_v);
  if (grad) {
    memset (grad, 0, tensor_numel (3, h, w) * sizeof (double));
    backward_to_image (wts, pool, &ax, gacts, grad);
  }
  tv_v = tv_term (x, w, h, weights->tv, grad);
  range_v = range_term (x, w, h, weights->range, grad);

  total = weights->content * content_v + weights->style * style_v
      + weights->tv * tv_v + weights->range * range_v;
  if (terms) {
    terms->total = total;
    terms->content = content_v;
    terms->style = style_v;
    terms->tv = tv_v;
    terms->temporal = 0.0;
    terms->range = range_v;
  }

  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++)
    g_free (grams[l]);
  for (int k = 0; k < SF_VGG_NUM_CONVS; k++)
    g_free (gacts[k]);
  activations_clear (&ac);
  activations_clear (&ax);
  return total;
}
