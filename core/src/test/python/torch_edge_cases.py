#!/usr/bin/python3
# Writes the PyTorch reference for TorchEdgeCases: ops, losses, layers and optimizer steps at their numerical edges
# (logits of +-1e4 and +-3e38, -inf and +inf, probabilities of exactly 0 and 1, batches of one, constant channels,
# ties and -inf in pooling windows, gradients at kinks, zero gradients), in float32 on the CPU as a user runs them.
# Regenerate from the repository root with:
#
#   /usr/bin/python3 core/src/test/python/torch_edge_cases.py > core/src/test/resources/dev/backprop/contract/network/torch-edges.txt
#
# (Debian's python3-torch 1.13). Batch norm's results are float64 from float32 inputs (see batchnorm()).
#
# Format, one record a line: `case <name> <op> key=value...` opens a case; then `<role> dims... : values` (float32
# values in repr, which reads back exactly; Infinity, -Infinity and NaN as Java spells them), or
# `error : <PyTorch's message>` when PyTorch refuses the input. Roles: x (input), target, labels, g (upstream
# gradient), out (result), grad (gradient of x), running_mean/running_var (after the forward passes), param/grad/after
# (optimizer: the parameter, its gradient, the parameter after each step).
import math
import warnings

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float32)
INF, NAN = math.inf, math.nan


def spell(v):
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(v)


def put(role, t):
    t = torch.as_tensor(t).detach()
    dims = " ".join(str(d) for d in t.shape)
    head = f"{role} {dims}" if dims else role
    print(f"{head} : " + " ".join(spell(v) for v in t.reshape(-1).tolist()))


def case(name, op, **settings):
    print(f"case {name} {op}" + "".join(f" {k}={v}" for k, v in settings.items()))


def leaf(values):
    return torch.tensor(values, dtype=torch.float32, requires_grad=True)


def unary(name, op, fn, xs, gs, **settings):
    """An elementwise op or row-wise softmax: out and the gradient of x for the upstream gradient g."""
    x = leaf(xs)
    g = torch.tensor(gs, dtype=torch.float32)
    case(name, op, **settings)
    put("x", x)
    put("g", g)
    y = fn(x)
    y.backward(g)
    put("out", y)
    put("grad", x.grad)


def loss(name, op, fn, xs, target):
    """A loss with the mean reduction: its value and the gradient of its input (upstream gradient 1)."""
    x = leaf(xs)
    case(name, op)
    put("x", x)
    put("labels" if op == "cross_entropy" else "target", target)
    y = fn(x, target)
    y.backward()
    put("out", y)
    put("grad", x.grad)


def refused(name, op, fn, inputs=(), **settings):
    case(name, op, **settings)
    for role, t in inputs:
        put(role, t)
    try:
        fn()
    except (RuntimeError, ValueError) as e:
        print("error : " + str(e).splitlines()[0])
        return
    raise SystemExit(f"{name}: PyTorch accepted it")


ROWS = [[1e4, -1e4, 0, 1], [3e38, -3e38, 0, 1], [2, 2, 2, 2], [-INF, 0, 1, 2], [-3e38] * 4, [3e38, 3e38, -1, 0]]
G_ROWS = [[0.5, -1, 0.25, 2], [1, 2, -0.5, 0.125], [0.3, -0.2, 0.1, 0.7], [4, -1, 0.5, 1], [1, 0, -1, 2],
          [-0.75, 1.5, 0.25, 1]]


