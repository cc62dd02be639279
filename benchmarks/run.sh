#!/usr/bin/env bash
# The short benchmark profile: every available backend beside OpenBLAS (JavaCPP, same JMH run), numpy's SGEMM
# and PyTorch's elementwise ops (same invocation), then the markdown ratio table. About 7 minutes with the
# defaults on the busy 2-core build machine. Results go to benchmarks/target/results/<time>/ (JMH JSON,
# reference outputs, report.md).
#
#   benchmarks/run.sh                        # everything, 2 threads
#   THREADS=1,2 benchmarks/run.sh            # both thread counts (about 11 minutes)
#   SUITES=gemm SHAPES=512,1024,2048 REPEAT=5 benchmarks/run.sh   # interleaved repeats: median ratio + spread
#   benchmarks/run.sh -p impl=cpu,openblas   # extra arguments go to every JMH invocation
#   SUITES=predict THREADS=1,2 REPEAT=3 benchmarks/run.sh   # Predictor latency against PyTorch's
#
# Settings (environment): THREADS (2), SUITES (gemm,unary,reduction; predict on request), SHAPES (GemmBenchmark's
# list), REPEAT (1), JMH_PROFILE ("-f 1 -wi 2 -w 1s -i 3 -r 1s"). Each repeat prints the load average it started at.
set -euo pipefail
# shellcheck source=../bin/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../bin/common.sh"

THREADS="${THREADS:-2}"
SUITES="${SUITES:-gemm,unary,reduction}"
SHAPES="${SHAPES:-128,256,512,1024,2048,128x784x256:NT,256x128x784:TN,128x256x128:NT,128x128x256:TN,128x128x256}"
REPEAT="${REPEAT:-1}"
read -r -a PROFILE <<< "${JMH_PROFILE:--f 1 -wi 2 -w 1s -i 3 -r 1s}"
JAR="$BP_ROOT/benchmarks/target/benchmarks.jar"
OUT="$BP_ROOT/benchmarks/target/results/$(date +%Y%m%d-%H%M%S)"
PY=/usr/bin/python3

bp_find_java
bp_build_if_stale "$JAR" benchmarks core backend-cpu backend-opencl backend-cuda benchmarks
mkdir -p "$OUT"
# Run a private copy: a rebuild of benchmarks.jar during the run (another shell, an IDE) would otherwise
# pull classes out from under the running JVMs.
RUN_JAR="$OUT/benchmarks.jar"
cp "$JAR" "$RUN_JAR"
trap 'rm -f "$RUN_JAR"' EXIT

# Some machines here set OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for old OpenBLAS builds; they would slow both
# references, so they are dropped for these commands only (never for tests).
for v in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
    if [[ -n "${!v:-}" ]]; then bp_say "unsetting $v=${!v} for the benchmark commands"; fi
done
run() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }

# JMH refuses to start while another JMH run holds /tmp/jmh.lock (two runs would spoil each other's
# figures): wait for it instead of failing. Same fcntl lock as Java's FileChannel.tryLock.
wait_for_jmh_lock() {
    local said=0
    until python3 -c '
import fcntl, sys
with open("/tmp/jmh.lock", "a") as f:
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        sys.exit(1)' 2>/dev/null; do
        if [[ $said -eq 0 ]]; then bp_say "another JMH run holds /tmp/jmh.lock: waiting for it"; said=1; fi
        sleep 10
    done
}

jmh() {  # jmh RESULT_FILE ARGS...: one benchmarks.jar run writing JSON (again if another run took the lock first)
    local result="$1" log status
    shift
    log="$(mktemp)"
    while true; do
        wait_for_jmh_lock
        status=0
        run "$BP_JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
            -XX:+IgnoreUnrecognizedVMOptions --sun-misc-unsafe-memory-access=allow \
            -Dorg.bytedeco.javacpp.cachedir="$BP_ROOT/benchmarks/target/javacpp-cache" \
            -jar "$RUN_JAR" "${PROFILE[@]}" -p threads="$THREADS" -rf json -rff "$result" "$@" \
            ${EXTRA[@]+"${EXTRA[@]}"} 2>&1 | tee "$log" || status=$?
        if [[ $status -ne 0 ]] && grep -q "Unable to acquire the JMH lock" "$log"; then
            sleep 10
            continue
        fi
        rm -f "$log"
        return "$status"
    done
}

has_python_module() { [[ -x $PY ]] && $PY -c "import $1" >/dev/null 2>&1; }

# torch_reference SCRIPT NAME: a PyTorch reference script per thread count, its output kept for report.py.
torch_reference() {
    if ! has_python_module torch; then
        echo "# PyTorch not installed (apt-get install python3-torch): no PyTorch column"
        return
    fi
    for t in ${THREADS//,/ }; do
        run $PY "$BP_ROOT/benchmarks/scripts/$1" "$t" | tee "$OUT/$2-$r-t$t.txt"
        args+=(--torch "$OUT/$2-$r-t$t.txt")
    done
}

EXTRA=("$@")
args=()
echo "# benchmarks/run.sh THREADS=$THREADS SUITES=$SUITES REPEAT=$REPEAT; Java $BP_JAVA_MAJOR ($BP_JAVA); $(nproc) cores; results in $OUT"
for ((i = 1; i <= REPEAT; i++)); do
    r="$(printf %02d "$i")"  # file names sort in run order
    echo "# repeat $i: load average $(cut -d' ' -f1-3 /proc/loadavg)"
    if [[ ",$SUITES," == *,gemm,* ]]; then
        if has_python_module numpy; then
            squares="$(tr ',' '\n' <<< "$SHAPES" | grep -E '^[0-9]+$' | paste -sd, - || true)"
            for t in ${THREADS//,/ }; do
                [[ -n "$squares" ]] && run $PY "$BP_ROOT/benchmarks/scripts/gemm_bench.py" numpy float32 "$squares" "$t" \
                    | tee "$OUT/numpy-$r-t$t.txt"
                args+=(--numpy "$OUT/numpy-$r-t$t.txt")
            done
        else
            echo "# numpy not installed (apt-get install python3-numpy libopenblas0-pthread): no numpy column"
        fi
        # One JMH run per shape, so each shape's implementations run back to back (paired under the same load).
        for shape in ${SHAPES//,/ }; do
            jmh "$OUT/gemm-$r-${shape//:/_}.json" 'GemmBenchmark' -p shape="$shape"
        done
    fi
    families=()
    [[ ",$SUITES," == *,unary,* ]] && families+=(UnaryBenchmark)
    [[ ",$SUITES," == *,reduction,* ]] && families+=(ReductionBenchmark)
    if [[ ${#families[@]} -gt 0 ]]; then
        torch_reference elementwise_torch.py torch
        jmh "$OUT/elementwise-$r.json" "$(IFS='|'; echo "${families[*]}")"
    fi
    if [[ ",$SUITES," == *,predict,* ]]; then
        torch_reference predict_torch.py torch-predict
        jmh "$OUT/predict-$r.json" 'PredictBenchmark'
    fi
done

shopt -s nullglob
jsons=("$OUT"/*.json)
python3 "$BP_ROOT/benchmarks/scripts/report.py" ${args[@]+"${args[@]}"} "${jsons[@]}" | tee "$OUT/report.md"
