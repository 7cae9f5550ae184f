/* gpu.c - buffers, command buffers, kernels and dispatches.
 *
 * The small Vulkan layer the rest of the engine records its work with.
 * Memory: one allocation per buffer (the engine allocates a few dozen,
 * once per size), device-local for the GPU's working data, host-visible
 * and coherent for scalars and staging.  On a CPU device (lavapipe) all
 * memory is both, and device buffers are mapped directly.
 */
#include <string.h>

#include "gpu.h"

/* The uniform texel buffer formats of SfKernelInfo.texel's 2-bit codes
 * (0: a storage buffer), and the binding's code in a texel field. */
static const struct
{
  VkFormat format;
  guint bytes;
} texel_formats[] = {
  [1] = { VK_FORMAT_R32_SFLOAT, 4 },
  [2] = { VK_FORMAT_R32G32B32A32_SFLOAT, 16 },
};

static guint
texel_code (guint texel, guint binding)
{
  return (texel >> (2 * binding)) & 3;
}

const char *
sf_kernel_name (SfKernelId k)
{
  g_return_val_if_fail (k < SF_K_COUNT, "?");
  return sf_kernel_info[k].name;
}

gboolean
sf_size_floats (const SfDevice *dev, gsize a, gsize b, gsize c,
    VkDeviceSize *bytes, GError **error)
{
  guint64 n = 4;

  if (!g_uint64_checked_mul (&n, n, a) || !g_uint64_checked_mul (&n, n, b)
      || !g_uint64_checked_mul (&n, n, c)
      || n > dev->features.max_buffer_size) {
    g_set_error (error, SF_ERROR, SF_ERROR_TOO_LARGE,
        "A buffer of %zu x %zu x %zu floats is larger than device %s can "
        "hold in one storage buffer (%" G_GUINT64_FORMAT " bytes): use a "
        "smaller processing size", a, b, c, dev->name,
        (guint64) dev->features.max_buffer_size);
    return FALSE;
  }
  *bytes = MAX (n, 16);
  return TRUE;
}

static int
find_memory_type (SfDevice * dev, uint32_t bits, VkMemoryPropertyFlags want)
{
  for (uint32_t i = 0; i < dev->mem_props.memoryTypeCount; i++)
    if ((bits & (1u << i))
        && (dev->mem_props.memoryTypes[i].propertyFlags & want) == want)
      return (int) i;
  return -1;
}

SfBuffer *
sf_buffer_new (SfDevice *dev, VkDeviceSize size, SfMemKind kind,
    GError **error)
{
  SfBuffer *b = g_new0 (SfBuffer, 1);
  VkMemoryRequirements req;
  VkResult r;
  int type = -1;
  const VkMemoryPropertyFlags hostf = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
      | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;

  b->size = size;
  VkBufferCreateInfo bci = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = size,
    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT
        | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT
        | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  r = vkCreateBuffer (dev->device, &bci, NULL, &b->buffer);
  if (r != VK_SUCCESS)
    goto vkfail;
  vkGetBufferMemoryRequirements (dev->device, b->buffer, &req);
  if (kind == SF_MEM_DEVICE) {
    if (dev->features.is_cpu)
      type = find_memory_type (dev, req.memoryTypeBits,
          VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | hostf);
    if (type < 0)
      type = find_memory_type (dev, req.memoryTypeBits,
          VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  }
  if (type < 0)
    type = find_memory_type (dev, req.memoryTypeBits, hostf);
  if (type < 0) {
    g_set_error (error, SF_ERROR, SF_ERROR_VULKAN,
        "No suitable memory type for a buffer on %s", dev->name);
    sf_buffer_free (dev, b);
    return NULL;
  }
  VkMemoryAllocateInfo mai = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
    .allocationSize = req.size,
    .memoryTypeIndex = (uint32_t) type,
  };
  r = vkAllocateMemory (dev->device, &mai, NULL, &b->memory);
  if (r != VK_SUCCESS)
    goto vkfail;
  b->allocated = req.size;
  sf_stats_mem_alloc (dev, b->allocated);
  r = vkBindBufferMemory (dev->device, b->buffer, b->memory, 0);
  if (r != VK_SUCCESS)
    goto vkfail;
  if (dev->mem_props.memoryTypes[type].propertyFlags
      & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    r = vkMapMemory (dev->device, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped);
    if (r != VK_SUCCESS)
      goto vkfail;
  }
  return b;

vkfail:
  if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) {
    g_debug ("%s:%d: a buffer of %" G_GUINT64_FORMAT " bytes: %s",
        __FILE__, __LINE__, (guint64) size, sf_vk_result_string (r));
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "Out of %s memory allocating %" G_GUINT64_FORMAT " bytes (%.1f MiB) "
        "on %s: use a smaller processing size",
        r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? "device" : "host",
        (guint64) size, size / 1048576.0, dev->name);
  } else {
    sf_vk_fail (error, r, __FILE__, __LINE__, "creating a buffer");
  }
  sf_buffer_free (dev, b);
  return NULL;
}

