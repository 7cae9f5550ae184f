// pool_fwd.comp - 2x2 stride-2 pooling (floor), max or average.
// One invocation per output element; z is the channel.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout (local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout (std430, binding = 0) readonly buffer In { ACT_T inp[]; };
layout (std430, binding = 1) writeonly buffer Out { ACT_T outp[]; };

layout (push_constant) uniform P {
  int W;        // input width
  int H;        // input height
  int avg;      // 0 max, 1 average
} p;

void
main ()
{
  int ox = int (gl_GlobalInvocationID.x);
  int oy = int (gl_GlobalInvocationID.y);
  int c = int (gl_GlobalInvocationID.z);
  int Wo = p.W / 2, Ho = p.H / 2;
  if (ox >= Wo || oy >= Ho)
    return;
  int i = c * p.W * p.H + 2 * oy * p.W + 2 * ox;
  float a = float (inp[i]), b = float (inp[i + 1]);
  float d = float (inp[i + p.W]), e = float (inp[i + p.W + 1]);
  float r = p.avg != 0 ? 0.25 * (a + b + d + e) : max (max (a, b), max (d, e));
  outp[c * Wo * Ho + oy * Wo + ox] = ACT_STORE (r);
}
