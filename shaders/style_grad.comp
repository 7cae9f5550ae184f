// style_grad.comp - out[i][m] (+)= coef * sum_j D[i][j] F[j][m]: the
// gradient of a style layer's loss with respect to its features, with
// D = G - A (symmetric) and coef = 4 w / (M ||A||^2 n_layers).  Each
// invocation computes 4 rows x 4 pixels straight from memory (no shared
// memory, no barriers); indices past the edges are clamped on load and
// their results dropped.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer D { float d[]; };
layout (std430, binding = 1) readonly buffer F { ACT_T f[]; };
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
  int nm = (p.M + 3) / 4;
  int id = int (gl_GlobalInvocationID.x);
  if (id >= nm * ((p.C + 3) / 4))
    return;
  int i0 = (id / nm) * 4, m0 = (id % nm) * 4;
  int d0 = min (i0, p.C - 1) * p.C, d1 = min (i0 + 1, p.C - 1) * p.C;
  int d2 = min (i0 + 2, p.C - 1) * p.C, d3 = min (i0 + 3, p.C - 1) * p.C;
  int m1 = min (m0 + 1, p.M - 1), m2 = min (m0 + 2, p.M - 1);
  int m3 = min (m0 + 3, p.M - 1);
  vec4 r0 = vec4 (0.0), r1 = vec4 (0.0), r2 = vec4 (0.0), r3 = vec4 (0.0);
  for (int j = 0; j < p.C; j++) {
    int fj = j * p.M;
    vec4 fv = vec4 (float (f[fj + m0]), float (f[fj + m1]), float (f[fj + m2]),
        float (f[fj + m3]));
    r0 += d[d0 + j] * fv;
    r1 += d[d1 + j] * fv;
    r2 += d[d2 + j] * fv;
    r3 += d[d3 + j] * fv;
  }
  vec4 rows[4] = vec4[4] (r0, r1, r2, r3);
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++) {
      int i = i0 + r, m = m0 + c;
      if (i < p.C && m < p.M) {
        int o = i * p.M + m;
        float v = p.coef * rows[r][c];
        outp[o] = p.accumulate != 0 ? outp[o] + v : v;
      }
    }
}
