#!/bin/sh
# Writes a small Fashion-MNIST into DIR: the first NTRAIN training and NTEST test images and
# their labels, as uncompressed IDX files (claug reads them like the .gz ones), so that the
# study's tests train and validate in seconds. Usage: mini_data.sh SRC DIR NTRAIN NTEST
set -eu
src=$1 dir=$2 ntrain=$3 ntest=$4
mkdir -p "$dir"

# The IDX count field: 4 bytes, big-endian, as octal escapes for printf.
be32() { printf "\\$(printf %03o $(($1 >> 24 & 255)))\\$(printf %03o $(($1 >> 16 & 255)))\\$(printf %03o $(($1 >> 8 & 255)))\\$(printf %03o $(($1 & 255)))"; }

# one NAME COUNT HEADER_BYTES ITEM_BYTES: the magic, the new count, the rest of the header
# (rows and cols for images), then COUNT items.
one() {
    f="$src/$1.gz"
    [ -f "$f" ] || { echo "mini_data.sh: $f not found" >&2; exit 1; }
    { gzip -dc "$f" | head -c 4; be32 "$2"; gzip -dc "$f" | tail -c +9 | head -c $(($3 - 8 + $2 * $4)); } > "$dir/$1"
}
one train-images-idx3-ubyte "$ntrain" 16 784
one train-labels-idx1-ubyte "$ntrain" 8 1
one t10k-images-idx3-ubyte "$ntest" 16 784
one t10k-labels-idx1-ubyte "$ntest" 8 1
