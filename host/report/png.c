#include "claug/report/png.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "claug/util/util.h"

/* Appends a chunk: length, type, data, CRC over type and data. */
static uint8_t *chunk(uint8_t *p, const char type[4], const uint8_t *data, uint32_t n) {
    put_be32(p, n);
    memcpy(p + 4, type, 4);
    if (n) memcpy(p + 8, data, n);
    put_be32(p + 8 + n, (uint32_t)crc32(0L, p + 4, 4 + n));
    return p + 12 + n;
}

uint8_t *png_encode(const uint8_t *pixels, int w, int h, int channels, size_t *len) {
    if (w <= 0 || h <= 0 || (channels != 1 && channels != 3) || w > (1 << 20) || h > (1 << 20)) return NULL;
    size_t stride = (size_t)w * (size_t)channels, raw_len = (stride + 1) * (size_t)h;
    uint8_t *raw = xmalloc(raw_len);
    for (int y = 0; y < h; y++) {
        raw[(size_t)y * (stride + 1)] = 0; /* filter: none */
        memcpy(raw + (size_t)y * (stride + 1) + 1, pixels + (size_t)y * stride, stride);
    }
    uLongf zlen = compressBound((uLong)raw_len);
    uint8_t *z = xmalloc(zlen);
    if (compress2(z, &zlen, raw, (uLong)raw_len, 9) != Z_OK) die(EXIT_DEVICE, "zlib compress2 failed");
    free(raw);

    uint8_t ihdr[13];
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;                          /* bit depth */
    ihdr[9] = channels == 1 ? 0 : 2;      /* colour type: grey or RGB */
    ihdr[10] = ihdr[11] = ihdr[12] = 0;   /* deflate, filter method 0, no interlace */
    size_t n = 8 + (12 + 13) + (12 + zlen) + 12;
    uint8_t *png = xmalloc(n), *p = png;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(p, sig, 8);
    p = chunk(p + 8, "IHDR", ihdr, 13);
    p = chunk(p, "IDAT", z, (uint32_t)zlen);
    chunk(p, "IEND", NULL, 0);
    free(z);
    *len = n;
    return png;
}

bool png_write(const char *path, const uint8_t *pixels, int w, int h, int channels) {
    size_t len;
    uint8_t *png = png_encode(pixels, w, h, channels, &len);
    if (!png) return false;
    bool ok = write_file(path, png, len);
    free(png);
    return ok;
}
