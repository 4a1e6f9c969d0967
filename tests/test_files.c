/* Files as a hostile user hands them over: writing onto devices, FIFOs, symbolic links and full
 * devices; temporaries left by killed writers; reading directories, FIFOs, endless devices and
 * oversized files; weights headers whose dimensions overflow; a history that outgrows its
 * capacity. Device nodes are made with mknod in the test's own directory, never the machine's. */
/* ctest: labels=e2e timeout=60 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "claug/model/history.h"
#include "claug/model/weights.h"

static char dir[1024];

static char *in_dir(const char *name) { return xasprintf("%s/%s", dir, name); }

static mode_t kind_of(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0;
}

/* A character device node like the machine's (1,3 is null, 1,7 full, 1,5 zero); NULL where
 * this process may not make device nodes. */
static char *node(const char *name, int minor) {
    char *p = in_dir(name);
    if (mknod(p, S_IFCHR | 0666, makedev(1, minor)) != 0) {
        printf("  skipped: mknod %s: %s (device nodes cannot be made here)\n", p, strerror(errno));
        free(p);
        return NULL;
    }
    return p;
}

/* Names in dir that start with prefix. */
static int count_prefixed(const char *prefix) {
    char *cmd = xasprintf("ls -a '%s' | grep -c '^%s' > '%s/.count'", dir, prefix, dir);
    int rc = system(cmd);
    (void)rc;
    free(cmd);
    char *path = in_dir(".count"), *text = slurp(path, NULL);
    int n = text ? atoi(text) : -1;
    free(text);
    unlink(path);
    free(path);
    return n;
}

static void test_write_special(void) {
    char *null = node("null", 3), *full = node("full", 7);
    if (null) {
        CHECK(write_file(null, "abc", 3), "write onto a null device: %s", strerror(errno));
        CHECK(kind_of(null) == S_IFCHR, "the null device node was replaced (mode %o)", kind_of(null));
    }
    if (full) {
        errno = 0;
        CHECK(!write_file(full, "abc", 3) && errno == ENOSPC, "write onto a full device: errno %d (%s)", errno,
              strerror(errno));
        CHECK(kind_of(full) == S_IFCHR, "the full device node was replaced");
    }
    char *fifo = in_dir("fifo");
    CHECK(mkfifo(fifo, 0666) == 0, "mkfifo %s: %s", fifo, strerror(errno));
    /* Held open for reading (and writing, so the open does not wait), the FIFO takes the bytes. */
    int fd = open(fifo, O_RDWR | O_NONBLOCK);
    CHECK(write_file(fifo, "through", 7), "write into a FIFO: %s", strerror(errno));
    char buf[16] = "";
    CHECK(read(fd, buf, sizeof buf) == 7 && memcmp(buf, "through", 7) == 0, "the FIFO carried '%s'", buf);
    close(fd);
    CHECK(kind_of(fifo) == S_IFIFO, "the FIFO was replaced");
    errno = 0;
    CHECK(!write_file(dir, "x", 1) && errno == EISDIR, "writing a directory: errno %d", errno);
    free(null);
    free(full);
    free(fifo);
}

static void test_write_links_and_modes(void) {
    char *target = in_dir("target.txt"), *link = in_dir("link.txt"), *dangling = in_dir("dangling.txt"),
         *created = in_dir("created.txt");
    CHECK(write_file(target, "old", 3), "write %s", target);
    CHECK(chmod(target, 0600) == 0, "chmod");
    CHECK(symlink("target.txt", link) == 0, "symlink");
    CHECK(write_file(link, "new!", 4), "write through a link: %s", strerror(errno));
    char *text = slurp(target, NULL);
    CHECK(kind_of(link) == S_IFLNK && text && strcmp(text, "new!") == 0, "the link's target holds '%s'", text);
    free(text);
    struct stat st;
    CHECK(stat(target, &st) == 0 && (st.st_mode & 0777) == 0600, "the replaced file's mode is %o, want 600",
          st.st_mode & 0777);
    CHECK(symlink("created.txt", dangling) == 0, "symlink");
    CHECK(write_file(dangling, "made", 4), "write through a dangling link: %s", strerror(errno));
    text = slurp(created, NULL);
    CHECK(kind_of(dangling) == S_IFLNK && text && strcmp(text, "made") == 0, "a dangling link's target holds '%s'", text);
    free(text);
    CHECK(count_prefixed("target.txt.tmp") == 0 && count_prefixed("created.txt.tmp") == 0, "a temporary was left");
    free(target);
    free(link);
    free(dangling);
    free(created);
}

/* The temporaries' "<host>": this machine's name with anything but letters, digits and '-' made '-'. */
static const char *host(void) {
    static char h[256];
    if (gethostname(h, sizeof h) != 0) h[0] = 0;
    h[sizeof h - 1] = 0;
    for (char *p = h; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && *p != '-') *p = '-';
    if (!h[0]) snprintf(h, sizeof h, "host");
    return h;
}

/* A temporary of a process of this machine that is gone goes at the next write beside it; one of
 * a live process stays (it may be writing), and so does another machine's (a shared file
 * system: its process cannot be seen from here). */
