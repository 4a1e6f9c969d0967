/* An RGB raster for the PNG pictures: greyscale images enlarged, and text in a built-in 5x7
 * bitmap font. */
#ifndef CLAUG_CANVAS_H
#define CLAUG_CANVAS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int w, h;
    uint8_t *rgb; /* (h, w, 3) */
} canvas;

enum { FONT_W = 5, FONT_H = 7, FONT_ADVANCE = 6 };

canvas canvas_new(int w, int h, uint8_t grey);
void canvas_free(canvas *c);
/* Draws a (h, w) greyscale image (floats in [0, 1]) at (x, y), each pixel as a scale x scale block. */
void canvas_image(canvas *c, int x, int y, const float *img, int w, int h, int scale);
/* Draws text with its top-left corner at (x, y); characters outside printable ASCII draw as '?'. */
void canvas_text(canvas *c, int x, int y, const char *text, int scale, const uint8_t rgb[3]);
/* Width in pixels of text drawn at `scale`. */
int canvas_text_width(const char *text, int scale);
bool canvas_write_png(const canvas *c, const char *path);

#endif
