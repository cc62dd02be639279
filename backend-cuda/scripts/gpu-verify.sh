#!/usr/bin/env bash
# Verifies the cuda backend (and OpenCL on the same GPU) on a GPU machine from the bundle gpu-bundle.sh built
# (.gpu/ and .gpu-data/, carried along with the repository): no Java, Maven or network needed there.
#
#   backend-cuda/scripts/gpu-verify.sh [tests|training|all|profile] [output-folder]
#       stage: default all; output folder: default $OUT, else /tmp/backprop-gpu-out
#
# Stage "tests" (needs .gpu/):
#   1. environment: GPU, driver, and where libcuda.so.1 and cuBLAS are (BACKPROP_CUBLAS_LIBRARY is set to the
#      cuBLAS found; cuBLAS 13 is preferred so that the libcublas.so.12 shim is what gets verified;
#      CUBLAS_PREFER=12 prefers a real cuBLAS 12)
#   2. the probe's device line (stops here when cuda is unavailable)
#   3. every test of dev.backprop.cuda through JUnit's console launcher: the contract, network and cross-backend
#      (cpu vs cuda, 200 steps) tests on the GPU among them, with -Dbackprop.cuda.requireGpu=true so that none of
#      them can pass by skipping (XML reports in <output>/junit-cuda); the summary counts the CNN primitives' cases
#      apart (im2col to dropout in the contract, the image ops' gradient checks in the network test)
#   4. the opencl tests on the GPU, when an OpenCL driver for it is installed (the NVIDIA ICD); reported, and
#      failing the run only when OpenCL finds the GPU and a test fails (<output>/junit-opencl); a dry run runs
#      them on any OpenCL device (PoCL)
#   5. float32 GEMM at n = 1024, 4096, 8192 on the cuda backend and with torch.mm (TF32 off in both), then a
#      table of the two (<output>/gemm.txt)
#   5b. GEMM at n = 4096 with precision tf32 and bf16 against torch.mm at the same precision (gpu-verify-steps.sh)
# Stage "training" (needs .gpu/ and .gpu-data/):
#   6. `backprop backends`, then `train` on cpu (the accuracy to match) and side by side with PyTorch eager on
#      the GPU, REPEATS times alternately (benchmarks/pytorch/side_by_side.sh): median epoch times, their
#      ratio, and test accuracies (<output>/training.txt)
#   6b. when `train` has --arch: the CNN (`train --arch cnn --backend cuda`, Adam, CNN_EPOCHS) and, when
#      benchmarks/pytorch/cnn_fashion.py exists, PyTorch's CNN (cuDNN) on the same GPU: median epochs, their
#      ratio and accuracies (<output>/training-cnn.txt); not in a dry run unless CNN_EPOCHS is set
#   6c. PyTorch with the whole step in CUDA graphs (mlp_fashion_graph.py; --dry-run on the CPU in a dry run)
#   6d. `train` with graphs off and on (-Dbackprop.cuda.graphs): bit-identical model tensors, both epoch times
#   7. StepProfile: an epoch's wall time against the host's queuing time, and the host time of each SPI call
#      per step (<output>/step-profile.txt), to see whether the step is launch-bound
#      then, on a GPU, LaunchCost: the host's cost of one small launch by route (<output>/launch-cost.txt)
#   8. when OpenCL finds the GPU: `train --backend opencl` and StepProfile on opencl (<output>/train-opencl.log,
#      <output>/step-profile-opencl.txt); a dry run uses any OpenCL device (PoCL)
# Stage "profile" (needs .gpu/): steps 1, 2 and 7 only, a quick look at the step's host costs (about a minute).
# Every stage ends with <output>/summary.txt: the results against the cuda backend's targets.
#
# The exit status is 0 only when every step passed; the speed targets are reported, not enforced.
# Environment: GEMM_SIZES ("1024 4096 8192"), REPEATS (3), EPOCHS (10), OPTIMIZER (sgd), CNN_EPOCHS (3),
# DEADLINE_S (540: no step starts or runs past it), BACKPROP_GPU_BUNDLE (.gpu), BACKPROP_GPU_DATA (.gpu-data),
# PYTHON (the first python3 on the PATH that imports torch).
# BACKPROP_VERIFY_DRY=1 runs every step on a machine without a GPU, to check the bundle and the script: the
# probe's failure is not fatal, GPU tests skip instead of failing, torch is optional, and the training stage
# uses the cpu backend and PyTorch on the CPU in place of the GPU.
set -uo pipefail
cd "$(dirname "$0")/../.."

