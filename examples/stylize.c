/* stylize.c - stylizes a still image with the engine (Gatys et al.):
 *
 *   stylize examples/horses.jpg examples/scream.jpg --size 128 \
 *       --iterations 100 --output out/horses-scream.png
 *
 * The command-line face of sf-engine.h: reads the content and style images
 * with gdk-pixbuf (any format it knows; alpha is dropped, as the PyTorch peer
 * does), scales them on the host so that their longest side is --size and
 * --style-size (an image already at that size is used as it is, like the
 * peer), optimises the image with L-BFGS or Adam on the Vulkan device and
 * writes the result as PNG at the optimisation size.
 *
 * The defaults are the best measured on the embedded network (README "The
 * built-in network"): the structured network drawn under --seed, average
 * pooling, style on relu1_1 .. relu5_1, content weight 1, style weight 100,
 * tv weight 100, L-BFGS.  The peer's `loss` command
 * (tests/peer/torch_gatys.py) takes the same options, and --save-model
 * writes the network actually used, for the peer's --model.  --network
 * random --pooling max --tv-weight 0 --style-weight 1e3 is the earlier
 * default (the peer's own defaults).
 *
 * Exit status: 0 on success, 1 on any error (the message goes to stderr),
 * 2 on a bad command line.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "sf-engine.h"

#define MAX_SIZE 16384          /* longest side; far above what fits anyway */

typedef struct
{
  char *content;
  char *style;
  char *output;
  int size;
  int style_size;
  int iterations;
  int progress_every;
  double content_weight;
  double style_weight;
  double tv_weight;
  double range_weight;
  double learning_rate;
  char *optimizer;
  char *pooling;
  char *style_layers;
  guint style_layer_mask;
  char *network;
  char *color_mode;             /* none, luminance, histogram */
  char *blend;                  /* --style-blend-weights */
  char **style_paths;           /* --style split at commas */
  double blend_weights[SF_MAX_STYLES];
  guint n_styles;
  char *model;
  char *save_model;
  char *device;
  char *init;
  gint64 seed;
  gboolean list_devices;
  gboolean quiet;
  char **rest;
} Options;

/* A planar float RGB image, [3][height][width] in [0,1]. */
typedef struct
{
  int width;
  int height;
  float *rgb;
} Image;

typedef struct
{
  const Options *opt;
  gint64 start;                 /* monotonic time, microseconds */
} Progress;

/* ---- command line ------------------------------------------------------ */

static void
options_init (Options *o)
{
  memset (o, 0, sizeof (*o));
  o->size = 256;
  o->style_size = 0;            /* same as size */
  o->iterations = 100;
  o->progress_every = 10;
  o->content_weight = 1.0;
  o->style_weight = 100.0;
  o->tv_weight = 100.0;
  o->range_weight = 0.0;
  o->learning_rate = 0.0;       /* 0: the optimiser's default */
}

static void
options_clear (Options *o)
{
  g_free (o->content);
  g_free (o->style);
  g_free (o->output);
  g_free (o->optimizer);
  g_free (o->pooling);
  g_free (o->style_layers);
  g_free (o->network);
  g_free (o->color_mode);
  g_free (o->blend);
  g_strfreev (o->style_paths);
  g_free (o->model);
  g_free (o->save_model);
  g_free (o->device);
  g_free (o->init);
  g_strfreev (o->rest);
}

