// gram_tx.comp - gram.comp's Gram matrix G = F F^T (times p.scale, over
// the pixel split gl_WorkGroupID.y = s: pixels [s * p.kps, min (M,
// (s + 1) * p.kps))) shaped for CPU Vulkan devices, where net.c's
// sf_record_gram chooses it (sf_kernel_choose) when M and p.kps are
// multiples of 4.  F is read through an RGBA32F texel view, four pixels
// a fetch, where a storage buffer costs a loop over the SIMD lanes
// (conv3x3_tx.comp says more); G is symmetric, so only the 4x4 blocks on
// and above the diagonal are computed, each written to both halves.
// Invocation t is block (row c, column r) of the lower-triangle numbering
// t = r (r + 1) / 2 + c, c <= r.
#version 450

layout (local_size_x = 64) in;

layout (binding = 0) uniform samplerBuffer f4;      // RGBA32F
layout (std430, binding = 1) writeonly buffer G { float g[]; };

layout (push_constant) uniform P {
  int C;
  int M;
  float scale;
  int kps;      // pixels per split, a multiple of 4
} p;

void
main ()
{
  int nb = (p.C + 3) / 4;
  int t = int (gl_GlobalInvocationID.x);
  if (t >= nb * (nb + 1) / 2)
    return;
  int r = int ((sqrt (8.0 * float (t) + 1.0) - 1.0) * 0.5);
  if (r * (r + 1) / 2 > t)
    r--;
  if ((r + 1) * (r + 2) / 2 <= t)
    r++;
  int c = t - r * (r + 1) / 2;
  int i0 = c * 4, j0 = r * 4, mq = p.M / 4;
  int s = int (gl_WorkGroupID.y);
  int k0 = s * p.kps / 4, k1 = min (p.M, (s + 1) * p.kps) / 4;
  int a[4], b[4];
  for (int q = 0; q < 4; q++) {
    a[q] = min (i0 + q, p.C - 1) * mq;
    b[q] = min (j0 + q, p.C - 1) * mq;
  }
  vec4 acc[4] = vec4[4] (vec4 (0.0), vec4 (0.0), vec4 (0.0), vec4 (0.0));
  for (int k = k0; k < k1; k++) {
    vec4 fa[4], fb[4];
    for (int q = 0; q < 4; q++) {
      fa[q] = texelFetch (f4, a[q] + k);
      fb[q] = texelFetch (f4, b[q] + k);
    }
    for (int q = 0; q < 4; q++)
      acc[q] += vec4 (dot (fa[q], fb[0]), dot (fa[q], fb[1]),
          dot (fa[q], fb[2]), dot (fa[q], fb[3]));
  }
  int base = s * p.C * p.C;
  for (int q = 0; q < 4; q++)
    for (int e = 0; e < 4; e++) {
      int i = i0 + q, j = j0 + e;
      if (i < p.C && j < p.C) {
        float v = acc[q][e] * p.scale;
        g[base + i * p.C + j] = v;
        g[base + j * p.C + i] = v;
      }
    }
}
