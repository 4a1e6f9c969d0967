/* Small shared helpers: exit codes, fatal errors, checked allocation, clocks, files. */
#ifndef CLAUG_UTIL_H
#define CLAUG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (DESIGN.md): 2 bad usage or bad input, 3 OpenCL or device failure. */
enum { EXIT_USAGE = 2, EXIT_DEVICE = 3 };

#if defined(__GNUC__)
#define CLAUG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CLAUG_NORETURN __attribute__((noreturn))
#else
#define CLAUG_PRINTF(a, b)
#define CLAUG_NORETURN
#endif

/* Prints "claug: <message>" to stderr and exits with `code`. */
CLAUG_NORETURN void die(int code, const char *fmt, ...) CLAUG_PRINTF(2, 3);
/* Prints "claug: warning: <message>" to stderr. */
void warn(const char *fmt, ...) CLAUG_PRINTF(1, 2);

/* Writes "<path>: <message>" into err (for functions that report a bad file to their caller)
 * and returns false. */
bool fail_with(char *err, size_t errlen, const char *path, const char *fmt, ...) CLAUG_PRINTF(4, 5);

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* snprintf into a fresh heap string. */
char *xasprintf(const char *fmt, ...) CLAUG_PRINTF(1, 2);

/* Monotonic seconds. */
double now_seconds(void);

/* Reads a whole file; NULL (errno set) when it cannot. */
char *read_file(const char *path, size_t *len);
/* Writes `len` bytes to `path` through a temporary file and rename, so readers never see a
 * half-written file. Returns false (errno set) on failure. */
bool write_file_atomic(const char *path, const void *data, size_t len);
/* Whether `path` can be created or replaced (its directory exists and is writable), checked
 * before long work that ends by writing it. False with errno set otherwise. */
bool can_create(const char *path);
/* mkdir -p; false (errno set) on failure. */
bool make_dirs(const char *path);

/* FNV-1a 64-bit hash, chainable through `h` (start with FNV64_INIT). */
#define FNV64_INIT 0xcbf29ce484222325ULL
uint64_t fnv64(uint64_t h, const void *data, size_t len);

/* Little-endian stores and loads for file formats. */
void put_le32(uint8_t *p, uint32_t v);
uint32_t get_le32(const uint8_t *p);
void put_be32(uint8_t *p, uint32_t v);
uint32_t get_be32(const uint8_t *p);

#endif
