/* fuzz-inputs.c - inputs for fuzz-safetensors: the mutator and a whole
 * VGG-19 file built in memory.
 *
 * The mutator works on the bytes of a small seed (tests/models/corpus/)
 * and knows just enough of the format to get past its first checks: it
 * aims most edits inside the header, the 8-byte header length usually
 * follows insertions and deletions, and it splices JSON tokens, names,
 * dtypes and numbers (2^32, 2^63, 2^64, ...) rather than random bytes
 * alone.  A whole VGG-19 file (26-52 MB) cannot be a seed in the corpus,
 * so one is built here, once per run, and its data is patched in place and
 * restored after each input: the only inputs that reach the conversion and
 * the NaN / Inf check.
 */
#include "fuzz-inputs.h"
#include "sf-weights.h"

#include <string.h>

/* --- mutations ----------------------------------------------------------- */

static guint64
rng_next (FuzzRng * r)
{
  guint64 z = (r->s += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* In [0, n); 0 when n is 0. */
static gsize
rng_below (FuzzRng * r, gsize n)
{
  return n ? (gsize) (rng_next (r) % n) : 0;
}

/* Input number of a run seeded with seed: its own stream, so --only gives
 * the same bytes as the whole run. */
static void
rng_init (FuzzRng * r, guint64 seed, guint64 number)
{
  r->s = seed ^ (number * G_GUINT64_CONSTANT (0xd1b54a32d192ed03));
  rng_next (r);
}

static const guint8 interesting_bytes[] = {
  0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x20, 0x0a, '"', '\\', '{', '}', '[',
  ']', ',', ':', '-', '+', '.', '0', '9', 'e', 'u', 0xc0, 0xed, 0xf4,
};

static const char *const tokens[] = {
  "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"",
  "\"F32\"", "\"F16\"", "\"BF16\"", "\"F64\"", "\"F4\"", "\"U8\"",
  "\"I64\"", "\"C64\"", "\"F8_E8M0\"", "\"features.0.weight\"",
  "\"features.28.bias\"", "{", "}", "[", "]", ",", ":", "\"", "null",
  "true", "false", "[]", "{}", "\\u0000", "\\ud800", "\\udc00",
  "\\ud83d\\ude00", "\\u00e9", "\\\"", "\xc3\xa9", "\xf0\x9f\x98\x80",
  "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "/*", "'", " ", "\t",
};

static const char *const numbers[] = {
  "0", "1", "2", "3", "4", "8", "64", "512", "-1", "-0", "0.0", "1e3",
  "1.5", "01", "4294967295", "4294967296", "9223372036854775807",
  "9223372036854775808", "18446744073709551615", "18446744073709551616",
  "99999999999999999999999", "100000000", "1e400", "-9223372036854775808",
};

/* The header length in the first 8 bytes, or G_MAXUINT64. */
static guint64
input_get_n (const FuzzInput * in)
{
  guint64 n;

  if (in->head->len < 8)
    return G_MAXUINT64;
  memcpy (&n, in->head->data, 8);
  return GUINT64_FROM_LE (n);
}

static void
input_set_n (FuzzInput * in, guint64 n)
{
  n = GUINT64_TO_LE (n);
  if (in->head->len >= 8)
    memcpy (in->head->data, &n, 8);
}

/* An edit of delta bytes at at: inside the header, the length usually
 * follows, so that the edit reaches the parser. */
static void
input_follow_n (FuzzInput * in, gsize at, gssize delta)
{
  guint64 n = input_get_n (in);

  if (n == G_MAXUINT64 || at < 8 || at - 8 > n
      || rng_below (&in->rng, 8) == 0)
    return;
  if (delta < 0 && (guint64) (-delta) > n)
    return;
  input_set_n (in, n + delta);
}

/* A position in the head, mostly inside the header. */
static gsize
input_pick (FuzzInput * in)
{
  guint64 n = input_get_n (in);
  gsize len = in->head->len;

  if (len <= 8 || n == 0 || n > len - 8 || rng_below (&in->rng, 8) == 0)
    return rng_below (&in->rng, len);
  return 8 + rng_below (&in->rng, (gsize) n);
}

static void
input_insert (FuzzInput * in, gsize at, const void *bytes, gsize n)
{
  g_array_insert_vals ((GArray *) in->head, at, bytes, n);
  input_follow_n (in, at, n);
}

static void
input_delete (FuzzInput * in, gsize at, gsize n)
{
  g_byte_array_remove_range (in->head, at, n);
  input_follow_n (in, at, -(gssize) n);
}

static void
mut_flip (FuzzInput * in)
{
  if (in->head->len)
    in->head->data[input_pick (in)] ^= 1u << rng_below (&in->rng, 8);
}

static void
mut_set (FuzzInput * in)
{
  if (in->head->len)
    in->head->data[input_pick (in)] = interesting_bytes[rng_below (&in->rng,
            G_N_ELEMENTS (interesting_bytes))];
}

static void
mut_insert (FuzzInput * in)
{
  gsize at = in->head->len ? input_pick (in) : 0;

  if (rng_below (&in->rng, 2)) {
    const char *t = tokens[rng_below (&in->rng, G_N_ELEMENTS (tokens))];

    input_insert (in, at, t, strlen (t));
  } else {
    guint8 b[8];
    gsize i, n = 1 + rng_below (&in->rng, sizeof b);

    for (i = 0; i < n; i++)
      b[i] = (guint8) rng_next (&in->rng);
    input_insert (in, at, b, n);
  }
}

static void
mut_delete (FuzzInput * in)
{
  gsize at, n;

  if (in->head->len == 0)
    return;
  at = input_pick (in);
  n = 1 + rng_below (&in->rng, MIN (16, in->head->len - at));
  input_delete (in, at, n);
}

/* A chunk of the head copied elsewhere: keys twice, objects in arrays. */
static void
mut_copy (FuzzInput * in)
{
  gsize from, n, to;
  g_autofree guint8 *chunk = NULL;

  if (in->head->len < 2)
    return;
  from = input_pick (in);
  n = 1 + rng_below (&in->rng, MIN (64, in->head->len - from));
  to = input_pick (in);
  chunk = g_memdup2 (in->head->data + from, n);
  input_insert (in, to, chunk, n);
}

static void
mut_length (FuzzInput * in)
{
  guint64 n = input_get_n (in), len = in->head->len + in->tail_len;
  guint64 below = rng_below (&in->rng, len + 1), any = rng_next (&in->rng);
  const guint64 choice[] = { 0, 1, n - 1, n + 1, n - 8, n + 8, len - 8,
    len - 7, len, G_GUINT64_CONSTANT (100000000),
    G_GUINT64_CONSTANT (100000001), G_MAXUINT32,
    G_GUINT64_CONSTANT (1) << 63, G_MAXUINT64, below, any,
  };

  if (in->head->len < 8)
    return;
  input_set_n (in, choice[rng_below (&in->rng, G_N_ELEMENTS (choice))]);
}

/* A number of the header replaced by another, or a digit spliced in. */
static void
mut_number (FuzzInput * in)
{
  gsize len = in->head->len, at, end, i;
  char digit;

  if (len <= 8)
    return;
  at = input_pick (in);
  for (i = 0; i < len && !g_ascii_isdigit (in->head->data[at]); i++)
    at = at + 1 < len ? at + 1 : 8;
  if (!g_ascii_isdigit (in->head->data[at]) || at < 8)
    return;
  if (rng_below (&in->rng, 3) == 0) {
    digit = '0' + rng_below (&in->rng, 10);
    input_insert (in, at + rng_below (&in->rng, 2), &digit, 1);
    return;
  }
  while (at > 8 && g_ascii_isdigit (in->head->data[at - 1]))
    at--;
  for (end = at; end < len && g_ascii_isdigit (in->head->data[end]); end++);
  input_delete (in, at, end - at);
  {
    const char *s = numbers[rng_below (&in->rng, G_N_ELEMENTS (numbers))];

    input_insert (in, at, s, strlen (s));
  }
}

static void
mut_truncate (FuzzInput * in)
{
  if (in->tail != NULL && in->tail_len > 0 && rng_below (&in->rng, 4)) {
    in->tail_len -= 1 + rng_below (&in->rng, rng_below (&in->rng, 2) ?
        MIN (in->tail_len, 16) : in->tail_len);
    return;
  }
  in->tail_len = 0;
  g_byte_array_set_size (in->head, rng_below (&in->rng, in->head->len + 1));
  /* Half the time the header ends with the file: a cut header. */
  if (in->head->len >= 8 && rng_below (&in->rng, 2))
    input_set_n (in, in->head->len - 8);
}

/* A byte of a big seed's data: NaN and Inf patterns, mostly. */
static void
mut_tail (FuzzInput * in)
{
  FuzzUndo *u;

  if (in->tail == NULL || in->tail_len == 0 || in->n_undo == FUZZ_MAX_UNDO)
    return;
  u = &in->undo[in->n_undo++];
  u->at = rng_below (&in->rng, in->tail_len);
  u->old = in->tail[u->at];
  in->tail[u->at] = rng_below (&in->rng, 2) ? 0xff : 0x7f;
  if (rng_below (&in->rng, 3) == 0)
    in->tail[u->at] ^= 1u << rng_below (&in->rng, 8);
}

void
fuzz_input_init (FuzzInput * in, const guint8 * head, gsize head_len,
    guint8 * tail, gsize tail_len, guint64 seed, guint64 number)
{
  memset (in, 0, sizeof *in);
  in->head = g_byte_array_sized_new (head_len + 256);
  g_byte_array_append (in->head, head, head_len);
  in->tail = tail;
  in->tail_len = tail ? tail_len : 0;
  rng_init (&in->rng, seed, number);
}

void
fuzz_input_clear (FuzzInput * in)
{
  while (in->n_undo > 0) {
    in->n_undo--;
    in->tail[in->undo[in->n_undo].at] = in->undo[in->n_undo].old;
  }
  g_byte_array_unref (in->head);
  in->head = NULL;
}

typedef void (*Mutation) (FuzzInput * in);

/* Weighted: the length and truncation end most inputs at the first check,
 * so they come less often. */
static const Mutation mutations[] = {
  mut_flip, mut_flip, mut_flip, mut_set, mut_set, mut_set, mut_insert,
  mut_insert, mut_insert, mut_delete, mut_delete, mut_copy, mut_copy,
  mut_number, mut_number, mut_number, mut_length, mut_truncate,
};

/* One to four mutations.  A big seed gets either mutations of its header
 * or, in half the inputs, of its data only (so that the input gets through
 * to the conversion and the value check). */
void
fuzz_input_mutate (FuzzInput * in)
{
  guint k, n = 1 + rng_below (&in->rng, 4);
  gboolean data_only = in->tail != NULL && rng_below (&in->rng, 2);

  for (k = 0; k < n; k++) {
    if (!data_only)
      mutations[rng_below (&in->rng, G_N_ELEMENTS (mutations))] (in);
    else if (rng_below (&in->rng, 8) == 0)
      in->tail_len -= rng_below (&in->rng, 1 + MIN (in->tail_len, 8));
    else
      mut_tail (in);
  }
}

/* --- a whole VGG-19 file ------------------------------------------------- */

static const char *const vgg_dtypes[] = { "F32", "F16", "BF16" };

/* Element k of a tensor in dtype d (0 F32, 1 F16, 2 BF16): small, finite. */
static void
vgg_put (guint8 * dst, int d, gsize k)
{
  if (d == 0) {
    float f = ((float) (k % 201) - 100.0f) * 1e-3f;
    guint32 b;

    memcpy (&b, &f, 4);
    b = GUINT32_TO_LE (b);
    memcpy (dst, &b, 4);
  } else {
    guint16 h = (guint16) ((d == 1 ? 0x2000 : 0x3c00) + k % 0x300);

    h = GUINT16_TO_LE (h);
    memcpy (dst, &h, 2);
  }
}

/* The 26 tensors in network order, dtypes cycling F32, F16, BF16. */
void
fuzz_vgg_file_init (FuzzVggFile * b)
{
  GString *json = g_string_new ("{\"__metadata__\":{\"format\":\"pt\"}");
  gsize off = 0, k, numel;
  guint64 n;
  int i, part, t = 0;

  b->data_len = 0;
  for (i = 0; i < SF_VGG_NUM_CONVS; i++)
    for (part = 0; part < 2; part++, t++)
      b->data_len += (part ? (gsize) sf_vgg_conv_cout (i) :
          (gsize) sf_vgg_conv_cout (i) * sf_vgg_conv_cin (i) * 9)
          * (t % 3 ? 2 : 4);
  b->buf = g_malloc (FUZZ_SLACK + b->data_len);
  for (t = 0, i = 0; i < SF_VGG_NUM_CONVS; i++) {
    for (part = 0; part < 2; part++, t++) {
      int cin = sf_vgg_conv_cin (i), cout = sf_vgg_conv_cout (i);
      gsize el = t % 3 ? 2 : 4;

      numel = part ? (gsize) cout : (gsize) cout * cin * 9;
      g_string_append_printf (json, ",\"features.%d.%s\":{\"dtype\":\"%s\","
          "\"shape\":[%d", sf_vgg_conv_index (i), part ? "bias" : "weight",
          vgg_dtypes[t % 3], cout);
      if (!part)
        g_string_append_printf (json, ",%d,3,3", cin);
      g_string_append_printf (json, "],\"data_offsets\":[%" G_GSIZE_FORMAT
          ",%" G_GSIZE_FORMAT "]}", off, off + numel * el);
      for (k = 0; k < numel; k++)
        vgg_put (b->buf + FUZZ_SLACK + off + k * el, t % 3, k);
      off += numel * el;
    }
  }
  g_string_append_c (json, '}');
  b->head = g_byte_array_new ();
  n = GUINT64_TO_LE ((guint64) json->len);
  g_byte_array_append (b->head, (const guint8 *) &n, 8);
  g_byte_array_append (b->head, (const guint8 *) json->str, json->len);
  g_string_free (json, TRUE);
}

void
fuzz_vgg_file_clear (FuzzVggFile * b)
{
  g_byte_array_unref (b->head);
  g_free (b->buf);
}
