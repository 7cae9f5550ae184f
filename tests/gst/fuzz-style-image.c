/* fuzz-style-image.c - a fuzz target for the style-image path:
 * gst_style_image_load_bytes() (gst/gststyleimage.c), that is appsrc !
 * decodebin ! videoconvert ! videoscale ! RGB ! appsink on arbitrary bytes.
 *
 * The contract checked on every input: either an image with width and
 * height > 0 and pixels, or a GST_STREAM_ERROR_DECODE error with a
 * non-empty message; never a crash, a critical (the tests run with
 * G_DEBUG=fatal-criticals), a hang, or an error and an image at once.
 *
 * Two ways to run it:
 *
 * - as a libFuzzer target: LLVMFuzzerTestOneInput() aborts on a broken
 *   contract.  Build with clang, e.g.
 *     clang -g -fsanitize=fuzzer,address -DFUZZ_STYLE_IMAGE_LIBFUZZER \
 *       -Igst tests/gst/fuzz-style-image.c gst/gststyleimage.c \
 *       <build>/gst/gststyleimage-resources.c -I<build>/gst \
 *       $(pkg-config --cflags --libs gstreamer-app-1.0 gstreamer-video-1.0 \
 *         gio-2.0) -lm
 *   and run it on a copy of tests/gst/corpus-style.
 *
 * - standalone (this file's main(), meson test fuzz-style-image):
 *     fuzz-style-image [--mutate N] [--seed S] [--only I] [--save FILE]
 *       [--max-time SEC] [--timeout SEC] [--decode-timeout SEC]
 *       [--memory-limit-mb M] [--verbose] [CORPUS_DIR | FILE...]
 *   replays the corpus (default $STYLEFILTER_SOURCE_DIR/tests/gst/
 *   corpus-style), then runs N mutations drawn deterministically from
 *   seed S (or as many as --max-time allows): iteration i picks a corpus
 *   file (three times in four one named ok-*, never a gstbug-* one) and
 *   applies 1 to 4 of bit flips, interesting byte and 16-bit values,
 *   truncation, random inserts, chunk duplication and chunk deletion.
 *   --only I runs iteration I alone and --save writes its input, to
 *   reproduce a failure.  Corpus files named ok-* must decode
 *   and bad-* must be rejected; others may do either.
 *
 *   Output is TAP: one point per corpus file and per 100 mutations, plus a
 *   "# TODO" point for the first input that hits each known GStreamer bug
 *   (fuzz_known_bugs), the plan at the end, then the line
 *   "fuzz-style-image: N inputs, M decoded, K rejected".  On a crash, or
 *   a call that does not return within --timeout (60 s), the input is
 *   written to fuzz-style-image-crash.bin (or --save FILE) first.  A
 *   decode that times out in the library (30 s, or --decode-timeout) is a
 *   failure unless a thread is left stuck in a GStreamer element, see
 *   fuzz_known_bugs.  The address space is limited to
 *   --memory-limit-mb (4096 by default; 0 for none, which AddressSanitizer
 *   needs) so that an input that makes a decoder allocate gigabytes fails
 *   here instead of eating the machine.
 *
 * The corpus, tests/gst/corpus-style (each file under 8 KB): ok-* decode
 * (baseline, progressive, 4:4:4 and grey JPEG; RGB, palette, grey+alpha,
 * 1-bit and 16-bit PNG; Theora, Theora+Vorbis, VP8 WebM); bad-* do not
 * (empty, text, subtitles, audio only, a JPEG start marker only, JPEG
 * headers without a scan, a PNG signature only); the rest depend on the
 * installation (BMP, GIF, TIFF, WebP: no decoder here; CMYK JPEG: jpegdec
 * refuses it; mjpeg.avi: avidemux cannot take a whole small AVI in one
 * buffer) or are truncated files; gstbug-* are the inputs that found
 * fuzz_known_bugs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gst/gst.h>

#include "gststyleimage.h"

/* What one input did. */
typedef enum
{
  FUZZ_DECODED,
  FUZZ_REJECTED,
  FUZZ_BROKEN,                  /* the contract does not hold */
  FUZZ_SKIPPED,                 /* a known GStreamer hang: not decoded */
  FUZZ_STUCK,                   /* the call timed out and a thread is stuck
                                 * inside a GStreamer element */
} FuzzResult;

/* The largest input a mutation makes. */
#define FUZZ_MAX_SIZE (64 * 1024)
/* A run stops at this many threads stuck in GStreamer elements: each
 * spins or waits until the process exits. */