STAGE=all
case "${1:-}" in tests|training|all|profile) STAGE=$1; shift ;; esac
BUNDLE=${BACKPROP_GPU_BUNDLE:-.gpu}
DATA=${BACKPROP_GPU_DATA:-.gpu-data}
OUTDIR=${1:-${OUT:-/tmp/backprop-gpu-out}}
DRY=${BACKPROP_VERIFY_DRY:-0}
SIZES=${GEMM_SIZES:-1024 4096 8192}
REPEATS=${REPEATS:-3}
EPOCHS=${EPOCHS:-10}
CNN_SET=${CNN_EPOCHS:+1}
CNN_EPOCHS=${CNN_EPOCHS:-3}
OPTIMIZER=${OPTIMIZER:-sgd}
DEADLINE=${DEADLINE_S:-540}
if [[ -z "${PYTHON:-}" ]]; then  # the first Python that has torch (the GPU machine's environment), else python3
    PYTHON=python3
    for p in $(which -a python3 python 2>/dev/null) /usr/bin/python3; do
        if "$p" -c 'import torch' 2>/dev/null; then PYTHON=$p; break; fi
    done
fi
mkdir -p "$OUTDIR"
exec > >(tee "$OUTDIR/verify.log") 2>&1
say() { printf '\n=== %s\n' "$*"; }
# shellcheck source=backend-cuda/scripts/gpu-verify-steps.sh
. backend-cuda/scripts/gpu-verify-steps.sh
note() { echo "$*" | tee -a "$OUTDIR/summary.txt"; }
status=0
: > "$OUTDIR/summary.txt"
started=$SECONDS
# limited CAP COMMAND...: runs COMMAND for at most CAP seconds and never past the run's deadline (DEADLINE_S,
# default 540: a GPU machine's command may be stopped at 600 s, and the summary must still be written).
limited() {
    local cap=$1 left=$((DEADLINE - (SECONDS - started)))
    shift
    (( left < cap )) && cap=$left
    if (( cap < 15 )); then
        note "out of time (DEADLINE_S=$DEADLINE): skipped $*"
        return 124
    fi
    timeout "$cap" "$@"
}

say "1. environment (stage $STAGE$([[ "$DRY" == 1 ]] && echo ', dry run'))"
[[ -f "$BUNDLE/jre.tar.xz" && -d "$BUNDLE/lib" ]] || { echo "no bundle in $BUNDLE: run gpu-bundle.sh first"; exit 2; }
note "bundle: $(head -1 "$BUNDLE/VERSIONS.txt" 2>/dev/null)"
if command -v nvidia-smi > /dev/null; then
    note "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -1)"
else
    echo "nvidia-smi: not installed"
fi
JRE=${TMPDIR:-/tmp}/backprop-jre
rm -rf "$JRE" && mkdir -p "$JRE"
if command -v xz > /dev/null; then
    tar -C "$JRE" -xJf "$BUNDLE/jre.tar.xz"
else
    "$PYTHON" -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$BUNDLE/jre.tar.xz" "$JRE"
fi
# Every JVM here may touch OpenCL, and PoCL replaces the JVM's SIGSEGV handler: libjsig is preloaded into each,
# as bin/common.sh does for the build's and bin/backprop's JVMs (not into Python's processes).
JAVA="$JRE/java"
printf '#!/bin/sh\nexport LD_PRELOAD="%s"\nexec "%s" "$@"\n' \
    "$JRE/jre/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}" "$JRE/jre/bin/java" > "$JAVA"
