/* test-device.c - device selection, features and the error paths a user
 * meets: no Vulkan driver at all, a selector that matches nothing, out of
 * memory (the message gives the size), a size beyond the device's buffer
 * limit; the borrowed-device mode; and the device statistics the benchmark
 * reads (memory in use and peak to the byte, GPU time of submissions). */
#include "engine-test-util.h"

static void
test_auto (void)
{
  SfDevice *dev = test_device ();
  const SfDeviceFeatures *f = sf_device_get_features (dev);
  g_assert_nonnull (sf_device_get_name (dev));
  g_assert_cmpstr (sf_device_get_name (dev), !=, "");
  g_assert_cmpuint (f->subgroup_size, >=, 1);
  g_assert_cmpuint (f->max_buffer_size, >=, 1 << 20);
  g_test_message ("device %s: cpu %d fp16 storage %d coopmat %d",
      sf_device_get_name (dev), f->is_cpu, f->fp16_storage, f->coopmat_nv);
  sf_device_free (dev);
}

static void
test_select (void)
{
  GError *err = NULL;
  SfDevice *dev = sf_device_new ("0", &err);
  g_assert_no_error (err);
  char *name = g_strdup (sf_device_get_name (dev));
  sf_device_free (dev);
  /* by a case-insensitive substring of its name */
  char *part = g_utf8_strup (name, 4);
  dev = sf_device_new (part, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (sf_device_get_name (dev), ==, name);
  sf_device_free (dev);
  g_free (part);
  g_free (name);

  g_assert_null (sf_device_new ("no-such-gpu-xyz", &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (err->message, "no-such-gpu-xyz"));
  g_clear_error (&err);
  g_assert_null (sf_device_new ("97", &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_NO_DEVICE);
  g_clear_error (&err);

  char *list = sf_device_list (&err);
  g_assert_no_error (err);
  g_assert_nonnull (strstr (list, "0: "));
  g_free (list);
}

/* No driver: the loader finds no ICD; the message names the package that
 * gives a CPU device.  In a subprocess, since the variable must be set
 * before the loader looks. */
static void
test_no_driver (void)
{
  if (g_test_subprocess ()) {
    GError *err = NULL;
    g_setenv ("VK_ICD_FILENAMES", "/nonexistent/icd.json", TRUE);
    g_setenv ("VK_DRIVER_FILES", "/nonexistent/icd.json", TRUE);
    g_assert_null (sf_device_new (NULL, &err));
    g_assert_nonnull (err);
    g_assert_true (err->code == SF_ERROR_NO_VULKAN
        || err->code == SF_ERROR_NO_DEVICE);
    g_assert_nonnull (strstr (err->message, "mesa-vulkan-drivers"));
    g_printerr ("%s\n", err->message);
    g_error_free (err);
    return;
  }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*mesa-vulkan-drivers*");
}

static void
test_out_of_memory (void)
{
  GError *err = NULL;
  SfDevice *dev = test_device ();
  /* 2^46 bytes: more than any heap here */
  VkDeviceSize huge = (VkDeviceSize) 1 << 46;
  SfBuffer *b = sf_buffer_new (dev, huge, SF_MEM_DEVICE, &err);
  g_assert_null (b);
  g_assert_error (err, SF_ERROR, SF_ERROR_OUT_OF_MEMORY);
  g_assert_nonnull (strstr (err->message, "70368744177664 bytes"));
  g_clear_error (&err);

  VkDeviceSize bytes;
  g_assert_false (sf_size_floats (dev, 1 << 20, 1 << 20, 1 << 20, &bytes,
          &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_TOO_LARGE);
  g_clear_error (&err);
  g_assert_true (sf_size_floats (dev, 3, 16, 16, &bytes, &err));
  g_assert_cmpuint (bytes, ==, 3 * 16 * 16 * 4);

  /* a grid past maxComputeWorkGroupCount is refused, not recorded */
  SfBuffer *x = sf_buffer_new_floats (dev, 4, 1, 1, &err);
  VkCommandBuffer cb;
  struct { int32_t n; float a, b; int32_t clamp01; } pc = { 4, 1, 0, 0 };
  SfBuffer *bufs[2] = { x, x };
  guint gmax = dev->props.limits.maxComputeWorkGroupCount[1];
  g_assert_true (sf_cmd_begin (dev, &cb, &err));
  g_assert_false (sf_cmd_dispatch (dev, cb, SF_K_AXPBY, bufs, 2, &pc,
          sizeof (pc), 1, gmax + 1, 1, &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_TOO_LARGE);
  g_test_message ("%s", err->message);
  g_clear_error (&err);
  g_assert_true (sf_cmd_dispatch (dev, cb, SF_K_AXPBY, bufs, 2, &pc,
          sizeof (pc), 1, 1, 1, &err));
  g_assert_true (sf_cmd_submit_wait (dev, &cb, 1, TRUE, &err));
  g_assert_no_error (err);
  sf_buffer_free (dev, x);
  sf_device_free (dev);
}

/* The engine on Vulkan objects it does not own (as the element will with
 * the pipeline's GstVulkanDevice): it works and leaves them alive. */
static void
test_borrowed (void)
{
  GError *err = NULL;
  SfDevice *owner = test_device ();
  SfDevice *dev = sf_device_new_borrowed (owner->instance, owner->phys,
      owner->device, owner->queue, owner->queue_family, &err);
  g_assert_no_error (err);
  g_assert_cmpstr (sf_device_get_name (dev), ==, sf_device_get_name (owner));
  float v[4] = { 1, 2, 3, 4 }, r[4];
  SfBuffer *b = test_upload (dev, v, 4);
  g_assert_true (sf_buffer_download (dev, b, 0, r, sizeof (r), &err));
  g_assert_cmpfloat (r[3], ==, 4.0f);
  sf_buffer_free (dev, b);
  sf_device_free (dev);
  /* the owner's device is still usable */
  b = test_upload (owner, v, 4);
  sf_buffer_free (owner, b);
  sf_device_free (owner);
}

static guint64
stats_in_use (SfDevice *dev)
{
  SfDeviceStats s;
  sf_device_get_stats (dev, &s);
  return s.mem_in_use;
}

static guint64
stats_peak (SfDevice *dev)
{
  SfDeviceStats s;
  sf_device_get_stats (dev, &s);
  return s.mem_peak;
}

static SfBuffer *
stats_buffer (SfDevice *dev, VkDeviceSize size, SfMemKind kind)
{
  GError *err = NULL;
  SfBuffer *b = sf_buffer_new (dev, size, kind, &err);
  g_assert_no_error (err);
  /* counted at the allocation's size: at least what was asked, and no
   * more than an alignment's worth above it */
  g_assert_cmpuint (b->allocated, >=, size);
  g_assert_cmpuint (b->allocated, <, size + 65536);
  return b;
}

/* Memory accounting: in use and peak follow allocations and frees to the
 * byte; reset_peak starts a new peak; a stylizer's buffers come and go. */
static void
test_stats_memory (void)
{
  GError *err = NULL;
  SfDevice *dev = test_device ();
  SfDeviceStats s;

  sf_device_get_stats (dev, &s);
  g_assert_cmpuint (s.mem_in_use, ==, 0);
  g_assert_cmpuint (s.mem_peak, ==, 0);
  g_assert_cmpuint (s.submissions, ==, 0);
  g_assert_false (s.gpu_time_valid);

  SfBuffer *a = stats_buffer (dev, 1 << 20, SF_MEM_DEVICE);
  g_assert_cmpuint (stats_in_use (dev), ==, a->allocated);
  SfBuffer *b = stats_buffer (dev, 3 << 20, SF_MEM_HOST);
  guint64 ab = a->allocated + b->allocated;
  g_test_message ("1 MiB and 3 MiB buffers: %" G_GUINT64_FORMAT " and %"
      G_GUINT64_FORMAT " bytes allocated", (guint64) a->allocated,
      (guint64) b->allocated);
  g_assert_cmpuint (ab, >=, 4 << 20);
  g_assert_cmpuint (stats_in_use (dev), ==, ab);
  g_assert_cmpuint (stats_peak (dev), ==, ab);

  sf_buffer_free (dev, a);
  g_assert_cmpuint (stats_in_use (dev), ==, b->allocated);
  g_assert_cmpuint (stats_peak (dev), ==, ab);
  sf_device_reset_peak (dev);
  g_assert_cmpuint (stats_peak (dev), ==, b->allocated);

  SfBuffer *c = stats_buffer (dev, 256 << 10, SF_MEM_DEVICE);
  guint64 bc = b->allocated + c->allocated;
  g_assert_cmpuint (stats_in_use (dev), ==, bc);
  g_assert_cmpuint (stats_peak (dev), ==, bc);
  sf_buffer_free (dev, b);
  sf_buffer_free (dev, c);
  g_assert_cmpuint (stats_in_use (dev), ==, 0);
  g_assert_cmpuint (stats_peak (dev), ==, bc);
  sf_device_reset_peak (dev);
  g_assert_cmpuint (stats_peak (dev), ==, 0);

  /* a failed allocation counts nothing */
  g_assert_null (sf_buffer_new (dev, (VkDeviceSize) 1 << 46, SF_MEM_DEVICE,
          &err));
  g_assert_error (err, SF_ERROR, SF_ERROR_OUT_OF_MEMORY);
  g_clear_error (&err);
  g_assert_cmpuint (stats_in_use (dev), ==, 0);

  /* the network's weights, then a 32x32 stylizer: VGG-19 through conv5_1
   * has 12,940,992 weights (packed twice: forward and backward) */
  SfVggWeights *w = sf_vgg_weights_new_default (0);
  SfNet *net = sf_net_new (dev, w, SF_POOL_MAX, &err);
  g_assert_no_error (err);
  guint64 net_bytes = stats_in_use (dev);
  g_test_message ("network: %" G_GUINT64_FORMAT " bytes", net_bytes);
  g_assert_cmpuint (net_bytes, >=, (guint64) 2 * 4 * 12940992);
  SfStylizer *st = sf_stylizer_new (net, 32, 32, &err);
  g_assert_no_error (err);
  guint64 st_bytes = stats_in_use (dev) - net_bytes;
  g_test_message ("32x32 stylizer: %" G_GUINT64_FORMAT " bytes", st_bytes);
  /* at least the activations of conv1_1 and conv1_2: 2 x 64 x 32 x 32 */
  g_assert_cmpuint (st_bytes, >=, 2 * 64 * 32 * 32 * 4);
  g_assert_cmpuint (stats_peak (dev), >=, net_bytes + st_bytes);
  sf_stylizer_free (st);
  g_assert_cmpuint (stats_in_use (dev), ==, net_bytes);
  sf_net_free (net);
  sf_vgg_weights_free (w);
  g_assert_cmpuint (stats_in_use (dev), ==, 0);
  sf_device_free (dev);
}

/* GPU timing: submissions are counted and timed only while profiling is
 * on; one evaluation's GPU time is positive and within its wall time. */
static void
test_stats_profiling (void)
{
  GError *err = NULL;
  SfDevice *dev = test_device ();
  SfVggWeights *w = sf_vgg_weights_new_default (0);
  SfNet *net = sf_net_new (dev, w, SF_POOL_MAX, &err);
  g_assert_no_error (err);
  const int sz = 32;
  SfStylizer *st = sf_stylizer_new (net, sz, sz, &err);
  g_assert_no_error (err);
  float *img = g_new (float, 3 * sz * sz);
  SfParams p;
  SfDeviceStats s0, s1, s2;

  sf_params_init (&p);
  test_fill (img, 3 * sz * sz, 7, 0.0f, 1.0f);
  g_assert_true (sf_stylizer_set_style (st, img, sz, sz, &err));
  g_assert_true (sf_stylizer_set_content (st, img, &err));
  g_assert_true (sf_stylizer_set_image (st, img, &err));
  g_assert_no_error (err);
  /* the set-up above ran with profiling off: nothing counted */
  sf_device_get_stats (dev, &s0);
  g_assert_cmpuint (s0.submissions, ==, 0);
  g_assert_cmpuint (s0.gpu_ns, ==, 0);

  sf_device_set_profiling (dev, TRUE);
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (sf_stylizer_evaluate (st, &p, NULL, NULL, &err));
  gint64 wall_ns = (g_get_monotonic_time () - t0) * 1000;
  g_assert_no_error (err);
  sf_device_get_stats (dev, &s1);
  g_test_message ("one 32x32 evaluation: %" G_GUINT64_FORMAT " submission(s),"
      " GPU %s %.3f ms, wall %.3f ms", s1.submissions,
      s1.gpu_time_valid ? "valid" : "unavailable", s1.gpu_ns / 1e6,
      wall_ns / 1e6);
  g_assert_cmpuint (s1.submissions, >=, 1);
  if (strstr (sf_device_get_name (dev), "llvmpipe"))
    g_assert_true (s1.gpu_time_valid);  /* lavapipe has timestamps */
  if (s1.gpu_time_valid) {
    g_assert_cmpuint (s1.gpu_ns, >, 0);
    /* GPU time lies inside the host's interval (1 ms slack for clocks) */
    g_assert_cmpuint (s1.gpu_ns, <=, (guint64) wall_ns + 1000000);
  } else {
    g_assert_cmpuint (s1.gpu_ns, ==, 0);
  }

  /* off again: neither counted nor timed */
  sf_device_set_profiling (dev, FALSE);
  g_assert_true (sf_stylizer_evaluate (st, &p, NULL, NULL, &err));
  g_assert_no_error (err);
  sf_device_get_stats (dev, &s2);
  g_assert_cmpuint (s2.submissions, ==, s1.submissions);
  g_assert_cmpuint (s2.gpu_ns, ==, s1.gpu_ns);

  /* on again: a second evaluation adds about as much (same work) */
  sf_device_set_profiling (dev, TRUE);
  g_assert_true (sf_stylizer_evaluate (st, &p, NULL, NULL, &err));
  g_assert_no_error (err);
  sf_device_get_stats (dev, &s2);
  g_assert_cmpuint (s2.submissions, ==, 2 * s1.submissions);
  g_assert_cmpint (s2.gpu_time_valid, ==, s1.gpu_time_valid);
  if (s2.gpu_time_valid)
    g_assert_cmpuint (s2.gpu_ns, >, s1.gpu_ns);

  g_free (img);
  sf_stylizer_free (st);
  sf_net_free (net);
  sf_vgg_weights_free (w);
  sf_device_free (dev);
}

static guint64
kernel_calls (const SfKernelTime *kt, guint n, const char *name)
{
  for (guint i = 0; i < n; i++)
    if (g_str_equal (kt[i].name, name))
      return kt[i].calls;
  return 0;
}

/* Per-kernel timing: one 32x32 evaluation runs 13 convolutions forward and
 * 13 input gradients, 5 Gram matrices in one pixel slice each, and the
 * kernels' times add up to no more than the submissions' GPU time. */
static void
test_kernel_times (void)
{
  GError *err = NULL;
  SfDevice *dev = test_device ();
  SfVggWeights *w = sf_vgg_weights_new_default (0);
  SfNet *net = sf_net_new (dev, w, SF_POOL_MAX, &err);
  const int sz = 32;
  SfStylizer *st = sf_stylizer_new (net, sz, sz, &err);
  float *img = g_new (float, 3 * sz * sz);
  SfKernelTime kt[64];
  SfDeviceStats s;
  SfParams p;

  g_assert_no_error (err);
  sf_params_init (&p);
  test_fill (img, 3 * sz * sz, 7, 0.0f, 1.0f);
  g_assert_true (sf_stylizer_set_style (st, img, sz, sz, &err));
  g_assert_true (sf_stylizer_set_content (st, img, &err));
  g_assert_true (sf_stylizer_set_image (st, img, &err));
  g_assert_cmpuint (sf_device_get_kernel_times (dev, kt, 64), ==, 0);

  sf_device_set_kernel_profiling (dev, TRUE);
  g_assert_true (sf_stylizer_evaluate (st, &p, NULL, NULL, &err));
  g_assert_no_error (err);
  sf_device_get_stats (dev, &s);
  guint n = sf_device_get_kernel_times (dev, kt, 64);
  if (!s.gpu_time_valid) {
    g_test_skip ("no GPU timestamps on this device");
  } else {
    guint64 sum = 0;
    for (guint i = 0; i < n; i++) {
      g_test_message ("%-16s %3" G_GUINT64_FORMAT " calls %9.3f ms",
          kt[i].name, kt[i].calls, kt[i].gpu_ns / 1e6);
      sum += kt[i].gpu_ns;
      if (i > 0)
        g_assert_cmpuint (kt[i].gpu_ns, <=, kt[i - 1].gpu_ns);
    }
    /* by their storage-buffer names, or on a CPU device their
     * texel-buffer twins' (sf_kernel_choose) */
    g_assert_cmpuint (kernel_calls (kt, n, "conv_fwd")
        + kernel_calls (kt, n, "conv_fwd_tx")
        + kernel_calls (kt, n, "conv_gemm_fwd"), ==, 13);
    g_assert_cmpuint (kernel_calls (kt, n, "conv_bwd")
        + kernel_calls (kt, n, "conv_bwd_tx")
        + kernel_calls (kt, n, "conv_gemm_bwd"), ==, 13);
    g_assert_cmpuint (kernel_calls (kt, n, "gram")
        + kernel_calls (kt, n, "gram_tx"), ==, 5);
    g_assert_cmpuint (kernel_calls (kt, n, dev->texel_reads ? "conv_fwd"
            : "conv_fwd_tx"), ==, 0);
    g_assert_cmpuint (kernel_calls (kt, n, "gram_reduce"), ==, 0);
    g_test_message ("kernels %.3f ms of %.3f ms GPU time", sum / 1e6,
        s.gpu_ns / 1e6);
    g_assert_cmpuint (sum, >, 0);
    g_assert_cmpuint (sum, <=, s.gpu_ns);
    /* the convolutions are most of the work */
    g_assert_true (g_str_has_prefix (kt[0].name, "conv"));
  }
  sf_device_reset_kernel_times (dev);
  g_assert_cmpuint (sf_device_get_kernel_times (dev, kt, 64), ==, 0);
  sf_device_set_kernel_profiling (dev, FALSE);
  g_assert_true (sf_stylizer_evaluate (st, &p, NULL, NULL, &err));
  g_assert_cmpuint (sf_device_get_kernel_times (dev, kt, 64), ==, 0);

  g_free (img);
  sf_stylizer_free (st);
  sf_net_free (net);
  sf_vgg_weights_free (w);
  sf_device_free (dev);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/device/auto", test_auto);
  g_test_add_func ("/device/select", test_select);
  g_test_add_func ("/device/no-driver", test_no_driver);
  g_test_add_func ("/device/out-of-memory", test_out_of_memory);
  g_test_add_func ("/device/borrowed", test_borrowed);
  g_test_add_func ("/device/stats-memory", test_stats_memory);
  g_test_add_func ("/device/stats-profiling", test_stats_profiling);
  g_test_add_func ("/device/kernel-times", test_kernel_times);
  return g_test_run ();
}