def softmaxes():
    for op, fn in (("softmax", lambda x: F.softmax(x, 1)), ("log_softmax", lambda x: F.log_softmax(x, 1))):
        unary(f"{op}_extreme_rows", op, fn, ROWS, G_ROWS)
        unary(f"{op}_plus_inf", op, fn, [[INF, 0, 1, 2]], [[1, 2, 3, 4]])
        unary(f"{op}_all_minus_inf", op, fn, [[-INF] * 4], [[1, 2, 3, 4]])
    loss("cross_entropy_extreme_rows", "cross_entropy", F.cross_entropy, ROWS, torch.tensor([0, 0, 3, 3, 1, 1]))
    loss("cross_entropy_label_at_minus_inf", "cross_entropy", F.cross_entropy, [[-INF, 0, 1, 2], [0, 1, 2, 3]],
         torch.tensor([0, 2]))
    loss("cross_entropy_huge_gap", "cross_entropy", F.cross_entropy, [[3e38, -3e38], [1, 2]], torch.tensor([1, 0]))
    loss("cross_entropy_plus_inf", "cross_entropy", F.cross_entropy, [[INF, 0, 1], [0, 1, 2]], torch.tensor([0, 2]))
    loss("cross_entropy_batch_of_one", "cross_entropy", F.cross_entropy, [[1e4, -1e4, 5]], torch.tensor([2]))


def weighted_loss(name, xs, labels, weight=None, label_smoothing=0.0, reduction="mean"):
    """cross_entropy with PyTorch's weight and label_smoothing (settings weight=w0,w1,... when given)."""
    x = leaf(xs)
    w = None if weight is None else torch.tensor(weight, dtype=torch.float32)
    settings = dict(label_smoothing=repr(float(label_smoothing)), reduction=reduction)
    if weight is not None:
        settings["weight"] = ",".join(repr(float(v)) for v in w.tolist())
    case(name, "cross_entropy", **settings)
    put("x", x)
    put("labels", labels)
    y = F.cross_entropy(x, labels, weight=w, label_smoothing=label_smoothing, reduction=reduction)
    y.backward()
    put("out", y)
    put("grad", x.grad)


def weighted_cross_entropies():
    """Class weights (the mean divides by the batch's sum of w[y]) and label smoothing, alone and together."""
    xs = [[1.5, -0.5, 0.25, 2.0], [0.1, 0.2, -1.0, 0.3], [-2.0, 3.0, 0.5, 0.0], [0.7, 0.7, -0.3, 1.1],
          [4.0, -4.0, 1.0, 0.5]]
    y = torch.tensor([0, 2, 1, 3, 1])
    w = [0.5, 2.0, 1.0, 3.0]
    for reduction in ("mean", "sum"):
        weighted_loss(f"cross_entropy_weighted_{reduction}", xs, y, weight=w, reduction=reduction)
        weighted_loss(f"cross_entropy_smoothed_{reduction}", xs, y, label_smoothing=0.2, reduction=reduction)
        weighted_loss(f"cross_entropy_weighted_smoothed_{reduction}", xs, y, weight=w, label_smoothing=0.2,
                      reduction=reduction)
    weighted_loss("cross_entropy_weighted_one_class", xs, torch.tensor([3, 3, 3, 3, 3]), weight=w)
    weighted_loss("cross_entropy_weighted_smoothed_one_class", xs, torch.tensor([1, 1, 1, 1, 1]), weight=w,
                  label_smoothing=0.1)
    weighted_loss("cross_entropy_smoothed_extreme_rows", ROWS[:2] + ROWS[2:3], torch.tensor([0, 0, 3]),
                  label_smoothing=0.1)
    weighted_loss("cross_entropy_smoothed_batch_of_one", [[2.0, -1.0, 0.5]], torch.tensor([1]), weight=[1.0, 4.0, 2.0],
                  label_smoothing=0.9)


def empty_batches():
    """The mean over no elements: PyTorch answers NaN (with a warning); Backprop refuses the empty batch."""
    empty = torch.zeros(0)
    for name, op, fn, x, target in (("mse_empty", "mse", F.mse_loss, empty, empty),
                                    ("bce_empty", "bce", F.binary_cross_entropy, empty, empty),
                                    ("bce_with_logits_empty", "bce_with_logits", F.binary_cross_entropy_with_logits,
                                     empty, empty),
                                    ("cross_entropy_empty", "cross_entropy", F.cross_entropy, torch.zeros(0, 3),
                                     torch.zeros(0, dtype=torch.long))):
        case(name, op)
        put("x", x)
        put("labels" if op == "cross_entropy" else "target", target)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            put("out", fn(x, target))