chmod +x "$JAVA"
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
    # The ld.so cache, the usual prefixes, and the site-packages of the Python that has torch (pip's nvidia-cublas).
    sites=$("$PYTHON" -c 'import site, sys; print("\n".join(site.getsitepackages() + [site.getusersitepackages()]))' 2>/dev/null)
    found=$( { ldconfig -p 2>/dev/null | awk '/libcublas\.so\.1[23] /{print $NF}';
        find /usr/local /usr/lib /opt $sites -maxdepth 10 -name 'libcublas.so.1[23]' 2>/dev/null; } | sort -u)
    echo "cuBLAS libraries found:"; echo "${found:-  none}" | sed 's/^/  /'
    prefer=${CUBLAS_PREFER:-13}
    other=$(( prefer == 13 ? 12 : 13 ))
    pick=$(echo "$found" | grep "libcublas.so.$prefer\$" | head -1)
    [[ -n "$pick" ]] || pick=$(echo "$found" | grep "libcublas.so.$other\$" | head -1)
    [[ -n "$pick" ]] && export BACKPROP_CUBLAS_LIBRARY="$pick"
fi
echo "BACKPROP_CUBLAS_LIBRARY=${BACKPROP_CUBLAS_LIBRARY:-(unset: the backend searches itself)}"
# The NVIDIA driver brings an OpenCL driver (libnvidia-opencl.so.1); the ICD loader (libOpenCL.so.1) comes from
# the CUDA toolkit or ocl-icd. Without a vendors file the loader is pointed at the driver directly.
if ! ldconfig -p 2>/dev/null | grep -q 'libOpenCL\.so\.1 '; then
    loader=$(find /usr/local/cuda* /usr/lib /usr/lib64 /opt -maxdepth 6 -name 'libOpenCL.so.1' 2>/dev/null | head -1)
    [[ -n "$loader" ]] && export LD_LIBRARY_PATH="$(dirname "$loader")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "OpenCL ICD loader: ${loader:-none found}"
fi
if ! grep -qs nvidia /etc/OpenCL/vendors/*.icd; then
    icd=$( { ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1 /{print $NF}';
        find /usr/lib /usr/lib64 /usr/local/nvidia -maxdepth 3 -name 'libnvidia-opencl.so.1' 2>/dev/null; } | head -1)
    [[ -n "$icd" ]] && export OCL_ICD_FILENAMES="$icd"
    echo "NVIDIA OpenCL driver: ${icd:-none found}${icd:+ (OCL_ICD_FILENAMES)}"
fi

CONSOLE=$(ls "$BUNDLE"/lib/junit-platform-console-standalone-*.jar | head -1)
CP=$(ls "$BUNDLE"/lib/*.jar | grep -v junit-platform-console-standalone | tr '\n' ':')
FLAGS=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector)
[[ "$DRY" == 1 ]] || FLAGS+=(-Dbackprop.cuda.requireGpu=true)

say "2. probe"
gpu=1
"$JAVA" "${FLAGS[@]}" -cp "$CP" dev.backprop.cuda.CudaProbeMain 2>&1 | tee "$OUTDIR/probe.txt"
if (( PIPESTATUS[0] != 0 )); then
    gpu=0
    note "cuda probe: $(grep 'cuda reason' "$OUTDIR/probe.txt")"
    [[ "$DRY" == 1 ]] || { note "cuda is unavailable: stopping"; exit 1; }
    echo "(dry run: continuing without a GPU)"
else
    note "cuda probe: $(grep -m1 'device:' "$OUTDIR/probe.txt" | sed 's/^ *//')"
fi

