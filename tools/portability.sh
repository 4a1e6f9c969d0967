#!/bin/sh
# The portability check: compiles every OpenCL program claug builds, exactly as claug builds it,
# with the compilers of AMD's and NVIDIA's stacks, and fails on what would break there.
#
#   tools/portability.sh CLAUG-PROGRAMS [KERNEL-DIR [WORK-DIR]]
#
# CLAUG-PROGRAMS is build/claug-programs: it runs claug's own initialisation code with the
# runtime in listing mode and prints each program's files (in claug's order) and options, for
# the CPU and GPU defaults and every convolution build `claug tune` can try. KERNEL-DIR (default
# the repository's cl/) holds the sources to check; WORK-DIR (default a temporary directory)
# keeps the outputs and a cache of results keyed by source, options, target and compilers.
#
# Targets: amdgcn gfx906, gfx1030, gfx1100 (clang-15's AMDGPU back end, the one ROCm's compiler
# is built on, with libclc's builtins where ROCm links its device libraries: with -nogpulib alone
# every builtin, get_global_id included, stays an external call, and the figures would be those
# of the call ABI, 16 KiB of assumed stack, not the kernels'), and nvptx64:
# clang-15's NVPTX back end with libclc to PTX, then the CUDA toolkit's ptxas for sm_70, sm_80,
# sm_90 (clang-15 emits PTX up to sm_86, and PTX for sm_70 is what every later GPU's driver
# takes). Without ptxas, or for an architecture the installed ptxas no longer knows, the NVIDIA
# targets stop at PTX and the table says so.
#
# It fails (exit 1) on any compile error or warning, on a kernel whose local (shared) memory
# exceeds 32 KiB (OpenCL's guaranteed minimum), and, for the kernels claug runs on a GPU without measuring them
# first (the GPU defaults), on any spill or a reqd_work_group_size above 256 (the smallest common
# default maximum). The other builds are figures: the CPU's parameters never run on a GPU, and
# claug tune refuses a candidate that exceeds the device's work-group or local-memory limit and
# times every other one, so a spilling candidate only wins where it is the fastest.
set -eu

CLANG=${CLANG:-clang-15}
PTXAS=${PTXAS:-$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)}
CLC=${CLC:-/usr/lib/clc}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
AMD_TARGETS="gfx906 gfx1030 gfx1100"
NV_TARGETS="sm_70 sm_80 sm_90"
LOCAL_LIMIT=32768
WG_LIMIT=256
# -Werror: a warning here is one PoCL's compiler prints on the user's terminal at a cold start
# (clang's "loop not unrolled" for an unroll pragma it cannot apply, say).
CL_FLAGS="-x cl -Xclang -finclude-default-header -Werror"

