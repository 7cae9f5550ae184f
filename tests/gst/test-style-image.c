/* test-style-image.c - the style image library (gst/gststyleimage.c) on its
 * own, without the element: the built-in default style (The Scream,
 * embedded as a GResource) decodes to its size and colours, in-memory data
 * decodes to the same pixels as the file it came from, and data that is not
 * an image (or has no video) fails with GST_STREAM_ERROR_DECODE and a
 * message naming it, and a decoder stuck for ever still gives an error
 * after the timeout.
 *
 * GLib testing, TAP output (meson test stylefilter-test-style-image).  The
 * colour thresholds come from the image as jpegdec decodes it (mean R 114,
 * G 85, B 56; standard deviation R 68, G 37, B 27), with margins.
 */
#include <string.h>
#include <math.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "gststyleimage.h"

#define DEFAULT_WIDTH 302
#define DEFAULT_HEIGHT 384

/* The fuzz corpus, for a few seeds of known content. */
#define CORPUS "tests/gst/corpus-style"

/* A file of the source tree; free with g_free(). */
static gchar *
source_path (const gchar * dir, const gchar * name)
{
  const gchar *src = g_getenv ("STYLEFILTER_SOURCE_DIR");

  return g_build_filename (src ? src : ".", dir, name, NULL);
}

/* The whole file as bytes. */
static GBytes *
read_bytes (const gchar * dir, const gchar * name)
{
  gchar *path = source_path (dir, name);
  gchar *data = NULL;
  gsize len = 0;
  GError *err = NULL;

  g_file_get_contents (path, &data, &len, &err);
  g_assert_no_error (err);
  g_free (path);
  return g_bytes_new_take (data, len);
}

/* Per-channel mean and standard deviation over the whole image. */
static void
channel_stats (const GstStyleImage * image, gdouble mean[3], gdouble sd[3])
{
  gsize n = (gsize) image->width * image->height, i;
  gdouble sum[3] = { 0, 0, 0 }, sq[3] = { 0, 0, 0 };
  gint c;

  for (i = 0; i < n; i++)
    for (c = 0; c < 3; c++) {
      gdouble v = image->rgb[i * 3 + c];

      sum[c] += v;
      sq[c] += v * v;
    }
  for (c = 0; c < 3; c++) {
    mean[c] = sum[c] / n;
    sd[c] = sqrt (MAX (sq[c] / n - mean[c] * mean[c], 0.0));
  }
}

static void
assert_same_pixels (const GstStyleImage * a, const GstStyleImage * b)
{
  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  g_assert_true (memcmp (a->rgb, b->rgb,
          (gsize) a->width * a->height * 3) == 0);
}

static void
test_default_size (void)
{
  GError *err = NULL;
  GstStyleImage *image = gst_style_image_load_default (&err);

  g_assert_no_error (err);
  g_assert_nonnull (image);
  g_assert_nonnull (image->rgb);
  g_assert_cmpint (image->width, ==, DEFAULT_WIDTH);
  g_assert_cmpint (image->height, ==, DEFAULT_HEIGHT);
  gst_style_image_free (image);
}

/* The Scream: an orange and red sky over dark blue water, so red well above
 * blue on average, and far from flat. */
static void
test_default_colours (void)
{
  GError *err = NULL;
  GstStyleImage *image = gst_style_image_load_default (&err);
  gdouble mean[3], sd[3];

  g_assert_no_error (err);
  channel_stats (image, mean, sd);
  g_test_message ("mean R %.2f G %.2f B %.2f, sd R %.2f G %.2f B %.2f",
      mean[0], mean[1], mean[2], sd[0], sd[1], sd[2]);
  g_assert_cmpfloat (mean[0], >, mean[1] + 15);
  g_assert_cmpfloat (mean[1], >, mean[2] + 15);
  g_assert_cmpfloat (mean[0], >, mean[2] + 40);
  g_assert_cmpfloat_with_epsilon (mean[0], 114.2, 6.0);
  g_assert_cmpfloat_with_epsilon (mean[1], 84.6, 6.0);
  g_assert_cmpfloat_with_epsilon (mean[2], 55.6, 6.0);
  g_assert_cmpfloat (sd[0], >, 55);
  g_assert_cmpfloat (sd[1], >, 28);
  g_assert_cmpfloat (sd[2], >, 20);
  gst_style_image_free (image);
}

/* The embedded copy is the committed gst/default-style.jpg, decoded the
 * same way as a file, and decoding is deterministic. */