# junit NAME PACKAGE [JVM options...]: the package's tests through the console launcher; notes the totals.
junit() {
    local name=$1 pkg=$2 rc
    shift 2
    limited 240 "$JAVA" "${FLAGS[@]}" "$@" -jar "$CONSOLE" execute --disable-banner --disable-ansi-colors \
        --details=tree --fail-if-no-tests --class-path "$CP" --select-package "$pkg" \
        --reports-dir "$OUTDIR/junit-$name" 2>&1 | grep -v '^WARNING: Using incubator' > "$OUTDIR/junit-$name.txt"
    rc=${PIPESTATUS[0]}
    grep -E '✘|↷|MethodSource|=> ' "$OUTDIR/junit-$name.txt" | head -60
    (( rc == 124 )) && note "$name tests: timed out"
    note "$name tests: $(grep -E 'tests (successful|failed|skipped|aborted)' "$OUTDIR/junit-$name.txt" \
        | sed -E 's/^[^0-9]*([0-9]+) tests ([a-z]+).*/\1 \2/' | paste -sd, -) (JUnit exit status $rc)"
    return "$rc"
}

# Whether OpenCL finds the GPU (any OpenCL device in a dry run); the probe runs once, for steps 4 and 8.
ocl=""
opencl_here() {
    [[ -n "$ocl" ]] || ocl=$("$JAVA" "${FLAGS[@]}" -cp "$CP" dev.backprop.opencl.ProbeMain 2>&1)
    grep -q 'available=true' <<< "$ocl" && { grep -q "rank=300" <<< "$ocl" || [[ "$DRY" == 1 ]]; }
}

# Step 7: where a training step's time goes on $device (StepProfile), then on a GPU the host's cost of one launch
# and one GEMM by route (LaunchCost).
profile_step() {
    say "7. where a training step's time goes (StepProfile on $device)"
    limited 120 "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.backprop.benchmarks.StepProfile "$device" 5 2>&1 \
        | grep -v '^WARNING: Using incubator' | tee "$OUTDIR/step-profile.txt"
    (( PIPESTATUS[0] == 0 )) || { status=1; note "StepProfile failed"; }
    grep -E '^epoch of|^all SPI' "$OUTDIR/step-profile.txt" | sed 's/^/step profile: /' >> "$OUTDIR/summary.txt"
    if (( gpu )); then
        echo "--- the host's cost of one launch, by route (LaunchCost)"
        limited 60 "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.backprop.cuda.LaunchCost 2>&1 \
            | grep -v '^WARNING: Using incubator' | tee "$OUTDIR/launch-cost.txt"
        (( PIPESTATUS[0] == 0 )) || { status=1; note "LaunchCost failed"; }
        grep -Ev '^route|^$' "$OUTDIR/launch-cost.txt" | sed 's/^/launch cost: /' >> "$OUTDIR/summary.txt"
    fi
}

