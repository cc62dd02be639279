#!/usr/bin/python3
"""GEMM throughput via numpy or torch (a copy of the project's reference script, so the repository runs it alone). Usage: gemm_bench.py {numpy|torch} {float32|float64} n1,n2,... [threads]  (numpy: sets OPENBLAS_NUM_THREADS)
FLOPs = 2*n^3. For each n: warm-up, then R timed repetitions (R chosen so each n takes ~>=1.5 s, min 5, max 50).
Prints min/median/max GFLOP/s (GFLOP/s from per-call wall time; max GFLOP/s = fastest call)."""
import sys, time, statistics, os
lib, dt, sizes = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(",")]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else None
if threads and lib == "numpy":
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)  # must be set before numpy loads OpenBLAS
import numpy as np
rng = np.random.default_rng(0)
if lib == "torch":
    import torch
    if threads: torch.set_num_threads(threads)
    print(f"# torch {torch.__version__} threads={torch.get_num_threads()} dtype={dt}")
else:
    print(f"# numpy {np.__version__} OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE')} dtype={dt}")
print(f"{'n':>6} {'reps':>5} {'min_GF':>9} {'med_GF':>9} {'max_GF':>9} {'med_ms':>10}")
for n in sizes:
    a = rng.standard_normal((n, n)).astype(dt); b = rng.standard_normal((n, n)).astype(dt)
    if lib == "torch":
        a = torch.from_numpy(a); b = torch.from_numpy(b); c = torch.empty((n, n), dtype=a.dtype)
        f = lambda: torch.mm(a, b, out=c)
    else:
        c = np.empty((n, n), dtype=dt)
        f = lambda: np.matmul(a, b, out=c)
    t0 = time.perf_counter(); f(); f(); t1 = time.perf_counter()
    est = max((t1 - t0) / 2, 1e-6)
    reps = int(min(50, max(5, 1.5 / est)))
    ts = []
    for _ in range(reps):
        s = time.perf_counter(); f(); ts.append(time.perf_counter() - s)
    fl = 2.0 * n ** 3
    gf = sorted(fl / t / 1e9 for t in ts)
    print(f"{n:>6} {reps:>5} {gf[0]:>9.1f} {statistics.median(gf):>9.1f} {gf[-1]:>9.1f} {statistics.median(ts)*1e3:>10.3f}", flush=True)
# sanity check of last result
ref = (a.double() @ b.double()).numpy() if lib == "torch" else a.astype(np.float64) @ b.astype(np.float64)
cc = c.numpy() if lib == "torch" else c
print("# max rel err vs float64:", float(np.max(np.abs(cc - ref)) / np.max(np.abs(ref))))