static void
test_default_is_the_file (void)
{
  GError *err = NULL;
  gchar *path = source_path ("gst", "default-style.jpg");
  GstStyleImage *file = gst_style_image_load (path, &err);
  GstStyleImage *embedded, *again;

  g_assert_no_error (err);
  embedded = gst_style_image_load_default (&err);
  g_assert_no_error (err);
  again = gst_style_image_load_default (&err);
  g_assert_no_error (err);
  assert_same_pixels (file, embedded);
  assert_same_pixels (embedded, again);
  gst_style_image_free (file);
  gst_style_image_free (embedded);
  gst_style_image_free (again);
  g_free (path);
}

/* appsrc with the file's bytes gives what filesrc with the file gives. */
static void
test_bytes_same_as_file (void)
{
  GError *err = NULL;
  gchar *path = source_path ("examples", "scream.jpg");
  GBytes *bytes = read_bytes ("examples", "scream.jpg");
  GstStyleImage *file = gst_style_image_load (path, &err);
  GstStyleImage *mem;

  g_assert_no_error (err);
  mem = gst_style_image_load_bytes (bytes, "scream.jpg in memory", &err);
  g_assert_no_error (err);
  g_assert_cmpint (mem->width, ==, 352);
  g_assert_cmpint (mem->height, ==, 448);
  assert_same_pixels (file, mem);
  gst_style_image_free (file);
  gst_style_image_free (mem);
  g_bytes_unref (bytes);
  g_free (path);
}

/* Asserts that @bytes fails with GST_STREAM_ERROR_DECODE and a message
 * that names @what. */
static void
assert_decode_error (GBytes * bytes, const gchar * what)
{
  GError *err = NULL;
  GstStyleImage *image = gst_style_image_load_bytes (bytes, what, &err);

  g_assert_null (image);
  g_assert_error (err, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE);
  g_test_message ("%s: %s", what, err->message);
  g_assert_nonnull (strstr (err->message, what));
  g_clear_error (&err);
}

static void
test_bytes_garbage (void)
{
  guint8 data[4096];
  GBytes *bytes;
  guint32 x = 12345;
  gsize i;

  for (i = 0; i < sizeof (data); i++) {
    x = x * 1664525u + 1013904223u;
    data[i] = x >> 24;
  }
  bytes = g_bytes_new (data, sizeof (data));
  assert_decode_error (bytes, "random bytes");
  g_bytes_unref (bytes);

  bytes = g_bytes_new_static ("This is not an image.\n", 22);
  assert_decode_error (bytes, "a line of text");
  g_bytes_unref (bytes);
}

static void
test_bytes_empty (void)
{
  GBytes *bytes = g_bytes_new (NULL, 0);

  assert_decode_error (bytes, "no data");
  g_bytes_unref (bytes);
}

/* The first @len bytes of the default style's JPEG. */
static GBytes *
default_prefix (gsize len)
{
  GBytes *all = read_bytes ("gst", "default-style.jpg");
  GBytes *part;

  g_assert_cmpuint (len, <=, g_bytes_get_size (all));
  part = g_bytes_new_from_bytes (all, 0, len);
  g_bytes_unref (all);
  return part;
}

/* A JPEG cut before its image data: the SOI marker only, and the headers
 * without the scan. */
static void
test_bytes_truncated (void)
{
  GBytes *all = read_bytes ("gst", "default-style.jpg");
  const guint8 *p = g_bytes_get_data (all, NULL);
  gsize size = g_bytes_get_size (all), sos = 0, i;
  GBytes *part;

  /* the start of scan marker, FF DA */
  for (i = 2; i + 1 < size && sos == 0; i++)
    if (p[i] == 0xff && p[i + 1] == 0xda)
      sos = i;
  g_assert_cmpuint (sos, >, 0);
  g_bytes_unref (all);

  part = default_prefix (2);
  assert_decode_error (part, "a JPEG start marker only");
  g_bytes_unref (part);

  part = default_prefix (sos);
  assert_decode_error (part, "JPEG headers without a scan");
  g_bytes_unref (part);
}

/* A stream with no video fails at once, from memory and from a file (it
 * used to wait for the 30 s timeout when pushed by appsrc). */