# Step 6b: the CNN on $device beside PyTorch's (cuDNN on a GPU), when the CLI builds it (train --arch).
cnn_training() {
    say "6b. the CNN: train --arch cnn on $device, and PyTorch's CNN on the same device"
    if ! "$launcher" train --help 2>&1 | grep -q -- '--arch'; then
        note "cnn training: this build's train has no --arch; skipped"
        return 0
    fi
    if [[ "$DRY" == 1 && -z "$CNN_SET" ]]; then
        note "cnn training: skipped in a dry run (a CPU epoch takes minutes; set CNN_EPOCHS to run it)"
        return 0
    fi
    local log="$OUTDIR/train-cnn-$device.log" torch_log="$OUTDIR/torch-cnn-$device.log"
    limited 200 "$launcher" train --arch cnn --backend "$device" --optimizer adam --lr 0.001 --epochs "$CNN_EPOCHS" \
        --threads "$threads" --out "$JRE/cnn.safetensors" 2>&1 | tee "$log" | grep -v '%'
    local bp_s bp_acc pt_s="" pt_acc=""
    bp_s=$(field median_epoch_s "$log")
    bp_acc=$(field test_acc "$log")
    [[ -n "$bp_acc" ]] || { status=1; note "train --arch cnn printed no summary: see $(basename "$log")"; return 0; }
    if [[ -f benchmarks/pytorch/cnn_fashion.py ]]; then
        limited 200 "$PYTHON" benchmarks/pytorch/cnn_fashion.py adam "$CNN_EPOCHS" "$threads" "$device" 2>&1 \
            | tee "$torch_log"
        pt_s=$(sed -n 's/.*median \([0-9.]*\) s.*/\1/p' "$torch_log" | tail -1)
        pt_acc=$(awk '$1 ~ /^[0-9]+$/ && NF == 6 {a = $6} END {print a}' "$torch_log")
    fi
    "$PYTHON" - "$bp_s" "$bp_acc" "${pt_s:-nan}" "${pt_acc:-nan}" "$device" "$CNN_EPOCHS" <<'PY' \
        | tee "$OUTDIR/training-cnn.txt" | tee -a "$OUTDIR/summary.txt"
import math, sys
bs, ba, ps, pa, device, epochs = sys.argv[1:]
bs, ps = float(bs or "nan"), float(ps)
ratio = bs / ps if not math.isnan(ps) and ps > 0 else float("nan")
print(f"cnn ({epochs} epochs, Adam, median epoch over epochs 2..): backprop on {device} {bs:.3f} s, test_acc {ba}; "
      f"PyTorch {'(cuDNN) ' if device == 'cuda' else ''}{ps:.3f} s, test_acc {pa}; ratio {ratio:.2f} "
      f"(the target is at most 1.0)" if not math.isnan(ps) else
      f"cnn ({epochs} epochs, Adam): backprop on {device} {bs:.3f} s per epoch, test_acc {ba}; "
      f"no benchmarks/pytorch/cnn_fashion.py to compare with")
PY
}

if [[ "$STAGE" == tests || "$STAGE" == all ]]; then
    say "3. tests of dev.backprop.cuda (contract, network and cross-backend tests on cuda included)"
    junit cuda dev.backprop.cuda -Dbasedir=backend-cuda || status=1
    # The CNN's primitives, counted apart: a dynamic case's legacy name is its factory's, e.g. "im2col()[3]".
    "$PYTHON" - "$OUTDIR/junit-cuda" <<'PY' | tee -a "$OUTDIR/summary.txt"
import glob, re, sys, xml.etree.ElementTree as ET
kinds = ("im2col col2im copyStrided conv2d conv2dBackward maxPool2d avgPool2d batchNormStats batchNormForward "
         "batchNormBackward dropout imageOpGradientsByFiniteDifferences").split()
counts = {"passed": 0, "failed": 0, "skipped": 0}
for f in glob.glob(sys.argv[1] + "/*.xml"):
    for case in ET.parse(f).getroot().iter("testcase"):
        m = re.match(r"(\w+)\(\)", case.get("name", ""))
        if not m or m.group(1) not in kinds or not case.get("classname", "").startswith("dev.backprop.cuda.Cuda"):
            continue
        state = ("failed" if case.find("failure") is not None or case.find("error") is not None
                 else "skipped" if case.find("skipped") is not None else "passed")
        counts[state] += 1
print("cnn primitives on cuda (contract and image gradient checks): "
      + ", ".join(f"{n} {k}" for k, n in counts.items()))
