// conv_gemm.comp - 3x3 convolution, padding 1, stride 1, planar [C][H][W],
// as an implicit GEMM over shared-memory tiles.
//
// GEMM view: out[co][pixel] = sum over k = (ci, tap) of W[co][k] X[k][pixel]
// where X[(ci, tap)][(y, x)] = in[ci][y + ky - 1][x + kx - 1] is never
// formed: a workgroup stages an 8-channel slice of the input, an 8x8 pixel
// tile plus its one-pixel halo (zero-filled at the image border, so the
// multiply loop never branches), and the matching 72 x 64 slice of the
// weights in shared memory (21632 bytes: net.c checks the device's limit,
// which Vulkan only guarantees to 16 KiB), then each of its 64 invocations
// multiplies
// from there into a register block of 8 output channels x 8 pixels (one
// row of the tile): every weight it reads serves 8 multiply-adds, every
// input value up to 3 x 8.  The workgroup's tile is 64 output channels x
// 64 pixels; gl_WorkGroupID.xy is the pixel tile, .z the channel block
// (two dimensions for the tiles, so that no dimension passes the 65535
// workgroups many devices allow).
//
// Forward (default): act = relu(bias + conv); with p.pool != 0 the 2x2
// pooling (1 max, 2 average, floor) of the tile is computed in the
// epilogue from shared memory and written too, which saves reading the
// activation again (tiles start at even pixels, so every 2x2 window lies
// within one tile).
// -DBACKWARD: the gradient with respect to a forward layer's input: the
// upstream gradient (p.cin channels = the forward's outputs), masked by
// the forward output's ReLU (aux > 0) as it is loaded, convolved with the
// weights flipped 180 degrees and in/out channels swapped (net.c packs
// them so); no bias, no ReLU, no pooling.
//
// Weights are packed by net.c as vec4 w[((cob * nchunk + chunk) * 72
// + cc * 9 + tap) * 16 + j], j over 64 output channels / 4, zero-padded to
// multiples of 8 input and 64 output channels.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "act.glsl"

#ifdef BACKWARD
#define IN_T float      // upstream gradient
#define AUX_T ACT_T     // forward output: the ReLU mask
#define OUT_T float
#define OUT_STORE(v) (v)
#else
#define IN_T ACT_T
#define AUX_T float     // bias
#define OUT_T ACT_T
#define OUT_STORE(v) ACT_STORE (v)
#endif

layout (local_size_x = 64) in;

layout (std430, binding = 0) readonly buffer In { IN_T inp[]; };
layout (std430, binding = 1) readonly buffer Wt { vec4 wt[]; };
layout (std430, binding = 2) readonly buffer Aux { AUX_T aux[]; };  // bias, or forward output (mask)
layout (std430, binding = 3) writeonly buffer Out { OUT_T outp[]; };
#ifndef BACKWARD
layout (std430, binding = 4) writeonly buffer Pool { ACT_T pooled[]; };
#endif

layout (push_constant) uniform P {
  int W;
  int H;
  int cin;
  int cout;
  int pool;     // forward: 0 none, 1 max, 2 average
} p;

const int KC = 8;               // input channels per K step
const int TS = 8;               // tile side in pixels
const int HS = TS + 2;          // with the halo

shared float xs[KC * HS * HS];          // 800 floats
shared vec4 ws[KC * 9 * 16];            // 72 x 64 floats; also the epilogue's staging

