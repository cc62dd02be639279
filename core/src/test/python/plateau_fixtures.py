#!/usr/bin/python3
# Writes the PyTorch reference for ReduceLROnPlateauTest: the learning rate after each step of PyTorch 1.13's
# torch.optim.lr_scheduler.ReduceLROnPlateau over an SGD optimizer, for several metric sequences and settings (min
# and max, rel and abs thresholds, cooldown, min_lr, eps, NaN and infinite metrics, patience 0), with the
# scheduler's best, num_bad_epochs and cooldown_counter after each step. Regenerate from the repository root with:
#
#   /usr/bin/python3 core/src/test/python/plateau_fixtures.py > core/src/test/resources/dev/backprop/optim/plateau-traces.txt
#
# (Debian's python3-torch). Format, one record a line, floats in Java's spelling (repr, with NaN, Infinity and
# -Infinity), which reads back exactly:
#   case <label>
#   settings lr mode factor patience threshold threshold_mode cooldown min_lr eps
#   step <metric> <lr after the step> <best> <num_bad_epochs> <cooldown_counter>   (one per metric)
import math
import random

import torch

CASES = [
    # (label, lr, dict of ReduceLROnPlateau's keyword arguments, metrics)
    ("min rel cooldown 1 with NaN", 1.0,
     dict(mode="min", factor=0.5, patience=2, threshold=1e-4, threshold_mode="rel", cooldown=1, min_lr=0, eps=1e-8),
     [1.0, 0.99995, 0.9, 0.9, 0.95, 0.91, 0.92, 0.93, 0.8, math.nan, 0.85, 0.85, 0.85, 0.85]),
    ("max abs down to min_lr", 0.1,
     dict(mode="max", factor=0.1, patience=0, threshold=0.01, threshold_mode="abs", cooldown=0, min_lr=0.0015,
          eps=1e-8),
     [0.5, 0.505, 0.52, 0.52, 0.6, 0.6, 0.61, 0.7]),
    ("max rel", 1.0,
     dict(mode="max", factor=0.5, patience=0, threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8),
     [0.5, 0.50004, 0.50006, 0.50006, 0.9, 0.89]),
    ("eps skips small reductions", 0.1,
     dict(mode="min", factor=0.5, patience=0, threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0,
          eps=0.03),
     [1.0, 1.0, 1.0, 1.0, 0.5, 0.5]),
    ("pytorch defaults", 0.1,
     dict(mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0,
          eps=1e-8),
     [1.0] * 25),
    ("min abs patience 0 cooldown 2", 0.3,
     dict(mode="min", factor=0.3, patience=0, threshold=0.05, threshold_mode="abs", cooldown=2, min_lr=1e-3,
          eps=1e-8),
     [2.0, 1.96, 1.9, 1.9, 1.8, 1.85, 1.7, 1.69, 1.68, 1.6, 1.6, 1.6, 1.6, 1.6]),
    ("max rel patience 0 with NaN", 0.05,
     dict(mode="max", factor=0.5, patience=0, threshold=0.01, threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8),
     [math.nan, 0.2, math.nan, 0.3, 0.302, 0.31, math.nan, math.nan]),
    ("min rel negative losses", 0.01,
     dict(mode="min", factor=0.5, patience=1, threshold=0.1, threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8),
     [-1.0, -1.05, -1.2, -1.25, -1.3, -1.5, -1.5, -1.6]),
    ("min infinite metrics", 0.1,
     dict(mode="min", factor=0.1, patience=1, threshold=1e-4, threshold_mode="rel", cooldown=1, min_lr=0, eps=1e-8),
     [math.inf, math.inf, 1.0, -math.inf, 0.5, -math.inf, 0.2, 0.1]),
    ("max infinite metrics", 0.1,
     dict(mode="max", factor=0.1, patience=0, threshold=0.5, threshold_mode="abs", cooldown=0, min_lr=0, eps=1e-8),
     [-math.inf, 0.5, math.inf, math.inf, 3.0]),
]


def noisy(seed, mode, n):
    """A seeded loss-like (falling) or accuracy-like (rising) curve with noise and plateaus."""
    rnd = random.Random(seed)
    v = 2.0 if mode == "min" else 0.1
    out = []
    for i in range(n):
        drift = 0.05 * rnd.random() if i % 7 < 3 else 0.0
        v += -drift if mode == "min" else drift
        out.append(round(v + 0.02 * (rnd.random() - 0.5), 6))
    return out


CASES += [
    ("noisy min rel cooldown 3 min_lr", 0.1,
     dict(mode="min", factor=0.5, patience=2, threshold=1e-3, threshold_mode="rel", cooldown=3, min_lr=0.01,
          eps=1e-8),
     noisy(5, "min", 60)),
    ("noisy max abs cooldown 1", 0.02,
     dict(mode="max", factor=0.2, patience=1, threshold=0.002, threshold_mode="abs", cooldown=1, min_lr=0,
          eps=1e-6),
     noisy(6, "max", 60)),
]


def java(x):
    """x as Java's Double.toString reads it back: repr, NaN, Infinity, -Infinity."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(float(x))


def main():
    for label, lr, kw, metrics in CASES:
        opt = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=lr)
        s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        print("case " + label)
        print("settings " + " ".join([java(lr), kw["mode"], java(kw["factor"]), str(kw["patience"]),
                                      java(kw["threshold"]), kw["threshold_mode"], str(kw["cooldown"]),
                                      java(kw["min_lr"]), java(kw["eps"])]))
        for m in metrics:
            s.step(m)
            print("step " + " ".join([java(m), java(opt.param_groups[0]["lr"]), java(s.best),
                                      str(s.num_bad_epochs), str(s.cooldown_counter)]))


if __name__ == "__main__":
    main()
