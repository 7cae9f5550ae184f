// flow_core.comp - temporal coring of the content for flow-warp=style:
// clean = w + s(|d|) d, d = content - w, where w holds the previous clean
// content warped along the flow and s = smoothstep(t0, t1, |d|).  A
// change below t0 (sensor noise) is dropped, one above t1 (motion, new
// content, a cut) passes whole, so clean never drifts more than t1 from
// the content while a still, noisy shot stays still.  In place on w.
#version 450

layout (local_size_x = 256) in;

layout (std430, binding = 0) readonly buffer C { float content[]; };
layout (std430, binding = 1) buffer W { float w[]; };

layout (push_constant) uniform P {
  int n;
  float t0;
  float t1;
} p;

void
main ()
{
  int i = int (gl_GlobalInvocationID.x);
  if (i >= p.n)
    return;
  float d = content[i] - w[i];
  w[i] += smoothstep (p.t0, p.t1, abs (d)) * d;
}
