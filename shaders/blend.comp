// blend.comp - out = m * a + (1 - m) * b with one mask value per pixel
// shared by the channels: the flow warm start, where the warped previous
// result is kept where the flow is reliable (m = 1) and the content frame
// fills the disoccluded pixels (m = 0).
#version 450

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer A { float a[]; };
layout (std430, binding = 1) readonly buffer B { float b[]; };
layout (std430, binding = 2) readonly buffer Mask { float mask[]; };
layout (std430, binding = 3) writeonly buffer Out { float outp[]; };

layout (push_constant) uniform P {
  int n;
  int plane;
} p;

void
main ()
{
  int i = int (gl_GlobalInvocationID.x);
  if (i >= p.n)
    return;
  float m = mask[i % p.plane];
  outp[i] = m * a[i] + (1.0 - m) * b[i];
}
