/* PNG encoding with zlib: 8-bit greyscale or RGB, filter 0, one IDAT chunk. */
#ifndef CLAUG_PNG_H
#define CLAUG_PNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* pixels: h rows of w * channels bytes (channels 1 = grey, 3 = RGB). Returns the PNG file's
 * bytes (free them), NULL if the sizes are invalid. */
uint8_t *png_encode(const uint8_t *pixels, int w, int h, int channels, size_t *len);
/* Encodes and writes atomically; false (errno set) on failure. */
bool png_write(const char *path, const uint8_t *pixels, int w, int h, int channels);

#endif