def binary_losses():
    p = [0, 0, 1, 1, 0.5, 1e-45, 1 - 2 ** -24]
    y = torch.tensor([0, 1, 0, 1, 1, 1, 0], dtype=torch.float32)
    loss("bce_at_0_and_1", "bce", F.binary_cross_entropy, p, y)
    outside = (torch.tensor([-0.5, 0.5, 1.5]), torch.tensor([0.0, 1.0, 1.0]))
    refused("bce_outside_0_1", "bce", lambda: F.binary_cross_entropy(*outside),
            inputs=(("x", outside[0]), ("target", outside[1])))
    z = [1e4, -1e4, 1e4, -1e4, 0, 3e38, -3e38, 100]
    yz = torch.tensor([1, 0, 0, 1, 0.5, 1, 0, 0.25], dtype=torch.float32)
    loss("bce_with_logits_extreme", "bce_with_logits", F.binary_cross_entropy_with_logits, z, yz)
    loss("mse_overflow", "mse", F.mse_loss, [2e38, -2e38, 1e20, 3], torch.tensor([0, 0, 0, 1], dtype=torch.float32))
    loss("mse_infinite", "mse", F.mse_loss, [3e38, -3e38, INF, 1],
         torch.tensor([-3e38, 3e38, 0, 1], dtype=torch.float32))
    loss("mse_batch_of_one", "mse", F.mse_loss, [1e19], torch.tensor([-1e19], dtype=torch.float32))


def activations():
    g = [1, -2, 0.5, 3, -1, 0.25, 2, 1.5]
    unary("relu_kinks", "relu", F.relu, [-1, 0, -0.0, 1, INF, -INF, 1e-45, -1e-45], g)
    unary("relu_nan", "relu", F.relu, [NAN, 1], [1, 1])
    unary("sigmoid_saturated", "sigmoid", torch.sigmoid, [-1e4, 1e4, -100, 100, -88, 88, 3e38, -3e38], g)
    unary("tanh_saturated", "tanh", torch.tanh, [-1e4, 1e4, 3e38, -3e38, 10, -10, 0, 1e-8], g)
    unary("sigmoid_infinite", "sigmoid", torch.sigmoid, [INF, -INF], [1, 1])
    unary("tanh_infinite", "tanh", torch.tanh, [INF, -INF], [1, 1])


def ops():
    g = [1, -2, 0.5, 3, -1, 0.25]
    unary("abs_at_zero", "abs", torch.abs, [0, -0.0, 1, -1, INF, -INF], g)
    unary("sqrt_at_zero", "sqrt", torch.sqrt, [0, 1, 4, INF, 1e-45, 3e38], g)
    unary("log_at_zero", "log", torch.log, [0, 1, 1e-45, INF, 3e38, 0.5], g)
    unary("exp_overflow", "exp", torch.exp, [100, -1e4, 88, -104, INF, -INF], g)
    for p in (0, 0.5, 1, 2, 3):
        unary(f"pow_{p}_at_zero", "pow", lambda x: torch.pow(x, p), [0, 2, 0.5, 3e38, 1e-20, 4], g, exponent=p)
    unary("clamp_at_bounds", "clamp", lambda x: torch.clamp(x, -1, 2), [-1, 2, -1.5, 2.5, 0, INF], g, lo=-1, hi=2)
    # Backprop's hard threshold 1[x >= 0] is heaviside(x, 1); it passes no gradient (MATH.md).
    x = [0, -0.0, 1e-45, -1e-45, INF, -INF]
    case("threshold_at_zero", "threshold")
    put("x", x)
    put("g", g)
    put("out", torch.heaviside(torch.tensor(x), torch.tensor(1.0)))
    put("grad", torch.zeros(len(x)))
    unary("sum_overflow", "sum", lambda x: x.sum().reshape(1), [3e38, 3e38, -1], [1])
    unary("mean_overflow", "mean", lambda x: x.mean().reshape(1), [3e38, 3e38, -1], [1])


