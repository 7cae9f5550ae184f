/* safetensors.c - reads VGG-19 weights from safetensors files.
 *
 * The reader is the one place where the plugin takes bytes from a file the
 * user names, so it checks everything the reference parser checks before it
 * trusts an offset or a shape (see models/README.md):
 *   - an 8-byte little-endian header length N, at most 100,000,000, with
 *     8 + N inside the file;
 *   - a header of strict JSON (RFC 8259) in valid UTF-8, an object, no
 *     duplicate keys, `__metadata__` mapping strings to strings;
 *   - every tensor with a known dtype, a shape of non-negative integers
 *     whose product times the dtype size (overflow-checked) equals
 *     END - BEGIN, and data_offsets that, sorted, tile the data buffer
 *     exactly: no gap, no overlap, nothing past the end, nothing trailing.
 * Only then does it look for the thirteen VGG-19 convolutions (torchvision
 * key names), check their shapes and dtypes (F32, F16, BF16), convert
 * them to float with byte copies, since the data need not be aligned, and
 * refuse any NaN or Inf among the converted values.
 * Extra tensors (the rest of VGG-19, a classifier) are checked for layout
 * and otherwise ignored.
 *
 * json-glib builds the header's tree.  It is lenient (comments, single
 * quotes, hex numbers, integers that wrap) and keeps the last of duplicate
 * keys, so a strict scanner here validates the text first (also bounding
 * the nesting depth), and the parser's object-member signal catches
 * duplicate keys after json-glib has decoded escapes.
 *
 * The writer is in safetensors-write.c.
 */
#include "sf-weights.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The NaN / Inf check needs real IEEE semantics. */
#if defined (__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#error "safetensors.c must not be built with -ffinite-math-only (-ffast-math)"
#endif

#define ST_MAX_HEADER G_GUINT64_CONSTANT (100000000)
/* A safetensors header nests root object -> tensor object -> array; the
 * reference ignores unknown members of a tensor, which may nest, so allow
 * some depth, but bound it (json-glib's parser recurses). */
#define ST_MAX_DEPTH 32
#define ST_MSG_NAME_MAX 120

G_DEFINE_QUARK (sf-model-error-quark, sf_model_error)

/* --- dtypes -------------------------------------------------------------- */

typedef struct
{
  const char *name;
  guint size;                   /* bytes per element */
} StDtype;

/* The format's byte-sized dtypes.  The sub-byte ones (F4, F6_*) have no
 * per-element byte size and are refused as unsupported. */
static const StDtype st_dtypes[] = {
  {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1},
  {"F8_E8M0", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2}, {"BF16", 2},
  {"I32", 4}, {"U32", 4}, {"F32", 4}, {"F64", 8}, {"I64", 8}, {"U64", 8},
  {"C64", 8},
};

static const StDtype *
st_dtype_lookup (const char *name)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (st_dtypes); i++)
    if (strcmp (st_dtypes[i].name, name) == 0)
      return &st_dtypes[i];
  return NULL;
}

/* --- error helpers ------------------------------------------------------- */

/* A tensor name short enough to quote in a message (names come from the
 * file and may be megabytes long). */
static char *
st_quote_name (const char *name)
{
  if (g_utf8_strlen (name, ST_MSG_NAME_MAX + 1) <= ST_MSG_NAME_MAX)
    return g_strdup (name);
  {
    g_autofree char *head = g_utf8_substring (name, 0, ST_MSG_NAME_MAX);
    return g_strconcat (head, "...", NULL);
  }
}

/* Sets "tensor 'NAME': MESSAGE" and returns FALSE. */
static gboolean G_GNUC_PRINTF (4, 5)
st_fail (GError ** error, SfModelError code, const char *name,
    const char *fmt, ...)
{
  g_autofree char *quoted = st_quote_name (name);
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, SF_MODEL_ERROR, code, "tensor '%s': %s", quoted, msg);
  return FALSE;
}

/* --- strict JSON scanner ------------------------------------------------- */

typedef struct
{
  const guchar *start;
  const guchar *p;
  const guchar *end;
  int depth;
  GError **error;
} JsonScan;

static gboolean scan_value (JsonScan * s);

