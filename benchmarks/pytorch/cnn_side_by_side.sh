#!/usr/bin/env bash
# The reference CNN (cnn_fashion.py's network, Adam 1e-3, batch 128) trained by Backprop and by PyTorch one after
# the other in this one invocation, with both median epoch times (epochs 2..N) and their ratio. The machines this
# runs on are shared and noisy, so a ratio means something only between runs made together like this; RUNS=k
# alternates k pairs (Backprop first on odd pairs, PyTorch first on even ones) and prints every pair's ratio and
# their median.
#
# Usage: benchmarks/pytorch/cnn_side_by_side.sh [EPOCHS] [THREADS]        defaults: 3 2
# Environment: RUNS (1), FASHION_MNIST_DIR (both sides), PYTHON (default /usr/bin/python3, Debian's torch),
#   CNN_PY (the PyTorch script; default cnn_fashion.py beside this one, else ../shared/bench/cnn_fashion.py),
#   JAVA_OPTS (extra JVM options, e.g. -Dbackprop.cpu.vector=false), BACKPROP_NO_BUILD=1 (use the jar as it is).
set -euo pipefail
# shellcheck source=../../bin/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../bin/common.sh"

epochs="${1:-3}"; threads="${2:-2}"; runs="${RUNS:-1}"
if [[ "$epochs" -lt 2 ]]; then
  echo "cnn_side_by_side.sh: need at least 2 epochs (the first, with JIT warm-up, is left out of the median)" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-/usr/bin/python3}"
script="${CNN_PY:-}"
for candidate in "$here/cnn_fashion.py" "$BP_ROOT/../shared/bench/cnn_fashion.py"; do
  if [[ -z "$script" && -f "$candidate" ]]; then script="$candidate"; fi
done
[[ -n "$script" && -f "$script" ]] || { echo "cnn_side_by_side.sh: no cnn_fashion.py found; set CNN_PY" >&2; exit 2; }

bp_find_java
JAR="$BP_ROOT/benchmarks/target/benchmarks.jar"
bp_build_if_stale "$JAR" benchmarks core backend-cpu backend-opencl backend-cuda benchmarks
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$JAR" "$work/benchmarks.jar"  # a rebuild during the run must not pull classes from under the JVM
# bp_find_java preloads the JVM's libjsig for every process; only the JVM wants it (others print a warning).
jsig="${LD_PRELOAD:-}"; unset LD_PRELOAD

backprop() {
  echo "== Backprop: CnnEpochs $epochs $threads"
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options on purpose
  LD_PRELOAD="$jsig" "$BP_JAVA" --add-modules jdk.incubator.vector ${JAVA_OPTS:-} -cp "$work/benchmarks.jar" \
      dev.backprop.benchmarks.CnnEpochs "$epochs" "$threads" 2>&1 | grep --line-buffered -v 'incubator modules' | tee "$work/bp.log"
}
pytorch() {
  echo "== PyTorch: $(basename "$script") adam $epochs $threads"
  OMP_WAIT_POLICY=PASSIVE "$python" "$script" adam "$epochs" "$threads" | tee "$work/pt.log"
}
ratios=()
for ((r = 1; r <= runs; r++)); do
  if (( r % 2 == 1 )); then backprop; pytorch; else pytorch; backprop; fi
  bp="$(grep '^summary:' "$work/bp.log" | tr ' ' '\n' | sed -n 's/^median_epoch_s=//p')"
  pt="$(sed -n 's/^# epoch time over epochs.* median \([0-9.]*\) s.*/\1/p' "$work/pt.log")"
  if [[ -z "$bp" || -z "$pt" ]]; then
    echo "cnn_side_by_side.sh: a run printed no median epoch time (see the output above)" >&2; exit 1
  fi
  ratio="$(awk -v b="$bp" -v p="$pt" 'BEGIN { printf "%.3f", b / p }')"
  ratios+=("$ratio")
  echo "== pair $r: backprop median_epoch_s=$bp  pytorch median_epoch_s=$pt  ratio=$ratio"
done
echo
echo "== CNN side by side (adam, $epochs epochs, $threads threads; median epoch time over epochs 2..$epochs)"
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ r[NR] = $1 } END {
  m = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
  printf "ratio backprop/pytorch epoch time: median %.3f over %d pair(s) [%.3f-%.3f]\n", m, NR, r[1], r[NR] }'