#define FUZZ_MAX_STUCK 3
/* Mutations per TAP point. */
#define FUZZ_BATCH 100

/* jpegdec (1.22) spins for ever in its parser when the first start of
 * image marker is directly followed by another one: "SOI marker before EOI
 * marker" ends a frame of 0 bytes, the adapter is not flushed, and the
 * same data is parsed again, holding the stream lock.  Matched loosely: a
 * JPEG (FF D8 FF at the start, as the typefinder wants) with FF D8 FF D8
 * anywhere. */
static gboolean
fuzz_is_jpegdec_soi_loop (const guint8 * data, gsize size)
{
  static const guint8 soi_soi[] = { 0xff, 0xd8, 0xff, 0xd8 };
  gsize i;

  if (size < 8 || data[0] != 0xff || data[1] != 0xd8 || data[2] != 0xff)
    return FALSE;
  for (i = 0; i + sizeof (soi_soi) <= size; i++)
    if (memcmp (data + i, soi_soi, sizeof (soi_soi)) == 0)
      return TRUE;
  return FALSE;
}

/* jpegdec (1.22) loops for ever in gst_jpeg_dec_decode_grayscale() when
 * libjpeg suspends, jpeg_read_raw_data() returning 0 each time: a grey
 * JPEG that ends one or two bytes short of the end of its start of scan
 * segment (shorter cuts are rejected).  Matched as: a JPEG with a
 * one-component frame header (SOF0 to SOF2) whose last start of scan
 * segment lacks its last one or two bytes (a mutation can match that and
 * fail for another reason: it is not decoded either). */
static gboolean
fuzz_is_jpegdec_gray_sos (const guint8 * data, gsize size)
{
  gsize i, sof = 0, sos = 0, end;

  if (size < 8 || data[0] != 0xff || data[1] != 0xd8 || data[2] != 0xff)
    return FALSE;
  for (i = 2; i + 1 < size; i++) {
    if (data[i] != 0xff)
      continue;
    if (sof == 0 && data[i + 1] >= 0xc0 && data[i + 1] <= 0xc2)
      sof = i;
    if (data[i + 1] == 0xda)
      sos = i;
  }
  if (sof == 0 || sof + 9 >= size || data[sof + 9] != 1 || sos == 0 ||
      sos + 4 > size)
    return FALSE;
  end = sos + 2 + ((gsize) data[sos + 2] << 8 | data[sos + 3]);
  return size < end && size + 2 >= end;
}

/* GStreamer bugs found by this fuzzer, reported as TAP "# TODO" points (the
 * first input that hits each) and counted; everything else that goes wrong
 * fails the run.  Two kinds:
 * - a critical, by its log domain and exact text: it does not abort the
 *   run even under G_DEBUG=fatal-criticals (g_test_log_set_fatal_handler())
 *   and the result of the call is checked as usual;
 * - a hang, by the inputs that cause it: those are not decoded, as each
 *   would leave a thread spinning until the process exits (the library
 *   itself returns after its timeout, see test-style-image's
 *   /style-image/stuck-decoder).
 * A hang not in the list is told apart by the library: when its decode
 * times out and the abandoned pipeline does not come down
 * (gst_style_image_get_n_stuck()), a thread is stuck inside an element;
 * that is reported as a TODO point too, with its input written out, and a
 * run stops at FUZZ_MAX_STUCK of them.  A timeout with nothing stuck
 * means the pipeline waited for nothing: that is a bug of ours, a
 * failure. */
typedef struct
{
  const gchar *domain;
  const gchar *message;
  gboolean (*input) (const guint8 * data, gsize size);
  const gchar *what;
} FuzzKnownBug;

static const FuzzKnownBug fuzz_known_bugs[] = {
  {"GStreamer", "gst_element_message_full_with_details: assertion "
        "'GST_IS_ELEMENT (element)' failed", NULL,
      "a plugin passes a non-element to GST_ELEMENT_ERROR: matroskademux "
        "(1.22) its GstMatroskaReadCommon, when an EBML DocType is neither "
        "matroska nor webm or its version is above 2 "
        "(matroska-read-common.c, gst_matroska_read_common_parse_header)"},
  {NULL, NULL, fuzz_is_jpegdec_soi_loop,
      "jpegdec (1.22) spins for ever in gst_jpeg_dec_parse() on FF D8 "
        "FF D8 (a start of image marker right after the first one)"},
  {NULL, NULL, fuzz_is_jpegdec_gray_sos,
      "jpegdec (1.22) spins for ever in gst_jpeg_dec_decode_grayscale() "
        "when libjpeg suspends (a grey JPEG cut inside its start of scan "
        "segment)"},
};

