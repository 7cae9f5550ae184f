/* gpu.h - the engine's internal Vulkan layer: the device object, buffers,
 * compute kernels and command recording.
 *
 * Kernels are the embedded SPIR-V modules of shaders/ (one shader per
 * kernel); each takes its storage buffers through push descriptors at
 * bindings 0..n-1 and its scalars as push constants, so recording a
 * dispatch needs no descriptor pools.  Pipelines are created on first use
 * and cached in the device.  Every recorded dispatch is followed by a
 * compute-to-compute memory barrier.
 */
#ifndef SF_GPU_H
#define SF_GPU_H

#include "sf-engine.h"

G_BEGIN_DECLS

/* The kernels: SfKernelId (SF_K_CONV_FWD, ..., SF_K_COUNT) and their
 * registry are generated from shaders/meson.build's shader_list
 * (shaders/gen-kernels.py: kernels.h, kernels.c). */
#include "kernels.h"

typedef struct
{
  const char *name;             /* the shader's output name: "conv_fwd" */
  const uint32_t *code;         /* SPIR-V */
  gsize size;                   /* bytes */
  guint n_buffers;
  /* per binding, 2 bits: 0 a storage buffer, else a uniform texel buffer
   * of format 1 R32F or 2 RGBA32F */
  guint texel;
  /* the same kernel with activations stored as fp16 (-DACT16), or
   * SF_K_COUNT */
  SfKernelId fp16_twin;
} SfKernelInfo;

extern const SfKernelInfo sf_kernel_info[SF_K_COUNT];

/* Timestamps per submission for per-kernel timing: 2 per dispatch. */
#define SF_KQ_MAX 4096

typedef struct
{
  VkPipelineLayout layout;
  VkDescriptorSetLayout set_layout;
  VkPipeline pipeline;
  guint n_buffers;
  guint texel;                  /* kernel_info's texel bindings */
} SfKernel;

struct SfDevice
{
  gboolean owned;
  VkInstance instance;
  VkPhysicalDevice phys;
  VkDevice device;
  VkQueue queue;
  uint32_t queue_family;
  VkPhysicalDeviceProperties props;
  VkPhysicalDeviceMemoryProperties mem_props;
  SfDeviceFeatures features;
  char *name;
  VkCommandPool pool;
  VkFence fence;
  PFN_vkCmdPushDescriptorSetKHR push_descriptor;
  SfKernel kernels[SF_K_COUNT];
  /* statistics (stats.c): bytes of the sf_buffer_new allocations now and
   * at most; GPU time of the submissions made while profiling is on */
  guint64 mem_in_use;
  guint64 mem_peak;
  gboolean profiling;
  int timestamps;               /* 0 not yet checked, 1 usable, -1 not */
  double timestamp_period;      /* ns per tick */
  guint64 timestamp_mask;       /* timestampValidBits of the queue family */
  VkQueryPool query_pool;       /* 2 timestamps: start, end */
  VkCommandBuffer ts_head;      /* pre-recorded: reset, start timestamp */
  guint64 gpu_ns;
  guint64 submissions;
  guint64 untimed;              /* submissions without a GPU time */
  /* per-kernel timing (stats.c, sf_device_set_kernel_profiling): a
   * timestamp before and after each recorded dispatch, in kq_pool (reset
   * by ts_head), read back after the submission's fence */
  gboolean kernel_profiling;
  /* kernels with a texel-buffer twin (SF_K_*_TX) run it (see
   * sf_kernel_choose): TRUE on CPU devices whose uniform texel buffers take
   * R32F and RGBA32F */
  gboolean texel_reads;
  VkQueryPool kq_pool;          /* SF_KQ_MAX timestamps */
  guint kq_used;
  gboolean kq_open;             /* a dispatch's start is written */
  SfKernelId kq_ids[SF_KQ_MAX / 2];
  guint64 kernel_ns[SF_K_COUNT];
  guint64 kernel_calls[SF_K_COUNT];
};

typedef enum
{
  SF_MEM_DEVICE,                /* fastest for the GPU; mapped where possible */
  SF_MEM_HOST,                  /* host-visible, coherent: scalars, staging */
} SfMemKind;

typedef struct
{
  VkBuffer buffer;
  VkDeviceMemory memory;
  VkDeviceSize size;
  void *mapped;                 /* non-NULL when host-visible */
  VkDeviceSize allocated;       /* bytes of its memory, as counted in stats */
  /* its views for kernels that read it as a uniform texel buffer, made
   * on first use (sf_cmd_dispatch): R32F, RGBA32F */
  VkBufferView view[2];
} SfBuffer;

