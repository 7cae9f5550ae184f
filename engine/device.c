/* device.c - Vulkan instance and device: selection, feature detection, and
 * the borrowed mode.
 *
 * Selection order without a selector: discrete GPU, integrated GPU, virtual
 * GPU, CPU (lavapipe), other; a selector (argument or STYLEFILTER_DEVICE)
 * picks by index or by a case-insensitive substring of the name.  The engine
 * needs Vulkan 1.1, a compute queue and VK_KHR_push_descriptor; it records
 * fp16 storage/arithmetic, the subgroup size and VK_NV_cooperative_matrix
 * for the faster paths that only some devices have.
 */
#include <string.h>
#include <stdlib.h>

#include "gpu.h"

static const char *
device_type_name (VkPhysicalDeviceType t)
{
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return "CPU";
    default:
      return "other";
  }
}

static int
device_type_rank (VkPhysicalDeviceType t)
{
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return 3;
    default:
      return 4;
  }
}

static gboolean
create_instance (VkInstance *out, GError **error)
{
  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "gst-stylefilter",
    .pEngineName = "sfengine",
    .apiVersion = VK_API_VERSION_1_1,
  };
  VkInstanceCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    .pApplicationInfo = &app,
  };
  VkResult r = vkCreateInstance (&ci, NULL, out);

  if (r == VK_ERROR_INCOMPATIBLE_DRIVER || r == VK_ERROR_INITIALIZATION_FAILED) {
    g_set_error (error, SF_ERROR, SF_ERROR_NO_VULKAN,
        "No Vulkan driver found (vkCreateInstance: %s). Install a Vulkan "
        "driver for your GPU, or mesa-vulkan-drivers for a CPU device "
        "(lavapipe)", sf_vk_result_string (r));
    return FALSE;
  }
  SF_VK_CHECK (r, error, "vkCreateInstance");
  return TRUE;
}

static gboolean
enumerate (VkInstance inst, VkPhysicalDevice ** devs, uint32_t * n,
    GError ** error)
{
  SF_VK_CHECK (vkEnumeratePhysicalDevices (inst, n, NULL), error,
      "vkEnumeratePhysicalDevices");
  *devs = g_new0 (VkPhysicalDevice, MAX (*n, 1));
  if (*n == 0)
    return TRUE;
  VkResult r = vkEnumeratePhysicalDevices (inst, n, *devs);
  if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
    g_clear_pointer (devs, g_free);
    return sf_vk_fail (error, r, __FILE__, __LINE__,
        "vkEnumeratePhysicalDevices");
  }
  return TRUE;
}

static gboolean
has_extension (VkPhysicalDevice pd, const char *name)
{
  uint32_t n = 0;
  gboolean found = FALSE;

  if (vkEnumerateDeviceExtensionProperties (pd, NULL, &n, NULL) != VK_SUCCESS)
    return FALSE;
  VkExtensionProperties *ext = g_new0 (VkExtensionProperties, MAX (n, 1));
  if (vkEnumerateDeviceExtensionProperties (pd, NULL, &n, ext) == VK_SUCCESS)
    for (uint32_t i = 0; i < n && !found; i++)
      found = strcmp (ext[i].extensionName, name) == 0;
  g_free (ext);
  return found;
}

