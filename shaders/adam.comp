// adam.comp - one Adam update, as torch.optim.Adam (bias-corrected):
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   x -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps)
// with bc1 = 1 - b1^t, bc2 = 1 - b2^t computed on the host.
#version 450

layout (local_size_x = 256) in;

layout (std430, binding = 0) buffer X { float x[]; };
layout (std430, binding = 1) readonly buffer G { float g[]; };
layout (std430, binding = 2) buffer M { float m[]; };
layout (std430, binding = 3) buffer V { float v[]; };

layout (push_constant) uniform P {
  int n;
  float lr;
  float b1;
  float b2;
  float eps;
  float bc1;
  float bc2;
} p;

void
main ()
{
  int i = int (gl_GlobalInvocationID.x);
  if (i >= p.n)
    return;
  float gi = g[i];
  float mi = p.b1 * m[i] + (1.0 - p.b1) * gi;
  float vi = p.b2 * v[i] + (1.0 - p.b2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  x[i] -= (p.lr / p.bc1) * mi / (sqrt (vi) / sqrt (p.bc2) + p.eps);
}