PY

    say "4. opencl on the GPU"
    # A dry run tests on whatever OpenCL device there is (PoCL), to check this step too.
    if opencl_here; then
        echo "$ocl"
        note "opencl probe: $(sed -n 's/^reason=//p' <<< "$ocl" | cut -c1-160)"
        # CI=true: an unavailable backend fails the opencl tests instead of skipping them (libjsig is preloaded
        # by the java wrapper, as OpenClProviderTest expects).
        CI=true junit opencl dev.backprop.opencl -Dbasedir=backend-opencl || status=1
    else
        note "opencl on the GPU: not available here ($(sed -n 's/^reason=//p' <<< "$ocl" | cut -c1-200)); skipped"
    fi

    say "5. GEMM, float32, TF32 off: cuda backend and torch.mm"
    : > "$OUTDIR/gemm.txt"
    if (( gpu )); then
        limited 120 "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.backprop.cuda.CudaGemmTiming $SIZES 2>&1 | tee "$OUTDIR/gemm.txt"
        (( PIPESTATUS[0] == 0 )) || { status=1; note "cuda GEMM timing failed"; }
    else
        echo "(dry run: no GPU, no cuda GEMM timing)"
    fi
    if "$PYTHON" -c "import torch; assert torch.cuda.is_available()" 2> /dev/null; then
        limited 120 "$PYTHON" backend-cuda/scripts/gemm_torch.py $SIZES 2>&1 | tee -a "$OUTDIR/gemm.txt"
        (( PIPESTATUS[0] == 0 )) || { status=1; note "torch GEMM timing failed"; }
    else
        echo "torch with CUDA not available: no torch.mm column"
        [[ "$DRY" == 1 ]] || status=1
    fi
    "$PYTHON" - "$OUTDIR/gemm.txt" <<'PY' | tee -a "$OUTDIR/summary.txt"
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
print("GEMM ratio = cuda backend throughput / torch.mm throughput (the target is >= 0.9 at n = 4096)")
PY
    precision_gemm
fi

device=cuda
(( gpu )) || device=cpu
if [[ "$STAGE" == profile ]]; then
    profile_step
fi

if [[ "$STAGE" == training || "$STAGE" == all ]]; then
    say "6. training on Fashion-MNIST: cpu, then cuda side by side with PyTorch eager on the GPU"
    if [[ ! -f "$DATA/train-images-idx3-ubyte.gz" ]]; then
        note "no Fashion-MNIST in $DATA: carry .gpu-data (gpu-bundle.sh writes it); training stage not run"
        exit 1
    fi
    export FASHION_MNIST_DIR="$PWD/$DATA"
    launcher="$JRE/backprop"
    # What bin/backprop does, from the bundle (no Maven here).
    printf '#!/bin/sh\nexec "%s" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -cp "%s" dev.backprop.cli.Main "$@"\n' \
        "$JAVA" "$CP" > "$launcher"
    chmod +x "$launcher"
    "$launcher" backends 2>&1 | tee "$OUTDIR/backends.txt" | grep -Ev '^ {20}'
    threads=$(nproc)
    lr=0.1; [[ "$OPTIMIZER" == adam ]] && lr=0.001
    train_log="$OUTDIR/training.txt"
    : > "$train_log"
    field() { grep '^summary:' "$2" | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }

    echo "--- train --backend cpu (the accuracy to match)"
    limited 120 "$launcher" train --backend cpu --optimizer "$OPTIMIZER" --lr "$lr" --epochs "$EPOCHS" \
        --threads "$threads" --out "$JRE/cpu.safetensors" 2>&1 | tee "$OUTDIR/train-cpu.log" | grep -v '%'
    cpu_acc=$(field test_acc "$OUTDIR/train-cpu.log")
    [[ -n "$cpu_acc" ]] || { status=1; note "train --backend cpu printed no summary"; }

    ratios=()
    for r in $(seq 1 "$REPEATS"); do
        echo "--- side by side $r of $REPEATS ($device)"
        KEEP_LOGS=0 BACKPROP="$launcher" PYTHON="$PYTHON" limited 150 benchmarks/pytorch/side_by_side.sh \
            "$OPTIMIZER" "$EPOCHS" "$threads" "$device" > "$OUTDIR/side-by-side-$r.log" 2>&1
        rc=$?
        grep -Ev '%|^ *[0-9]+ +[0-9.]+ ' "$OUTDIR/side-by-side-$r.log" | tail -6
        line=$(grep '^ratio backprop/pytorch' "$OUTDIR/side-by-side-$r.log")
        if (( rc != 0 )) || [[ -z "$line" ]]; then
            status=1
            note "side by side $r failed (exit status $rc): see side-by-side-$r.log"
            continue
        fi
        bp=$(sed -n 's/^backprop  median_epoch_s=\([0-9.]*\).*test_acc=\(.*\)$/\1 \2/p' "$OUTDIR/side-by-side-$r.log")
        pt=$(sed -n 's/^pytorch   median_epoch_s=\([0-9.]*\).*test_acc=\(.*\)$/\1 \2/p' "$OUTDIR/side-by-side-$r.log")
        echo "$r $bp $pt" >> "$train_log"
    done
    "$PYTHON" - "$train_log" "${cpu_acc:-nan}" "$device" "$OPTIMIZER" "$EPOCHS" <<'PY' | tee -a "$OUTDIR/summary.txt"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if len(l.split()) == 5]