static int
compute_queue_family (VkPhysicalDevice pd)
{
  uint32_t n = 0;
  int best = -1;

  vkGetPhysicalDeviceQueueFamilyProperties (pd, &n, NULL);
  VkQueueFamilyProperties *q = g_new0 (VkQueueFamilyProperties, MAX (n, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (pd, &n, q);
  for (uint32_t i = 0; i < n; i++) {
    if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT))
      continue;
    /* prefer a compute family without graphics (async compute), then any */
    if (best < 0 || !(q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
      best = (int) i;
  }
  g_free (q);
  return best;
}

static gboolean
usable (VkPhysicalDevice pd)
{
  VkPhysicalDeviceProperties p;

  vkGetPhysicalDeviceProperties (pd, &p);
  return p.apiVersion >= VK_API_VERSION_1_1 && compute_queue_family (pd) >= 0
      && has_extension (pd, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
}

char *
sf_device_list (GError **error)
{
  VkInstance inst;
  VkPhysicalDevice *devs = NULL;
  uint32_t n = 0;

  if (!create_instance (&inst, error))
    return NULL;
  if (!enumerate (inst, &devs, &n, error)) {
    vkDestroyInstance (inst, NULL);
    return NULL;
  }
  GString *s = g_string_new (NULL);
  for (uint32_t i = 0; i < n; i++) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties (devs[i], &p);
    g_string_append_printf (s, "%u: %s (%s)%s\n", i, p.deviceName,
        device_type_name (p.deviceType), usable (devs[i]) ? "" : " [unusable]");
  }
  g_free (devs);
  vkDestroyInstance (inst, NULL);
  return g_string_free (s, FALSE);
}

static int
pick (VkPhysicalDevice * devs, uint32_t n, const char *selector)
{
  int best = -1, best_rank = 1000;

  if (selector && *selector) {
    char *end = NULL;
    long idx = strtol (selector, &end, 10);
    if (end && *end == '\0' && end != selector)
      return (idx >= 0 && idx < (long) n && usable (devs[idx])) ? (int) idx : -1;
    char *want = g_utf8_casefold (selector, -1);
    for (uint32_t i = 0; i < n && best < 0; i++) {
      VkPhysicalDeviceProperties p;
      vkGetPhysicalDeviceProperties (devs[i], &p);
      char *have = g_utf8_casefold (p.deviceName, -1);
      if (strstr (have, want) && usable (devs[i]))
        best = (int) i;
      g_free (have);
    }
    g_free (want);
    return best;
  }
  for (uint32_t i = 0; i < n; i++) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties (devs[i], &p);
    int rank = device_type_rank (p.deviceType);
    if (rank < best_rank && usable (devs[i])) {
      best = (int) i;
      best_rank = rank;
    }
  }
  return best;
}

/* Whether format can back a uniform texel buffer on pd. */
static gboolean
texel_format_ok (VkPhysicalDevice pd, VkFormat format)
{
  VkFormatProperties fp;

  vkGetPhysicalDeviceFormatProperties (pd, format, &fp);
  return (fp.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT) != 0;
}

static void
detect_features (SfDevice * dev)
{
  VkPhysicalDeviceShaderFloat16Int8Features f16 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
  };
  VkPhysicalDeviceFeatures2 f2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
    .pNext = &f16,
  };
  VkPhysicalDeviceSubgroupProperties sg = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
  };
  VkPhysicalDeviceProperties2 p2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
    .pNext = &sg,
  };

  vkGetPhysicalDeviceFeatures2 (dev->phys, &f2);
  vkGetPhysicalDeviceProperties2 (dev->phys, &p2);
  dev->features.is_cpu = dev->props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
  /* fp16_storage is what create_logical enabled; a borrowed device's
   * enabled features are unknown, so it stays FALSE there */
  dev->features.fp16_arithmetic = f16.shaderFloat16;
  dev->features.subgroup_size = sg.subgroupSize;
  dev->features.coopmat_nv = has_extension (dev->phys,
      "VK_NV_cooperative_matrix");
  dev->features.max_buffer_size = dev->props.limits.maxStorageBufferRange;
  dev->texel_reads = dev->features.is_cpu
      && texel_format_ok (dev->phys, VK_FORMAT_R32_SFLOAT)
      && texel_format_ok (dev->phys, VK_FORMAT_R32G32B32A32_SFLOAT);
}

static gboolean
create_logical (SfDevice * dev, GError ** error)
{
  const float prio = 1.0f;
  VkDeviceQueueCreateInfo qci = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = dev->queue_family,
    .queueCount = 1,
    .pQueuePriorities = &prio,
  };
  const char *exts[] = { VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME };
  /* 16-bit storage (core in Vulkan 1.1) where the device has it: the fp16
   * activation path (net.c) needs storageBuffer16BitAccess */
  VkPhysicalDevice16BitStorageFeatures s16 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
  };
  VkPhysicalDeviceFeatures2 f2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
    .pNext = &s16,
  };
  vkGetPhysicalDeviceFeatures2 (dev->phys, &f2);
  s16.uniformAndStorageBuffer16BitAccess = VK_FALSE;
  s16.storagePushConstant16 = VK_FALSE;
  s16.storageInputOutput16 = VK_FALSE;
  dev->features.fp16_storage = s16.storageBuffer16BitAccess;
  VkDeviceCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .pNext = s16.storageBuffer16BitAccess ? &s16 : NULL,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &qci,
    .enabledExtensionCount = G_N_ELEMENTS (exts),
    .ppEnabledExtensionNames = exts,
  };

  SF_VK_CHECK (vkCreateDevice (dev->phys, &ci, NULL, &dev->device), error,
      "vkCreateDevice");
  vkGetDeviceQueue (dev->device, dev->queue_family, 0, &dev->queue);
  return TRUE;
}