static gboolean
scan_fail (JsonScan * s, const char *what)
{
  g_set_error (s->error, SF_MODEL_ERROR, SF_MODEL_ERROR_HEADER,
      "header is not valid JSON: %s at byte %" G_GSIZE_FORMAT, what,
      (gsize) (s->p - s->start));
  return FALSE;
}

static void
scan_ws (JsonScan * s)
{
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n'
          || *s->p == '\r'))
    s->p++;
}

static gboolean
scan_expect (JsonScan * s, guchar c, const char *what)
{
  if (s->p >= s->end || *s->p != c)
    return scan_fail (s, what);
  s->p++;
  return TRUE;
}

/* Four hex digits after \u; returns -1 when they are not there. */
static gint
scan_hex4 (JsonScan * s)
{
  gint v = 0, i, d;

  if (s->end - s->p < 4)
    return -1;
  for (i = 0; i < 4; i++) {
    d = g_ascii_xdigit_value (s->p[i]);
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  s->p += 4;
  return v;
}

/* After a backslash: one escape; \u escapes must form whole code points
 * (surrogates paired) and must not be NUL, which no C name can hold. */
static gboolean
scan_escape (JsonScan * s)
{
  gint u, lo;

  if (s->p >= s->end)
    return scan_fail (s, "unterminated string");
  if (strchr ("\"\\/bfnrt", *s->p) != NULL && *s->p != '\0') {
    s->p++;
    return TRUE;
  }
  if (*s->p != 'u')
    return scan_fail (s, "invalid escape");
  s->p++;
  if ((u = scan_hex4 (s)) < 0)
    return scan_fail (s, "invalid \\u escape");
  if (u == 0)
    return scan_fail (s, "\\u0000 in a string");
  if (u >= 0xdc00 && u <= 0xdfff)
    return scan_fail (s, "lone low surrogate");
  if (u >= 0xd800 && u <= 0xdbff) {
    if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
      return scan_fail (s, "lone high surrogate");
    s->p += 2;
    lo = scan_hex4 (s);
    if (lo < 0xdc00 || lo > 0xdfff)
      return scan_fail (s, "lone high surrogate");
  }
  return TRUE;
}

static gboolean
scan_string (JsonScan * s)
{
  if (!scan_expect (s, '"', "expected a string"))
    return FALSE;
  while (s->p < s->end) {
    guchar c = *s->p++;

    if (c == '"')
      return TRUE;
    if (c < 0x20)
      return scan_fail (s, "control character in a string");
    if (c == '\\' && !scan_escape (s))
      return FALSE;
  }
  return scan_fail (s, "unterminated string");
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; an integer (no fraction,
 * no exponent) must fit in gint64, since json-glib would wrap it. */
static gboolean
scan_number (JsonScan * s)
{
  guint64 mag = 0;
  gboolean big = FALSE, is_int = TRUE;

  if (s->p < s->end && *s->p == '-')
    s->p++;
  if (s->p >= s->end || !g_ascii_isdigit (*s->p))
    return scan_fail (s, "invalid number");
  if (*s->p == '0') {
    s->p++;
  } else {
    while (s->p < s->end && g_ascii_isdigit (*s->p)) {
      guint d = *s->p++ - '0';

      if (mag > ((guint64) G_MAXINT64 - d) / 10)
        big = TRUE;
      else
        mag = mag * 10 + d;
    }
  }
  if (s->p < s->end && *s->p == '.') {
    is_int = FALSE;
    s->p++;
    if (s->p >= s->end || !g_ascii_isdigit (*s->p))
      return scan_fail (s, "invalid number");
    while (s->p < s->end && g_ascii_isdigit (*s->p))
      s->p++;
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    is_int = FALSE;
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if (s->p >= s->end || !g_ascii_isdigit (*s->p))
      return scan_fail (s, "invalid number");
    while (s->p < s->end && g_ascii_isdigit (*s->p))
      s->p++;
  }
  if (is_int && big)
    return scan_fail (s, "integer out of range");
  return TRUE;
}

static gboolean
scan_literal (JsonScan * s)
{
  static const char *const words[] = { "true", "false", "null" };
  gsize i, n;

  for (i = 0; i < G_N_ELEMENTS (words); i++) {
    n = strlen (words[i]);
    if ((gsize) (s->end - s->p) >= n && memcmp (s->p, words[i], n) == 0) {
      s->p += n;
      return TRUE;
    }
  }
  return scan_fail (s, "unexpected character");
}

/* Object or array: open, members separated by commas, close. */
static gboolean
scan_container (JsonScan * s, gboolean object)
{
  guchar close = object ? '}' : ']';

  if (++s->depth > ST_MAX_DEPTH)
    return scan_fail (s, "nested too deeply for a safetensors header");
  s->p++;
  scan_ws (s);
  if (s->p < s->end && *s->p == close) {
    s->p++;
    s->depth--;
    return TRUE;
  }
  for (;;) {
    if (object) {
      if (!scan_string (s))
        return FALSE;
      scan_ws (s);
      if (!scan_expect (s, ':', "expected ':'"))
        return FALSE;
      scan_ws (s);
    }
    if (!scan_value (s))
      return FALSE;
    scan_ws (s);
    if (s->p < s->end && *s->p == ',') {
      s->p++;
      scan_ws (s);
      continue;
    }
    if (!scan_expect (s, close, object ? "expected ',' or '}'" :
            "expected ',' or ']'"))
      return FALSE;
    s->depth--;
    return TRUE;
  }
}

static gboolean
scan_value (JsonScan * s)
{
  if (s->p >= s->end)
    return scan_fail (s, "unexpected end");
  switch (*s->p) {
    case '{':
      return scan_container (s, TRUE);
    case '[':
      return scan_container (s, FALSE);
    case '"':
      return scan_string (s);
    case '-':
    case '0' ... '9':
      return scan_number (s);
    default:
      return scan_literal (s);
  }
}

/* The whole header: valid UTF-8 without NUL, one JSON object, optional
 * whitespace around it. */
static gboolean
st_check_header_text (const guint8 * text, gsize n, GError ** error)
{
  JsonScan s = { text, text, text + n, 0, error };
  const gchar *bad = NULL;

  if (!g_utf8_validate_len ((const gchar *) text, n, &bad)) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_HEADER,
        "header is not valid UTF-8 (byte %" G_GSIZE_FORMAT ")",
        (gsize) ((const guint8 *) bad - text));
    return FALSE;
  }
  scan_ws (&s);
  if (s.p >= s.end || *s.p != '{') {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_HEADER,
        "header is not a JSON object");
    return FALSE;
  }
  if (!scan_value (&s))
    return FALSE;
  scan_ws (&s);
  if (s.p != s.end)
    return scan_fail (&s, "trailing characters after the object");
  return TRUE;
}

