#!/usr/bin/env bash
# Runs Backprop's `train` and the PyTorch reference (mlp_fashion.py, or cnn_fashion.py with ARCH=cnn: same
# definition) one after the other, in this one invocation, and prints both median epoch times (epochs 2..N) and
# their ratio. The machines this runs on are shared and noisy, so a ratio is only meaningful between runs made
# together like this.
#
# Usage: [ARCH=mlp|cnn] benchmarks/pytorch/side_by_side.sh [sgd|adam] [EPOCHS] [THREADS] [cpu|cuda]
#   defaults: mlp, sgd 10 2 cpu. The device picks Backprop's backend (cpu -> --backend cpu, cuda -> --backend cuda)
#   and PyTorch's device. The MLP's sgd is lr 0.1; the CNN's, as cnn_fashion.py defines it, lr 0.05 with momentum
#   0.9 (Backprop's --optimizer momentum); adam is lr 0.001 for both.
# Environment: ARCH, FASHION_MNIST_DIR (both sides), PYTHON (default /usr/bin/python3, Debian's torch),
#   BACKPROP (the launcher, default bin/backprop, which builds cli/target/backprop.jar when it is stale),
#   BACKPROP_TRAIN_ARGS (extra options for `backprop train`), KEEP_LOGS=1 to keep the two full logs.
set -euo pipefail

opt="${1:-sgd}"; epochs="${2:-10}"; threads="${3:-2}"; device="${4:-cpu}"
case "$opt" in sgd|adam) ;; *) echo "side_by_side.sh: optimizer must be sgd or adam, got '$opt'" >&2; exit 2;; esac
case "$device" in cpu|cuda) ;; *) echo "side_by_side.sh: device must be cpu or cuda, got '$device'" >&2; exit 2;; esac
if [[ "$epochs" -lt 2 ]]; then
  echo "side_by_side.sh: need at least 2 epochs (the first, with JIT warm-up, is left out of the median)" >&2; exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-/usr/bin/python3}"
launcher="${BACKPROP:-$root/bin/backprop}"
command -v "$launcher" >/dev/null || { echo "side_by_side.sh: $launcher not found" >&2; exit 2; }

arch="${ARCH:-mlp}"
case "$arch" in mlp|cnn) ;; *) echo "side_by_side.sh: ARCH must be mlp or cnn, got '$arch'" >&2; exit 2;; esac
reference="${arch}_fashion.py"
optimizer="$opt"; lr=0.1
[[ "$arch" == cnn && "$opt" == sgd ]] && { optimizer=momentum; lr=0.05; }
[[ "$opt" == adam ]] && lr=0.001
work="$(mktemp -d)"
trap '[[ "${KEEP_LOGS:-0}" == 1 ]] && echo "logs kept in $work" || rm -rf "$work"' EXIT

echo "== Backprop: train --arch $arch --backend $device --optimizer $optimizer --lr $lr --epochs $epochs --threads $threads"
# shellcheck disable=SC2086 # BACKPROP_TRAIN_ARGS is a list of options on purpose
"$launcher" train --arch "$arch" --backend "$device" --optimizer "$optimizer" --lr "$lr" --epochs "$epochs" \
    --threads "$threads" --out "$work/model.safetensors" ${BACKPROP_TRAIN_ARGS:-} | tee "$work/backprop.log"
echo
echo "== PyTorch: $reference $opt $epochs $threads $device"
OMP_WAIT_POLICY=PASSIVE "$python" "$here/$reference" "$opt" "$epochs" "$threads" "$device" | tee "$work/pytorch.log"

field() { # field KEY LOGFILE: the value of KEY= on the log's summary line
  grep '^summary:' "$2" | tail -1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}
bp="$(field median_epoch_s "$work/backprop.log")"; pt="$(field median_epoch_s "$work/pytorch.log")"
bpacc="$(field test_acc "$work/backprop.log")"; ptacc="$(field test_acc "$work/pytorch.log")"
if [[ -z "$bp" || -z "$pt" ]]; then
  echo "side_by_side.sh: a run printed no summary line (see the output above)" >&2; exit 1
fi
echo
echo "== side by side ($arch, $opt, $epochs epochs, $threads threads, $device; median epoch time over epochs 2..$epochs)"
awk -v bp="$bp" -v pt="$pt" -v ba="$bpacc" -v pa="$ptacc" 'BEGIN {
  printf "backprop  median_epoch_s=%.4f  samples/s=%.0f  test_acc=%s\n", bp, 60000 / bp, ba
  printf "pytorch   median_epoch_s=%.4f  samples/s=%.0f  test_acc=%s\n", pt, 60000 / pt, pa
  printf "ratio backprop/pytorch epoch time = %.2f  (%s)\n", bp / pt, bp <= pt ? "Backprop no slower" : "Backprop slower"
}'
