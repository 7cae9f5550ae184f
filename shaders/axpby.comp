// axpby.comp - y = a * x + b * y (copy: a 1, b 0; scale: x = y, a 0;
// zero: a 0, b 0), clamped to [0,1] when clamp01 is set (the previous
// result kept for the next video frame, so that long runs cannot drift).  A zero coefficient's operand is not read, so NaN or
// uninitialised memory there does not leak in.
#version 450

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer X { float x[]; };
layout (std430, binding = 1) buffer Y { float y[]; };

layout (push_constant) uniform P {
  int n;
  float a;
  float b;
  int clamp01;
} p;

void
main ()
{
  int i = int (gl_GlobalInvocationID.x);
  if (i >= p.n)
    return;
  float r = 0.0;
  if (p.a != 0.0)
    r += p.a * x[i];
  if (p.b != 0.0)
    r += p.b * y[i];
  y[i] = p.clamp01 != 0 ? clamp (r, 0.0, 1.0) : r;
}