void
main ()
{
  int lid = int (gl_LocalInvocationIndex);
  int tx = lid & 7;             // output channels tx*8 .. tx*8+7 of the block
  int ty = lid >> 3;            // tile row
  int bx = int (gl_WorkGroupID.x) * TS, by = int (gl_WorkGroupID.y) * TS;
  int cob = int (gl_WorkGroupID.z);
  int nchunk = (p.cin + KC - 1) / KC;
  int plane = p.W * p.H;

  vec4 a0[TS], a1[TS];
  for (int k = 0; k < TS; k++) {
    a0[k] = vec4 (0.0);
    a1[k] = vec4 (0.0);
  }

  for (int chunk = 0; chunk < nchunk; chunk++) {
    barrier ();
    for (int i = lid; i < KC * HS * HS; i += 64) {
      int cc = i / (HS * HS);
      int r = (i / HS) % HS;
      int c = i % HS;
      int ci = chunk * KC + cc;
      int yy = by + r - 1, xx = bx + c - 1;
      float v = 0.0;
      if (ci < p.cin && yy >= 0 && yy < p.H && xx >= 0 && xx < p.W) {
        int gi = ci * plane + yy * p.W + xx;
        v = float (inp[gi]);
#ifdef BACKWARD
        v = float (aux[gi]) > 0.0 ? v : 0.0;
#endif
      }
      xs[i] = v;
    }
    int wbase = (cob * nchunk + chunk) * (KC * 9 * 16);
    for (int i = lid; i < KC * 9 * 16; i += 64)
      ws[i] = wt[wbase + i];
    barrier ();

    for (int cc = 0; cc < KC; cc++) {
      for (int r = 0; r < 3; r++) {
        int row = (cc * HS + ty + r) * HS;
        float v[TS + 2];
        for (int c = 0; c < TS + 2; c++)
          v[c] = xs[row + c];
        for (int kx = 0; kx < 3; kx++) {
          int wi = ((cc * 9) + r * 3 + kx) * 16 + tx * 2;
          vec4 w0 = ws[wi], w1 = ws[wi + 1];
          for (int k = 0; k < TS; k++) {
            a0[k] += v[k + kx] * w0;
            a1[k] += v[k + kx] * w1;
          }
        }
      }
    }
  }

  int y = by + ty;
  int co0 = cob * 64 + tx * 8;
#ifndef BACKWARD
  vec4 b0 = vec4 (0.0), b1 = vec4 (0.0);
  for (int j = 0; j < 4; j++) {
    b0[j] = aux[min (co0 + j, p.cout - 1)];
    b1[j] = aux[min (co0 + 4 + j, p.cout - 1)];
  }
  for (int k = 0; k < TS; k++) {
    a0[k] = max (a0[k] + b0, 0.0);
    a1[k] = max (a1[k] + b1, 0.0);
  }
#endif
  for (int k = 0; k < TS; k++) {
    int x = bx + k;
    if (x >= p.W || y >= p.H)
      break;
    int pix = y * p.W + x;
    float r[8] = float[8] (a0[k].x, a0[k].y, a0[k].z, a0[k].w,
        a1[k].x, a1[k].y, a1[k].z, a1[k].w);
    for (int j = 0; j < 8; j++)
      if (co0 + j < p.cout)
        outp[(co0 + j) * plane + pix] = OUT_STORE (r[j]);
  }

#ifndef BACKWARD
  if (p.pool == 0)
    return;
  // stage the tile as [64 channels][8 rows][8 pixels] in ws, then pool
  barrier ();
  for (int k = 0; k < TS; k += 4) {
    for (int j = 0; j < 4; j++) {
      ws[((tx * 8 + j) * TS + ty) * 2 + k / 4] =
          vec4 (a0[k][j], a0[k + 1][j], a0[k + 2][j], a0[k + 3][j]);
      ws[((tx * 8 + 4 + j) * TS + ty) * 2 + k / 4] =
          vec4 (a1[k][j], a1[k + 1][j], a1[k + 2][j], a1[k + 3][j]);
    }
  }
  barrier ();
  int Wo = p.W / 2, Ho = p.H / 2;
  for (int i = lid; i < 64 * 16; i += 64) {
    int c = i >> 4, oy = (i >> 2) & 3, ox = i & 3;
    int co = cob * 64 + c;
    int gx = bx / 2 + ox, gy = by / 2 + oy;
    if (co >= p.cout || gx >= Wo || gy >= Ho)
      continue;
    vec4 r0 = ws[(c * TS + 2 * oy) * 2 + ox / 2];
    vec4 r1 = ws[(c * TS + 2 * oy + 1) * 2 + ox / 2];
    vec2 u = (ox & 1) == 0 ? r0.xy : r0.zw;
    vec2 d = (ox & 1) == 0 ? r1.xy : r1.zw;
    float v = p.pool == 2 ? 0.25 * (u.x + u.y + d.x + d.y)
        : max (max (u.x, u.y), max (d.x, d.y));
    pooled[co * Wo * Ho + gy * Wo + gx] = ACT_STORE (v);
  }
#endif
}
