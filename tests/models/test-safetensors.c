/* test-safetensors.c - tests of the safetensors reader and writer.
 *
 * Files are built in memory: small ones for every rule of the format (each
 * must fail with its own error code, or pass the format and then miss the
 * VGG-19 tensors), whole VGG-19 files for the model layer (F32, F16, BF16,
 * unaligned data, wrong model, extra tensors, NaN and Inf values, finite
 * extremes), and real files in a temporary directory for saving, loading
 * by path and the PyTorch peer's reader.
 */
#include "sf-weights.h"

#include <float.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* --- raw files ----------------------------------------------------------- */

/* 8-byte N, the header, data_len bytes of data (a byte pattern). */
static guint8 *
make_raw (const char *header, gsize hlen, gsize data_len, gsize * len)
{
  guint8 *f = g_malloc (8 + hlen + data_len + 1);
  guint64 n = GUINT64_TO_LE ((guint64) hlen);
  gsize i;

  memcpy (f, &n, 8);
  memcpy (f + 8, header, hlen);
  for (i = 0; i < data_len; i++)
    f[8 + hlen + i] = (guint8) (i * 37 + 1);
  *len = 8 + hlen + data_len;
  return f;
}

static void
expect_load_error (const guint8 * data, gsize len, SfModelError code)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (SfVggWeights) w = sf_vgg_weights_load_from_data (data, len,
      &err);

  g_assert_null (w);
  g_assert_nonnull (err);
  g_test_message ("error: %s", err->message);
  g_assert_error (err, SF_MODEL_ERROR, code);
}

typedef struct
{
  const char *name;
  const char *header;
  gsize hlen;                   /* 0: strlen (header) */
  gsize data_len;
  SfModelError code;
} HeaderCase;

#define T4 "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"
#define T4B "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}"
#define E(x) "{\"a\":{\"dtype\":\"F32\",\"shape\":" x ",\"data_offsets\":[0,4]}}"
#define O(x) "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":" x "}}"

/* Headers that break a rule of the format, and headers that keep them all
 * (those fail later, with MISSING, because they are no VGG-19). */