static void test_stale_temporaries(void) {
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char *target = in_dir("w.bin"), *stale = xasprintf("%s.tmp.%s.%ld", target, host(), (long)dead),
         *live = xasprintf("%s.tmp.%s.1", target, host()), *other = in_dir("w.binary.tmp.1"),
         *remote = xasprintf("%s.tmp.%s-elsewhere.%ld", target, host(), (long)dead);
    CHECK(write_file(stale, "x", 1) && write_file(live, "x", 1) && write_file(other, "x", 1) &&
              write_file(remote, "x", 1),
          "setup");
    CHECK(write_file(target, "data", 4), "write %s", target);
    CHECK(access(stale, F_OK) != 0, "the stale temporary %s is still there", stale);
    CHECK(access(live, F_OK) == 0 && access(other, F_OK) == 0, "a live process's temporary was removed");
    CHECK(access(remote, F_OK) == 0, "another machine's temporary %s was removed", remote);
    free(target);
    free(stale);
    free(live);
    free(other);
    free(remote);
}

/* SIGTERM in the middle of a large write leaves neither the target nor the temporary. */
static void test_signal_mid_write(void) {
    char *target = in_dir("big.bin"), *tmp = NULL;
    const size_t len = (size_t)1 << 30; /* untouched anonymous pages: zeros that cost no memory */
    void *data = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(data != MAP_FAILED, "mmap");
    pid_t pid = fork();
    if (pid == 0) _exit(write_file(target, data, len) ? 0 : 1);
    tmp = xasprintf("%s.tmp.%s.%ld", target, host(), (long)pid);
    bool seen = false;
    for (int i = 0; i < 200000 && !seen; i++) {
        seen = access(tmp, F_OK) == 0;
        if (!seen) usleep(50);
    }
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    if (seen && WIFSIGNALED(status)) {
        CHECK(WTERMSIG(status) == SIGTERM, "the writer died of signal %d", WTERMSIG(status));
        CHECK(access(tmp, F_OK) != 0, "SIGTERM left the temporary %s", tmp);
        CHECK(access(target, F_OK) != 0, "SIGTERM mid-write left a target");
        printf("  SIGTERM mid-write: temporary removed, no target\n");
    } else {
        /* The disk was faster than the signal: the write must then be whole. */
        struct stat st;
        CHECK(WIFEXITED(status) && stat(target, &st) == 0 && (size_t)st.st_size == len && access(tmp, F_OK) != 0,
              "the write ended before SIGTERM but is not whole");
        printf("  SIGTERM came after the write finished: the file is whole\n");
    }
    unlink(target);
    munmap(data, len);
    free(target);
    free(tmp);
}

static void expect_read_refused(const char *path, size_t max, const char *phrase) {
    char err[512] = "";
    size_t len;
    double t0 = now_seconds();
    char *text = read_file(path, max, &len, err, sizeof err);
    CHECK(!text && strstr(err, path) && strstr(err, phrase), "read_file(%s): want '%s', got '%s'", path, phrase, err);
    CHECK(now_seconds() - t0 < 5, "read_file(%s) took %.1f s", path, now_seconds() - t0);
    free(text);
}

static void test_read_refusals(void) {
    expect_read_refused(dir, MAX_TEXT_FILE, "is a directory");
    char *fifo = in_dir("fifo"), *big = in_dir("big.txt"), *zero = node("zero", 5);
    expect_read_refused(fifo, MAX_TEXT_FILE, "is a FIFO");
    if (zero) expect_read_refused(zero, MAX_TEXT_FILE, "is a character device");
    CHECK(write_file(big, "0123456789", 10), "write");
    expect_read_refused(big, 9, "is 10 bytes, more than the 9");
    char err[256];
    size_t len;
    char *text = read_file(big, 10, &len, err, sizeof err);
    CHECK(text && len == 10 && strcmp(text, "0123456789") == 0, "a file of exactly the cap: %s", err);
    free(text);
    errno = 0;
    char *missing = in_dir("missing");
    CHECK(!read_file(missing, 10, &len, err, sizeof err) && errno == ENOENT && strstr(err, "No such file"),
          "a missing file: errno %d, '%s'", errno, err);
    free(missing);
    free(fifo);
    free(big);
    free(zero);
}

static void put32(FILE *f, uint32_t v) {
    uint8_t b[4];
    put_le32(b, v);
    fwrite(b, 1, 4, f);
}

/* A weights file, CRC and all, whose one tensor claims 65536^4 values (the count would wrap to 0). */
static void test_weights_dims_overflow(void) {
    char *path = in_dir("overflow.bin");
    FILE *f = fopen(path, "w+b");
    const char *model = "flatten,dense10,softmax";
    fwrite("CLAUGWTS", 1, 8, f);
    put32(f, 1);
    put32(f, (uint32_t)strlen(model));
    fwrite(model, 1, strlen(model), f);
    for (int i = 0; i < 4; i++) put32(f, i < 3 ? (i == 0 ? 1 : 28) : 10);
    put32(f, 1);
    put32(f, 5);
    fwrite("dense", 1, 5, f);
    put32(f, 4);
    for (int i = 0; i < 4; i++) put32(f, 65536);
    long n = ftell(f);
    uint8_t *body = xmalloc((size_t)n);
    rewind(f);
    CHECK(fread(body, 1, (size_t)n, f) == (size_t)n, "read back");
    put32(f, (uint32_t)crc32(0L, body, (uInt)n));
    fclose(f);
    free(body);
    weights_file w;
    char err[512] = "";
    CHECK(!weights_read(&w, path, err, sizeof err) && strstr(err, "hold more values than"),
          "dims 65536^4: got '%s'", err);
    printf("  weights with dims 65536^4: %s\n", err);
    free(path);
}