/* --- header tree --------------------------------------------------------- */

/* Duplicate keys: json-glib keeps only one, so watch members as they are
 * parsed.  One name set per open object, dropped when the object closes. */
typedef struct
{
  GHashTable *open;             /* JsonObject * -> GHashTable * of names */
  char *dup;
} DupWatch;

static void
on_object_member (JsonParser * parser, JsonObject * object,
    const char *name, gpointer user_data)
{
  DupWatch *d = user_data;
  GHashTable *names = g_hash_table_lookup (d->open, object);

  if (names == NULL) {
    names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert (d->open, object, names);
  }
  if (!g_hash_table_add (names, g_strdup (name)) && d->dup == NULL)
    d->dup = g_strdup (name);
}

static void
on_object_end (JsonParser * parser, JsonObject * object, gpointer user_data)
{
  DupWatch *d = user_data;

  g_hash_table_remove (d->open, object);
}

/* Parses checked header text; returns the parser holding the root object. */
static JsonParser *
st_parse_header (const guint8 * text, gsize n, GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) jerr = NULL;
  DupWatch d;
  gboolean ok;

  d.open = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
      (GDestroyNotify) g_hash_table_unref);
  d.dup = NULL;
  g_signal_connect (parser, "object-member", G_CALLBACK (on_object_member),
      &d);
  g_signal_connect (parser, "object-end", G_CALLBACK (on_object_end), &d);
  ok = json_parser_load_from_data (parser, (const gchar *) text, n, &jerr);
  g_signal_handlers_disconnect_by_data (parser, &d);
  g_hash_table_unref (d.open);

  if (!ok) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_HEADER,
        "header is not valid JSON: %s", jerr->message);
    g_free (d.dup);
    return NULL;
  }
  if (d.dup != NULL) {
    g_autofree char *quoted = st_quote_name (d.dup);

    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_DUPLICATE,
        "key '%s' appears twice in one object of the header", quoted);
    g_free (d.dup);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_HEADER,
        "header is not a JSON object");
    return NULL;
  }
  return g_steal_pointer (&parser);
}

