/* fuzz-inputs.h - inputs for fuzz-safetensors: the mutator and a whole
 * VGG-19 file built in memory.
 *
 * Kept apart from the driver (fuzz-safetensors.c), which runs inputs and
 * checks the loader's contract; this only makes bytes.  Every input comes
 * from its own seeded stream (splitmix64 of --seed and the input's number),
 * so one input can be made again on its own (--only).
 */
#ifndef FUZZ_INPUTS_H
#define FUZZ_INPUTS_H

#include <glib.h>

typedef struct
{
  guint64 s;
} FuzzRng;

typedef struct
{
  gsize at;
  guint8 old;
} FuzzUndo;

#define FUZZ_MAX_UNDO 8

/* One input in the making: head is the 8-byte length and what follows (a
 * small seed's whole file, or a big one's length and header); a big seed's
 * data stays in place in tail, patched and restored. */
typedef struct
{
  GByteArray *head;
  guint8 *tail;                 /* NULL for a small seed */
  gsize tail_len;               /* of the tail, how much this input keeps */
  FuzzUndo undo[FUZZ_MAX_UNDO];
  guint n_undo;
  FuzzRng rng;
} FuzzInput;

/* Input number of a run with seed: a copy of head, and tail (tail_len
 * bytes, or NULL) to patch in place. */
void fuzz_input_init (FuzzInput * in, const guint8 * head, gsize head_len,
    guint8 * tail, gsize tail_len, guint64 seed, guint64 number);

/* One to four mutations: bit flips, interesting bytes, insertions of bytes
 * and JSON tokens, deletions, copies, the 8-byte header length, numbers
 * spliced into the JSON, truncation; in a big seed's data NaN and Inf
 * patterns. */
void fuzz_input_mutate (FuzzInput * in);

/* Restores the tail and frees the head. */
void fuzz_input_clear (FuzzInput * in);

/* Room before a big seed's data for its length and (mutated) header. */
#define FUZZ_SLACK (64 * 1024)

/* A whole VGG-19 file: buf holds FUZZ_SLACK bytes, then the data of the
 * 26 tensors (network order, dtypes cycling F32, F16, BF16, small finite
 * values); head the 8-byte length and the header that go before it. */
typedef struct
{
  GByteArray *head;
  guint8 *buf;
  gsize data_len;
} FuzzVggFile;

void fuzz_vgg_file_init (FuzzVggFile * b);
void fuzz_vgg_file_clear (FuzzVggFile * b);

#endif /* FUZZ_INPUTS_H */
