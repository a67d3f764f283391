"""StyleMatch: a tiny visual-similarity recommender for checkrun's demo checklist.

Images are drawn procedurally (no downloads): each garment kind has its own
silhouette and palette, so colour and shape features separate the categories.
The same `features()` function builds the catalog (at packaging time) and embeds
the query image (at inference time), so scores are stable across runs and sizes.

    python code/stylematch.py build <model_dir>    # writes <model_dir>/catalog.npz
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# kind -> (category, palette of RGB colours)
KINDS: dict[str, tuple[str, list[tuple[int, int, int]]]] = {
    "shirt": ("upperwear", [(40, 90, 200), (60, 120, 220), (30, 70, 160)]),
    "tshirt": ("upperwear", [(220, 60, 60), (200, 40, 90), (240, 120, 80)]),
    "jeans": ("bottomwear", [(30, 50, 110), (50, 70, 130), (20, 35, 80)]),
    "shorts": ("bottomwear", [(200, 180, 120), (170, 150, 100), (220, 200, 140)]),
    "sneakers": ("footwear", [(240, 240, 240), (30, 30, 30), (120, 200, 120)]),
    "bag": ("accessories", [(120, 70, 30), (90, 50, 20), (160, 100, 50)]),
}
ITEMS_PER_KIND = 12
FEATURE_SIZE = 32


def render(kind: str, seed: int, size: tuple[int, int] = (224, 224)) -> Image.Image:
    """Draw one item of `kind`; `seed` varies colour, position and noise deterministically."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = Image.new("RGB", size, (245, 245, 240))
    draw = ImageDraw.Draw(img)
    _category, palette = KINDS[kind]
    base = np.array(palette[int(rng.integers(len(palette)))], dtype=float)
    colour = tuple(int(c) for c in np.clip(base + rng.normal(0, 12, 3), 0, 255))
    dx, dy = (rng.uniform(-0.04, 0.04, 2) * (w, h)).tolist()

    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [x0 * w + dx, y0 * h + dy, x1 * w + dx, y1 * h + dy]

    if kind in ("shirt", "tshirt"):
        sleeve = 0.55 if kind == "shirt" else 0.35
        draw.rectangle(box(0.3, 0.2, 0.7, 0.85), fill=colour)
        for x_body, x_tip in ((0.3, 0.1), (0.7, 0.9)):
            draw.polygon(
                [
                    (x_body * w + dx, 0.2 * h + dy),
                    (x_tip * w + dx, sleeve * h + dy),
                    (x_body * w + dx, (sleeve + 0.1) * h + dy),
                ],
                fill=colour,
            )
        if kind == "shirt":
            for i in range(5):
                y = 0.3 + i * 0.1
                draw.ellipse(box(0.49, y, 0.51, y + 0.02), fill=(250, 250, 250))
    elif kind in ("jeans", "shorts"):
        leg = 0.9 if kind == "jeans" else 0.55
        draw.rectangle(box(0.3, 0.15, 0.7, 0.3), fill=colour)
        draw.rectangle(box(0.3, 0.3, 0.48, leg), fill=colour)
        draw.rectangle(box(0.52, 0.3, 0.7, leg), fill=colour)
    elif kind == "sneakers":
        draw.ellipse(box(0.1, 0.45, 0.9, 0.75), fill=colour)
        draw.rectangle(box(0.1, 0.65, 0.9, 0.72), fill=(200, 200, 200))
    else:  # bag
        draw.rectangle(box(0.25, 0.4, 0.75, 0.85), fill=colour)
        draw.arc(box(0.35, 0.2, 0.65, 0.55), 180, 360, fill=colour, width=max(2, w // 40))
    noise = rng.normal(0, 6, (h, w, 3))
    arr = np.clip(np.asarray(img, dtype=float) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def features(img: Image.Image) -> np.ndarray:
    """Colour histogram + shape thumbnail, each L2-normalised, concatenated (non-negative)."""
    small = img.convert("RGB").resize((FEATURE_SIZE, FEATURE_SIZE), Image.Resampling.BILINEAR)
    arr = np.asarray(small, dtype=np.float32)
    bins = (arr // 64).astype(int)  # 4 levels per channel -> 64 colour bins
    hist = np.bincount((bins[..., 0] * 16 + bins[..., 1] * 4 + bins[..., 2]).ravel(), minlength=64)
    hist = hist.astype(np.float32)
    shape = 255.0 - arr.mean(axis=2)  # dark = garment
    shape = shape.reshape(16, 2, 16, 2).mean(axis=(1, 3)).ravel()
    parts = [hist / (np.linalg.norm(hist) or 1.0), shape / (np.linalg.norm(shape) or 1.0)]
    vec = np.concatenate(parts)
    return (vec / (np.linalg.norm(vec) or 1.0)).astype(np.float32)


def decode_image(body: bytes) -> Image.Image:
    """Open image bytes; raises ValueError for anything Pillow cannot decode."""
    try:
        img = Image.open(io.BytesIO(body))
        img.load()
    except Exception as exc:
        raise ValueError(f"input is not a decodable image ({len(body)} bytes): {exc}") from exc
    return img


def build_catalog(model_dir: Path) -> Path:
    """Render the catalog, embed it and save `catalog.npz` under `model_dir`."""
    names, categories, vectors = [], [], []
    for k_index, (kind, (category, _palette)) in enumerate(sorted(KINDS.items())):
        for i in range(ITEMS_PER_KIND):
            names.append(f"train/{category}/{kind}/{i + 1:04d}.jpg")
            categories.append(category)
            vectors.append(features(render(kind, seed=1000 * (k_index + 1) + i)))
    Path(model_dir).mkdir(parents=True, exist_ok=True)
    out = Path(model_dir) / "catalog.npz"
    np.savez_compressed(
        out, names=np.array(names), categories=np.array(categories), vectors=np.stack(vectors)
    )
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "build":
        sys.exit("usage: python code/stylematch.py build <model_dir>")
    print(build_catalog(Path(sys.argv[2])))
