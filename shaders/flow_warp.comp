// flow_warp.comp - backward warping of a planar image [C][H][W] by a flow
// [2][H][W] (dx plane, dy plane, in pixels):
//   dst[c](p) = src[c](p + flow(p)),
// bilinear, with the sample position clamped to the image.  With the
// backward flow (current -> previous) this brings the previous frame into
// the current one.
#version 450

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Src { float src[]; };
layout (std430, binding = 1) readonly buffer Flow { float flow[]; };
layout (std430, binding = 2) writeonly buffer Dst { float dst[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  int C;
} p;

void
main ()
{
  int n = p.W * p.H;
  int stride = int (gl_NumWorkGroups.x) * 64;
  for (int k = int (gl_GlobalInvocationID.x); k < n; k += stride) {
    int x = k % p.W, y = k / p.W;
    float fx = clamp (float (x) + flow[k], 0.0, float (p.W - 1));
    float fy = clamp (float (y) + flow[n + k], 0.0, float (p.H - 1));
    int x0 = int (floor (fx)), y0 = int (floor (fy));
    int x1 = min (x0 + 1, p.W - 1), y1 = min (y0 + 1, p.H - 1);
    float ax = fx - float (x0), ay = fy - float (y0);
    int i00 = y0 * p.W + x0, i01 = y0 * p.W + x1;
    int i10 = y1 * p.W + x0, i11 = y1 * p.W + x1;
    for (int c = 0; c < p.C; c++) {
      int o = c * n;
      float r0 = mix (src[o + i00], src[o + i01], ax);
      float r1 = mix (src[o + i10], src[o + i11], ax);
      dst[o + k] = mix (r0, r1, ay);
    }
  }
}
