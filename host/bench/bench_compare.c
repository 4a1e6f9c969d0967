/* `claug bench --compare`: the result files of `claug bench --json`, side by side. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/bench/bench.h"
#include "claug/util/json_read.h"

static CLAUG_NORETURN CLAUG_PRINTF(2, 3) void bad_file(const char *path, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    die(EXIT_USAGE, "--compare %s: %s", path, msg);
}

static const json_value *member_of(const json_value *v, const char *key, json_type type) {
    const json_value *m = json_member(v, key);
    return m && m->type == type ? m : NULL;
}

/* A string member, or NULL when it is null; anything else is a bad file. */
static const char *optional_string(const bench_file *f, const json_value *item, int i, const char *key) {
    const json_value *m = json_member(item, key);
    if (m && m->type == JSON_STRING) return m->string;
    if (!m || m->type != JSON_NULL) bad_file(f->path, "item %d: \"%s\" must be a string or null", i + 1, key);
    return NULL;
}

void bench_file_parse(bench_file *f, const char *path, const char *text, size_t len) {
    memset(f, 0, sizeof *f);
    f->path = path;
    char err[512];
    f->doc = json_parse(text, len, err, sizeof err);
    if (!f->doc) bad_file(path, "not valid JSON: %s", err);
    const json_value *dev = member_of(f->doc, "device", JSON_OBJECT), *name = member_of(dev, "name", JSON_STRING),
                     *batch = member_of(f->doc, "batch_size", JSON_NUMBER);
    f->items = member_of(f->doc, "items", JSON_ARRAY);
    if (!name || !batch || !f->items)
        bad_file(path, "not a result of `claug bench --json` (it needs device.name, batch_size and items)");
    if (!(batch->number >= 1 && batch->number <= 1e6 && batch->number == floor(batch->number)))
        bad_file(path, "batch_size %g is not a whole number from 1 to 1000000", batch->number);
    f->device = name->string;
    f->batch = (int)batch->number;
    /* Files of format 1 carry no version. */
    const json_value *version = json_member(f->doc, "format_version");
    f->version = 1;
    if (version && !(version->type == JSON_NUMBER && version->number >= 2 && version->number <= 1e6 &&
                     version->number == floor(version->number)))
        bad_file(path, "format_version must be a whole number from 2");
    if (version) f->version = (int)version->number;
    for (int i = 0; i < f->items->count; i++) {
        const json_value *it = &f->items->items[i], *median = member_of(it, "median", JSON_NUMBER),
                         *rate = json_member(it, "rate");
        if (!member_of(it, "name", JSON_STRING)) bad_file(path, "item %d has no \"name\" string", i + 1);
        if (!median || !(median->number > 0))
            bad_file(path, "item %d (%s): \"median\" must be a positive number of seconds", i + 1,
                     json_member(it, "name")->string);
        if (!rate || (rate->type != JSON_NUMBER && rate->type != JSON_NULL))
            bad_file(path, "item %d: \"rate\" must be a number or null", i + 1);
        optional_string(f, it, i, "rate_unit");
    }
}

const json_value *bench_file_item(const bench_file *f, const char *name) {
    for (int i = 0; i < f->items->count; i++)
        if (strcmp(json_member(&f->items->items[i], "name")->string, name) == 0) return &f->items->items[i];
    return NULL;
}

/* "12.345 ms  123.4 GFLOP/s", or "-" when the file lacks the item. */
static void cell(char *buf, size_t len, const json_value *it) {
    if (!it) {
        snprintf(buf, len, "-");
        return;
    }
    const json_value *rate = json_member(it, "rate"), *unit = json_member(it, "rate_unit");
    char t[32], r[48];
    bench_format_time(t, sizeof t, json_member(it, "median")->number);
    if (rate->type == JSON_NUMBER && unit->type == JSON_STRING) {
        bench_format_rate(r, sizeof r, rate->number, unit->string);
        snprintf(buf, len, "%10s %18s", t, r);
    } else {
        snprintf(buf, len, "%10s", t);
    }
}

enum { NAME_W = 32, CELL_W = 29 };

/* One item across the files, and the ratio of the times when there are two. */
static void print_row(const bench_file *f, int n, const char *name) {
    printf("%-*s", NAME_W, name);
    for (int j = 0; j < n; j++) {
        char c[96];
        cell(c, sizeof c, bench_file_item(&f[j], name));
        printf(" | %-*s", CELL_W, c);
    }
    if (n == 2) {
        const json_value *a = bench_file_item(&f[0], name), *b = bench_file_item(&f[1], name);
        if (a && b)
            printf(" | %.2f", json_member(a, "median")->number / json_member(b, "median")->number);
        else
            printf(" | -");
    }
    printf("\n");
}

bench_file *bench_files_load(const char *const *paths, int n) {
    bench_file *f = xcalloc((size_t)n, sizeof *f);
    for (int i = 0; i < n; i++) {
        size_t len;
        char err[512];
        char *text = read_file(paths[i], MAX_TEXT_FILE, &len, err, sizeof err);
        if (!text) die(EXIT_USAGE, "%s", err);
        bench_file_parse(&f[i], paths[i], text, len);
        free(text);
    }
    return f;
}

void bench_files_free(bench_file *f, int n) {
    for (int i = 0; i < n; i++) json_value_free(f[i].doc);
    free(f);
}

void bench_compare(const bench_file *f, int n) {
    for (int i = 0; i < n; i++)
        printf("[%d] %s: %s, batch %d\n", i + 1, f[i].path, f[i].device, f[i].batch);
    printf("\n%-*s", NAME_W, "item");
    for (int i = 0; i < n; i++) {
        /* Cut to the column's width: the legend above has the names in full. */
        char head[512];
        snprintf(head, sizeof head, "[%d] batch %d, %s", i + 1, f[i].batch, f[i].device);
        printf(" | %-*.*s", CELL_W, CELL_W, head);
    }
    printf(n == 2 ? " | time [1]/[2]\n" : "\n");

    /* Rows: every item of the first file in its order, then those only later files have. */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < f[i].items->count; k++) {
            const char *name = json_member(&f[i].items->items[k], "name")->string;
            if (bench_file_item(&f[i], name) != &f[i].items->items[k]) continue; /* a repeated name */
            bool seen = false;
            for (int j = 0; j < i && !seen; j++) seen = bench_file_item(&f[j], name) != NULL;
            if (!seen) print_row(f, n, name);
        }
    if (n == 2) printf("\ntime [1]/[2] above 1: [2] is faster.\n");
}
