#!/usr/bin/python3
"""PyTorch's strongest configuration for Backprop's main job: mlp_fashion.py's MLP with the whole training step
(batch gather, forward, loss, backward, optimizer step, loss sum) captured in CUDA graphs and replayed.

Usage: mlp_fashion_graph.py {sgd|adam} EPOCHS [threads] [cpu|cuda] [--dry-run]
  data directory: $FASHION_MNIST_DIR, default /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)

The same definition as mlp_fashion.py (data, init, seeds, shuffling, batch 128 with the last partial batch kept,
SGD lr 0.1 or Adam lr 1e-3, timed region, TF32 off), with the step as PyTorch's documentation captures a whole
network (torch.cuda.graph):
 - the batch is gathered inside the graph from indices copied into a static index tensor, as Backprop gathers
   on the device from uploaded indices;
 - one graph for the full batch (128) and one for the last (60000 % 128 = 96), each with its own memory pool;
 - before each capture, three warm-up steps run on a side stream (as the documentation requires); the weights and
   the optimizer state are then restored in place, so the run trains exactly the steps the eager script does;
 - Adam runs with capturable=True (its step count lives on the GPU).
--dry-run runs the same code on the CPU without streams or capture: each shape's warm-up, the restore (checked
to leave the weights and optimizer state as before), then the step function eagerly for 5 full batches and the
last one per epoch: a check of the code path on a machine without a GPU, not a benchmark.
The last line is machine-readable, as mlp_fashion.py's (impl=pytorch-graph):
  summary: impl=pytorch-graph ... median_epoch_s=S median_samples_per_s=R test_acc=A
"""
import argparse
import contextlib
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must be set before torch loads its OpenMP runtime
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_fashion import HEADER, evaluate_model, load, make_model  # noqa: E402

DRY_RUN_STEPS = 5
WARMUP_STEPS = 3


def parse_args(argv):
    p = argparse.ArgumentParser(prog="mlp_fashion_graph.py", description="the MLP step captured in CUDA graphs")
    p.add_argument("optimizer", choices=("sgd", "adam"))
    p.add_argument("epochs", type=int)
    p.add_argument("threads", type=int, nargs="?", default=2)
    p.add_argument("device", nargs="?", default="cuda", choices=("cpu", "cuda"))
    p.add_argument("--dry-run", action="store_true",
                   help="run the step function eagerly on the CPU, 5 steps of each batch shape per epoch")
    a = p.parse_args(argv[1:])
    if a.epochs < 1:
        p.error(f"epochs must be at least 1, got {a.epochs}")
    if a.dry_run:
        a.device = "cpu"
    elif a.device != "cuda":
        p.error("CUDA graphs need the cuda device (use --dry-run to check the code path on the CPU)")
    elif not torch.cuda.is_available():
        sys.exit("mlp_fashion_graph.py: cuda requested but torch.cuda.is_available() is False")
    return a


class Step:
    """The training step on static tensors: gather rows `index` of the data, forward, loss, backward, optimizer
    step, and the loss times the batch size added to `total`. Captured as one graph per batch size on cuda."""

    def __init__(self, model, lossf, opt, xtr, ytr, size, dev):
        self.model, self.lossf, self.opt, self.xtr, self.ytr = model, lossf, opt, xtr, ytr
        self.index = torch.zeros(size, dtype=torch.int64, device=dev)
        self.total = torch.zeros((), device=dev)
        self.size = size
        self.graph = None

    def run_eager(self):
        xb = self.xtr.index_select(0, self.index)
        yb = self.ytr.index_select(0, self.index)
        loss = self.lossf(self.model(xb), yb)
        loss.backward()
        self.opt.step()
        self.total.add_(loss.detach() * self.size)

    def capture(self, graph):
        """Warm-up (on a side stream on cuda), restore the weights and optimizer state, then capture one step when
        `graph`; the dry run stops after the restore and checks it."""
        saved = snapshot(self.model, self.opt)
        side = torch.cuda.Stream() if graph else None
        if side is not None:
            side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side) if side is not None else contextlib.nullcontext():
            for _ in range(WARMUP_STEPS):
                self.opt.zero_grad(set_to_none=True)
                self.run_eager()
        if side is not None:
            torch.cuda.current_stream().wait_stream(side)
        restore(self.model, self.opt, saved)
        self.opt.zero_grad(set_to_none=True)
        self.total.zero_()
        if not graph:
            check_restored(self.model, self.opt, saved)
            return
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.run_eager()

    def __call__(self, indices):
        self.index.copy_(indices)
        if self.graph is not None:
            self.graph.replay()
        else:
            self.opt.zero_grad(set_to_none=True)
            self.run_eager()


