#!/usr/bin/python3
"""Loads a Backprop model file into PyTorch's nn.Sequential with load_state_dict and scores it on Fashion-MNIST.

Usage: load_in_pytorch.py MODEL.safetensors [cpu|cuda]
  data directory: $FASHION_MNIST_DIR, default /usr/share/datasets/fashion-mnist

Backprop saves models in the safetensors format with the names and shapes of the equivalent nn.Sequential's
state_dict ("0.weight" [out, in] or [out, in, kh, kw], "0.bias" [out], "2.weight", ..., a batch norm's
"running_mean", "running_var" and "num_batches_tracked" (I64)). Debian 12 has no safetensors package, so the
file is parsed here by hand: an 8-byte little-endian header length, a JSON header (dtype, shape, data_offsets per
tensor, optional __metadata__), then the raw little-endian bytes, read with torch.frombuffer.
The layers come from the architecture in the file's metadata ("backprop.architecture": dense, conv2d, maxpool2d,
avgpool2d, batchnorm1d/2d, layernorm, dropout, flatten and activations); checkpoints' optimizer state ("optimizer.*"
tensors) is left out. A tied model's file holds each shared tensor once and maps the names it leaves out to the kept
one in "backprop.tied" ({"2.weight": "0.weight", ...}), as safetensors.torch.save_model drops them: the module is tied
the same way (one nn.Linear at both places) and loaded as safetensors.torch.load_model loads it, with
load_state_dict(strict=False) and only the dropped names allowed missing. A network that starts with a convolution,
pooling or 2-d batch norm gets the images as [N, 1, 28, 28],
the others as [N, 784]. Scores classification models (softmax cross-entropy, argmax accuracy) and
binary one-vs-rest models (BCE on the logit, accuracy at logit >= 0, the positive class from "backprop.positive_class").
Prints the test loss and accuracy, and a machine-readable last line:
  pytorch_eval: model=FILE test_loss=L test_acc=A
"""
import json
import os
import struct
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_fashion import idx  # noqa: E402  the reference scripts' IDX reader

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "F16": torch.float16,
          "BF16": torch.bfloat16, "I64": torch.int64}
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "identity": nn.Identity}


def read_safetensors(path):
    """Returns (tensors by name, metadata dict) from a safetensors file, checking offsets against the file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        sys.exit(f"{path}: too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if 8 + hlen > len(blob):
        sys.exit(f"{path}: header length {hlen} runs past the end of the file ({len(blob)} bytes)")
    header = json.loads(blob[8:8 + hlen].decode("utf-8"))
    data = bytearray(blob[8 + hlen:])  # writable copy: torch.frombuffer warns on read-only buffers
    metadata = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            sys.exit(f"{path}: tensor {name}: unsupported dtype {info['dtype']}")
        if not 0 <= start <= end <= len(data):
            sys.exit(f"{path}: tensor {name}: data_offsets {start}..{end} outside the {len(data)} data bytes")
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        t = torch.frombuffer(data, dtype=dtype, count=count, offset=start) if count else torch.empty(0, dtype=dtype)
        if t.element_size() * count != end - start:
            sys.exit(f"{path}: tensor {name}: {end - start} bytes do not hold shape {info['shape']} of {info['dtype']}")
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, metadata


def pair(spec, name):
    return (spec[name + "_h"], spec[name + "_w"])


def build_from_architecture(arch):
    """The nn.Sequential that Backprop's architecture metadata describes (dense -> Linear, conv2d -> Conv2d, ...)."""
    layers = arch["layers"] if arch.get("type") == "sequential" else [arch]
    modules = []
    for spec in layers:
        kind = spec["type"]
        if kind == "dense":
            modules.append(nn.Linear(spec["in"], spec["out"], bias=bool(spec["bias"])))
        elif kind == "conv2d":
            modules.append(nn.Conv2d(spec["in"], spec["out"], pair(spec, "kernel"), stride=pair(spec, "stride"),
                                     padding=pair(spec, "pad"), dilation=pair(spec, "dilation"),
                                     bias=bool(spec["bias"])))
        elif kind == "maxpool2d":
            modules.append(nn.MaxPool2d(pair(spec, "kernel"), stride=pair(spec, "stride"), padding=pair(spec, "pad")))
        elif kind == "avgpool2d":
            modules.append(nn.AvgPool2d(pair(spec, "kernel"), stride=pair(spec, "stride"), padding=pair(spec, "pad"),
                                        count_include_pad=bool(spec["count_include_pad"])))
        elif kind in ("batchnorm1d", "batchnorm2d"):
            modules.append((nn.BatchNorm1d if kind == "batchnorm1d" else nn.BatchNorm2d)(spec["features"]))
        elif kind == "layernorm":
            # eps is recorded as eps_mantissa * 10^eps_exponent; float() of that decimal is the double Backprop uses
            eps = float(f"{spec['eps_mantissa']}e{spec['eps_exponent']}")
            modules.append(nn.LayerNorm(spec["features"], eps=eps, elementwise_affine=bool(spec["affine"])))
        elif kind == "dropout":
            modules.append(nn.Dropout(spec["p_ppm"] / 1e6))
        elif kind == "flatten":
            modules.append(nn.Flatten())
        elif kind in ACTIVATIONS:
            modules.append(ACTIVATIONS[kind]())
        else:
            sys.exit(f"layer type {kind!r} has no PyTorch counterpart here")
    return nn.Sequential(*modules)


