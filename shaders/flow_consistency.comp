// flow_consistency.comp - reliability mask of the backward flow w_b
// (current -> previous) given the forward flow w_f (previous -> current),
// after Sundaram et al. 2010 / Ruder et al. 2016 (their
// consistencyChecker):
//   q = p + w_b(p); wf = w_f(q) (bilinear);
//   mask(p) = 0 where q lies outside the image (the content came from
//             outside the previous frame),
//           0 where |w_b(p) + wf|^2 > 0.01 (|w_b(p)|^2 + |wf|^2) + 0.5
//             (forward-backward inconsistent: disoccluded),
//           0 where |grad w_b(p)|^2 > 0.01 |w_b(p)|^2 + 0.002 (motion
//             boundary; central differences [-0.5 0 0.5], clamped),
//           1 elsewhere;
// then, where the flow moves the pixel (motion weighting, optional: moving
// = 1 leaves the mask as it is),
//   mask(p) *= mix (1, moving, smoothstep (m0, m1, |w_b(p)|)):
// the temporal target there is a sub-pixel resample of the previous
// result, softer and less stylized than a still pixel's exact copy, so it
// is held less firmly.
#version 450

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer Fwd { float fwd[]; };
layout (std430, binding = 1) readonly buffer Bwd { float bwd[]; };
layout (std430, binding = 2) writeonly buffer Mask { float mask[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  float m0;             // motion weighting: |w_b| where it starts (px)
  float m1;             // |w_b| from which the weight is `moving`
  float moving;         // 1: no motion weighting
} p;

vec2
bwd_at (int x, int y)
{
  int k = clamp (y, 0, p.H - 1) * p.W + clamp (x, 0, p.W - 1);
  return vec2 (bwd[k], bwd[p.W * p.H + k]);
}

void
main ()
{
  int n = p.W * p.H;
  int stride = int (gl_NumWorkGroups.x) * 64;
  for (int k = int (gl_GlobalInvocationID.x); k < n; k += stride) {
    int x = k % p.W, y = k / p.W;
    vec2 wb = vec2 (bwd[k], bwd[n + k]);
    float fx = float (x) + wb.x, fy = float (y) + wb.y;
    float m = 1.0;
    if (fx < 0.0 || fy < 0.0 || fx > float (p.W - 1) || fy > float (p.H - 1)) {
      m = 0.0;
    } else {
      int x0 = int (floor (fx)), y0 = int (floor (fy));
      int x1 = min (x0 + 1, p.W - 1), y1 = min (y0 + 1, p.H - 1);
      float ax = fx - float (x0), ay = fy - float (y0);
      int i00 = y0 * p.W + x0, i01 = y0 * p.W + x1;
      int i10 = y1 * p.W + x0, i11 = y1 * p.W + x1;
      vec2 v00 = vec2 (fwd[i00], fwd[n + i00]);
      vec2 v01 = vec2 (fwd[i01], fwd[n + i01]);
      vec2 v10 = vec2 (fwd[i10], fwd[n + i10]);
      vec2 v11 = vec2 (fwd[i11], fwd[n + i11]);
      vec2 wf = mix (mix (v00, v01, ax), mix (v10, v11, ax), ay);
      vec2 s = wb + wf;
      if (dot (s, s) > 0.01 * (dot (wb, wb) + dot (wf, wf)) + 0.5)
        m = 0.0;
      vec2 gx = 0.5 * (bwd_at (x + 1, y) - bwd_at (x - 1, y));
      vec2 gy = 0.5 * (bwd_at (x, y + 1) - bwd_at (x, y - 1));
      if (dot (gx, gx) + dot (gy, gy) > 0.01 * dot (wb, wb) + 0.002)
        m = 0.0;
    }
    if (p.moving != 1.0)
      m *= mix (1.0, p.moving, smoothstep (p.m0, p.m1, length (wb)));
    mask[k] = m;
  }
}
