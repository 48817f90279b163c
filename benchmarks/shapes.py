#!/usr/bin/env python3
"""A folder of procedurally drawn colour images: the offline stand-in for a user's photos.

Each image is one shape (circle, square, triangle, cross, ring) of one colour (red, green, blue, yellow,
magenta, cyan, white, orange), of a random size and position, on a textured background (a random-direction
gradient between two dark tones plus smooth noise). Image i is a pure function of (seed, i), so a folder is
the same on every machine and can be drawn again in parts. Nothing is downloaded.

    python benchmarks/shapes.py --out /tmp/shapes --num 20000              # 64x64 JPEGs, flat
    python benchmarks/shapes.py --out /tmp/shapes_cls --num 20000 --by shape   # one subfolder per shape
    python benchmarks/shapes.py --out /tmp/shapes_1m --num 1000000 --jobs 2    # the scale probe

`attributes.csv` in --out names each file's shape, colour, size and centre (the colour benchmark's
feature network learns them; attribute coverage counts them in samples). In Python, `draw(seed, i, size)`
returns one image and its attributes without touching the disk.
"""
import argparse
import csv
import os
import sys
from multiprocessing import Pool

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle", "cross", "ring")
COLOURS = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (50, 90, 230), "yellow": (235, 220, 50),
           "magenta": (210, 60, 210), "cyan": (60, 210, 220), "white": (240, 240, 240),
           "orange": (245, 140, 30)}
COLOUR_NAMES = tuple(COLOURS)


def _background(rng, size):
    # Two dark tones along a random direction, then smooth noise (bilinear-upsampled 8x8): texture a
    # generator must learn, kept dark so every shape colour stands out.
    lo, hi = rng.uniform(0, 90, 3), rng.uniform(30, 120, 3)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    t = (np.cos(angle) * xx + np.sin(angle) * yy + 1.5) / 3.0
    img = lo + (hi - lo) * t[..., None]
    noise = Image.fromarray(rng.uniform(0, 255, (8, 8)).astype(np.uint8)).resize((size, size), Image.BILINEAR)
    img += (np.asarray(noise, np.float32)[..., None] - 127.5) * rng.uniform(0.05, 0.2)
    return np.clip(img, 0, 255).astype(np.uint8)


def draw(seed, i, size=64):
    """Image i of the set `seed`: (uint8 [size, size, 3], dict of its attributes)."""
    rng = np.random.default_rng([seed, i])
    shape, colour = SHAPES[rng.integers(len(SHAPES))], COLOUR_NAMES[rng.integers(len(COLOURS))]
    r = rng.uniform(0.14, 0.32) * size  # half the shape's extent
    cx, cy = rng.uniform(r + 1, size - r - 1, 2)
    im = Image.fromarray(_background(rng, size))
    d, fill = ImageDraw.Draw(im), COLOURS[colour]
    box = (cx - r, cy - r, cx + r, cy + r)
    if shape == "circle":
        d.ellipse(box, fill=fill)
    elif shape == "square":
        d.rectangle(box, fill=fill)
    elif shape == "triangle":
        d.polygon([(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)], fill=fill)
    elif shape == "cross":
        w = r / 3
        d.rectangle((cx - r, cy - w, cx + r, cy + w), fill=fill)
        d.rectangle((cx - w, cy - r, cx + w, cy + r), fill=fill)
    else:  # ring
        d.ellipse(box, outline=fill, width=max(2, int(r / 3)))
    return np.asarray(im), {"shape": shape, "colour": colour, "size": round(2 * r / size, 3),
                            "cx": round(cx / size, 3), "cy": round(cy / size, 3)}


def _write(job):
    out, seed, size, by, start, stop = job
    rows = []
    for i in range(start, stop):
        img, attrs = draw(seed, i, size)
        sub = attrs[by] if by else f"{i // 10000:03d}"  # at most 10,000 files a folder keeps listings fast
        name = os.path.join(sub, f"{i:07d}.jpg")
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        Image.fromarray(img).save(os.path.join(out, name), quality=90)
        rows.append({"file": name, **attrs})
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="a new folder")
    p.add_argument("--num", type=int, default=20000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--by", choices=("shape", "colour"), help="one subfolder per class (for --conditional)")
    p.add_argument("--jobs", type=int, default=1)
    a = p.parse_args()
    if a.num < 1 or a.size < 16 or a.jobs < 1:
        p.error("--num and --jobs must be >= 1 and --size >= 16")
    if os.path.exists(a.out):
        p.error(f"--out {a.out} exists; pick a new folder")
    os.makedirs(a.out)
    chunk = 5000
    jobs = [(a.out, a.seed, a.size, a.by, s, min(s + chunk, a.num)) for s in range(0, a.num, chunk)]
    with open(os.path.join(a.out, "attributes.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, ["file", "shape", "colour", "size", "cx", "cy"])
        w.writeheader()
        with Pool(a.jobs) as pool:
            for done, rows in enumerate(pool.imap(_write, jobs), 1):
                w.writerows(rows)
                print(f"\rshapes: {min(done * chunk, a.num):,} of {a.num:,} images", end="", file=sys.stderr)
    print(file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("shapes: interrupted; the folder is incomplete")
