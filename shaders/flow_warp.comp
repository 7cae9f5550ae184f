// flow_warp.comp - backward warping of a planar image [C][H][W] by a flow
// [2][H][W] (dx plane, dy plane, in pixels):
//   dst[c](p) = src[c](p + flow(p)),
// with the sample position clamped to the image.  With the backward flow
// (current -> previous) this brings the previous frame into the current
// one.  filter_mode ("filter" is a reserved word in GLSL) picks the
// interpolation:
//   0  bilinear (2x2 taps).  A sub-pixel shift low-passes (a 0.5 px shift
//      keeps cos (pi f) of frequency f), so warping every frame of a video
//      blurs the picture a little more each time.
//   1  bicubic Catmull-Rom (a = -0.5, 4x4 taps, separable weights, taps
//      clamped to the edge): keeps much more of the high frequencies (0.88
//      instead of 0.71 at a quarter of the sampling rate for a 0.5 px
//      shift).  Its negative lobes overshoot at edges: the result is NOT
//      clamped here, it may leave the source's range (the caller clamps).
//   2  Catmull-Rom with a sample position outside the image mirrored back
//      into it (about the edge pixel's centre) instead of clamped: what
//      comes into view takes the texture next to the edge, not the edge
//      pixel smeared into streaks.  Used for the stylization carried along
//      a pan, since the style loss, a statistic of the whole frame, barely
//      pulls a new strip away from the photograph in a few iterations.
//   3  Lanczos-3 (6x6 taps, sinc (d) sinc (d / 3), weights normalised to
//      sum 1), mirrored as 2: keeps still more of the high frequencies
//      (1.02 instead of 0.88 of the amplitude at a quarter of the sampling
//      rate for a 0.5 px shift), for a stylization sampled once through a
//      composed flow.  Its gain peaks at 1.027, so a chain of its warps
//      amplifies: not for warping frame after frame.  It rings at edges as
//      Catmull-Rom overshoots.
#version 450

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Src { float src[]; };
layout (std430, binding = 1) readonly buffer Flow { float flow[]; };
layout (std430, binding = 2) writeonly buffer Dst { float dst[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  int C;
  int filter_mode;      // 0 bilinear, 1 bicubic, 2 mirrored, 3 Lanczos
} p;

void
warp_bilinear (int k, int n, float fx, float fy)
{
  int x0 = int (floor (fx)), y0 = int (floor (fy));
  int x1 = min (x0 + 1, p.W - 1), y1 = min (y0 + 1, p.H - 1);
  float ax = fx - float (x0), ay = fy - float (y0);
  int i00 = y0 * p.W + x0, i01 = y0 * p.W + x1;
  int i10 = y1 * p.W + x0, i11 = y1 * p.W + x1;
  for (int c = 0; c < p.C; c++) {
    int o = c * n;
    float r0 = mix (src[o + i00], src[o + i01], ax);
    float r1 = mix (src[o + i10], src[o + i11], ax);
    dst[o + k] = mix (r0, r1, ay);
  }
}

// Catmull-Rom weights of the taps floor - 1 .. floor + 2 at fraction t
vec4
cubic_weights (float t)
{
  float t2 = t * t, t3 = t2 * t;
  return vec4 (-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1.0,
      -1.5 * t3 + 2.0 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2);
}

void
warp_bicubic (int k, int n, float fx, float fy)
{
  int x0 = int (floor (fx)), y0 = int (floor (fy));
  vec4 wx = cubic_weights (fx - float (x0));
  vec4 wy = cubic_weights (fy - float (y0));
  ivec4 xs = clamp (ivec4 (x0 - 1, x0, x0 + 1, x0 + 2), 0, p.W - 1);
  ivec4 rows = clamp (ivec4 (y0 - 1, y0, y0 + 1, y0 + 2), 0, p.H - 1) * p.W;
  for (int c = 0; c < p.C; c++) {
    int o = c * n;
    vec4 r;
    for (int j = 0; j < 4; j++) {
      int b = o + rows[j];
      r[j] = dot (wx, vec4 (src[b + xs.x], src[b + xs.y], src[b + xs.z],
              src[b + xs.w]));
    }
    dst[o + k] = dot (wy, r);
  }
}

// Lanczos-3 weights of the taps floor - 2 .. floor + 3 at fraction t,
// normalised to sum 1 (so that a constant stays constant)
void
lanczos_weights (float t, out float w[6])
{
  const float PI = 3.14159265358979;
  float sum = 0.0;
  for (int i = 0; i < 6; i++) {
    float d = t - float (i - 2);
    float a = PI * d, b = a / 3.0;
    w[i] = abs (d) < 1e-5 ? 1.0 : 3.0 * sin (a) * sin (b) / (a * a);
    sum += w[i];
  }
  for (int i = 0; i < 6; i++)
    w[i] /= sum;
}

void
warp_lanczos (int k, int n, float fx, float fy)
{
  int x0 = int (floor (fx)), y0 = int (floor (fy));
  float wx[6], wy[6];
  int xs[6], rows[6];
  lanczos_weights (fx - float (x0), wx);
  lanczos_weights (fy - float (y0), wy);
  for (int i = 0; i < 6; i++) {
    xs[i] = clamp (x0 - 2 + i, 0, p.W - 1);
    rows[i] = clamp (y0 - 2 + i, 0, p.H - 1) * p.W;
  }
  for (int c = 0; c < p.C; c++) {
    int o = c * n;
    float acc = 0.0;
    for (int j = 0; j < 6; j++) {
      float r = 0.0;
      for (int i = 0; i < 6; i++)
        r += wx[i] * src[o + rows[j] + xs[i]];
      acc += wy[j] * r;
    }
    dst[o + k] = acc;
  }
}

void
main ()
{
  int n = p.W * p.H;
  int stride = int (gl_NumWorkGroups.x) * 64;
  for (int k = int (gl_GlobalInvocationID.x); k < n; k += stride) {
    int x = k % p.W, y = k / p.W;
    float fx = float (x) + flow[k], fy = float (y) + flow[n + k];
    if (p.filter_mode >= 2) {
      float mw = float (p.W - 1), mh = float (p.H - 1);
      fx = fx < 0.0 ? -fx : fx > mw ? 2.0 * mw - fx : fx;
      fy = fy < 0.0 ? -fy : fy > mh ? 2.0 * mh - fy : fy;
    }
    fx = clamp (fx, 0.0, float (p.W - 1));
    fy = clamp (fy, 0.0, float (p.H - 1));
    if (p.filter_mode == 3)
      warp_lanczos (k, n, fx, fy);
    else if (p.filter_mode != 0)
      warp_bicubic (k, n, fx, fy);
    else
      warp_bilinear (k, n, fx, fy);
  }
}
