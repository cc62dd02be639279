#!/usr/bin/python3
"""PyTorch reference for UnaryBenchmark and ReductionBenchmark: the same ops on the same sizes, in GB/s.

Usage: elementwise_torch.py [threads] [n]      (defaults: 2 threads, n = 16777216 float32)
 - relu, sigmoid, exp, tanh: y = op(x) into a preallocated y (8 bytes moved per element), x uniform in [-4, 4)
 - sum over all elements, per row and per column of a 4096 x (n/4096) matrix (4 bytes per element)
 - per op: warm-up, then R timed calls (R so that each op takes >= 1 s, 5..200); GB/s of the median call
The lines starting with "result:" are read by report.py:
  result: op=relu axis=- n=16777216 threads=2 gbps=33.1
"""
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # else idle OpenMP threads spin on the 2 shared cores
import torch  # noqa: E402

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
n = int(sys.argv[2]) if len(sys.argv) > 2 else 16 * 1024 * 1024
torch.set_num_threads(threads)
gen = torch.Generator().manual_seed(7)
x = torch.rand(n, generator=gen, dtype=torch.float32) * 8 - 4
y = torch.empty_like(x)
rows = 4096
m = x.view(rows, n // rows)
print(f"# torch {torch.__version__} threads={torch.get_num_threads()} n={n} "
      f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")

cases = [
    ("relu", "-", lambda: torch.clamp(x, min=0.0, out=y), 8),
    ("sigmoid", "-", lambda: torch.sigmoid(x, out=y), 8),
    ("exp", "-", lambda: torch.exp(x, out=y), 8),
    ("tanh", "-", lambda: torch.tanh(x, out=y), 8),
    ("sum", "all", lambda: torch.sum(x), 4),
    ("sum", "per_row", lambda: torch.sum(m, dim=1), 4),
    ("sum", "per_column", lambda: torch.sum(m, dim=0), 4),
]
print(f"{'op':>8} {'axis':>10} {'reps':>5} {'min_GBps':>9} {'med_GBps':>9} {'max_GBps':>9}")
for op, axis, f, bytes_per in cases:
    f()
    t0 = time.perf_counter()
    f()
    est = max(time.perf_counter() - t0, 1e-6)
    reps = int(min(200, max(5, 1.0 / est)))
    ts = []
    for _ in range(reps):
        s = time.perf_counter()
        f()
        ts.append(time.perf_counter() - s)
    gb = sorted(bytes_per * n / t / 1e9 for t in ts)
    med = statistics.median(gb)
    print(f"{op:>8} {axis:>10} {reps:>5} {gb[0]:>9.1f} {med:>9.1f} {gb[-1]:>9.1f}")
    print(f"result: op={op} axis={axis} n={n} threads={threads} gbps={med:.2f}", flush=True)
