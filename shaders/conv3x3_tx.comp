// conv3x3_tx.comp - conv3x3.comp's convolution (3x3, padding 1, stride 1,
// planar [C][H][W]; forward, or with -DBACKWARD the input gradient of an
// upstream gradient already ReLU-masked) shaped for CPU Vulkan devices:
// conv_fwd_tx and conv_bwd_tx, which sf_cmd_dispatch runs in place of
// conv_fwd and conv_bwd where the device reads through texel buffers
// (gpu.c sf_kernel_choose).
//
// lavapipe (Mesa 22.3) runs an invocation per SIMD lane and loads a
// storage buffer at an address that differs between invocations one lane
// at a time, in a loop with a branch per lane; only addresses made of
// constants and push constants count as uniform (not loop counters, not
// workgroup IDs).  A fetch from a uniform texel buffer is one gather, so
// the input is read through an R32F view and the weights through an
// RGBA32F view of the same buffers (conv3x3.comp's packing, which net.c
// uploads once).  Each invocation computes 2 rows x 8 pixels for 4
// output channels, so that per input channel its 9 weight fetches (one
// vec4 per tap, held for both rows) and 4 x 10 input fetches serve 576
// multiply-adds; its 64 accumulators pass LLVM's registers, and the
// spills and the fetches share the time.  Shapes measured slower there
// are listed in README.md, Performance.
//
// Invocations are numbered flat over (4-channel block, row pair, 8-pixel
// block), pixel blocks fastest; the grid is rows of gl_NumWorkGroups.x
// workgroups (net.c conv_grid).
#version 450

#ifndef PX
#define PX 8                    // pixels per row
#endif
#ifndef PY
#define PY 2                    // rows
#endif

layout (local_size_x = 64) in;

layout (binding = 0) uniform samplerBuffer inp;     // R32F
layout (binding = 1) uniform samplerBuffer wt;      // RGBA32F
layout (std430, binding = 2) readonly buffer Aux { float aux[]; };  // bias (forward)
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
  int nxb = (p.W + PX - 1) / PX, nyb = (p.H + PY - 1) / PY;
  int id = int (gl_GlobalInvocationID.y * gl_NumWorkGroups.x * 64u
      + gl_GlobalInvocationID.x);
  int per_block = nxb * nyb;
  int ob = id / per_block;              // 4-channel block
  if (ob * 4 >= p.cout)
    return;
  int rem = id - ob * per_block;
  int yb = rem / nxb;
  int y0 = yb * PY, x0 = (rem - yb * nxb) * PX;
  int plane = p.W * p.H;

  /* input rows y0-1 .. y0+PY and columns x0-1 .. x0+PX, clamped, with 0/1
   * factors for the zero padding */
  int ridx[PY + 2];
  float rok[PY + 2];
  for (int r = 0; r < PY + 2; r++) {
    int yy = y0 + r - 1;
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

  vec4 acc[PY][PX];
  for (int j = 0; j < PY; j++)
    for (int k = 0; k < PX; k++)
      acc[j][k] = vec4 (0.0);
  /* conv3x3.comp's vec4 w[((ob8 * cin + ci) * 9 + tap) * 2 + half] */
  int wi = ((ob >> 1) * p.cin * 9) * 2 + (ob & 1);
  for (int ci = 0; ci < p.cin; ci++) {
    int base = ci * plane;
    vec4 w[9];
    for (int t = 0; t < 9; t++)
      w[t] = texelFetch (wt, wi + 2 * t);
    wi += 18;
    for (int r = 0; r < PY + 2; r++) {
      float v[PX + 2];
      for (int c = 0; c < PX + 2; c++)
        v[c] = texelFetch (inp, base + ridx[r] + cidx[c]).x
            * (rok[r] * cok[c]);
      /* input row r feeds output row j through kernel row ky = r - j */
      for (int j = 0; j < PY; j++) {
        int ky = r - j;
        if (ky < 0 || ky > 2)
          continue;
        for (int kx = 0; kx < 3; kx++)
          for (int k = 0; k < PX; k++)
            acc[j][k] += v[k + kx] * w[ky * 3 + kx];
      }
    }
  }

  for (int j = 0; j < PY; j++) {
    int y = y0 + j;
    if (y >= p.H)
      break;
    for (int k = 0; k < PX; k++) {
      int x = x0 + k;
      if (x >= p.W)
        break;
      int pix = y * p.W + x;
      for (int c = 0; c < 4; c++) {
        int co = ob * 4 + c;
        if (co < p.cout) {
#ifdef BACKWARD
          outp[co * plane + pix] = acc[j][k][c];
#else
          outp[co * plane + pix] = max (acc[j][k][c] + aux[co], 0.0);
#endif
        }
      }
    }
  }
}
