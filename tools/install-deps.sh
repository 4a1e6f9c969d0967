#!/bin/sh
# Installs the Debian packages claug needs to build, test and run; installs nothing that is
# already there. Uses apt-get directly as root, through sudo otherwise; when neither works it
# prints the exact command to run and stops.
set -eu

# g++: the one C++ file (CLBlast's parameters); clang-15 and libclc-15: the compilers of the
# portability check (tools/portability.sh); python3-numpy and python3-scipy: the test that checks
# the augmentation against Keras' transform code (tests/test_keras_affine.py) and python3-numpy
# the one that runs an exported .npz (tests/support/npz_forward.py). Arguments add
# packages (CI's oclgrind, libFuzzer).
PKGS="cmake make gcc g++ pkg-config ocl-icd-opencl-dev opencl-headers libclblast-dev zlib1g-dev pocl-opencl-icd dataset-fashion-mnist clang-15 libclc-15 python3-numpy python3-scipy $*"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "claug: installing Debian packages:$missing"
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "claug: cannot install packages (not root, and sudo is not available without a password)." >&2
    echo "Run this, then try again:" >&2
    echo "    sudo apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; update only when the install fails for that.
$SUDO apt-get install -y -q $missing || { $SUDO apt-get update -q && $SUDO apt-get install -y -q $missing; }
