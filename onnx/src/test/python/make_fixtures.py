#!/usr/bin/python3
"""Writes the ONNX fixtures the onnx module's tests import: small networks trained briefly on Fashion-MNIST by
PyTorch and exported with torch.onnx.export, plus fixtures.json with PyTorch's own test accuracy and loss for each
(the Java tests must reproduce them to 4 decimals) and its logits for the first test images. The binary fixture
ends with a Sigmoid and is trained with nn.BCELoss on T-shirt/top (class 0) against the rest: its figures are the
accuracy at probability 0.5, the mean binary cross-entropy and the first probabilities.

    /usr/bin/python3 onnx/src/test/python/make_fixtures.py            # the MLP fixtures
    /usr/bin/python3 onnx/src/test/python/make_fixtures.py --cnn      # and the CNN fixtures

Needs Debian's python3-torch (1.13) and numpy, and the Fashion-MNIST files (dataset-fashion-mnist). Seeded, so a
rerun on the same torch build writes the same weights. --cnn adds the convolutional fixtures (about 15 minutes in
all on a 2-core machine).
"""
import argparse
import gzip
import json
import os
import struct

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "resources", "dev", "backprop", "onnx")
DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
FIRST = 8  # test images whose logits are recorded


def idx(name):
    path = os.path.join(DATA, name)
    opener = gzip.open if os.path.exists(path + ".gz") else open
    with opener(path + ".gz" if os.path.exists(path + ".gz") else path, "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def data(split):
    x = idx(split + "-images-idx3-ubyte").astype(np.float32) / np.float32(255)  # as Backprop's reader scales
    y = idx(split + "-labels-idx1-ubyte").astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 32),
                         nn.Tanh(), nn.Linear(32, 10))


def mlp_matmul():
    # A linear layer without bias is exported as MatMul with the transposed weight; Sigmoid for the other activation.
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32, bias=False), nn.Sigmoid(), nn.Linear(32, 10))


def binary_sigmoid():
    # What a PyTorch user writes for nn.BCELoss: one output squashed by a final Sigmoid.
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 1), nn.Sigmoid())


def mlp_layernorm():
    # LayerNormalization (opset 17). Only affine ones: without weight and bias PyTorch 1.13 leaves the required
    # Scale input empty and its own ONNX checker refuses the export.
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.LayerNorm(64), nn.ReLU(), nn.Linear(64, 32),
                         nn.LayerNorm(32, eps=1e-6), nn.Tanh(), nn.Linear(32, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


def cnn_bn_dropout():
    # torch.onnx.export folds a BatchNorm2d that follows a Conv into the Conv's weights; the one after a ReLU and the
    # BatchNorm1d stay BatchNormalization nodes; Dropout disappears in the eval-mode export.
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(16), nn.AvgPool2d(2),
                         nn.Flatten(), nn.Dropout(0.25), nn.Linear(784, 32), nn.BatchNorm1d(32), nn.ReLU(),
                         nn.Dropout(0.1), nn.Linear(32, 10))


def train(model, x, y, epochs, loss):
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            b = order[i:i + 128]
            opt.zero_grad()
            loss(model(x[b]), y[b]).backward()
            opt.step()
    model.eval()


def classes(out, y):
    return (out.argmax(1) == y).double().mean().item(), nn.functional.cross_entropy(out.double(), y).item()


def positive(out, y):
    return (((out[:, 0] >= 0.5).long() == y).double().mean().item(),
            nn.functional.binary_cross_entropy(out[:, 0].double(), y.double()).item())


def is_tshirt(y):
    return (y == 0).long()


def score(model, x, y, figures):
    with torch.no_grad():
        out = torch.cat([model(x[i:i + 1000]) for i in range(0, len(x), 1000)])
    acc, loss = figures(out, y)
    return acc, loss, out[:FIRST]


def export(model, name, opset, x, keep_initializers_as_inputs=False):
    path = os.path.join(OUT, name)
    torch.onnx.export(model, x[:2], path, opset_version=opset, input_names=["images"], output_names=["logits"],
                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
                      keep_initializers_as_inputs=keep_initializers_as_inputs)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cnn", action="store_true", help="also write the CNN fixtures")
    args = ap.parse_args()
    torch.set_num_threads(2)
    xtrain, ytrain = data("train")
    xtest, ytest = data("t10k")
    manifest_path = os.path.join(OUT, "fixtures.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
    cross_entropy = (nn.functional.cross_entropy, lambda y: y, classes)
    bce = (lambda p, t: nn.functional.binary_cross_entropy(p[:, 0], t.float()), is_tshirt, positive)
    nets = [("torch_mlp", mlp, 2, [17, 9], cross_entropy), ("torch_mlp_matmul", mlp_matmul, 1, [17], cross_entropy),
            ("torch_binary_sigmoid", binary_sigmoid, 1, [17], bce),
            ("torch_mlp_layernorm", mlp_layernorm, 1, [17], cross_entropy)]
    if args.cnn:
        nets += [("torch_cnn", cnn, 1, [17], cross_entropy),
                 ("torch_cnn_bn_dropout", cnn_bn_dropout, 1, [17], cross_entropy)]
    for name, make, epochs, opsets, (loss_fn, targets, figures) in nets:
        torch.manual_seed(0)
        model = make()
        train(model, xtrain, targets(ytrain), epochs, loss_fn)
        acc, loss, first = score(model, xtest, targets(ytest), figures)
        for opset in opsets:
            file = name + ("" if opset == 17 else "_opset%d" % opset) + ".onnx"
            # Older exporters listed the initializers among the graph inputs; opset 9 is written that way.
            export(model, file, opset, xtest, keep_initializers_as_inputs=opset < 11)
            manifest[file] = {"accuracy": round(acc, 6), "loss": round(loss, 6), "opset": opset,
                              "epochs": epochs, "torch": torch.__version__,
                              "first_logits" if figures is classes else "first_probabilities":
                                  [[float(v) for v in row] for row in first]}
            print("%-32s accuracy %.4f  loss %.4f" % (file, acc, loss))
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
