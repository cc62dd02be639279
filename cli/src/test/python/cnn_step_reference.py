#!/usr/bin/python3
"""Writes the reference for CnnStepAgainstPyTorchTest: one full-batch training step of the reference CNN
(shared/bench/cnn_fashion.py's network) from PyTorch's seed-0 initial weights, computed in float64 by PyTorch, for
SGD (lr 0.05) and Adam (lr 0.001) on the first 64 Fashion-MNIST training images.

    /usr/bin/python3 cli/src/test/python/cnn_step_reference.py \
        cli/src/test/resources/dev/backprop/cli/cnn-step-reference.safetensors

The file (safetensors, written with json + raw bytes: Debian has no `safetensors` package) holds, per optimizer OPT,
the float64 update (weights after the step minus before) rounded to float32 as `OPT.NAME`, for every tensor but
7.weight, of which it keeps every 16th row (`OPT.7.weight.rows16`, [8, 3136]) to keep the file small. Metadata:
`init_sha256` (SHA-256 of each initial float32 tensor, so the test can prove the weights it starts from are
PyTorch's), `max_update` (each tensor's largest |update| over all its elements, float64) and, for information,
`float32_error` (float32 PyTorch's largest error per tensor relative to that). Deterministic: float64 on the CPU.
"""
import hashlib, json, os, struct, sys
import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../../benchmarks/pytorch"))
from mlp_fashion import idx  # noqa: E402  the reference scripts' IDX reader

N = 64
ROWS = 16



def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def step(init, dtype, opt_name, x, y):
    model = cnn().to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in init.items()})
    opt = (torch.optim.SGD(model.parameters(), lr=0.05) if opt_name == "sgd"
           else torch.optim.Adam(model.parameters(), lr=1e-3))
    opt.zero_grad()
    nn.CrossEntropyLoss()(model(x.to(dtype)), y).backward()
    opt.step()
    return {k: v.detach().to(torch.float64) - init[k].to(torch.float64) for k, v in model.state_dict().items()}


def main():
    d = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist") + "/"
    x = torch.from_numpy(idx(d + "train-images-idx3-ubyte.gz")[:N].reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
    y = torch.from_numpy(idx(d + "train-labels-idx1-ubyte.gz")[:N].astype(np.int64))
    torch.manual_seed(0)
    init = {k: v.detach().clone() for k, v in cnn().state_dict().items()}
    tensors, meta = {}, {"init_sha256": {}, "max_update": {}, "float32_error": {}}
    for k, v in init.items():
        meta["init_sha256"][k] = hashlib.sha256(v.numpy().astype("<f4").tobytes()).hexdigest()
    for opt in ("sgd", "adam"):
        exact = step(init, torch.float64, opt, x, y)
        single = step(init, torch.float32, opt, x, y)
        for k, u in exact.items():
            scale = u.abs().max().item()
            meta["max_update"][f"{opt}.{k}"] = scale
            meta["float32_error"][f"{opt}.{k}"] = (single[k] - u).abs().max().item() / scale
            kept = u[::ROWS] if k == "7.weight" else u
            tensors[f"{opt}.{k}.rows{ROWS}" if k == "7.weight" else f"{opt}.{k}"] = kept.to(torch.float32)
    header, blobs, offset = {"__metadata__": {k: json.dumps(v) for k, v in meta.items()}}, [], 0
    for name, t in tensors.items():
        b = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    print(f"{sys.argv[1]}: {len(tensors)} tensors, {offset} data bytes; float32 PyTorch's largest error / largest "
          f"update: " + ", ".join(f"{k} {v:.2e}" for k, v in meta["float32_error"].items()))


if __name__ == "__main__":
    main()
