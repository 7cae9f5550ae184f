/* test-ref-peer.c - the plain-C reference against the PyTorch peer.
 *
 * test-cpu-ref.c shows that cpu-ref computes its own formulas correctly;
 * this shows that those formulas are the peer's (tests/peer/torch_gatys.py,
 * the project's definition of the loss): same default weights (saved as
 * safetensors for the peer), same 8-bit images, and the initial loss terms
 * and gradient at x = content (and at a stretched x that strays outside
 * [0,1], with the range term) must agree to float precision.  Torch runs
 * fp32 on the CPU here, hence tolerances of 1e-4 rather than 1e-12.
 *
 * Skipped when the peer or a Python with torch is missing.  Also holds the
 * unit test of the .npy reader the comparison relies on.
 */
#include <math.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cpu-ref.h"
#include "peer.h"
#include "sf-weights.h"

/* content w x h (odd aspect), style the other way round: both have the
 * longest side 24, so the peer uses them as they are. */
#define IMG_W 24
#define IMG_H 20
#define TOL 1e-4

static void
remove_tree (const char *dir, const char *const *names)
{
  for (int i = 0; names[i]; i++) {
    g_autofree char *p = g_build_filename (dir, names[i], NULL);
    g_remove (p);
  }
  g_rmdir (dir);
}

static void
write_image (const char *path, const guint8 *rgb, int w, int h)
{
  g_autoptr (GError) error = NULL;

  if (!sf_peer_write_png (path, rgb, w, h, &error))
    g_error ("%s: %s", path, error->message);
}

/* At x = content (stretch 1), or at x = (content - 0.5) * stretch + 0.5,
 * which strays outside [0,1], with the range term weighted by rw. */
static void
compare_with_peer (SfPooling pool, double rw, float stretch)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SfVggWeights) wts = NULL;
  g_autofree char *dir = NULL, *model = NULL, *cpng = NULL, *spng = NULL;
  g_autofree guint8 *crgb = NULL, *srgb = NULL;
  g_autofree float *content = NULL, *style = NULL, *x = NULL;
  g_autofree double *grad = NULL;
  const char *const names[] = { "content.png", "style.png",
    "vgg19-default-0.safetensors", NULL
  };
  const SfLossWeights lw = { 1.0, 1e3, 10.0, 0.0, rw };
  const gsize n = (gsize) 3 * IMG_W * IMG_H;
  SfPeerResult peer = { 0 };
  SfLossTerms t;
  double norm = 0.0, gerr;
  gint64 t0, t1;

  if (!sf_peer_available (&error)) {
    g_test_skip (error->message);
    return;
  }
  dir = g_dir_make_tmp ("sf-ref-peer-XXXXXX", &error);
  g_assert_no_error (error);
  model = sf_peer_save_default_weights (dir, 0, &error);
  g_assert_no_error (error);
  cpng = g_build_filename (dir, names[0], NULL);
  spng = g_build_filename (dir, names[1], NULL);
  crgb = sf_peer_make_image (IMG_W, IMG_H, 0, 1);
  srgb = sf_peer_make_image (IMG_H, IMG_W, 1, 2);
  write_image (cpng, crgb, IMG_W, IMG_H);
  write_image (spng, srgb, IMG_H, IMG_W);

  t0 = g_get_monotonic_time ();
  sf_peer_loss_range (model, cpng, spng, MAX (IMG_W, IMG_H), lw.content,
      lw.style, lw.tv, rw, stretch, pool == SF_POOL_MAX ? "max" : "avg", 0, 0,
      &peer, &error);
  g_assert_no_error (error);
  t1 = g_get_monotonic_time ();
  g_assert_cmpint (peer.grad_w, ==, IMG_W);
  g_assert_cmpint (peer.grad_h, ==, IMG_H);

  wts = sf_vgg_weights_new_default (0);
  content = sf_peer_image_to_planar (crgb, IMG_W, IMG_H);
  style = sf_peer_image_to_planar (srgb, IMG_H, IMG_W);
  grad = g_new (double, n);
  x = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    x[i] = stretch == 1.0f ? content[i] : (content[i] - 0.5f) * stretch
        + 0.5f;
  sf_ref_loss (wts, pool, x, content, IMG_W, IMG_H, style, IMG_H,
      IMG_W, &lw, &t, grad);
  for (gsize i = 0; i < n; i++)
    norm += grad[i] * grad[i];
  norm = sqrt (norm);
  gerr = sf_peer_rel_l2 (grad, peer.grad, n);

  g_test_message ("%s pooling, peer %.1f s, reference %.2f s",
      pool == SF_POOL_MAX ? "max" : "avg", (t1 - t0) / 1e6,
      (g_get_monotonic_time () - t1) / 1e6);
  g_test_message ("  total   ours %.9e peer %.6e rel %.2e", t.total,
      peer.total, sf_peer_rel (t.total, peer.total));
  g_test_message ("  style   ours %.9e peer %.6e rel %.2e", t.style,
      peer.style, sf_peer_rel (t.style, peer.style));
  g_test_message ("  tv      ours %.9e peer %.6e rel %.2e", t.tv, peer.tv,
      sf_peer_rel (t.tv, peer.tv));
  g_test_message ("  range   ours %.9e peer %.6e rel %.2e", t.range,
      peer.range, sf_peer_rel (t.range, peer.range));
  g_test_message ("  content ours %.9e peer %.6e (x %s content)", t.content,
      peer.content, stretch == 1.0f ? "=" : "stretched from");
  g_test_message ("  |grad|  ours %.9e peer %.6e rel %.2e", norm,
      peer.grad_norm, sf_peer_rel (norm, peer.grad_norm));
  g_test_message ("  gradient relative L2 difference %.2e", gerr);

  /* the peer prints 7 significant digits: 5e-7 relative at worst */
  g_assert_cmpfloat (sf_peer_rel (t.total, peer.total), <, TOL);
  g_assert_cmpfloat (sf_peer_rel (t.style, peer.style), <, TOL);
  g_assert_cmpfloat (sf_peer_rel (t.tv, peer.tv), <, TOL);
  if (stretch == 1.0f) {
    g_assert_cmpfloat (t.content, ==, 0.0);
    g_assert_cmpfloat (peer.content, ==, 0.0);
    g_assert_cmpfloat (t.range, ==, 0.0);
  } else {
    g_assert_cmpfloat (sf_peer_rel (t.content, peer.content), <, TOL);
    g_assert_cmpfloat (t.range, >, 1e-3);
    g_assert_cmpfloat (sf_peer_rel (t.range, peer.range), <, TOL);
  }
  g_assert_cmpfloat (sf_peer_rel (norm, peer.grad_norm), <, TOL);
  g_assert_cmpfloat (gerr, <, TOL);

  sf_peer_result_clear (&peer);
  remove_tree (dir, names);
}

