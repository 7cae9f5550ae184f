/* error.c - the engine's GError domain and Vulkan result reporting.
 *
 * Every failed Vulkan call goes through sf_vk_fail(), which logs where it
 * happened and turns the VkResult into an SF_ERROR code that callers (the
 * element, the examples) can map to a message a user can act on.
 */
#include "sf-error.h"

G_DEFINE_QUARK (sf-engine-error-quark, sf_error)

const char *
sf_vk_result_string (VkResult r)
{
  switch (r) {
#define R(x) case x: return #x
    R (VK_SUCCESS);
    R (VK_NOT_READY);
    R (VK_TIMEOUT);
    R (VK_INCOMPLETE);
    R (VK_ERROR_OUT_OF_HOST_MEMORY);
    R (VK_ERROR_OUT_OF_DEVICE_MEMORY);
    R (VK_ERROR_INITIALIZATION_FAILED);
    R (VK_ERROR_DEVICE_LOST);
    R (VK_ERROR_MEMORY_MAP_FAILED);
    R (VK_ERROR_LAYER_NOT_PRESENT);
    R (VK_ERROR_EXTENSION_NOT_PRESENT);
    R (VK_ERROR_FEATURE_NOT_PRESENT);
    R (VK_ERROR_INCOMPATIBLE_DRIVER);
    R (VK_ERROR_TOO_MANY_OBJECTS);
    R (VK_ERROR_FORMAT_NOT_SUPPORTED);
    R (VK_ERROR_FRAGMENTED_POOL);
    R (VK_ERROR_OUT_OF_POOL_MEMORY);
#undef R
    default:
      return "VK_ERROR_UNKNOWN";
  }
}

gboolean
sf_vk_fail (GError **error, VkResult r, const char *file, int line,
    const char *what)
{
  SfErrorCode code = SF_ERROR_VULKAN;
  const char *hint = "";

  if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
    code = SF_ERROR_OUT_OF_MEMORY;
    hint = " (out of memory: try a smaller processing size)";
  } else if (r == VK_ERROR_DEVICE_LOST) {
    code = SF_ERROR_DEVICE_LOST;
    hint = " (the GPU stopped answering; its driver reset it)";
  } else if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
    code = SF_ERROR_NO_VULKAN;
    hint = " (no usable Vulkan driver; install mesa-vulkan-drivers for a CPU device)";
  }
  g_debug ("%s:%d: %s failed: %s (%d)", file, line, what,
      sf_vk_result_string (r), (int) r);
  g_set_error (error, SF_ERROR, code, "%s failed: %s%s", what,
      sf_vk_result_string (r), hint);
  return FALSE;
}
