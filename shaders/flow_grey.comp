// flow_grey.comp - level 0 of the optical-flow pyramids: the luminance
// (0.299 R + 0.587 G + 0.114 B) of two planar RGB frames [3][H][W],
// lightly smoothed with the 3x3 binomial [1 2 1]^T [1 2 1] / 16 when
// `presmooth` is set (clamped at the borders), written as [2][H][W]:
// plane 0 from frame A (the previous frame), plane 1 from frame B.
#version 450

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer A { float a[]; };
layout (std430, binding = 1) readonly buffer B { float b[]; };
layout (std430, binding = 2) writeonly buffer Dst { float dst[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  int presmooth;
} p;

float
luma_a (int x, int y)
{
  int n = p.W * p.H;
  int i = clamp (y, 0, p.H - 1) * p.W + clamp (x, 0, p.W - 1);
  return 0.299 * a[i] + 0.587 * a[n + i] + 0.114 * a[2 * n + i];
}

float
luma_b (int x, int y)
{
  int n = p.W * p.H;
  int i = clamp (y, 0, p.H - 1) * p.W + clamp (x, 0, p.W - 1);
  return 0.299 * b[i] + 0.587 * b[n + i] + 0.114 * b[2 * n + i];
}

void
main ()
{
  int n = p.W * p.H;
  int stride = int (gl_NumWorkGroups.x) * 64;
  for (int i = int (gl_GlobalInvocationID.x); i < 2 * n; i += stride) {
    int k = i % n;
    int x = k % p.W, y = k / p.W;
    bool second = i >= n;
    float v = 0.0;
    if (p.presmooth != 0) {
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          float w = float ((2 - abs (dx)) * (2 - abs (dy)));
          v += w * (second ? luma_b (x + dx, y + dy) : luma_a (x + dx, y + dy));
        }
      v *= 1.0 / 16.0;
    } else {
      v = second ? luma_b (x, y) : luma_a (x, y);
    }
    dst[i] = v;
  }
}
