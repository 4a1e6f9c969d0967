/* The training checkpoint of `claug train --checkpoint FILE` / `--resume FILE`: everything a
 * training needs to continue bit-identically after an interruption (the parameters, Adam's
 * moments and step, the epochs done and their metrics), and the key of the configuration it
 * belongs to, so that it is never resumed into another one.
 *
 * Format (integers unsigned little-endian, floats IEEE-754 binary32 and doubles binary64
 * little-endian): magic "CLAUGCKP", format version (u32, 1), key length (u32) and the key
 * (bytes), parameter count P (u64), Adam step (u64), epochs done E (u32), then E x 7 doubles
 * (epoch_metrics in declaration order), then P floats each of the parameters and of Adam's
 * first and second moments, and last the CRC-32 (zlib's) of every byte before it. */
#ifndef CLAUG_CHECKPOINT_H
#define CLAUG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "claug/model/history.h"
#include "claug/model/net.h"
#include "claug/model/train.h"

/* The configuration a training's result depends on, as "name=value" fields separated by
 * "; ": model, seed, images, batch size, learning rate, augmentation and the data's
 * fingerprint. The epoch count is not in it: a resumed training may be asked for more. */
char *checkpoint_key(const net *n, const train_config *c, int train_images, unsigned long data_fingerprint);

/* Writes the network's state and the history atomically; false with a message naming the file. */
bool checkpoint_save(net *n, const history *h, const char *key, const char *path, char *err, size_t errlen);
/* Reads a checkpoint, checks its CRC, that its key is `key` (else the message names the first
 * field that differs) and its size is the network's, then loads the state into n and appends
 * the epochs into h (which must be empty). False with a message naming the file. */
bool checkpoint_load(net *n, history *h, const char *key, const char *path, char *err, size_t errlen);

#endif