/* --- tensor entries ------------------------------------------------------ */

typedef struct
{
  const char *name;             /* owned by the parser's tree */
  const StDtype *dtype;
  JsonArray *shape;             /* non-negative integers */
  guint64 begin;
  guint64 end;
} StEntry;

/* A JSON integer >= 0 (the scanner already refused ones past gint64). */
static gboolean
st_node_get_uint (JsonNode * node, guint64 * out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  if (json_node_get_int (node) < 0)
    return FALSE;
  *out = (guint64) json_node_get_int (node);
  return TRUE;
}

static gboolean
st_check_metadata (JsonNode * node, GError ** error)
{
  JsonObjectIter it;
  const char *key;
  JsonNode *value;

  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_HEADER,
        "__metadata__ is not an object");
    return FALSE;
  }
  json_object_iter_init (&it, json_node_get_object (node));
  while (json_object_iter_next (&it, &key, &value)) {
    if (!JSON_NODE_HOLDS_VALUE (value)
        || json_node_get_value_type (value) != G_TYPE_STRING) {
      g_autofree char *quoted = st_quote_name (key);

      g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_HEADER,
          "__metadata__ value of '%s' is not a string", quoted);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
st_read_dtype (StEntry * e, JsonObject * o, GError ** error)
{
  JsonNode *n = json_object_get_member (o, "dtype");

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return st_fail (error, SF_MODEL_ERROR_HEADER, e->name,
        "no dtype string");
  e->dtype = st_dtype_lookup (json_node_get_string (n));
  if (e->dtype == NULL) {
    g_autofree char *dt = st_quote_name (json_node_get_string (n));

    return st_fail (error, SF_MODEL_ERROR_DTYPE, e->name,
        "unknown or unsupported dtype '%s'", dt);
  }
  return TRUE;
}

/* Shape of non-negative integers; *nbytes = product x dtype size, with
 * every multiplication checked. */
static gboolean
st_read_shape (StEntry * e, JsonObject * o, guint64 * nbytes,
    GError ** error)
{
  JsonNode *n = json_object_get_member (o, "shape");
  guint64 total = e->dtype->size, dim;
  guint i, rank;

  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return st_fail (error, SF_MODEL_ERROR_HEADER, e->name, "no shape array");
  e->shape = json_node_get_array (n);
  rank = json_array_get_length (e->shape);
  for (i = 0; i < rank; i++) {
    if (!st_node_get_uint (json_array_get_element (e->shape, i), &dim))
      return st_fail (error, SF_MODEL_ERROR_HEADER, e->name,
          "shape entry %u is not a non-negative integer", i);
  }
  /* Multiply in order, like the reference, so [2^32, 2^32, 0] overflows. */
  for (i = 0; i < rank; i++) {
    dim = (guint64) json_array_get_int_element (e->shape, i);
    if (!g_uint64_checked_mul (&total, total, dim))
      return st_fail (error, SF_MODEL_ERROR_SIZE, e->name,
          "shape's byte size overflows 64 bits");
  }
  *nbytes = total;
  return TRUE;
}

static gboolean
st_read_offsets (StEntry * e, JsonObject * o, GError ** error)
{
  JsonNode *n = json_object_get_member (o, "data_offsets");
  JsonArray *a;

  if (n == NULL || !JSON_NODE_HOLDS_ARRAY (n))
    return st_fail (error, SF_MODEL_ERROR_HEADER, e->name,
        "no data_offsets array");
  a = json_node_get_array (n);
  if (json_array_get_length (a) != 2)
    return st_fail (error, SF_MODEL_ERROR_OFFSETS, e->name,
        "data_offsets has %u entries, not 2", json_array_get_length (a));
  if (!st_node_get_uint (json_array_get_element (a, 0), &e->begin)
      || !st_node_get_uint (json_array_get_element (a, 1), &e->end))
    return st_fail (error, SF_MODEL_ERROR_HEADER, e->name,
        "data_offsets are not non-negative integers");
  if (e->end < e->begin)
    return st_fail (error, SF_MODEL_ERROR_OFFSETS, e->name,
        "data_offsets end %" G_GUINT64_FORMAT " before begin %"
        G_GUINT64_FORMAT, e->end, e->begin);
  return TRUE;
}

static gboolean
st_read_entry (StEntry * e, const char *name, JsonNode * node,
    GError ** error)
{
  JsonObject *o;
  guint64 nbytes = 0;

  e->name = name;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return st_fail (error, SF_MODEL_ERROR_HEADER, name, "not an object");
  o = json_node_get_object (node);
  if (!st_read_dtype (e, o, error) || !st_read_shape (e, o, &nbytes, error)
      || !st_read_offsets (e, o, error))
    return FALSE;
  if (nbytes != e->end - e->begin)
    return st_fail (error, SF_MODEL_ERROR_SIZE, name,
        "shape and dtype need %" G_GUINT64_FORMAT " bytes, data_offsets "
        "hold %" G_GUINT64_FORMAT, nbytes, e->end - e->begin);
  return TRUE;
}

static int
st_entry_cmp (const void *a, const void *b)
{
  const StEntry *x = a, *y = b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end)
    return x->end < y->end ? -1 : 1;
  return 0;
}

