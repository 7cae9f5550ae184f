// axpy_dev.comp - y += c * x with the coefficient c read from a device
// scalar buffer (written by fold.comp), for the L-BFGS two-loop recursion
// on the GPU (engine/vecops.c): the host never sees c.
#version 450

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer X { float x[]; };
layout (std430, binding = 1) buffer Y { float y[]; };
layout (std430, binding = 2) readonly buffer S { float s[]; };

layout (push_constant) uniform P {
  int n;
  int coef;                     // index of c in S
} p;

void
main ()
{
  int i = int (gl_GlobalInvocationID.x);
  if (i >= p.n)
    return;
  y[i] += s[p.coef] * x[i];
}
