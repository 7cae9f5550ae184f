// mask.comp - temporal mask and scene-change measure between two planar
// RGB content frames: per pixel d = mean over channels |cur - prev|,
// mask = exp(-d * inv_sigma) (near 1 where the frames agree, near 0 where
// they changed); partial sums of |cur - prev| over all channels.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer Cur { float cur[]; };
layout (std430, binding = 1) readonly buffer Prev { float prev[]; };
layout (std430, binding = 2) writeonly buffer Mask { float mask[]; };
layout (std430, binding = 3) writeonly buffer Partials { float partials[]; };

layout (push_constant) uniform P {
  int plane;
  int partial_offset;
  float inv_sigma;
} p;

#include "reduce.glsl"

void
main ()
{
  int stride = int (gl_NumWorkGroups.x) * 256;
  float s = 0.0;
  for (int i = int (gl_GlobalInvocationID.x); i < p.plane; i += stride) {
    float d = abs (cur[i] - prev[i]) + abs (cur[p.plane + i] - prev[p.plane + i])
        + abs (cur[2 * p.plane + i] - prev[2 * p.plane + i]);
    s += d;
    mask[i] = exp (-(d / 3.0) * p.inv_sigma);
  }
  float t = wg_reduce (s, false);
  if (gl_LocalInvocationID.x == 0u)
    partials[p.partial_offset + int (gl_WorkGroupID.x)] = t;
}
