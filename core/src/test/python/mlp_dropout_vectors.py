#!/usr/bin/python3
"""Writes the PyTorch reference of an MLP with dropout in training mode: nn.Sequential(Linear(6, 5), ReLU,
Dropout(0.25), Linear(5, 4), ReLU, Dropout(0.25), Linear(4, 3)) with torch.manual_seed(11)'s initial weights (which
Backprop's Mlp with Init.PYTORCH_DEFAULT and seed 11 draws bit for bit), its forward output for an input batch and
the gradients of the input and every parameter for a random upstream gradient.

    /usr/bin/python3 core/src/test/python/mlp_dropout_vectors.py \
        core/src/test/resources/dev/backprop/nn/torch-mlp-dropout.safetensors

torch draws dropout masks from its own generator, element by element unlike Backprop's Philox streams, so each
Dropout module's output is replaced (a forward hook) by F.dropout's formula x * (mask / (1 - p)) with the mask
Backprop's layer draws: Philox4x32-10, written out here from the paper, keyed by Dropout.streamSeed(11, position),
element i kept when (word_i >> 8) >= round(p * 2^24). The forward and the gradients are then torch's for that mask.

Tensor names: the state_dict's (0.weight, 0.bias, 3.*, 6.*), x, out, grad_out, grad_x, grad.NAME for each parameter,
mask.POSITION; float32 as the network computes. The file is safetensors written with json + raw bytes (Debian has no
`safetensors` package). Deterministic: seeded, CPU.
"""
import json, struct, sys
import torch
import torch.nn as nn

SEED, P, BATCH = 11, 0.25, 4
M32 = 0xFFFFFFFF


def philox_block(ctr, k0, k1):
    c0, c1, c2, c3 = ctr
    for r in range(10):
        if r > 0:
            k0 = (k0 + 0x9E3779B9) & M32
            k1 = (k1 + 0xBB67AE85) & M32
        p0 = 0xD2511F53 * c0
        p1 = 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0) & M32, p1 & M32, ((p0 >> 32) ^ c3 ^ k1) & M32, p0 & M32
    return [c0, c1, c2, c3]


def stream_seed(seed, position):  # Dropout.streamSeed: seed * 0x9E3779B97F4A7C15 + position + 1, mod 2^64
    return (seed * 0x9E3779B97F4A7C15 + position + 1) & 0xFFFFFFFFFFFFFFFF


def mask(seed, n):  # a draw of n elements from block 0 of the stream
    words = []
    for b in range((n + 3) // 4):
        words += philox_block([b & M32, b >> 32, 0, 0], seed & M32, seed >> 32)
    threshold = round(P * 2 ** 24)
    return torch.tensor([1.0 if (w >> 8) >= threshold else 0.0 for w in words[:n]], dtype=torch.float32)


torch.manual_seed(SEED)
net = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Dropout(P), nn.Linear(5, 4), nn.ReLU(), nn.Dropout(P),
                    nn.Linear(4, 3))
tensors = {name: t.detach().clone() for name, t in net.state_dict().items()}
net.train()
for position in (2, 5):
    width = net[position - 2].out_features
    m = mask(stream_seed(SEED, position), BATCH * width).reshape(BATCH, width)
    tensors[f"mask.{position}"] = m
    net[position].register_forward_hook(lambda mod, inp, out, m=m: inp[0] * (m / (1 - P)))

gen = torch.Generator().manual_seed(5)
x = torch.randn(BATCH, 6, generator=gen).requires_grad_()
out = net(x)
g = torch.randn(out.shape, generator=gen)
out.backward(g)
tensors.update({"x": x.detach(), "out": out.detach(), "grad_out": g, "grad_x": x.grad})
for name, prm in net.named_parameters():
    tensors["grad." + name] = prm.grad

header, blobs, offset = {"__metadata__": {"p": str(P), "seed": str(SEED)}}, [], 0
for name, t in tensors.items():
    data = t.contiguous().numpy().astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
    blobs.append(data)
    offset += len(data)
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
