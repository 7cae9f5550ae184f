/* fuzz-safetensors.c - fuzzing the safetensors reader.
 *
 * The reader (models/safetensors.c) takes bytes from a file the user names,
 * so whatever the bytes it must not crash, hang or read outside the file:
 * each input either loads, and then holds VGG-19's shapes and only finite
 * values, or is refused with an SfModelError and a short, non-empty UTF-8
 * message.  GLib criticals and warnings count as crashes.  Two ways in:
 *   - LLVMFuzzerTestOneInput, the libFuzzer entry point: meson -Dlibfuzzer=
 *     true with CC=clang builds fuzz-safetensors-libfuzzer from this file
 *     and the loader's sources, with coverage, ASan and UBSan;
 *   - otherwise the main below, a standalone driver: it replays a corpus
 *     (tests/models/corpus/, by path and from memory), runs --mutate N
 *     deterministic mutations of each seed (seeded splitmix64: bit flips,
 *     interesting bytes, insertions of bytes and JSON tokens, deletions,
 *     copies, the 8-byte header length, numbers spliced into the JSON,
 *     truncation), and --vgg N mutations of a whole VGG-19 file built in
 *     memory (F32, F16 and BF16 tensors), the only inputs that get through
 *     to the conversion and the NaN / Inf check.  The inputs are made in
 *     fuzz-inputs.c; this file runs them and checks the contract.
 * Output is TAP.  When an input breaks the contract the driver prints its
 * number; --only I --save DIR rebuilds input I and writes it, for the
 * corpus or a regression test.  A crash prints the number of the input
 * that was running.
 *
 *   fuzz-safetensors [--mutate N] [--vgg N] [--seed S] [--only I]
 *       [--save DIR] CORPUS_DIR_OR_FILE...
 */
#include "sf-weights.h"