static GOptionContext *
options_context (Options *o)
{
  GOptionEntry entries[] = {
    {"content", 'c', 0, G_OPTION_ARG_FILENAME, &o->content,
        "Content image (or the first argument)", "FILE"},
    {"style", 's', 0, G_OPTION_ARG_FILENAME, &o->style,
        "Style image (or the second argument)", "FILE"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o->output,
        "Result, PNG (default out/stylized.png; the directory is created)",
        "FILE"},
    {"size", 0, 0, G_OPTION_ARG_INT, &o->size,
        "Longest side of the optimised image, 16 at least (default 256)",
        "N"},
    {"style-size", 0, 0, G_OPTION_ARG_INT, &o->style_size,
        "Longest side of the style image (default: --size)", "N"},
    {"iterations", 'n', 0, G_OPTION_ARG_INT, &o->iterations,
        "Optimiser iterations (default 100; L-BFGS also stops after "
          "5/4 of that in evaluations, as torch)", "N"},
    {"content-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o->content_weight,
        "Weight of the content loss (default 1)", "W"},
    {"style-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o->style_weight,
        "Weight of the style loss (default 100)", "W"},
    {"tv-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o->tv_weight,
        "Weight of the total-variation loss (default 100)", "W"},
    {"range-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o->range_weight,
          "Weight of the range loss, pixels outside [0,1] (default 0, as the "
          "peer; the element's default is 1e4)", "W"},
    {"optimizer", 0, 0, G_OPTION_ARG_STRING, &o->optimizer,
        "lbfgs or adam (default lbfgs)", "OPT"},
    {"learning-rate", 0, 0, G_OPTION_ARG_DOUBLE, &o->learning_rate,
        "Adam's step (default 0.01); L-BFGS's first-step scale (default 1)",
        "LR"},
    {"pooling", 0, 0, G_OPTION_ARG_STRING, &o->pooling,
        "avg or max (default avg)", "POOL"},
    {"network", 0, 0, G_OPTION_ARG_STRING, &o->network,
        "Embedded network without --model: structured (a fixed first layer "
          "of edge and colour-opponent filters under random deeper layers) "
          "or random (every layer random, the earlier default) (default "
          "structured)", "NET"},
    {"color-mode", 0, 0, G_OPTION_ARG_STRING, &o->color_mode,
        "none; luminance (keep the content's colours, take the result's "
          "luminance, YIQ); histogram (match the style images' RGB mean and "
          "covariance to the content's before their Grams) (default none)",
        "MODE"},
    {"style-blend-weights", 0, 0, G_OPTION_ARG_STRING, &o->blend,
        "With several styles (--style a.jpg,b.jpg): one weight each, "
          "comma-separated, normalised to sum 1 (default equal)", "W,W"},
    {"style-layers", 0, 0, G_OPTION_ARG_STRING, &o->style_layers,
        "Layers that carry the style, comma-separated: relu1_1 .. relu5_1 "
          "or 1 .. 5 (default all five)", "LIST"},
    {"model", 'm', 0, G_OPTION_ARG_FILENAME, &o->model,
        "VGG-19 weights, safetensors with torchvision names (default: the "
          "embedded network drawn under --seed)", "FILE"},
    {"seed", 0, 0, G_OPTION_ARG_INT64, &o->seed,
        "Seed of the default network and of --init noise (default 0)", "N"},
    {"save-model", 0, 0, G_OPTION_ARG_FILENAME, &o->save_model,
        "Write the network used as safetensors (F32), e.g. for the "
          "PyTorch peer's --model; alone, only that", "FILE"},
    {"init", 0, 0, G_OPTION_ARG_STRING, &o->init,
        "Starting image: content or noise (seeded; default content)",
        "INIT"},
    {"device", 'd', 0, G_OPTION_ARG_STRING, &o->device,
        "Vulkan device: index or part of the name (default: automatic, "
          "or $STYLEFILTER_DEVICE)", "SEL"},
    {"list-devices", 0, 0, G_OPTION_ARG_NONE, &o->list_devices,
        "List the Vulkan devices and exit", NULL},
    {"progress-every", 0, 0, G_OPTION_ARG_INT, &o->progress_every,
        "Print the losses every N iterations (default 10, 0: never)", "N"},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet,
        "Print nothing but errors", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->rest, NULL,
        "[CONTENT [STYLE]]"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new (NULL);

  g_option_context_set_summary (ctx, "Neural style transfer (Gatys et al.) "
      "of a still image on a Vulkan device.");
  g_option_context_set_description (ctx, "Example:\n  stylize "
      "examples/horses.jpg examples/scream.jpg --size 128 -o out/h.png\n\n"
      "The defaults are the best measured on the embedded network (README "
      "\"The built-in\nnetwork\"); --network random --pooling max "
      "--tv-weight 0 is the earlier\ndefault, the PyTorch peer's.\n");
  g_option_context_add_main_entries (ctx, entries, NULL);
  return ctx;
}

static gboolean
bad_option (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
bad_option (GError **error, const char *format, ...)
{
  va_list args;
  char *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, msg);
  g_free (msg);
  return FALSE;
}

/* Takes CONTENT and STYLE from the positional arguments. */
static gboolean
take_positional (Options *o, GError **error)
{
  guint n = o->rest ? g_strv_length (o->rest) : 0;
  char **slots[] = { &o->content, &o->style };
  guint next = 0;

  for (guint i = 0; i < n; i++) {
    while (next < G_N_ELEMENTS (slots) && *slots[next])
      next++;
    if (next == G_N_ELEMENTS (slots))
      return bad_option (error, "unexpected argument '%s' (give at most a "
          "content and a style image)", o->rest[i]);
    *slots[next] = g_strdup (o->rest[i]);
  }
  return TRUE;
}

static gboolean
check_choice (const char *name, char **value, const char *first,
    const char *second, GError **error)
{
  if (!*value)
    *value = g_strdup (first);
  if (strcmp (*value, first) != 0 && strcmp (*value, second) != 0)
    return bad_option (error, "--%s must be %s or %s, not '%s'", name, first,
        second, *value);
  return TRUE;
}

/* "relu1_1,relu3_1" or "1,3" -> bits 0 and 2; NULL: all five. */
static gboolean
parse_style_layers (const char *list, guint *mask, GError **error)
{
  char **names;
  gboolean ok = TRUE;

  *mask = 0;
  if (!list) {
    *mask = SF_STYLE_LAYERS_ALL;
    return TRUE;
  }
  names = g_strsplit (list, ",", -1);
  for (guint i = 0; ok && names[i]; i++) {
    const char *n = g_strstrip (names[i]);
    int l = -1;
    if (strlen (n) == 1 && n[0] >= '1' && n[0] <= '5')
      l = n[0] - '1';
    else if (strlen (n) == 7 && g_str_has_prefix (n, "relu")
        && n[4] >= '1' && n[4] <= '5' && strcmp (n + 5, "_1") == 0)
      l = n[4] - '1';
    if (l < 0)
      ok = bad_option (error, "--style-layers: '%s' is not a style layer "
          "(relu1_1 .. relu5_1, or 1 .. 5)", n);
    else
      *mask |= 1u << l;
  }
  g_strfreev (names);
  if (ok && *mask == 0)
    ok = bad_option (error, "--style-layers names no layer");
  return ok;
}

/* --style: one image, or several joined by commas (a file whose name
 * holds a comma is taken whole); --style-blend-weights: one weight each,
 * >= 0, not all 0 (default equal). */
static gboolean
parse_styles (Options *o, GError **error)
{
  char **w = NULL;
  double sum = 0.0;
  gboolean ok = TRUE;

  if (!o->style)
    return TRUE;
  if (g_file_test (o->style, G_FILE_TEST_EXISTS))
    o->style_paths = g_strdupv ((char *[]) { o->style, NULL });
  else
    o->style_paths = g_strsplit (o->style, ",", -1);
  o->n_styles = g_strv_length (o->style_paths);
  if (o->n_styles == 0 || o->n_styles > SF_MAX_STYLES)
    return bad_option (error, "--style: give 1 to %d images, not %u",
        SF_MAX_STYLES, o->n_styles);
  for (guint i = 0; i < o->n_styles; i++) {
    if (o->style_paths[i][0] == '\0')
      return bad_option (error, "--style: entry %u is empty", i + 1);
    o->blend_weights[i] = 1.0;
  }
  if (!o->blend)
    return TRUE;
  w = g_strsplit (o->blend, ",", -1);
  if (g_strv_length (w) != o->n_styles)
    ok = bad_option (error, "--style-blend-weights: %u weights for %u "
        "styles", g_strv_length (w), o->n_styles);
  for (guint i = 0; ok && i < o->n_styles; i++) {
    char *end = NULL;
    double v = g_ascii_strtod (g_strstrip (w[i]), &end);
    if (end == w[i] || *end != '\0' || !(v >= 0.0) || !isfinite (v))
      ok = bad_option (error, "--style-blend-weights: entry %u, '%s', is "
          "not a number >= 0", i + 1, w[i]);
    else
      sum += o->blend_weights[i] = v;
  }
  if (ok && !(sum > 0.0))
    ok = bad_option (error, "--style-blend-weights: the weights sum to 0");
  g_strfreev (w);
  return ok;
}

static gboolean
check_options (Options *o, GError **error)
{
  if (!take_positional (o, error)
      || !check_choice ("optimizer", &o->optimizer, "lbfgs", "adam", error)
      || !check_choice ("pooling", &o->pooling, "avg", "max", error)
      || !check_choice ("init", &o->init, "content", "noise", error)
      || !check_choice ("network", &o->network, "structured", "random", error)
      || !parse_style_layers (o->style_layers, &o->style_layer_mask, error)
      || !parse_styles (o, error))
    return FALSE;
  if (!o->color_mode)
    o->color_mode = g_strdup ("none");
  if (strcmp (o->color_mode, "none") != 0
      && strcmp (o->color_mode, "luminance") != 0
      && strcmp (o->color_mode, "histogram") != 0)
    return bad_option (error, "--color-mode must be none, luminance or "
        "histogram, not '%s'", o->color_mode);
  if (o->style_size == 0)
    o->style_size = o->size;
  if (o->size < 1 || o->size > MAX_SIZE || o->style_size < 1
      || o->style_size > MAX_SIZE)
    return bad_option (error, "--size and --style-size must be positive and "
        "at most %d (the engine needs 16 at least)", MAX_SIZE);
  if (o->iterations < 0 || o->progress_every < 0)
    return bad_option (error, "--iterations and --progress-every must not "
        "be negative");
  if (o->seed < 0)
    return bad_option (error, "--seed must not be negative");
  if (!(o->content_weight >= 0 && o->style_weight >= 0 && o->tv_weight >= 0
          && o->range_weight >= 0)
      || !isfinite (o->content_weight + o->style_weight + o->tv_weight
          + o->range_weight))
    return bad_option (error, "the loss weights must be finite and not "
        "negative");
  if (!(o->learning_rate >= 0) || !isfinite (o->learning_rate))
    return bad_option (error, "--learning-rate must not be negative (0: "
        "the optimiser's default)");
  if (!o->output)
    o->output = g_strdup ("out/stylized.png");
  return TRUE;
}

/* ---- images ------------------------------------------------------------ */

static void
image_clear (Image *im)
{
  g_free (im->rgb);
  im->rgb = NULL;
}

/* The size with the longest side equal to `size`, as the peer rounds it. */
static void
fit_size (int w, int h, int size, int *fw, int *fh)
{
  double s;

  if (MAX (w, h) == size) {
    *fw = w;
    *fh = h;
    return;
  }
  s = (double) size / MAX (w, h);
  *fw = MAX (1, (int) lround (w * s));
  *fh = MAX (1, (int) lround (h * s));
}

static GdkPixbuf *
load_pixbuf (const char *what, const char *path, GError **error)
{
  GError *err = NULL;
  GdkPixbuf *pb = gdk_pixbuf_new_from_file (path, &err);

  if (!pb) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "cannot read the %s image '%s': %s", what, path, err->message);
    g_error_free (err);
    return NULL;
  }
  if (gdk_pixbuf_get_colorspace (pb) != GDK_COLORSPACE_RGB
      || gdk_pixbuf_get_bits_per_sample (pb) != 8
      || gdk_pixbuf_get_n_channels (pb) < 3) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "the %s image '%s' is not 8-bit RGB", what, path);
    g_object_unref (pb);
    return NULL;
  }
  return pb;
}