/* The known bug the current input hit, -1 for none. */
static gint fuzz_known_bug = -1;

/* The input being decoded, for the crash handler. */
static const guint8 *volatile fuzz_current_data;
static volatile gsize fuzz_current_size;
static const gchar *fuzz_artifact = "fuzz-style-image-crash.bin";

/* Lets the criticals of fuzz_known_bugs through (returns FALSE: not
 * fatal) and notes which one; everything else stays fatal. */
static gboolean
fuzz_fatal_handler (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (fuzz_known_bugs); i++) {
    if (fuzz_known_bugs[i].message &&
        g_strcmp0 (domain, fuzz_known_bugs[i].domain) == 0 &&
        g_strcmp0 (message, fuzz_known_bugs[i].message) == 0) {
      g_atomic_int_set (&fuzz_known_bug, (gint) i);
      return FALSE;
    }
  }
  return TRUE;
}

static void
fuzz_init_gst (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    gst_init (NULL, NULL);
    g_test_log_set_fatal_handler (fuzz_fatal_handler, NULL);
    g_once_init_leave (&done, 1);
  }
}

/* Sums every pixel byte, so that a short pixel buffer shows up under
 * valgrind or AddressSanitizer. */
static guint64
fuzz_touch_pixels (const GstStyleImage * image)
{
  gsize n = (gsize) image->width * image->height * 3, i;
  guint64 sum = 0;

  for (i = 0; i < n; i++)
    sum += image->rgb[i];
  return sum;
}

/* TRUE if, 2 s after a timeout, more abandoned pipelines are still coming
 * down than the @before the call. */
static gboolean
fuzz_still_stuck (guint before)
{
  gint i;

  for (i = 0; i < 20; i++) {
    if (gst_style_image_get_n_stuck () <= before)
      return FALSE;
    g_usleep (100 * 1000);
  }
  return TRUE;
}

/* Decodes one input and checks the contract; @why (free it) says what
 * happened: the size, the error message or what is broken; @known_bug is
 * the index in fuzz_known_bugs of the GStreamer bug it hit, or -1. */
static FuzzResult
fuzz_one (const guint8 * data, gsize size, gchar ** why, gint * known_bug)
{
  GBytes *bytes;
  GError *err = NULL;
  GstStyleImage *image;
  FuzzResult result;
  guint i, n_stuck;

  for (i = 0; i < G_N_ELEMENTS (fuzz_known_bugs); i++) {
    if (fuzz_known_bugs[i].input && fuzz_known_bugs[i].input (data, size)) {
      *why = g_strdup ("not decoded (a known GStreamer hang)");
      *known_bug = (gint) i;
      return FUZZ_SKIPPED;
    }
  }

  fuzz_init_gst ();
  n_stuck = gst_style_image_get_n_stuck ();
  bytes = g_bytes_new (data, size);
  fuzz_current_data = data;
  fuzz_current_size = size;
  g_atomic_int_set (&fuzz_known_bug, -1);
  image = gst_style_image_load_bytes (bytes, "fuzz input", &err);
  g_bytes_unref (bytes);

  if (image && err) {
    *why = g_strdup_printf ("an image and an error: %s", err->message);
    result = FUZZ_BROKEN;
  } else if (image) {
    if (image->width <= 0 || image->height <= 0 || image->rgb == NULL) {
      *why = g_strdup_printf ("bad image %dx%d, pixels %p", image->width,
          image->height, image->rgb);
      result = FUZZ_BROKEN;
    } else {
      guint64 sum = fuzz_touch_pixels (image);

      *why = g_strdup_printf ("decoded %dx%d (mean %.1f)", image->width,
          image->height, (gdouble) sum / (3.0 * image->width * image->height));
      result = FUZZ_DECODED;
    }
  } else if (err == NULL) {
    *why = g_strdup ("no image and no error");
    result = FUZZ_BROKEN;
  } else if (err->message == NULL || err->message[0] == '\0') {
    *why = g_strdup ("an error without a message");
    result = FUZZ_BROKEN;
  } else if (!g_error_matches (err, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE)) {
    *why = g_strdup_printf ("error %s %d, not a decode error: %s",
        g_quark_to_string (err->domain), err->code, err->message);
    result = FUZZ_BROKEN;
  } else if (strstr (err->message, "took more than")) {
    if (fuzz_still_stuck (n_stuck)) {
      *why = g_strdup_printf ("a thread is stuck in a GStreamer element: %s",
          err->message);
      result = FUZZ_STUCK;
    } else {
      *why = g_strdup_printf ("hang with nothing stuck (the pipeline waited "
          "for nothing): %s", err->message);
      result = FUZZ_BROKEN;
    }
  } else {
    gchar *nl;

    *why = g_strdup_printf ("rejected: %s", err->message);
    /* the first line is enough for a report */
    if ((nl = strchr (*why, '\n')))
      *nl = '\0';
    result = FUZZ_REJECTED;
  }
  fuzz_current_data = NULL;
  *known_bug = g_atomic_int_get (&fuzz_known_bug);
  g_clear_error (&err);
  gst_style_image_free (image);
  return result;
}

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  gchar *why = NULL;
  gint known_bug;
  FuzzResult r = fuzz_one (data, size, &why, &known_bug);

  /* a known GStreamer bug is no finding; a broken contract is, and so is a
   * new stuck decoder (whose thread would stay behind) */
  if (r == FUZZ_BROKEN || r == FUZZ_STUCK) {
    g_printerr ("fuzz-style-image: %s\n", why);
    abort ();
  }
  g_free (why);
  return 0;
}

