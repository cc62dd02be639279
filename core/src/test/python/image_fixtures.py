#!/usr/bin/python3
"""Writes the PNG fixtures of ImageFileTest and PIL's pixel values for them (pil_values.json), so the Java reader
is checked against what a PyTorch user's pipeline sees: PIL's Image.open, then convert("RGB") (torchvision's
ImageFolder loader) or convert("L") (its Grayscale transform), then ToTensor's value / 255.

    /usr/bin/python3 core/src/test/python/image_fixtures.py

PIL reads a 16-bit PNG's colour channels as their high byte ("RGB;16B"), but keeps a 16-bit gray one as mode I;16,
which its own convert() clips at 255 instead of scaling: the values recorded for 16-bit gray are that image's
high bytes, as PIL reads every other 16-bit PNG. PNGs PIL cannot write (16-bit RGB, 4-bit gray) are written here
chunk by chunk. Two JPEGs, whose decoded values a JPEG decoder may round differently, go with PIL's values
for a closeness check. Needs Debian's python3-pil and numpy.
"""
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "resources", "dev", "backprop", "data", "images")
H, W = 5, 7
RNG = np.random.default_rng(7)


def raw_png(path, width, height, bit_depth, color_type, rows):
    """A PNG of the given IHDR whose scanlines are `rows` (bytes each, filter type 0 prepended here)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\x00" + r for r in rows))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def write_fixtures():
    files = {}
    gray = RNG.integers(0, 256, (H, W), dtype=np.uint8)
    gray[0, 0], gray[0, 1] = 0, 255
    Image.fromarray(gray, "L").save(os.path.join(OUT, "gray.png"))
    rgb = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
    Image.fromarray(rgb, "RGB").save(os.path.join(OUT, "rgb.png"))
    rgba = RNG.integers(0, 256, (H, W, 4), dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(os.path.join(OUT, "rgba.png"))
    la = RNG.integers(0, 256, (H, W, 2), dtype=np.uint8)
    Image.fromarray(la, "LA").save(os.path.join(OUT, "gray-alpha.png"))
    palette = Image.fromarray(RNG.integers(0, 6, (H, W), dtype=np.uint8), "P")
    palette.putpalette([255, 0, 0, 0, 128, 0, 10, 20, 30, 200, 200, 200, 1, 2, 3, 90, 0, 250])
    palette.save(os.path.join(OUT, "palette.png"), transparency=2)
    g16 = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
    raw_png(os.path.join(OUT, "gray16.png"), W, H, 16, 0, [g16[y].astype(">u2").tobytes() for y in range(H)])
    c16 = RNG.integers(0, 65536, (H, W, 3), dtype=np.uint16)
    raw_png(os.path.join(OUT, "rgb16.png"), W, H, 16, 2, [c16[y].astype(">u2").tobytes() for y in range(H)])
    g4 = RNG.integers(0, 16, (H, W), dtype=np.uint8)
    rows4 = []
    for y in range(H):
        padded = list(g4[y]) + [0] * (W % 2)
        rows4.append(bytes((padded[i] << 4) | padded[i + 1] for i in range(0, len(padded), 2)))
    raw_png(os.path.join(OUT, "gray4.png"), W, H, 4, 0, rows4)
    for name in ["gray", "rgb", "rgba", "gray-alpha", "palette", "gray16", "rgb16", "gray4"]:
        files[name + ".png"] = values(os.path.join(OUT, name + ".png"))
    # JPEG: smooth content, since a decoder's rounding (the Java test's tolerance) is what differs, not the content.
    yy, xx = np.mgrid[0:16, 0:24]
    smooth = np.stack([xx * 10, yy * 15, 255 - xx * 5 - yy * 5], axis=-1).astype(np.uint8)
    Image.fromarray(smooth, "RGB").save(os.path.join(OUT, "smooth.jpg"), quality=95)
    Image.fromarray(smooth[:, :, 0], "L").save(os.path.join(OUT, "smooth-gray.jpg"), quality=95)
    for name in ["smooth.jpg", "smooth-gray.jpg"]:
        files[name] = values(os.path.join(OUT, name))
    return files


def values(path):
    """PIL's 8-bit values: the image as RGB (H x W x 3) and as L (H x W), and its mode."""
    img = Image.open(path)
    if img.mode in ("I", "I;16", "I;16B"):
        high = (np.asarray(img).astype(np.int64) >> 8).astype(np.uint8)
        img = Image.fromarray(high, "L")
    rgb = np.asarray(img.convert("RGB"))
    gray = np.asarray(img.convert("L"))
    return {"mode": Image.open(path).mode, "height": rgb.shape[0], "width": rgb.shape[1],
            "rgb": rgb.reshape(-1).tolist(), "gray": gray.reshape(-1).tolist()}


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    fixtures = write_fixtures()
    with open(os.path.join(OUT, "pil_values.json"), "w") as f:  # one fixture a line
        f.write("{\n" + ",\n".join(json.dumps(k) + ": " + json.dumps(v) for k, v in fixtures.items()) + "\n}\n")
    print("wrote", len(fixtures), "fixtures to", os.path.normpath(OUT))