def pool(name, kind, xs, k, s, p, count_include_pad=True):
    x = leaf(xs)
    if kind == "maxpool":
        y = F.max_pool2d(x, k, s, p)
        case(name, kind, kernel=k, stride=s, padding=p)
    else:
        y = F.avg_pool2d(x, k, s, p, count_include_pad=count_include_pad)
        case(name, kind, kernel=k, stride=s, padding=p, count_include_pad=count_include_pad)
    g = torch.arange(1, y.numel() + 1, dtype=torch.float32).reshape(y.shape)
    put("x", x)
    put("g", g)
    y.backward(g)
    put("out", y)
    put("grad", x.grad)


def pools():
    ties = [[[[1, 1, 0, 0], [1, 1, 0, 0], [-INF, -INF, 2, 2], [-INF, -INF, 2, -INF]]]]
    pool("maxpool_ties_and_minus_inf", "maxpool", ties, 2, 2, 0)
    pool("maxpool_overlapping_ties", "maxpool", [[[[3, 3, 3], [3, 3, 3], [3, 3, 3]]]], 2, 1, 0)
    pool("maxpool_padded_minus_inf", "maxpool", [[[[-INF, -INF, 1], [-INF, -INF, 1], [1, 1, -INF]]]], 2, 2, 1)
    pool("maxpool_nan", "maxpool", [[[[NAN, 1, 0, NAN], [NAN, 2, NAN, 5]]]], 2, 2, 0)
    plane = [[[[float(i * 5 + j) - 12 for j in range(5)] for i in range(5)]]]
    pool("avgpool_padded", "avgpool", plane, 3, 2, 1, True)
    pool("avgpool_padded_exclude", "avgpool", plane, 3, 2, 1, False)


def batchnorm(name, xs, steps=1):
    """In float64 on float32 inputs: float32 batch norm on CPU computes x·(γ/σ) + (β - μγ/σ), whose cancellation
    leaves errors of 1e-4 on a channel near 1e4 and a few ulps where the exact answer is 0."""
    x = torch.tensor(xs, dtype=torch.float32).to(torch.float64).requires_grad_()
    bn = torch.nn.BatchNorm2d(x.shape[1]) if x.dim() == 4 else torch.nn.BatchNorm1d(x.shape[1])
    bn.double()
    case(name, "batchnorm2d" if x.dim() == 4 else "batchnorm1d", steps=steps)
    put("x", x)
    for _ in range(steps - 1):
        bn(x)
    y = bn(x)
    g = torch.linspace(-1, 2, y.numel()).reshape(y.shape).to(torch.float32).to(torch.float64)
    put("g", g)
    y.backward(g)
    put("out", y)
    put("grad", x.grad)
    put("running_mean", bn.running_mean)
    put("running_var", bn.running_var)