#ifndef SF_FUZZ_LIBFUZZER
#include "fuzz-inputs.h"
#endif

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined (__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#elif defined (__has_feature)
#if __has_feature (address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* Error messages quote at most 120 characters of a name from the file and
 * 8 dimensions of a shape, so they stay short. */
#define FUZZ_MAX_MESSAGE 1024

/* --- the contract -------------------------------------------------------- */

typedef enum
{
  FUZZ_LOADED,
  FUZZ_REJECTED,
  FUZZ_BROKEN,
} FuzzResult;

static const char *
fuzz_check_weights (const SfVggWeights * w)
{
  int i;
  gsize j, n;

  for (i = 0; i < SF_VGG_NUM_CONVS; i++) {
    const SfConvWeights *c = &w->conv[i];

    if (c->index != sf_vgg_conv_index (i) || c->cin != sf_vgg_conv_cin (i)
        || c->cout != sf_vgg_conv_cout (i) || !c->weight || !c->bias)
      return "loaded weights without VGG-19's shapes";
    n = (gsize) c->cout * c->cin * 9;
    for (j = 0; j < n; j++)
      if (!isfinite (c->weight[j]))
        return "loaded a non-finite weight";
    for (j = 0; j < (gsize) c->cout; j++)
      if (!isfinite (c->bias[j]))
        return "loaded a non-finite bias";
  }
  return NULL;
}

/* NULL when (w, err) is what the loader promises, else what is wrong. */
static const char *
fuzz_check (const SfVggWeights * w, const GError * err)
{
  if (w != NULL && err != NULL)
    return "returned weights and set an error";
  if (w == NULL && err == NULL)
    return "returned NULL without an error";
  if (w != NULL)
    return fuzz_check_weights (w);
  if (err->domain != SF_MODEL_ERROR)
    return "error outside SF_MODEL_ERROR";
  if (err->code < SF_MODEL_ERROR_IO || err->code > SF_MODEL_ERROR_VALUE)
    return "unknown error code";
  if (err->message == NULL || err->message[0] == '\0')
    return "empty error message";
  if (strlen (err->message) > FUZZ_MAX_MESSAGE)
    return "error message too long";
  if (!g_utf8_validate (err->message, -1, NULL))
    return "error message not UTF-8";
  return NULL;
}

static void
fuzz_init (void)
{
  static gboolean done = FALSE;

  if (done)
    return;
  done = TRUE;
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

static gboolean fuzz_verbose = FALSE;

/* Loads one input; *why is set when the contract is broken, *code to the
 * error's code when it is rejected. */
static FuzzResult
fuzz_run (const guint8 * data, gsize len, const char **why, int *code)
{
  g_autoptr (GError) err = NULL;
  g_autoptr (SfVggWeights) w = NULL;

  fuzz_init ();
  w = sf_vgg_weights_load_from_data (data, len, &err);
  *why = fuzz_check (w, err);
  *code = err ? err->code : -1;
  if (fuzz_verbose)
    printf ("# %" G_GSIZE_FORMAT " bytes: %s\n", len,
        w ? "loads" : err ? err->message : "?");
  if (*why != NULL)
    return FUZZ_BROKEN;
  return w ? FUZZ_LOADED : FUZZ_REJECTED;
}

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const char *why = NULL;
  int code;

  if (fuzz_run (data, size, &why, &code) == FUZZ_BROKEN) {
    fprintf (stderr, "fuzz-safetensors: %s\n", why);
    abort ();
  }
  return 0;
}

#ifndef SF_FUZZ_LIBFUZZER

/* --- crash reports ------------------------------------------------------- */

static char fuzz_current[256] = "no input yet";

static void
fuzz_report_current (void)
{
  static const char pre[] = "\nfuzz-safetensors: crashed on ";
  static volatile sig_atomic_t reported = 0;

  if (reported)
    return;
  reported = 1;
  if (write (2, pre, sizeof pre - 1) < 0
      || write (2, fuzz_current, strlen (fuzz_current)) < 0
      || write (2, "\n", 1) < 0)
    return;
}

static void
fuzz_on_signal (int sig)
{
  fuzz_report_current ();
  signal (sig, SIG_DFL);
  raise (sig);
}

/* ASan reports memory errors and SEGV itself and then calls the death
 * callback; without it, catch the signals.  Aborts (fatal GLib messages)
 * always come as SIGABRT. */
static void
fuzz_install_reports (void)
{
#ifdef FUZZ_ASAN
  __sanitizer_set_death_callback (fuzz_report_current);
#else
  signal (SIGSEGV, fuzz_on_signal);
  signal (SIGBUS, fuzz_on_signal);
  signal (SIGFPE, fuzz_on_signal);
  signal (SIGILL, fuzz_on_signal);
#endif
  signal (SIGABRT, fuzz_on_signal);
}

/* --- counts -------------------------------------------------------------- */

typedef struct
{
  guint64 inputs, loaded, rejected, broken;
  guint64 by_code[SF_MODEL_ERROR_VALUE + 1];
  gint64 slowest_us;
  guint64 slowest;
  const char *save_dir;         /* where broken inputs go, or NULL */
  gboolean save_all;            /* with --only: save that input anyway */
} FuzzStats;

static void
fuzz_save (const FuzzStats * st, const char *name, const guint8 * data,
    gsize len)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) err = NULL;

  if (st->save_dir == NULL)
    return;
  path = g_build_filename (st->save_dir, name, NULL);
  if (!g_file_set_contents (path, (const char *) data, len, &err))
    printf ("# cannot save %s: %s\n", path, err->message);
  else
    printf ("# saved %s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
}

/* Runs one input and counts it; FALSE when it broke the contract. */
static gboolean
fuzz_count (FuzzStats * st, guint64 number, const guint8 * data, gsize len)
{
  const char *why = NULL;
  gint64 t0 = g_get_monotonic_time (), dt;
  int code = -1;
  FuzzResult r = fuzz_run (data, len, &why, &code);

  dt = g_get_monotonic_time () - t0;
  if (dt > st->slowest_us) {
    st->slowest_us = dt;
    st->slowest = number;
  }
  st->inputs++;
  if (r == FUZZ_LOADED)
    st->loaded++;
  else if (r == FUZZ_REJECTED) {
    st->rejected++;
    st->by_code[code]++;
  } else {
    st->broken++;
    printf ("# %s: %s\n", fuzz_current, why);
  }
  return r != FUZZ_BROKEN;
}

/* --- the corpus ---------------------------------------------------------- */

typedef struct
{
  char *name;
  char *path;
  guint8 *data;
  gsize len;
} Seed;

static void
seed_clear (gpointer p)
{
  Seed *s = p;

  g_free (s->name);
  g_free (s->path);
  g_free (s->data);
}

