// frame_out.comp - the result (planar RGB at the processing size) to a
// packed 8-bit frame of any size: bilinear upsampling, clamped to [0,1],
// rounded.  With preserve-colors, the luminance (YIQ Y) comes from the
// result and the chroma (I, Q) from the original frame (mode 2, same size
// as the output) or from the processing-size content (mode 1), as
// neural-style's original_colors does.  detail > 0 (with the original
// frame, mode orig = 1) adds back the frame's own fine detail, the part
// above the processing resolution: detail x (original - the processing-size
// content upsampled the same way), before the colour mode.  One invocation
// per 32-bit word of output, so no two invocations write the same word.
#version 450

layout (local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout (std430, binding = 0) readonly buffer Res { float res[]; };
layout (std430, binding = 1) readonly buffer Content { float content[]; };
layout (std430, binding = 2) readonly buffer Orig { uint orig[]; };
layout (std430, binding = 3) writeonly buffer Dst { uint dst[]; };

layout (push_constant) uniform P {
  int dw;
  int dh;
  int drow;     // bytes per output row, multiple of 4 (also the original's)
  int bpp;
  int r_off;
  int g_off;
  int b_off;
  int a_off;    // -1: none
  int sw;
  int sh;
  int preserve; // 0 off, 1 chroma from content, 2 chroma from the original
  int orig;     // 1: binding 2 is the original frame at the output size
  float detail; // share of the original's fine detail added back
} p;

vec3
sample_planar (bool from_content, int x, int y)
{
  float u = clamp ((float (x) + 0.5) * float (p.sw) / float (p.dw) - 0.5, 0.0,
      float (p.sw - 1));
  float v = clamp ((float (y) + 0.5) * float (p.sh) / float (p.dh) - 0.5, 0.0,
      float (p.sh - 1));
  int x0 = int (floor (u)), y0 = int (floor (v));
  int x1 = min (x0 + 1, p.sw - 1), y1 = min (y0 + 1, p.sh - 1);
  float fx = u - float (x0), fy = v - float (y0);
  int plane = p.sw * p.sh;
  vec3 r;
  for (int c = 0; c < 3; c++) {
    int b = c * plane;
    float a00, a01, a10, a11;
    if (from_content) {
      a00 = content[b + y0 * p.sw + x0]; a01 = content[b + y0 * p.sw + x1];
      a10 = content[b + y1 * p.sw + x0]; a11 = content[b + y1 * p.sw + x1];
    } else {
      a00 = res[b + y0 * p.sw + x0]; a01 = res[b + y0 * p.sw + x1];
      a10 = res[b + y1 * p.sw + x0]; a11 = res[b + y1 * p.sw + x1];
    }
    r[c] = mix (mix (a00, a01, fx), mix (a10, a11, fx), fy);
  }
  return clamp (r, 0.0, 1.0);
}

float
orig_byte (int k)
{
  return float ((orig[k >> 2] >> uint ((k & 3) * 8)) & 255u) * (1.0 / 255.0);
}

vec3
orig_rgb (int x, int y)
{
  int k = y * p.drow + x * p.bpp;
  return vec3 (orig_byte (k + p.r_off), orig_byte (k + p.g_off),
      orig_byte (k + p.b_off));
}

vec3
pixel (int x, int y)
{
  vec3 c = sample_planar (false, x, y);
  if (p.orig == 1 && p.detail > 0.0)
    c = clamp (c + p.detail * (orig_rgb (x, y) - sample_planar (true, x, y)),
        0.0, 1.0);
  if (p.preserve == 0)
    return c;
  vec3 o = p.preserve == 2 ? orig_rgb (x, y) : sample_planar (true, x, y);
  float Y = dot (c, vec3 (0.299, 0.587, 0.114));
  float I = dot (o, vec3 (0.596, -0.274, -0.322));
  float Q = dot (o, vec3 (0.211, -0.523, 0.312));
  return clamp (vec3 (Y + 0.956 * I + 0.621 * Q, Y - 0.272 * I - 0.647 * Q,
          Y - 1.106 * I + 1.703 * Q), 0.0, 1.0);
}

void
main ()
{
  int wx = int (gl_GlobalInvocationID.x);
  int y = int (gl_GlobalInvocationID.y);
  if (wx * 4 >= p.drow || y >= p.dh)
    return;
  uint word = 0u;
  int last = -1;
  vec3 rgb = vec3 (0.0);
  for (int b = 0; b < 4; b++) {
    int off = wx * 4 + b;
    int x = off / p.bpp, ch = off % p.bpp;
    uint v = 0u;
    if (x < p.dw) {
      if (x != last) {
        rgb = pixel (x, y);
        last = x;
      }
      float f = ch == p.r_off ? rgb.r : ch == p.g_off ? rgb.g :
          ch == p.b_off ? rgb.b : 1.0;
      v = uint (f * 255.0 + 0.5);
    }
    word |= (v & 255u) << uint (b * 8);
  }
  dst[y * (p.drow / 4) + wx] = word;
}