static void
test_peer_max (void)
{
  compare_with_peer (SF_POOL_MAX, 0.0, 1.0f);
}

static void
test_peer_range (void)
{
  compare_with_peer (SF_POOL_MAX, 1e3, 2.5f);
}

static void
test_peer_avg (void)
{
  compare_with_peer (SF_POOL_AVG, 0.0, 1.0f);
}

/* ---------------------------------------------------------------------- */
/* The .npy reader                                                         */

/* Writes magic, version, header padded to 64 bytes with '\n', then data. */
static char *
write_npy (const char *dir, const char *name, int version, const char *dict,
    const void *data, gsize len)
{
  char *path = g_build_filename (dir, name, NULL);
  gsize pre = version == 1 ? 10 : 12;
  GString *s = g_string_new_len ("\x93NUMPY", 6);
  GString *h = g_string_new (dict);
  g_autoptr (GError) error = NULL;

  while ((pre + h->len + 1) % 64)
    g_string_append_c (h, ' ');
  g_string_append_c (h, '\n');
  g_string_append_c (s, (char) version);
  g_string_append_c (s, 0);
  for (gsize i = 0; i < pre - 8; i++)
    g_string_append_c (s, (char) ((h->len >> (8 * i)) & 0xff));
  g_string_append_len (s, h->str, h->len);
  g_string_append_len (s, data, len);
  g_file_set_contents (path, s->str, s->len, &error);
  g_assert_no_error (error);
  g_string_free (s, TRUE);
  g_string_free (h, TRUE);
  return path;
}

static void
test_npy (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sf-npy-XXXXXX", &error);
  const float f[6] = { 1, -2, 3.5f, 4, 5, 6.25f };
  guint64 be[2];
  gsize shape[8];
  int ndim;
  float *data = NULL;
  const char *const names[] = { "a.npy", "b.npy", "c.npy", "d.npy", "e.npy",
    NULL
  };
  char *p;

  g_assert_no_error (error);
  /* v1, little-endian float32, (2, 3), numpy's own spelling */
  p = write_npy (dir, names[0], 1,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f,
      sizeof f);
  g_assert_true (sf_peer_read_npy (p, &data, shape, &ndim, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ndim, ==, 2);
  g_assert_cmpuint (shape[0], ==, 2);
  g_assert_cmpuint (shape[1], ==, 3);
  g_assert_cmpmem (data, sizeof f, f, sizeof f);
  g_clear_pointer (&data, g_free);
  g_free (p);

  /* v2, big-endian float64, (2,), other order of keys and quotes */
  for (int i = 0; i < 2; i++) {
    double d = i ? -0.5 : 3.0;
    memcpy (&be[i], &d, 8);
    be[i] = GUINT64_TO_BE (be[i]);
  }
  p = write_npy (dir, names[1], 2,
      "{\"shape\": (2,), \"descr\": \">f8\", \"fortran_order\": False}", be,
      sizeof be);
  g_assert_true (sf_peer_read_npy (p, &data, shape, &ndim, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ndim, ==, 1);
  g_assert_cmpfloat (data[0], ==, 3.0f);
  g_assert_cmpfloat (data[1], ==, -0.5f);
  g_clear_pointer (&data, g_free);
  g_free (p);

  /* truncated data, Fortran order, unsupported dtype: errors */
  p = write_npy (dir, names[2], 1,
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f,
      sizeof f - 1);
  g_assert_false (sf_peer_read_npy (p, &data, shape, &ndim, &error));
  g_assert_error (error, SF_PEER_ERROR, SF_PEER_ERROR_NPY);
  g_clear_error (&error);
  g_free (p);
  p = write_npy (dir, names[3], 1,
      "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f,
      sizeof f);
  g_assert_false (sf_peer_read_npy (p, &data, shape, &ndim, &error));
  g_assert_error (error, SF_PEER_ERROR, SF_PEER_ERROR_NPY);
  g_clear_error (&error);
  g_free (p);
  p = write_npy (dir, names[4], 1,
      "{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }", f,
      sizeof f);
  g_assert_false (sf_peer_read_npy (p, &data, shape, &ndim, &error));
  g_assert_error (error, SF_PEER_ERROR, SF_PEER_ERROR_NPY);
  g_clear_error (&error);
  g_free (p);
  g_assert_null (data);

  remove_tree (dir, names);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ref-peer/npy", test_npy);
  g_test_add_func ("/ref-peer/max-pooling", test_peer_max);
  g_test_add_func ("/ref-peer/avg-pooling", test_peer_avg);
  g_test_add_func ("/ref-peer/range", test_peer_range);
  return g_test_run ();
}
