// style_grad_tx.comp - style_grad.comp's out[i][m] (+)= coef * sum_j
// D[i][j] F[j][m] shaped for CPU Vulkan devices, where stylizer.c chooses
// it (sf_kernel_choose) when C and M are multiples of 4.  D and F are
// read through RGBA32F texel views, where a storage buffer costs a loop
// over the SIMD lanes (conv3x3_tx.comp says more): per j one fetch gives
// D[j][i0 .. i0 + 3] = D[i0 .. i0 + 3][j] (D = G - A is symmetric) and one
// F[j][m0 .. m0 + 3].  Each invocation computes RB x 4 rows by PB x 4
// pixels, pixel blocks fastest.
#version 450

#ifndef RB
#define RB 2
#endif
#ifndef PB
#define PB 2
#endif

layout (local_size_x = 64) in;

layout (binding = 0) uniform samplerBuffer d4;      // RGBA32F
layout (binding = 1) uniform samplerBuffer f4;      // RGBA32F
layout (std430, binding = 2) buffer Out { float outp[]; };

layout (push_constant) uniform P {
  int C;
  int M;
  float coef;
  int accumulate;
} p;

void
main ()
{
  int mq = p.M / 4, cq = p.C / 4;
  int nm = (mq + PB - 1) / PB, ni = (cq + RB - 1) / RB;
  int id = int (gl_GlobalInvocationID.x);
  if (id >= nm * ni)
    return;
  int ib = (id / nm) * RB, mb = (id % nm) * PB;    // in blocks of 4
  int iq[RB], fq[PB];
  for (int a = 0; a < RB; a++)
    iq[a] = min (ib + a, cq - 1);
  for (int b = 0; b < PB; b++)
    fq[b] = min (mb + b, mq - 1);
  vec4 acc[RB * 4][PB];
  for (int r = 0; r < RB * 4; r++)
    for (int b = 0; b < PB; b++)
      acc[r][b] = vec4 (0.0);
  for (int j = 0; j < p.C; j++) {
    vec4 fv[PB], dv[RB];
    for (int b = 0; b < PB; b++)
      fv[b] = texelFetch (f4, j * mq + fq[b]);
    for (int a = 0; a < RB; a++)
      dv[a] = texelFetch (d4, j * cq + iq[a]);
    for (int a = 0; a < RB; a++)
      for (int e = 0; e < 4; e++)
        for (int b = 0; b < PB; b++)
          acc[a * 4 + e][b] += dv[a][e] * fv[b];
  }
  for (int a = 0; a < RB; a++)
    for (int e = 0; e < 4; e++) {
      int i = (ib + a) * 4 + e;
      if (ib + a >= cq)
        break;
      for (int b = 0; b < PB; b++) {
        if (mb + b >= mq)
          break;
        for (int q = 0; q < 4; q++) {
          int o = i * p.M + (mb + b) * 4 + q;
          float v = p.coef * acc[a * 4 + e][b][q];
          outp[o] = p.accumulate != 0 ? outp[o] + v : v;
        }
      }
    }
}
