// frame_in.comp - a packed 8-bit video frame (RGBA, BGRx, RGB, ... any
// size) to a planar float RGB image in [0,1] at the processing size.
// Each axis is resampled on its own: an area (box) filter where it
// shrinks, bilinear (pixel centres aligned) where it grows.
#version 450

layout (local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout (std430, binding = 0) readonly buffer Src { uint src[]; };
layout (std430, binding = 1) writeonly buffer Dst { float dst[]; };

layout (push_constant) uniform P {
  int sw;
  int sh;
  int srow;     // bytes per source row (multiple of 4)
  int bpp;      // bytes per pixel: 3 or 4
  int r_off;
  int g_off;
  int b_off;
  int dw;
  int dh;
} p;

float
byte_at (int k)
{
  uint w = src[k >> 2];
  return float ((w >> uint ((k & 3) * 8)) & 255u) * (1.0 / 255.0);
}

// Source range [i0, i1] and weight of source index i for output o on an
// axis of sn source and dn destination samples.
void
axis_range (int o, int sn, int dn, out int i0, out int i1)
{
  float scale = float (sn) / float (dn);
  if (scale > 1.0) {
    float a = float (o) * scale, b = float (o + 1) * scale;
    i0 = int (floor (a));
    i1 = min (int (ceil (b)) - 1, sn - 1);
  } else {
    float u = (float (o) + 0.5) * scale - 0.5;
    i0 = clamp (int (floor (u)), 0, sn - 1);
    i1 = min (i0 + 1, sn - 1);
  }
}

float
axis_weight (int i, int o, int sn, int dn)
{
  float scale = float (sn) / float (dn);
  if (scale > 1.0) {
    float a = float (o) * scale, b = float (o + 1) * scale;
    return max (0.0, min (float (i + 1), b) - max (float (i), a)) / scale;
  }
  float u = clamp ((float (o) + 0.5) * scale - 0.5, 0.0, float (sn - 1));
  return max (0.0, 1.0 - abs (u - float (i)));
}

void
main ()
{
  int x = int (gl_GlobalInvocationID.x);
  int y = int (gl_GlobalInvocationID.y);
  if (x >= p.dw || y >= p.dh)
    return;
  int x0, x1, y0, y1;
  axis_range (x, p.sw, p.dw, x0, x1);
  axis_range (y, p.sh, p.dh, y0, y1);
  vec3 acc = vec3 (0.0);
  float wsum = 0.0;
  for (int j = y0; j <= y1; j++) {
    float wy = axis_weight (j, y, p.sh, p.dh);
    for (int i = x0; i <= x1; i++) {
      float w = wy * axis_weight (i, x, p.sw, p.dw);
      int k = j * p.srow + i * p.bpp;
      acc += w * vec3 (byte_at (k + p.r_off), byte_at (k + p.g_off),
          byte_at (k + p.b_off));
      wsum += w;
    }
  }
  acc /= max (wsum, 1e-20);
  int plane = p.dw * p.dh;
  int o = y * p.dw + x;
  dst[o] = acc.r;
  dst[plane + o] = acc.g;
  dst[2 * plane + o] = acc.b;
}
