#define _XOPEN_SOURCE 700
#include "claug/util/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void die(int code, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fputs("claug: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

void warn(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fputs("claug: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void vfail_with(char *err, size_t errlen, const char *path, const char *fmt, va_list ap) {
    int n = snprintf(err, errlen, "%s: ", path);
    if (n >= 0 && (size_t)n < errlen) vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

bool fail_with(char *err, size_t errlen, const char *path, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail_with(err, errlen, path, fmt, ap);
    va_end(ap);
    return false;
}

static void *checked(void *p, size_t n) {
    if (!p && n) die(EXIT_NOMEM, "out of host memory (asked for %zu bytes)", n);
    return p;
}

void *xmalloc(size_t n) { return checked(malloc(n ? n : 1), n); }
void *xcalloc(size_t count, size_t size) { return checked(calloc(count ? count : 1, size ? size : 1), count * size); }
void *xrealloc(void *p, size_t n) { return checked(realloc(p, n ? n : 1), n); }
char *xstrdup(const char *s) { return strcpy(xmalloc(strlen(s) + 1), s); }

char *xasprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- numbers: the whole token or nothing ------------------------------------------------------ */

bool parse_long(const char *s, long lo, long hi, long *out) {
    /* strtol would take leading blanks, a '+' and, for a negative, a '-' where none makes sense. */
    if (!(isdigit((unsigned char)s[0]) || (s[0] == '-' && lo < 0 && isdigit((unsigned char)s[1])))) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

bool parse_int(const char *s, int lo, int hi, int *out) {
    long v;
    if (!parse_long(s, lo, hi, &v)) return false;
    *out = (int)v;
    return true;
}

bool parse_u64(const char *s, uint64_t *out) {
    if (!isdigit((unsigned char)s[0])) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = (uint64_t)v;
    return true;
}

bool parse_size(const char *s, size_t lo, size_t hi, size_t *out) {
    uint64_t v;
    if (!parse_u64(s, &v) || v < lo || v > hi) return false;
    *out = (size_t)v;
    return true;
}

const char *parse_double_prefix(const char *s, double *out) {
    if (!(isdigit((unsigned char)s[0]) || s[0] == '.' || s[0] == '-' || s[0] == '+')) return NULL;
    const char *digits = s + (s[0] == '-' || s[0] == '+');
    if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) return NULL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* Overflow is an error; underflow to a tiny or zero value is the number the user wrote. */
    if (end == s || (errno == ERANGE && fabs(v) > 1) || !isfinite(v)) return NULL;
    *out = v;
    return end;
}

bool parse_double(const char *s, double *out) {
    const char *end = parse_double_prefix(s, out);
    return end && !*end;
}

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median(double *s, int n) {
    if (n <= 0) return 0;
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* ---- files ------------------------------------------------------------------------------------ */

/* What a non-regular file is, for messages. */
static const char *file_kind(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

/* Closes fd and reports why a read failed, keeping errno for the caller. */
static char *read_failed(int fd, char *buf, int e, char *err, size_t errlen, const char *path, const char *fmt, ...)
    CLAUG_PRINTF(7, 8);
static char *read_failed(int fd, char *buf, int e, char *err, size_t errlen, const char *path, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail_with(err, errlen, path, fmt, ap);
    va_end(ap);
    free(buf);
    if (fd >= 0) close(fd);
    errno = e;
    return NULL;
}

char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen) {
    /* O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return read_failed(fd, NULL, errno, err, errlen, path, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) return read_failed(fd, NULL, errno, err, errlen, path, "cannot read: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return read_failed(fd, NULL, S_ISDIR(st.st_mode) ? EISDIR : EINVAL, err, errlen, path,
                           "is %s, not a regular file", file_kind(st.st_mode));
    if ((uintmax_t)st.st_size > max)
        return read_failed(fd, NULL, EFBIG, err, errlen, path, "is %jd bytes, more than the %zu this file can hold",
                           (intmax_t)st.st_size, max);
    /* The size can change while we read: read to the end, but never past max. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return read_failed(fd, buf, errno, err, errlen, path, "cannot read: %s", strerror(errno));
        if (got == 0) break;
        n += (size_t)got;
        if (n > max)
            return read_failed(fd, buf, EFBIG, err, errlen, path, "grew past the %zu bytes this file can hold", max);
        if (n == cap) {
            cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
            buf = xrealloc(buf, cap + 1);
        }
    }
    close(fd);
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

bool check_regular_file(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) return fail_with(err, errlen, path, "cannot open: %s", strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail_with(err, errlen, path, "is %s, not a regular file", file_kind(st.st_mode));
    return true;
}

/* The file a path names once symbolic links are followed: writing through a link replaces the
 * link's target, as `cp` and shells do, and leaves the link a link. The target need not exist. */
static char *follow_links(const char *path) {
    char *p = xstrdup(path);
    for (int hops = 0; hops < 40; hops++) {
        struct stat st;
        if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode)) return p;
        char target[PATH_MAX];
        ssize_t n = readlink(p, target, sizeof target - 1);
        if (n < 0) return p;
        target[n] = 0;
        char *slash = strrchr(p, '/');
        char *next = target[0] == '/' || !slash ? xstrdup(target)
                                                : xasprintf("%.*s/%s", (int)(slash - p), p, target);
        free(p);
        p = next;
    }
    return p; /* a loop: open() reports ELOOP */
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return xstrdup(".");
    if (slash == path) return xstrdup("/");
    return xasprintf("%.*s", (int)(slash - path), path);
}

static bool write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* The temporary file of the write in progress, removed if SIGINT or SIGTERM ends the process
 * before the rename. Fixed-size so that the handler only reads it. */
static char pending_tmp[PATH_MAX + 32];
static volatile sig_atomic_t pending;

static void remove_pending(int sig) {
    if (pending) unlink(pending_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* This machine's name as it appears in temporaries: letters, digits and '-' (others become
 * '-'), so that it never holds the '.' before the pid. */
static void host_tag(char *buf, size_t len) {
    if (gethostname(buf, len) != 0) buf[0] = 0;
    buf[len - 1] = 0;
    for (char *p = buf; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-') *p = '-';
    if (!buf[0]) snprintf(buf, len, "host");
}

/* Temporaries "<base>.tmp.<host>.<pid>" next to the target, made on this machine by a process
 * that is gone (killed mid-write). Another machine's (a shared file system) are left alone:
 * whether their process lives cannot be told from here. */
static void remove_stale_temporaries(const char *dir, const char *base) {
    DIR *d = opendir(dir);
    if (!d) return;
    char host[HOST_NAME_MAX + 1];
    host_tag(host, sizeof host);
    size_t blen = strlen(base), hlen = strlen(host);
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0 || strncmp(n + blen + 5, host, hlen) != 0 ||
            n[blen + 5 + hlen] != '.')
            continue;
        const char *digits = n + blen + 5 + hlen + 1;
        char *end;
        errno = 0;
        long pid = strtol(digits, &end, 10);
        if (errno || end == digits || *end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char *stale = xasprintf("%s/%s", dir, n);
        unlink(stale);
        free(stale);
    }
    closedir(d);
}

/* A device, FIFO or other special file is written in place, as any Unix tool writes
 * `-o /dev/null`: renaming over it would replace the node with a regular file. */
static bool write_in_place(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = write_all(fd, data, len);
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    errno = e;
    return ok;
}

static bool write_atomic(const char *path, const void *data, size_t len, const struct stat *old) {
    char *dir = dir_of(path);
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    remove_stale_temporaries(dir, base);
    char host[HOST_NAME_MAX + 1];
    host_tag(host, sizeof host);
    int n = snprintf(pending_tmp, sizeof pending_tmp, "%s.tmp.%s.%ld", path, host, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof pending_tmp) {
        free(dir);
        errno = ENAMETOOLONG;
        return false;
    }
    struct sigaction on_signal = {.sa_handler = remove_pending}, old_int, old_term;
    sigemptyset(&on_signal.sa_mask);
    sigaction(SIGINT, &on_signal, &old_int);
    sigaction(SIGTERM, &on_signal, &old_term);
    /* A leftover of an earlier process with our pid goes first; O_EXCL then never writes
     * through a link planted under the temporary's name. */
    unlink(pending_tmp);
    /* Armed before the file exists, so that no signal falls between its creation and the arming
     * (unlinking a name not yet made, or already renamed, is harmless). */
    pending = 1;
    int fd = open(pending_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    bool ok = fd >= 0;
    /* The replacement keeps the file's mode, whatever the umask; failing that, it has the umask's. */
    if (ok && old) (void)fchmod(fd, old->st_mode & 07777);
    ok = ok && write_all(fd, data, len) && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(pending_tmp, path) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok && fd >= 0) unlink(pending_tmp);
    pending = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (ok) {
        /* The rename itself is durable only once the directory is. */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(dir);
    errno = e;
    return ok;
}

/* The standard stream whose file path names (`--csv /dev/stdout` into a regular file), or -1.
 * Written through its descriptor, the bytes land where the stream stands, after what it already
 * holds; a rename would unlink the file under the shell's redirection. */
static int standard_stream_of(const struct stat *st) {
    for (int fd = 1; fd <= 2; fd++) {
        struct stat s;
        if (fstat(fd, &s) == 0 && s.st_dev == st->st_dev && s.st_ino == st->st_ino) return fd;
    }
    return -1;
}

/* The file write_file replaces: realpath resolves every link, /proc's fd links included, when
 * the target exists; a dangling link names the file to create. */
static char *file_to_replace(const char *path, bool exists) {
    char *target = exists ? realpath(path, NULL) : NULL;
    return target ? target : follow_links(path);
}

bool write_file(const char *path, const void *data, size_t len) {
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return false;
    }
    if (exists && !S_ISREG(st.st_mode)) return write_in_place(path, data, len);
    int stream = exists ? standard_stream_of(&st) : -1;
    if (stream >= 0) {
        fflush(stream == 1 ? stdout : stderr);
        return write_all(stream, data, len);
    }
    char *target = file_to_replace(path, exists);
    bool ok = write_atomic(target, data, len, exists ? &st : NULL);
    int e = errno;
    free(target);
    errno = e;
    return ok;
}

bool can_create(const char *path) {
    struct stat st;
    bool exists = stat(path, &st) == 0, ok;
    errno = 0;
    if (exists && S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        ok = false;
    } else if (exists && (!S_ISREG(st.st_mode) || standard_stream_of(&st) >= 0)) {
        ok = access(path, W_OK) == 0;
    } else {
        char *target = file_to_replace(path, exists), *dir = dir_of(target);
        ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK) == 0;
        if (!ok && errno == 0) errno = ENOTDIR;
        free(dir);
        free(target);
    }
    return ok;
}

bool make_dirs(const char *path) {
    char *p = xstrdup(path);
    bool ok = true;
    for (char *s = p + 1; ok; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) ok = false;
            *s = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (ok && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))) {
        ok = false;
        errno = ENOTDIR;
    }
    free(p);
    return ok;
}

uint64_t fnv64(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
uint32_t get_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
uint32_t get_be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
