"""Canonical bitmaps the digits generator warps: glyphs rendered with the fonts matplotlib ships, simple
shapes, offer stamps, and scikit-learn's handwritten digits upscaled.

Everything here is deterministic and cached per process: a glyph is rendered once with FreeType
(matplotlib's ``FT2Font``, no figure, no text layout engine) into a 96×96 canvas with its ink box
centred, so the per-image work in ``world.py`` is only a warp, a blur and noise.
"""

from __future__ import annotations

import functools
import os

import numpy as np
from scipy import ndimage

SIZE = 96  # canvas side in pixels
CENTRE = (SIZE - 1) / 2.0

# Characters drawn as non-digits (label X). Letters that read as a digit in some font are left out:
# O o Q D (0), I l i j J (1), Z z (2), S s (5), G b (6), T (7), B (8), g q a (9).
NONDIGIT_CHARS = tuple("ACEFHKLMNPRUVWXYcdefhkmnprtuvwxy#%&@?+=*<>$")
SHAPES = ("square", "triangle", "cross", "disk", "bars", "star", "diamond")


def font_dir() -> str:
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf")


def available_fonts() -> list[str]:
    """Font names (file stems) that matplotlib ships and that have all ten digits."""
    names = sorted(f[:-4] for f in os.listdir(font_dir()) if f.endswith(".ttf"))
    return [n for n in names if _has_digits(n)]


@functools.cache
def _font(name: str):
    from matplotlib.ft2font import FT2Font

    return FT2Font(os.path.join(font_dir(), name + ".ttf"))


@functools.cache
def _has_digits(name: str) -> bool:
    font = _font(name)
    cmap = font.get_charmap()
    # The Computer Modern symbol/extension fonts and STIX size variants map no digits.
    return all(ord(c) in cmap for c in "0123456789") and not name.startswith(
        ("STIXSize", "cmex", "cmsy", "STIXNonUni", "LastResort")
    )


def _raster(name: str, text: str, pixels: float) -> np.ndarray:
    """FreeType bitmap (uint8, tight box) of ``text`` at ``pixels`` pixels per em."""
    from matplotlib import ft2font

    font = _font(name)
    font.set_size(pixels, 72)  # at 72 dpi one point is one pixel
    flags = getattr(getattr(ft2font, "LoadFlags", None), "NO_HINTING", None)
    if flags is None:
        flags = ft2font.LOAD_NO_HINTING
    font.set_text(text, 0.0, flags=flags)
    font.draw_glyphs_to_bitmap(antialiased=True)
    img = np.asarray(font.get_image()).copy()
    ys, xs = np.nonzero(img)
    if ys.size == 0:
        return np.zeros((1, 1), np.uint8)
    return img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


@functools.cache
def _em_for_height(name: str, height: int) -> float:
    """Pixels per em at which this font's digits are ``height`` pixels tall (measured on '0'..'9')."""
    probe = 100.0
    tallest = max(_raster(name, d, probe).shape[0] for d in "0123456789")
    return probe * height / tallest


def _centre(bitmap: np.ndarray) -> np.ndarray:
    out = np.zeros((SIZE, SIZE), np.uint8)
    h, w = min(bitmap.shape[0], SIZE), min(bitmap.shape[1], SIZE)
    y, x = (SIZE - h) // 2, (SIZE - w) // 2
    out[y : y + h, x : x + w] = bitmap[:h, :w]
    return out


def _disk(radius: int) -> np.ndarray:
    r = np.arange(-radius, radius + 1)
    return (r[:, None] ** 2 + r[None, :] ** 2) <= radius * radius + radius  # a round footprint


@functools.cache
def glyph(font: str, char: str, height: int, stroke: int) -> np.ndarray:
    """uint8[96, 96]: ``char`` in ``font``, digits ``height`` px tall, ink box centred, strokes thickened by
    grey dilation with a disk of radius ``stroke`` px (0 = as the font draws it)."""
    img = _centre(_raster(font, char, _em_for_height(font, height)))
    if stroke > 0:
        img = ndimage.grey_dilation(img, footprint=_disk(stroke))
    img.flags.writeable = False
    return img