/* Scales to width x height (unchanged when already that size). */
static GdkPixbuf *
scale_pixbuf (GdkPixbuf *pb, int width, int height, const char *path,
    GError **error)
{
  GdkPixbuf *scaled;

  if (gdk_pixbuf_get_width (pb) == width
      && gdk_pixbuf_get_height (pb) == height)
    return g_object_ref (pb);
  scaled = gdk_pixbuf_scale_simple (pb, width, height, GDK_INTERP_HYPER);
  if (!scaled)
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "cannot scale '%s' to %dx%d: out of memory", path, width, height);
  return scaled;
}

/* Packed 8-bit RGB(A), any rowstride, to planar float; alpha is ignored. */
static gboolean
pixbuf_to_image (GdkPixbuf *pb, Image *im, GError **error)
{
  int w = gdk_pixbuf_get_width (pb), h = gdk_pixbuf_get_height (pb);
  int nc = gdk_pixbuf_get_n_channels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb);
  const guint8 *px = gdk_pixbuf_read_pixels (pb);
  gsize plane = (gsize) w * h;

  im->rgb = g_try_new (float, 3 * plane);
  if (!im->rgb) {
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "cannot allocate a %dx%d image", w, h);
    return FALSE;
  }
  im->width = w;
  im->height = h;
  for (int y = 0; y < h; y++) {
    const guint8 *row = px + (gsize) y * stride;
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        im->rgb[c * plane + (gsize) y * w + x] = row[x * nc + c] / 255.0f;
  }
  return TRUE;
}

