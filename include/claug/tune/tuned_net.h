/* The network as every command builds it: with the device's tuning. */
#ifndef CLAUG_TUNED_NET_H
#define CLAUG_TUNED_NET_H

#include <stddef.h>

#include "claug/model/net.h"
#include "claug/tune/tuning.h"

/* net_create for batches up to max_batch with tuning_load's choice for the model on (c, h, w)
 * inputs and `classes` (`claug tune`'s file where it fits, else the defaults): the tuning into
 * *t, tuning_load's line into desc. Exits EXIT_USAGE naming the bad token of a model string
 * that does not parse. */
net *open_tuned_net(clrt *rt, const char *model, int c, int h, int w, int classes, int max_batch, tuning *t, char *desc,
                    size_t desclen);

#endif