/* Sorted by offset, the tensors must tile [0, data_len) exactly. */
static gboolean
st_check_tiling (StEntry * entries, guint count, guint64 data_len,
    GError ** error)
{
  guint64 expect = 0;
  guint i;

  qsort (entries, count, sizeof (StEntry), st_entry_cmp);
  for (i = 0; i < count; i++) {
    if (entries[i].begin != expect)
      return st_fail (error, SF_MODEL_ERROR_OFFSETS, entries[i].name,
          "begins at %" G_GUINT64_FORMAT " but the previous tensor ends at %"
          G_GUINT64_FORMAT " (%s)", entries[i].begin, expect,
          entries[i].begin > expect ? "gap" : "overlap");
    expect = entries[i].end;
  }
  if (expect > data_len) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_TRUNCATED,
        "data ends early: tensors need %" G_GUINT64_FORMAT " bytes, the "
        "file holds %" G_GUINT64_FORMAT, expect, data_len);
    return FALSE;
  }
  if (expect < data_len) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_OFFSETS,
        "%" G_GUINT64_FORMAT " trailing bytes after the last tensor",
        data_len - expect);
    return FALSE;
  }
  return TRUE;
}

/* All tensors of the root object except __metadata__, checked one by one
 * and then for layout.  Returns a g_new array of *count entries. */
static StEntry *
st_read_entries (JsonObject * root, guint64 data_len, guint * count,
    GError ** error)
{
  /* One per member (bounded by the header's length); + 1 so that a header
   * without tensors still gets a non-NULL array. */
  g_autofree StEntry *entries =
      g_new0 (StEntry, (gsize) json_object_get_size (root) + 1);
  JsonObjectIter it;
  const char *name;
  JsonNode *node;
  guint n = 0;

  json_object_iter_init (&it, root);
  while (json_object_iter_next (&it, &name, &node)) {
    if (strcmp (name, "__metadata__") == 0) {
      if (!st_check_metadata (node, error))
        return NULL;
      continue;
    }
    if (!st_read_entry (&entries[n], name, node, error))
      return NULL;
    n++;
  }
  if (!st_check_tiling (entries, n, data_len, error))
    return NULL;
  *count = n;
  return g_steal_pointer (&entries);
}

/* --- VGG-19 tensors ------------------------------------------------------ */

static inline float
st_f32_from_bits (guint32 bits)
{
  float f;

  memcpy (&f, &bits, sizeof f);
  return f;
}

