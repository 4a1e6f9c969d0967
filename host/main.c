/* claug: subcommand dispatch. */
#include <stdio.h>
#include <stdlib.h>

#include "claug/augment.h"
#include "claug/cli.h"
#include "claug/clrt.h"
#include "claug/dataset.h"
#include "claug/samples.h"

static clrt *open_device(const claug_opts *o) {
    clrt *rt = clrt_open(o->device, o->kernel_dir);
    if (!o->quiet) {
        char desc[1024];
        clrt_describe(desc, sizeof desc, &rt->dev);
        printf("Device %s\n", desc);
    }
    return rt;
}

static int cmd_devices(const claug_opts *o) {
    clrt_devinfo *devs;
    int n = clrt_list(&devs);
    if (n == 0) {
        /* clrt_open says how to install a driver. */
        clrt_open(NULL, NULL);
        return EXIT_DEVICE;
    }
    if (o->device && clrt_match(devs, n, o->device) < 0) {
        fprintf(stderr, "claug: --device '%s' matches no OpenCL device. The devices are:\n", o->device);
        clrt_print_devices(stderr, devs, n);
        free(devs);
        return EXIT_USAGE;
    }
    clrt_print_devices(stdout, devs, n);
    int def = clrt_match(devs, n, o->device ? o->device : getenv("CLAUG_DEVICE"));
    if (def >= 0) printf("Selected: %d:%d %s\n", devs[def].platform_index, devs[def].device_index, devs[def].name);
    free(devs);
    return 0;
}

static int cmd_samples(const claug_opts *o) {
    dataset ds;
    dataset_load_or_die(&ds, o->data_dir ? o->data_dir : dataset_default_dir());
    clrt *rt = open_device(o);
    samples_run(rt, &ds, o->count, o->output ? o->output : "samples.png", o->quiet);
    clrt_close(rt);
    dataset_free(&ds);
    return 0;
}

static int cmd_augment(const claug_opts *o) {
    dataset ds;
    dataset_load_or_die(&ds, o->data_dir ? o->data_dir : dataset_default_dir());
    clrt *rt = open_device(o);
    augment_preview(rt, ds.train_images.data, ds.train_labels.data, (int)ds.train_images.count, ds.rows, ds.cols,
                    &o->aug, o->seed, o->index, o->count, o->output ? o->output : "augmented.png", o->dump_dir,
                    o->quiet);
    clrt_close(rt);
    dataset_free(&ds);
    return 0;
}

int main(int argc, char **argv) {
    claug_opts o;
    cli_parse(argc, argv, &o);
    switch (o.cmd) {
    case CMD_DEVICES: return cmd_devices(&o);
    case CMD_SAMPLES: return cmd_samples(&o);
    case CMD_AUGMENT: return cmd_augment(&o);
    default: return EXIT_USAGE;
    }
}