static gboolean
seed_add (GArray * seeds, const char *path, GError ** error)
{
  Seed s = { 0 };
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, &s.len, error))
    return FALSE;
  s.data = (guint8 *) contents;
  s.name = g_path_get_basename (path);
  s.path = g_strdup (path);
  g_array_append_val (seeds, s);
  return TRUE;
}

static int
seed_cmp (gconstpointer a, gconstpointer b)
{
  return strcmp (((const Seed *) a)->name, ((const Seed *) b)->name);
}

/* Every regular file of each directory (but README* and dot files), and
 * each file named, sorted by name so input numbers are stable. */
static GArray *
seeds_load (char **args, GError ** error)
{
  g_autoptr (GArray) seeds = g_array_new (FALSE, TRUE, sizeof (Seed));
  const char *entry;
  char **a;

  g_array_set_clear_func (seeds, seed_clear);
  for (a = args; *a; a++) {
    g_autoptr (GDir) dir = NULL;

    if (!g_file_test (*a, G_FILE_TEST_IS_DIR)) {
      if (!seed_add (seeds, *a, error))
        return NULL;
      continue;
    }
    if (!(dir = g_dir_open (*a, 0, error)))
      return NULL;
    while ((entry = g_dir_read_name (dir)) != NULL) {
      g_autofree char *path = g_build_filename (*a, entry, NULL);

      if (entry[0] == '.' || g_str_has_prefix (entry, "README")
          || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      if (!seed_add (seeds, path, error))
        return NULL;
    }
  }
  g_array_sort (seeds, seed_cmp);
  return g_steal_pointer (&seeds);
}

/* Each seed from memory (an exact copy, so ASan sees reads past its end)
 * and by path; both must agree. */
static gboolean
fuzz_replay (FuzzStats * st, GArray * seeds)
{
  gboolean ok = TRUE;
  guint i;

  for (i = 0; i < seeds->len; i++) {
    const Seed *s = &g_array_index (seeds, Seed, i);
    g_autofree guint8 *copy = g_memdup2 (s->data, s->len);
    g_autoptr (GError) err = NULL;
    g_autoptr (SfVggWeights) w = NULL;
    guint64 loaded = st->loaded;
    const char *why;

    g_snprintf (fuzz_current, sizeof fuzz_current, "seed %s", s->name);
    if (!fuzz_count (st, i, copy, s->len))
      ok = FALSE;
    w = sf_vgg_weights_load (s->path, &err);
    why = fuzz_check (w, err);
    if (why == NULL && (w != NULL) != (st->loaded > loaded))
      why = "loads from memory and by path differ";
    if (why == NULL && err && strstr (err->message, s->path) == NULL)
      why = "error by path does not name the path";
    if (why != NULL) {
      printf ("# seed %s by path: %s\n", s->name, why);
      ok = FALSE;
    }
    printf ("# %s: %s\n", s->name, w ? "loads" : err ? err->message : "?");
  }
  return ok;
}

/* --- mutation runs ------------------------------------------------------- */

/* Counts a mutated input; saves it as input-NUMBER when it breaks the
 * contract, or before it runs with --only (so a crash leaves it too). */
static gboolean
fuzz_count_mutated (FuzzStats * st, guint64 number, const guint8 * data,
    gsize len)
{
  g_autofree char *name = g_strdup_printf ("input-%" G_GUINT64_FORMAT,
      number);
  gboolean ok;

  if (st->save_all)
    fuzz_save (st, name, data, len);
  fflush (stdout);
  ok = fuzz_count (st, number, data, len);
  if (!ok && !st->save_all)
    fuzz_save (st, name, data, len);
  return ok;
}

static gboolean
fuzz_mutate_small (FuzzStats * st, const Seed * s, guint64 number,
    guint64 seed)
{
  FuzzInput in;
  g_autofree guint8 *exact = NULL;
  gboolean ok;

  fuzz_input_init (&in, s->data, s->len, NULL, 0, seed, number);
  fuzz_input_mutate (&in);
  /* An exact copy, so that ASan sees a read past the end. */
  exact = g_memdup2 (in.head->data, in.head->len);
  g_snprintf (fuzz_current, sizeof fuzz_current, "input %" G_GUINT64_FORMAT
      " (seed %s, --seed %" G_GUINT64_FORMAT ")", number, s->name, seed);
  ok = fuzz_count_mutated (st, number, exact, in.head->len);
  fuzz_input_clear (&in);
  return ok;
}

/* ASan: the bytes around [start, start + len) are out of bounds. */
static void
fuzz_fence (guint8 * buf, gsize size, const guint8 * start, gsize len,
    gboolean on)
{
#ifdef FUZZ_ASAN
  if (on) {
    ASAN_POISON_MEMORY_REGION (buf, start - buf);
    ASAN_POISON_MEMORY_REGION (start + len, buf + size - (start + len));
  } else {
    ASAN_UNPOISON_MEMORY_REGION (buf, size);
  }
#endif
}

static gboolean
fuzz_mutate_big (FuzzStats * st, FuzzVggFile * b, guint64 number,
    guint64 seed)
{
  FuzzInput in;
  guint8 *start;
  gsize len, hlen;
  gboolean ok;

  fuzz_input_init (&in, b->head->data, b->head->len, b->buf + FUZZ_SLACK,
      b->data_len, seed, number);
  fuzz_input_mutate (&in);

  /* The (mutated) length and header right before the data, in the slack. */
  hlen = MIN (in.head->len, FUZZ_SLACK);
  start = in.tail - hlen;
  memcpy (start, in.head->data, hlen);
  len = hlen + in.tail_len;
  g_snprintf (fuzz_current, sizeof fuzz_current, "input %" G_GUINT64_FORMAT
      " (VGG-19 in memory, --seed %" G_GUINT64_FORMAT ")", number, seed);
  fuzz_fence (b->buf, FUZZ_SLACK + b->data_len, start, len, TRUE);
  ok = fuzz_count_mutated (st, number, start, len);
  fuzz_fence (b->buf, FUZZ_SLACK + b->data_len, start, len, FALSE);
  fuzz_input_clear (&in);
  return ok;
}

/* --- main ---------------------------------------------------------------- */

typedef struct
{
  gint64 mutate;
  gint64 vgg;
  gint64 seed;
  gint64 only;
  char *save;
  gboolean tap;
  char **args;
} FuzzOpts;

static gboolean
fuzz_parse (FuzzOpts * o, int *argc, char ***argv, GError ** error)
{
  GOptionEntry entries[] = {
    {"mutate", 'n', 0, G_OPTION_ARG_INT64, &o->mutate,
        "N mutations of each seed", "N"},
    {"vgg", 0, 0, G_OPTION_ARG_INT64, &o->vgg,
        "N mutations of a whole VGG-19 file built in memory", "N"},
    {"seed", 's', 0, G_OPTION_ARG_INT64, &o->seed, "seed of the mutations",
        "S"},
    {"only", 0, 0, G_OPTION_ARG_INT64, &o->only,
        "run only mutated input I (as numbered in a whole run)", "I"},
    {"save", 0, 0, G_OPTION_ARG_FILENAME, &o->save,
        "write broken inputs (with --only, that input) to DIR", "DIR"},
    {"tap", 0, 0, G_OPTION_ARG_NONE, &o->tap, "TAP output (always on)",
        NULL},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &fuzz_verbose,
        "print each input's outcome", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->args, NULL,
        "CORPUS_DIR_OR_FILE..."},
    {NULL},
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- fuzz the safetensors reader");

  o->seed = 1;
  o->only = -1;
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, error))
    return FALSE;
  if (o->args == NULL || o->mutate < 0 || o->vgg < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "need a corpus directory or file, and N >= 0");
    return FALSE;
  }
  return TRUE;
}

