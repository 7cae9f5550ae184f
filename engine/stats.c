/* stats.c - the device's statistics: memory the engine holds, and the GPU
 * time of its submissions.
 *
 * Why: the benchmark (tests/bench/) reports milliseconds per iteration
 * measured on the GPU's own clock and the peak device memory of each size;
 * host clocks around a submission also count the driver's submission and
 * the wake-up after the fence, which on a fast GPU is a large part of a
 * small workload.
 *
 * The one circle among the engine's files is this one with gpu.c, and
 * it stays on purpose: gpu.c counts every allocation and brackets every
 * dispatch here (sf_stats_mem_alloc, sf_stats_kernel_begin), and the
 * timing needs gpu.c's command buffers and kernel names back
 * (sf_cmd_begin, sf_kernel_name).  Both are the GPU layer; splitting the
 * few calls across a third file would hide the pairing, not remove it.
 *
 * Memory: every sf_buffer_new allocation (device-local and host-visible
 * alike, staging included) is counted with the size of its VkDeviceMemory
 * (the driver's requirement, at least the size asked for) from allocation
 * to sf_buffer_free; the peak is the most held at once since the device
 * was made or sf_device_reset_peak.
 *
 * Timing (only while sf_device_set_profiling is on): sf_cmd_submit_wait
 * submits a pre-recorded command buffer first that resets a 2-query
 * timestamp pool and writes the start timestamp (TOP_OF_PIPE), and writes
 * the end timestamp (BOTTOM_OF_PIPE) at the end of the caller's last
 * command buffer, just before it ends it; after the fence it reads both
 * and adds (end - start) x timestampPeriod to the total.  The query pool
 * and the head buffer are made on first use.  A queue family without
 * timestamps (timestampValidBits 0, or a zero timestampPeriod), or a
 * failure to make the pool, makes the GPU time unavailable (logged once;
 * the submissions still run and are counted) rather than an error.
 *
 * Per kernel (sf_device_set_kernel_profiling): sf_cmd_dispatch writes a
 * BOTTOM_OF_PIPE timestamp before each dispatch (when everything recorded
 * before it has finished) and another after it and its barrier, into a
 * second pool of SF_KQ_MAX timestamps that the same head buffer resets;
 * after the fence the pairs that are available are added to their
 * kernel's total (read without waiting, so a query that was never written
 * costs a missing sample, never a hang).
 *
 * Like the rest of SfDevice, not thread-safe: one thread at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "gpu.h"

void
sf_stats_mem_alloc (SfDevice *dev, VkDeviceSize bytes)
{
  /* saturating: a sum past 2^64 bytes cannot happen, but stays defined */
  if (!g_uint64_checked_add (&dev->mem_in_use, dev->mem_in_use, bytes))
    dev->mem_in_use = G_MAXUINT64;
  dev->mem_peak = MAX (dev->mem_peak, dev->mem_in_use);
}

void
sf_stats_mem_free (SfDevice *dev, VkDeviceSize bytes)
{
  g_warn_if_fail (bytes <= dev->mem_in_use);
  dev->mem_in_use -= MIN (bytes, dev->mem_in_use);
}

/* Checks the queue family's timestamp support and makes the query pool and
 * the head command buffer.  FALSE (logged) when timing is unavailable. */
