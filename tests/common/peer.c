/* peer.c - running the PyTorch peer from the tests (see peer.h).
 *
 * The peer is a Python script; the tests talk to it through files: PNGs
 * in, a safetensors model in, text on stdout and a .npy gradient out.  So
 * this file holds a PNG writer (gdk-pixbuf), a small .npy reader, the
 * spawning of the script and the parsing of its report.
 */
#include "peer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "sf-weights.h"

#define NPY_MAX_DIMS 8

G_DEFINE_QUARK (sf-peer-error-quark, sf_peer_error)

void
sf_peer_result_clear (SfPeerResult *out)
{
  g_free (out->grad);
  memset (out, 0, sizeof (*out));
}

/* ---------------------------------------------------------------------- */
/* Finding the peer                                                        */

static char *
existing_file (char *path)
{
  if (path && g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return path;
  g_free (path);
  return NULL;
}

char *
sf_peer_script_path (void)
{
  const char *env = g_getenv ("STYLEFILTER_PEER");
  const char *src = g_getenv ("STYLEFILTER_SOURCE_DIR");
  char *path;

  if (env && *env)
    return existing_file (g_strdup (env));
  if (src && *src) {
    path = existing_file (g_build_filename (src, "tests", "peer",
            "torch_gatys.py", NULL));
    if (path)
      return path;
    path = existing_file (g_build_filename (src, "..", "shared", "peer",
            "torch_gatys.py", NULL));
    if (path)
      return path;
  }
  return existing_file (g_strdup ("/work/shared/peer/torch_gatys.py"));
}

const char *
sf_peer_python (void)
{
  const char *env = g_getenv ("STYLEFILTER_PYTHON");

  return env && *env ? env : "/usr/bin/python3";
}

/* Runs argv, collecting stdout; on a failed exit sets error with the tail
 * of stderr. */
static gboolean
run_command (char **argv, char **stdout_text, GError **error)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) status_error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
          &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, &status_error)) {
    gsize n = strlen (err);
    const char *tail = n > 4000 ? err + n - 4000 : err;
    g_set_error (error, SF_PEER_ERROR, SF_PEER_ERROR_FAILED,
        "%s %s: %s; stderr:\n%s", argv[0], argv[1] ? argv[1] : "",
        status_error->message, tail);
    return FALSE;
  }
  if (stdout_text)
    *stdout_text = g_steal_pointer (&out);
  return TRUE;
}

gboolean
sf_peer_available (GError **error)
{
  g_autofree char *script = sf_peer_script_path ();
  g_autoptr (GError) local = NULL;
  char *argv[] = { (char *) sf_peer_python (), (char *) "-c",
    (char *) "import torch, torchvision, numpy, PIL", NULL
  };

  if (!script) {
    g_set_error (error, SF_PEER_ERROR, SF_PEER_ERROR_NOT_FOUND,
        "torch_gatys.py not found (set STYLEFILTER_PEER)");
    return FALSE;
  }
  if (!g_file_test (argv[0], G_FILE_TEST_IS_EXECUTABLE)
      || !run_command (argv, NULL, &local)) {
    g_set_error (error, SF_PEER_ERROR, SF_PEER_ERROR_NOT_FOUND,
        "%s cannot import torch, torchvision, numpy and PIL%s%s", argv[0],
        local ? ": " : "", local ? local->message : "");
    return FALSE;
  }
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Images                                                                  */

static guint8
to_byte (double v)
{
  return (guint8) CLAMP (lround (v * 255.0), 0, 255);
}

/* One pixel of the image of the given kind at (fx, fy) in [0,1]^2. */
static void
image_pixel (int kind, int x, int y, double fx, double fy, GRand *rng,
    double rgb[3])
{
  if (kind == 0) {
    double blob = exp (-(pow (fx - 0.6, 2) + pow (fy - 0.4, 2)) / 0.04);
    rgb[0] = 0.2 + 0.6 * fx + 0.3 * blob;
    rgb[1] = 0.3 + 0.5 * fy - 0.2 * blob;
    rgb[2] = 0.5 + 0.3 * sin (2 * G_PI * (fx + fy)) + 0.1 * blob;
    for (int c = 0; c < 3; c++)
      rgb[c] += g_rand_double_range (rng, -0.03, 0.03);
  } else if (kind == 1) {
    double s = 0.5 + 0.5 * sin (2 * G_PI * (3 * fx + 2 * fy));
    double check = ((x / 4 + y / 4) & 1) ? 1.0 : 0.0;
    rgb[0] = 0.1 + 0.8 * s;
    rgb[1] = 0.1 + 0.7 * check;
    rgb[2] = 1.0 - 0.7 * s * check;
    for (int c = 0; c < 3; c++)
      rgb[c] += g_rand_double_range (rng, -0.1, 0.1);
  } else {
    for (int c = 0; c < 3; c++)
      rgb[c] = g_rand_double (rng);
  }
}

guint8 *
sf_peer_make_image (int w, int h, int kind, guint64 seed)
{
  guint32 seeds[2] = { (guint32) seed, (guint32) (seed >> 32) };
  GRand *rng;
  guint8 *img;
  gsize n;

  g_return_val_if_fail (w > 0 && h > 0, NULL);
  if (!g_size_checked_mul (&n, (gsize) w, (gsize) h)
      || !g_size_checked_mul (&n, n, 3))
    g_error ("sf_peer_make_image: %d x %d is too large", w, h);
  rng = g_rand_new_with_seed_array (seeds, 2);
  img = g_malloc (n);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double rgb[3];
      guint8 *p = img + ((gsize) y * w + x) * 3;
      image_pixel (kind, x, y, w > 1 ? (double) x / (w - 1) : 0.0,
          h > 1 ? (double) y / (h - 1) : 0.0, rng, rgb);
      for (int c = 0; c < 3; c++)
        p[c] = to_byte (rgb[c]);
    }
  g_rand_free (rng);
  return img;
}

