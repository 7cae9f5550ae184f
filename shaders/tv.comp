// tv.comp - total variation of a planar RGB image x [3][H][W]:
//   tv = sum (x[y+1][x] - x[y][x])^2 / (3 (H-1) W)
//      + sum (x[y][x+1] - x[y][x])^2 / (3 H (W-1))
// Partial sums per workgroup (each neighbour pair counted once, by its
// top/left pixel), and grad += coef * d tv / d x.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer X { float x[]; };
layout (std430, binding = 1) buffer Grad { float grad[]; };
layout (std430, binding = 2) writeonly buffer Partials { float partials[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  float wv;      // 1 / (3 (H-1) W), 0 when H == 1
  float wh;      // 1 / (3 H (W-1)), 0 when W == 1
  float coef;    // weight on the gradient; 0 leaves grad untouched
  int partial_offset;
} p;

#include "reduce.glsl"

void
main ()
{
  int n = 3 * p.W * p.H;
  int stride = int (gl_NumWorkGroups.x) * 256;
  float s = 0.0;
  for (int i = int (gl_GlobalInvocationID.x); i < n; i += stride) {
    int xx = i % p.W;
    int yy = (i / p.W) % p.H;
    float v = x[i];
    float g = 0.0;
    if (yy + 1 < p.H) {
      float d = x[i + p.W] - v;
      s += p.wv * d * d;
      g -= 2.0 * p.wv * d;
    }
    if (yy > 0)
      g += 2.0 * p.wv * (v - x[i - p.W]);
    if (xx + 1 < p.W) {
      float d = x[i + 1] - v;
      s += p.wh * d * d;
      g -= 2.0 * p.wh * d;
    }
    if (xx > 0)
      g += 2.0 * p.wh * (v - x[i - 1]);
    if (p.coef != 0.0)
      grad[i] += p.coef * g;
  }
  float t = wg_reduce (s, false);
  if (gl_LocalInvocationID.x == 0u)
    partials[p.partial_offset + int (gl_WorkGroupID.x)] = t;
}