/* Reads `path` and scales it so that its longest side is `size`. */
static gboolean
load_image (const char *what, const char *path, int size, Image *im,
    GError **error)
{
  GdkPixbuf *pb = load_pixbuf (what, path, error), *scaled;
  int w, h;
  gboolean ok;

  if (!pb)
    return FALSE;
  fit_size (gdk_pixbuf_get_width (pb), gdk_pixbuf_get_height (pb), size, &w,
      &h);
  scaled = scale_pixbuf (pb, w, h, path, error);
  g_object_unref (pb);
  if (!scaled)
    return FALSE;
  ok = pixbuf_to_image (scaled, im, error);
  g_object_unref (scaled);
  return ok;
}

/* Uniform noise in [0,1], seeded with all 64 bits of the seed. */
static float *
make_noise (int w, int h, guint64 seed)
{
  guint32 key[2] = { (guint32) seed, (guint32) (seed >> 32) };
  GRand *r = g_rand_new_with_seed_array (key, 2);
  gsize n = 3 * (gsize) w * h;
  float *rgb = g_try_new (float, n);

  for (gsize i = 0; rgb && i < n; i++)
    rgb[i] = (float) g_rand_double (r);
  g_rand_free (r);
  return rgb;
}

static gboolean
make_parent_dir (const char *path, GError **error)
{
  char *dir = g_path_get_dirname (path);
  gboolean ok = TRUE;

  if (g_mkdir_with_parents (dir, 0777) != 0) {
    int e = errno;
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
        "cannot create the directory '%s': %s", dir, g_strerror (e));
    ok = FALSE;
  }
  g_free (dir);
  return ok;
}