float *
sf_peer_image_to_planar (const guint8 *rgb, int w, int h)
{
  gsize plane, n;
  float *out;

  g_return_val_if_fail (rgb && w > 0 && h > 0, NULL);
  if (!g_size_checked_mul (&plane, (gsize) w, (gsize) h)
      || !g_size_checked_mul (&n, plane, 3))
    g_error ("sf_peer_image_to_planar: %d x %d is too large", w, h);
  out = g_new (float, n);
  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      /* as numpy: float32(byte) / float32(255) */
      out[c * plane + i] = (float) rgb[i * 3 + c] / 255.0f;
  return out;
}

gboolean
sf_peer_write_png (const char *path, const guint8 *rgb, int w, int h,
    GError **error)
{
  g_autoptr (GdkPixbuf) pb = NULL;

  g_return_val_if_fail (path && rgb && w > 0 && h > 0, FALSE);
  g_return_val_if_fail (w <= G_MAXINT / 3, FALSE);
  pb = gdk_pixbuf_new_from_data (rgb, GDK_COLORSPACE_RGB, FALSE, 8, w, h,
      w * 3, NULL, NULL);
  return gdk_pixbuf_save (pb, path, "png", error, NULL);
}

char *
sf_peer_save_default_weights (const char *dir, guint64 seed, GError **error)
{
  g_autoptr (SfVggWeights) wts = sf_vgg_weights_new_default (seed);
  g_autofree char *name = g_strdup_printf ("vgg19-default-%" G_GUINT64_FORMAT
      ".safetensors", seed);
  char *path = g_build_filename (dir, name, NULL);

  if (!sf_vgg_weights_save (wts, path, error))
    g_clear_pointer (&path, g_free);
  return path;
}

/* ---------------------------------------------------------------------- */
/* .npy                                                                    */

/* The header is a Python dict literal, e.g.
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 20, 24), }
 * parsed here with a cursor over [p, end). */
typedef struct
{
  const char *p, *end;
} Cursor;

static void
skip_space (Cursor *c)
{
  while (c->p < c->end && g_ascii_isspace (*c->p))
    c->p++;
}

static gboolean
accept (Cursor *c, char ch)
{
  skip_space (c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return TRUE;
  }
  return FALSE;
}

static gboolean
accept_word (Cursor *c, const char *word)
{
  gsize n = strlen (word);

  skip_space (c);
  if ((gsize) (c->end - c->p) >= n && memcmp (c->p, word, n) == 0) {
    c->p += n;
    return TRUE;
  }
  return FALSE;
}

