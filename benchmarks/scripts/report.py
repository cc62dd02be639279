#!/usr/bin/python3
"""Turns JMH JSON results (benchmarks.jar -rf json) into markdown tables with ratios.

Usage: report.py [--numpy FILE]... [--torch FILE]... RESULT.json [RESULT.json ...]
  RESULT.json  JMH results; several files = repeated runs (the ratio is then given as median [min-max])
  --numpy      output of scripts/gemm_bench.py numpy float32 ... (square sizes, median GFLOP/s per n)
  --torch      output of scripts/elementwise_torch.py or scripts/predict_torch.py (their "result:" lines)

GEMM:        GFLOP/s = ops/s * 2mnk / 1e9. Reference = OpenBLAS via JavaCPP from the same JMH run; where numpy's
             figure (same invocation) is more than 15% higher, OpenBLAS-in-the-JVM is handicapped and the
             ratio uses numpy's instead (marked *).
Unary:       GB/s = ops/s * 8n / 1e9 (read x, write y). Reduction: GB/s = ops/s * 4*rows*cols / 1e9.
             Reference = PyTorch's same op, same size and threads.
Predict:     the median call in microseconds (JMH SampleTime). Reference = PyTorch's median call for the same
             model, batch and threads; the ratio is Backprop's latency over PyTorch's (below 1: faster).
Python 3 standard library only.
"""
import json
import re
import statistics
import sys
from collections import defaultdict

GEMM, UNARY, REDUCTION, PREDICT = "GemmBenchmark", "UnaryBenchmark", "ReductionBenchmark", "PredictBenchmark"
HANDICAP = 0.85  # JavaCPP's OpenBLAS more than 15% below numpy's means the reference is handicapped here


def parse_shape(text):
    """'512' or 'MxKxN[:TN]' -> (m, k, n)."""
    dims = text.split(":")[0].lower().split("x")
    return (int(dims[0]),) * 3 if len(dims) == 1 else tuple(int(d) for d in dims)


def load_jmh(paths):
    """{(family, key, impl): [score per run]} in units of GFLOP/s, GB/s or microseconds (predict)."""
    out = defaultdict(list)
    for path in paths:
        with open(path) as f:
            for r in json.load(f):
                family = r["benchmark"].split(".")[-2]
                p = r["params"]
                if family == PREDICT:
                    if r["primaryMetric"]["scoreUnit"] != "us/op":
                        sys.exit(f"{path}: {r['benchmark']} is in {r['primaryMetric']['scoreUnit']}, expected us/op")
                    out[(family, (p["model"], int(p["batch"]), p["threads"]), p["target"])].append(
                        r["primaryMetric"]["scorePercentiles"]["50.0"])
                    continue
                ops = r["primaryMetric"]["score"]
                if r["primaryMetric"]["scoreUnit"] != "ops/s":
                    sys.exit(f"{path}: {r['benchmark']} is in {r['primaryMetric']['scoreUnit']}, expected ops/s")
                if family == GEMM:
                    m, k, n = parse_shape(p["shape"])
                    out[(family, (p["shape"], p["threads"]), p["impl"])].append(ops * 2.0 * m * n * k / 1e9)
                elif family == UNARY:
                    out[(family, (p["op"], "-", int(p["n"]), p["threads"]), p["backend"])].append(
                        ops * 8.0 * int(p["n"]) / 1e9)
                elif family == REDUCTION:
                    n = int(p["rows"]) * int(p["cols"])
                    out[(family, (p["op"], p["axis"], n, p["threads"]), p["backend"])].append(ops * 4.0 * n / 1e9)
    return out


def load_numpy(paths):
    """{(n, threads): [median GFLOP/s per file]} from gemm_bench.py output."""
    out = defaultdict(list)
    for path in paths:
        threads = None
        with open(path) as f:
            for line in f:
                t = re.search(r"OPENBLAS_NUM_THREADS=(\d+)", line)
                if t:
                    threads = t.group(1)
                cols = line.split()
                if len(cols) == 6 and cols[0].isdigit():
                    out[(cols[0], threads)].append(float(cols[3]))
    return out


def load_torch(paths):
    """{(op, axis, n, threads): [GB/s per file]} from elementwise_torch.py's result lines, and
    {(model, batch, threads): [microseconds per call per file]} from predict_torch.py's."""
    out = defaultdict(list)
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.startswith("result:"):
                    kv = dict(item.split("=", 1) for item in line.split()[1:])
                    if "model" in kv:
                        out[(kv["model"], int(kv["batch"]), kv["threads"])].append(float(kv["us"]))
                    else:
                        out[(kv["op"], kv["axis"], int(kv["n"]), kv["threads"])].append(float(kv["gbps"]))
    return out


