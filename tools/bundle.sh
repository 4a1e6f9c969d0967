#!/bin/sh
# Writes a tarball of claug that runs on a machine where nothing can be installed (a GPU server, a
# cluster node): bin/claug with the run path $ORIGIN/../lib, lib/ with the shared libraries it
# needs beyond the C library and the C++ runtime (the system's, which the machine's OpenCL driver
# needs as well): CLBlast, the OpenCL ICD loader, zlib; README.md; and with DATA=1 the
# Fashion-MNIST files in share/fashion-mnist, where claug looks by default. The bundled ICD loader
# finds the machine's own driver through /etc/OpenCL/vendors/*.icd (or $OCL_ICD_VENDORS).
#   tools/bundle.sh BUILD_DIR [DATA (0 or 1)] [OUT_DIR (default BUILD_DIR)]
# Prints the tarball's path: OUT_DIR/claug-<version>-linux-<machine>.tar.gz.
set -eu
cd "$(dirname "$0")/.."

build=$1
data=${2:-0}
out=${3:-$build}
cmake --build "$build" --target claug-bundle >/dev/null
bin="$build/claug-bundle"
version=$("$bin" --version | sed -n 's/^claug \([^ ]*\) .*/\1/p')
name="claug-$version-linux-$(uname -m)"
stage="$out/bundle-stage"
rm -rf "$stage"
mkdir -p "$stage/$name/bin" "$stage/$name/lib"
cp "$bin" "$stage/$name/bin/claug"

# Every library the dynamic linker resolves for the binary, by the name the binary asks for,
# except glibc's own (libc, libm, libdl, libpthread, librt, the loader) and the C++ runtime.
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | while read -r soname path; do
    case $soname in
    libc.so.* | libm.so.* | libdl.so.* | libpthread.so.* | librt.so.* | ld-linux* | libgcc_s.so.* | libstdc++.so.*) ;;
    *) cp -L "$path" "$stage/$name/lib/$soname" ;;
    esac
done
for need in libclblast.so libOpenCL.so; do
    if ! ls "$stage/$name/lib/$need".* >/dev/null 2>&1; then
        echo "bundle: ldd $bin lists no $need" >&2
        exit 1
    fi
done

# The newest glibc and libstdc++ symbol versions the binary and the bundled libraries ask for:
# the machine's own must have them.
newest() { objdump -T "$stage/$name/bin/claug" "$stage/$name"/lib/* | grep -o "$1_[0-9.]*" | sort -uV | tail -n 1; }
if command -v objdump >/dev/null 2>&1; then
    needs="glibc $(newest GLIBC | sed 's/GLIBC_//') or newer, and a libstdc++ with $(newest GLIBCXX)"
else
    needs="glibc $(ldd --version | sed -n '1s/.* //p') (the build machine's) or newer, and its libstdc++"
fi

cp README.md "$stage/$name/"
cat >"$stage/$name/BUNDLE.txt" <<TEXT
claug $version for Linux $(uname -m), built $(date -u +%Y-%m-%d) on $(. /etc/os-release && echo "$PRETTY_NAME").

    bin/claug devices          the OpenCL devices this machine's drivers offer
    bin/claug run -d gpu       the experiment (README.md)

lib/ holds the libraries bin/claug loads from beside itself: $(ls "$stage/$name/lib" | tr '\n' ' ')
The OpenCL driver is the machine's own: the ICD loader reads /etc/OpenCL/vendors/*.icd, or the
directory \$OCL_ICD_VENDORS names (a driver installed without root: OCL_ICD_VENDORS=DIR, DIR
holding a .icd file with the path of its library). It needs the machine's C library and C++
runtime: $needs.
TEXT

if [ "$data" = 1 ]; then
    src=${CLAUG_DATA:-/usr/share/datasets/fashion-mnist}
    mkdir -p "$stage/$name/share/fashion-mnist"
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        if [ -f "$src/$f.gz" ]; then
            cp "$src/$f.gz" "$stage/$name/share/fashion-mnist/"
        elif [ -f "$src/$f" ]; then
            gzip -c "$src/$f" >"$stage/$name/share/fashion-mnist/$f.gz"
        else
            echo "bundle: DATA=1 but $src has no $f(.gz) (set CLAUG_DATA)" >&2
            exit 1
        fi
    done
fi

mkdir -p "$out"
tar -C "$stage" --owner=0 --group=0 -czf "$out/$name.tar.gz" "$name"
rm -rf "$stage"
echo "$out/$name.tar.gz"
