/* safetensors-write.c - writes VGG-19 weights as a safetensors file.
 *
 * The writer, kept apart from the reader (safetensors.c) because the two
 * share nothing but the format: the reader must distrust every byte of a
 * file the user names, the writer only lays out the thirteen convolutions
 * we hold.  It emits F32 with torchvision's key names sorted as strings,
 * `{"__metadata__":{"format":"pt"}}` first, a header padded with spaces so
 * the data starts at a multiple of 8, the same bytes for the same weights,
 * and replaces the file atomically (g_file_set_contents_full).
 */
#include "sf-weights.h"

#include <stdlib.h>
#include <string.h>

/* --- saving -------------------------------------------------------------- */

typedef struct
{
  char name[32];
  int conv;
  gboolean is_weight;
} StOut;

static int
st_out_cmp (const void *a, const void *b)
{
  return strcmp (((const StOut *) a)->name, ((const StOut *) b)->name);
}

/* The 26 tensors in the order of their names. */
static void
st_out_list (StOut out[2 * SF_VGG_NUM_CONVS])
{
  int i;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    g_snprintf (out[2 * i].name, sizeof out[0].name, "features.%d.weight",
        sf_vgg_conv_index (i));
    out[2 * i].conv = i;
    out[2 * i].is_weight = TRUE;
    g_snprintf (out[2 * i + 1].name, sizeof out[0].name, "features.%d.bias",
        sf_vgg_conv_index (i));
    out[2 * i + 1].conv = i;
    out[2 * i + 1].is_weight = FALSE;
  }
  qsort (out, 2 * SF_VGG_NUM_CONVS, sizeof (StOut), st_out_cmp);
}

static gsize
st_out_numel (const StOut * o)
{
  gsize cout = sf_vgg_conv_cout (o->conv), cin = sf_vgg_conv_cin (o->conv);

  return o->is_weight ? cout * cin * 9 : cout;
}

/* Compact JSON header, padded with spaces so 8 + N is a multiple of 8. */
static GString *
st_build_header (const StOut * out, gsize * data_len)
{
  GString *h = g_string_new ("{\"__metadata__\":{\"format\":\"pt\"}");
  gsize off = 0;
  int i;

  for (i = 0; i < 2 * SF_VGG_NUM_CONVS; i++) {
    const StOut *o = &out[i];
    gsize bytes = st_out_numel (o) * 4;

    g_string_append_printf (h, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%d",
        o->name, sf_vgg_conv_cout (o->conv));
    if (o->is_weight)
      g_string_append_printf (h, ",%d,3,3", sf_vgg_conv_cin (o->conv));
    g_string_append_printf (h, "],\"data_offsets\":[%" G_GSIZE_FORMAT
        ",%" G_GSIZE_FORMAT "]}", off, off + bytes);
    off += bytes;
  }
  g_string_append_c (h, '}');
  while ((8 + h->len) % 8 != 0)
    g_string_append_c (h, ' ');
  *data_len = off;
  return h;
}

static void
st_put_floats (guint8 * dst, const float *src, gsize n)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  memcpy (dst, src, n * sizeof (float));
#else
  gsize i;

  for (i = 0; i < n; i++) {
    guint32 b;

    memcpy (&b, &src[i], 4);
    b = GUINT32_TO_LE (b);
    memcpy (dst + 4 * i, &b, 4);
  }
#endif
}

static gboolean
st_check_save_shapes (const SfVggWeights * w, GError ** error)
{
  int i;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    const SfConvWeights *c = &w->conv[i];

    if (c->cin != sf_vgg_conv_cin (i) || c->cout != sf_vgg_conv_cout (i)
        || c->weight == NULL || c->bias == NULL) {
      g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_SHAPE,
          "conv %d is not VGG-19's %d -> %d convolution", i,
          sf_vgg_conv_cin (i), sf_vgg_conv_cout (i));
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
sf_vgg_weights_save (const SfVggWeights * w, const char *path,
    GError ** error)
{
  StOut out[2 * SF_VGG_NUM_CONVS];
  g_autoptr (GString) header = NULL;
  g_autofree guint8 *buf = NULL;
  g_autoptr (GError) err = NULL;
  gsize data_len, total, pos;
  guint64 n_le;
  int i;

  g_return_val_if_fail (w != NULL && path != NULL, FALSE);
  if (!st_check_save_shapes (w, error))
    return FALSE;

  st_out_list (out);
  header = st_build_header (out, &data_len);
  total = 8 + header->len + data_len;   /* about 52 MB: no overflow */
  buf = g_malloc (total);

  n_le = GUINT64_TO_LE ((guint64) header->len);
  memcpy (buf, &n_le, 8);
  memcpy (buf + 8, header->str, header->len);
  pos = 8 + header->len;
  for (i = 0; i < 2 * SF_VGG_NUM_CONVS; i++) {
    const SfConvWeights *c = &w->conv[out[i].conv];
    gsize n = st_out_numel (&out[i]);

    st_put_floats (buf + pos, out[i].is_weight ? c->weight : c->bias, n);
    pos += n * 4;
  }

  if (!g_file_set_contents_full (path, (const gchar *) buf, total,
          G_FILE_SET_CONTENTS_CONSISTENT, 0666, &err)) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_IO,
        "cannot write model '%s': %s", path, err->message);
    return FALSE;
  }
  return TRUE;
}
