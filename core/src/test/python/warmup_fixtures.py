#!/usr/bin/python3
# Writes the PyTorch reference for WarmupLRTest: the learning rate of every epoch under torchvision's warmup recipe
# (references/classification/train.py): SequentialLR([LinearLR(start_factor=factor, total_iters=E) or
# ConstantLR(factor=factor, total_iters=E), main], milestones=[E]), stepped once per epoch, with PyTorch 1.13's
# schedulers over an SGD optimizer of one parameter. The rate is optimizer.param_groups[0]['lr'] read before each
# epoch's step, as a trainer uses it. Main schedules: none (LambdaLR with a constant 1, so the rate stays at the base
# rate after the warmup), StepLR(step_size, gamma) and CosineAnnealingLR(T_max=epochs - E), torchvision's T_max. With
# E = 0 torchvision builds no SequentialLR: the main schedule runs alone. Regenerate from the repository root with:
#
#   /usr/bin/python3 core/src/test/python/warmup_fixtures.py > core/src/test/resources/dev/backprop/optim/warmup-rates.txt
#
# (Debian's python3-torch). Format, one record a line, floats as repr (which Java's Double.parseDouble reads back
# exactly):
#   case <method> <factor> <warmup epochs E> <main> <step_size> <gamma> <t_max> <lr>
#   rates <lr of epoch 0> <lr of epoch 1> ...
import warnings

import torch

warnings.filterwarnings("ignore")

LR = 0.1


def rates(method, factor, warmup, main, step_size, gamma, t_max, epochs):
    opt = torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=LR)
    sched = torch.optim.lr_scheduler
    if main == "step":
        m = sched.StepLR(opt, step_size=step_size, gamma=gamma)
    elif main == "cosine":
        m = sched.CosineAnnealingLR(opt, T_max=t_max)
    else:
        m = sched.LambdaLR(opt, lambda e: 1.0)
    if warmup > 0:
        if method == "linear":
            w = sched.LinearLR(opt, start_factor=factor, total_iters=warmup)
        else:
            w = sched.ConstantLR(opt, factor=factor, total_iters=warmup)
        s = sched.SequentialLR(opt, schedulers=[w, m], milestones=[warmup])
    else:
        s = m
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    return out


def main():
    for method in ("linear", "constant"):
        for factor in (0.01, 0.1, 0.5, 1.0):
            for warmup in (0, 1, 3, 5):
                # a run longer than the warmup, and one shorter (where there is a warmup to cut short)
                for epochs in sorted({warmup + 9, max(1, warmup - 2)}):
                    for main_name in ("none", "step", "cosine"):
                        if main_name == "cosine" and epochs <= warmup:
                            continue
                        step_size, gamma = 2, 0.5
                        t_max = epochs - warmup if main_name == "cosine" else 0
                        r = rates(method, factor, warmup, main_name, step_size, gamma, t_max, epochs)
                        print("case %s %r %d %s %d %r %d %r" % (method, factor, warmup, main_name, step_size,
                                                                 gamma, t_max, LR))
                        print("rates " + " ".join(repr(float(x)) for x in r))


if __name__ == "__main__":
    main()
