/* sf-error.h - the engine's error domain and Vulkan error helpers.
 *
 * Errors are logged where they arise (file, line, VkResult) and returned to
 * the caller as a GError; nothing here aborts.
 */
#ifndef SF_ERROR_H
#define SF_ERROR_H

#include <glib.h>
#include <vulkan/vulkan.h>

G_BEGIN_DECLS

#define SF_ERROR (sf_error_quark ())

typedef enum
{
  SF_ERROR_NO_VULKAN,           /* no Vulkan loader or instance */
  SF_ERROR_NO_DEVICE,           /* no device, or the selector matched none */
  SF_ERROR_OUT_OF_MEMORY,       /* host or device memory; says how much */
  SF_ERROR_DEVICE_LOST,
  SF_ERROR_VULKAN,              /* any other Vulkan failure */
  SF_ERROR_INVALID,             /* bad argument: size, format, state */
  SF_ERROR_TOO_LARGE,           /* size beyond what the device can hold */
  SF_ERROR_CANCELLED,           /* the stylizer's cancel flag was raised */
} SfErrorCode;

GQuark sf_error_quark (void);

const char *sf_vk_result_string (VkResult r);

/* Sets *error from a failed VkResult: out-of-memory results become
 * SF_ERROR_OUT_OF_MEMORY, VK_ERROR_DEVICE_LOST SF_ERROR_DEVICE_LOST, the
 * rest SF_ERROR_VULKAN; logs file, line and the result.  Returns FALSE. */
gboolean sf_vk_fail (GError **error, VkResult r, const char *file, int line,
    const char *what);

#define SF_VK_CHECK(call, error, what) \
  G_STMT_START { \
    VkResult _r = (call); \
    if (_r != VK_SUCCESS) \
      return sf_vk_fail ((error), _r, __FILE__, __LINE__, (what)); \
  } G_STMT_END

G_END_DECLS
#endif /* SF_ERROR_H */