def batchnorms():
    refused("batchnorm1d_batch_of_one", "batchnorm1d", lambda: torch.nn.BatchNorm1d(3)(torch.ones(1, 3)))
    refused("batchnorm2d_one_value_per_channel", "batchnorm2d",
            lambda: torch.nn.BatchNorm2d(2)(torch.ones(1, 2, 1, 1)))
    batchnorm("batchnorm2d_batch_of_one", [[[[1, 2], [3, 5]], [[-1, 0], [0.5, 4]]]])
    batchnorm("batchnorm1d_constant_channel", [[5, 1], [5, -2], [5, 0.5], [5, 4]])
    batchnorm("batchnorm1d_large_mean", [[1e4, 1], [1e4 + 1, -2], [1e4 + 3, 0.5], [1e4 - 1, 4]])
    batchnorm("batchnorm2d_constant_channel",
              [[[[7, 7], [7, 7]], [[1, 2], [3, 4]]], [[[7, 7], [7, 7]], [[0, -1], [6, 2]]]])
    batchnorm("batchnorm1d_running_stats", [[1, -2], [3, 0.5], [-4, 8]], steps=3)
    # Channels near 1e4 and 1e5 with spreads of 2e-2 and 1e-1 whose means are exact in float32: the backward pass
    # must take x - mean before scaling, as the forward pass must (b·x - b·mean cancels at the scale of b·mean).
    near = [[1e4 + 2 / 128, 1e5 + 3 / 32], [1e4 - 1 / 128, 1e5 - 1 / 32], [1e4 + 3 / 128, 1e5 + 2 / 32],
            [1e4 - 4 / 128, 1e5 - 4 / 32]]
    batchnorm("batchnorm1d_near_large_means", near)
    batchnorm("batchnorm2d_near_large_means", [[[near[0][:1] + near[1][:1]], [near[0][1:] + near[1][1:]]],
                                               [[near[2][:1] + near[3][:1]], [near[2][1:] + near[3][1:]]]])


def dropouts():
    unary("dropout_p0", "dropout_p=0", lambda x: F.dropout(x, 0.0), [1, -2, INF, NAN], [1, 2, 3, 4])
    unary("dropout_p1", "dropout_p=1", lambda x: F.dropout(x, 1.0), [1, -2, INF, 0], [1, 2, 3, 4])
    refused("dropout_negative", "dropout_p=-0.1", lambda: F.dropout(torch.ones(3), -0.1))
    refused("dropout_above_one", "dropout_p=1.5", lambda: F.dropout(torch.ones(3), 1.5))
    refused("dropout_layer_above_one", "dropout_p=1.5", lambda: torch.nn.Dropout(1.5))


GRADS = [0, 0, 1e-30, 1e-20, 1e-10, 1, -1e30, 3e38]
PARAMS = [1, -2, 0.5, 0.25, -1, 3, 2, -0.5]


def optimizer(name, make, steps=2, grads=GRADS, **settings):
    theta = torch.tensor(PARAMS, dtype=torch.float32, requires_grad=True)
    g = torch.tensor(grads, dtype=torch.float32)
    opt = make([theta])
    case(name, name.split("_")[0], **settings)
    put("param", theta)
    put("grad", g)
    for _ in range(steps):
        opt.zero_grad()
        theta.grad = g.clone()
        opt.step()
        put("after", theta)


def optimizers():
    zero = [0.0] * len(PARAMS)
    optimizer("sgd_zero_grad", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01), grads=zero,
              lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=False, decoupled=False, beta1=0, beta2=0, eps=0)
    optimizer("sgd_extreme_grads", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), lr=0.1, momentum=0.9,
              weight_decay=0, nesterov=False, decoupled=False, beta1=0, beta2=0, eps=0)
    for label, decay, decoupled in (("adam", 0.0, False), ("adam-l2", 0.1, False), ("adamw", 0.1, True)):
        cls = torch.optim.AdamW if decoupled else torch.optim.Adam
        hp = dict(lr=0.01, momentum=0, weight_decay=decay, nesterov=False, decoupled=decoupled, beta1=0.9,
                  beta2=0.999, eps=1e-8)
        optimizer(f"{label}_zero_grad", lambda p: cls(p, lr=0.01, weight_decay=decay), grads=zero, **hp)
        optimizer(f"{label}_extreme_grads", lambda p: cls(p, lr=0.01, weight_decay=decay), **hp)


print(f"# generated by core/src/test/python/torch_edge_cases.py with torch {torch.__version__}")
softmaxes()
weighted_cross_entropies()
binary_losses()
empty_batches()
ops()
activations()
pools()
batchnorms()
dropouts()
optimizers()
