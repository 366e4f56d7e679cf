"""Product pictures for the demo store: a category shape filled with the product's true colour (PIL)."""

from __future__ import annotations

import math
import random
from pathlib import Path


def _shape_points(shape: str, s: float, dx: float, dy: float) -> list[tuple[float, float]]:
    rel = {
        "triangle": [(0.5, 0.15), (0.85, 0.85), (0.15, 0.85)],
        "diamond": [(0.5, 0.12), (0.88, 0.5), (0.5, 0.88), (0.12, 0.5)],
        "pentagon": [(0.5, 0.15), (0.85, 0.4), (0.85, 0.85), (0.15, 0.85), (0.15, 0.4)],
        "hexagon": [(0.5 + 0.36 * math.cos(a * math.pi / 3), 0.5 + 0.36 * math.sin(a * math.pi / 3))
                    for a in range(6)],
        "tshirt": [(0.32, 0.15), (0.68, 0.15), (0.9, 0.35), (0.78, 0.46), (0.7, 0.38), (0.7, 0.86),
                   (0.3, 0.86), (0.3, 0.38), (0.22, 0.46), (0.1, 0.35)],
    }[shape]
    return [(x * s + dx, y * s + dy) for x, y in rel]


def draw_product_image(path: Path, shape: str, rgb: tuple[int, int, int], size: int, rng: random.Random) -> None:
    from PIL import Image, ImageDraw

    bg = rng.choice([(224, 224, 224), (230, 226, 218), (216, 224, 232)])
    fill = tuple(min(255, max(0, c + rng.randint(-8, 8))) for c in rgb)
    img = Image.new("RGB", (size, size), bg)
    draw = ImageDraw.Draw(img)
    s, dx, dy = float(size), rng.uniform(-0.05, 0.05) * size, rng.uniform(-0.05, 0.05) * size
    boxes = {"ellipse": (0.12, 0.3, 0.88, 0.7), "circle": (0.15, 0.15, 0.85, 0.85), "phone": (0.3, 0.12, 0.7, 0.88)}
    if shape in boxes:
        x0, y0, x1, y1 = (v * s for v in boxes[shape])
        box = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
        if shape == "phone":
            draw.rounded_rectangle(box, radius=s * 0.08, fill=fill)
        else:
            draw.ellipse(box, fill=fill)
    else:
        draw.polygon(_shape_points(shape, s, dx, dy), fill=fill)
    img.save(path, format="PNG", optimize=False)