/* Everything after the VkDevice exists: properties, pool, fence. */
static gboolean
finish_setup (SfDevice * dev, GError ** error)
{
  vkGetPhysicalDeviceProperties (dev->phys, &dev->props);
  vkGetPhysicalDeviceMemoryProperties (dev->phys, &dev->mem_props);
  dev->name = g_strdup (dev->props.deviceName);
  detect_features (dev);

  dev->push_descriptor = (PFN_vkCmdPushDescriptorSetKHR)
      vkGetDeviceProcAddr (dev->device, "vkCmdPushDescriptorSetKHR");
  if (!dev->push_descriptor) {
    g_set_error (error, SF_ERROR, SF_ERROR_NO_DEVICE,
        "Vulkan device %s lacks VK_KHR_push_descriptor", dev->name);
    return FALSE;
  }
  VkCommandPoolCreateInfo pci = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
    .queueFamilyIndex = dev->queue_family,
  };
  SF_VK_CHECK (vkCreateCommandPool (dev->device, &pci, NULL, &dev->pool),
      error, "vkCreateCommandPool");
  VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
  SF_VK_CHECK (vkCreateFence (dev->device, &fci, NULL, &dev->fence), error,
      "vkCreateFence");
  g_debug ("device %s: cpu %d fp16 storage %d arithmetic %d subgroup %u "
      "coopmat_nv %d", dev->name, dev->features.is_cpu,
      dev->features.fp16_storage, dev->features.fp16_arithmetic,
      dev->features.subgroup_size, dev->features.coopmat_nv);
  return TRUE;
}

const char *
sf_device_selector_from_env (const char *selector)
{
  return selector && *selector ? selector : g_getenv ("STYLEFILTER_DEVICE");
}

SfDevice *
sf_device_new (const char *selector, GError **error)
{
  SfDevice *dev = g_new0 (SfDevice, 1);
  VkPhysicalDevice *devs = NULL;
  uint32_t n = 0;

  dev->owned = TRUE;
  if (!create_instance (&dev->instance, error))
    goto fail;
  if (!enumerate (dev->instance, &devs, &n, error))
    goto fail;
  if (n == 0) {
    g_set_error (error, SF_ERROR, SF_ERROR_NO_DEVICE,
        "No Vulkan device found. Install a Vulkan driver for your GPU, or "
        "mesa-vulkan-drivers for a CPU device (lavapipe)");
    goto fail;
  }
  int i = pick (devs, n, selector);
  if (i < 0) {
    char *list = sf_device_list (NULL);
    if (selector && *selector)
      g_set_error (error, SF_ERROR, SF_ERROR_NO_DEVICE,
          "No usable Vulkan device matches \"%s\" (devices: %s)", selector,
          list ? g_strchomp (list) : "?");
    else
      g_set_error (error, SF_ERROR, SF_ERROR_NO_DEVICE,
          "No usable Vulkan device (needs Vulkan 1.1, a compute queue and "
          "VK_KHR_push_descriptor; devices: %s). mesa-vulkan-drivers gives "
          "a CPU device (lavapipe)", list ? g_strchomp (list) : "?");
    g_free (list);
    goto fail;
  }
  dev->phys = devs[i];
  dev->queue_family = (uint32_t) compute_queue_family (dev->phys);
  g_clear_pointer (&devs, g_free);
  if (!create_logical (dev, error) || !finish_setup (dev, error))
    goto fail;
  return dev;

fail:
  g_free (devs);
  sf_device_free (dev);
  return NULL;
}

SfDevice *
sf_device_new_borrowed (VkInstance instance, VkPhysicalDevice physical_device,
    VkDevice device, VkQueue queue, uint32_t queue_family, GError **error)
{
  SfDevice *dev = g_new0 (SfDevice, 1);

  g_return_val_if_fail (instance && physical_device && device && queue, NULL);
  dev->owned = FALSE;
  dev->instance = instance;
  dev->phys = physical_device;
  dev->device = device;
  dev->queue = queue;
  dev->queue_family = queue_family;
  if (!finish_setup (dev, error)) {
    sf_device_free (dev);
    return NULL;
  }
  return dev;
}

const char *
sf_device_get_name (const SfDevice *dev)
{
  return dev->name;
}

const SfDeviceFeatures *
sf_device_get_features (const SfDevice *dev)
{
  return &dev->features;
}

void
sf_device_free (SfDevice *dev)
{
  if (!dev)
    return;
  if (dev->device) {
    vkDeviceWaitIdle (dev->device);
    sf_kernels_destroy (dev);
    sf_stats_destroy (dev);
    if (dev->fence)
      vkDestroyFence (dev->device, dev->fence, NULL);
    if (dev->pool)
      vkDestroyCommandPool (dev->device, dev->pool, NULL);
    if (dev->owned)
      vkDestroyDevice (dev->device, NULL);
  }
  if (dev->owned && dev->instance)
    vkDestroyInstance (dev->instance, NULL);
  g_free (dev->name);
  g_free (dev);
}
