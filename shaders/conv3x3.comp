// conv3x3.comp - 3x3 convolution, padding 1, stride 1, planar [C][H][W].
//
// Forward (default): out[co] = relu(bias[co] + sum_ci sum_tap W * in).
// With -DBACKWARD (conv_bwd): the gradient with respect to the input of a
// forward layer, computed as a convolution of the upstream gradient with
// the forward weights flipped 180 degrees and in/out channels swapped (the
// host packs them so); the ReLU mask (forward output > 0) is applied to the
// upstream gradient as it is loaded.  Each invocation computes one pixel
// for eight output channels (register blocking); weights are packed as
// vec4 w[((block * cin + ci) * 9 + tap) * 2 + half].
#version 450

layout (local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout (std430, binding = 0) readonly buffer In { float inp[]; };
layout (std430, binding = 1) readonly buffer Wt { vec4 wt[]; };
layout (std430, binding = 2) readonly buffer Aux { float aux[]; };  // bias, or forward output (mask)
layout (std430, binding = 3) writeonly buffer Out { float outp[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  int cin;
  int cout;
} p;

void
main ()
{
  int x = int (gl_GlobalInvocationID.x);
  int y = int (gl_GlobalInvocationID.y);
  int ob = int (gl_WorkGroupID.z);
  if (x >= p.W || y >= p.H)
    return;

  int plane = p.W * p.H;
  int idx[9];
  float ok[9];
  for (int t = 0; t < 9; t++) {
    int yy = y + t / 3 - 1;
    int xx = x + t % 3 - 1;
    bool inside = yy >= 0 && yy < p.H && xx >= 0 && xx < p.W;
    ok[t] = inside ? 1.0 : 0.0;
    idx[t] = clamp (yy, 0, p.H - 1) * p.W + clamp (xx, 0, p.W - 1);
  }

  vec4 a0 = vec4 (0.0);
  vec4 a1 = vec4 (0.0);
  int wi = ob * p.cin * 18;
  for (int ci = 0; ci < p.cin; ci++) {
    int base = ci * plane;
    for (int t = 0; t < 9; t++) {
      float v = inp[base + idx[t]] * ok[t];
#ifdef BACKWARD
      v = aux[base + idx[t]] > 0.0 ? v : 0.0;
#endif
      a0 += v * wt[wi];
      a1 += v * wt[wi + 1];
      wi += 2;
    }
  }

  float r[8] = float[8] (a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w);
  int pix = y * p.W + x;
  for (int j = 0; j < 8; j++) {
    int co = ob * 8 + j;
    if (co < p.cout) {
#ifdef BACKWARD
      outp[co * plane + pix] = r[j];
#else
      outp[co * plane + pix] = max (r[j] + aux[co], 0.0);
#endif
    }
  }
}
