/* test-device.c - device selection, features and the error paths a user
 * meets: no Vulkan driver at all, a selector that matches nothing, out of
 * memory (the message gives the size), a size beyond the device's buffer
 * limit; and the borrowed-device mode. */
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/device/auto", test_auto);
  g_test_add_func ("/device/select", test_select);
  g_test_add_func ("/device/no-driver", test_no_driver);
  g_test_add_func ("/device/out-of-memory", test_out_of_memory);
  g_test_add_func ("/device/borrowed", test_borrowed);
  return g_test_run ();
}