SfBuffer *
sf_buffer_new_floats (SfDevice *dev, gsize a, gsize b, gsize c,
    GError **error)
{
  VkDeviceSize bytes;

  if (!sf_size_floats (dev, a, b, c, &bytes, error))
    return NULL;
  return sf_buffer_new (dev, bytes, SF_MEM_DEVICE, error);
}

void
sf_buffer_free (SfDevice *dev, SfBuffer *b)
{
  if (!b)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (b->view); i++)
    if (b->view[i])
      vkDestroyBufferView (dev->device, b->view[i], NULL);
  if (b->buffer)
    vkDestroyBuffer (dev->device, b->buffer, NULL);
  if (b->memory) {
    vkFreeMemory (dev->device, b->memory, NULL);
    sf_stats_mem_free (dev, b->allocated);
  }
  g_free (b);
}

/* Copies between a device buffer and a staging buffer, both ways. */
static gboolean
staged_copy (SfDevice * dev, SfBuffer * buf, VkDeviceSize offset,
    const void *in, void *out, VkDeviceSize size, GError ** error)
{
  SfBuffer *st = sf_buffer_new (dev, size, SF_MEM_HOST, error);
  VkCommandBuffer cb;
  gboolean ok;

  if (!st)
    return FALSE;
  if (in)
    memcpy (st->mapped, in, size);
  if (!sf_cmd_begin (dev, &cb, error)) {
    sf_buffer_free (dev, st);
    return FALSE;
  }
  VkBufferCopy region = {
    .srcOffset = in ? 0 : offset,
    .dstOffset = in ? offset : 0,
    .size = size,
  };
  if (in)
    vkCmdCopyBuffer (cb, st->buffer, buf->buffer, 1, &region);
  else
    vkCmdCopyBuffer (cb, buf->buffer, st->buffer, 1, &region);
  ok = sf_cmd_submit_wait (dev, &cb, 1, TRUE, error);
  if (ok && out)
    memcpy (out, st->mapped, size);
  sf_buffer_free (dev, st);
  return ok;
}

gboolean
sf_buffer_upload (SfDevice *dev, SfBuffer *buf, VkDeviceSize offset,
    const void *data, VkDeviceSize size, GError **error)
{
  g_return_val_if_fail (offset <= buf->size && size <= buf->size - offset,
      FALSE);
  if (size == 0)
    return TRUE;
  if (buf->mapped) {
    memcpy ((char *) buf->mapped + offset, data, size);
    return TRUE;
  }
  return staged_copy (dev, buf, offset, data, NULL, size, error);
}

gboolean
sf_buffer_download (SfDevice *dev, SfBuffer *buf, VkDeviceSize offset,
    void *data, VkDeviceSize size, GError **error)
{
  g_return_val_if_fail (offset <= buf->size && size <= buf->size - offset,
      FALSE);
  if (size == 0)
    return TRUE;
  if (buf->mapped) {
    memcpy (data, (const char *) buf->mapped + offset, size);
    return TRUE;
  }
  return staged_copy (dev, buf, offset, NULL, data, size, error);
}

gboolean
sf_cmd_begin (SfDevice *dev, VkCommandBuffer *cb, GError **error)
{
  VkCommandBufferAllocateInfo ai = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .commandPool = dev->pool,
    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 1,
  };
  VkCommandBufferBeginInfo bi = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
  };

  SF_VK_CHECK (vkAllocateCommandBuffers (dev->device, &ai, cb), error,
      "vkAllocateCommandBuffers");
  VkResult r = vkBeginCommandBuffer (*cb, &bi);
  if (r != VK_SUCCESS) {
    vkFreeCommandBuffers (dev->device, dev->pool, 1, cb);
    *cb = VK_NULL_HANDLE;
    return sf_vk_fail (error, r, __FILE__, __LINE__, "vkBeginCommandBuffer");
  }
  return TRUE;
}

void
sf_cmd_free (SfDevice *dev, VkCommandBuffer cb)
{
  if (cb)
    vkFreeCommandBuffers (dev->device, dev->pool, 1, &cb);
}

/* Ends (if still recording: the caller passes only buffers it began and did
 * not end) and submits cbs in order, waits for them.  While profiling is on
 * (stats.c), a pre-recorded buffer that writes the start timestamp goes
 * first and the end timestamp is recorded into the last buffer before it
 * ends. */
