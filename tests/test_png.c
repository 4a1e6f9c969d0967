/* PNG writer: the file is parsed chunk by chunk, every CRC recomputed, the image data inflated
 * and unfiltered, and the pixels compared with what was written. */
/* ctest: labels=host timeout=60 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "claug/report/canvas.h"
#include "claug/report/png.h"

/* Decodes a PNG of ours (8-bit grey or RGB, no interlace); returns the pixels or NULL. */
static uint8_t *decode(const uint8_t *png, size_t len, int *w, int *h, int *channels) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK(len > 8 && memcmp(png, sig, 8) == 0, "bad signature");
    size_t pos = 8, zlen = 0;
    uint8_t *z = NULL;
    bool seen_end = false, seen_hdr = false;
    while (pos + 12 <= len && !seen_end) {
        uint32_t n = get_be32(png + pos);
        const uint8_t *type = png + pos + 4, *data = png + pos + 8;
        CHECK(pos + 12 + n <= len, "chunk overruns the file");
        if (pos + 12 + n > len) return NULL;
        uint32_t crc = get_be32(data + n);
        CHECK(crc == (uint32_t)crc32(0L, type, 4 + n), "CRC of chunk %.4s", (const char *)type);
        if (memcmp(type, "IHDR", 4) == 0) {
            seen_hdr = true;
            *w = (int)get_be32(data);
            *h = (int)get_be32(data + 4);
            CHECK(data[8] == 8 && (data[9] == 0 || data[9] == 2) && data[10] == 0 && data[11] == 0 && data[12] == 0,
                  "IHDR fields");
            *channels = data[9] == 2 ? 3 : 1;
        } else if (memcmp(type, "IDAT", 4) == 0) {
            z = xrealloc(z, zlen + n);
            memcpy(z + zlen, data, n);
            zlen += n;
        } else if (memcmp(type, "IEND", 4) == 0) {
            seen_end = true;
        }
        pos += 12 + n;
    }
    CHECK(seen_hdr && seen_end && pos == len, "chunk structure");
    size_t stride = (size_t)*w * (size_t)*channels;
    uLongf raw_len = (uLongf)((stride + 1) * (size_t)*h);
    uint8_t *raw = xmalloc(raw_len), *pix = xmalloc(stride * (size_t)*h);
    CHECK(uncompress(raw, &raw_len, z, (uLong)zlen) == Z_OK && raw_len == (stride + 1) * (size_t)*h, "inflate");
    for (int y = 0; y < *h; y++) {
        CHECK(raw[(size_t)y * (stride + 1)] == 0, "filter type of row %d", y);
        memcpy(pix + (size_t)y * stride, raw + (size_t)y * (stride + 1) + 1, stride);
    }
    free(raw);
    free(z);
    return pix;
}

static void roundtrip(int w, int h, int channels) {
    size_t n = (size_t)w * h * channels, len;
    uint8_t *pix = xmalloc(n);
    for (size_t i = 0; i < n; i++) pix[i] = (uint8_t)((i * 131 + i / 7) & 255);
    uint8_t *png = png_encode(pix, w, h, channels, &len);
    CHECK(png != NULL, "encode %dx%dx%d", w, h, channels);
    int dw = 0, dh = 0, dc = 0;
    uint8_t *back = decode(png, len, &dw, &dh, &dc);
    CHECK(dw == w && dh == h && dc == channels, "header %dx%dx%d, want %dx%dx%d", dw, dh, dc, w, h, channels);
    char what[64];
    snprintf(what, sizeof what, "png %dx%d, %d channel(s)", w, h, channels);
    if (back) check_same(what, back, pix, n);
    free(back);
    free(png);
    free(pix);
}

int main(void) {
    roundtrip(1, 1, 1);
    roundtrip(28, 28, 1);
    roundtrip(37, 5, 3);
    roundtrip(300, 120, 3);
    size_t len;
    CHECK(png_encode((const uint8_t *)"", 0, 5, 1, &len) == NULL, "a 0-wide image is refused");
    CHECK(png_encode((const uint8_t *)"", 5, 5, 2, &len) == NULL, "2 channels are refused");

    /* Text drawing: an 'L' at scale 1 inks its left column and bottom row, nothing else. */
    canvas c = canvas_new(FONT_W, FONT_H, 255);
    canvas_text(&c, 0, 0, "L", 1, (const uint8_t[3]){0, 0, 0});
    int ink = 0, right = 0;
    for (int y = 0; y < FONT_H; y++)
        for (int x = 0; x < FONT_W; x++) {
            bool dark = c.rgb[(y * FONT_W + x) * 3] == 0;
            ink += dark;
            right += dark && !(x == 0 || y == FONT_H - 1);
        }
    CHECK(ink == FONT_H + FONT_W - 1 && right == 0, "'L' glyph: %d inked, %d outside the L", ink, right);
    CHECK(canvas_text_width("ab", 2) == (FONT_ADVANCE + FONT_W) * 2, "text width");
    canvas_free(&c);
    return check_done("test_png");
}
