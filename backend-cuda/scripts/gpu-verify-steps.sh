# Steps of gpu-verify.sh for the captured and fused training step and the GEMM precisions (sourced by it; uses its
# variables and functions: JAVA, FLAGS, CP, PYTHON, OUTDIR, DRY, gpu, device, limited, note, say, status).

# Step 5b: float32 GEMM at n = 4096 with -Dbackprop.cuda.precision=tf32 and bf16, and torch.mm at the same
# precision (TF32 allowed; bfloat16 tensors), then a table of the two (<output>/gemm-precision.txt).
precision_gemm() {
    say "5b. GEMM at n = 4096 with TF32 and BF16: cuda backend and torch.mm at the same precision"
    local out="$OUTDIR/gemm-precision.txt" p
    : > "$out"
    for p in tf32 bf16; do
        if (( gpu )); then
            limited 90 "$JAVA" "${FLAGS[@]}" -Dbackprop.cuda.precision=$p -cp "$CP" dev.backprop.cuda.CudaGemmTiming \
                4096 2>&1 | tee -a "$out"
            (( PIPESTATUS[0] == 0 )) || { status=1; note "cuda GEMM timing ($p) failed"; }
        else
            echo "(dry run: no GPU, no cuda GEMM timing at $p)"
        fi
        if "$PYTHON" -c "import torch; assert torch.cuda.is_available()" 2> /dev/null; then
            limited 90 "$PYTHON" backend-cuda/scripts/gemm_torch.py --precision $p 4096 2>&1 | tee -a "$out"
            (( PIPESTATUS[0] == 0 )) || { status=1; note "torch GEMM timing ($p) failed"; }
        fi
    done
    "$PYTHON" - "$out" <<'PY' | tee -a "$OUTDIR/summary.txt"
import re, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"gemm impl=(\S+) n=(\d+) .*tflops=([\d.]+) .*check_maxrel=(\S+) precision=(\S+)", line)
    if m:
        rows.setdefault(m[5], {})[m[1]] = (float(m[3]), m[4])
for p in ("tf32", "bf16"):
    c, t = rows.get(p, {}).get("backprop-cuda"), rows.get(p, {}).get("torch.mm")
    ratio = f"{c[0] / t[0]:.3f}" if c and t else "-"
    print(f"gemm n=4096 {p}: cuda {c[0] if c else '-'} TF/s (check {c[1] if c else '-'}), torch.mm "
          f"{t[0] if t else '-'} TF/s (check {t[1] if t else '-'}), ratio {ratio} (the target is >= 0.9)")
PY
}

# Step 6c: PyTorch's MLP with the whole step captured in CUDA graphs (benchmarks/pytorch/mlp_fashion_graph.py),
# the reference the cuda backend's epoch is measured against (at most 0.67x); a dry run runs its --dry-run.
graph_reference() {
    say "6c. PyTorch with the training step captured in CUDA graphs (mlp_fashion_graph.py)"
    local log="$OUTDIR/torch-graph-$device.log" args=("$OPTIMIZER" "$EPOCHS" "$threads" cuda)
    [[ "$device" == cuda ]] || args=("$OPTIMIZER" 2 "$threads" cpu --dry-run)
    limited 150 "$PYTHON" benchmarks/pytorch/mlp_fashion_graph.py "${args[@]}" 2>&1 | tee "$log"
    (( PIPESTATUS[0] == 0 )) || { status=1; note "mlp_fashion_graph.py failed: see $(basename "$log")"; return 0; }
    local pt bp
    pt=$(grep '^summary:' "$log" | tr ' ' '\n' | sed -n 's/^median_epoch_s=//p')
    bp=$(awk '{print $2}' "$OUTDIR/training.txt" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
    "$PYTHON" - "${bp:-nan}" "${pt:-nan}" "$(grep '^summary:' "$log" | tr ' ' '\n' | sed -n 's/^test_acc=//p')" \
        "$device" <<'PY' | tee -a "$OUTDIR/summary.txt"
import math, sys
bp, pt, acc, device = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
ratio = bp / pt if pt > 0 and not math.isnan(bp) else float("nan")
print(f"pytorch with the step in CUDA graphs on {device}: median epoch {pt:.4f} s, test_acc {acc}; backprop "
      f"{bp:.4f} s; ratio {ratio:.2f} (the target is at most 0.67, and at most 25 ms per epoch)"
      + (" [dry run: eager on the CPU, not a measurement]" if device != "cuda" else ""))
PY
    note "fused kernels and captured steps: checked bit for bit against the SPI's defaults and the eager step by" \
        "CudaFusedGpuTest and CudaGraphsGpuTest in step 3; step 6d trains with graphs on and off"
}

# Step 6d: `train` with the training step captured as CUDA graphs (-Dbackprop.cuda.graphs=true) and without: the
# two model files must hold bit-identical tensors, and both epoch times are reported. A dry run trains on the CPU,
# where the property changes nothing, which checks the step itself.
graphs_training() {
    say "6d. train --backend $device with graphs off and on: bit-identical weights, epoch times"
    local g flag
    for g in off on; do
        flag=false; [[ "$g" == on ]] && flag=true
        JAVA_TOOL_OPTIONS="-Dbackprop.cuda.graphs=$flag" limited 120 "$launcher" train --backend "$device" \
            --optimizer "$OPTIMIZER" --lr "$lr" --epochs "$EPOCHS" --threads "$threads" \
            --out "$JRE/graphs-$g.safetensors" > "$OUTDIR/train-graphs-$g.log" 2>&1 \
            || { status=1; note "train with graphs $g failed: see train-graphs-$g.log"; return 0; }
    done
    local same
    same=$("$PYTHON" - "$JRE/graphs-off.safetensors" "$JRE/graphs-on.safetensors" <<'PY'
import json, struct, sys
def tensors(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    return {k: (v["dtype"], v["shape"], body[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items()}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
print(f"bit-identical ({len(a)} tensors)" if not diff else "DIFFERENT: " + ", ".join(diff))
PY
)
    [[ "$same" == bit-identical* ]] || status=1
    note "graphs off/on ($device, $OPTIMIZER, $EPOCHS epochs): weights ${same:-not compared};" \
        "median epoch $(field median_epoch_s "$OUTDIR/train-graphs-off.log") s off," \
        "$(field median_epoch_s "$OUTDIR/train-graphs-on.log") s on; test_acc" \
        "$(field test_acc "$OUTDIR/train-graphs-off.log") off, $(field test_acc "$OUTDIR/train-graphs-on.log") on"
}