cpu_acc, device, opt, epochs = float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
if not rows:
    print("training: no side-by-side run completed"); sys.exit()
print(f"training ({opt}, {epochs} epochs, median epoch time over epochs 2..{epochs}; backprop on {device}, "
      f"PyTorch eager on {device}):")
print(f"{'run':>4} {'backprop s':>10} {'pytorch s':>10} {'ratio':>6} {'acc backprop':>12} {'acc pytorch':>11}")
ratios = []
for r, bs, ba, ps, pa in rows:
    ratios.append(float(bs) / float(ps))
    print(f"{r:>4} {float(bs):>10.4f} {float(ps):>10.4f} {ratios[-1]:>6.2f} {ba:>12} {pa:>11}")
med = statistics.median(ratios)
print(f"epoch ratio backprop/pytorch: median {med:.2f} over {len(ratios)} runs [{min(ratios):.2f}-{max(ratios):.2f}] "
      f"({'faster than' if med < 1 else 'not faster than'} PyTorch eager; the target is faster)")
accs = [float(r[2]) for r in rows]
gap = abs(statistics.median(accs) - cpu_acc) * 100
print(f"test accuracy: {device} {statistics.median(accs):.4f}, cpu {cpu_acc:.4f}: {gap:.2f} points apart "
      f"({'within' if gap <= 0.5 else 'NOT within'} 0.5, the target)")
PY

    graph_reference

    graphs_training

    cnn_training

    profile_step

    say "8. training on the GPU's OpenCL (train --backend opencl and StepProfile)"
    if opencl_here; then
        limited 120 "$launcher" train --backend opencl --out "$JRE/opencl.safetensors" --optimizer "$OPTIMIZER" \
            --lr "$lr" --epochs "$EPOCHS" --threads "$threads" 2>&1 | tee "$OUTDIR/train-opencl.log" | grep -v '%'
        ocl_acc=$(field test_acc "$OUTDIR/train-opencl.log")
        if [[ -n "$ocl_acc" ]]; then
            bp_cuda=$(awk '{print $2}' "$train_log" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
            pt_cuda=$(awk '{print $4}' "$train_log" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
            note "opencl training: median epoch $(field median_epoch_s "$OUTDIR/train-opencl.log") s, test_acc" \
                "$ocl_acc (cpu ${cpu_acc:-?}; $device backend ${bp_cuda:-?} s and PyTorch eager ${pt_cuda:-?} s per" \
                "epoch in step 6)"
        else
            status=1
            note "train --backend opencl printed no summary: see train-opencl.log"
        fi
        limited 90 "$JAVA" "${FLAGS[@]}" -cp "$CP" dev.backprop.benchmarks.StepProfile opencl 3 \
            2>&1 | grep -v '^WARNING: Using incubator' | tee "$OUTDIR/step-profile-opencl.txt"
        (( PIPESTATUS[0] == 0 )) || { status=1; note "StepProfile on opencl failed"; }
        grep -E '^epoch of' "$OUTDIR/step-profile-opencl.txt" | sed 's/^/opencl step profile: /' >> "$OUTDIR/summary.txt"
    else
        note "opencl training on the GPU: not available here ($(sed -n 's/^reason=//p' <<< "$ocl" | cut -c1-200))"
    fi
fi

say "done in $((SECONDS - started)) s: status $status (0 = every step passed); outputs in $OUTDIR"
echo "--- summary.txt"
cat "$OUTDIR/summary.txt"
exit $status