static void
test_audio_only (void)
{
  GBytes *bytes = read_bytes (CORPUS, "bad-audio.wav");
  gchar *path = source_path (CORPUS, "bad-audio.wav");
  gint64 t0 = g_get_monotonic_time ();
  GError *err = NULL;

  assert_decode_error (bytes, "a WAV file");
  g_assert_null (gst_style_image_load (path, &err));
  g_assert_error (err, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE);
  g_assert_nonnull (strstr (err->message, "no video stream"));
  g_clear_error (&err);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 10 * G_USEC_PER_SEC);
  g_bytes_unref (bytes);
  g_free (path);
}

/* Theora with Vorbis: the video decodes, the audio stream does not get in
 * the way; memory and file agree. */
static void
test_audio_and_video (void)
{
  GBytes *bytes = read_bytes (CORPUS, "ok-audio-video.ogv");
  gchar *path = source_path (CORPUS, "ok-audio-video.ogv");
  GError *err = NULL;
  GstStyleImage *mem, *file;

  mem = gst_style_image_load_bytes (bytes, "an Ogg file", &err);
  g_assert_no_error (err);
  file = gst_style_image_load (path, &err);
  g_assert_no_error (err);
  g_assert_cmpint (mem->width, ==, 16);
  g_assert_cmpint (mem->height, ==, 16);
  assert_same_pixels (mem, file);
  gst_style_image_free (mem);
  gst_style_image_free (file);
  g_bytes_unref (bytes);
  g_free (path);
}

/* A decoder that never finishes: jpegdec (GStreamer 1.22) spins for ever
 * in its parser on a JPEG whose first start marker is followed by another
 * one (FF D8 FF D8), holding its stream lock.  The call must still fail in
 * time, from memory and from a file; with a 1 s timeout here.  Run in a
 * subprocess, which takes the spinning threads with it when it exits. */
static void
test_stuck_decoder (void)
{
  static const guint8 soi_soi[] = { 0xff, 0xd8, 0xff, 0xd8, 'A', ' ', 'A',
    ' '
  };

  if (g_test_subprocess ()) {
    GBytes *bytes = g_bytes_new_static (soi_soi, sizeof (soi_soi));
    gchar *path = NULL;
    gint fd = g_file_open_tmp ("style-image-XXXXXX.jpg", &path, NULL);
    gint64 t0 = g_get_monotonic_time ();
    GError *err = NULL;

    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (write (fd, soi_soi, sizeof (soi_soi)), ==,
        sizeof (soi_soi));
    close (fd);
    gst_style_image_set_timeout (GST_SECOND);

    g_assert_null (gst_style_image_load_bytes (bytes, "FF D8 FF D8", &err));
    g_assert_error (err, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE);
    g_assert_nonnull (strstr (err->message, "took more than"));
    g_clear_error (&err);
    g_assert_null (gst_style_image_load (path, &err));
    g_assert_error (err, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE);
    g_assert_nonnull (strstr (err->message, "took more than"));
    g_clear_error (&err);
    g_assert_cmpint (g_get_monotonic_time () - t0, <, 10 * G_USEC_PER_SEC);
    /* both pipelines are still stuck, each in a thread of its own */
    g_assert_cmpuint (gst_style_image_get_n_stuck (), ==, 2);

    gst_style_image_set_timeout (0);
    g_unlink (path);
    g_free (path);
    g_bytes_unref (bytes);
    return;
  }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Without a name the messages say "the image data". */
static void
test_bytes_no_name (void)
{
  GBytes *bytes = g_bytes_new_static ("nothing", 7);
  GError *err = NULL;

  g_assert_null (gst_style_image_load_bytes (bytes, NULL, &err));
  g_assert_error (err, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE);
  g_assert_nonnull (strstr (err->message, "the image data"));
  g_clear_error (&err);
  g_bytes_unref (bytes);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/style-image/default/size", test_default_size);
  g_test_add_func ("/style-image/default/colours", test_default_colours);
  g_test_add_func ("/style-image/default/is-the-file",
      test_default_is_the_file);
  g_test_add_func ("/style-image/bytes/same-as-file", test_bytes_same_as_file);
  g_test_add_func ("/style-image/bytes/garbage", test_bytes_garbage);
  g_test_add_func ("/style-image/bytes/empty", test_bytes_empty);
  g_test_add_func ("/style-image/bytes/truncated", test_bytes_truncated);
  g_test_add_func ("/style-image/bytes/no-name", test_bytes_no_name);
  g_test_add_func ("/style-image/audio-only", test_audio_only);
  g_test_add_func ("/style-image/audio-and-video", test_audio_and_video);
  g_test_add_func ("/style-image/stuck-decoder", test_stuck_decoder);
  return g_test_run ();
}
