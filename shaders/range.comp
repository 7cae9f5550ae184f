// range.comp - the range term of a planar RGB image x [3][H][W]: how far
// the pixels stray outside the displayable [0,1],
//   range = sum (max (x - 1, 0)^2 + max (-x, 0)^2) / (3 H W).
// The optimiser does not bound x and the frame that goes out is clamped,
// so without this term the loss it minimises is not the loss of the
// picture (see README, "Loss definition").  Partial sums per workgroup,
// and grad += coef * d range / d x.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer X { float x[]; };
layout (std430, binding = 1) buffer Grad { float grad[]; };
layout (std430, binding = 2) writeonly buffer Partials { float partials[]; };

layout (push_constant) uniform P {
  int n;         // 3 W H
  float inv_n;   // 1 / n
  float coef;    // weight on the gradient; 0 leaves grad untouched
  int partial_offset;
} p;

#include "reduce.glsl"

void
main ()
{
  int stride = int (gl_NumWorkGroups.x) * 256;
  float s = 0.0;
  for (int i = int (gl_GlobalInvocationID.x); i < p.n; i += stride) {
    float v = x[i];
    float e = v > 1.0 ? v - 1.0 : (v < 0.0 ? v : 0.0);
    s += e * e;
    if (p.coef != 0.0 && e != 0.0)
      grad[i] += p.coef * 2.0 * e * p.inv_n;
  }
  float t = wg_reduce (s, false);
  if (gl_LocalInvocationID.x == 0u)
    partials[p.partial_offset + int (gl_WorkGroupID.x)] = t * p.inv_n;
}
