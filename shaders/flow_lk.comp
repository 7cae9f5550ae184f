// flow_lk.comp - one pyramid level of dense iterative Lucas-Kanade
// (Bouguet's pyramidal scheme), both directions in one dispatch.
//
// img is the level's grey pair [2][H][W] (plane 0 = previous frame,
// plane 1 = current).  Invocation i < 2 H W: direction d = i / (H W)
// (0: forward, previous -> current, written to out_f; 1: backward,
// current -> previous, written to out_b), pixel k = i % (H W).  For the
// pixel p, with I0 the direction's source plane and I1 its target:
//   u  = 2 * (coarser level's flow at p's position), or 0 (coarsest level)
//   G  = sum_q w(q) [Ix Ix, Ix Iy; Ix Iy, Iy Iy]  (gradients of I0)
//   repeat `iters` times (or until |du| < sqrt(eps2)):
//     b  = sum_q w(q) [Ix, Iy] (I1(q + u) - I0(q))   (I1 bilinear, clamped)
//     du = -(G + lambda sum w I)^-1 b,  |du| clamped to max_step;  u += du
// over the (2R+1)^2 window q around p (taps outside the image skipped),
// w(q) = exp(-|q - p|^2 inv_2s2).  Coarse pixel c is centred on fine
// coordinate 2c + 0.5 (as flow_down.comp filters).
#version 450

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Img { float img[]; };
layout (std430, binding = 1) readonly buffer CoarseF { float coarse_f[]; };
layout (std430, binding = 2) readonly buffer CoarseB { float coarse_b[]; };
layout (std430, binding = 3) writeonly buffer OutF { float out_f[]; };
layout (std430, binding = 4) writeonly buffer OutB { float out_b[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  int CW;       // coarser level's size (when has_coarse)
  int CH;
  int has_coarse;
  int R;        // window radius
  int iters;
  float inv_2s2;
  float lambda;
  float eps2;
  float max_step;
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

// The coarser level's flow (both planes) at coarse coordinate (fx, fy).
vec2
coarse_at (bool backward, float fx, float fy)
{
  int cn = p.CW * p.CH;
  fx = clamp (fx, 0.0, float (p.CW - 1));
  fy = clamp (fy, 0.0, float (p.CH - 1));
  int x0 = int (floor (fx)), y0 = int (floor (fy));
  int x1 = min (x0 + 1, p.CW - 1), y1 = min (y0 + 1, p.CH - 1);
  float ax = fx - float (x0), ay = fy - float (y0);
  int i00 = y0 * p.CW + x0, i01 = y0 * p.CW + x1;
  int i10 = y1 * p.CW + x0, i11 = y1 * p.CW + x1;
  vec2 v00, v01, v10, v11;
  if (backward) {
    v00 = vec2 (coarse_b[i00], coarse_b[cn + i00]);
    v01 = vec2 (coarse_b[i01], coarse_b[cn + i01]);
    v10 = vec2 (coarse_b[i10], coarse_b[cn + i10]);
    v11 = vec2 (coarse_b[i11], coarse_b[cn + i11]);
  } else {
    v00 = vec2 (coarse_f[i00], coarse_f[cn + i00]);
    v01 = vec2 (coarse_f[i01], coarse_f[cn + i01]);
    v10 = vec2 (coarse_f[i10], coarse_f[cn + i10]);
    v11 = vec2 (coarse_f[i11], coarse_f[cn + i11]);
  }
  return mix (mix (v00, v01, ax), mix (v10, v11, ax), ay);
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

    vec2 u = vec2 (0.0);
    if (p.has_coarse != 0)
      u = 2.0 * coarse_at (backward, (float (x) - 0.5) * 0.5,
          (float (y) - 0.5) * 0.5);

    int xa = max (x - p.R, 0), xb = min (x + p.R, p.W - 1);
    int ya = max (y - p.R, 0), yb = min (y + p.R, p.H - 1);
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

    for (int it = 0; it < p.iters; it++) {
      float bx = 0.0, by = 0.0;
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
        }
      vec2 du = -inv_det * vec2 (c * bx - gxy * by, a * by - gxy * bx);
      float l2 = dot (du, du);
      if (l2 > p.max_step * p.max_step)
        du *= p.max_step * inversesqrt (l2);
      u += du;
      if (l2 < p.eps2)
        break;
    }

    if (backward) {
      out_b[k] = u.x;
      out_b[n + k] = u.y;
    } else {
      out_f[k] = u.x;
      out_f[n + k] = u.y;
    }
  }
}