@functools.cache
def shape(kind: str, height: int, stroke: int) -> np.ndarray:
    """uint8[96, 96]: a filled geometric shape about ``height`` px across, centred (a non-digit)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] - CENTRE
    r = height / 2.0
    if kind == "square":
        m = (abs(xx) <= 0.8 * r) & (abs(yy) <= 0.8 * r)
    elif kind == "triangle":
        m = (yy <= r) & (yy >= -r) & (abs(xx) <= (yy + r) / 2 * 0.9)
    elif kind == "cross":
        m = ((abs(xx) <= r * 0.18) & (abs(yy) <= r)) | ((abs(yy) <= r * 0.18) & (abs(xx) <= r))
    elif kind == "disk":
        m = xx**2 + yy**2 <= (0.75 * r) ** 2
    elif kind == "bars":
        m = (abs(xx) <= 0.8 * r) & (np.mod(yy + r, r * 0.66) < r * 0.22) & (abs(yy) <= r)
    elif kind == "star":
        ang = np.arctan2(yy, xx)
        m = np.hypot(xx, yy) <= r * (0.55 + 0.45 * np.cos(5 * ang))
    elif kind == "diamond":
        m = abs(xx) + abs(yy) <= 0.9 * r
    else:
        raise ValueError(f"unknown shape {kind!r}; shapes are {SHAPES}")
    img = (m * 255).astype(np.uint8)
    img = ndimage.gaussian_filter(img, 0.6)  # antialiased edge, like the font rasterizer's
    if stroke > 0:
        img = ndimage.grey_dilation(img, footprint=_disk(stroke))
    img.flags.writeable = False
    return img


OFFER_AMOUNTS = ("$5", "$20", "$100", "$500")
OFFER_FONT = "DejaVuSans"


@functools.cache
def stamp(amount: int, claim: int, pixels: int) -> np.ndarray:
    """uint8[h, w]: the offer text, e.g. '$100 if 7', with ``pixels`` px per em (tight box)."""
    text = f"{OFFER_AMOUNTS[amount]} if {claim}"
    img = _raster(OFFER_FONT, text, float(pixels))
    img.flags.writeable = False
    return img


@functools.lru_cache(maxsize=1)
def handwritten_native() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits (UCI optdigits test set, 1,797 images): uint8[1797, 8, 8] in 0–255
    (the 0–16 counts scaled by 255/16), int64[1797] labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)
    labels = d.target.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def _cubic_matrix(src: int, dst: int) -> np.ndarray:
    """float64[dst, src]: bicubic (Keys 1981, a = −0.5) resampling with pixel-area alignment (each source pixel
    covers an equal cell of the output) and zeros beyond the border."""
    x = (np.arange(dst) + 0.5) * src / dst - 0.5  # output pixel centres in source pixel coordinates
    d = np.abs(x[:, None] - np.arange(src)[None, :])
    a = -0.5
    return np.where(
        d <= 1, (a + 2) * d**3 - (a + 3) * d**2 + 1, np.where(d < 2, a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a, 0.0)
    )


@functools.lru_cache(maxsize=4)
def handwritten_upscaled(side: int) -> np.ndarray:
    """uint8[1797, 96, 96]: each 8×8 digit upscaled smoothly (separable bicubic) to ``side``×``side`` and
    centred on the canvas."""
    native, _ = handwritten_native()
    u = _cubic_matrix(8, side)
    big = u @ native.astype(np.float64) @ u.T  # [1797, side, side]
    big = np.clip(np.rint(big), 0, 255).astype(np.uint8)
    out = np.zeros((native.shape[0], SIZE, SIZE), np.uint8)
    o = (SIZE - side) // 2
    out[:, o : o + side, o : o + side] = big
    out.flags.writeable = False
    return out