static void test_history_grows(void) {
    history h;
    history_init(&h, "plain", 2, 100, 32);
    for (int i = 0; i < 9; i++) history_add(&h, &(epoch_metrics){.loss = i});
    CHECK(h.epochs == 9 && h.epoch[8].loss == 8 && h.epoch[0].loss == 0, "history of 9 epochs past a capacity of 2");
    history_free(&h);
}

/* Host memory running out exits 4 with its own message, not the device's code 3. */
static void test_out_of_memory(void) {
    char *log = in_dir("oom.txt");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);
        (void)f;
        /* More than any address space: malloc refuses at once (ASan too, with the
         * allocator_may_return_null the sanitizer build's tests run with). */
        free(xmalloc(SIZE_MAX / 4));
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    char *text = slurp(log, NULL);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_NOMEM && text && strstr(text, "out of host memory"),
          "xmalloc past RLIMIT_AS: status %d, stderr '%s'", status, text ? text : "");
    free(text);
    free(log);
}

static void expect_claug(int want_rc, const char *phrase, const char *const *args) {
    char *out, *err;
    double t0 = now_seconds();
    int rc = run_claug(&out, &err, args);
    CHECK(rc == want_rc && strstr(want_rc ? err : out, phrase), "claug %s %s ...: exit %d (want %d), lacks '%s':\n%s%s",
          args[0], args[1], rc, want_rc, phrase, out, err);
    printf("  claug %s %s ... -> exit %d in %.1f s\n", args[0], args[1], rc, now_seconds() - t0);
    free(out);
    free(err);
}

static void test_commands(void) {
    char *null = node("cmd-null", 3), *full = node("cmd-full", 7), *fifo = in_dir("fifo");
    if (null) {
        expect_claug(0, "Wrote", (const char *[]){"samples", "-n", "2", "-o", null, NULL});
        CHECK(kind_of(null) == S_IFCHR, "samples -o <null device> replaced the node");
    }
    if (full) {
        expect_claug(EXIT_USAGE, "No space left on device",
                     (const char *[]){"train", "-q", "--epochs", "1", "--train-size", "100", "--save", full, NULL});
        CHECK(kind_of(full) == S_IFCHR, "train --save <full device> replaced the node");
    }
    /* stdout is a regular file here (run_claug): the CSV follows the progress lines in it. */
    char *out, *err;
    int rc = run_claug(&out, &err,
                       (const char *[]){"train", "--epochs", "1", "--train-size", "100", "--csv", "/dev/stdout", NULL});
    const char *progress = strstr(out, "Epoch 1/1"), *csv = strstr(out, "epoch,accuracy,loss,val_accuracy,val_loss\n0,");
    CHECK(rc == 0 && progress && csv && csv > progress && kind_of("/dev/stdout") == S_IFLNK,
          "train --csv /dev/stdout: exit %d, stdout:\n%s%s", rc, out, err);
    free(out);
    free(err);
    expect_claug(EXIT_USAGE, "is a character device", (const char *[]){"eval", "--weights", "/dev/zero", NULL});
    expect_claug(EXIT_USAGE, "is a FIFO", (const char *[]){"eval", "--weights", fifo, NULL});
    expect_claug(EXIT_USAGE, "is a directory", (const char *[]){"eval", "--weights", dir, NULL});
    expect_claug(EXIT_USAGE, "is a character device", (const char *[]){"bench", "--compare", "/dev/zero", NULL});
    expect_claug(EXIT_USAGE, "is a FIFO", (const char *[]){"bench", "--compare", fifo, NULL});
    char *data = in_dir("data"), *images = in_dir("data/train-images-idx3-ubyte.gz");
    CHECK(make_dirs(images), "mkdir %s", images);
    expect_claug(EXIT_USAGE, "train-images-idx3-ubyte.gz: is a directory",
                 (const char *[]){"samples", "--data", data, "-o", sink_path("files"), NULL});
    free(data);
    free(images);
    /* /proc/self is a directory nobody, root included, may create files in. */
    expect_claug(EXIT_USAGE, "--out /proc/self: cannot write", (const char *[]){"run", "-q", "--out", "/proc/self", NULL});
    free(null);
    free(full);
    free(fifo);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s", scratch_dir("files"));
    test_write_special();
    test_write_links_and_modes();
    test_stale_temporaries();
    test_signal_mid_write();
    test_read_refusals();
    test_weights_dims_overflow();
    test_history_grows();
    test_out_of_memory();
    test_commands();
    return check_done("test_files");
}
