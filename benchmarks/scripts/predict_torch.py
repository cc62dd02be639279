#!/usr/bin/python3
"""PyTorch reference for PredictBenchmark: the same models answering the same requests, latency per call.

Usage: predict_torch.py [threads] [batches]      (defaults: 2 threads, batches 1,8,64,1000)
 - models as PredictBenchmark builds them: mlp = Linear(784,256), ReLU, Linear(256,128), ReLU, Linear(128,10);
   cnn = cnn_fashion.py's network; torch.manual_seed(0) default init, model.eval(), torch.inference_mode()
 - one call = what Predictor.predict does for a service: a float32 numpy array of batch x 784 values in [0, 1)
   in, softmax probabilities out as a numpy array (the input reshaped to [batch, 1, 28, 28] for the cnn)
 - per case: warm-up, then R timed calls (R so that each case takes >= 1 s, 20..20000); the median call
The lines starting with "result:" are read by report.py:
  result: model=mlp batch=1 threads=2 us=41.3
"""
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # else idle OpenMP threads spin on the 2 shared cores
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
batches = [int(b) for b in (sys.argv[2] if len(sys.argv) > 2 else "1,8,64,1000").split(",")]
torch.set_num_threads(threads)
print(f"# torch {torch.__version__} threads={torch.get_num_threads()} batches={batches} "
      f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")


def build(name):
    torch.manual_seed(0)
    if name == "mlp":
        m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    else:
        m = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    return m.eval()


print(f"{'model':>6} {'batch':>6} {'reps':>6} {'min_us':>10} {'med_us':>10} {'max_us':>10}")
rng = np.random.default_rng(11)
for name in ("mlp", "cnn"):
    model = build(name)
    shape = (-1, 784) if name == "mlp" else (-1, 1, 28, 28)
    for batch in batches:
        rows = rng.random(784 * batch, dtype=np.float32)

        def call():
            with torch.inference_mode():
                x = torch.from_numpy(rows).reshape(shape)
                return torch.softmax(model(x), dim=1).numpy()

        for _ in range(3):
            call()
        t0 = time.perf_counter()
        call()
        est = max(time.perf_counter() - t0, 1e-6)
        reps = int(min(20000, max(20, 1.0 / est)))
        ts = []
        for _ in range(reps):
            s = time.perf_counter()
            call()
            ts.append(time.perf_counter() - s)
        us = sorted(t * 1e6 for t in ts)
        med = statistics.median(us)
        print(f"{name:>6} {batch:>6} {reps:>6} {us[0]:>10.1f} {med:>10.1f} {us[-1]:>10.1f}")
        print(f"result: model={name} batch={batch} threads={threads} us={med:.2f}", flush=True)