static const HeaderCase header_cases[] = {
  /* UTF-8 and JSON syntax */
  {"not-utf8", "{\"a\xff\":" T4 "}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"overlong-utf8", "{\"\xc0\xaf\":" T4 "}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"nul-byte", "{}\0 ", 4, 0, SF_MODEL_ERROR_HEADER},
  {"empty-header", "", 0, 0, SF_MODEL_ERROR_HEADER},
  {"not-json", "hello", 0, 0, SF_MODEL_ERROR_HEADER},
  {"json-array", "[]", 0, 0, SF_MODEL_ERROR_HEADER},
  {"json-string", "\"{}\"", 0, 0, SF_MODEL_ERROR_HEADER},
  {"truncated-json", "{\"a\":{\"dtype\":\"F32\"", 0, 0,
      SF_MODEL_ERROR_HEADER},
  {"truncated-string", "{\"a", 0, 0, SF_MODEL_ERROR_HEADER},
  {"trailing-garbage", "{} x", 0, 0, SF_MODEL_ERROR_HEADER},
  {"two-objects", "{}{}", 0, 0, SF_MODEL_ERROR_HEADER},
  {"comment", "{} /* c */", 0, 0, SF_MODEL_ERROR_HEADER},
  {"single-quotes", "{'a':" T4 "}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"bare-key", "{a:" T4 "}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"trailing-comma", "{\"a\":" T4 ",}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"hex-number", E ("[0x1]"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"leading-zero", E ("[01]"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"control-char", "{\"a\tb\":" T4 "}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"bad-escape", "{\"a\\x\":" T4 "}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"lone-surrogate", "{\"\\ud800\":" T4 "}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"nul-escape", "{\"a\\u0000\":" T4 "}", 0, 4, SF_MODEL_ERROR_HEADER},
  /* keys */
  {"duplicate-name", "{\"a\":" T4 ",\"a\":" T4B "}", 0, 8,
      SF_MODEL_ERROR_DUPLICATE},
  {"duplicate-escaped", "{\"a\":" T4 ",\"\\u0061\":" T4B "}", 0, 8,
      SF_MODEL_ERROR_DUPLICATE},
  {"duplicate-field", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"U8\","
        "\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4,
      SF_MODEL_ERROR_DUPLICATE},
  {"duplicate-metadata", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
      0, SF_MODEL_ERROR_DUPLICATE},
  {"metadata-number", "{\"__metadata__\":{\"k\":1}}", 0, 0,
      SF_MODEL_ERROR_HEADER},
  {"metadata-object", "{\"__metadata__\":{\"k\":{}}}", 0, 0,
      SF_MODEL_ERROR_HEADER},
  {"metadata-array", "{\"__metadata__\":[\"k\"]}", 0, 0,
      SF_MODEL_ERROR_HEADER},
  /* tensor entries */
  {"entry-not-object", "{\"a\":[0,4]}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"no-dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 4,
      SF_MODEL_ERROR_HEADER},
  {"no-shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 0, 4,
      SF_MODEL_ERROR_HEADER},
  {"no-offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, 4,
      SF_MODEL_ERROR_HEADER},
  {"dtype-number", "{\"a\":{\"dtype\":4,\"shape\":[1],"
        "\"data_offsets\":[0,4]}}", 0, 4, SF_MODEL_ERROR_HEADER},
  {"unknown-dtype", "{\"a\":{\"dtype\":\"Q8\",\"shape\":[1],"
        "\"data_offsets\":[0,1]}}", 0, 1, SF_MODEL_ERROR_DTYPE},
  {"lowercase-dtype", "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],"
        "\"data_offsets\":[0,4]}}", 0, 4, SF_MODEL_ERROR_DTYPE},
  {"sub-byte-dtype", "{\"a\":{\"dtype\":\"F4\",\"shape\":[2],"
        "\"data_offsets\":[0,1]}}", 0, 1, SF_MODEL_ERROR_DTYPE},
  /* shapes */
  {"shape-negative", E ("[-1]"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"shape-fraction", E ("[1.5]"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"shape-integral-float", E ("[1.0]"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"shape-exponent", E ("[1e0]"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"shape-string", E ("[\"1\"]"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"shape-not-array", E ("1"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"shape-past-int64", E ("[18446744073709551617]"), 0, 4,
      SF_MODEL_ERROR_HEADER},
  {"shape-huge", E ("[9223372036854775807]"), 0, 4, SF_MODEL_ERROR_SIZE},
  {"shape-product-wraps", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,"
        "4294967296],\"data_offsets\":[0,0]}}", 0, 0, SF_MODEL_ERROR_SIZE},
  {"shape-bytes-wrap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2147483648,"
        "2147483648],\"data_offsets\":[0,0]}}", 0, 0, SF_MODEL_ERROR_SIZE},
  {"shape-wraps-before-zero", "{\"a\":{\"dtype\":\"U8\",\"shape\":"
        "[4294967296,4294967296,0],\"data_offsets\":[0,0]}}", 0, 0,
      SF_MODEL_ERROR_SIZE},
  {"size-mismatch", E ("[2]"), 0, 4, SF_MODEL_ERROR_SIZE},
  {"size-mismatch-dtype", "{\"a\":{\"dtype\":\"F16\",\"shape\":[1],"
        "\"data_offsets\":[0,4]}}", 0, 4, SF_MODEL_ERROR_SIZE},
  /* offsets */
  {"offsets-one", O ("[4]"), 0, 4, SF_MODEL_ERROR_OFFSETS},
  {"offsets-three", O ("[0,4,4]"), 0, 4, SF_MODEL_ERROR_OFFSETS},
  {"offsets-empty", O ("[]"), 0, 4, SF_MODEL_ERROR_OFFSETS},
  {"offsets-negative", O ("[-4,0]"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"offsets-fraction", O ("[0,4.0]"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"offsets-not-array", O ("4"), 0, 4, SF_MODEL_ERROR_HEADER},
  {"offsets-reversed", O ("[4,0]"), 0, 4, SF_MODEL_ERROR_OFFSETS},
  {"offsets-huge", O ("[9223372036854775803,9223372036854775807]"), 0, 4,
      SF_MODEL_ERROR_OFFSETS},
  {"gap", "{\"a\":" T4 ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],"
        "\"data_offsets\":[8,12]}}", 0, 12, SF_MODEL_ERROR_OFFSETS},
  {"gap-at-start", O ("[4,8]"), 0, 8, SF_MODEL_ERROR_OFFSETS},
  {"overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
        "[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
        "[4,12]}}", 0, 12, SF_MODEL_ERROR_OFFSETS},
  {"same-offsets", "{\"a\":" T4 ",\"b\":" T4 "}", 0, 4,
      SF_MODEL_ERROR_OFFSETS},
  {"past-end", O ("[0,4]"), 0, 2, SF_MODEL_ERROR_TRUNCATED},
  {"trailing-bytes", O ("[0,4]"), 0, 5, SF_MODEL_ERROR_OFFSETS},
  {"data-without-tensors", "{}", 0, 4, SF_MODEL_ERROR_OFFSETS},
  /* valid safetensors, but not VGG-19 */
  {"empty-object", "{}", 0, 0, SF_MODEL_ERROR_MISSING},
  {"padded", "   {}        ", 0, 0, SF_MODEL_ERROR_MISSING},
  {"padded-mixed", "\n\t{ } \r\n", 0, 0, SF_MODEL_ERROR_MISSING},
  {"metadata", "{\"__metadata__\":{\"format\":\"pt\"},\"a\":" T4 "}", 0, 4,
      SF_MODEL_ERROR_MISSING},
  {"metadata-null", "{\"__metadata__\":null}", 0, 0,
      SF_MODEL_ERROR_MISSING},
  {"unsorted-entries", "{\"b\":" T4B ",\"a\":" T4 "}", 0, 8,
      SF_MODEL_ERROR_MISSING},
  {"empty-tensors", "{\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],"
        "\"data_offsets\":[4,4]},\"a\":" T4 ",\"s\":{\"dtype\":\"U8\","
        "\"shape\":[],\"data_offsets\":[4,5]}}", 0, 5,
      SF_MODEL_ERROR_MISSING},
  {"unknown-member", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
        "\"data_offsets\":[0,4],\"x\":{\"y\":[true,null,-1.5e3]}}}", 0, 4,
      SF_MODEL_ERROR_MISSING},
  {"unicode-names", "{\"caf\xc3\xa9\":" T4 ",\"\\ud83d\\ude00\\u00e9\":"
        T4B "}", 0, 8, SF_MODEL_ERROR_MISSING},
  {"negative-zero", E ("[-0]"), 0, 0, SF_MODEL_ERROR_SIZE},
  {"json-escapes", "{\"\\/\\b\\f\\n\\r\\t\\\"\\\\\\u00e9\\uD83D\\uDE00\":" T4
        ",\"\xf0\x9f\x98\x80\x7f\":" T4B "}", 0, 8, SF_MODEL_ERROR_MISSING},
  {"json-numbers", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
        "[0,4],\"x\":[0.5e-3,1E+2,-0.0,-1,1e400,123456789.125,false]}}",
        0, 4, SF_MODEL_ERROR_MISSING},
};

static void
test_header_case (gconstpointer p)
{
  const HeaderCase *c = p;
  gsize hlen = c->hlen ? c->hlen : strlen (c->header), len;
  g_autofree guint8 *f = make_raw (c->header, hlen, c->data_len, &len);

  expect_load_error (f, len, c->code);
}

static void
test_short_file (void)
{
  static const guint8 zeros[8] = { 0 };
  gsize n;

  expect_load_error (NULL, 0, SF_MODEL_ERROR_TRUNCATED);
  for (n = 1; n < 8; n++)
    expect_load_error (zeros, n, SF_MODEL_ERROR_TRUNCATED);
  /* N = 0: an empty header is no JSON object. */
  expect_load_error (zeros, 8, SF_MODEL_ERROR_HEADER);
}

static void
test_header_size (void)
{
  static const guint64 sizes[] = {
    3, 100, G_GUINT64_CONSTANT (100000001), G_MAXUINT32,
    G_GUINT64_CONSTANT (0xfffffffffffffff8), G_MAXUINT64,
  };
  gsize i, len;
  g_autofree guint8 *f = make_raw ("{}", 2, 0, &len);

  for (i = 0; i < G_N_ELEMENTS (sizes); i++) {
    guint64 n = GUINT64_TO_LE (sizes[i]);
    g_autofree guint8 *g = g_malloc (len);

    memcpy (g, f, len);
    memcpy (g, &n, 8);
    expect_load_error (g, len, SF_MODEL_ERROR_HEADER_SIZE);
  }
}

/* Nesting is bounded before json-glib sees the text. */
static void
test_deep_nesting (void)
{
  GString *h = g_string_new ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
      "\"data_offsets\":[0,4],\"x\":");
  g_autofree guint8 *f = NULL;
  gsize len;
  int i;

  for (i = 0; i < 100000; i++)
    g_string_append_c (h, '[');
  for (i = 0; i < 100000; i++)
    g_string_append_c (h, ']');
  g_string_append (h, "}}");
  f = make_raw (h->str, h->len, 4, &len);
  expect_load_error (f, len, SF_MODEL_ERROR_HEADER);
  g_string_free (h, TRUE);
}

/* --- VGG-19 files -------------------------------------------------------- */

typedef struct
{
  GString *json;
  GByteArray *data;
} Builder;

static void
builder_init (Builder * b)
{
  b->json = g_string_new ("\"__metadata__\":{\"format\":\"pt\"}");
  /* Room for a whole VGG-19 file in F32 and the extras: no reallocation. */
  b->data = g_byte_array_sized_new (52 * 1024 * 1024);
}

/* Appends a tensor; its bytes (zeros when src is NULL) go at the end of
 * the data. */
static void
builder_add (Builder * b, const char *name, const char *dtype,
    const guint64 * shape, guint rank, gsize elsize, const void *src)
{
  gsize numel = 1, begin = b->data->len, nbytes;
  guint i;

  g_string_append_printf (b->json, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[",
      name, dtype);
  for (i = 0; i < rank; i++) {
    g_string_append_printf (b->json, "%s%" G_GUINT64_FORMAT, i ? "," : "",
        shape[i]);
    numel *= shape[i];
  }
  nbytes = numel * elsize;
  g_byte_array_set_size (b->data, begin + nbytes);
  if (src)
    memcpy (b->data->data + begin, src, nbytes);
  else
    memset (b->data->data + begin, 0, nbytes);
  g_string_append_printf (b->json, "],\"data_offsets\":[%" G_GSIZE_FORMAT
      ",%" G_GSIZE_FORMAT "]}", begin, begin + nbytes);
}

/* The file: lead spaces before '{', then trailing spaces until
 * (8 + N) % 4 == misalign. */
static guint8 *
builder_finish (Builder * b, guint lead, guint misalign, gsize * len)
{
  GString *h = g_string_new (NULL);
  guint64 n;
  guint8 *f;

  g_string_append_printf (h, "%*s{%s}", (int) lead, "", b->json->str);
  while ((8 + h->len) % 4 != misalign)
    g_string_append_c (h, ' ');
  n = GUINT64_TO_LE ((guint64) h->len);
  *len = 8 + h->len + b->data->len;
  f = g_malloc (*len);
  memcpy (f, &n, 8);
  memcpy (f + 8, h->str, h->len);
  memcpy (f + 8 + h->len, b->data->data, b->data->len);
  g_string_free (h, TRUE);
  g_string_free (b->json, TRUE);
  g_byte_array_unref (b->data);
  return f;
}

typedef struct
{
  const char *dtype;            /* F32 from the weights; F16, BF16 patterns */
  const char *skip;             /* leave this tensor out */
  const char *reshape;          /* give this tensor shape [cout, cin, 5, 5] */
  const char *f64;              /* write this tensor as F64 zeros */
  gboolean extras;              /* add the rest of a torchvision / timm file */
  gboolean gap;                 /* leave 4 unused bytes before the extras */
  guint lead;
  guint misalign;
  const char *poke;             /* in this tensor, element poke_at ... */
  gsize poke_at;
  guint32 poke_bits;            /* ... gets these bits (low 16 in F16, BF16) */
} VggOpts;

/* The 16-bit pattern of element k of tensor t in F16 and BF16 files: every
 * finite pattern appears (features.10.weight alone has 294,912 elements).
 * The loader refuses infinities and NaNs (exponent all ones), so those
 * patterns lose the top bit of their exponent and become finite ones. */
static guint16
pattern16 (int t, gsize k, gboolean bf16)
{
  guint16 h = (guint16) (k + (gsize) t * 4099);
  guint16 ex = bf16 ? 0x7f80 : 0x7c00;

  return (h & ex) == ex ? h ^ 0x4000 : h;
}

/* Overwrites element k (of elsize bytes) of the tensor that begins at
 * begin with the low bytes of bits, little-endian. */
static void
poke_element (Builder * b, gsize begin, gsize elsize, gsize k, guint32 bits)
{
  guint8 le[4] = { bits, bits >> 8, bits >> 16, bits >> 24 };

  g_assert_cmpuint (begin + (k + 1) * elsize, <=, b->data->len);
  memcpy (b->data->data + begin + k * elsize, le, elsize);
}

static void
add_vgg_tensor (Builder * b, const SfVggWeights * w, int i, gboolean weight,
    const VggOpts * o)
{
  const SfConvWeights *c = &w->conv[i];
  guint64 shape[4] = { c->cout, c->cin, 3, 3 };
  guint rank = weight ? 4 : 1;
  gsize numel = weight ? (gsize) c->cout * c->cin * 9 : (gsize) c->cout, k;
  gsize begin = b->data->len;
  gboolean bf16 = strcmp (o->dtype, "BF16") == 0;
  char name[64];

  g_snprintf (name, sizeof name, "features.%d.%s", c->index,
      weight ? "weight" : "bias");
  if (o->skip && strcmp (o->skip, name) == 0)
    return;
  if (o->reshape && strcmp (o->reshape, name) == 0) {
    shape[2] = shape[3] = 5;
    builder_add (b, name, "F32", shape, rank, 4, NULL);
  } else if (o->f64 && strcmp (o->f64, name) == 0) {
    builder_add (b, name, "F64", shape, rank, 8, NULL);
  } else if (strcmp (o->dtype, "F32") == 0) {
    builder_add (b, name, "F32", shape, rank, 4,
        weight ? c->weight : c->bias);
  } else {
    g_autofree guint16 *bits = g_new (guint16, numel);

    for (k = 0; k < numel; k++)
      bits[k] = GUINT16_TO_LE (pattern16 (2 * i + !weight, k, bf16));
    builder_add (b, name, o->dtype, shape, rank, 2, bits);
  }
  if (o->poke && strcmp (o->poke, name) == 0)
    poke_element (b, begin, strcmp (o->dtype, "F32") == 0 ? 4 : 2,
        o->poke_at, o->poke_bits);
}

static void
add_extras (Builder * b)
{
  static const guint64 s1000[] = { 1000 }, s512[] = { 512 };
  static const guint64 s44[] = { 4, 4 }, s3[] = { 3, 3, 3, 3 };

  builder_add (b, "features.34.bias", "F32", s512, 1, 4, NULL);
  builder_add (b, "features.30.weight", "BF16", s3, 4, 2, NULL);
  builder_add (b, "classifier.6.bias", "F32", s1000, 1, 4, NULL);
  builder_add (b, "classifier.0.weight", "F16", s44, 2, 2, NULL);
  builder_add (b, "pre_logits.fc1.weight", "I64", s44, 2, 8, NULL);
  builder_add (b, "head.fc.bias", "F32", s1000, 1, 4, NULL);
}

static guint8 *
build_vgg (const SfVggWeights * w, const VggOpts * o, gsize * len)
{
  Builder b;
  int i;

  builder_init (&b);
  /* Biases of later convs first: the reader must not rely on order. */
  for (i = SF_VGG_NUM_CONVS - 1; i >= 0; i--)
    add_vgg_tensor (&b, w, i, FALSE, o);
  for (i = 0; i < SF_VGG_NUM_CONVS; i++)
    add_vgg_tensor (&b, w, i, TRUE, o);
  if (o->gap)
    g_byte_array_set_size (b.data, b.data->len + 4);
  if (o->extras)
    add_extras (&b);
  return builder_finish (&b, o->lead, o->misalign, len);
}

static void
assert_same_weights (const SfVggWeights * a, const SfVggWeights * b)
{
  int i;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    gsize nw = (gsize) a->conv[i].cout * a->conv[i].cin * 9 * 4;
    gsize nb = (gsize) a->conv[i].cout * 4;

    g_assert_cmpmem (a->conv[i].weight, nw, b->conv[i].weight, nw);
    g_assert_cmpmem (a->conv[i].bias, nb, b->conv[i].bias, nb);
  }
}

static SfVggWeights *
load_ok (const guint8 * f, gsize len)
{
  g_autoptr (GError) err = NULL;
  SfVggWeights *w = sf_vgg_weights_load_from_data (f, len, &err);

  g_assert_no_error (err);
  g_assert_nonnull (w);
  return w;
}

static void
test_vgg_f32 (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new_default (3);
  guint misalign;

  /* 8 + N at every remainder mod 4: the data is unaligned in three. */
  for (misalign = 0; misalign < 4; misalign++) {
    VggOpts o = {.dtype = "F32",.lead = misalign,.misalign = misalign };
    gsize len;
    g_autofree guint8 *f = build_vgg (w, &o, &len);
    g_autoptr (SfVggWeights) v = load_ok (f, len);

    assert_same_weights (w, v);
  }
}

/* Reference conversions, written differently from the loader's. */
static float
ref_half (guint16 h)
{
  int e = (h >> 10) & 31, m = h & 1023;
  float v;

  if (e == 31)
    v = m ? NAN : INFINITY;
  else if (e == 0)
    v = ldexpf ((float) m, -24);
  else
    v = ldexpf ((float) (m + 1024), e - 25);
  return (h & 0x8000) ? -v : v;
}

static guint32
float_bits (float f)
{
  guint32 b;

  memcpy (&b, &f, 4);
  return b;
}

static void
check_half (guint16 h, float got)
{
  float want = ref_half (h);

  if (isnan (want)) {
    /* NaN keeps its sign and payload. */
    g_assert_true (isnan (got));
    g_assert_cmphex (float_bits (got), ==, ((guint32) (h & 0x8000) << 16)
        | 0x7f800000u | ((guint32) (h & 0x3ff) << 13));
  } else {
    g_assert_cmphex (float_bits (got), ==, float_bits (want));
  }
#ifdef __FLT16_MANT_DIG__
  {
    _Float16 x;
    float y;

    memcpy (&x, &h, 2);
    y = (float) x;
    if (isnan (y))
      g_assert_true (isnan (got));
    else
      g_assert_cmphex (float_bits (got), ==, float_bits (y));
  }
#endif
}

static void
test_ref_half (void)
{
  static const struct
  {
    guint16 h;
    float f;
  } known[] = {
    {0x0000, 0.0f}, {0x0001, 0x1p-24f}, {0x03ff, 0x3ffp-24f},
    {0x0400, 0x1p-14f}, {0x3c00, 1.0f}, {0xc000, -2.0f}, {0x3555, 0.333251953125f}, {0x7bff, 65504.0f}, {0x7c00, INFINITY},
    {0xfc00, -INFINITY}, {0x8001, -0x1p-24f},
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (known); i++)
    g_assert_cmphex (float_bits (ref_half (known[i].h)), ==,
        float_bits (known[i].f));
  g_assert_cmphex (float_bits (ref_half (0x8000)), ==, 0x80000000u);
  g_assert_true (isnan (ref_half (0x7e00)));
}

static void
check_16bit_file (const SfVggWeights * v, gboolean bf16)
{
  int i, k;
  gsize j;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    for (k = 0; k < 2; k++) {
      const SfConvWeights *c = &v->conv[i];
      const float *got = k == 0 ? c->weight : c->bias;
      gsize n = k == 0 ? (gsize) c->cout * c->cin * 9 : (gsize) c->cout;

      for (j = 0; j < n; j++) {
        guint16 h = pattern16 (2 * i + k, j, bf16);

        if (bf16)
          g_assert_cmphex (float_bits (got[j]), ==, (guint32) h << 16);
        else
          check_half (h, got[j]);
      }
    }
  }
}

static void
test_vgg_f16 (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new ();
  VggOpts o = {.dtype = "F16",.lead = 1,.misalign = 1 };
  gsize len;
  g_autofree guint8 *f = build_vgg (w, &o, &len);
  g_autoptr (SfVggWeights) v = load_ok (f, len);

  check_16bit_file (v, FALSE);
}

static void
test_vgg_bf16 (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new ();
  VggOpts o = {.dtype = "BF16",.misalign = 3 };
  gsize len;
  g_autofree guint8 *f = build_vgg (w, &o, &len);
  g_autoptr (SfVggWeights) v = load_ok (f, len);

  check_16bit_file (v, TRUE);
}

/* Loads f and checks the error code and that the message names each of
 * the words. */
static void
expect_named_error (const guint8 * f, gsize len, SfModelError code,
    const char *const *words)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (SfVggWeights) v = sf_vgg_weights_load_from_data (f, len, &err);

  g_assert_null (v);
  g_assert_error (err, SF_MODEL_ERROR, code);
  g_test_message ("error: %s", err->message);
  for (; *words; words++)
    g_assert_nonnull (strstr (err->message, *words));
}

static void
test_vgg_wrong_model (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new_default (5);
  static const char *const missing[] = { "'features.28.bias'", NULL };
  static const char *const shape[] = { "'features.5.weight'",
    "[128, 64, 3, 3]", "[128, 64, 5, 5]", NULL
  };
  static const char *const dtype[] = { "'features.0.bias'", "F64", NULL };
  const VggOpts opts[] = {
    {.dtype = "F32",.skip = "features.28.bias"},
    {.dtype = "F32",.reshape = "features.5.weight"},
    {.dtype = "F32",.f64 = "features.0.bias"},
    {.dtype = "F32",.extras = TRUE,.gap = TRUE},
  };
  const SfModelError codes[] = { SF_MODEL_ERROR_MISSING,
    SF_MODEL_ERROR_SHAPE, SF_MODEL_ERROR_DTYPE, SF_MODEL_ERROR_OFFSETS
  };
  const char *const *words[] = { missing, shape, dtype, missing + 1 };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (opts); i++) {
    gsize len;
    g_autofree guint8 *f = build_vgg (w, &opts[i], &len);

    expect_named_error (f, len, codes[i], words[i]);
  }
}

/* torchvision's and timm's whole files: the rest is checked, then ignored. */
static void
test_vgg_extras (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new_default (6);
  VggOpts o = {.dtype = "F32",.extras = TRUE,.misalign = 2 };
  gsize len;
  g_autofree guint8 *f = build_vgg (w, &o, &len);
  g_autoptr (SfVggWeights) v = load_ok (f, len);

  assert_same_weights (w, v);
}

/* --- values ------------------------------------------------------------- */

/* One NaN or infinity in one of the 26 tensors: the file is refused with
 * VALUE, and the message names the tensor, the value and the element. */
typedef struct
{
  const char *name;
  const char *dtype;
  const char *tensor;
  gsize at;
  gsize numel;                  /* of the tensor */
  guint32 bits;                 /* F32 bits, or F16 / BF16 in the low 16 */
  const char *what;
} BadValue;

static const BadValue bad_values[] = {
  {"f32-nan-weight", "F32", "features.10.weight", 1234, 294912, 0x7fc00000,
      "NaN"},
  {"f32-inf-bias", "F32", "features.28.bias", 511, 512, 0x7f800000, "+Inf"},
  {"f32-minus-inf", "F32", "features.0.weight", 0, 1728, 0xff800000,
      "-Inf"},
  {"f32-negative-nan", "F32", "features.5.bias", 7, 128, 0xffffffff, "NaN"},
  {"f32-signalling-nan", "F32", "features.21.weight", 2359295, 2359296,
      0x7f800001, "NaN"},
  {"f16-nan", "F16", "features.7.weight", 4321, 147456, 0x7e00, "NaN"},
  {"f16-minus-inf", "F16", "features.12.bias", 0, 256, 0xfc00, "-Inf"},
  {"bf16-nan", "BF16", "features.2.bias", 63, 64, 0x7fc0, "NaN"},
  {"bf16-inf", "BF16", "features.16.weight", 100000, 589824, 0x7f80,
      "+Inf"},
};

static void
test_vgg_bad_value (gconstpointer p)
{
  const BadValue *c = p;
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new_default (7);
  VggOpts o = {.dtype = c->dtype,.misalign = 1,.poke = c->tensor,
    .poke_at = c->at,.poke_bits = c->bits
  };
  g_autofree char *quoted = g_strdup_printf ("'%s'", c->tensor);
  g_autofree char *where = g_strdup_printf ("%s at element %" G_GSIZE_FORMAT
      " (of %" G_GSIZE_FORMAT ")", c->what, c->at, c->numel);
  const char *const words[] = { quoted, where, NULL };
  gsize len;
  g_autofree guint8 *f = build_vgg (w, &o, &len);

  expect_named_error (f, len, SF_MODEL_ERROR_VALUE, words);
}

/* Several bad values: the first tensor in network order (weight before
 * bias) and its first bad element are named. */
static void
test_vgg_first_bad_value (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new_default (8);
  VggOpts o = {.dtype = "F32" };
  static const char *const words[] = { "'features.10.weight'",
    "NaN at element 10 (of 294912)", NULL
  };
  gsize len;
  g_autofree guint8 *f = NULL;

  w->conv[4].weight[20] = INFINITY;
  w->conv[4].weight[10] = NAN;
  w->conv[4].bias[0] = NAN;
  w->conv[9].weight[0] = -INFINITY;
  f = build_vgg (w, &o, &len);
  expect_named_error (f, len, SF_MODEL_ERROR_VALUE, words);
}

static float
float_from_bits (guint32 b)
{
  float f;

  memcpy (&f, &b, 4);
  return f;
}

/* Finite extremes still load, bit for bit: the largest floats, the
 * smallest normal, denormals, negative zero.  (The F16 and BF16 tests
 * above cover those dtypes' largest values and subnormals.) */
static void
test_vgg_extreme_values (void)
{
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new_default (9);
  static const guint32 extremes[] = {
    0x7f7fffff, 0xff7fffff,     /* +-FLT_MAX */
    0x00800000, 0x80800000,     /* +-FLT_MIN */
    0x00000001, 0x80000001,     /* +-FLT_TRUE_MIN */
    0x007fffff, 0x807fffff,     /* largest denormals */
    0x80000000,                 /* -0 */
  };
  VggOpts o = {.dtype = "F32",.misalign = 3 };
  gsize i, len;
  g_autofree guint8 *f = NULL;
  g_autoptr (SfVggWeights) v = NULL;

  g_assert_cmpfloat (float_from_bits (extremes[0]), ==, FLT_MAX);
  g_assert_cmpfloat (float_from_bits (extremes[4]), ==, FLT_TRUE_MIN);
  for (i = 0; i < G_N_ELEMENTS (extremes); i++) {
    w->conv[0].weight[i] = float_from_bits (extremes[i]);
    w->conv[12].bias[511 - i] = float_from_bits (extremes[i]);
    w->conv[6].weight[1000 + i] = float_from_bits (extremes[i]);
  }
  f = build_vgg (w, &o, &len);
  v = load_ok (f, len);
  assert_same_weights (w, v);
}

/* --- files on disk ------------------------------------------------------- */

static char *
read_file (const char *path, gsize * len)
{
  g_autoptr (GError) err = NULL;
  char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, len, &err));
  g_assert_no_error (err);
  return contents;
}

static void
test_save_round_trip (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sf-models-XXXXXX", &err);
  g_autofree char *p1 = g_build_filename (dir, "a.safetensors", NULL);
  g_autofree char *p2 = g_build_filename (dir, "b.safetensors", NULL);
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new_default (11);
  g_autoptr (SfVggWeights) v = NULL;
  g_autofree char *f1 = NULL, *f2 = NULL;
  gsize l1, l2;
  guint64 n;

  g_assert_no_error (err);
  g_assert_true (sf_vgg_weights_save (w, p1, &err));
  g_assert_no_error (err);
  v = sf_vgg_weights_load (p1, &err);
  g_assert_no_error (err);
  assert_same_weights (w, v);
  g_assert_true (sf_vgg_weights_save (v, p2, &err));
  g_assert_no_error (err);

  f1 = read_file (p1, &l1);
  f2 = read_file (p2, &l2);
  g_assert_cmpmem (f1, l1, f2, l2);

  /* Layout: data at a multiple of 8, F32 only, keys sorted, 4 bytes per
   * parameter. */
  memcpy (&n, f1, 8);
  n = GUINT64_FROM_LE (n);
  g_assert_cmpuint ((8 + n) % 8, ==, 0);
  g_assert_cmpuint (l1, ==, 8 + n + 4 * 12944960);
  g_assert_true (g_str_has_prefix (f1 + 8, "{\"__metadata__\":{\"format\":"
          "\"pt\"},\"features.0.bias\":{\"dtype\":\"F32\",\"shape\":[64],"
          "\"data_offsets\":[0,256]},\"features.0.weight\":"));
  g_assert_nonnull (g_strstr_len (f1 + 8, n, "\"features.10.bias\""));
  g_assert_true (g_strstr_len (f1 + 8, n, "\"features.10.bias\"")
      < g_strstr_len (f1 + 8, n, "\"features.2.bias\""));
  g_assert_null (g_strstr_len (f1 + 8, n, "F16"));

  g_assert_cmpint (g_unlink (p1), ==, 0);
  g_assert_cmpint (g_unlink (p2), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_io_errors (void)
{
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = g_dir_make_tmp ("sf-models-XXXXXX", &err);
  g_autofree char *none = g_build_filename (dir, "none.safetensors", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty", NULL);
  g_autofree char *sub = g_build_filename (dir, "no-such-dir", "x", NULL);
  g_autoptr (SfVggWeights) w = sf_vgg_weights_new ();

  g_assert_null (sf_vgg_weights_load (none, &err));
  g_assert_error (err, SF_MODEL_ERROR, SF_MODEL_ERROR_IO);
  g_assert_nonnull (strstr (err->message, none));
  g_clear_error (&err);

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_null (sf_vgg_weights_load (empty, &err));
  g_assert_error (err, SF_MODEL_ERROR, SF_MODEL_ERROR_TRUNCATED);
  g_assert_nonnull (strstr (err->message, empty));
  g_clear_error (&err);

  g_assert_false (sf_vgg_weights_save (w, sub, &err));
  g_assert_error (err, SF_MODEL_ERROR, SF_MODEL_ERROR_IO);
  g_assert_nonnull (strstr (err->message, sub));
  g_clear_error (&err);

  g_assert_cmpint (g_unlink (empty), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* --- the PyTorch peer's reader ------------------------------------------- */

/* torch_gatys.py: $STYLEFILTER_PEER_DIR, or shared/peer beside or inside
 * the source tree. */
static char *
find_peer_dir (void)
{
  const char *env = g_getenv ("STYLEFILTER_PEER_DIR");
  const char *src = g_getenv ("STYLEFILTER_SOURCE_DIR");
  const char *const up[] = { "..", "." };
  gsize i;

  if (env)
    return g_strdup (env);
  if (src == NULL)
    src = SF_TEST_SOURCE_DIR;
  for (i = 0; i < G_N_ELEMENTS (up); i++) {
    g_autofree char *dir = g_build_filename (src, up[i], "shared", "peer",
        NULL);
    g_autofree char *py = g_build_filename (dir, "torch_gatys.py", NULL);

    if (g_file_test (py, G_FILE_TEST_EXISTS))
      return g_steal_pointer (&dir);
  }
  return NULL;
}

/* What the Python below prints for each tensor, in network order, bias
 * first: name, shape, the bits of its first, second and last values. */
static char *
expected_peer_output (const SfVggWeights * w)
{
  GString *s = g_string_new (NULL);
  int i, k;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    const SfConvWeights *c = &w->conv[i];

    for (k = 0; k < 2; k++) {
      const float *v = k ? c->weight : c->bias;
      gsize n = k ? (gsize) c->cout * c->cin * 9 : (gsize) c->cout;

      if (k)
        g_string_append_printf (s, "features.%d.weight %d,%d,3,3", c->index,
            c->cout, c->cin);
      else
        g_string_append_printf (s, "features.%d.bias %d", c->index, c->cout);
      g_string_append_printf (s, " %08x %08x %08x\n", float_bits (v[0]),
          float_bits (v[1]), float_bits (v[n - 1]));
    }
  }
  g_string_append (s, "26\n");
  return g_string_free (s, FALSE);
}

static void
test_peer_reader (void)
{
  static const char script[] =
      "import sys\n"
      "sys.path.insert(0, sys.argv[1])\n"
      "import numpy as np\n"
      "from torch_gatys import read_safetensors\n"
      "t = read_safetensors(sys.argv[2])\n"
      "for i in (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28):\n"
      "    for part in ('bias', 'weight'):\n"
      "        k = 'features.%d.%s' % (i, part)\n"
      "        a = t[k].numpy().reshape(-1).view(np.uint32)\n"
      "        print(k, ','.join(str(d) for d in t[k].shape),\n"
      "              '%08x %08x %08x' % (a[0], a[1], a[-1]))\n"
      "print(len(t))\n";
  g_autofree char *peer = find_peer_dir ();
  g_autoptr (GError) err = NULL;
  g_autofree char *dir = NULL, *path = NULL, *out = NULL, *errout = NULL;
  g_autofree char *want = NULL;
  g_autoptr (SfVggWeights) w = NULL;
  int status = 0;

  if (peer == NULL || !g_file_test ("/usr/bin/python3", G_FILE_TEST_EXISTS)) {
    g_test_skip ("no PyTorch peer (set STYLEFILTER_PEER_DIR) or python3");
    return;
  }
  dir = g_dir_make_tmp ("sf-models-XXXXXX", &err);
  g_assert_no_error (err);
  path = g_build_filename (dir, "vgg.safetensors", NULL);
  w = sf_vgg_weights_new_default (99);
  w->conv[3].bias[0] = 0.5f;    /* a non-zero bias to compare */
  g_assert_true (sf_vgg_weights_save (w, path, &err));

  {
    const char *argv[] = { "/usr/bin/python3", "-c", script, peer, path,
      NULL
    };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
        &out, &errout, &status, &err);
  }
  g_assert_no_error (err);
  g_unlink (path);
  g_rmdir (dir);
  if (!g_spawn_check_wait_status (status, NULL)) {
    g_test_message ("python: %s", errout);
    if (strstr (errout, "ModuleNotFoundError") != NULL) {
      g_test_skip ("python3 lacks numpy or torch");
      return;
    }
    g_assert_not_reached ();
  }
  want = expected_peer_output (w);
  g_assert_cmpstr (out, ==, want);
}

int
main (int argc, char **argv)
{
  gsize i;

  g_test_init (&argc, &argv, NULL);
  for (i = 0; i < G_N_ELEMENTS (header_cases); i++) {
    g_autofree char *name = g_strdup_printf ("/safetensors/header/%s",
        header_cases[i].name);

    g_test_add_data_func (name, &header_cases[i], test_header_case);
  }
  g_test_add_func ("/safetensors/short-file", test_short_file);
  g_test_add_func ("/safetensors/header-size", test_header_size);
  g_test_add_func ("/safetensors/deep-nesting", test_deep_nesting);
  g_test_add_func ("/safetensors/ref-half", test_ref_half);
  g_test_add_func ("/safetensors/vgg/f32-unaligned", test_vgg_f32);
  g_test_add_func ("/safetensors/vgg/f16", test_vgg_f16);
  g_test_add_func ("/safetensors/vgg/bf16", test_vgg_bf16);
  g_test_add_func ("/safetensors/vgg/wrong-model", test_vgg_wrong_model);
  g_test_add_func ("/safetensors/vgg/extras", test_vgg_extras);
  for (i = 0; i < G_N_ELEMENTS (bad_values); i++) {
    g_autofree char *name = g_strdup_printf ("/safetensors/value/%s",
        bad_values[i].name);

    g_test_add_data_func (name, &bad_values[i], test_vgg_bad_value);
  }
  g_test_add_func ("/safetensors/value/first-bad", test_vgg_first_bad_value);
  g_test_add_func ("/safetensors/value/extremes", test_vgg_extreme_values);
  g_test_add_func ("/safetensors/save/round-trip", test_save_round_trip);
  g_test_add_func ("/safetensors/save/io-errors", test_io_errors);
  g_test_add_func ("/safetensors/save/peer-reader", test_peer_reader);
  return g_test_run ();
}