/* Writes planar float RGB as an 8-bit PNG (the directory exists). */
static gboolean
save_png (const Image *im, const char *path, GError **error)
{
  GdkPixbuf *pb;
  guint8 *px;
  int stride;
  gsize plane = (gsize) im->width * im->height;
  GError *err = NULL;

  pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, im->width, im->height);
  if (!pb) {
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "cannot allocate the %dx%d output", im->width, im->height);
    return FALSE;
  }
  px = gdk_pixbuf_get_pixels (pb);
  stride = gdk_pixbuf_get_rowstride (pb);
  for (int y = 0; y < im->height; y++)
    for (int x = 0; x < im->width; x++)
      for (int c = 0; c < 3; c++) {
        float v = im->rgb[c * plane + (gsize) y * im->width + x];
        px[(gsize) y * stride + x * 3 + c] =
            (guint8) CLAMP (v * 255.0f + 0.5f, 0.0f, 255.0f);
      }
  if (!gdk_pixbuf_save (pb, path, "png", &err, NULL)) {
    g_set_error (error, SF_ERROR, SF_ERROR_INVALID,
        "cannot write '%s': %s", path, err->message);
    g_error_free (err);
    g_object_unref (pb);
    return FALSE;
  }
  g_object_unref (pb);
  return TRUE;
}

/* ---- the run ----------------------------------------------------------- */

static SfVggWeights *
get_weights (const Options *o, GError **error)
{
  SfVggWeights *w;

  if (o->model && *o->model) {
    w = sf_vgg_weights_load (o->model, error);  /* its errors name the file */
  } else {
    w = sf_vgg_weights_new_embedded ((guint64) o->seed,
        strcmp (o->network, "random") == 0 ? SF_VGG_INIT_RANDOM :
        SF_VGG_INIT_STRUCTURED);
  }
  if (w && o->save_model && (!make_parent_dir (o->save_model, error)
          || !sf_vgg_weights_save (w, o->save_model, error))) {
    sf_vgg_weights_free (w);    /* the saver's errors name the file */
    return NULL;
  }
  if (w && o->save_model && !o->quiet)
    printf ("wrote the network to %s\n", o->save_model);
  return w;
}

static void
params_from_options (const Options *o, SfParams *p)
{
  sf_params_init (p);
  p->weights.content = o->content_weight;
  p->weights.style = o->style_weight;
  p->weights.tv = o->tv_weight;
  p->weights.range = o->range_weight;
  p->weights.style_layers = o->style_layer_mask;
  if (strcmp (o->optimizer, "adam") == 0) {
    p->optimizer = SF_OPTIMIZER_ADAM;
    p->learning_rate = 0.01;
  }
  if (o->learning_rate > 0)
    p->learning_rate = o->learning_rate;
}

