/* sf-types.h - small types shared by the GPU engine and its plain-C reference.
 *
 * Images are planar float RGB in [0,1]: [3][height][width], row-major.
 * Activations are [channels][height][width].
 */
#ifndef SF_TYPES_H
#define SF_TYPES_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  SF_POOL_MAX = 0,
  SF_POOL_AVG = 1,
} SfPooling;

/* Weights of the loss terms (see README "Loss definition"). */
typedef struct
{
  double content;
  double style;
  double tv;
  double temporal;
  double range;                 /* pixels outside [0,1] (README) */
  /* Which of relu1_1 .. relu5_1 carry the style: bit l for relu(l+1)_1;
   * 0 (what zero-initialisation gives) means all five. */
  guint style_layers;
} SfLossWeights;

/* Unweighted loss terms and the weighted total. */
typedef struct
{
  double total;
  double content;
  double style;
  double tv;
  double temporal;
  double range;
} SfLossTerms;

/* ImageNet normalisation applied before VGG-19. */
#define SF_MEAN_R 0.485
#define SF_MEAN_G 0.456
#define SF_MEAN_B 0.406
#define SF_STD_R 0.229
#define SF_STD_G 0.224
#define SF_STD_B 0.225

/* Feature layers: after the ReLU that follows conv i (0-based among the 13).
 * relu1_1 = conv 0, relu2_1 = conv 2, relu3_1 = conv 4, relu4_1 = conv 8,
 * relu5_1 = conv 12; content relu4_2 = conv 9. */
#define SF_NUM_STYLE_LAYERS 5
#define SF_CONTENT_CONV 9
#define SF_STYLE_LAYERS_ALL 0x1fu

/* The style layers in force: style_layers, or all five when it names none. */
static inline guint
sf_style_layer_mask (const SfLossWeights *w)
{
  guint m = w->style_layers & SF_STYLE_LAYERS_ALL;

  return m != 0 ? m : SF_STYLE_LAYERS_ALL;
}

static inline int
sf_style_layer_count (guint mask)
{
  int n = 0;

  for (int l = 0; l < SF_NUM_STYLE_LAYERS; l++)
    n += (mask >> l) & 1u;
  return n;
}

G_END_DECLS
#endif /* SF_TYPES_H */
