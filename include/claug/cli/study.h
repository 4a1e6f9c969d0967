/* `claug study`: the grid of cells training-set size x {plain, augmented} x seed, each trained
 * through trainer_fit (the one training loop) and kept as one JSON file under DIR/cells/;
 * resumable at any moment (finished cells are read back, a cell in progress continues from its
 * checkpoint), shardable (--shard I/N, --shard slurm) into one DIR from any number of
 * processes, and summarised (report/study.h) from whatever cells exist (--collect).
 *
 * How long a cell trains: the same number of optimizer steps at every size (--steps S,
 * default 3750 = two epochs of the full 60,000 images at batch 32), i.e. ceil(S x batch /
 * size) epochs, capped at --max-epochs (default 30), so small sets are not trained for hundreds
 * of epochs past convergence; --epochs N instead trains N epochs at every size. */
#ifndef CLAUG_STUDY_H
#define CLAUG_STUDY_H

#include "claug/cli/cli.h"

/* Runs the command; returns the exit code. */
int study_main(const claug_opts *o);

#endif