/* Mutated inputs are numbered seeds->len x mutate for the corpus, then
 * vgg for the VGG-19 file; with --only I just input I runs. */
static gboolean
fuzz_wanted (const FuzzOpts * o, guint64 i)
{
  return o->only < 0 || (guint64) o->only == i;
}

static gboolean
fuzz_mutate_corpus (FuzzStats * st, const FuzzOpts * o, GArray * seeds)
{
  guint64 n = (guint64) seeds->len * o->mutate, i;
  gboolean ok = TRUE;

  for (i = 0; i < n; i++)
    if (fuzz_wanted (o, i)
        && !fuzz_mutate_small (st, &g_array_index (seeds, Seed,
                i / o->mutate), i, o->seed))
      ok = FALSE;
  return ok;
}

static gboolean
fuzz_mutate_vgg (FuzzStats * st, const FuzzOpts * o, guint64 first)
{
  gboolean ok = TRUE;
  FuzzVggFile big;
  guint64 i;

  if (o->vgg == 0 || (o->only >= 0 && ((guint64) o->only < first
              || (guint64) o->only >= first + o->vgg)))
    return TRUE;
  fuzz_vgg_file_init (&big);
  for (i = first; i < first + o->vgg; i++)
    if (fuzz_wanted (o, i) && !fuzz_mutate_big (st, &big, i, o->seed))
      ok = FALSE;
  fuzz_vgg_file_clear (&big);
  return ok;
}