static gboolean
timing_setup (SfDevice *dev)
{
  VkQueueFamilyProperties *q;
  uint32_t n = 0, bits = 0;
  GError *error = NULL;
  VkResult r;

  vkGetPhysicalDeviceQueueFamilyProperties (dev->phys, &n, NULL);
  q = g_new0 (VkQueueFamilyProperties, MAX (n, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (dev->phys, &n, q);
  if (dev->queue_family < n)
    bits = q[dev->queue_family].timestampValidBits;
  g_free (q);
  if (bits == 0 || !(dev->props.limits.timestampPeriod > 0.0f)) {
    g_debug ("%s: no GPU timestamps on queue family %u of %s "
        "(timestampValidBits %u, timestampPeriod %g): GPU time unavailable",
        G_STRLOC, dev->queue_family, dev->name, bits,
        (double) dev->props.limits.timestampPeriod);
    return FALSE;
  }
  dev->timestamp_mask = bits >= 64 ? G_MAXUINT64 : (G_GUINT64_CONSTANT (1)
      << bits) - 1;
  dev->timestamp_period = dev->props.limits.timestampPeriod;

  VkQueryPoolCreateInfo qpi = {
    .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
    .queryType = VK_QUERY_TYPE_TIMESTAMP,
    .queryCount = 2,
  };
  VkQueryPoolCreateInfo kqpi = qpi;

  kqpi.queryCount = SF_KQ_MAX;
  r = vkCreateQueryPool (dev->device, &qpi, NULL, &dev->query_pool);
  if (r == VK_SUCCESS)
    r = vkCreateQueryPool (dev->device, &kqpi, NULL, &dev->kq_pool);
  if (r != VK_SUCCESS) {
    sf_vk_fail (&error, r, __FILE__, __LINE__, "vkCreateQueryPool");
  } else if (sf_cmd_begin (dev, &dev->ts_head, &error)) {
    /* sf_cmd_begin sets no ONE_TIME_SUBMIT: the same buffer starts every
     * timed submission */
    vkCmdResetQueryPool (dev->ts_head, dev->query_pool, 0, 2);
    vkCmdResetQueryPool (dev->ts_head, dev->kq_pool, 0, SF_KQ_MAX);
    vkCmdWriteTimestamp (dev->ts_head, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT,
        dev->query_pool, 0);
    r = vkEndCommandBuffer (dev->ts_head);
    if (r != VK_SUCCESS)
      sf_vk_fail (&error, r, __FILE__, __LINE__, "vkEndCommandBuffer");
  }
  if (error) {
    g_debug ("%s: GPU time unavailable on %s: %s", G_STRLOC, dev->name,
        error->message);
    g_error_free (error);
    sf_stats_destroy (dev);
    return FALSE;
  }
  return TRUE;
}

VkCommandBuffer
sf_stats_timing_begin (SfDevice *dev)
{
  if (!dev->profiling)
    return VK_NULL_HANDLE;
  if (dev->timestamps == 0)
    dev->timestamps = timing_setup (dev) ? 1 : -1;
  return dev->timestamps > 0 ? dev->ts_head : VK_NULL_HANDLE;
}

void
sf_stats_timing_end (SfDevice *dev, VkCommandBuffer last)
{
  vkCmdWriteTimestamp (last, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
      dev->query_pool, 1);
}

/* ---- per kernel ------------------------------------------------------- */

void
sf_stats_kernel_begin (SfDevice *dev, VkCommandBuffer cb, SfKernelId k)
{
  if (!dev->kernel_profiling || !dev->profiling || dev->timestamps <= 0
      || dev->kq_used + 2 > SF_KQ_MAX)
    return;
  dev->kq_ids[dev->kq_used / 2] = k;
  vkCmdWriteTimestamp (cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, dev->kq_pool,
      dev->kq_used);
  dev->kq_open = TRUE;
}

void
sf_stats_kernel_end (SfDevice *dev, VkCommandBuffer cb)
{
  if (!dev->kq_open)
    return;
  vkCmdWriteTimestamp (cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, dev->kq_pool,
      dev->kq_used + 1);
  dev->kq_used += 2;
  dev->kq_open = FALSE;
}

/* Adds the available pairs of this submission to their kernels. */
static void
kernel_collect (SfDevice *dev)
{
  guint n = dev->kq_used;
  guint64 *res;
  VkResult r;

  dev->kq_used = 0;
  if (n == 0)
    return;
  /* value and availability per query; VK_NOT_READY when some are not */
  res = g_new0 (guint64, 2 * (gsize) n);
  r = vkGetQueryPoolResults (dev->device, dev->kq_pool, 0, n,
      2 * (gsize) n * sizeof (guint64), res, 2 * sizeof (guint64),
      VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WITH_AVAILABILITY_BIT);
  if (r == VK_SUCCESS || r == VK_NOT_READY) {
    for (guint j = 0; j + 1 < n; j += 2) {
      const guint64 *a = res + 2 * j, *b = res + 2 * (j + 1);
      SfKernelId k = dev->kq_ids[j / 2];
      if (!a[1] || !b[1])
        continue;
      dev->kernel_ns[k] += (guint64) (((b[0] - a[0]) & dev->timestamp_mask)
          * dev->timestamp_period + 0.5);
      dev->kernel_calls[k]++;
    }
  }
  g_free (res);
}

void
sf_stats_timing_collect (SfDevice *dev, gboolean timed)
{
  guint64 ts[2] = { 0, 0 };
  GError *error = NULL;
  VkResult r;

  dev->submissions++;
  if (!timed) {
    dev->untimed++;
    dev->kq_used = 0;
    return;
  }
  kernel_collect (dev);
  /* the fence has signalled: both results are available */
  r = vkGetQueryPoolResults (dev->device, dev->query_pool, 0, 2, sizeof ts,
      ts, sizeof ts[0], VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
  if (r != VK_SUCCESS) {
    sf_vk_fail (&error, r, __FILE__, __LINE__, "vkGetQueryPoolResults");
    g_debug ("%s: this submission's GPU time is unavailable: %s",
        G_STRLOC, error->message);
    g_error_free (error);
    dev->untimed++;
    return;
  }
  dev->gpu_ns += (guint64) (((ts[1] - ts[0]) & dev->timestamp_mask)
      * dev->timestamp_period + 0.5);
}

void
sf_stats_destroy (SfDevice *dev)
{
  if (!dev->device)
    return;
  if (dev->ts_head)
    vkFreeCommandBuffers (dev->device, dev->pool, 1, &dev->ts_head);
  if (dev->query_pool)
    vkDestroyQueryPool (dev->device, dev->query_pool, NULL);
  if (dev->kq_pool)
    vkDestroyQueryPool (dev->device, dev->kq_pool, NULL);
  dev->ts_head = VK_NULL_HANDLE;
  dev->query_pool = VK_NULL_HANDLE;
  dev->kq_pool = VK_NULL_HANDLE;
  dev->kq_used = 0;
}

void
sf_device_set_profiling (SfDevice *dev, gboolean on)
{
  g_return_if_fail (dev != NULL);
  dev->profiling = on;
}

void
sf_device_get_stats (SfDevice *dev, SfDeviceStats *out)
{
  g_return_if_fail (dev != NULL && out != NULL);
  out->mem_in_use = dev->mem_in_use;
  out->mem_peak = dev->mem_peak;
  out->submissions = dev->submissions;
  out->gpu_ns = dev->gpu_ns;
  out->gpu_time_valid = dev->submissions > 0 && dev->untimed == 0;
}

void
sf_device_reset_peak (SfDevice *dev)
{
  g_return_if_fail (dev != NULL);
  dev->mem_peak = dev->mem_in_use;
}

void
sf_device_set_kernel_profiling (SfDevice *dev, gboolean on)
{
  g_return_if_fail (dev != NULL);
  dev->kernel_profiling = on;
  if (on) {
    dev->profiling = TRUE;
    if (dev->timestamps == 0)
      dev->timestamps = timing_setup (dev) ? 1 : -1;
  }
}

static gint
by_time (gconstpointer a, gconstpointer b)
{
  const SfKernelTime *x = a, *y = b;
  return x->gpu_ns < y->gpu_ns ? 1 : x->gpu_ns > y->gpu_ns ? -1 : 0;
}

guint
sf_device_get_kernel_times (SfDevice *dev, SfKernelTime *out, guint n)
{
  SfKernelTime all[SF_K_COUNT];
  guint m = 0;

  g_return_val_if_fail (dev != NULL && (out != NULL || n == 0), 0);
  for (guint k = 0; k < SF_K_COUNT; k++)
    if (dev->kernel_calls[k] > 0)
      all[m++] = (SfKernelTime) { sf_kernel_name (k), dev->kernel_calls[k],
        dev->kernel_ns[k] };
  qsort (all, m, sizeof all[0], by_time);
  m = MIN (m, n);
  memcpy (out, all, m * sizeof all[0]);
  return m;
}

void
sf_device_reset_kernel_times (SfDevice *dev)
{
  g_return_if_fail (dev != NULL);
  memset (dev->kernel_ns, 0, sizeof dev->kernel_ns);
  memset (dev->kernel_calls, 0, sizeof dev->kernel_calls);
}
