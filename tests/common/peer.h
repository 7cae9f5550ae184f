/* peer.h - test helpers around the PyTorch peer (tests/peer/torch_gatys.py).
 *
 * The peer computes the project's loss definition with PyTorch; the tests
 * use it to cross-check the plain-C reference and the GPU engine.  This
 * library finds the script, writes the PNG test images it reads, runs its
 * `loss` command, parses what it prints and reads the gradient it saves as
 * .npy.  Test code only: nothing here is part of the plugin.
 */
#ifndef SF_TEST_PEER_H
#define SF_TEST_PEER_H

#include <glib.h>

G_BEGIN_DECLS

#define SF_PEER_ERROR (sf_peer_error_quark ())

typedef enum
{
  SF_PEER_ERROR_NOT_FOUND,      /* no script, or no Python with torch */
  SF_PEER_ERROR_FAILED,         /* the script failed; message has its stderr */
  SF_PEER_ERROR_PARSE,          /* unexpected output from the script */
  SF_PEER_ERROR_NPY,            /* unreadable or unsupported .npy file */
} SfPeerError;

GQuark sf_peer_error_quark (void);

/* What `torch_gatys.py loss` reports. */
typedef struct
{
  /* "initial total=... content=... style=... tv=... |grad|=..." (at x =
   * the content image) */
  double total, content, style, tv, grad_norm;
  double range;                 /* 0 from a peer too old to report it */

  /* the gradient d total / d x, planar [3][grad_h][grad_w] */
  float *grad;
  int grad_w, grad_h;

  /* with iters > 0: "after K L-BFGS iterations (S s): total=..." */
  gboolean have_final;
  int iters;
  double seconds;
  double final_total, final_content, final_style, final_tv;
} SfPeerResult;

/* Frees out->grad and zeroes *out. */
void sf_peer_result_clear (SfPeerResult *out);

/* The peer script: $STYLEFILTER_PEER if set, else
 * $STYLEFILTER_SOURCE_DIR/tests/peer/torch_gatys.py, else the shared copy
 * (/work/shared/peer, ../shared/peer beside the source dir).  Returns a new
 * string, or NULL if none of them exists. */
char *sf_peer_script_path (void);

/* The Python that runs the peer: $STYLEFILTER_PYTHON or /usr/bin/python3. */
const char *sf_peer_python (void);

/* Whether the script exists and that Python imports torch, torchvision,
 * numpy and PIL; if not, sets error (SF_PEER_ERROR_NOT_FOUND) saying why,
 * for a g_test_skip(). */
gboolean sf_peer_available (GError **error);

/* Test images: interleaved 8-bit RGB, w x h, g_free()d by the caller.
 * kind 0 looks like a photo (smooth gradients, blobs, mild noise); kind 1
 * like a style image (stripes and a checkerboard in strong colours, more
 * noise); other kinds give uniform noise.  Deterministic in seed. */
guint8 *sf_peer_make_image (int w, int h, int kind, guint64 seed);

/* rgb / 255 as planar float [3][h][w], exactly as the peer reads a PNG. */
float *sf_peer_image_to_planar (const guint8 *rgb, int w, int h);

/* Writes interleaved 8-bit RGB as a PNG. */
gboolean sf_peer_write_png (const char *path, const guint8 *rgb, int w,
    int h, GError **error);

/* Saves sf_vgg_weights_new_default (seed) as safetensors in dir; returns
 * the file's path (g_free) or NULL. */
char *sf_peer_save_default_weights (const char *dir, guint64 seed,
    GError **error);

/* Reads a little- or big-endian f4/f8 C-order .npy (format 1, 2 or 3) into
 * newly allocated floats; shape gets up to 8 dimensions, *ndim their number. */
gboolean sf_peer_read_npy (const char *path, float **data, gsize shape[8],
    int *ndim, GError **error);

/* Runs `python torch_gatys.py loss` on the two PNGs (model_path NULL: the
 * peer's own torchvision initialisation), with --size, the three weights,
 * --pooling ("max"/"avg") and, if iters > 0, --iters; fills out, including
 * the gradient.  size must be the longest side of both images, or the peer
 * resizes them. */
gboolean sf_peer_loss (const char *model_path, const char *content_png,
    const char *style_png, int size, double cw, double sw, double tw,
    const char *pooling, int iters, SfPeerResult *out, GError **error);

/* The same with the range term's weight (rw; 0 leaves --range-weight out),
 * the peer's starting image x = (content - 0.5) * stretch + 0.5 (1: the
 * content) and the style layers (SfLossWeights.style_layers; 0 leaves
 * --style-layers out: all five). */
gboolean sf_peer_loss_range (const char *model_path, const char *content_png,
    const char *style_png, int size, double cw, double sw, double tw,
    double rw, double stretch, const char *pooling, guint style_layers,
    int iters, SfPeerResult *out, GError **error);

/* All of the above as one record: style_png may name several PNGs
 * joined by commas, blended with blend ("0.7,0.3"; NULL: equal). */
typedef struct
{
  const char *model_path;
  const char *content_png;
  const char *style_png;
  const char *blend;
  int size;
  double cw, sw, tw, rw, stretch;
  const char *pooling;
  guint style_layers;
  int iters;
} SfPeerArgs;

gboolean sf_peer_run_loss (const SfPeerArgs *args, SfPeerResult *out,
    GError **error);

/* ||a - b|| / ||b|| over n elements (ours in double, the peer's in float). */
double sf_peer_rel_l2 (const double *a, const float *b, gsize n);

/* |a - b| / |b| (0 if both are 0). */
double sf_peer_rel (double a, double b);

G_END_DECLS
#endif /* SF_TEST_PEER_H */