#ifndef FUZZ_STYLE_IMAGE_LIBFUZZER

/* ---- the crash handler ---- */

static void
fuzz_write_all (int fd, const void *data, size_t size)
{
  const guint8 *p = data;

  while (size > 0) {
    ssize_t n = write (fd, p, size);

    if (n <= 0 && errno != EINTR)
      return;
    if (n > 0) {
      p += n;
      size -= n;
    }
  }
}

static void
fuzz_say (const char *text)
{
  fuzz_write_all (2, text, strlen (text));
}

/* Writes the current input to the artifact file (async-signal-safe), then
 * dies of the signal. */
static void
fuzz_on_signal (int sig)
{
  const guint8 *data = fuzz_current_data;

  fuzz_say (sig == SIGALRM ? "\nfuzz-style-image: HANG" :
      "\nfuzz-style-image: CRASH");
  if (data) {
    int fd = open (fuzz_artifact, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    if (fd >= 0) {
      fuzz_write_all (fd, data, fuzz_current_size);
      close (fd);
      fuzz_say (", input written to ");
      fuzz_say (fuzz_artifact);
    }
  }
  fuzz_say ("\n");
  signal (sig == SIGALRM ? SIGABRT : sig, SIG_DFL);
  raise (sig == SIGALRM ? SIGABRT : sig);
}

static void
fuzz_install_handlers (void)
{
  const int sigs[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP,
    SIGALRM
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (sigs); i++)
    signal (sigs[i], fuzz_on_signal);
}

/* ---- deterministic mutations ---- */

/* splitmix64: the generator of iteration i is seeded from (seed, i), so
 * any iteration can be replayed alone. */
static guint64
fuzz_rand (guint64 * state)
{
  guint64 z = (*state += 0x9e3779b97f4a7c15ull);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static gsize
fuzz_below (guint64 * state, gsize n)
{
  return n ? (gsize) (fuzz_rand (state) % n) : 0;
}

static void
fuzz_mutate_once (GByteArray * buf, guint64 * rng)
{
  static const guint8 bytes8[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe,
    0x10, 0x40, 0xd8, 0xd9, 0xda, 0xc0
  };
  static const guint16 words16[] = { 0x0000, 0x0001, 0x7fff, 0x8000,
    0xffff, 0xfffe, 0x0100, 0x1000, 0x4000
  };
  gsize len = buf->len, pos = fuzz_below (rng, MAX (len, 1));

  switch (fuzz_below (rng, 7)) {
    case 0:                    /* flip one bit */
      if (len)
        buf->data[pos] ^= 1u << fuzz_below (rng, 8);
      break;
    case 1:                    /* an interesting byte */
      if (len)
        buf->data[pos] = bytes8[fuzz_below (rng, G_N_ELEMENTS (bytes8))];
      break;
    case 2:{                   /* an interesting 16-bit value, either order */
      guint16 w = words16[fuzz_below (rng, G_N_ELEMENTS (words16))];

      if (len >= 2) {
        pos = MIN (pos, len - 2);
        if (fuzz_below (rng, 2))
          w = GUINT16_SWAP_LE_BE (w);
        buf->data[pos] = w >> 8;
        buf->data[pos + 1] = w & 0xff;
      }
      break;
    }
    case 3:                    /* truncate */
      g_byte_array_set_size (buf, pos);
      break;
    case 4:{                   /* insert random bytes */
      guint8 ins[16];
      gsize n = 1 + fuzz_below (rng, sizeof (ins)), i;

      for (i = 0; i < n; i++)
        ins[i] = fuzz_rand (rng) & 0xff;
      if (len + n <= FUZZ_MAX_SIZE) {
        g_byte_array_set_size (buf, len + n);
        memmove (buf->data + pos + n, buf->data + pos, len - pos);
        memcpy (buf->data + pos, ins, n);
      }
      break;
    }
    case 5:{                   /* duplicate a chunk at another place */
      gsize n = 1 + fuzz_below (rng, MIN (MAX (len - pos, 1), 512));
      gsize at = fuzz_below (rng, len + 1);
      guint8 *chunk;

      if (len == 0 || pos + n > len || len + n > FUZZ_MAX_SIZE)
        break;
      chunk = g_memdup2 (buf->data + pos, n);
      g_byte_array_set_size (buf, len + n);
      memmove (buf->data + at + n, buf->data + at, len - at);
      memcpy (buf->data + at, chunk, n);
      g_free (chunk);
      break;
    }
    default:{                  /* delete a chunk */
      gsize n = 1 + fuzz_below (rng, MIN (MAX (len - pos, 1), 256));

      if (pos + n <= len)
        g_byte_array_remove_range (buf, pos, n);
      break;
    }
  }
}

/* TRUE if corpus entry @name is one of @kind: "ok" for the ones that
 * decode; anything else for the others but the gstbug-* seeds of known
 * GStreamer bugs, which are replayed but not mutated. */
static gboolean
fuzz_is_base (const gchar * name, const gchar * kind)
{
  if (g_str_equal (kind, "ok"))
    return g_str_has_prefix (name, "ok-");
  return !g_str_has_prefix (name, "gstbug-");
}

/* The @k-th entry of kind @kind, or the number of them for k = -1. */
static gsize
fuzz_nth_base (GPtrArray * names, const gchar * kind, gssize k)
{
  gsize i, n = 0;

  for (i = 0; i < names->len; i++)
    if (fuzz_is_base (g_ptr_array_index (names, i), kind) && (gssize) n++ == k)
      return i;
  return n;
}

/* A corpus entry for a mutation: three times in four one that decodes
 * (named ok-*), so that most mutations reach the decoders rather than the
 * typefinder, else any but the gstbug-* seeds. */
static gsize
fuzz_pick_base (GPtrArray * names, guint64 * rng)
{
  const gchar *kind = fuzz_below (rng, 4) ? "ok" : "any";
  gsize n = fuzz_nth_base (names, kind, -1);

  if (n == 0)
    return fuzz_below (rng, names->len);
  return fuzz_nth_base (names, kind, fuzz_below (rng, n));
}

/* The input of mutation @iteration: a corpus entry (its name in @base)
 * with 1 to 4 changes. */
static GByteArray *
fuzz_make_input (GPtrArray * names, GPtrArray * corpus, guint64 seed,
    guint64 iteration, const gchar ** base)
{
  guint64 rng =
      seed * 0x100000001b3ull ^ (iteration + 1) * 0x9e3779b97f4a7c15ull;
  gsize pick = fuzz_pick_base (names, &rng), size;
  const guint8 *data = g_bytes_get_data (g_ptr_array_index (corpus, pick),
      &size);
  GByteArray *buf = g_byte_array_new ();
  gint n = 1 + fuzz_below (&rng, 4), i;

  *base = g_ptr_array_index (names, pick);
  g_byte_array_append (buf, data, size);
  for (i = 0; i < n; i++)
    fuzz_mutate_once (buf, &rng);
  return buf;
}

/* ---- the driver ---- */

typedef struct
{
  guint inputs, decoded, rejected, broken, skipped, stuck;
  guint known_bugs;             /* inputs that hit a known GStreamer bug */
  gboolean stop;                /* too many stuck threads, or out of time */
  gint64 deadline;              /* monotonic time to stop mutating, or 0 */
  /* per known bug: how many inputs hit it, and the first one */
  guint bug_hits[G_N_ELEMENTS (fuzz_known_bugs)];
  gchar *bug_first[G_N_ELEMENTS (fuzz_known_bugs)];
  guint tap;                    /* TAP points so far */
  gdouble slowest_s;
  gchar *slowest;               /* what the slowest input was */
} FuzzStats;

/* A new stuck decoder: a TODO point, its input in
 * fuzz-style-image-stuck-N.bin, and the end of the run after
 * FUZZ_MAX_STUCK of them. */
static void
fuzz_report_stuck (FuzzStats * st, const guint8 * data, gsize size,
    const gchar * name, const gchar * why)
{
  gchar *path = g_strdup_printf ("fuzz-style-image-stuck-%u.bin", ++st->stuck);
  GError *err = NULL;

  g_print ("not ok %u - %s: %s # TODO GStreamer bug (not yet in "
      "fuzz_known_bugs)\n", ++st->tap, name, why);
  if (g_file_set_contents (path, (const gchar *) data, size, &err))
    g_print ("# input written to %s\n", path);
  else
    g_print ("# cannot write %s: %s\n", path, err->message);
  g_clear_error (&err);
  g_free (path);
  if (st->stuck >= FUZZ_MAX_STUCK) {
    g_print ("# %u threads stuck in GStreamer elements: stopping\n",
        st->stuck);
    st->stop = TRUE;
  }
}

/* Runs one input with the watchdog armed and counts it; the first input
 * that hits a known GStreamer bug gets a TAP point of its own, marked
 * TODO, the others are counted. */
static FuzzResult
fuzz_run_counted (FuzzStats * st, const guint8 * data, gsize size,
    guint timeout_s, const gchar * name, gchar ** why)
{
  gint64 t0 = g_get_monotonic_time ();
  FuzzResult r;
  gint known_bug;
  gdouble s;

  alarm (timeout_s);
  r = fuzz_one (data, size, why, &known_bug);
  alarm (0);
  if (known_bug >= 0) {
    st->known_bugs++;
    if (st->bug_hits[known_bug]++ == 0) {
      st->bug_first[known_bug] = g_strdup (name);
      g_print ("not ok %u - %s hits a known GStreamer bug: %s; %s "
          "# TODO GStreamer bug\n", ++st->tap, name,
          fuzz_known_bugs[known_bug].what, *why);
    }
  }
  s = (g_get_monotonic_time () - t0) / 1e6;
  if (s > st->slowest_s) {
    st->slowest_s = s;
    g_free (st->slowest);
    st->slowest = g_strdup (name);
  }
  st->inputs++;
  if (r == FUZZ_DECODED)
    st->decoded++;
  else if (r == FUZZ_REJECTED)
    st->rejected++;
  else if (r == FUZZ_SKIPPED)
    st->skipped++;
  else if (r == FUZZ_BROKEN)
    st->broken++;
  if (r == FUZZ_STUCK)
    fuzz_report_stuck (st, data, size, name, *why);
  return r;
}

static gint
fuzz_compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

/* Corpus files, sorted by name: the paths and their contents. */
static gboolean
fuzz_load_corpus (gchar ** args, GPtrArray * names, GPtrArray * corpus,
    GError ** error)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  gchar *def = NULL;
  guint i;

  if (args == NULL || args[0] == NULL) {
    const gchar *src = g_getenv ("STYLEFILTER_SOURCE_DIR");

    def = g_build_filename (src ? src : ".", "tests", "gst", "corpus-style",
        NULL);
  }
  for (i = 0; def ? i == 0 : args[i] != NULL; i++) {
    const gchar *arg = def ? def : args[i];

    if (g_file_test (arg, G_FILE_TEST_IS_DIR)) {
      GDir *dir = g_dir_open (arg, 0, error);
      GPtrArray *in_dir = g_ptr_array_new ();
      const gchar *name;
      guint j;

      if (dir == NULL)
        goto fail;
      while ((name = g_dir_read_name (dir)))
        g_ptr_array_add (in_dir, g_build_filename (arg, name, NULL));
      g_dir_close (dir);
      g_ptr_array_sort (in_dir, fuzz_compare_paths);
      for (j = 0; j < in_dir->len; j++)
        g_ptr_array_add (paths, g_ptr_array_index (in_dir, j));
      g_ptr_array_unref (in_dir);
    } else {
      g_ptr_array_add (paths, g_strdup (arg));
    }
  }
  for (i = 0; i < paths->len; i++) {
    const gchar *path = g_ptr_array_index (paths, i);
    gchar *data;
    gsize len;

    if (!g_file_get_contents (path, &data, &len, error))
      goto fail;
    g_ptr_array_add (names, g_path_get_basename (path));
    g_ptr_array_add (corpus, g_bytes_new_take (data, len));
  }
  g_ptr_array_unref (paths);
  g_free (def);
  if (corpus->len == 0) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "empty corpus");
    return FALSE;
  }
  return TRUE;

