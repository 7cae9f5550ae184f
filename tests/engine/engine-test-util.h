/* engine-test-util.h - small helpers shared by the engine tests: a device
 * for the whole test program, deterministic random data, and comparison
 * of float buffers against double references. */
#ifndef ENGINE_TEST_UTIL_H
#define ENGINE_TEST_UTIL_H

#include <math.h>
#include <string.h>

#include "gpu.h"
#include "net.h"

static inline SfDevice *
test_device (void)
{
  GError *err = NULL;
  SfDevice *dev = sf_device_new (sf_device_selector_from_env (NULL), &err);
  g_assert_no_error (err);
  g_assert_nonnull (dev);
  return dev;
}

/* A network with the options the environment asks for (the loss-gemm
 * cases set STYLEFILTER_CONV=gemm), as the front ends make theirs. */
static inline SfNet *
test_net_new (SfDevice * dev, const SfVggWeights * w, SfPooling pool,
    GError ** err)
{
  SfNetOptions o;

  sf_net_options_from_env (dev, &o);
  return sf_net_new_with_options (dev, w, pool, &o, err);
}

/* A test image, planar RGB in [0,1]: smooth structure (kind 0: products of
 * sines, otherwise diagonal stripes) plus noise of +-0.1 from seed + kind. */
static inline float *
test_make_image (int w, int h, int kind, guint32 seed)
{
  float *img = g_new (float, 3 * (gsize) w * h);
  GRand *r = g_rand_new_with_seed (seed + kind);

  for (int c = 0; c < 3; c++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double v = kind == 0
            ? 0.5 + 0.3 * sin (0.3 * x + c) * cos (0.2 * y)
            : 0.5 + 0.4 * sin (0.9 * (x + 2 * y) + 2 * c);
        v += 0.1 * g_rand_double_range (r, -1, 1);
        img[((gsize) c * h + y) * w + x] = (float) CLAMP (v, 0, 1);
      }
  g_rand_free (r);
  return img;
}

static inline void
test_fill (float *v, gsize n, guint32 seed, float lo, float hi)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (gsize i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (r, lo, hi);
  g_rand_free (r);
}

/* Relative L2 error ||a - b|| / ||b||. */
static inline double
test_rel_l2 (const float *a, const double *b, gsize n)
{
  double num = 0, den = 0;
  for (gsize i = 0; i < n; i++) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return den > 0 ? sqrt (num / den) : sqrt (num);
}

static inline double
test_max_abs (const float *a, const double *b, gsize n)
{
  double m = 0;
  for (gsize i = 0; i < n; i++)
    m = MAX (m, fabs (a[i] - b[i]));
  return m;
}

static inline SfBuffer *
test_upload (SfDevice *dev, const float *data, gsize n)
{
  GError *err = NULL;
  SfBuffer *b = sf_buffer_new (dev, MAX (n, 4) * 4, SF_MEM_DEVICE, &err);
  g_assert_no_error (err);
  if (data)
    g_assert_true (sf_buffer_upload (dev, b, 0, data, n * 4, &err));
  g_assert_no_error (err);
  return b;
}

static inline float *
test_download (SfDevice *dev, SfBuffer *b, gsize n)
{
  GError *err = NULL;
  float *out = g_new (float, MAX (n, 1));
  g_assert_true (sf_buffer_download (dev, b, 0, out, n * 4, &err));
  g_assert_no_error (err);
  return out;
}

static inline double *
test_to_double (const float *v, gsize n)
{
  double *d = g_new (double, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    d[i] = v[i];
  return d;
}

/* Records a dispatch in its own command buffer and waits. */
static inline void
test_dispatch (SfDevice *dev, SfKernelId k, SfBuffer *const *bufs, guint nb,
    const void *push, guint push_size, guint gx, guint gy, guint gz)
{
  GError *err = NULL;
  VkCommandBuffer cb;
  g_assert_true (sf_cmd_begin (dev, &cb, &err));
  g_assert_true (sf_cmd_dispatch (dev, cb, k, bufs, nb, push, push_size, gx,
          gy, gz, &err));
  g_assert_true (sf_cmd_submit_wait (dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
}

/* GLSL's smoothstep (e0, e1, x), e0 < e1: the shaders' motion and
 * coring weights */
static inline double
test_smoothstep (double e0, double e1, double x)
{
  double t = CLAMP ((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3.0 - 2.0 * t);
}

#endif
