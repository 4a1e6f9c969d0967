#include "claug/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/util.h"

typedef struct {
    const char *name, *args, *summary;
} cmd_def;

static const cmd_def commands[CMD_COUNT] = {
    [CMD_DEVICES] = {"devices", "", "list OpenCL platforms and devices, with the P:D index for --device"},
    [CMD_SAMPLES] = {"samples", "[-n 5] [-o samples.png]",
                     "print the first training and test labels and draw the first training images"},
};

#define ALL_CMDS ((1u << CMD_COUNT) - 1)
#define CMD(c) (1u << (c))

typedef enum { K_FLAG, K_INT, K_SEED, K_STR } opt_kind;

typedef struct {
    const char *lname;
    char sname;
    opt_kind kind;
    size_t offset;
    unsigned cmds;
    const char *metavar, *help;
    long lo, hi; /* K_INT bounds */
} opt_def;

#define OFF(f) offsetof(claug_opts, f)
static const opt_def options[] = {
    {"device", 'd', K_STR, OFF(device), ALL_CMDS, "SPEC",
     "OpenCL device: P:D from `claug devices`, cpu, gpu, or part of the device, platform or vendor name "
     "(default: $CLAUG_DEVICE, else the first GPU, else the first device)", 0, 0},
    {"data", 0, K_STR, OFF(data_dir), ALL_CMDS & ~CMD(CMD_DEVICES), "DIR",
     "Fashion-MNIST directory (default: $CLAUG_DATA, else /usr/share/datasets/fashion-mnist)", 0, 0},
    {"kernels", 0, K_STR, OFF(kernel_dir), ALL_CMDS & ~CMD(CMD_DEVICES), "DIR",
     "load the OpenCL sources from DIR instead of those built in (default: $CLAUG_KERNELS)", 0, 0},
    {"seed", 0, K_SEED, OFF(seed), ALL_CMDS & ~CMD(CMD_DEVICES), "N",
     "seed of every random draw: initialisation, shuffling, dropout, augmentation (default 42)", 0, 0},
    {"quiet", 'q', K_FLAG, OFF(quiet), ALL_CMDS, NULL, "print only results and errors", 0, 0},
    {NULL, 'n', K_INT, OFF(count), CMD(CMD_SAMPLES), "N", "how many images (default 5)", 1, 100},
    {"output", 'o', K_STR, OFF(output), CMD(CMD_SAMPLES), "FILE", "PNG to write (default samples.png)", 0, 0},
};
#define NOPTS (sizeof options / sizeof options[0])

static void print_option(FILE *f, const opt_def *d) {
    char left[64];
    if (d->lname && d->sname)
        snprintf(left, sizeof left, "-%c, --%s%s%s", d->sname, d->lname, d->metavar ? " " : "", d->metavar ? d->metavar : "");
    else if (d->lname)
        snprintf(left, sizeof left, "    --%s%s%s", d->lname, d->metavar ? " " : "", d->metavar ? d->metavar : "");
    else
        snprintf(left, sizeof left, "-%c%s%s", d->sname, d->metavar ? " " : "", d->metavar ? d->metavar : "");
    fprintf(f, "  %-26s %s\n", left, d->help);
}

