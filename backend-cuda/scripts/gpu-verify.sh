#!/usr/bin/env bash
# Verifies the cuda backend on a GPU machine from the bundle gpu-bundle.sh built (.gpu/, carried along with
# the repository): no Java, Maven or network needed there. Run from anywhere:
#   backend-cuda/scripts/gpu-verify.sh [output-folder]      (default: $OUT, else /tmp/backprop-gpu-out)
# Steps, all logged to <output>/verify.log:
#   1. environment: GPU, driver, and where libcuda.so.1 and cuBLAS are (BACKPROP_CUBLAS_LIBRARY is set to the
#      cuBLAS found; cuBLAS 13 is preferred so that the libcublas.so.12 shim is what gets verified;
#      CUBLAS_PREFER=12 prefers a real cuBLAS 12)
#   2. the probe's device line (stops here when cuda is unavailable)
#   3. every test of dev.backprop.cuda through JUnit's console launcher, the contract and network tests on
#      the GPU among them, with -Dbackprop.cuda.requireGpu=true so that none of them can pass by skipping
#      (XML reports in <output>/junit)
#   4. float32 GEMM at n = 1024, 4096, 8192 on the cuda backend and with torch.mm (TF32 off in both), then
#      a table of the two (<output>/gemm.txt)
# BACKPROP_VERIFY_DRY=1 runs the same steps on a machine without a GPU (checks the bundle and the script:
# the probe's failure is not fatal, GPU tests skip instead of failing, torch is optional).
set -uo pipefail
cd "$(dirname "$0")/../.."

BUNDLE=${BACKPROP_GPU_BUNDLE:-.gpu}
OUTDIR=${1:-${OUT:-/tmp/backprop-gpu-out}}
DRY=${BACKPROP_VERIFY_DRY:-0}
SIZES=${GEMM_SIZES:-1024 4096 8192}
mkdir -p "$OUTDIR"
exec > >(tee "$OUTDIR/verify.log") 2>&1
say() { printf '\n=== %s\n' "$*"; }
status=0

say "1. environment"
[[ -f "$BUNDLE/jre.tar.xz" && -d "$BUNDLE/lib" ]] || { echo "no bundle in $BUNDLE: run gpu-bundle.sh first"; exit 2; }
cat "$BUNDLE/VERSIONS.txt" 2>/dev/null | head -2
if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
else
    echo "nvidia-smi: not installed"
fi
JRE=${TMPDIR:-/tmp}/backprop-jre
rm -rf "$JRE" && mkdir -p "$JRE"
if command -v xz > /dev/null; then
    tar -C "$JRE" -xJf "$BUNDLE/jre.tar.xz"
else
    python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$BUNDLE/jre.tar.xz" "$JRE"
fi
JAVA="$JRE/jre/bin/java"
"$JAVA" -version 2>&1 | sed -n 2p

if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
    for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/cuda/compat; do
        if [[ -e "$d/libcuda.so.1" ]]; then
            export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
            echo "libcuda.so.1 is not in the ld.so cache; using $d"
            break
        fi
    done
fi
if [[ -z "${BACKPROP_CUBLAS_LIBRARY:-}" ]]; then
    found=$( { ldconfig -p 2>/dev/null | awk '/libcublas\.so\.1[23] /{print $NF}';
        find /usr/local /usr/lib /opt -maxdepth 10 -name 'libcublas.so.1[23]' 2>/dev/null; } | sort -u)
    echo "cuBLAS libraries found:"; echo "${found:-  none}" | sed 's/^/  /'
    prefer=${CUBLAS_PREFER:-13}
    other=$(( prefer == 13 ? 12 : 13 ))
    pick=$(echo "$found" | grep "libcublas.so.$prefer\$" | head -1)
    [[ -n "$pick" ]] || pick=$(echo "$found" | grep "libcublas.so.$other\$" | head -1)
    [[ -n "$pick" ]] && export BACKPROP_CUBLAS_LIBRARY="$pick"
fi
echo "BACKPROP_CUBLAS_LIBRARY=${BACKPROP_CUBLAS_LIBRARY:-(unset: the backend searches itself)}"

CONSOLE=$(ls "$BUNDLE"/lib/junit-platform-console-standalone-*.jar | head -1)
CP=$(ls "$BUNDLE"/lib/*.jar | grep -v junit-platform-console-standalone | tr '\n' ':')
FLAGS=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Dbasedir=backend-cuda)
[[ "$DRY" == 1 ]] || FLAGS+=(-Dbackprop.cuda.requireGpu=true)

say "2. probe"
gpu=1
if ! "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.backprop.cuda.CudaProbeMain; then
    gpu=0
    [[ "$DRY" == 1 ]] || { echo "cuda is unavailable: stopping"; exit 1; }
    echo "(dry run: continuing without a GPU)"
fi

say "3. tests of dev.backprop.cuda (contract and network tests on cuda included)"
"$JAVA" "${FLAGS[@]}" -jar "$CONSOLE" execute --disable-banner --disable-ansi-colors --details=tree \
    --fail-if-no-tests --class-path "$CP" --select-package dev.backprop.cuda --reports-dir "$OUTDIR/junit" 2>&1 \
    | grep -v '^WARNING: Using incubator'
tests=${PIPESTATUS[0]}
echo "JUnit exit status: $tests"
(( tests == 0 )) || status=1

say "4. GEMM, float32, TF32 off: cuda backend and torch.mm"
: > "$OUTDIR/gemm.txt"
if (( gpu )); then
    "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.backprop.cuda.CudaGemmTiming $SIZES 2>&1 | tee "$OUTDIR/gemm.txt"
    (( PIPESTATUS[0] == 0 )) || { status=1; echo "cuda GEMM timing failed"; }
else
    echo "(dry run: no GPU, no cuda GEMM timing)"
fi
if python3 -c "import torch; assert torch.cuda.is_available()" 2> /dev/null; then
    python3 backend-cuda/scripts/gemm_torch.py $SIZES 2>&1 | tee -a "$OUTDIR/gemm.txt"
    (( PIPESTATUS[0] == 0 )) || { status=1; echo "torch GEMM timing failed"; }
else
    echo "torch with CUDA not available: no torch.mm column"
    [[ "$DRY" == 1 ]] || status=1
fi
python3 - "$OUTDIR/gemm.txt" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"gemm impl=(\S+) n=(\d+) .*median_ms=([\d.]+) tflops=([\d.]+) .*check_maxrel=(\S+)", line)
    if m:
        rows.setdefault(int(m[2]), {})[m[1]] = (float(m[3]), float(m[4]), m[5])
print(f"{'n':>6} {'cuda ms':>9} {'cuda TF/s':>9} {'torch ms':>9} {'torch TF/s':>10} {'ratio':>6}  check (cuda / torch)")
for n in sorted(rows):
    c, t = rows[n].get("backprop-cuda"), rows[n].get("torch.mm")
    ratio = f"{c[1] / t[1]:.3f}" if c and t else "-"
    cell = lambda r, i, f: f.format(r[i]) if r else "-"
    print(f"{n:>6} {cell(c, 0, '{:.3f}'):>9} {cell(c, 1, '{:.2f}'):>9} {cell(t, 0, '{:.3f}'):>9} "
          f"{cell(t, 1, '{:.2f}'):>10} {ratio:>6}  {cell(c, 2, '{}')} / {cell(t, 2, '{}')}")
print("ratio = cuda backend throughput / torch.mm throughput (issue 8 asks >= 0.9 at n = 4096)")
PY

say "done: status $status (0 = every step passed); outputs in $OUTDIR"
exit $status
