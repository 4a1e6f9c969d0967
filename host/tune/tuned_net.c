#include "claug/tune/tuned_net.h"

net *open_tuned_net(clrt *rt, const char *model, int c, int h, int w, int classes, int max_batch, tuning *t, char *desc,
                    size_t desclen) {
    tuning_load(rt, model, c, h, w, classes, max_batch, t, desc, desclen);
    return net_create(rt, model, c, h, w, classes, max_batch, &t->conv);
}