def snapshot(model, opt):
    """Copies of the weights and of every optimizer state tensor (restored in place: the graph keeps addresses)."""
    params = [p.detach().clone() for p in model.parameters()]
    state = {id(t): t.detach().clone() for s in opt.state.values() for t in s.values() if torch.is_tensor(t)}
    return params, state


def restore(model, opt, saved):
    params, state = saved
    with torch.no_grad():
        for p, v in zip(model.parameters(), params):
            p.copy_(v)
        for s in opt.state.values():
            for t in s.values():
                if torch.is_tensor(t):
                    t.copy_(state[id(t)]) if id(t) in state else t.zero_()  # created by the warm-up: fresh = 0


def check_restored(model, opt, saved):
    """The warm-up left no trace: the weights are the saved ones and the optimizer state is fresh (zeros)."""
    params, _ = saved
    for p, v in zip(model.parameters(), params):
        if not torch.equal(p, v):
            sys.exit("mlp_fashion_graph.py: the warm-up's weights were not restored")
    for s in opt.state.values():
        for t in s.values():
            if torch.is_tensor(t) and torch.count_nonzero(t).item() != 0:
                sys.exit("mlp_fashion_graph.py: the warm-up's optimizer state was not reset")


def main():
    a = parse_args(sys.argv)
    dev = torch.device(a.device)
    torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)

    t0 = time.perf_counter()
    xtr, ytr, xte, yte = load(dev)
    mode = "dry-run (eager, no capture)" if a.dry_run else "captured"
    print(f"# torch {torch.__version__} device={dev} threads={torch.get_num_threads()} opt={a.optimizer} "
          f"epochs={a.epochs} mode={mode} train={tuple(xtr.shape)} test={tuple(xte.shape)} "
          f"load_s={time.perf_counter() - t0:.2f} (not timed)", flush=True)

    model, lossf = make_model(dev)
    opt = (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.0) if a.optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=1e-3, capturable=not a.dry_run))
    gen = torch.Generator().manual_seed(0)  # shuffling on the host, as in Backprop
    batch, n = 128, xtr.shape[0]
    steps = {batch: Step(model, lossf, opt, xtr, ytr, batch, dev)}
    if n % batch:
        steps[n % batch] = Step(model, lossf, opt, xtr, ytr, n % batch, dev)
    for s in steps.values():
        s.capture(graph=not a.dry_run)
    if a.dry_run:
        print("# warm-up undone: weights restored and optimizer state reset after each shape's warm-up")

    def evaluate(x, y):
        return evaluate_model(model, lossf, x, y)

    print(HEADER)
    times, tea = [], float("nan")
    for ep in range(1, a.epochs + 1):
        model.train()
        for s in steps.values():
            s.total.zero_()
        sync()
        t = time.perf_counter()
        perm = torch.randperm(n, generator=gen).to(dev)
        starts = list(range(0, n, batch))
        if a.dry_run:  # a few steps of each shape: the full batches' first ones and the last, partial one
            starts = starts[:DRY_RUN_STEPS] + starts[-1:]
        seen = 0
        for i in starts:
            bi = perm[i:i + batch]
            steps[len(bi)](bi)
            seen += len(bi)
        sync()
        dt = time.perf_counter() - t
        times.append(dt)
        tot = sum(s.total.item() for s in steps.values())
        trl, tra = evaluate(xtr, ytr)
        tel, tea = evaluate(xte, yte)
        print(f"{ep:>5} {dt:>7.3f} {seen / dt:>10.0f} {tot / seen:>12.4f} {trl:>10.4f} {tra:>9.4f} "
              f"{tel:>9.4f} {tea:>8.4f}", flush=True)
    span = times[1:] if len(times) > 1 else times
    med = statistics.median(span)
    first = 2 if len(times) > 1 else 1
    print(f"# epoch time over epochs {first}..{a.epochs}: min {min(span):.3f} s  median {med:.3f} s  "
          f"max {max(span):.3f} s")
    print(f"summary: impl=pytorch-graph device={dev} threads={torch.get_num_threads()} optimizer={a.optimizer} "
          f"epochs={a.epochs} epochs_timed={first}..{a.epochs} median_epoch_s={med:.4f} "
          f"median_samples_per_s={seen / med:.0f} test_acc={tea:.4f}{' dry_run=1' if a.dry_run else ''}")


if __name__ == "__main__":
    main()