# ---- one compile job, run in parallel by the main part below (xargs) -----------------------
if [ "${1:-}" = "--job" ]; then
    # --job WORK PROGRAM UNIT: UNIT is an AMD target, or "nv" (PTX, then ptxas per architecture).
    W=$2 P=$3 U=$4
    src="$W/src/$P.cl" opts=$(cat "$W/src/$P.opts")
    # The key holds everything a result depends on, this script (its parsing) included.
    key=$( { cat "$src"; echo "$opts $U"; cat "$W/toolchain" "$0"; } | sha256sum | cut -c1-32)
    if [ -f "$W/cache/$key" ]; then
        cp "$W/cache/$key" "$W/res/$P.$U"
        exit 0
    fi
    out="$W/obj/$P.$U" log="$W/log/$P.$U"
    : >"$log"
    if [ "$U" = nv ]; then
        # shellcheck disable=SC2086 # the options are claug's, word-split as a driver splits them
        if ! $CLANG $CL_FLAGS -target nvptx64--nvidiacl -march=sm_70 -Xclang -mlink-builtin-bitcode \
            -Xclang "$CLC/nvptx64--nvidiacl.bc" $opts -S -o "$out.raw.ptx" "$src" >>"$log" 2>&1; then
            echo "ERROR" >"$W/res/$P.$U"
            exit 0
        fi
        # NVIDIA's compiler turns reqd_work_group_size into .reqntid, which bounds the registers
        # ptxas may give each thread; clang-15 drops it, so it is put back from the front end's.
        awk -v F="$W/src/$P.kernels" 'BEGIN { while ((getline l < F) > 0) { split(l, a, "\t"); r[a[1]] = a[2] } }
            /^\.visible \.entry / { k = $3; sub(/\(.*/, "", k) }
            { print }
            /^\)$/ && k != "" { if (r[k] != "") { w = r[k]; gsub(/x/, ", ", w); print ".reqntid " w }; k = "" }' \
            "$out.raw.ptx" >"$out.ptx"
        : >"$W/res/$P.$U.tmp"
        for sm in $NV_TARGETS; do
            if ! grep -qx "$sm" "$W/ptxas-archs"; then
                awk -F'\t' -v sm="$sm" '{ print $1 "\t" sm "\tptx" }' "$W/src/$P.kernels" >>"$W/res/$P.$U.tmp"
                continue
            fi
            if ! "$PTXAS" -arch="$sm" -v "$out.ptx" -o "$out.$sm.cubin" >"$out.$sm.txt" 2>&1; then
                grep -v -e '^ptxas info' -e 'bytes stack frame' "$out.$sm.txt" >>"$log" || true
                echo "ERROR" >"$W/res/$P.$U"
                exit 0
            fi
            awk -v sm="$sm" '
                /Compiling entry function/ { k = $0; sub(/.*function ./, "", k); sub(/. for .*/, "", k) }
                /bytes stack frame/ { st[k] = $1; sp[k] = $5 + $9 }
                /Used [0-9]+ registers/ { for (i = 1; i <= NF; i++) { if ($(i + 1) ~ /^registers/) rg[k] = $i;
                                                                       if ($(i + 1) == "bytes" && $(i + 2) ~ /^smem/) sm_[k] = $i } }
                END { for (k in rg) print k "\t" sm "\t" rg[k] "\t" sp[k] + 0 "\t" sm_[k] + 0 "\t" st[k] + 0 }' \
                "$out.$sm.txt" >>"$W/res/$P.$U.tmp"
        done
        mv "$W/res/$P.$U.tmp" "$W/res/$P.$U"
    else
        # shellcheck disable=SC2086
        if ! $CLANG $CL_FLAGS -target amdgcn-amd-amdhsa -mcpu="$U" -nogpulib -Xclang -mlink-builtin-bitcode \
            -Xclang "$CLC/amdgcn--amdhsa.bc" -Wno-linker-warnings $opts -S -o "$out.s" "$src" >>"$log" 2>&1; then
            echo "ERROR" >"$W/res/$P.$U"
            exit 0
        fi
        # The code object's metadata, one block per kernel (keys at four spaces' indentation).
        awk -v t="$U" '
            function flush() { if (k != "") print k "\t" t "\t" v "\t" sp "\t" l "\t" st; k = "" }
            /^amdhsa.kernels:/ { on = 1 }
            on && /^  - / { flush() }
            on && /^    \.name:/ { k = $2 }
            on && /^    \.vgpr_count:/ { v = $2 }
            on && /^    \.vgpr_spill_count:/ { sp = $2 }
            on && /^    \.sgpr_spill_count:/ { sp += $2 }
            on && /^    \.group_segment_fixed_size:/ { l = $2 }
            on && /^    \.private_segment_fixed_size:/ { st = $2 }
            on && /^\.end_amdgpu_metadata/ { flush(); on = 0 }' "$out.s" >"$W/res/$P.$U.tmp"
        mv "$W/res/$P.$U.tmp" "$W/res/$P.$U"
    fi
    cp "$W/res/$P.$U" "$W/cache/$key"
    exit 0
fi

# ---- the check ------------------------------------------------------------------------------
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
    echo "usage: $0 CLAUG-PROGRAMS [KERNEL-DIR [WORK-DIR]]" >&2
    exit 2
fi
LISTER=$1
KDIR=${2:-$(dirname "$0")/../cl}
W=${3:-}
if [ -z "$W" ]; then
    W=$(mktemp -d)
    trap 'rm -rf "$W"' EXIT
fi
command -v "$CLANG" >/dev/null 2>&1 || { echo "portability: $CLANG not found (tools/install-deps.sh installs clang-15)" >&2; exit 2; }
for f in amdgcn--amdhsa.bc nvptx64--nvidiacl.bc; do
    [ -f "$CLC/$f" ] || { echo "portability: $CLC/$f not found (tools/install-deps.sh installs libclc-15)" >&2; exit 2; }
done
rm -rf "$W/src" "$W/res" "$W/obj" "$W/log" "$W/jobs" "$W/strict"
mkdir -p "$W/src" "$W/res" "$W/obj" "$W/log" "$W/cache"

# The architectures the installed ptxas assembles: a tiny kernel for each.
: >"$W/ptxas-archs"
ptxas_note=""
if [ -x "$PTXAS" ]; then
    printf '__kernel void k(__global float *x) { x[0] = 1.0f; }\n' >"$W/obj/probe.cl"
    # shellcheck disable=SC2086
    $CLANG $CL_FLAGS -cl-std=CL1.2 -target nvptx64--nvidiacl -march=sm_70 -S -o "$W/obj/probe.ptx" "$W/obj/probe.cl"
    for sm in $NV_TARGETS; do
        if "$PTXAS" -arch="$sm" "$W/obj/probe.ptx" -o "$W/obj/probe.$sm.cubin" >"$W/obj/probe.$sm.txt" 2>&1; then
            echo "$sm" >>"$W/ptxas-archs"
        else
            ptxas_note="$ptxas_note $sm"
        fi
    done
    ptxas_version=$("$PTXAS" --version | sed -n 's/.*release \([^,]*\).*/of CUDA \1/p')
    [ -z "$ptxas_note" ] || ptxas_note="ptxas ($ptxas_version) cannot assemble for$ptxas_note: stopped at PTX"
