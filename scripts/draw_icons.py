"""Draw the inbox's app icons (src/causerie/inbox/icons/*.png) with Pillow; run once when the
design changes and commit the PNGs: `.venv/bin/pip install pillow && .venv/bin/python
scripts/draw_icons.py`. The server only serves the committed files."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "src" / "causerie" / "inbox" / "icons"
BLUE = (59, 91, 219, 255)
WHITE = (255, 255, 255, 255)
SCALE = 4  # drawn this many times larger, then reduced: smooth edges


def draw(size: int, *, maskable: bool) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), BLUE if maskable else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if not maskable:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BLUE)
    # A speech bubble: inside the maskable safe zone (the central 80%) either way.
    inset = big * (0.28 if maskable else 0.22)
    left, top, right, bottom = inset, inset, big - inset, big - inset * 1.25
    pen.rounded_rectangle((left, top, right, bottom), radius=(bottom - top) // 3, fill=WHITE)
    tail = [
        (left + (right - left) * 0.22, bottom - 2),
        (left + (right - left) * 0.18, bottom + (big - inset - bottom) * 0.95),
        (left + (right - left) * 0.45, bottom - 2),
    ]
    pen.polygon(tail, fill=WHITE)
    dot = (bottom - top) * 0.09
    for at in (0.3, 0.5, 0.7):
        cx, cy = left + (right - left) * at, (top + bottom) / 2
        pen.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=BLUE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(OUT / "maskable-512.png", optimize=True)
    draw(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