/* A quoted Python string without escapes; returns a new string or NULL. */
static char *
parse_string (Cursor *c)
{
  const char *start;
  char q;

  skip_space (c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
    return NULL;
  q = *c->p++;
  start = c->p;
  while (c->p < c->end && *c->p != q && *c->p != '\\')
    c->p++;
  if (c->p >= c->end || *c->p != q)
    return NULL;
  return g_strndup (start, c->p++ - start);
}

/* "(d0, d1, ...)" with an optional trailing comma; "()" is a scalar. */
static gboolean
parse_shape (Cursor *c, gsize shape[NPY_MAX_DIMS], int *ndim)
{
  *ndim = 0;
  if (!accept (c, '('))
    return FALSE;
  while (!accept (c, ')')) {
    char digits[24];
    gsize n = 0;
    guint64 v;

    skip_space (c);
    while (c->p < c->end && g_ascii_isdigit (*c->p) && n + 1 < sizeof digits)
      digits[n++] = *c->p++;
    digits[n] = '\0';
    if (n == 0 || *ndim >= NPY_MAX_DIMS
        || !g_ascii_string_to_unsigned (digits, 10, 0, G_MAXSIZE, &v, NULL))
      return FALSE;
    shape[(*ndim)++] = (gsize) v;
    if (!accept (c, ',')) {
      if (!accept (c, ')'))
        return FALSE;
      break;
    }
  }
  return TRUE;
}

typedef struct
{
  char byte_order;              /* '<', '>' or '=' */
  int item_size;                /* 4 or 8 */
  gboolean fortran;
  gsize shape[NPY_MAX_DIMS];
  int ndim;
} NpyHeader;

static gboolean
parse_npy_dict (Cursor *c, NpyHeader *hd)
{
  gboolean have_descr = FALSE, have_order = FALSE, have_shape = FALSE;

  if (!accept (c, '{'))
    return FALSE;
  while (!accept (c, '}')) {
    g_autofree char *key = parse_string (c);

    if (!key || !accept (c, ':'))
      return FALSE;
    if (strcmp (key, "descr") == 0) {
      g_autofree char *d = parse_string (c);
      if (!d || strlen (d) != 3 || !strchr ("<>=", d[0]) || d[1] != 'f'
          || (d[2] != '4' && d[2] != '8'))
        return FALSE;
      hd->byte_order = d[0];
      hd->item_size = d[2] - '0';
      have_descr = TRUE;
    } else if (strcmp (key, "fortran_order") == 0) {
      if (accept_word (c, "True"))
        hd->fortran = TRUE;
      else if (accept_word (c, "False"))
        hd->fortran = FALSE;
      else
        return FALSE;
      have_order = TRUE;
    } else if (strcmp (key, "shape") == 0) {
      if (!parse_shape (c, hd->shape, &hd->ndim))
        return FALSE;
      have_shape = TRUE;
    } else {
      return FALSE;
    }
    if (!accept (c, ',')) {
      if (!accept (c, '}'))
        return FALSE;
      break;
    }
  }
  return have_descr && have_order && have_shape;
}

/* One element at p of the given size and byte order, as float. */
static float
npy_element (const guint8 *p, int item_size, char order)
{
  gboolean big = order == '>' || (order == '=' && G_BYTE_ORDER == G_BIG_ENDIAN);

  if (item_size == 4) {
    guint32 u;
    float f;
    memcpy (&u, p, 4);
    u = big ? GUINT32_FROM_BE (u) : GUINT32_FROM_LE (u);
    memcpy (&f, &u, 4);
    return f;
  } else {
    guint64 u;
    double d;
    memcpy (&u, p, 8);
    u = big ? GUINT64_FROM_BE (u) : GUINT64_FROM_LE (u);
    memcpy (&d, &u, 8);
    return (float) d;
  }
}

static gboolean
npy_fail (GError **error, const char *path, const char *what)
{
  g_set_error (error, SF_PEER_ERROR, SF_PEER_ERROR_NPY, "%s: %s", path, what);
  return FALSE;
}

gboolean
sf_peer_read_npy (const char *path, float **data, gsize shape[NPY_MAX_DIMS],
    int *ndim, GError **error)
{
  g_autofree guint8 *buf = NULL;
  gsize len, hlen, start, numel = 1, nbytes;
  NpyHeader hd = { 0 };
  Cursor c;

  if (!g_file_get_contents (path, (char **) &buf, &len, error))
    return FALSE;
  if (len < 10 || memcmp (buf, "\x93NUMPY", 6) != 0)
    return npy_fail (error, path, "not a .npy file");
  if (buf[6] == 1) {
    hlen = buf[8] | (gsize) buf[9] << 8;
    start = 10;
  } else if (buf[6] == 2 || buf[6] == 3) {
    if (len < 12)
      return npy_fail (error, path, "truncated header");
    hlen = buf[8] | (gsize) buf[9] << 8 | (gsize) buf[10] << 16
        | (gsize) buf[11] << 24;
    start = 12;
  } else {
    return npy_fail (error, path, "unknown .npy format version");
  }
  if (hlen > len - start)
    return npy_fail (error, path, "header runs past the end");
  c.p = (const char *) buf + start;
  c.end = c.p + hlen;
  if (!parse_npy_dict (&c, &hd))
    return npy_fail (error, path, "unsupported header (want f4/f8 dict)");
  if (hd.fortran)
    return npy_fail (error, path, "Fortran order is not supported");
  for (int i = 0; i < hd.ndim; i++)
    if (!g_size_checked_mul (&numel, numel, hd.shape[i]))
      return npy_fail (error, path, "shape overflows");
  if (!g_size_checked_mul (&nbytes, numel, (gsize) hd.item_size)
      || numel > G_MAXSIZE / sizeof (float))
    return npy_fail (error, path, "shape overflows");
  if (nbytes != len - start - hlen)
    return npy_fail (error, path, "data size does not match the shape");

  *data = g_new (float, MAX (numel, 1));
  for (gsize i = 0; i < numel; i++)
    (*data)[i] = npy_element (buf + start + hlen + i * hd.item_size,
        hd.item_size, hd.byte_order);
  memcpy (shape, hd.shape, sizeof (hd.shape));
  *ndim = hd.ndim;
  return TRUE;
}

/* ---------------------------------------------------------------------- */
/* Running `loss`                                                          */

/* Finds "key=<number>" among the space-separated tokens of line. */
static gboolean
find_value (const char *line, const char *key, double *v)
{
  g_autofree char *pat = g_strconcat (key, "=", NULL);
  const char *p = line;
  char *end;

  while ((p = strstr (p, pat))) {
    if (p == line || p[-1] == ' ') {
      *v = g_ascii_strtod (p + strlen (pat), &end);
      return end != p + strlen (pat);
    }
    p++;
  }
  return FALSE;
}

static gboolean
parse_report (const char *text, int iters, SfPeerResult *out, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean have_initial = FALSE;

  for (int i = 0; lines[i]; i++) {
    const char *l = lines[i];
    if (g_str_has_prefix (l, "initial ")) {
      have_initial = find_value (l, "total", &out->total)
          && find_value (l, "content", &out->content)
          && find_value (l, "style", &out->style)
          && find_value (l, "tv", &out->tv)
          && find_value (l, "|grad|", &out->grad_norm);
      if (have_initial && !find_value (l, "range", &out->range))
        out->range = 0.0;
    } else if (g_str_has_prefix (l, "after ")) {
      const char *paren = strchr (l, '(');
      out->iters = atoi (l + 6);
      out->seconds = paren ? g_ascii_strtod (paren + 1, NULL) : 0.0;
      out->have_final = find_value (l, "total", &out->final_total)
          && find_value (l, "content", &out->final_content)
          && find_value (l, "style", &out->final_style)
          && find_value (l, "tv", &out->final_tv);
    }
  }
  if (!have_initial || (iters > 0 && !out->have_final)) {
    g_set_error (error, SF_PEER_ERROR, SF_PEER_ERROR_PARSE,
        "unexpected output from the peer:\n%s", text);
    return FALSE;
  }
  return TRUE;
}

static gboolean
load_gradient (const char *path, SfPeerResult *out, GError **error)
{
  gsize shape[NPY_MAX_DIMS];
  int ndim;

  if (!sf_peer_read_npy (path, &out->grad, shape, &ndim, error))
    return FALSE;
  if (ndim != 4 || shape[0] != 1 || shape[1] != 3 || shape[2] > G_MAXINT
      || shape[3] > G_MAXINT) {
    g_clear_pointer (&out->grad, g_free);
    return npy_fail (error, path, "gradient is not (1, 3, H, W)");
  }
  out->grad_h = (int) shape[2];
  out->grad_w = (int) shape[3];
  return TRUE;
}

static void
add_number (GPtrArray *argv, const char *option, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ptr_array_add (argv, g_strdup (option));
  g_ptr_array_add (argv, g_strdup (g_ascii_dtostr (buf, sizeof buf, v)));
}

gboolean
sf_peer_loss (const char *model_path, const char *content_png,
    const char *style_png, int size, double cw, double sw, double tw,
    const char *pooling, int iters, SfPeerResult *out, GError **error)
{
  return sf_peer_loss_range (model_path, content_png, style_png, size, cw,
      sw, tw, 0.0, 1.0, pooling, 0, iters, out, error);
}

gboolean
sf_peer_loss_range (const char *model_path, const char *content_png,
    const char *style_png, int size, double cw, double sw, double tw,
    double rw, double stretch, const char *pooling, guint style_layers,
    int iters, SfPeerResult *out, GError **error)
{
  SfPeerArgs a = { model_path, content_png, style_png, NULL, size, cw, sw,
    tw, rw, stretch, pooling, style_layers, iters
  };

  return sf_peer_run_loss (&a, out, error);
}

gboolean
sf_peer_run_loss (const SfPeerArgs *a, SfPeerResult *out, GError **error)
{
  const char *model_path = a->model_path, *pooling = a->pooling;
  double rw = a->rw, stretch = a->stretch;
  guint style_layers = a->style_layers;
  int iters = a->iters;
  g_autofree char *script = sf_peer_script_path ();
  g_autofree char *dir = NULL, *grad_path = NULL, *text = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;

  memset (out, 0, sizeof (*out));
  if (!script) {
    g_set_error (error, SF_PEER_ERROR, SF_PEER_ERROR_NOT_FOUND,
        "torch_gatys.py not found (set STYLEFILTER_PEER)");
    return FALSE;
  }
  dir = g_dir_make_tmp ("sf-peer-XXXXXX", error);
  if (!dir)
    return FALSE;
  grad_path = g_build_filename (dir, "grad.npy", NULL);

  g_ptr_array_add (argv, g_strdup (sf_peer_python ()));
  g_ptr_array_add (argv, g_strdup (script));
  g_ptr_array_add (argv, g_strdup ("loss"));
  if (model_path) {
    g_ptr_array_add (argv, g_strdup ("--model"));
    g_ptr_array_add (argv, g_strdup (model_path));
  }
  g_ptr_array_add (argv, g_strdup ("--content"));
  g_ptr_array_add (argv, g_strdup (a->content_png));
  g_ptr_array_add (argv, g_strdup ("--style"));
  g_ptr_array_add (argv, g_strdup (a->style_png));
  if (a->blend) {
    g_ptr_array_add (argv, g_strdup ("--style-blend-weights"));
    g_ptr_array_add (argv, g_strdup (a->blend));
  }
  g_ptr_array_add (argv, g_strdup ("--size"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", a->size));
  add_number (argv, "--content-weight", a->cw);
  add_number (argv, "--style-weight", a->sw);
  add_number (argv, "--tv-weight", a->tw);
  if (rw != 0.0)
    add_number (argv, "--range-weight", rw);
  if (stretch != 1.0)
    add_number (argv, "--stretch", stretch);
  g_ptr_array_add (argv, g_strdup ("--pooling"));
  g_ptr_array_add (argv, g_strdup (pooling ? pooling : "max"));
  if (style_layers != 0) {
    GString *list = g_string_new (NULL);
    for (int l = 0; l < 5; l++)
      if (style_layers & (1u << l))
        g_string_append_printf (list, "%s%d", list->len ? "," : "", l + 1);
    g_ptr_array_add (argv, g_strdup ("--style-layers"));
    g_ptr_array_add (argv, g_string_free (list, FALSE));
  }
  g_ptr_array_add (argv, g_strdup ("--grad-out"));
  g_ptr_array_add (argv, g_strdup (grad_path));
  if (iters > 0) {
    g_ptr_array_add (argv, g_strdup ("--iters"));
    g_ptr_array_add (argv, g_strdup_printf ("%d", iters));
  }
  g_ptr_array_add (argv, NULL);

  ok = run_command ((char **) argv->pdata, &text, error)
      && parse_report (text, iters, out, error)
      && load_gradient (grad_path, out, error);
  if (!ok)
    sf_peer_result_clear (out);
  g_remove (grad_path);
  g_rmdir (dir);
  return ok;
}

/* ---------------------------------------------------------------------- */
/* Comparisons                                                             */

double
sf_peer_rel_l2 (const double *a, const float *b, gsize n)
{
  double d = 0.0, nb = 0.0;

  for (gsize i = 0; i < n; i++) {
    d += (a[i] - b[i]) * (a[i] - b[i]);
    nb += (double) b[i] * b[i];
  }
  return nb > 0.0 ? sqrt (d / nb) : (d > 0.0 ? INFINITY : 0.0);
}

double
sf_peer_rel (double a, double b)
{
  if (a == b)
    return 0.0;
  return fabs (a - b) / fabs (b);
}