def takes_images(model):
    """Whether the first layer that cares about shapes needs an NCHW batch."""
    for m in model:
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.BatchNorm2d)):
            return True
        if isinstance(m, (nn.Linear, nn.Flatten, nn.BatchNorm1d, nn.LayerNorm)):
            return False
    return False


def tie(model, ties):
    """Makes each layer whose every state_dict name "backprop.tied" maps into one other layer that layer's module,
    as Backprop rebuilds a tie; returns the names load_state_dict may then report missing."""
    prefixes = {}
    for name, kept in ties.items():
        at, _, rest = name.partition(".")
        src, _, kept_rest = kept.partition(".")
        if rest != kept_rest or not at.isdigit() or not src.isdigit():
            sys.exit(f"backprop.tied: '{name}' -> '{kept}' is not a layer used whole at two places")
        prefixes.setdefault(int(at), set()).add(int(src))
    for at, srcs in prefixes.items():
        names = [k for k in model[at].state_dict()]
        if len(srcs) != 1 or {f"{at}.{k}" for k in names} - set(ties):
            sys.exit(f"backprop.tied: layer {at} is not tied whole to one other layer")
        model[at] = model[srcs.pop()]
    return set(ties)


def build_from_names(state):
    """Without architecture metadata: Linear layers at the indices the state_dict names, ReLU between them."""
    indices = sorted({int(k.split(".")[0]) for k in state if k.endswith(".weight")})
    if not indices:
        sys.exit("no '<index>.weight' tensors: not a Backprop Sequential of Dense layers")
    modules = []
    for pos in range(indices[-1] + 1):
        if pos in indices:
            w = state[f"{pos}.weight"]
            modules.append(nn.Linear(w.shape[1], w.shape[0], bias=f"{pos}.bias" in state))
        else:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)



def main():
    if len(sys.argv) < 2:
        sys.exit("usage: load_in_pytorch.py MODEL.safetensors [cpu|cuda]")
    path, dev = sys.argv[1], torch.device(sys.argv[2] if len(sys.argv) > 2 else "cpu")
    tensors, metadata = read_safetensors(path)
    state = {k: (v if v.dtype == torch.int64 else v.float()) for k, v in tensors.items()
             if not k.startswith("optimizer.")}
    arch = metadata.get("backprop.architecture")
    model = build_from_architecture(json.loads(arch)) if arch else build_from_names(state)
    dropped = tie(model, json.loads(metadata["backprop.tied"])) if "backprop.tied" in metadata else set()
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) != dropped:
        sys.exit(f"{path}: load_state_dict: missing {sorted(set(missing) - dropped)}, unexpected {unexpected}")
    model = model.to(dev).eval()
    task = metadata.get("backprop.task", "classification")
    print(f"# {path}: {len(state)} parameter tensors, task {task}, metadata keys {sorted(metadata)}")
    print(f"# {model}".replace("\n", "\n# "))

    d = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist") + "/"
    shape = (-1, 1, 28, 28) if takes_images(model) else (-1, 784)
    x = torch.from_numpy(idx(d + "t10k-images-idx3-ubyte.gz").reshape(shape).astype(np.float32) / 255.0).to(dev)
    y = torch.from_numpy(idx(d + "t10k-labels-idx1-ubyte.gz").astype(np.int64)).to(dev)
    with torch.no_grad():
        out = model(x)
        if task == "classification":
            loss = nn.CrossEntropyLoss()(out, y).item()
            acc = (out.argmax(1) == y).float().mean().item()
        elif task == "binary":
            t = (y == int(metadata.get("backprop.positive_class", "0"))).float().reshape(out.shape)
            loss = nn.BCEWithLogitsLoss()(out, t).item()
            acc = ((out >= 0).float() == t).float().mean().item()
        else:
            sys.exit(f"task {task!r}: only Fashion-MNIST classification and binary models are scored here")
    print(f"test_loss {loss:.4f}  test_acc {acc:.4f}  ({x.shape[0]} test images)")
    print(f"pytorch_eval: model={path} task={task} test_loss={loss:.6f} test_acc={acc:.6f}")


if __name__ == "__main__":
    main()
