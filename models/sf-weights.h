/* sf-weights.h - VGG-19 convolution weights on the host.
 *
 * The engine uses VGG-19's feature extractor through relu5_1: thirteen 3x3
 * convolutions.  This file describes them (torchvision's indices and shapes),
 * holds their weights in host memory, builds the seeded default network,
 * and reads and writes safetensors files with torchvision's key names
 * (features.N.weight [out,in,3,3], features.N.bias [out]).
 *
 * No GStreamer and no Vulkan here: GLib and json-glib only.
 */
#ifndef SF_WEIGHTS_H
#define SF_WEIGHTS_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define SF_VGG_NUM_CONVS 13

/* Errors of the model loader, in the engine's error domain (sf-error.h). */
#define SF_MODEL_ERROR (sf_model_error_quark ())
typedef enum
{
  SF_MODEL_ERROR_IO,            /* cannot open / read / write the file */
  SF_MODEL_ERROR_TRUNCATED,     /* shorter than 8 bytes, or data ends early */
  SF_MODEL_ERROR_HEADER_SIZE,   /* header length N too large or past the end */
  SF_MODEL_ERROR_HEADER,        /* header not UTF-8 / not a JSON object / bad entry */
  SF_MODEL_ERROR_DTYPE,         /* unknown or unsupported dtype */
  SF_MODEL_ERROR_OFFSETS,       /* offsets out of the buffer, gap, overlap, trailing */
  SF_MODEL_ERROR_SIZE,          /* numel x dtype size != END - BEGIN, overflow */
  SF_MODEL_ERROR_SHAPE,         /* tensor present with the wrong VGG-19 shape */
  SF_MODEL_ERROR_MISSING,       /* a needed VGG-19 tensor is absent */
  SF_MODEL_ERROR_DUPLICATE,     /* same tensor name twice */
  SF_MODEL_ERROR_VALUE,         /* NaN or Inf in a VGG-19 tensor */
} SfModelError;

GQuark sf_model_error_quark (void);

typedef struct
{
  int index;                    /* torchvision vgg19().features index: 0, 2, 5, ... 28 */
  int cin;
  int cout;
  float *weight;                /* [cout][cin][3][3], C order */
  float *bias;                  /* [cout] */
} SfConvWeights;

typedef struct
{
  SfConvWeights conv[SF_VGG_NUM_CONVS];
} SfVggWeights;

/* Static description of conv i (0..12): torchvision index, in and out channels. */
int sf_vgg_conv_index (int i);
int sf_vgg_conv_cin (int i);
int sf_vgg_conv_cout (int i);

/* Zero-filled weights with the VGG-19 shapes. */
SfVggWeights *sf_vgg_weights_new (void);

/* The embedded default: torchvision's default initialisation of vgg19()
 * (Kaiming normal, mode fan_out, gain sqrt(2): std = sqrt(2 / (cout*9));
 * zero bias), drawn from a seeded generator of our own, so the same seed
 * always gives the same bits on every machine. */
SfVggWeights *sf_vgg_weights_new_default (uint64_t seed);

/* The embedded networks (README "The built-in network"). */
typedef enum
{
  /* sf_vgg_weights_new_default: every conv drawn at random */
  SF_VGG_INIT_RANDOM = 0,
  /* conv1_1 replaced by 64 fixed filters, a model of early vision: a
   * binomial blur and oriented first and second derivatives, each on
   * luminance and on the two colour-opponent axes (red-green, blue-yellow)
   * with both polarities, more luminance orientations and blurred hues;
   * conv2_1 .. conv5_1 exactly as SF_VGG_INIT_RANDOM draws them */
  SF_VGG_INIT_STRUCTURED = 1,
} SfVggInit;

/* The embedded network of a kind for a seed, the same bits on every
 * machine; NULL for an unknown kind. */
SfVggWeights *sf_vgg_weights_new_embedded (uint64_t seed, SfVggInit init);

/* Writes the structured conv1_1 (64 x 3 x 3 x 3 floats, [out][in][y][x],
 * input channels in ImageNet-normalised RGB). */
void sf_vgg_structured_conv1_1 (float *weight);

/* Pretrained or any VGG-19 from a safetensors file (F32, F16, BF16). */
SfVggWeights *sf_vgg_weights_load (const char *path, GError **error);

/* Same, from a whole file already in memory (used by the tests and fuzzing). */
SfVggWeights *sf_vgg_weights_load_from_data (const guint8 *data, gsize len,
    GError **error);

/* Writes the thirteen convolutions as F32 safetensors with torchvision's key
 * names, sorted by name, deterministic to the byte. */
gboolean sf_vgg_weights_save (const SfVggWeights *w, const char *path,
    GError **error);

void sf_vgg_weights_free (SfVggWeights *w);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfVggWeights, sf_vgg_weights_free)

G_END_DECLS
#endif /* SF_WEIGHTS_H */
