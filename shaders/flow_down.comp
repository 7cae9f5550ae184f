// flow_down.comp - one pyramid step for the optical flow: [2][H][W] ->
// [2][(H+1)/2][(W+1)/2] with the separable binomial [1 3 3 1] / 8 per
// axis, so that coarse pixel c is centred on fine coordinate 2c + 0.5
// (clamped at the borders).
#version 450

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Src { float src[]; };
layout (std430, binding = 1) writeonly buffer Dst { float dst[]; };

layout (push_constant) uniform P {
  int W;        // fine size
  int H;
  int CW;       // coarse size
  int CH;
} p;

void
main ()
{
  int cn = p.CW * p.CH;
  int stride = int (gl_NumWorkGroups.x) * 64;
  for (int i = int (gl_GlobalInvocationID.x); i < 2 * cn; i += stride) {
    int plane = i / cn;
    int k = i - plane * cn;
    int cx = k % p.CW, cy = k / p.CW;
    int base = plane * p.W * p.H;
    float v = 0.0;
    for (int j = 0; j < 4; j++) {
      int y = clamp (2 * cy - 1 + j, 0, p.H - 1);
      float wy = (j == 0 || j == 3) ? 1.0 : 3.0;
      float r = 0.0;
      for (int t = 0; t < 4; t++) {
        int x = clamp (2 * cx - 1 + t, 0, p.W - 1);
        float wx = (t == 0 || t == 3) ? 1.0 : 3.0;
        r += wx * src[base + y * p.W + x];
      }
      v += wy * r;
    }
    dst[i] = v * (1.0 / 64.0);
  }
}