fail:
  g_ptr_array_unref (paths);
  g_free (def);
  return FALSE;
}

/* Replays the corpus: one TAP point per file. */
static void
fuzz_replay (FuzzStats * st, GPtrArray * names, GPtrArray * corpus,
    guint timeout_s)
{
  guint i;

  for (i = 0; i < corpus->len && !st->stop; i++) {
    const gchar *name = g_ptr_array_index (names, i);
    gsize size;
    const guint8 *data = g_bytes_get_data (g_ptr_array_index (corpus, i),
        &size);
    gchar *why = NULL;
    FuzzResult r = fuzz_run_counted (st, data, size, timeout_s, name, &why);
    gboolean ok = r != FUZZ_BROKEN;

    if (g_str_has_prefix (name, "ok-") && r != FUZZ_DECODED)
      ok = FALSE;
    if (g_str_has_prefix (name, "bad-") && r != FUZZ_REJECTED)
      ok = FALSE;
    g_print ("%s %u - corpus %s (%" G_GSIZE_FORMAT " bytes): %s\n",
        ok ? "ok" : "not ok", ++st->tap, name, size, why);
    if (!ok)
      st->broken += r != FUZZ_BROKEN;   /* an expectation failed */
    g_free (why);
  }
}

/* Writes @buf to @path; FALSE with @error on failure. */
static gboolean
fuzz_save (GByteArray * buf, const gchar * path, GError ** error)
{
  return g_file_set_contents (path, (const gchar *) buf->data, buf->len,
      error);
}