static double
elapsed_s (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1e6;
}

static gboolean
report_progress (int iteration, const SfLossTerms *t, gpointer data)
{
  const Progress *pr = data;
  const Options *o = pr->opt;

  if (o->quiet || o->progress_every == 0
      || (iteration % o->progress_every != 0 && iteration != o->iterations))
    return TRUE;
  printf ("iteration %4d/%d  total %.5g  content %.5g  style %.5g  tv %.5g"
      "  range %.3g  %.1f s\n", iteration, o->iterations, t->total,
      t->content, t->style, t->tv, t->range, elapsed_s (pr->start));
  fflush (stdout);
  return TRUE;
}

/* Style and content targets, and the starting image. */
static gboolean
set_targets (SfStylizer *st, const Options *o, const Image *content,
    const Image *styles, GError **error)
{
  float *noise = NULL;
  gboolean ok;

  if (strcmp (o->init, "noise") == 0) {
    noise = make_noise (content->width, content->height, (guint64) o->seed);
    if (!noise) {
      g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
          "cannot allocate the starting image");
      return FALSE;
    }
  }
  ok = TRUE;
  for (guint i = 0; ok && i < o->n_styles; i++) {
    if (strcmp (o->color_mode, "histogram") == 0)
      sf_color_match (styles[i].rgb, styles[i].width, styles[i].height,
          content->rgb, content->width, content->height);
    ok = sf_stylizer_set_style_image (st, i, styles[i].rgb, styles[i].width,
        styles[i].height, error);
    if (!ok)
      g_prefix_error (error, "style '%s' at %dx%d: ", o->style_paths[i],
          styles[i].width, styles[i].height);
  }
  ok = ok && sf_stylizer_blend_styles (st, o->blend_weights, o->n_styles,
      error);
  ok = ok && sf_stylizer_set_content (st, content->rgb, error)
      && sf_stylizer_set_image (st, noise ? noise : content->rgb, error);
  g_free (noise);
  return ok;
}

/* --color-mode luminance: the result's luminance (YIQ Y) with the
 * content's I and Q, as the element's preserve-colors. */
static void
keep_content_colours (float *rgb, const float *content, gsize n)
{
  for (gsize i = 0; i < n; i++) {
    const float *o = content;
    float y = 0.299f * rgb[i] + 0.587f * rgb[n + i] + 0.114f * rgb[2 * n + i];
    float ci = 0.596f * o[i] - 0.274f * o[n + i] - 0.322f * o[2 * n + i];
    float cq = 0.211f * o[i] - 0.523f * o[n + i] + 0.312f * o[2 * n + i];
    rgb[i] = CLAMP (y + 0.956f * ci + 0.621f * cq, 0.0f, 1.0f);
    rgb[n + i] = CLAMP (y - 0.272f * ci - 0.647f * cq, 0.0f, 1.0f);
    rgb[2 * n + i] = CLAMP (y - 1.106f * ci + 1.703f * cq, 0.0f, 1.0f);
  }
}

/* Optimises and writes the result; `content` is at the stylizer's size. */
static gboolean
optimise (SfStylizer *st, const Options *o, const char *device_name,
    const Image *content, const Image *styles, gint64 t_start,
    GError **error)
{
  SfParams p;
  SfLossTerms final = { 0 };
  Progress pr = { o, g_get_monotonic_time () };
  Image result = { content->width, content->height, NULL };
  int done = 0;
  double t_opt;
  gboolean ok;

  params_from_options (o, &p);
  if (!set_targets (st, o, content, styles, error))
    return FALSE;
  pr.start = g_get_monotonic_time ();
  if (!sf_stylizer_optimize (st, &p, o->iterations, report_progress, &pr,
          &final, &done, error))
    return FALSE;
  t_opt = elapsed_s (pr.start);
  result.rgb = g_try_new (float, 3 * (gsize) result.width * result.height);
  if (!result.rgb) {
    g_set_error (error, SF_ERROR, SF_ERROR_OUT_OF_MEMORY,
        "cannot allocate the result");
    return FALSE;
  }
  ok = sf_stylizer_get_image (st, result.rgb, error);
  if (ok && strcmp (o->color_mode, "luminance") == 0)
    keep_content_colours (result.rgb, content->rgb,
        (gsize) result.width * result.height);
  ok = ok && save_png (&result, o->output, error);
  image_clear (&result);
  if (ok && !o->quiet)
    printf ("done: %d iterations at %dx%d on %s in %.1f s (optimisation "
        "%.1f s, %.0f ms/iteration); final total %.5g content %.5g style "
        "%.5g tv %.5g; wrote %s\n", done, content->width, content->height,
        device_name, elapsed_s (t_start), t_opt,
        done > 0 ? 1e3 * t_opt / done : 0.0, final.total, final.content,
        final.style, final.tv, o->output);
  return ok;
}

