/* For the fuzz targets whose reader takes a path: the input written to a file of this process. */
#ifndef CLAUG_FUZZ_FILE_H
#define CLAUG_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Writes data to this process's scratch file (one per process, in a private directory under
 * $TMPDIR, else /tmp, removed at exit) and returns its path. Aborts when it cannot: a fuzz run
 * that cannot write its input tests nothing. */
const char *fuzz_write_file(const uint8_t *data, size_t size);

#endif