/* IEEE binary16 to float, exact: subnormals, infinities and NaNs (with
 * their payload) included. */
static float
st_half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 ex = (h >> 10) & 0x1f;
  guint32 mant = h & 0x3ff;
  float f;

  if (ex == 0) {
    /* Zero or subnormal, mant x 2^-24: exact in float. */
    f = (float) mant * 0x1.0p-24f;
    return sign ? -f : f;
  }
  if (ex == 31)
    return st_f32_from_bits (sign | 0x7f800000u | (mant << 13));
  return st_f32_from_bits (sign | ((ex + 112) << 23) | (mant << 13));
}

/* n elements of dtype (F32, F16 or BF16), little-endian, possibly
 * unaligned, to floats. */
static void
st_convert (const StDtype * dtype, const guint8 * src, float *dst, gsize n)
{
  gsize i;

  if (strcmp (dtype->name, "F32") == 0) {
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
    memcpy (dst, src, n * sizeof (float));
#else
    for (i = 0; i < n; i++) {
      guint32 b;

      memcpy (&b, src + 4 * i, 4);
      dst[i] = st_f32_from_bits (GUINT32_FROM_LE (b));
    }
#endif
    return;
  }
  for (i = 0; i < n; i++) {
    guint16 b;

    memcpy (&b, src + 2 * i, 2);
    b = GUINT16_FROM_LE (b);
    if (dtype->name[0] == 'B')
      dst[i] = st_f32_from_bits ((guint32) b << 16);
    else
      dst[i] = st_half_to_float (b);
  }
}

/* "[64, 3, 3, 3]"; from the file, so at most 8 dimensions are spelt out. */
static char *
st_shape_string (const guint64 * dims, JsonArray * shape, guint rank)
{
  GString *s = g_string_new ("[");
  guint i;

  for (i = 0; i < rank && i < 8; i++)
    g_string_append_printf (s, "%s%" G_GUINT64_FORMAT, i ? ", " : "",
        dims ? dims[i] : (guint64) json_array_get_int_element (shape, i));
  g_string_append (s, i < rank ? ", ...]" : "]");
  return g_string_free (s, FALSE);
}

/* The tensor NAME must exist with dtype F32/F16/BF16 and shape dims. */
static const StEntry *
st_find_tensor (GHashTable * by_name, const char *name,
    const guint64 * dims, guint rank, GError ** error)
{
  const StEntry *e = g_hash_table_lookup (by_name, name);
  gboolean same;
  guint i;

  if (e == NULL) {
    st_fail (error, SF_MODEL_ERROR_MISSING, name,
        "missing (not a torchvision VGG-19 file?)");
    return NULL;
  }
  if (strcmp (e->dtype->name, "F32") != 0
      && strcmp (e->dtype->name, "F16") != 0
      && strcmp (e->dtype->name, "BF16") != 0) {
    st_fail (error, SF_MODEL_ERROR_DTYPE, name,
        "dtype %s, expected F32, F16 or BF16", e->dtype->name);
    return NULL;
  }
  same = json_array_get_length (e->shape) == rank;
  for (i = 0; same && i < rank; i++)
    same = (guint64) json_array_get_int_element (e->shape, i) == dims[i];
  if (!same) {
    g_autofree char *want = st_shape_string (dims, NULL, rank);
    g_autofree char *got = st_shape_string (NULL, e->shape,
        json_array_get_length (e->shape));

    st_fail (error, SF_MODEL_ERROR_SHAPE, name, "shape %s, expected %s",
        got, want);
    return NULL;
  }
  return e;
}

/* Every value finite: a NaN or Inf weight would poison every feature map
 * downstream (and the loss with them), so refuse the file instead. */
static gboolean
st_check_finite (const char *name, const float *v, gsize n, GError ** error)
{
  gsize i;

  for (i = 0; i < n; i++) {
    if (G_LIKELY (isfinite (v[i])))
      continue;
    return st_fail (error, SF_MODEL_ERROR_VALUE, name,
        "holds %s at element %" G_GSIZE_FORMAT " (of %" G_GSIZE_FORMAT ")",
        isnan (v[i]) ? "NaN" : v[i] > 0 ? "+Inf" : "-Inf", i, n);
  }
  return TRUE;
}

