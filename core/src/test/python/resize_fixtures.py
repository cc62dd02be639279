#!/usr/bin/python3
"""Writes the PNG fixtures of ImageTransformTest and what torchvision's Resize and CenterCrop make of them with PIL
(resize_values.json, the pixels in hex, row-major, RGB interleaved), so the Java resize is checked byte for byte
against a PyTorch user's pipeline: Image.open, convert("L") or convert("RGB"), Resize, CenterCrop, ToTensor
(value / 255).

    /usr/bin/python3 core/src/test/python/resize_fixtures.py

torchvision is not installed here, so its two formulas are written out below (torchvision 0.14,
transforms/functional.py and functional_pil.py): Resize on a PIL image is img.resize((w, h), Image.BILINEAR), with
the size from _compute_resized_output_size; CenterCrop is center_crop. Needs Debian's python3-pil and numpy.
"""
import json
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "resources", "dev", "backprop", "data", "resize")
RNG = np.random.default_rng(11)


def resized_size(h, w, size):
    """torchvision's _compute_resized_output_size (no max_size): an int sets the shorter side, the longer one
    truncated by int(); a pair is (h, w)."""
    if isinstance(size, int):
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = size, int(size * long / short)
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
        return new_h, new_w
    return size


def resize(img, size):
    """torchvision's F.resize on a PIL image (F_pil.resize): PIL's bilinear resize to the size above."""
    h, w = resized_size(img.height, img.width, size)
    if (h, w) == (img.height, img.width):
        return img
    return img.resize((w, h), Image.BILINEAR)


def center_crop(img, crop_h, crop_w):
    """torchvision's F.center_crop: pads with 0 when the crop is larger, then crops at int(round(... / 2.0))."""
    w, h = img.size
    if crop_w > w or crop_h > h:
        left, top = (crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0
        padded = Image.new(img.mode, (w + max(crop_w - w, 0), h + max(crop_h - h, 0)), 0)
        padded.paste(img, (left, top))
        img = padded
        w, h = img.size
        if (crop_w, crop_h) == (w, h):
            return img
    top = int(round((h - crop_h) / 2.0))
    left = int(round((w - crop_w) / 2.0))
    return img.crop((left, top, left + crop_w, top + crop_h))


def write_image(name, h, w, mode):
    """An image of h x w: gradients with sharp stripes and a patch of noise, to exercise the filter's rounding on
    smooth and sharp content alike while the PNG stays small. mode True is RGB, False L; "RGBA" adds an alpha of
    noise (0 included), "P" quantizes the RGB image to a palette of 16 colours, as the files a loader converts."""
    yy, xx = np.mgrid[0:h, 0:w]
    planes = [(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), ((xx // 3 + yy // 2) % 2) * 255]
    pixels = np.stack(planes, axis=-1).astype(np.uint8)
    ph, pw = min(h, 9), min(w, 11)
    pixels[:ph, :pw] = RNG.integers(0, 256, (ph, pw, 3), dtype=np.uint8)
    if mode is False:
        img = Image.fromarray((pixels[:, :, 0] // 2 + pixels[:, :, 2] // 2).astype(np.uint8), "L")
    elif mode == "RGBA":
        alpha = RNG.integers(0, 256, (h, w, 1), dtype=np.uint8)
        alpha[0, 0] = 0
        img = Image.fromarray(np.concatenate([pixels, alpha], axis=-1), "RGBA")
    elif mode == "P":
        img = Image.fromarray(pixels, "RGB").quantize(16)
    else:
        img = Image.fromarray(pixels, "RGB")
    img.save(os.path.join(OUT, name), optimize=True)
    return name


# (name, (file, h, w, kind: True RGB, False L, "RGBA", "P"), mode, resize: int | (h, w) | None,
#  crop: (h, w) | None)
CASES = [
    ("down-37x53-to-11x17", ("a.png", 37, 53, True), "RGB", (11, 17), None),
    ("down-37x53-to-11x17-gray", ("a.png", 37, 53, True), "L", (11, 17), None),
    ("down-300x200-to-28x28", ("big.png", 300, 200, False), "L", (28, 28), None),
    ("down-7x5-to-3x2", ("small.png", 7, 5, True), "RGB", (3, 2), None),
    ("up-5x4-to-13x9", ("tiny.png", 5, 4, True), "RGB", (13, 9), None),
    ("up-5x4-to-13x9-gray", ("tiny-gray.png", 5, 4, False), "L", (13, 9), None),
    ("rows-only-37x53-to-37x9", ("a.png", 37, 53, True), "L", (37, 9), None),
    ("columns-only-37x53-to-10x53", ("a.png", 37, 53, True), "L", (10, 53), None),
    ("shorter-side-landscape", ("a.png", 37, 53, True), "RGB", 8, None),
    ("shorter-side-portrait", ("big.png", 300, 200, False), "L", 12, None),
    # margins 1 and 3: tops at round(0.5) = 0 and round(1.5) = 2; then margins of 2: at 1
    ("crop-odd-margins", ("small.png", 7, 5, True), "RGB", None, (6, 2)),
    ("crop-even-margins", ("small.png", 7, 5, True), "RGB", None, (5, 3)),
    ("resize-then-crop", ("big.png", 300, 200, False), "L", 24, (20, 21)),
    ("crop-larger-pads", ("tiny.png", 5, 4, True), "RGB", None, (8, 7)),
    ("gray-file-read-as-rgb", ("tiny-gray.png", 5, 4, False), "RGB", (6, 3), None),
    ("shorter-side-square", ("square.png", 20, 20, True), "RGB", 9, None),
    # the shorter side already the size: torchvision returns the image as it is, with no resampling
    ("shorter-side-already-the-size", ("a.png", 37, 53, True), "RGB", 37, None),
    ("shorter-side-up", ("tiny.png", 5, 4, True), "RGB", 10, None),
    ("shorter-side-up-landscape", ("a.png", 37, 53, True), "L", 40, None),
    ("shorter-side-of-one-row", ("row.png", 1, 6, True), "RGB", 4, None),
    # a crop larger along one side only: padded along it, cropped at round(...) along the other
    ("crop-wider-pads-only-the-width", ("small.png", 7, 5, True), "RGB", None, (3, 9)),
    ("crop-taller-pads-only-the-height", ("small.png", 7, 5, True), "RGB", None, (10, 2)),
    # the loader's convert("RGB") or convert("L") comes before Resize: alpha dropped, the palette looked up
    ("rgba-converted-before-resize", ("rgba.png", 9, 13, "RGBA"), "RGB", (5, 6), None),
    ("rgba-as-gray-before-resize", ("rgba.png", 9, 13, "RGBA"), "L", (5, 6), None),
    ("palette-converted-before-resize", ("palette.png", 12, 10, "P"), "RGB", 6, (5, 5)),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    written = set()
    lines = []
    for name, (file, h, w, kind), mode, size, crop in CASES:
        if file not in written:
            write_image(file, h, w, kind)
            written.add(file)
        img = Image.open(os.path.join(OUT, file)).convert(mode)
        if size is not None:
            img = resize(img, size)
        if crop is not None:
            img = center_crop(img, *crop)
        px = np.asarray(img)
        entry = {"file": file, "mode": mode, "resize": size, "crop": crop, "height": px.shape[0],
                 "width": px.shape[1], "pixels": px.tobytes().hex()}
        lines.append(json.dumps(name) + ": " + json.dumps(entry))
    with open(os.path.join(OUT, "resize_values.json"), "w") as f:  # one case a line
        f.write("{\n" + ",\n".join(lines) + "\n}\n")
    print("wrote", len(lines), "cases to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