else
    ptxas_version="none"
    ptxas_note="no ptxas ($PTXAS): the NVIDIA targets stopped at PTX"
fi
{ $CLANG --version | head -n 1; echo "ptxas $ptxas_version"; cat "$W/ptxas-archs"; } >"$W/toolchain"

# The programs, each distinct (files, options) once, with the roles it has and the kernels claug
# creates from it in each role.
"$LISTER" >"$W/list.txt"
awk -F'\t' -v W="$W" '
    $1 == "params" { role = $2 }
    $1 == "program" {
        key = $2 "\t" $3
        if (!(key in id)) { id[key] = "P" ++n; print $2 > (W "/src/" id[key] ".files"); print $3 > (W "/src/" id[key] ".opts") }
        p = id[key]
        if (index(" " roles[p] " ", " " role " ") == 0) roles[p] = roles[p] (roles[p] == "" ? "" : " ") role
    }
    $1 == "kernel" && role == "gpu" { print p "\t" $2 > (W "/strict") }
    END { for (i = 1; i <= n; i++) print "P" i "\t" roles["P" i] > (W "/roles") }' "$W/list.txt"
touch "$W/strict"
[ -s "$W/roles" ] || { echo "portability: $LISTER listed no program" >&2; exit 2; }

# Each program's text as claug hands it to the driver: its files concatenated in order. The
# front end (target-independent SPIR) names its kernels and their reqd_work_group_size.
fail=0
while read -r P _; do
    files=$(cat "$W/src/$P.files")
    : >"$W/src/$P.cl"
    for f in $files; do cat "$KDIR/$f" >>"$W/src/$P.cl"; done
    # shellcheck disable=SC2046,SC2086
    if $CLANG $CL_FLAGS -target spir -O0 $(cat "$W/src/$P.opts") -emit-llvm -S -o "$W/obj/$P.ll" "$W/src/$P.cl" \
        >"$W/log/$P.front" 2>&1; then
        awk '/^define .*spir_kernel/ { k = $0; sub(/\(.*/, "", k); sub(/.*@/, "", k); order[++n] = k
                                       if (match($0, /!reqd_work_group_size ![0-9]+/)) r[k] = substr($0, RSTART + 23, RLENGTH - 23) }
             /^![0-9]+ = !\{i32 [0-9]+, i32 [0-9]+, i32 [0-9]+\}$/ { m = substr($1, 2); s = $0; sub(/.*\{/, "", s)
                                                                    gsub(/i32 |[},]/, "", s); split(s, a, " ")
                                                                    md[m] = a[1] "x" a[2] "x" a[3] }
             END { for (i = 1; i <= n; i++) print order[i] "\t" (r[order[i]] != "" ? md[r[order[i]]] : "") }' \
            "$W/obj/$P.ll" >"$W/src/$P.kernels"
    else
        : >"$W/src/$P.kernels"
    fi
    for u in $AMD_TARGETS nv; do echo "$W $P $u"; done >>"$W/jobs"
done <"$W/roles"
SELF=$0
xargs -P "$JOBS" -n 3 sh "$SELF" --job <"$W/jobs"

