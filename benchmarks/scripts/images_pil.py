#!/usr/bin/python3
"""PIL reference for ImagePairs: the same resizes and folder reads, timed on request so that the two sides alternate.

Usage: images_pil.py generate DIR [COUNT]   writes DIR/big_rgb.png (3000x4000 RGB, height x width), DIR/big_gray.png,
                                            DIR/small_rgb.png (300x400) and DIR/folder/<class>/<n>.{jpg,png}: COUNT
                                            photo-like images (default 200), half 1200x900, half 900x1200
       images_pil.py serve DIR              reads lines "CASE REPS" on stdin and answers each with the best of REPS
                                            milliseconds of that case, one line, so that the caller interleaves
Cases: resize-rgb-256, resize-gray-256, resize-rgb-72, upscale-rgb-600 (img.resize of a decoded image, as
torchvision's Resize(size) on a PIL image); folder-1 and folder-N (N workers of a multiprocessing.Pool, as a
DataLoader's workers): every image of DIR/folder opened, convert("RGB"), Resize(72), CenterCrop(64), np.asarray/255.
torchvision is not installed: its two formulas are written out (_compute_resized_output_size, center_crop).
"""
import multiprocessing
import os
import sys
import time

import numpy as np
from PIL import Image

CLASSES = ["cat", "dog", "owl", "yak"]


def generate(d, count):
    rng = np.random.default_rng(0)

    def photo(h, w, gray=False):
        # Smooth shapes and fine noise: compresses as a photo does, not as flat colour or pure noise.
        small = rng.integers(0, 256, (h // 50 + 1, w // 50 + 1, 1 if gray else 3), dtype=np.uint8)
        img = Image.fromarray(small.squeeze(-1) if gray else small).resize((w, h), Image.BICUBIC)
        a = np.asarray(img).astype(np.int16) + rng.integers(-12, 13, (h, w) if gray else (h, w, 3))
        return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))

    os.makedirs(d, exist_ok=True)
    photo(3000, 4000).save(os.path.join(d, "big_rgb.png"))
    photo(3000, 4000, gray=True).save(os.path.join(d, "big_gray.png"))
    photo(300, 400).save(os.path.join(d, "small_rgb.png"))
    for i in range(count):
        cls = CLASSES[i % len(CLASSES)]
        os.makedirs(os.path.join(d, "folder", cls), exist_ok=True)
        h, w = (1200, 900) if i % 2 == 0 else (900, 1200)
        img = photo(h, w)
        name = os.path.join(d, "folder", cls, "%04d.%s" % (i, "jpg" if i % 4 < 2 else "png"))
        img.save(name, quality=90) if name.endswith(".jpg") else img.save(name)


def resized_size(size, h, w):
    """torchvision's _compute_resized_output_size(image_size, size) for an int size, without max_size."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    return (new_long, new_short) if w <= h else (new_short, new_long)


def center_crop(img, ch, cw):
    """torchvision's center_crop for a crop no larger than the image."""
    w, h = img.size
    top, left = int(round((h - ch) / 2.0)), int(round((w - cw) / 2.0))
    return img.crop((left, top, left + cw, top + ch))


def load(path):
    with Image.open(path) as f:
        img = f.convert("RGB")
    h, w = resized_size(72, img.height, img.width)
    img = center_crop(img.resize((w, h), Image.BILINEAR), 64, 64)
    return (np.asarray(img, dtype=np.float32) / 255.0).transpose(2, 0, 1)


def files(d):
    root = os.path.join(d, "folder")
    out = []
    for cls in sorted(os.listdir(root)):
        out += [os.path.join(root, cls, f) for f in sorted(os.listdir(os.path.join(root, cls)))]
    return out


def serve(d):
    images = {}
    for name in ("big_rgb", "big_gray", "small_rgb"):
        with Image.open(os.path.join(d, name + ".png")) as f:
            images[name] = f.convert("L" if name.endswith("gray") else "RGB")
    resizes = {"resize-rgb-256": ("big_rgb", 256), "resize-gray-256": ("big_gray", 256),
               "resize-rgb-72": ("big_rgb", 72), "upscale-rgb-600": ("small_rgb", 600)}
    paths = files(d)
    pool = None
    print("# PIL %s numpy %s, %d images, %d cpus" % (Image.__version__, np.__version__, len(paths),
                                                    os.cpu_count()), flush=True)
    for line in sys.stdin:
        case, reps = line.split()
        if case in resizes:
            name, size = resizes[case]
            img = images[name]
            h, w = resized_size(size, img.height, img.width)
            call = lambda: img.resize((w, h), Image.BILINEAR)  # noqa: E731
        elif case == "folder-1":
            call = lambda: np.stack([load(p) for p in paths])  # noqa: E731
        else:
            workers = int(case.split("-")[1])
            if pool is None or pool._processes != workers:
                pool = multiprocessing.Pool(workers)
            call = lambda: np.stack(pool.map(load, paths))  # noqa: E731
        best = float("inf")
        for _ in range(int(reps)):
            t = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - t)
        print("%.3f" % (best * 1e3), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    else:
        serve(sys.argv[2])
