#!/usr/bin/python3
"""Writes the PyTorch reference vectors for the image and normalization layers (Conv2d, MaxPool2d, AvgPool2d,
BatchNorm1d/2d, LayerNorm): forward outputs and the gradients of every input for a random upstream gradient, and two
SGD steps of a small MLP with a LayerNorm, all in float64.

    /usr/bin/python3 core/src/test/python/torch_layer_vectors.py \
        core/src/test/resources/dev/backprop/nn/torch-layers.safetensors

The file is safetensors (written with json + raw bytes: Debian has no `safetensors` package). Tensor names are
`CASE.ROLE` (roles: x, weight, bias, out, grad_out, grad_x, grad_weight, grad_bias, running_mean, running_var, ...;
the MLP's are x, target, loss.STEP and STEP.PARAMETER, its state_dict after STEP SGD steps, from 0);
`__metadata__` maps each CASE to its layer settings as JSON. Deterministic: seeded, float64, CPU.
"""
import json, struct, sys
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)
tensors, meta = {}, {}


def put(case, role, t):
    tensors[f"{case}.{role}"] = t.detach().to(torch.float64).clone().contiguous()  # a copy: BatchNorm updates its buffers in place


def conv(case, n, c, h, w, o, kh, kw, stride, pad, dil, bias=True):
    x = torch.randn(n, c, h, w, requires_grad=True)
    wt = (torch.randn(o, c, kh, kw) / (c * kh * kw) ** 0.5).requires_grad_()
    b = torch.randn(o, requires_grad=True) if bias else None
    y = F.conv2d(x, wt, b, stride=stride, padding=pad, dilation=dil)
    g = torch.randn_like(y)
    y.backward(g)
    for role, t in [("x", x), ("weight", wt), ("out", y), ("grad_out", g), ("grad_x", x.grad),
                    ("grad_weight", wt.grad)]:
        put(case, role, t)
    if bias:
        put(case, "bias", b)
        put(case, "grad_bias", b.grad)
    meta[case] = {"layer": "conv2d", "in": c, "out": o, "kernel": [kh, kw], "stride": list(stride),
                  "padding": list(pad), "dilation": list(dil), "bias": bias}


def pool(case, kind, n, c, h, w, k, s, p, ties=False, count_include_pad=True):
    x = (torch.randint(0, 3, (n, c, h, w)).to(torch.float64) if ties else torch.randn(n, c, h, w)).requires_grad_()
    if kind == "max":
        y, idx = F.max_pool2d(x, k, s, p, return_indices=True)
        put(case, "indices", idx.to(torch.float64))  # flat index h*W + w within the input plane
    else:
        y = F.avg_pool2d(x, k, s, p, count_include_pad=count_include_pad)
    g = torch.randn_like(y)
    y.backward(g)
    for role, t in [("x", x), ("out", y), ("grad_out", g), ("grad_x", x.grad)]:
        put(case, role, t)
    meta[case] = {"layer": kind + "pool2d", "kernel": list(k), "stride": list(s), "padding": list(p)}
    if kind == "avg":
        meta[case]["count_include_pad"] = count_include_pad


def batchnorm(case, shape, train):
    c = shape[1]
    m = torch.nn.BatchNorm2d(c) if len(shape) == 4 else torch.nn.BatchNorm1d(c)
    with torch.no_grad():
        m.weight.copy_(torch.rand(c) + 0.5)
        m.bias.copy_(torch.randn(c))
        m.running_mean.copy_(torch.randn(c))
        m.running_var.copy_(torch.rand(c) + 0.5)
    put(case, "weight", m.weight)
    put(case, "bias", m.bias)
    put(case, "running_mean_before", m.running_mean)
    put(case, "running_var_before", m.running_var)
    m.train(train)
    x = (torch.randn(*shape) * 2 + 1).requires_grad_()
    y = m(x)
    g = torch.randn_like(y)
    y.backward(g)
    for role, t in [("x", x), ("out", y), ("grad_out", g), ("grad_x", x.grad), ("grad_weight", m.weight.grad),
                    ("grad_bias", m.bias.grad), ("running_mean", m.running_mean), ("running_var", m.running_var)]:
        put(case, role, t)
    meta[case] = {"layer": "batchnorm%dd" % (len(shape) - 2), "features": c, "train": train, "momentum": 0.1,
                  "eps": 1e-5, "num_batches_tracked": int(m.num_batches_tracked)}


