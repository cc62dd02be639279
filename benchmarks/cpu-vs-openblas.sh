#!/usr/bin/env bash
# The side-by-side tables of the cpu backend (docs/benchmarks-cpu.md): our GEMM beside OpenBLAS through
# JavaCPP in the same JMH run, numpy's SGEMM (benchmarks/scripts/gemm_bench.py) in the same invocation, and
# relu/sigmoid/exp/tanh/sum beside PyTorch's same ops, for 1 and 2 threads. Every repeat runs the references
# and ours back to back (interleaved), so the ratio's median and spread come from pairs measured under the same
# load; the load average before each step is written to load.txt (the machine is shared).
#
#   benchmarks/cpu-vs-openblas.sh                      # 5 GEMM repeats, 3 elementwise repeats, threads 1,2
#   REPEAT=7 EW_REPEAT=5 benchmarks/cpu-vs-openblas.sh
#
# Settings (environment): REPEAT (5), EW_REPEAT (3, elementwise repeats; 0 = none), THREADS (1,2),
# SHAPES (square sizes and the MLP step's products), JMH_PROFILE ("-f 1 -wi 1 -w 1s -i 2 -r 1s").
# Uses benchmarks/target/benchmarks.jar as it is when BACKPROP_NO_BUILD is set, else rebuilds it when stale.
# Results: benchmarks/target/results/cpu-<time>/ (JMH JSON, reference outputs, load.txt, report.md).
set -euo pipefail
# shellcheck source=../bin/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../bin/common.sh"

REPEAT="${REPEAT:-5}"
EW_REPEAT="${EW_REPEAT:-3}"
THREADS="${THREADS:-1,2}"
SHAPES="${SHAPES:-128,256,512,1024,2048,128x784x256:NT,256x128x784:TN,128x256x128:NT,128x128x256:TN,128x128x256}"
read -r -a PROFILE <<< "${JMH_PROFILE:--f 1 -wi 1 -w 1s -i 2 -r 1s}"
JAR="$BP_ROOT/benchmarks/target/benchmarks.jar"
OUT="$BP_ROOT/benchmarks/target/results/cpu-$(date +%Y%m%d-%H%M%S)"
PY=/usr/bin/python3

bp_find_java
bp_build_if_stale "$JAR" benchmarks core backend-cpu benchmarks
mkdir -p "$OUT"
# A private copy: another build replacing the jar mid-run would otherwise break the forks (it happened).
cp "$JAR" "$OUT/benchmarks.jar"
JAR="$OUT/benchmarks.jar"
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (set on some machines for old OpenBLAS builds) would slow the references:
# dropped for these commands only.
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }
load() { echo "$1: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"; }
jmh() {  # jmh RESULT_FILE ARGS...: waits (up to 15 minutes) while another JMH run holds JMH's lock
    local result="$1" tries=0
    shift
    until run "$BP_JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
        -XX:+IgnoreUnrecognizedVMOptions --sun-misc-unsafe-memory-access=allow \
        -Dorg.bytedeco.javacpp.cachedir="$BP_ROOT/benchmarks/target/javacpp-cache" \
        -jar "$JAR" "${PROFILE[@]}" -p threads="$THREADS" -rf json -rff "$result" "$@" >> "$OUT/jmh.log" 2>&1; do
        if ! tail -n 5 "$OUT/jmh.log" | grep -q 'Unable to acquire the JMH lock' || ((++tries > 180)); then
            return 1
        fi
        sleep 5
    done
}

echo "# cpu-vs-openblas.sh REPEAT=$REPEAT EW_REPEAT=$EW_REPEAT THREADS=$THREADS; Java $BP_JAVA_MAJOR; $(nproc) cores;" \
    "results in $OUT"
args=()
squares="$(tr ',' '\n' <<< "$SHAPES" | grep -E '^[0-9]+$' | paste -sd, - || true)"
for ((i = 1; i <= REPEAT; i++)); do
    r="$(printf %02d "$i")"
    for t in ${THREADS//,/ }; do
        load "repeat $r numpy t$t"
        run $PY "$BP_ROOT/benchmarks/scripts/gemm_bench.py" numpy float32 "$squares" "$t" > "$OUT/numpy-$r-t$t.txt"
        args+=(--numpy "$OUT/numpy-$r-t$t.txt")
    done
    for shape in ${SHAPES//,/ }; do
        load "repeat $r gemm $shape"
        jmh "$OUT/gemm-$r-${shape//:/_}.json" 'GemmBenchmark' -p impl=cpu,openblas -p shape="$shape"
    done
    if ((i <= EW_REPEAT)); then
        for t in ${THREADS//,/ }; do
            load "repeat $r torch t$t"
            OMP_WAIT_POLICY=PASSIVE run $PY "$BP_ROOT/benchmarks/scripts/elementwise_torch.py" "$t" \
                > "$OUT/torch-$r-t$t.txt"
            args+=(--torch "$OUT/torch-$r-t$t.txt")
        done
        load "repeat $r elementwise"
        jmh "$OUT/elementwise-$r.json" 'UnaryBenchmark|ReductionBenchmark' -p backend=cpu
    fi
done
load "end"
shopt -s nullglob
python3 "$BP_ROOT/benchmarks/scripts/report.py" ${args[@]+"${args[@]}"} "$OUT"/*.json | tee "$OUT/report.md"
