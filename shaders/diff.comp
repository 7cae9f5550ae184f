// diff.comp - d = a - b elementwise with an optional per-pixel mask m;
// partial sums of m * d^2 per workgroup (for the content, style and
// temporal losses), and optionally
//   mode 1: out = d                       (style: G - A)
//   mode 2: out += coef * m * d           (content / temporal gradients)
//   mode 3: d = a (b unused), out = d     (the content target: a copy of
//                                          the features, and its norm)
//   mode 4: out = coef * m * d            (content gradient where no
//                                          style layer lies above it)
// With -DACT16 (diff16) a is fp16 storage: the content layer's features.
// The mask, when mask_plane > 0, has one value per pixel shared by all
// channels: m = mask[i % mask_plane].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer A { ACT_T a[]; };
layout (std430, binding = 1) readonly buffer B { float b[]; };
layout (std430, binding = 2) buffer Out { float outp[]; };
layout (std430, binding = 3) readonly buffer Mask { float mask[]; };
layout (std430, binding = 4) writeonly buffer Partials { float partials[]; };

layout (push_constant) uniform P {
  int n;
  int mode;
  float coef;
  int partial_offset;
  int mask_plane;
} p;

#include "reduce.glsl"

void
main ()
{
  int stride = int (gl_NumWorkGroups.x) * 256;
  float s = 0.0;
  for (int i = int (gl_GlobalInvocationID.x); i < p.n; i += stride) {
    float d = float (a[i]);
    if (p.mode != 3)
      d -= b[i];
    float m = p.mask_plane > 0 ? mask[i % p.mask_plane] : 1.0;
    s += m * d * d;
    if (p.mode == 1 || p.mode == 3)
      outp[i] = d;
    else if (p.mode == 2)
      outp[i] += p.coef * m * d;
    else if (p.mode == 4)
      outp[i] = p.coef * m * d;
  }
  float t = wg_reduce (s, false);
  if (gl_LocalInvocationID.x == 0u)
    partials[p.partial_offset + int (gl_WorkGroupID.x)] = t;
}