/* Runs mutations @first .. @first + @count - 1: one TAP point per
 * FUZZ_BATCH of them, the failing iterations as diagnostics. */
static void
fuzz_mutations (FuzzStats * st, GPtrArray * names, GPtrArray * corpus,
    guint64 seed, guint64 first, guint64 count, guint timeout_s,
    const gchar * save, gboolean verbose)
{
  guint64 i, batch_start = first;
  guint batch_broken = 0, batch_decoded = 0;

  for (i = first; i < first + count && !st->stop; i++) {
    if (st->deadline && g_get_monotonic_time () > st->deadline) {
      g_print ("# --max-time is up after %" G_GUINT64_FORMAT " mutations\n",
          i - first);
      st->stop = TRUE;
      break;
    }
    const gchar *base;
    GByteArray *buf = fuzz_make_input (names, corpus, seed, i, &base);
    gchar *name = g_strdup_printf ("mutation %" G_GUINT64_FORMAT, i);
    gchar *why = NULL;
    FuzzResult r;

    if (save) {
      GError *err = NULL;

      if (!fuzz_save (buf, save, &err)) {
        g_print ("# cannot save %s: %s\n", save, err->message);
        g_clear_error (&err);
      }
    }
    r = fuzz_run_counted (st, buf->data, buf->len, timeout_s, name, &why);
    if (verbose && r != FUZZ_BROKEN)
      g_print ("# mutation %" G_GUINT64_FORMAT " (of %s, %u bytes): %s\n", i,
          base, buf->len, why);
    if (r == FUZZ_BROKEN) {
      batch_broken++;
      g_print ("# mutation %" G_GUINT64_FORMAT " (seed %" G_GUINT64_FORMAT
          ", of %s, %u bytes): %s\n", i, seed, base, buf->len, why);
    } else if (r == FUZZ_DECODED) {
      batch_decoded++;
    }
    g_free (why);
    g_free (name);
    g_byte_array_unref (buf);

    if ((i + 1 - first) % FUZZ_BATCH == 0 || i + 1 == first + count ||
        st->stop) {
      g_print ("%s %u - mutations %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT
          " (seed %" G_GUINT64_FORMAT "): %u decoded, %u broken\n",
          batch_broken ? "not ok" : "ok", ++st->tap, batch_start, i, seed,
          batch_decoded, batch_broken);
      batch_start = i + 1;
      batch_broken = batch_decoded = 0;
    }
  }
}