/* Size checks: a * b * c * 4 bytes, FALSE with SF_ERROR_TOO_LARGE on
 * overflow or past the device's storage-buffer limit. */
gboolean sf_size_floats (const SfDevice *dev, gsize a, gsize b, gsize c,
    VkDeviceSize *bytes, GError **error);

SfBuffer *sf_buffer_new (SfDevice *dev, VkDeviceSize size, SfMemKind kind,
    GError **error);
/* A device buffer of a x b x c floats, size-checked (sf_size_floats). */
SfBuffer *sf_buffer_new_floats (SfDevice *dev, gsize a, gsize b, gsize c,
    GError **error);
void sf_buffer_free (SfDevice *dev, SfBuffer *buf);
gboolean sf_buffer_upload (SfDevice *dev, SfBuffer *buf, VkDeviceSize offset,
    const void *data, VkDeviceSize size, GError **error);
gboolean sf_buffer_download (SfDevice *dev, SfBuffer *buf, VkDeviceSize offset,
    void *data, VkDeviceSize size, GError **error);

/* Command buffers: begin a one-time buffer, record, then submit and wait. */
gboolean sf_cmd_begin (SfDevice *dev, VkCommandBuffer *cb, GError **error);
gboolean sf_cmd_submit_wait (SfDevice *dev, VkCommandBuffer *cbs, guint n,
    gboolean free_after, GError **error);
void sf_cmd_free (SfDevice *dev, VkCommandBuffer cb);

/* stats.c: memory accounting (called by sf_buffer_new / sf_buffer_free)
 * and GPU timing of a submission when profiling is on.  sf_cmd_submit_wait
 * asks sf_stats_timing_begin for a command buffer to submit first (NULL:
 * not timed), calls sf_stats_timing_end on its last buffer before ending
 * it, and sf_stats_timing_collect after the fence (timed: whether the
 * submission ran with the head buffer). */
void sf_stats_mem_alloc (SfDevice *dev, VkDeviceSize bytes);
void sf_stats_mem_free (SfDevice *dev, VkDeviceSize bytes);
VkCommandBuffer sf_stats_timing_begin (SfDevice *dev);
void sf_stats_timing_end (SfDevice *dev, VkCommandBuffer last);
void sf_stats_timing_collect (SfDevice *dev, gboolean timed);
void sf_stats_destroy (SfDevice *dev);
/* Around each dispatch while kernel profiling is on (sf_cmd_dispatch). */
void sf_stats_kernel_begin (SfDevice *dev, VkCommandBuffer cb, SfKernelId k);
void sf_stats_kernel_end (SfDevice *dev, VkCommandBuffer cb);
/* The kernel's name (its shader's output name: "conv_fwd", ...). */
const char *sf_kernel_name (SfKernelId k);

/* Records kernel k over groups gx x gy x gz with the given buffers (whole
 * ranges) and push constants, then a barrier.  A grid past the device's
 * maxComputeWorkGroupCount fails with SF_ERROR_TOO_LARGE. */
gboolean sf_cmd_dispatch (SfDevice *dev, VkCommandBuffer cb, SfKernelId k,
    SfBuffer *const *bufs, guint n_bufs, const void *push, guint push_size,
    guint gx, guint gy, guint gz, GError **error);
void sf_cmd_barrier (VkCommandBuffer cb);
/* Kernel tx, a texel-buffer twin of id (SF_K_*_TX), where the device
 * reads through texel buffers (texel_reads) and every buffer tx reads
 * that way has at most maxTexelBufferElements texels; else id.  The
 * callers that have a twin ask, and size their grid for the answer. */
SfKernelId sf_kernel_choose (SfDevice *dev, SfKernelId id, SfKernelId tx,
    SfBuffer *const *bufs, guint n_bufs);

static inline guint
sf_div_up (guint64 a, guint b)
{
  return (guint) ((a + b - 1) / b);
}

/* A grid of `groups` workgroups (at least one) laid out in rows of at most
 * `row`, so that no dimension passes the 65535 many devices allow; the
 * shader numbers its workgroups gl_WorkGroupID.y * gl_NumWorkGroups.x +
 * gl_WorkGroupID.x and skips those past the end. */
static inline void
sf_grid_rows (guint64 groups, guint row, guint *gx, guint *gy)
{
  groups = MAX (groups, 1);
  *gx = (guint) MIN (groups, row);
  *gy = (guint) MIN ((groups + *gx - 1) / *gx, G_MAXUINT);
}

/* The kernel's pipeline, made on first use (gpu.c). */
gboolean sf_kernel_get (SfDevice *dev, SfKernelId k, SfKernel **out,
    GError **error);
void sf_kernels_destroy (SfDevice *dev);

G_END_DECLS
#endif /* SF_GPU_H */
