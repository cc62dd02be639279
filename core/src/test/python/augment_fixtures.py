#!/usr/bin/python3
"""Writes augment_values.json: what torchvision's RandomCrop(size, padding=P) and RandomHorizontalFlip make of a
[C, H, W] tensor for given offsets and flips, so AugmentationTest checks the Java augmentation element for element
against a PyTorch user's training transform.

    /usr/bin/python3 core/src/test/python/augment_fixtures.py

torchvision is not installed here, so its two steps are written out (torchvision 0.14, transforms.py): RandomCrop
pads with F.pad(img, [P, P, P, P], fill=0) and crops img[..., top:top+h, left:left+w] at offsets drawn from
[0, 2P]; RandomHorizontalFlip is torch.flip(img, [-1]). Needs Debian's python3-torch.
"""
import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "resources", "dev", "backprop", "data", "augment_values.json")

CASES = [  # shape [C, H, W], padding, top, left, flip
    ([1, 5, 7], 2, 0, 4, False),
    ([1, 5, 7], 2, 4, 0, True),
    ([3, 4, 6], 1, 1, 1, True),
    ([3, 4, 6], 3, 6, 2, False),
    ([2, 3, 3], 4, 8, 8, True),
    ([1, 28, 28], 2, 3, 1, True),
]


def main():
    gen = torch.Generator().manual_seed(5)
    cases = []
    for shape, pad, top, left, flip in CASES:
        x = torch.rand(shape, generator=gen, dtype=torch.float32)
        c, h, w = shape
        padded = F.pad(x, [pad, pad, pad, pad], value=0.0)
        y = padded[:, top:top + h, left:left + w]
        if flip:
            y = torch.flip(y, [-1])
        cases.append({"shape": shape, "padding": pad, "top": top, "left": left, "flip": flip,
                      "input": x.flatten().tolist(), "expected": y.flatten().tolist()})
    with open(OUT, "w") as f:
        json.dump({"cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
