// flow_core.comp - temporal coring of the content for flow-warp=style:
// clean = w + s d, d = content - w, where w holds the previous clean
// content warped along the flow b, and
//   s = max (smoothstep (t0, t1, |d|), smoothstep (m0, m1, |b(p)|)).
// A change below t0 (sensor noise) is dropped, one above t1 (motion, new
// content, a cut) passes whole, so clean never drifts more than t1 from
// the content while a still, noisy shot stays still.  Where the picture
// moves (|b| above m1 pixels) the content passes whole as well: there w
// went through one more sub-pixel interpolation than last frame's, and
// keeping it frame after frame blurs what the coring keeps (on a 1 px a
// frame pan at 96 px, a tenth of the output's Laplacian energy in 11
// frames).  In place on w.  Three planes of n / 3 values; b is [2][n / 3].
#version 450
layout (local_size_x = 256) in;
layout (std430, binding = 0) readonly buffer C { float content[]; };
layout (std430, binding = 1) buffer W { float w[]; };
layout (std430, binding = 2) readonly buffer B { float b[]; };
layout (push_constant) uniform P {
  int n;
  float t0;
  float t1;
  float m0;
  float m1;
} p;
void
main ()
{
  int i = int (gl_GlobalInvocationID.x);
  if (i >= p.n)
    return;
  int np = p.n / 3, k = i % np;
  float d = content[i] - w[i];
  float s = max (smoothstep (p.t0, p.t1, abs (d)),
      smoothstep (p.m0, p.m1, length (vec2 (b[k], b[np + k]))));
  w[i] += s * d;
}
