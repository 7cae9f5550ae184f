// gram_reduce.comp - G[i] = scale * sum over s of part[s * n + i]: the
// second pass of a Gram matrix split over pixels (gram.comp), n = C * C.
#version 450

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer Part { float part[]; };
layout (std430, binding = 1) writeonly buffer G { float g[]; };

layout (push_constant) uniform P {
  int n;
  int splits;
  float scale;
} p;

void
main ()
{
  int i = int (gl_GlobalInvocationID.x);
  if (i >= p.n)
    return;
  float s = 0.0;
  for (int k = 0; k < p.splits; k++)
    s += part[k * p.n + i];
  g[i] = s * p.scale;
}
