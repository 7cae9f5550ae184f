// fold.comp - the L-BFGS two-loop recursion's scalar step on the GPU
// (engine/vecops.c): one workgroup sums the per-workgroup partials that
// dot.comp wrote into the device scalar buffer S and turns the dot product
// into the coefficient of the next axpy_dev.comp, so that no scalar of the
// recursion goes back to the host.
//   mode 0 (first loop):  alpha_i = rho * (s_i . q);  coef = -alpha_i
//   mode 1 (second loop): coef = alpha_i - rho * (y_i . r)
// The sum is an fp32 tree over at most 128 fp32 partials (the host folds
// the same partials in double elsewhere); rho = 1 / (y_i . s_i) comes from
// the host as a push constant.
#version 450
#extension GL_GOOGLE_include_directive : require

layout (local_size_x = 256) in;

layout (std430, binding = 0) buffer S { float s[]; };

layout (push_constant) uniform P {
  int groups;                   // partials to fold, at s[0 .. groups)
  int coef;                     // index of the coefficient written
  int alpha;                    // index of alpha_i
  int mode;
  float rho;
} p;

#include "reduce.glsl"

void
main ()
{
  uint l = gl_LocalInvocationID.x;
  float v = int (l) < p.groups ? s[l] : 0.0;
  float t = wg_reduce (v, false);
  if (l != 0u)
    return;
  if (p.mode == 0) {
    float a = p.rho * t;
    s[p.alpha] = a;
    s[p.coef] = -a;
  } else {
    s[p.coef] = s[p.alpha] - p.rho * t;
  }
}
