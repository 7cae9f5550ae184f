// relu_mask.comp - g[i] = act[i] > 0 ? g[i] : 0, in place: the ReLU's
// backward applied once to an upstream gradient before the direct
// convolution's input gradient (conv3x3.comp -DBACKWARD), which would
// otherwise test the mask at every one of its repeated loads.  act is in
// the network's precision (-DACT16: relu_mask16).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer Act { ACT_T act[]; };
layout (std430, binding = 1) buffer G { float g[]; };

layout (push_constant) uniform P {
  int n;
} p;

void
main ()
{
  int i = int (gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 256u
      + gl_GlobalInvocationID.x);
  if (i < p.n && !(float (act[i]) > 0.0))
    g[i] = 0.0;
}
