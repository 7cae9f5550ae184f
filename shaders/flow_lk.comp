// flow_lk.comp - one pass of dense iterative Lucas-Kanade (Bouguet's
// pyramidal scheme) at one pyramid level, both directions in one
// dispatch, started from the best of a few candidate flows.
//
// img is the level's grey pair [2][H][W] (plane 0 = previous frame,
// plane 1 = current).  Invocation i < 2 H W: direction d = i / (H W)
// (0: forward, previous -> current, flows in src_f / out_f; 1: backward,
// current -> previous, src_b / out_b), pixel p = i % (H W).  With I0 the
// direction's source plane and I1 its target:
//
// Start: with has_src, the candidates are scale * src(m(p)) and
// scale * src(m(p +- (dist, 0))), scale * src(m(p +- (0, dist))), the
// source flow (SW x SH) sampled bilinearly at m(p) = p * src_mul +
// src_off: the coarser level's flow (scale 2, m(p) = p / 2 - 1/4: coarse
// pixel c is centred on fine coordinate 2c + 0.5, as flow_down.comp
// filters) or this level's previous pass (scale 1, m(p) = p).  The one
// with the smallest window residual E wins (the neighbours' candidates let
// a pixel take the flow from the correct side of a motion boundary or
// from inside the image); where they all agree within cand_spread px (per
// component) the centre one is taken without comparing.  Without has_src,
// u = 0.
//
// Then, over the (2R+1)^2 window q around p (taps outside the image
// skipped), w(q) = exp(-|q - p|^2 inv_2s2):
//   G  = sum_q w [Ix Ix, Ix Iy; Ix Iy, Iy Iy]   (central differences of I0)
//   up to `iters` times (until |du| < sqrt(eps2)):
//     e  = I1(q + u) - I0(q)                 (I1 bilinear, clamped)
//     E  = sum_q w e^2;  if E rose: halve the last step, retry
//     b  = sum_q w [Ix, Iy] e
//     du = -(G + lambda sum w I)^-1 b,  |du| <= max_step,
//          |u + du - u_start| <= max_disp;  u += du
#version 450

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Img { float img[]; };
layout (std430, binding = 1) readonly buffer SrcF { float src_f[]; };
layout (std430, binding = 2) readonly buffer SrcB { float src_b[]; };
layout (std430, binding = 3) writeonly buffer OutF { float out_f[]; };
layout (std430, binding = 4) writeonly buffer OutB { float out_b[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  int SW;       // source flow's size (when has_src)
  int SH;
  int has_src;
  int R;        // window radius
  int iters;
  float scale;
  float src_mul;
  float src_off;
  float dist;   // neighbour candidates' distance (0: none)
  float inv_2s2;
  float lambda;
  float eps2;
  float max_step;
  float max_disp;
  float cand_spread;  // candidates compared only where they differ more
} p;

float
pix (int base, int x, int y)
{
  return img[base + clamp (y, 0, p.H - 1) * p.W + clamp (x, 0, p.W - 1)];
}

float
bilinear (int base, float fx, float fy)
{
  fx = clamp (fx, 0.0, float (p.W - 1));
  fy = clamp (fy, 0.0, float (p.H - 1));
  int x0 = int (floor (fx)), y0 = int (floor (fy));
  int x1 = min (x0 + 1, p.W - 1), y1 = min (y0 + 1, p.H - 1);
  float ax = fx - float (x0), ay = fy - float (y0);
  float r0 = mix (img[base + y0 * p.W + x0], img[base + y0 * p.W + x1], ax);
  float r1 = mix (img[base + y1 * p.W + x0], img[base + y1 * p.W + x1], ax);
  return mix (r0, r1, ay);
}

// The source flow at fine position (fx, fy), scaled.
vec2
src_at (bool backward, float fx, float fy)
{
  int sn = p.SW * p.SH;
  fx = clamp (fx * p.src_mul + p.src_off, 0.0, float (p.SW - 1));
  fy = clamp (fy * p.src_mul + p.src_off, 0.0, float (p.SH - 1));
  int x0 = int (floor (fx)), y0 = int (floor (fy));
  int x1 = min (x0 + 1, p.SW - 1), y1 = min (y0 + 1, p.SH - 1);
  float ax = fx - float (x0), ay = fy - float (y0);
  int i00 = y0 * p.SW + x0, i01 = y0 * p.SW + x1;
  int i10 = y1 * p.SW + x0, i11 = y1 * p.SW + x1;
  vec2 v00, v01, v10, v11;
  if (backward) {
    v00 = vec2 (src_b[i00], src_b[sn + i00]);
    v01 = vec2 (src_b[i01], src_b[sn + i01]);
    v10 = vec2 (src_b[i10], src_b[sn + i10]);
    v11 = vec2 (src_b[i11], src_b[sn + i11]);
  } else {
    v00 = vec2 (src_f[i00], src_f[sn + i00]);
    v01 = vec2 (src_f[i01], src_f[sn + i01]);
    v10 = vec2 (src_f[i10], src_f[sn + i10]);
    v11 = vec2 (src_f[i11], src_f[sn + i11]);
  }
  return p.scale * mix (mix (v00, v01, ax), mix (v10, v11, ax), ay);
}

// sum_q w(q) (I1(q + u) - I0(q))^2 over the window [xa, xb] x [ya, yb]
float
residual (int base0, int base1, int x, int y, int xa, int xb, int ya, int yb,
    vec2 u)
{
  float s = 0.0;
  for (int yy = ya; yy <= yb; yy++)
    for (int xx = xa; xx <= xb; xx++) {
      float dx = float (xx - x), dy = float (yy - y);
      float w = exp (-(dx * dx + dy * dy) * p.inv_2s2);
      float e = bilinear (base1, float (xx) + u.x, float (yy) + u.y)
          - pix (base0, xx, yy);
      s += w * e * e;
    }
  return s;
}

void
main ()
{
  int n = p.W * p.H;
  int stride = int (gl_NumWorkGroups.x) * 64;
  for (int i = int (gl_GlobalInvocationID.x); i < 2 * n; i += stride) {
    bool backward = i >= n;
    int k = backward ? i - n : i;
    int x = k % p.W, y = k / p.W;
    int base0 = backward ? n : 0;       // I0: the direction's source
    int base1 = backward ? 0 : n;       // I1: its target
    int xa = max (x - p.R, 0), xb = min (x + p.R, p.W - 1);
    int ya = max (y - p.R, 0), yb = min (y + p.R, p.H - 1);
    float fx = float (x), fy = float (y);

    vec2 u = vec2 (0.0);
    if (p.has_src != 0) {
      u = src_at (backward, fx, fy);
      if (p.dist > 0.0) {
        vec2 c1 = src_at (backward, fx - p.dist, fy);
        vec2 c2 = src_at (backward, fx + p.dist, fy);
        vec2 c3 = src_at (backward, fx, fy - p.dist);
        vec2 c4 = src_at (backward, fx, fy + p.dist);
        vec2 lo = min (min (min (c1, c2), min (c3, c4)), u);
        vec2 hi = max (max (max (c1, c2), max (c3, c4)), u);
        // only where the candidates differ (motion boundaries, failures)
        if (max (hi.x - lo.x, hi.y - lo.y) > p.cand_spread) {
          float best_e = residual (base0, base1, x, y, xa, xb, ya, yb, u);
          float e = residual (base0, base1, x, y, xa, xb, ya, yb, c1);
          vec2 bu = u;
          if (e < best_e) { best_e = e; bu = c1; }
          e = residual (base0, base1, x, y, xa, xb, ya, yb, c2);
          if (e < best_e) { best_e = e; bu = c2; }
          e = residual (base0, base1, x, y, xa, xb, ya, yb, c3);
          if (e < best_e) { best_e = e; bu = c3; }
          e = residual (base0, base1, x, y, xa, xb, ya, yb, c4);
          if (e < best_e) { best_e = e; bu = c4; }
          u = bu;
        }
      }
    }

    float gxx = 0.0, gxy = 0.0, gyy = 0.0, ws = 0.0;
    for (int yy = ya; yy <= yb; yy++)
      for (int xx = xa; xx <= xb; xx++) {
        float dx = float (xx - x), dy = float (yy - y);
        float w = exp (-(dx * dx + dy * dy) * p.inv_2s2);
        float ix = 0.5 * (pix (base0, xx + 1, yy) - pix (base0, xx - 1, yy));
        float iy = 0.5 * (pix (base0, xx, yy + 1) - pix (base0, xx, yy - 1));
        gxx += w * ix * ix;
        gxy += w * ix * iy;
        gyy += w * iy * iy;
        ws += w;
      }
    float a = gxx + p.lambda * ws, c = gyy + p.lambda * ws;
    float inv_det = 1.0 / max (a * c - gxy * gxy, 1e-30);

    // Gauss-Newton steps with backtracking: a step that raises the
    // window's residual energy is halved and retried from the best point.
    vec2 u0 = u, best = u, step = vec2 (0.0);
    float e_best = 3.0e38;
    for (int it = 0; it < p.iters; it++) {
      float bx = 0.0, by = 0.0, en = 0.0;
      for (int yy = ya; yy <= yb; yy++)
        for (int xx = xa; xx <= xb; xx++) {
          float dx = float (xx - x), dy = float (yy - y);
          float w = exp (-(dx * dx + dy * dy) * p.inv_2s2);
          float ix = 0.5 * (pix (base0, xx + 1, yy) - pix (base0, xx - 1, yy));
          float iy = 0.5 * (pix (base0, xx, yy + 1) - pix (base0, xx, yy - 1));
          float e = bilinear (base1, float (xx) + u.x, float (yy) + u.y)
              - pix (base0, xx, yy);
          bx += w * ix * e;
          by += w * iy * e;
          en += w * e * e;
        }
      if (en > e_best) {
        step *= 0.5;
        u = best + step;
        if (dot (step, step) < p.eps2)
          break;
        continue;
      }
      best = u;
      e_best = en;
      step = -inv_det * vec2 (c * bx - gxy * by, a * by - gxy * bx);
      float l2 = dot (step, step);
      if (l2 > p.max_step * p.max_step)
        step *= p.max_step * inversesqrt (l2);
      // the pass changes its starting flow by at most max_disp
      vec2 d = best + step - u0;
      float d2 = dot (d, d);
      if (d2 > p.max_disp * p.max_disp)
        step = u0 + d * (p.max_disp * inversesqrt (d2)) - best;
      u = best + step;
      if (dot (step, step) < p.eps2) {
        best = u;
        break;
      }
    }
    u = best;

    if (backward) {
      out_b[k] = u.x;
      out_b[n + k] = u.y;
    } else {
      out_f[k] = u.x;
      out_f[n + k] = u.y;
    }
  }
}