static void usage(FILE *f, claug_cmd cmd) {
    if (cmd == CMD_NONE) {
        fprintf(f, "claug %s: train a CNN on Fashion-MNIST without and with data augmentation, on any OpenCL device\n\n"
                   "usage: claug [-d SPEC] COMMAND [options]\n\ncommands:\n", CLAUG_VERSION);
        for (int c = 0; c < CMD_COUNT; c++) fprintf(f, "  %-10s %s\n", commands[c].name, commands[c].summary);
        fprintf(f, "\n`claug COMMAND --help` lists a command's options. Exit codes: 0 success, 2 bad usage or input,\n"
                   "3 OpenCL or device failure.\n");
        return;
    }
    fprintf(f, "usage: claug %s %s\n%s\n\noptions:\n", commands[cmd].name, commands[cmd].args, commands[cmd].summary);
    for (size_t i = 0; i < NOPTS; i++)
        if (options[i].cmds & CMD(cmd)) print_option(f, &options[i]);
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

static CLAUG_NORETURN CLAUG_PRINTF(2, 3) void bad(claug_cmd cmd, const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fputs("claug: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (cmd != CMD_NONE)
        fprintf(stderr, "\n(see `claug %s --help`)\n", commands[cmd].name);
    else
        fprintf(stderr, "\n(see `claug --help`)\n");
    exit(EXIT_USAGE);
}

static const opt_def *find_option(const char *arg, const char **inline_value) {
    *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (size_t i = 0; i < NOPTS; i++)
            if (options[i].lname && strlen(options[i].lname) == len && strncmp(options[i].lname, name, len) == 0) {
                if (eq) *inline_value = eq + 1;
                return &options[i];
            }
        return NULL;
    }
    for (size_t i = 0; i < NOPTS; i++)
        if (options[i].sname && options[i].sname == arg[1]) {
            if (arg[2]) *inline_value = arg + 2;
            return &options[i];
        }
    return NULL;
}

static void set_value(claug_opts *o, const opt_def *d, const char *flag, const char *v) {
    void *dst = (char *)o + d->offset;
    char *end;
    switch (d->kind) {
    case K_FLAG: *(bool *)dst = true; break;
    case K_STR:
        if (!*v) bad(o->cmd, "%s needs a value", flag);
        *(const char **)dst = v;
        break;
    case K_INT: {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (errno || end == v || *end || x < d->lo || x > d->hi)
            bad(o->cmd, "%s expects a whole number from %ld to %ld, got '%s'", flag, d->lo, d->hi, v);
        *(int *)dst = (int)x;
        break;
    }
    case K_SEED: {
        errno = 0;
        unsigned long long x = strtoull(v, &end, 0);
        if (errno || end == v || *end || *v == '-')
            bad(o->cmd, "%s expects a non-negative whole number, got '%s'", flag, v);
        *(uint64_t *)dst = (uint64_t)x;
        break;
    }
    }
}

void cli_parse(int argc, char **argv, claug_opts *o) {
    memset(o, 0, sizeof *o);
    o->cmd = CMD_NONE;
    o->seed = 42;
    o->count = 5;

    /* The command is the first argument that is neither an option nor an option's value, so
     * global options may stand before or after it. */
    int cmd_at = -1;
    for (int i = 1; i < argc && cmd_at < 0; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            const char *iv;
            const opt_def *d = find_option(argv[i], &iv);
            if (d && d->kind != K_FLAG && !iv) i++;
            continue;
        }
        cmd_at = i;
    }
    if (cmd_at >= 0) {
        for (int c = 0; c < CMD_COUNT; c++)
            if (strcmp(argv[cmd_at], commands[c].name) == 0) o->cmd = (claug_cmd)c;
        if (o->cmd == CMD_NONE) bad(CMD_NONE, "unknown command '%s'", argv[cmd_at]);
    }

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (i == cmd_at) continue;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout, o->cmd);
            exit(0);
        }
        if (strcmp(arg, "--version") == 0) {
            printf("claug %s (commit %s)\n", CLAUG_VERSION, CLAUG_GIT_COMMIT);
            exit(0);
        }
        if (arg[0] != '-' || !arg[1]) bad(o->cmd, "unexpected argument '%s'", arg);
        const char *value;
        const opt_def *d = find_option(arg, &value);
        if (!d) bad(o->cmd, "unknown option '%s'", arg);
        char flag[64];
        if (arg[1] == '-' || !d->lname)
            snprintf(flag, sizeof flag, "%s%s", d->lname ? "--" : "-", d->lname ? d->lname : (char[]){d->sname, 0});
        else
            snprintf(flag, sizeof flag, "-%c/--%s", d->sname, d->lname);
        if (o->cmd != CMD_NONE && !(d->cmds & CMD(o->cmd)))
            bad(o->cmd, "option %s does not apply to `%s`", flag, commands[o->cmd].name);
        if (d->kind == K_FLAG) {
            if (value) bad(o->cmd, "%s takes no value", flag);
        } else if (!value) {
            if (i + 1 >= argc) bad(o->cmd, "%s needs a value", flag);
            value = argv[++i];
        }
        set_value(o, d, flag, value);
    }
    if (o->cmd == CMD_NONE) {
        usage(stderr, CMD_NONE);
        exit(EXIT_USAGE);
    }
}