def med(values):
    return statistics.median(values) if values else None


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def ratio_text(ours, refs):
    """Median ratio over runs paired by index (or against the reference's median when the run counts differ),
    with the spread when there are several."""
    if len(refs) != len(ours) and refs:
        refs = [statistics.median(refs)] * len(ours)
    pairs = [a / b for a, b in zip(ours, refs) if a and b]
    if not pairs:
        return "-"
    text = f"{statistics.median(pairs):.2f}x"
    if len(pairs) > 1:
        text += f" [{min(pairs):.2f}-{max(pairs):.2f}]"
    return text


def row(cells):
    return "| " + " | ".join(cells) + " |"


def impls_of(data, family, reference):
    names = sorted({impl for (fam, _, impl) in data if fam == family and impl != reference})
    return names


def gemm_table(data, numpy):
    keys = sorted({key for (fam, key, _) in data if fam == GEMM},
                  key=lambda k: (int(k[1]), ":" in k[0] or "x" in k[0], parse_shape(k[0]), k[0]))
    if not keys:
        return []
    impls = impls_of(data, GEMM, "openblas")
    lines = ["### GEMM, FLOAT32 (GFLOP/s; higher is better)", "",
             row(["shape (m×k×n)", "threads"] + impls + ["OpenBLAS (JavaCPP)", "numpy"]
                 + [f"{i} / ref" for i in impls]),
             row(["---", "---:"] + ["---:"] * (2 * len(impls) + 2))]
    handicapped = False
    for shape, threads in keys:
        blas = data.get((GEMM, (shape, threads), "openblas"), [])
        np_runs = numpy.get((shape, threads), []) if "x" not in shape.lower() else []
        ref, mark = blas, ""
        if np_runs and blas and med(blas) < HANDICAP * med(np_runs):
            ref, mark, handicapped = np_runs, "*", True
        ours = [data.get((GEMM, (shape, threads), i), []) for i in impls]
        lines.append(row([shape, threads] + [fmt(med(o)) for o in ours] + [fmt(med(blas)), fmt(med(np_runs))]
                         + [ratio_text(o, ref) + mark for o in ours]))
    if handicapped:
        lines += ["", "\\* OpenBLAS in the JVM was more than 15% below numpy's: that ratio uses numpy's figure."]
    return lines


def bandwidth_table(data, torch, family, title):
    keys = sorted({key for (fam, key, _) in data if fam == family})
    if not keys:
        return []
    impls = impls_of(data, family, None)
    lines = [f"### {title} (GB/s; higher is better)", "",
             row(["op", "axis", "elements", "threads"] + impls + ["PyTorch"] + [f"{i} / PyTorch" for i in impls]),
             row(["---", "---", "---:", "---:"] + ["---:"] * (2 * len(impls) + 1))]
    for key in keys:
        op, axis, n, threads = key
        ref = torch.get(key, [])
        ours = [data.get((family, key, i), []) for i in impls]
        lines.append(row([op, axis, str(n), threads] + [fmt(med(o)) for o in ours] + [fmt(med(ref))]
                         + [ratio_text(o, ref) for o in ours]))
    return lines


def latency_table(data, torch):
    keys = sorted({key for (fam, key, _) in data if fam == PREDICT}, key=lambda k: (k[0] != "mlp", k[2], k[1]))
    if not keys:
        return []
    impls = impls_of(data, PREDICT, None)
    lines = ["### Predictor.predict latency against PyTorch (microseconds per call; lower is better)", "",
             row(["model", "batch", "threads"] + impls + ["PyTorch"] + [f"{i} / PyTorch" for i in impls]),
             row(["---", "---:", "---:"] + ["---:"] * (2 * len(impls) + 1))]
    for key in keys:
        ref = torch.get(key, [])
        ours = [data.get((PREDICT, key, i), []) for i in impls]
        lines.append(row([key[0], str(key[1]), key[2]] + [fmt(med(o)) for o in ours] + [fmt(med(ref))]
                         + [ratio_text(o, ref) for o in ours]))
    return lines


def main(argv):
    numpy_files, torch_files, jmh_files = [], [], []
    it = iter(argv)
    for a in it:
        if a == "--numpy":
            numpy_files.append(next(it))
        elif a == "--torch":
            torch_files.append(next(it))
        elif a.startswith("-"):
            sys.exit(__doc__)
        else:
            jmh_files.append(a)
    if not jmh_files:
        sys.exit(__doc__)
    data = load_jmh(jmh_files)
    out = [f"<!-- from {len(jmh_files)} JMH result file(s), {len(numpy_files)} numpy and {len(torch_files)} "
           f"PyTorch reference output(s) -->", ""]
    for table in (gemm_table(data, load_numpy(numpy_files)),
                  bandwidth_table(data, load_torch(torch_files), UNARY, "Elementwise, FLOAT32"),
                  bandwidth_table(data, load_torch(torch_files), REDUCTION, "Reductions, FLOAT32"),
                  latency_table(data, load_torch(torch_files))):
        if table:
            out += table + [""]
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
