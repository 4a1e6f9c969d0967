/* Weights to and from Keras: a NumPy .npz (a zip of .npy arrays) with one array per tensor under
 * Keras' layer names and in Keras' layouts, which `np.load` opens and `layer.set_weights` takes.
 *
 *   conv2d/kernel   (kh, kw, in, out) float32      conv2d/bias   (out) float32
 *   dense/kernel    (in, units) float32, its rows in the order of Keras' Flatten over (h, w, c)
 *   ...             every layer with parameters, named as claug's summary names them
 *   model           0-d unicode ('<U'), the canonical claug model string: str(f["model"])
 *   input_shape     (3) int32: height, width, channels, as Keras' input_shape
 *
 * claug writes stored (uncompressed) members; it reads stored or deflated ones (np.savez,
 * np.savez_compressed), .npy versions 1 to 3. Every array must be little-endian float32 in C
 * order ('<f4', fortran_order False) with the shape the model gives it, and nothing may be
 * missing or extra. The reader turns the arrays into claug's layouts (model/weights.h). */
#ifndef CLAUG_NPZ_H
#define CLAUG_NPZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "claug/model/weights.h"

/* Whether the bytes start like a zip archive (a member, or the end record of an empty one). */
bool npz_is_zip(const uint8_t *data, size_t len);
/* Writes f, read from file `from`, as an .npz at path, atomically; false with a message naming
 * `from` when f's tensors are not those of its model string, path when it cannot be written. */
bool npz_save(const weights_file *f, const char *from, const char *path, char *err, size_t errlen);
/* Reads the .npz in data (len bytes) into f in claug's layouts; false with a message naming
 * path and what is wrong (f then holds nothing). */
bool npz_parse(weights_file *f, const uint8_t *data, size_t len, const char *path, char *err, size_t errlen);

#endif