gboolean
sf_cmd_submit_wait (SfDevice *dev, VkCommandBuffer *cbs, guint n,
    gboolean free_after, GError **error)
{
  VkResult r = VK_SUCCESS;
  const char *what = "vkEndCommandBuffer";
  gboolean profiling = dev->profiling && n > 0;
  VkCommandBuffer head = profiling ? sf_stats_timing_begin (dev) : NULL;
  VkCommandBuffer *all = cbs;

  if (head) {
    all = g_new (VkCommandBuffer, n + 1);
    all[0] = head;
    memcpy (all + 1, cbs, n * sizeof (VkCommandBuffer));
    sf_stats_timing_end (dev, cbs[n - 1]);
  }
  for (guint i = 0; i < n && r == VK_SUCCESS; i++)
    r = vkEndCommandBuffer (cbs[i]);
  if (r == VK_SUCCESS) {
    VkSubmitInfo si = {
      .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
      .commandBufferCount = head ? n + 1 : n,
      .pCommandBuffers = all,
    };
    what = "vkQueueSubmit";
    r = vkQueueSubmit (dev->queue, 1, &si, dev->fence);
    if (r == VK_SUCCESS) {
      what = "vkWaitForFences";
      r = vkWaitForFences (dev->device, 1, &dev->fence, VK_TRUE, UINT64_MAX);
      vkResetFences (dev->device, 1, &dev->fence);
      if (r == VK_SUCCESS && profiling)
        sf_stats_timing_collect (dev, head != NULL);
    }
  }
  if (all != cbs)
    g_free (all);
  if (free_after)
    vkFreeCommandBuffers (dev->device, dev->pool, n, cbs);
  if (r != VK_SUCCESS)
    return sf_vk_fail (error, r, __FILE__, __LINE__, what);
  return TRUE;
}

void
sf_cmd_barrier (VkCommandBuffer cb)
{
  VkMemoryBarrier mb = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT
        | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT
        | VK_ACCESS_HOST_READ_BIT,
  };
  vkCmdPipelineBarrier (cb,
      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT
      | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* Destroys whatever of k exists and zeroes it. */
static void
kernel_clear (SfDevice * dev, SfKernel * k)
{
  if (k->pipeline)
    vkDestroyPipeline (dev->device, k->pipeline, NULL);
  if (k->layout)
    vkDestroyPipelineLayout (dev->device, k->layout, NULL);
  if (k->set_layout)
    vkDestroyDescriptorSetLayout (dev->device, k->set_layout, NULL);
  memset (k, 0, sizeof (*k));
}

gboolean
sf_kernel_get (SfDevice *dev, SfKernelId id, SfKernel **out, GError **error)
{
  SfKernel *k = &dev->kernels[id];
  const SfKernelInfo *info = &sf_kernel_info[id];
  VkDescriptorSetLayoutBinding bind[8];
  VkShaderModule module = VK_NULL_HANDLE;
  VkResult r;

  *out = k;
  if (k->pipeline)
    return TRUE;
  /* an earlier attempt that failed part-way may have left its layouts */
  kernel_clear (dev, k);
  g_assert (info->n_buffers <= G_N_ELEMENTS (bind));
  for (guint i = 0; i < info->n_buffers; i++)
    bind[i] = (VkDescriptorSetLayoutBinding) {
      .binding = i,
      .descriptorType = texel_code (info->texel, i) ?
          VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER :
          VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .descriptorCount = 1,
      .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    };
  VkDescriptorSetLayoutCreateInfo dl = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR,
    .bindingCount = info->n_buffers,
    .pBindings = bind,
  };
  SF_VK_CHECK (vkCreateDescriptorSetLayout (dev->device, &dl, NULL,
          &k->set_layout), error, "vkCreateDescriptorSetLayout");
  VkPushConstantRange pcr = {
    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    .offset = 0,
    .size = 128,
  };
  VkPipelineLayoutCreateInfo pl = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 1,
    .pSetLayouts = &k->set_layout,
    .pushConstantRangeCount = 1,
    .pPushConstantRanges = &pcr,
  };
  SF_VK_CHECK (vkCreatePipelineLayout (dev->device, &pl, NULL, &k->layout),
      error, "vkCreatePipelineLayout");
  VkShaderModuleCreateInfo smi = {
    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
    .codeSize = info->size,
    .pCode = info->code,
  };
  SF_VK_CHECK (vkCreateShaderModule (dev->device, &smi, NULL, &module), error,
      "vkCreateShaderModule");
  VkComputePipelineCreateInfo cpi = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
      .module = module,
      .pName = "main",
    },
    .layout = k->layout,
  };
  r = vkCreateComputePipelines (dev->device, VK_NULL_HANDLE, 1, &cpi, NULL,
      &k->pipeline);
  vkDestroyShaderModule (dev->device, module, NULL);
  if (r != VK_SUCCESS) {
    k->pipeline = VK_NULL_HANDLE;
    return sf_vk_fail (error, r, __FILE__, __LINE__, info->name);
  }
  k->n_buffers = info->n_buffers;
  k->texel = info->texel;
  return TRUE;
}

