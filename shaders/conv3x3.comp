// conv3x3.comp - 3x3 convolution, padding 1, stride 1, planar [C][H][W].
//
// Forward (default): out[co] = relu(bias[co] + sum_ci sum_tap W * in).
// With -DBACKWARD (conv_bwd): the gradient with respect to the input of a
// forward layer, computed as a convolution of the upstream gradient with
// the forward weights flipped 180 degrees and in/out channels swapped (the
// host packs them so).  The upstream gradient arrives with the ReLU mask
// (forward output > 0) already applied (relu_mask.comp, recorded by net.c
// just before): testing it here would repeat the test at every one of the
// 3 x (PX + 2) loads of each value by every channel block.
//
// Register blocking: each invocation computes PX consecutive pixels of one
// row for eight output channels, so every weight it loads serves PX
// multiply-adds and every input value up to 3 x 8.  Invocations are
// numbered flat over (channel block, row, pixel block), pixel blocks
// fastest, so that small deep layers (4x4, 2x2) still fill whole
// subgroups (the number runs on across the grid's rows, gl_WorkGroupID.y).
// Weights are packed as vec4 w[((block * cin + ci) * 9 + tap)
// * 2 + half].
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

#ifdef BACKWARD
#define IN_T float      // upstream gradient
#define AUX_T ACT_T     // unused: net.c masks the gradient first (relu_mask)
#define OUT_T float
#define OUT_STORE(v) (v)
#else
#define IN_T ACT_T
#define AUX_T float     // bias
#define OUT_T ACT_T
#define OUT_STORE(v) ACT_STORE (v)
#endif

#ifndef PX
#define PX 8
#endif

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer In { IN_T inp[]; };
layout (std430, binding = 1) readonly buffer Wt { vec4 wt[]; };
layout (std430, binding = 2) readonly buffer Aux { AUX_T aux[]; };  // bias, or forward output (mask)
layout (std430, binding = 3) writeonly buffer Out { OUT_T outp[]; };

layout (push_constant) uniform P {
  int W;
  int H;
  int cin;
  int cout;
} p;

void
main ()
{
  int nxb = (p.W + PX - 1) / PX;
  // the grid is rows of gl_NumWorkGroups.x workgroups (net.c sf_conv_grid)
  int id = int (gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 64u
      + gl_GlobalInvocationID.x);
  int per_block = nxb * p.H;
  int ob = id / per_block;
  if (ob * 8 >= p.cout)
    return;
  int rem = id - ob * per_block;
  int y = rem / nxb;
  int x0 = (rem - y * nxb) * PX;
  int plane = p.W * p.H;

  /* rows y-1 .. y+1 and columns x0-1 .. x0+PX, clamped, with 0/1 factors
   * for the zero padding */
  int ridx[3];
  float rok[3];
  for (int r = 0; r < 3; r++) {
    int yy = y + r - 1;
    rok[r] = (yy >= 0 && yy < p.H) ? 1.0 : 0.0;
    ridx[r] = clamp (yy, 0, p.H - 1) * p.W;
  }
  int cidx[PX + 2];
  float cok[PX + 2];
  for (int c = 0; c < PX + 2; c++) {
    int xx = x0 + c - 1;
    cok[c] = (xx >= 0 && xx < p.W) ? 1.0 : 0.0;
    cidx[c] = clamp (xx, 0, p.W - 1);
  }

  vec4 a0[PX], a1[PX];
  for (int k = 0; k < PX; k++) {
    a0[k] = vec4 (0.0);
    a1[k] = vec4 (0.0);
  }
  int wi = ob * p.cin * 18;
  for (int ci = 0; ci < p.cin; ci++) {
    int base = ci * plane;
    for (int r = 0; r < 3; r++) {
      float v[PX + 2];
      for (int c = 0; c < PX + 2; c++) {
        int i = base + ridx[r] + cidx[c];
        v[c] = float (inp[i]) * (rok[r] * cok[c]);
      }
      for (int kx = 0; kx < 3; kx++) {
        vec4 w0 = wt[wi], w1 = wt[wi + 1];
        wi += 2;
        for (int k = 0; k < PX; k++) {
          a0[k] += v[k + kx] * w0;
          a1[k] += v[k + kx] * w1;
        }
      }
    }
  }

  for (int k = 0; k < PX; k++) {
    int x = x0 + k;
    if (x >= p.W)
      break;
    int pix = y * p.W + x;
    float r[8] = float[8] (a0[k].x, a0[k].y, a0[k].z, a0[k].w,
        a1[k].x, a1[k].y, a1[k].z, a1[k].w);
    for (int j = 0; j < 8; j++) {
      int co = ob * 8 + j;
      if (co < p.cout) {
#ifdef BACKWARD
        outp[co * plane + pix] = OUT_STORE (r[j]);
#else
        outp[co * plane + pix] = OUT_STORE (max (r[j] + aux[co], 0.0));
#endif
      }
    }
  }
}
