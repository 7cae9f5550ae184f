// relu_mask.comp - g[i] = act[i] > 0 ? g[i] : 0, in place: the ReLU's
// backward applied once to an upstream gradient before the direct
// convolution's input gradient (conv3x3.comp -DBACKWARD), which would
// otherwise test the mask at every one of its repeated loads.  act is in
// the network's precision (-DACT16: relu_mask16).  -DTEXEL (relu_mask_tx,
// for CPU devices; net.c chooses it with sf_kernel_choose): act and g are
// read through R32F texel views (binding 2 is g again) and every g is
// written, masked or not (conv3x3_tx.comp says why texels).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout (local_size_x = 256) in;

#ifdef TEXEL
layout (binding = 0) uniform samplerBuffer act_t;     // R32F
layout (binding = 2) uniform samplerBuffer g_t;       // R32F: g
layout (std430, binding = 1) writeonly buffer G { float g[]; };
#else
layout (std430, binding = 0) readonly buffer Act { ACT_T act[]; };
layout (std430, binding = 1) buffer G { float g[]; };
#endif

layout (push_constant) uniform P {
  int n;
} p;

void
main ()
{
  int i = int (gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 256u
      + gl_GlobalInvocationID.x);
#ifdef TEXEL
  if (i < p.n)
    g[i] = texelFetch (act_t, i).x > 0.0 ? texelFetch (g_t, i).x : 0.0;
#else
  if (i < p.n && !(float (act[i]) > 0.0))
    g[i] = 0.0;
#endif
}