static void
fuzz_print_counts (const FuzzStats * st)
{
  static const char *const codes[] = { "IO", "TRUNCATED", "HEADER_SIZE",
    "HEADER", "DTYPE", "OFFSETS", "SIZE", "SHAPE", "MISSING", "DUPLICATE",
    "VALUE",
  };
  GString *s = g_string_new ("# rejected by code:");
  gsize i;

  G_STATIC_ASSERT (G_N_ELEMENTS (codes) == SF_MODEL_ERROR_VALUE + 1);
  for (i = 0; i < G_N_ELEMENTS (codes); i++)
    g_string_append_printf (s, " %s %" G_GUINT64_FORMAT, codes[i],
        st->by_code[i]);
  printf ("%s\n# slowest input: %" G_GUINT64_FORMAT " (%.1f ms)\n", s->str,
      st->slowest, st->slowest_us / 1000.0);
  printf ("# fuzz-safetensors: %" G_GUINT64_FORMAT " inputs, %"
      G_GUINT64_FORMAT " loaded, %" G_GUINT64_FORMAT " rejected%s\n",
      st->inputs, st->loaded, st->rejected, st->broken ? ", CONTRACT BROKEN"
      : "");
  g_string_free (s, TRUE);
}

int
main (int argc, char **argv)
{
  FuzzOpts o = { 0 };
  FuzzStats st = { 0 };
  g_autoptr (GError) err = NULL;
  g_autoptr (GArray) seeds = NULL;
  guint64 before, loaded, values;
  gboolean ok_replay = TRUE, ok_corpus, ok_vgg;
  int t = 1;

  if (!fuzz_parse (&o, &argc, &argv, &err)
      || !(seeds = seeds_load (o.args, &err))) {
    fprintf (stderr, "fuzz-safetensors: %s\n", err->message);
    return 2;
  }
  fuzz_install_reports ();
  st.save_dir = o.save;
  st.save_all = o.only >= 0;
  printf ("1..%d\n", o.vgg > 0 ? 3 : 2);
  if (o.only < 0)
    ok_replay = fuzz_replay (&st, seeds);
  printf ("%s %d - replay corpus (%u files)\n", ok_replay ? "ok" : "not ok",
      t++, o.only < 0 ? seeds->len : 0);

  before = st.inputs;
  ok_corpus = fuzz_mutate_corpus (&st, &o, seeds);
  printf ("%s %d - %" G_GUINT64_FORMAT " mutations (%" G_GINT64_FORMAT
      " of each of %u seeds, --seed %" G_GINT64_FORMAT ")\n",
      ok_corpus ? "ok" : "not ok", t++, st.inputs - before, o.mutate,
      seeds->len, o.seed);

  before = st.inputs;
  loaded = st.loaded;
  values = st.by_code[SF_MODEL_ERROR_VALUE];
  ok_vgg = fuzz_mutate_vgg (&st, &o, (guint64) seeds->len * o.mutate);
  if (o.vgg > 0)
    printf ("%s %d - %" G_GUINT64_FORMAT " mutations of a whole VGG-19 "
        "file in memory (%" G_GUINT64_FORMAT " loaded, %" G_GUINT64_FORMAT
        " NaN or Inf)\n", ok_vgg ? "ok" : "not ok", t++,
        st.inputs - before, st.loaded - loaded,
        st.by_code[SF_MODEL_ERROR_VALUE] - values);

  fuzz_print_counts (&st);
  g_strfreev (o.args);
  g_free (o.save);
  return ok_replay && ok_corpus && ok_vgg ? 0 : 1;
}

#endif /* !SF_FUZZ_LIBFUZZER */
