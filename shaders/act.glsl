// act.glsl - the storage type of the network's activations (ACT_T): float,
// or with -DACT16 float16_t through 16-bit storage.  Arithmetic stays fp32:
// values are converted as they are loaded (float (x)) and stored
// (ACT_T (v)).  Gradients, Gram matrices and losses are always fp32.
// Stores go through ACT_STORE, which for fp16 saturates at +-65504 (the
// largest finite half) rather than overflowing to infinity.
#ifdef ACT16
#extension GL_EXT_shader_16bit_storage : require
#define ACT_T float16_t
#define ACT_STORE(v) float16_t (clamp ((v), -65504.0, 65504.0))
#else
#define ACT_T float
#define ACT_STORE(v) (v)
#endif
