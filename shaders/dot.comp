// dot.comp - per-workgroup partials of a . b (mode 0), of max |a|
// (mode 1) or of sum |a| (mode 2), for the optimisers' scalars and the
// loss normalisers.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer A { float a[]; };
layout (std430, binding = 1) readonly buffer B { float b[]; };
layout (std430, binding = 2) writeonly buffer Partials { float partials[]; };

layout (push_constant) uniform P {
  int n;
  int mode;
  int partial_offset;
} p;

#include "reduce.glsl"

void
main ()
{
  int stride = int (gl_NumWorkGroups.x) * 256;
  float s = 0.0;
  for (int i = int (gl_GlobalInvocationID.x); i < p.n; i += stride)
    s = p.mode == 1 ? max (s, abs (a[i])) : p.mode == 2 ? s + abs (a[i])
        : s + a[i] * b[i];
  float t = wg_reduce (s, p.mode == 1);
  if (gl_LocalInvocationID.x == 0u)
    partials[p.partial_offset + int (gl_WorkGroupID.x)] = t;
}
