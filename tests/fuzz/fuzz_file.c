#define _POSIX_C_SOURCE 200809L
#include "fuzz_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[4096], path[4200];
static int fd = -1;

static void remove_scratch(void) {
    close(fd);
    unlink(path);
    rmdir(dir);
}

const char *fuzz_write_file(const uint8_t *data, size_t size) {
    if (fd < 0) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/claug-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        snprintf(path, sizeof path, "%s/input", dir);
        if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
            perror("fuzz: creating the input file");
            abort();
        }
        atexit(remove_scratch);
    }
    /* Overwritten in place and then cut to size: a file truncated to zero and written again
     * makes ext4 flush it at close (auto_da_alloc), a disk write for every input. */
    for (size_t done = 0; done < size;) {
        ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) {
            perror("fuzz: writing the input file");
            abort();
        }
        done += (size_t)n;
    }
    if (ftruncate(fd, (off_t)size) != 0) {
        perror("fuzz: writing the input file");
        abort();
    }
    return path;
}
