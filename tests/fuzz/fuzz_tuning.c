/* tuning_parse on the input (NUL-terminated, as read_file leaves it), as it is and with its
 * checksum line made right (replaced, or added when it has none): without that, nearly every
 * mutation stops at the checksum and the parser behind it would go untested. A file it accepts
 * must come back unchanged through tuning_format and tuning_parse. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claug/tune/tuning.h"
#include "claug/util/util.h"

/* A device that is never opened: tuning_parse reads only the header strings and the limits that
 * conv_tuning_check compares with. The seed corpus is written for this device. */
static clrt rt = {
    .dev = {.name = "fuzz-device", .vendor = "fuzz-vendor", .driver = "1.0", .platform_version = "OpenCL 1.2 fuzz",
            .type = CL_DEVICE_TYPE_CPU, .max_wg = 1024, .local_mem = 65536},
};

static void check(const char *text) {
    tuning t;
    char err[1024];
    if (!tuning_parse(&t, text, &rt, err, sizeof err)) return;
    char *once = tuning_format(&t, &rt.dev);
    tuning again;
    if (!tuning_parse(&again, once, &rt, err, sizeof err)) {
        fprintf(stderr, "fuzz: tuning_format's own text is refused: %s\n%s", err, once);
        abort();
    }
    char *twice = tuning_format(&again, &rt.dev);
    if (strcmp(once, twice) != 0) {
        fprintf(stderr, "fuzz: tuning_format -> tuning_parse changed the tuning:\n%s---\n%s", once, twice);
        abort();
    }
    free(once);
    free(twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) abort();
    memcpy(text, data, size);
    text[size] = 0;
    check(text);

    /* The body: everything before the last checksum line, ending with a newline. */
    size_t body = strlen(text);
    for (const char *s = strstr(text, "\nchecksum = "); s; s = strstr(s + 1, "\nchecksum = ")) body = (size_t)(s - text) + 1;
    char *fixed = malloc(body + 32);
    if (!fixed) abort();
    memcpy(fixed, text, body);
    if (!body || fixed[body - 1] != '\n') fixed[body++] = '\n';
    snprintf(fixed + body, 32, "checksum = %016" PRIx64 "\n", fnv64(FNV64_INIT, fixed, body));
    if (strcmp(fixed, text) != 0) check(fixed);
    free(fixed);
    free(text);
    return 0;
}
