// pool_bwd.comp - gradient of 2x2 stride-2 pooling with respect to its
// input.  One invocation per input element; rows and columns past the last
// full window get 0.  Max pooling routes each window's gradient to its
// first maximum in row-major order, as PyTorch does.  -DTEXEL (pool_bwd_tx,
// for CPU devices; net.c chooses it with sf_kernel_choose): the reads go
// through R32F texel views (conv3x3_tx.comp says why).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout (local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#ifdef TEXEL
layout (binding = 0) uniform samplerBuffer inp_t;       // R32F: forward input
layout (binding = 1) uniform samplerBuffer gout_t;      // R32F: gradient at the output
#define INP(i) texelFetch (inp_t, i).x
#define GOUT(i) texelFetch (gout_t, i).x
#else
layout (std430, binding = 0) readonly buffer In { ACT_T inp[]; };     // forward input
layout (std430, binding = 1) readonly buffer GOut { float gout[]; };  // gradient at the output
#define INP(i) float (inp[i])
#define GOUT(i) gout[i]
#endif
layout (std430, binding = 2) writeonly buffer GIn { float gin[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  int avg;
} p;

void
main ()
{
  int x = int (gl_GlobalInvocationID.x);
  int y = int (gl_GlobalInvocationID.y);
  int c = int (gl_GlobalInvocationID.z);
  if (x >= p.W || y >= p.H)
    return;
  int Wo = p.W / 2, Ho = p.H / 2;
  int ox = x / 2, oy = y / 2;
  float g = 0.0;
  if (ox < Wo && oy < Ho) {
    float go = GOUT (c * Wo * Ho + oy * Wo + ox);
    if (p.avg != 0) {
      g = 0.25 * go;
    } else {
      int base = c * p.W * p.H + 2 * oy * p.W + 2 * ox;
      float v[4] = float[4] (INP (base), INP (base + 1), INP (base + p.W),
          INP (base + p.W + 1));
      int best = 0;
      for (int k = 1; k < 4; k++)
        if (v[k] > v[best])
          best = k;
      int mine = (y - 2 * oy) * 2 + (x - 2 * ox);
      g = best == mine ? go : 0.0;
    }
  }
  gin[c * p.W * p.H + y * p.W + x] = g;
}