# ---- the table and the verdict --------------------------------------------------------------
echo "Portability check: $(head -n 1 "$W/toolchain"), ptxas $ptxas_version; kernels from $KDIR"
echo "Each cell: registers (AMD: VGPRs) / spills (AMD: registers spilled, NVIDIA: spill bytes)"
echo "/ local (shared) memory bytes / stack (AMD: scratch per lane) bytes; wg: reqd_work_group_size."
echo "* marks a spill or a work-group above $WG_LIMIT that is shown, not judged: a tuner candidate, a CPU"
echo "build, or a kernel the GPU defaults do not run (see tools/portability.sh)."
echo
awk -F'\t' -v W="$W" -v AMD="$AMD_TARGETS" -v NV="$NV_TARGETS" -v LL="$LOCAL_LIMIT" -v WL="$WG_LIMIT" -v note="$ptxas_note" '
    function fail(m) { if (!(m in seen)) { seen[m] = 1; fails[++nf] = m } }
    function cell(p, k, t,    x) { x = res[p, k, t]; return x == "" ? "-" : x }
    function ranges(s,    a, n, i, out, lo, hi, v) {
        n = split(s, a, " "); out = ""; i = 1
        while (i <= n) {
            lo = a[i] + 0; hi = lo
            while (i < n && a[i + 1] + 0 == hi + 1) { hi++; i++ }
            out = out (out == "" ? "" : ",") "P" lo (hi > lo ? "-P" hi : ""); i++
        }
        return out
    }
    BEGIN {
        nt = split(AMD " " NV, T, " ")
        while ((getline l < (W "/roles")) > 0) { split(l, a, "\t"); np++; P[np] = a[1]; role[a[1]] = a[2] }
        while ((getline l < (W "/strict")) > 0) { split(l, a, "\t"); strict[a[1], a[2]] = 1 }
        for (i = 1; i <= np; i++) {
            p = P[i]
            getline files < (W "/src/" p ".files"); getline opts < (W "/src/" p ".opts")
            sub(/^-cl-std=CL1\.2 */, "", opts); label[p] = files (opts == "" ? "" : "  " opts)
            nk[p] = 0
            while ((getline l < (W "/src/" p ".kernels")) > 0) { split(l, a, "\t"); K[p, ++nk[p]] = a[1]; wg[p, a[1]] = a[2] }
            nerr = 0
            for (u = 1; u <= 4; u++) {
                unit = u <= 3 ? T[u] : "nv"
                f = W "/res/" p "." unit
                if ((getline l < f) <= 0 || l == "ERROR") {
                    fail("compile error: " p " (" label[p] ") for " (unit == "nv" ? "nvptx64" : unit) ", see " W "/log/" p "." unit)
                    err[p, unit] = 1; continue
                }
                do {
                    split(l, a, "\t"); k = a[1]; t = a[2]
                    if (a[3] == "ptx") { res[p, k, t] = "ptx"; continue }
                    mark = ""; w = wg[p, k]; split(w, d, "x"); wsz = w == "" ? 0 : d[1] * d[2] * d[3]
                    if (a[5] + 0 > LL) { fail(p " " k " on " t ": " a[5] " bytes of local memory, above " LL); mark = "!" }
                    if (a[4] + 0 > 0 || wsz > WL) {
                        if ((p, k) in strict) {
                            if (a[4] + 0 > 0) fail(p " " k " on " t ": " a[4] " spilled (a kernel of the GPU defaults)")
                            if (wsz > WL) fail(p " " k ": reqd_work_group_size " w " above " WL " (a kernel of the GPU defaults)")
                            mark = "!"
                        } else if (mark == "") mark = "*"
                    }
                    res[p, k, t] = a[3] "/" a[4] "/" a[5] "/" a[6] mark
                } while ((getline l < f) > 0)
                close(f)
            }
            for (u in T) if (err[p, T[u]] || (T[u] ~ /^sm_/ && err[p, "nv"])) for (j = 1; j <= nk[p]; j++) res[p, K[p, j], T[u]] = "ERROR"
        }
        # One row per kernel and set of identical figures, naming the programs that give them.
        printf "%-18s %-19s %-9s", "kernel", "programs", "wg"
        for (t = 1; t <= nt; t++) printf " %-17s", T[t]
        printf "\n"
        for (i = 1; i <= np; i++) {
            p = P[i]
            for (j = 1; j <= nk[p]; j++) {
                k = K[p, j]; row = wg[p, k]
                for (t = 1; t <= nt; t++) row = row "\t" cell(p, k, T[t])
                rk = k SUBSEP row
                if (!(rk in rowid)) { rowid[rk] = ++nr; rkern[nr] = k; rrow[nr] = row }
                rp[rowid[rk]] = rp[rowid[rk]] (rp[rowid[rk]] == "" ? "" : " ") substr(p, 2)
            }
        }
        for (r = 1; r <= nr; r++) {
            n = split(rrow[r], c, "\t")
            printf "%-18s %-19s %-9s", rkern[r], ranges(rp[r]), c[1] == "" ? "-" : c[1]
            for (t = 2; t <= n; t++) printf " %-17s", c[t]
            printf "\n"
        }
        print "\nPrograms (files in claug'"'"'s order, options after -cl-std=CL1.2), and where claug builds them:"
        for (i = 1; i <= np; i++) printf "  %-4s %-25s %s\n", P[i], role[P[i]], label[P[i]]
        if (note != "") print "\nNote: " note
        if (nf) { print "\nFAILED:"; for (i = 1; i <= nf; i++) print "  " fails[i]; exit 1 }
        print "\nPASSED: every program compiles for every target within the limits."
    }' || fail=1
if [ "$fail" = 1 ]; then
    for f in "$W"/log/*; do
        [ -s "$f" ] || continue
        case "$f" in *.front) continue ;; esac
        echo "--- $f"
        head -n 20 "$f"
    done
    exit 1
fi
