// imgnorm.comp - ImageNet normalisation of a planar RGB image (mode 0:
// out = (in - mean) / std) and its chain rule for the gradient (mode 1:
// out = in / std).  With -DACT16 (imgnorm16, mode 0 only) the output is the
// network's fp16 input.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer In { float inp[]; };
layout (std430, binding = 1) writeonly buffer Out { ACT_T outp[]; };

layout (push_constant) uniform P {
  int plane;
  int mode;
} p;

const float mean[3] = float[3] (0.485, 0.456, 0.406);
const float stdv[3] = float[3] (0.229, 0.224, 0.225);

void
main ()
{
  int i = int (gl_GlobalInvocationID.x);
  if (i >= 3 * p.plane)
    return;
  int c = i / p.plane;
  outp[i] = ACT_STORE (p.mode == 0 ? (inp[i] - mean[c]) / stdv[c] : inp[i] / stdv[c]);
}
