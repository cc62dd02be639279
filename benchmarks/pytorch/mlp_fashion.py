#!/usr/bin/python3
"""PyTorch reference for Backprop's main job: the Fashion-MNIST MLP 784-256-128-10 (ReLU), softmax cross-entropy.

Usage: mlp_fashion.py {sgd|adam} EPOCHS [threads] [cpu|cuda]
  data directory: $FASHION_MNIST_DIR, default /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)

Written to the same definition as the project's reference run (../shared/bench/mlp_fashion.py), so that
`backprop train` and this script time the same work:
 - data: IDX .gz read with gzip + numpy.frombuffer, images /255 -> float32 in [0,1]; 60000 train / 10000 test
 - SGD lr 0.1 momentum 0 (or Adam lr 1e-3 with PyTorch's defaults), batch 128, last partial batch kept
   (469 steps per epoch)
 - reshuffled every epoch with torch.randperm from a generator seeded with 0; torch.manual_seed(0) before the
   default nn.Linear init
 - timed region per epoch = shuffle + batch gather + forward + loss + backward + step (data loading and
   evaluation are NOT timed)
 - on cuda: the whole data set lives on the GPU, TF32 is off, and each epoch ends with torch.cuda.synchronize()
 - OMP_WAIT_POLICY=PASSIVE, or PyTorch's OpenMP threads spin against OpenBLAS's (5x slower on 2 cores)
The last line is machine-readable (benchmarks/pytorch/side_by_side.sh reads it):
  summary: impl=pytorch ... median_epoch_s=S median_samples_per_s=R test_acc=A
"""
import gzip
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must be set before torch loads its OpenMP runtime
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


def idx(path):
    """Reads an IDX file (gzipped) into a numpy uint8 array of its declared dimensions."""
    with gzip.open(path, "rb") as f:
        b = f.read()
    ndim = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(dev):
    """The train and test images (float32 in [0,1], rows of 784) and labels (int64) on `dev`."""
    d = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist") + "/"
    xtr = torch.from_numpy(idx(d + "train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0)
    ytr = torch.from_numpy(idx(d + "train-labels-idx1-ubyte.gz").astype(np.int64))
    xte = torch.from_numpy(idx(d + "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255.0)
    yte = torch.from_numpy(idx(d + "t10k-labels-idx1-ubyte.gz").astype(np.int64))
    return xtr.to(dev), ytr.to(dev), xte.to(dev), yte.to(dev)


def make_model(dev):
    """784-256-128-10 with ReLU, PyTorch's default init after torch.manual_seed(0), and the loss."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10)).to(dev)
    return model, nn.CrossEntropyLoss()


def evaluate_model(model, lossf, x, y):
    """(loss, accuracy) of the whole set in eval mode."""
    model.eval()
    with torch.no_grad():
        out = model(x)
        return lossf(out, y).item(), (out.argmax(1) == y).float().mean().item()


HEADER = (f"{'epoch':>5} {'time_s':>7} {'samples/s':>10} {'mean_mb_loss':>12} {'train_loss':>10} "
          f"{'train_acc':>9} {'test_loss':>9} {'test_acc':>8}")


def usage(msg):
    sys.exit(f"mlp_fashion.py: {msg}\nusage: mlp_fashion.py {{sgd|adam}} EPOCHS [threads] [cpu|cuda]")


def parse_args(argv):
    if len(argv) < 3 or argv[1] not in ("sgd", "adam"):
        usage("need the optimizer (sgd or adam) and the number of epochs")
    try:
        epochs = int(argv[2])
        threads = int(argv[3]) if len(argv) > 3 else 2
    except ValueError as e:
        usage(str(e))
    device = argv[4] if len(argv) > 4 else "cpu"
    if device not in ("cpu", "cuda"):
        usage(f"device must be cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("mlp_fashion.py: cuda requested but torch.cuda.is_available() is False")
    return argv[1], epochs, threads, torch.device(device)


def main():
    opt_name, epochs, threads, dev = parse_args(sys.argv)
    torch.set_num_threads(threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)

    t0 = time.perf_counter()
    xtr, ytr, xte, yte = load(dev)
    print(f"# torch {torch.__version__} device={dev} threads={torch.get_num_threads()} opt={opt_name} "
          f"epochs={epochs} train={tuple(xtr.shape)} test={tuple(xte.shape)} "
          f"load_s={time.perf_counter() - t0:.2f} (not timed)", flush=True)

    model, lossf = make_model(dev)
    opt = (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.0) if opt_name == "sgd"
           else torch.optim.Adam(model.parameters(), lr=1e-3))
    gen = torch.Generator().manual_seed(0)  # shuffling on the host, as in Backprop
    batch, n = 128, xtr.shape[0]

    def evaluate(x, y):
        return evaluate_model(model, lossf, x, y)

    print(HEADER)
    times, tea = [], float("nan")
    for ep in range(1, epochs + 1):
        model.train()
        s = time.perf_counter()
        perm = torch.randperm(n, generator=gen).to(dev)
        tot = torch.zeros((), device=dev)
        for i in range(0, n, batch):
            bi = perm[i:i + batch]
            xb, yb = xtr[bi], ytr[bi]
            opt.zero_grad(set_to_none=True)
            loss = lossf(model(xb), yb)
            loss.backward()
            opt.step()
            tot += loss.detach() * len(bi)
        sync()
        dt = time.perf_counter() - s
        times.append(dt)
        trl, tra = evaluate(xtr, ytr)
        tel, tea = evaluate(xte, yte)
        print(f"{ep:>5} {dt:>7.3f} {n / dt:>10.0f} {tot.item() / n:>12.4f} {trl:>10.4f} {tra:>9.4f} "
              f"{tel:>9.4f} {tea:>8.4f}", flush=True)
    span = times[1:] if len(times) > 1 else times
    med = statistics.median(span)
    first = 2 if len(times) > 1 else 1
    print(f"# epoch time over epochs {first}..{epochs}: min {min(span):.3f} s  median {med:.3f} s  "
          f"max {max(span):.3f} s")
    print(f"summary: impl=pytorch device={dev} threads={torch.get_num_threads()} optimizer={opt_name} "
          f"epochs={epochs} epochs_timed={first}..{epochs} median_epoch_s={med:.4f} "
          f"median_samples_per_s={n / med:.0f} test_acc={tea:.4f}")


if __name__ == "__main__":
    main()
