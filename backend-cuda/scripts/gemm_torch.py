#!/usr/bin/env python3
"""Times square float32 torch.mm exactly as CudaGemmTiming times the cuda backend's GEMM.

Uniform inputs in [-1, 1), 3 warm-up products, then 5 trials of `reps` back-to-back products timed with CUDA
events, median trial reported. Precision (as -Dbackprop.cuda.precision for CudaGemmTiming):
  fp32 (default): TF32 off (allow_tf32 = False, precision "highest");
  tf32: float32 tensors with TF32 allowed (precision "high");
  bf16: the operands as bfloat16 tensors (float32 accumulation inside cuBLAS), the product bfloat16.
Prints one line per size:
  gemm impl=torch.mm n=4096 reps=15 median_ms=... tflops=... min_ms=... max_ms=... check_maxrel=... precision=fp32
Usage: gemm_torch.py [--precision fp32|tf32|bf16] 1024 4096 8192
"""
import argparse

import torch

TRIALS = 5


def reps(n):
    return int(max(3, min(500, -(-2e12 // (2.0 * n ** 3)))))


def check(a, b, c, n, gen):
    """Largest |c - exact| / sum|a*b| over 32 random entries, exact in float64."""
    worst = 0.0
    idx = torch.randint(0, n, (32, 2), generator=gen)
    for i, j in idx.tolist():
        terms = a[i, :].double() * b[:, j].double()
        exact = terms.sum().item()
        worst = max(worst, abs(c[i, j].item() - exact) / terms.abs().sum().item())
    return worst


def run(n, precision):
    gen = torch.Generator().manual_seed(n)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a = (torch.rand(n, n, generator=gen) * 2 - 1).cuda().to(dtype)
    b = (torch.rand(n, n, generator=gen) * 2 - 1).cuda().to(dtype)
    for _ in range(3):
        c = torch.mm(a, b)
    torch.cuda.synchronize()
    r = reps(n)
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    per = []
    for _ in range(TRIALS):
        start.record()
        for _ in range(r):
            c = torch.mm(a, b)
        stop.record()
        stop.synchronize()
        per.append(start.elapsed_time(stop) / r)
    per.sort()
    med = per[TRIALS // 2]
    print(f"gemm impl=torch.mm n={n} reps={r} median_ms={med:.4f} tflops={2.0 * n ** 3 / (med * 1e-3) / 1e12:.2f} "
          f"min_ms={per[0]:.4f} max_ms={per[-1]:.4f} "
          f"check_maxrel={check(a.float().cpu(), b.float().cpu(), c.float().cpu(), n, gen):.2e} precision={precision}",
          flush=True)


def main():
    p = argparse.ArgumentParser(prog="gemm_torch.py", description="times square torch.mm")
    p.add_argument("--precision", choices=("fp32", "tf32", "bf16"), default="fp32")
    p.add_argument("sizes", type=int, nargs="+")
    args = p.parse_args()
    tf32 = args.precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")
    print(f"torch {torch.__version__} cuda {torch.version.cuda} device {torch.cuda.get_device_name(0)} "
          f"precision={args.precision} tf32={torch.backends.cuda.matmul.allow_tf32}", flush=True)
    for n in args.sizes:
        run(n, args.precision)


if __name__ == "__main__":
    main()