/* b's view as a uniform texel buffer of format code fmt (texel_formats),
 * made on first use and kept with the buffer (sf_buffer_free destroys
 * it). */
static gboolean
buffer_view (SfDevice * dev, SfBuffer * b, guint fmt, VkBufferView * out,
    GError ** error)
{
  g_assert (fmt >= 1 && fmt < G_N_ELEMENTS (texel_formats));
  if (!b->view[fmt - 1]) {
    guint bytes = texel_formats[fmt].bytes;
    VkBufferViewCreateInfo vci = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
      .buffer = b->buffer,
      .format = texel_formats[fmt].format,
      .offset = 0,
      .range = b->size / bytes * bytes,
    };
    SF_VK_CHECK (vkCreateBufferView (dev->device, &vci, NULL,
            &b->view[fmt - 1]), error, "vkCreateBufferView");
  }
  *out = b->view[fmt - 1];
  return TRUE;
}

void
sf_kernels_destroy (SfDevice *dev)
{
  for (int i = 0; i < SF_K_COUNT; i++)
    kernel_clear (dev, &dev->kernels[i]);
}

SfKernelId
sf_kernel_choose (SfDevice *dev, SfKernelId id, SfKernelId tx,
    SfBuffer *const *bufs, guint n_bufs)
{
  if (!dev->texel_reads)
    return id;
  for (guint i = 0; i < n_bufs; i++) {
    guint fmt = texel_code (sf_kernel_info[tx].texel, i);
    if (fmt && bufs[i]->size / texel_formats[fmt].bytes
        > dev->props.limits.maxTexelBufferElements)
      return id;
  }
  return tx;
}

gboolean
sf_cmd_dispatch (SfDevice *dev, VkCommandBuffer cb, SfKernelId id,
    SfBuffer *const *bufs, guint n_bufs, const void *push, guint push_size,
    guint gx, guint gy, guint gz, GError **error)
{
  SfKernel *k;
  VkDescriptorBufferInfo bi[8];
  VkBufferView views[8];
  VkWriteDescriptorSet w[8];
  guint8 pc[128] = { 0 };
  const uint32_t *lim = dev->props.limits.maxComputeWorkGroupCount;

  /* a grid past the device's limits is undefined behaviour in Vulkan: say
   * so instead (images this large need a smaller processing size) */
  if (gx > lim[0] || gy > lim[1] || gz > lim[2]) {
    g_set_error (error, SF_ERROR, SF_ERROR_TOO_LARGE,
        "kernel %s needs %u x %u x %u workgroups, the device allows %u x %u "
        "x %u: use a smaller image or processing size",
        sf_kernel_name (id), gx, gy, gz,
        lim[0], lim[1], lim[2]);
    return FALSE;
  }
  if (!sf_kernel_get (dev, id, &k, error))
    return FALSE;
  g_assert (n_bufs == k->n_buffers && push_size <= sizeof (pc));
  for (guint i = 0; i < n_bufs; i++) {
    bi[i] = (VkDescriptorBufferInfo) {
      .buffer = bufs[i]->buffer,
      .offset = 0,
      .range = VK_WHOLE_SIZE,
    };
    w[i] = (VkWriteDescriptorSet) {
      .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
      .dstBinding = i,
      .descriptorCount = 1,
      .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
      .pBufferInfo = &bi[i],
    };
    guint fmt = texel_code (k->texel, i);
    if (fmt) {
      if (!buffer_view (dev, bufs[i], fmt, &views[i], error))
        return FALSE;
      w[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
      w[i].pBufferInfo = NULL;
      w[i].pTexelBufferView = &views[i];
    }
  }
  if (push_size)
    memcpy (pc, push, push_size);
  vkCmdBindPipeline (cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->pipeline);
  dev->push_descriptor (cb, VK_PIPELINE_BIND_POINT_COMPUTE, k->layout, 0,
      n_bufs, w);
  vkCmdPushConstants (cb, k->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
      sizeof (pc), pc);
  sf_stats_kernel_begin (dev, cb, id);
  if (gx && gy && gz)
    vkCmdDispatch (cb, gx, gy, gz);
  sf_cmd_barrier (cb);
  sf_stats_kernel_end (dev, cb);
  return TRUE;
}
