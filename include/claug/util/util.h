/* Small shared helpers: exit codes, fatal errors, checked allocation, clocks, files. */
#ifndef CLAUG_UTIL_H
#define CLAUG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (README): 2 bad usage or bad input, 3 OpenCL or device failure, 4 out of host memory. */
enum { EXIT_USAGE = 2, EXIT_DEVICE = 3, EXIT_NOMEM = 4 };

/* Size caps of the readers (a reader never reads without bound, e.g. from /dev/zero). */
#define MAX_TEXT_FILE ((size_t)64 << 20) /* JSON, tuning files, kernel sources */

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

/* Strict number parsing, for options and file fields alike: the whole token (no leading blanks,
 * no trailing text), decimal, overflow detected, in [lo, hi]. A sign is taken only where the
 * range has negatives. False when the token is not such a number. */
bool parse_long(const char *s, long lo, long hi, long *out);
bool parse_int(const char *s, int lo, int hi, int *out);
bool parse_size(const char *s, size_t lo, size_t hi, size_t *out);
/* Any non-negative decimal up to 2^64 - 1. */
bool parse_u64(const char *s, uint64_t *out);
/* A finite real (strtod's syntax, no leading blanks; hexadecimal and "inf"/"nan" refused). */
bool parse_double(const char *s, double *out);
/* The same at the start of s: returns what follows the number, or NULL. */
const char *parse_double_prefix(const char *s, double *out);

/* Monotonic seconds. */
double now_seconds(void);
/* Sorts s[0..n) in place and returns its median (0 when n <= 0): the middle one, or the mean of
 * the two middle ones. */
double median(double *s, int n);

/* Reads a whole regular file of at most `max` bytes, NUL-terminated (the NUL not counted in
 * *len). NULL with "<path>: <reason>" in err when it cannot be opened or read, is not a regular
 * file ("is a directory", "is a FIFO", ...; refused at once, never waited on) or is larger. */
char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);
/* Whether path names a regular file; false with "<path>: <reason>" in err otherwise. */
bool check_regular_file(const char *path, char *err, size_t errlen);
/* Writes `len` bytes to `path`. A regular file (or none yet) is replaced atomically: a temporary
 * file beside it, fsync, rename, fsync of the directory; readers never see a half-written file,
 * and the temporary is removed on failure, on SIGINT and SIGTERM, and, when left by a killed
 * process, on the next write beside it. A device or FIFO is written in place (`-o /dev/null`); a
 * symbolic link is followed, so its target is replaced. Returns false (errno set) on failure. */
bool write_file(const char *path, const void *data, size_t len);
/* Whether write_file(path) can work (a special file is writable, or the directory exists and is
 * writable), checked before long work that ends by writing it. False with errno set otherwise. */
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