def layernorm(case, shape, eps, affine):
    f = shape[-1]
    m = torch.nn.LayerNorm(f, eps=eps, elementwise_affine=affine)
    if affine:
        with torch.no_grad():
            m.weight.copy_(torch.rand(f) + 0.5)
            m.bias.copy_(torch.randn(f))
    x = (torch.randn(*shape) * 2 + 1).requires_grad_()
    y = m(x)
    g = torch.randn_like(y)
    y.backward(g)
    for role, t in [("x", x), ("out", y), ("grad_out", g), ("grad_x", x.grad)]:
        put(case, role, t)
    if affine:
        for role, t in [("weight", m.weight), ("bias", m.bias), ("grad_weight", m.weight.grad),
                        ("grad_bias", m.bias.grad)]:
            put(case, role, t)
    meta[case] = {"layer": "layernorm", "features": f, "eps": eps, "affine": affine}


def layernorm_mlp_sgd(case, lr, steps):
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.LayerNorm(6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    with torch.no_grad():
        net[1].weight.copy_(torch.rand(6) + 0.5)
        net[1].bias.copy_(torch.randn(6) * 0.5)
    x, target = torch.randn(5, 4), torch.randn(5, 3)
    put(case, "x", x)
    put(case, "target", target)
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for step in range(steps + 1):
        for name, t in net.state_dict().items():
            put(case, f"{step}.{name}", t)
        if step < steps:
            opt.zero_grad()
            loss = F.mse_loss(net(x), target)
            loss.backward()
            opt.step()
            put(case, f"loss.{step}", loss.reshape(1))
    meta[case] = {"layer": "layernorm_mlp_sgd", "lr": lr, "steps": steps, "loss": "mse_loss (mean)",
                  "net": "Linear(4, 6), LayerNorm(6), Tanh(), Linear(6, 3)"}

conv("conv_3x3_same", 2, 1, 5, 5, 3, 3, 3, (1, 1), (1, 1), (1, 1))
conv("conv_strided", 2, 3, 7, 6, 4, 3, 2, (2, 1), (0, 1), (1, 1))
conv("conv_dilated", 1, 2, 9, 9, 2, 3, 3, (2, 2), (2, 2), (2, 2))
conv("conv_1x1", 3, 4, 6, 6, 5, 1, 1, (1, 1), (0, 0), (1, 1))
conv("conv_kernel_over_input", 2, 2, 3, 3, 2, 5, 5, (1, 1), (2, 2), (1, 1))
conv("conv_no_bias", 2, 3, 5, 4, 2, 2, 3, (1, 2), (1, 0), (2, 1), bias=False)
conv("conv_many_channels", 2, 16, 8, 8, 32, 3, 3, (1, 1), (1, 1), (1, 1))
pool("maxpool_2x2", "max", 2, 3, 6, 6, (2, 2), (2, 2), (0, 0))
pool("maxpool_3x3_s2_p1", "max", 2, 2, 7, 5, (3, 3), (2, 2), (1, 1))
pool("maxpool_ties", "max", 2, 2, 6, 6, (3, 2), (1, 2), (1, 0), ties=True)
pool("avgpool_2x2", "avg", 2, 3, 6, 6, (2, 2), (2, 2), (0, 0))
pool("avgpool_3x3_s2_p1", "avg", 2, 2, 7, 5, (3, 3), (2, 2), (1, 1))
pool("avgpool_3x3_s2_p1_exclude_pad", "avg", 2, 2, 7, 5, (3, 3), (2, 2), (1, 1), count_include_pad=False)
batchnorm("bn2d_train", (4, 3, 5, 5), True)
batchnorm("bn2d_eval", (4, 3, 5, 5), False)
batchnorm("bn1d_train", (8, 6), True)
batchnorm("bn1d_eval", (8, 6), False)
layernorm("ln_2d", (6, 5), 1e-5, True)
layernorm("ln_3d_eps", (3, 4, 7), 1e-3, True)
layernorm("ln_4d_last", (2, 3, 4, 5), 1e-5, True)
layernorm("ln_no_affine", (5, 8), 1e-6, False)
layernorm_mlp_sgd("ln_mlp_sgd", 0.1, 2)

header, blob = {}, bytearray()
for name in sorted(tensors):
    t = tensors[name]
    data = t.numpy().tobytes()
    header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [len(blob), len(blob) + len(data)]}
    blob += data
header["__metadata__"] = {"format": "pt", "torch": torch.__version__,
                          "cases": json.dumps(meta, sort_keys=True, separators=(",", ":"))}
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + blob)
print(f"{sys.argv[1]}: {len(tensors)} tensors, {len(meta)} cases, {8 + len(h) + len(blob)} bytes")