static gboolean
stylize (const Options *o, GError **error)
{
  gint64 t_start = g_get_monotonic_time ();
  SfVggWeights *weights = NULL;
  SfDevice *dev = NULL;
  SfNet *net = NULL;
  SfNetOptions net_options;
  SfStylizer *st = NULL;
  Image content = { 0 }, styles[SF_MAX_STYLES] = { {0} };
  gboolean ok = FALSE;

  if (!make_parent_dir (o->output, error)      /* fail early, not after */
      || !load_image ("content", o->content, o->size, &content, error))
    goto out;
  for (guint i = 0; i < o->n_styles; i++)
    if (!load_image ("style", o->style_paths[i], o->style_size, &styles[i],
            error))
      goto out;
  if (!(weights = get_weights (o, error))
      || !(dev = sf_device_new (sf_device_selector_from_env (o->device),
              error)))
    goto out;
  /* STYLEFILTER_CONV and STYLEFILTER_PRECISION, as the element */
  sf_net_options_from_env (dev, &net_options);
  if (!(net = sf_net_new_with_options (dev, weights,
              strcmp (o->pooling, "avg") == 0 ? SF_POOL_AVG : SF_POOL_MAX,
              &net_options, error)))
    goto out;
  sf_vgg_weights_free (weights);
  weights = NULL;
  if (!(st = sf_stylizer_new (net, content.width, content.height, error))) {
    g_prefix_error (error, "content '%s' at %dx%d: ", o->content,
        content.width, content.height);
    goto out;
  }
  if (!o->quiet)
    printf ("stylizing %s (%dx%d) with %s on %s\n", o->content,
        content.width, content.height, o->style, sf_device_get_name (dev));
  fflush (stdout);
  ok = optimise (st, o, sf_device_get_name (dev), &content, styles, t_start,
      error);

out:
  sf_stylizer_free (st);
  sf_net_free (net);
  sf_device_free (dev);
  sf_vgg_weights_free (weights);
  image_clear (&content);
  for (guint i = 0; i < SF_MAX_STYLES; i++)
    image_clear (&styles[i]);
  return ok;
}

static gboolean
list_devices (GError **error)
{
  char *list = sf_device_list (error);

  if (!list)
    return FALSE;
  printf ("%s", list);
  if (*list && list[strlen (list) - 1] != '\n')
    printf ("\n");
  g_free (list);
  return TRUE;
}

/* --save-model alone: write the network and stop. */
static gboolean
save_model_only (const Options *o, GError **error)
{
  SfVggWeights *w = get_weights (o, error);

  sf_vgg_weights_free (w);
  return w != NULL;
}

int
main (int argc, char **argv)
{
  Options o;
  GOptionContext *ctx;
  GError *error = NULL;
  int status = 0;

  options_init (&o);
  ctx = options_context (&o);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)
      || !check_options (&o, &error)) {
    fprintf (stderr, "stylize: %s\nTry 'stylize --help'.\n", error->message);
    status = 2;
  } else if (o.list_devices) {
    status = list_devices (&error) ? 0 : 1;
  } else if (!o.content && !o.style && o.save_model) {
    status = save_model_only (&o, &error) ? 0 : 1;
  } else if (!o.content || !o.style) {
    fprintf (stderr, "stylize: give a content and a style image\n"
        "Try 'stylize --help'.\n");
    status = 2;
  } else {
    status = stylize (&o, &error) ? 0 : 1;
  }
  if (status == 1)
    fprintf (stderr, "stylize: %s\n", error ? error->message : "failed");
  g_clear_error (&error);
  g_option_context_free (ctx);
  options_clear (&o);
  return status;
}