/* Caps the address space at @mb MiB (0: leaves it). */
static void
fuzz_limit_memory (guint mb)
{
  struct rlimit rl;

  if (mb == 0)
    return;
  rl.rlim_cur = rl.rlim_max = (rlim_t) mb * 1024 * 1024;
  if (setrlimit (RLIMIT_AS, &rl) != 0)
    g_print ("# cannot limit the address space: %s\n", g_strerror (errno));
}

int
main (int argc, char **argv)
{
  gint64 mutate = 0, seed = 1, only = -1, timeout_s = 60, memory_mb = 4096;
  gint64 decode_timeout_s = 0, max_time_s = 0;
  gboolean verbose = FALSE;
  gchar *save = NULL;
  gchar **args = NULL;
  GOptionEntry entries[] = {
    {"mutate", 'n', 0, G_OPTION_ARG_INT64, &mutate,
        "Run N mutations after the corpus", "N"},
    {"seed", 's', 0, G_OPTION_ARG_INT64, &seed,
        "Seed of the mutations (default 1)", "S"},
    {"only", 0, 0, G_OPTION_ARG_INT64, &only,
        "Run mutation I alone (no corpus replay)", "I"},
    {"save", 0, 0, G_OPTION_ARG_FILENAME, &save,
        "Write each mutated input (and a crashing one) to FILE", "FILE"},
    {"timeout", 't', 0, G_OPTION_ARG_INT64, &timeout_s,
        "Seconds an input may take before it counts as a hang (default 60)",
        "SEC"},
    {"max-time", 0, 0, G_OPTION_ARG_INT64, &max_time_s,
        "Stop mutating after SEC seconds (default: no limit)", "SEC"},
    {"decode-timeout", 0, 0, G_OPTION_ARG_INT64, &decode_timeout_s,
        "The library's decode timeout in seconds (default its own, 30)",
        "SEC"},
    {"memory-limit-mb", 0, 0, G_OPTION_ARG_INT64, &memory_mb,
        "Address space limit in MiB (default 4096, 0 = none)", "M"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
        "Say what each mutation did", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args, NULL,
        "[CORPUS_DIR | FILE...]"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- fuzz the style image path");
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *corpus = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_bytes_unref);
  FuzzStats st = { 0 };
  GError *err = NULL;
  gint64 t0;
  guint i;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)
      || !fuzz_load_corpus (args, names, corpus, &err)) {
    g_printerr ("fuzz-style-image: %s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (save)
    fuzz_artifact = save;
  fuzz_limit_memory ((guint) MAX (memory_mb, 0));
  fuzz_install_handlers ();
  fuzz_init_gst ();
  if (decode_timeout_s > 0)
    gst_style_image_set_timeout (decode_timeout_s * GST_SECOND);

  t0 = g_get_monotonic_time ();
  if (max_time_s > 0)
    st.deadline = t0 + max_time_s * G_USEC_PER_SEC;
  if (only >= 0) {
    fuzz_mutations (&st, names, corpus, seed, only, 1, timeout_s, save, TRUE);
  } else {
    fuzz_replay (&st, names, corpus, timeout_s);
    fuzz_mutations (&st, names, corpus, seed, 0, mutate, timeout_s, NULL,
        verbose);
  }

  g_print ("# %.1f s, slowest input %.3f s (%s)\n",
      (g_get_monotonic_time () - t0) / 1e6, st.slowest_s,
      GST_STR_NULL (st.slowest));
  for (i = 0; i < G_N_ELEMENTS (fuzz_known_bugs); i++) {
    if (st.bug_hits[i])
      g_print ("# known GStreamer bug %u hit by %u inputs, first %s\n", i,
          st.bug_hits[i], st.bug_first[i]);
    g_free (st.bug_first[i]);
  }
  g_print ("1..%u\n", st.tap);
  g_print ("# fuzz-style-image: %u inputs, %u decoded, %u rejected", st.inputs,
      st.decoded, st.rejected);
  if (st.known_bugs)
    g_print (", %u hit known GStreamer bugs", st.known_bugs);
  if (st.skipped)
    g_print (" (%u of them not decoded)", st.skipped);
  if (st.stuck)
    g_print (", %u stuck in GStreamer elements", st.stuck);
  if (st.broken)
    g_print (", %u FAILED", st.broken);
  g_print ("\n");
  g_ptr_array_unref (names);
  g_ptr_array_unref (corpus);
  g_strfreev (args);
  g_free (st.slowest);
  g_free (save);
  return st.broken ? 1 : 0;
}

#endif /* FUZZ_STYLE_IMAGE_LIBFUZZER */
