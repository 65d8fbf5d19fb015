"""Procedural posters: genre picks palette and shape family, style dims pick layout and mood.

A poster encoder should be able to recover genre (colours, shapes) and some style (brightness,
clutter, scale, positions) from pixels alone, so image features carry the same latent as text.
"""

from __future__ import annotations

import io

import numpy as np

POSTER_SIZE = (96, 144)  # (width, height)

# (background, accent, highlight) per genre, in GENRES order.
PALETTES: tuple[tuple[tuple[int, int, int], ...], ...] = (
    ((40, 40, 48), (230, 90, 20), (250, 200, 60)),  # Action: charcoal, orange, yellow
    ((30, 90, 60), (210, 170, 90), (120, 200, 230)),  # Adventure: jungle, sand, sky
    ((120, 200, 250), (250, 120, 180), (255, 240, 120)),  # Animation: candy colours
    ((250, 220, 80), (240, 100, 60), (60, 160, 240)),  # Comedy: sunny
    ((20, 30, 50), (160, 20, 30), (200, 200, 210)),  # Crime: navy, blood, steel
    ((90, 110, 90), (200, 200, 180), (60, 60, 60)),  # Documentary: muted
    ((80, 60, 70), (190, 150, 120), (240, 230, 210)),  # Drama: warm, desaturated
    ((60, 30, 100), (170, 90, 230), (240, 200, 90)),  # Fantasy: purple, gold
    ((10, 10, 10), (120, 0, 0), (220, 220, 200)),  # Horror: black, red, bone
    ((240, 170, 190), (200, 40, 90), (255, 250, 240)),  # Romance: pinks
    ((10, 20, 60), (0, 220, 220), (180, 80, 255)),  # Sci-Fi: space, cyan, violet
    ((30, 40, 40), (0, 150, 120), (230, 230, 230)),  # Thriller: teal, white
)
# Shape family per genre: circle, rectangle, triangle, stripe, ring, diamond.
SHAPES = (1, 2, 0, 0, 3, 1, 4, 5, 2, 4, 0, 3)


def _rgb(colour) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in colour)
    return r, g, b


def _sig(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-4.0 * np.asarray(x)))


def _shade(colour: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(np.clip(c * factor, 0, 255)) for c in colour)  # type: ignore[return-value]


def style_palette(genre: int, style: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Genre palette tinted by style dims 5-10, so colours carry style within a genre too."""
    dims = len(style)
    tint = np.tanh(3.0 * np.array([style[k % dims] for k in range(5, 11)]))  # (6,)
    bg, accent, light = (np.array(c, dtype=np.float32) for c in PALETTES[genre])
    bg = np.clip(bg + 50.0 * tint[3:], 0, 255)
    accent = np.clip(accent + 70.0 * tint[:3], 0, 255)
    return bg, accent, light


def render_poster(genre: int, style: np.ndarray, seed: int):
    """PIL image of one poster; ``style`` is the item's unit latent vector."""
    from PIL import Image, ImageDraw

    width, height = POSTER_SIZE
    rng = np.random.default_rng(seed)
    bg_f, accent_f, light_f = style_palette(genre, style)
    bg, accent, light = (_rgb(c) for c in (bg_f, accent_f, light_f))
    brightness = 1.3 - 0.8 * float(_sig(style[0]))  # style dim 0 is the dark/bright axis
    top, bottom = _shade(bg, brightness * 1.2), _shade(bg, brightness * 0.6)
    ramp = np.linspace(0.0, 1.0, height)[:, None, None]  # (H, 1, 1)
    pixels = (1 - ramp) * np.array(top) + ramp * np.array(bottom)  # (H, 1, 3)
    image = Image.fromarray(np.broadcast_to(pixels, (height, width, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(image)

    n_shapes = 2 + int(round(5 * float(_sig(style[1]))))  # fast-paced -> busier poster
    scale = 8 + 26 * float(_sig(style[2]))  # epic -> bigger shapes
    dims = len(style)
    for k in range(n_shapes):
        sx, sy = style[(3 + 2 * k) % dims], style[(4 + 2 * k) % dims]
        cx = width * (0.15 + 0.7 * float(_sig(sx))) + rng.normal(0, 3)
        cy = height * (0.1 + 0.6 * float(_sig(sy))) + rng.normal(0, 3)
        r = scale * (0.6 + 0.6 * rng.random())
        colour = accent if k % 2 == 0 else light
        _shape(draw, SHAPES[genre], cx, cy, r, colour, k)
    # Title band: its height follows the style, its colour the palette.
    band = int(height * (0.12 + 0.1 * float(_sig(style[4 % dims]))))
    draw.rectangle((0, height - band, width, height), fill=_shade(accent, 0.7))
    draw.rectangle((8, height - band + 6, width - 8, height - band + 10), fill=light)
    return image


def _shape(draw, family: int, cx: float, cy: float, r: float, colour, k: int) -> None:
    box = (cx - r, cy - r, cx + r, cy + r)
    if family == 0:
        draw.ellipse(box, fill=colour)
    elif family == 1:
        draw.rectangle((cx - r, cy - r / 2, cx + r, cy + r / 2), fill=colour)
    elif family == 2:
        draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    elif family == 3:
        draw.rectangle((0, cy - r / 4, POSTER_SIZE[0], cy + r / 4), fill=colour)
    elif family == 4:
        draw.ellipse(box, outline=colour, width=max(2, int(r / 4)))
    else:
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=colour)


def poster_jpeg(genre: int, style: np.ndarray, seed: int) -> bytes:
    """JPEG bytes of one poster (deterministic for the same inputs)."""
    buffer = io.BytesIO()
    render_poster(genre, style, seed).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