/* Converts the tensor e (n elements, checked by st_find_tensor) to float
 * and checks the result, so F16 and BF16 infinities and NaNs count too. */
static gboolean
st_convert_checked (const StEntry * e, const guint8 * data, float *dst,
    gsize n, GError ** error)
{
  st_convert (e->dtype, data + e->begin, dst, n);
  return st_check_finite (e->name, dst, n, error);
}

/* Finds and checks the 26 VGG-19 tensors, then converts them. */
static SfVggWeights *
st_extract_vgg (StEntry * entries, guint count, const guint8 * data,
    GError ** error)
{
  g_autoptr (GHashTable) by_name = g_hash_table_new (g_str_hash,
      g_str_equal);
  const StEntry *found[SF_VGG_NUM_CONVS][2];
  SfVggWeights *w;
  guint i;

  for (i = 0; i < count; i++)
    g_hash_table_insert (by_name, (gpointer) entries[i].name, &entries[i]);

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    int idx = sf_vgg_conv_index (i);
    guint64 wdims[4] = { sf_vgg_conv_cout (i), sf_vgg_conv_cin (i), 3, 3 };
    char key[64];

    g_snprintf (key, sizeof key, "features.%d.weight", idx);
    if (!(found[i][0] = st_find_tensor (by_name, key, wdims, 4, error)))
      return NULL;
    g_snprintf (key, sizeof key, "features.%d.bias", idx);
    if (!(found[i][1] = st_find_tensor (by_name, key, wdims, 1, error)))
      return NULL;
  }

  w = sf_vgg_weights_new ();
  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    SfConvWeights *c = &w->conv[i];

    if (!st_convert_checked (found[i][0], data, c->weight,
            (gsize) c->cout * c->cin * 9, error)
        || !st_convert_checked (found[i][1], data, c->bias,
            (gsize) c->cout, error)) {
      sf_vgg_weights_free (w);
      return NULL;
    }
  }
  return w;
}

/* --- loading ------------------------------------------------------------- */

SfVggWeights *
sf_vgg_weights_load_from_data (const guint8 * data, gsize len,
    GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autofree StEntry *entries = NULL;
  guint64 n, n_le, data_len;
  guint count = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len < 8) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_TRUNCATED,
        "file of %" G_GSIZE_FORMAT " bytes is shorter than the 8-byte "
        "header length", len);
    return NULL;
  }
  memcpy (&n_le, data, 8);
  n = GUINT64_FROM_LE (n_le);
  /* len >= 8, so len - 8 does not wrap; n <= len - 8 is 8 + n <= len. */
  if (n > ST_MAX_HEADER || n > (guint64) len - 8) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_HEADER_SIZE,
        "header length %" G_GUINT64_FORMAT " is %s", n,
        n > ST_MAX_HEADER ? "over the 100000000 limit" :
        "past the end of the file");
    return NULL;
  }
  if (!st_check_header_text (data + 8, n, error))
    return NULL;
  if (!(parser = st_parse_header (data + 8, n, error)))
    return NULL;

  data_len = (guint64) len - 8 - n;
  entries = st_read_entries (json_node_get_object (json_parser_get_root
          (parser)), data_len, &count, error);
  if (entries == NULL)
    return NULL;
  return st_extract_vgg (entries, count, data + 8 + n, error);
}

SfVggWeights *
sf_vgg_weights_load (const char *path, GError ** error)
{
  g_autoptr (GMappedFile) mf = NULL;
  g_autoptr (GError) err = NULL;
  SfVggWeights *w;

  g_return_val_if_fail (path != NULL, NULL);

  mf = g_mapped_file_new (path, FALSE, &err);
  if (mf == NULL) {
    g_set_error (error, SF_MODEL_ERROR, SF_MODEL_ERROR_IO,
        "cannot read model '%s': %s", path, err->message);
    return NULL;
  }
  w = sf_vgg_weights_load_from_data ((const guint8 *)
      g_mapped_file_get_contents (mf), g_mapped_file_get_length (mf), error);
  if (w == NULL)
    g_prefix_error (error, "model '%s': ", path);
  return w;
}
