// gram.comp - Gram matrix G = F F^T / M of features F [C][M], split over
// the pixels: workgroup row gl_WorkGroupID.y = s sums pixels
// [s * p.kps, min (M, (s + 1) * p.kps)), so that a large image's few
// channel blocks still fill the device (a 64-channel Gram at 1280x720 has
// only 256 4x4 blocks but 921600 pixels).  Each invocation computes a 4x4
// block of its split straight from memory, with no shared memory and no
// barriers (barriers are expensive on CPU Vulkan devices, where the tests
// run); rows past C are clamped on load and their results dropped.  The
// result, times p.scale, goes to out[s * C * C + i * C + j]: with one
// split that is G itself (scale 1 / M), with several gram_reduce.comp sums
// the splits into G.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer F { ACT_T f[]; };
layout (std430, binding = 1) writeonly buffer G { float g[]; };

layout (push_constant) uniform P {
  int C;
  int M;
  float scale;
  int kps;      // pixels per split
} p;

void
main ()
{
  int nb = (p.C + 3) / 4;
  int id = int (gl_GlobalInvocationID.x);
  if (id >= nb * nb)
    return;
  int s = int (gl_WorkGroupID.y);
  int k0 = s * p.kps, k1 = min (p.M, k0 + p.kps);
  int i0 = (id / nb) * 4, j0 = (id % nb) * 4;
  int a0 = min (i0, p.C - 1) * p.M, a1 = min (i0 + 1, p.C - 1) * p.M;
  int a2 = min (i0 + 2, p.C - 1) * p.M, a3 = min (i0 + 3, p.C - 1) * p.M;
  int b0 = min (j0, p.C - 1) * p.M, b1 = min (j0 + 1, p.C - 1) * p.M;
  int b2 = min (j0 + 2, p.C - 1) * p.M, b3 = min (j0 + 3, p.C - 1) * p.M;
  vec4 r0 = vec4 (0.0), r1 = vec4 (0.0), r2 = vec4 (0.0), r3 = vec4 (0.0);
  for (int k = k0; k < k1; k++) {
    vec4 b = vec4 (float (f[b0 + k]), float (f[b1 + k]), float (f[b2 + k]),
        float (f[b3 + k]));
    r0 += float (f[a0 + k]) * b;
    r1 += float (f[a1 + k]) * b;
    r2 += float (f[a2 + k]) * b;
    r3 += float (f[a3 + k]) * b;
  }
  vec4 rows[4] = vec4[4] (r0, r1, r2, r3);
  int base = s * p.C * p.C;
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++)
      if (i0 + r < p.C && j0 + c < p.C)
        g[base + (i0 + r) * p.C + j0 + c] = rows[r][c] * p.scale;
}
