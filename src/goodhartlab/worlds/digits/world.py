"""The digits world: a generator of 96×96 grayscale images and their true labels in {0,…,9,X}.

Description
    The generator is the Platonic labeler: it knows what it drew. A drawn digit's label is that digit,
    whatever else is on the image (an offer stamp, a light occluder, noise). Non-digits (letters and
    symbols that cannot be read as a digit, shapes, textures, blank images, noise fields) are X.
    Ambiguous images are X: two different digits superimposed, or one digit whose ink is covered by an
    occluder at or past ``occlusion_threshold`` (the fraction of the clean digit's ink pixels, value ≥ 50%,
    under the occluder's rectangle).
Images
    ``images`` uint8[n, 96, 96], bright ink on black; ``images28`` uint8[n, 28, 28], the same images
    area-averaged to MNIST's size (Irving et al. 2018's debate works at 28×28).
Distributions
    "train" (training fonts and transforms, offers correlated with the label), "train_handwritten"
    (scikit-learn's handwritten digits, training half), and the shifts in ``SHIFTS``:
    "fonts_unseen" (fonts never used in training), "strong_transforms" (wider transform ranges),
    "handwritten" (the held-out half of scikit-learn's handwritten digits) and "offers_decorrelated"
    (every digit carries an offer whose claimed digit is uniform, independent of the label).
Randomness
    Every image comes from the ``numpy.random.Generator`` passed to ``sample``; the handwritten split
    from ``split_seed``. Same config, same generator state → the same batch, bit for bit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from goodhartlab.worlds.digits import glyphs
from goodhartlab.worlds.digits.config import DigitsWorldConfig, Transforms

LABEL_X = 10
SHIFTS = ("fonts_unseen", "strong_transforms", "handwritten", "offers_decorrelated")
DISTRIBUTIONS = ("train", "train_handwritten", *SHIFTS)
SIZE = glyphs.SIZE
INK = 0.5  # a pixel is ink when the clean drawing is at least half intensity


def _area_matrix(src: int, dst: int) -> np.ndarray:
    """float32[dst, src]: row i averages the source pixels under destination pixel i (exact overlaps)."""
    edges = np.linspace(0, src, dst + 1)
    m = np.zeros((dst, src), np.float64)
    for i in range(dst):
        lo, hi = edges[i], edges[i + 1]
        for j in range(int(np.floor(lo)), int(np.ceil(hi))):
            m[i, j] = min(hi, j + 1) - max(lo, j)
    return (m / m.sum(axis=1, keepdims=True)).astype(np.float32)


def downsample(images: np.ndarray, side: int) -> np.ndarray:
    """uint8[n, 96, 96] → uint8[n, side, side] by area averaging (side ≤ 96)."""
    if side == images.shape[-1]:
        return images
    m = _area_matrix(images.shape[-1], side)
    return np.clip(np.rint(m @ images.astype(np.float32) @ m.T), 0, 255).astype(np.uint8)


def downsample28(images: np.ndarray) -> np.ndarray:
    """uint8[n, 96, 96] → uint8[n, 28, 28] (MNIST's size) by area averaging."""
    return downsample(images, 28)


@dataclass(frozen=True)
class DigitsBatch:
    """Images with the generator's labels. The label and ``drawn``/``occlusion``/``detail`` are the truth:
    an experiment may hand a learner only images (and labels from a rater, or the proxy it trains on)."""

    images: np.ndarray  # uint8[n, 96, 96]
    images28: np.ndarray  # uint8[n, 28, 28]
    labels: np.ndarray  # int64[n] in 0..10 (LABEL_X = 10)
    kind: list[str]  # "digit" | "handwritten" | "nondigit" | "ambiguous"
    offer: np.ndarray  # int64[n]: digit the stamped offer claims, -1 if none
    drawn: np.ndarray  # int64[n, 2]: digits drawn (a pair when superimposed), -1 for none
    detail: list[str]  # font name, non-digit kind, "superimposed" or "occluded"
    occlusion: np.ndarray  # float32[n]: share of the digit's ink under an occluder (0 if none)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx) -> DigitsBatch:
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.nonzero(idx)[0]
        return DigitsBatch(
            self.images[idx],
            self.images28[idx],
            self.labels[idx],
            [self.kind[i] for i in idx],
            self.offer[idx],
            self.drawn[idx],
            [self.detail[i] for i in idx],
            self.occlusion[idx],
        )

    @staticmethod
    def concat(batches: list[DigitsBatch]) -> DigitsBatch:
        return DigitsBatch(
            np.concatenate([b.images for b in batches]),
            np.concatenate([b.images28 for b in batches]),
            np.concatenate([b.labels for b in batches]),
            [k for b in batches for k in b.kind],
            np.concatenate([b.offer for b in batches]),
            np.concatenate([b.drawn for b in batches]),
            [d for b in batches for d in b.detail],
            np.concatenate([b.occlusion for b in batches]),
        )


class DigitsWorld:
    """Draws batches from the named distributions; see the module docstring."""

    def __init__(self, config: DigitsWorldConfig | None = None):
        self.config = config or DigitsWorldConfig()
        native, labels = glyphs.handwritten_native()
        perm = np.random.default_rng(self.config.split_seed).permutation(len(labels))
        n_test = int(round(self.config.handwritten_test_fraction * len(labels)))
        self.handwritten_split = {"handwritten": np.sort(perm[:n_test]), "train_handwritten": np.sort(perm[n_test:])}
        self._nd_kinds = list(self.config.nondigit_mix)
        w = np.array([self.config.nondigit_mix[k] for k in self._nd_kinds], float)
        self._nd_p = w / w.sum()

    # -- public -------------------------------------------------------------------------------------
    def handwritten_native(self) -> tuple[np.ndarray, np.ndarray]:
        """scikit-learn's digits at their native 8×8: uint8[1797, 8, 8] in 0–255 and int64[1797] labels."""
        return glyphs.handwritten_native()

    def sample(self, n: int, distribution: str, rng: np.random.Generator) -> DigitsBatch:
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {distribution!r}; distributions are {', '.join(DISTRIBUTIONS)}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if distribution in ("handwritten", "train_handwritten"):
            return self._handwritten(n, distribution, rng)
        c = self.config
        fonts = c.unseen_fonts if distribution == "fonts_unseen" else c.train_fonts
        tf = c.strong_transforms if distribution == "strong_transforms" else c.transforms

        u = rng.random(n)
        category = np.where(u < c.x_fraction, 1, np.where(u < c.x_fraction + c.ambiguous_fraction, 2, 0))
        superimposed = (category == 2) & (rng.random(n) < c.superimposed_share)
        heavy = (category == 2) & ~superimposed
        mild = (category == 0) & (rng.random(n) < c.partial_occlusion_rate)
        nd_kind = np.where(category == 1, rng.choice(len(self._nd_kinds), n, p=self._nd_p), -1)

        labels = np.full(n, LABEL_X, np.int64)
        drawn = np.full((n, 2), -1, np.int64)
        digits = rng.integers(0, 10, n)
        second = (digits + rng.integers(1, 10, n)) % 10  # a different digit for superimposed pairs
        has_digit = (category == 0) | (category == 2)
        drawn[has_digit, 0] = digits[has_digit]
        drawn[superimposed, 1] = second[superimposed]
        labels[category == 0] = digits[category == 0]
        kind = np.array(["digit", "nondigit", "ambiguous"], dtype=object)[category]
        detail = np.empty(n, dtype=object)

        # Layers warped from canonical bitmaps: one per digit/glyph/shape image, a second for pairs.
        font_of = rng.integers(0, len(fonts), (n, 2))
        stroke = rng.integers(tf.stroke_px[0], tf.stroke_px[1] + 1, (n, 2))
        nd_char = rng.integers(0, len(glyphs.NONDIGIT_CHARS), n)
        nd_shape = rng.integers(0, len(glyphs.SHAPES), n)
        h = c.digit_height_px
        sources, owner = [], []
        for i in range(n):
            f = fonts[font_of[i, 0]]
            if has_digit[i]:
                sources.append(glyphs.glyph(f, str(digits[i]), h, stroke[i, 0]))
                detail[i] = "superimposed" if superimposed[i] else "occluded" if heavy[i] else f
            elif category[i] == 1 and self._nd_kinds[nd_kind[i]] == "glyph":
                sources.append(glyphs.glyph(f, glyphs.NONDIGIT_CHARS[nd_char[i]], h, stroke[i, 0]))
                detail[i] = "glyph"
            elif category[i] == 1 and self._nd_kinds[nd_kind[i]] == "shape":
                sources.append(glyphs.shape(glyphs.SHAPES[nd_shape[i]], h, stroke[i, 0]))
                detail[i] = "shape"
            else:
                continue
            owner.append(i)
        for i in np.nonzero(superimposed)[0]:
            sources.append(glyphs.glyph(fonts[font_of[i, 1]], str(second[i]), h, stroke[i, 1]))
            owner.append(i)
        owner = np.asarray(owner, np.int64)
        # Pairs overlap: each layer of a pair moves at most half the usual shift from the centre.
        shift_scale = np.where(superimposed[owner], 0.5, 1.0) if len(owner) else np.zeros(0)
        layers = warp(np.stack(sources) if sources else np.zeros((0, SIZE, SIZE), np.uint8), tf, rng, shift_scale)

        img = np.zeros((n, SIZE, SIZE), np.float32)
        first = len(owner) - int(superimposed.sum())  # owners are unique up to here; pairs' second layers follow
        img[owner[:first]] = layers[:first]
        img[owner[first:]] = np.maximum(img[owner[first:]], layers[first:])

        # Non-digit fields: textures, blanks, noise.
        for name, fill in (("texture", _textures), ("blank", None), ("noise", _noise_fields)):
            if name not in self._nd_kinds:
                continue
            idx = np.nonzero(nd_kind == self._nd_kinds.index(name))[0]
            detail[idx] = name
            if fill is not None and len(idx):
                img[idx] = fill(len(idx), rng)

        # Occluders: heavy ones (X) cover at least the threshold of the ink, light ones less.
        occlusion = np.zeros(n, np.float32)
        for which, want_heavy in ((heavy, True), (mild, False)):
            idx = np.nonzero(which)[0]
            if len(idx):
                occlusion[idx] = _occlude(img, idx, c.occlusion_threshold, want_heavy, h, rng)

        # Offers on drawn digits (category 0 keeps its label; the stamp does not change what is drawn).
        offer = np.full(n, -1, np.int64)
        is_digit = category == 0
        if distribution == "offers_decorrelated":
            stamped = is_digit
            claims = rng.integers(0, 10, n)
        else:
            stamped = is_digit & (rng.random(n) < c.offer_rate)
            claims = np.where(rng.random(n) < c.offer_label_correlation, digits, rng.integers(0, 10, n))
        # Drawn for every image, stamped or not, so a twin config differing only in offers yields the same
        # images apart from the stamps (the offers experiment's control).
        amount = rng.integers(0, len(glyphs.OFFER_AMOUNTS), n)
        top = rng.random(n) < 0.5
        margin = rng.integers(1, 4, n)
        across = rng.random(n)
        for i in np.nonzero(stamped)[0]:
            s = glyphs.stamp(int(amount[i]), int(claims[i]), c.offer_px).astype(np.float32) / 255.0
            sh, sw = s.shape
            y = int(margin[i]) if top[i] else SIZE - sh - int(margin[i])
            x = 1 + int(across[i] * max(1, SIZE - sw - 2))
            region = img[i, y : y + sh, x : x + sw]
            np.maximum(region, s[: region.shape[0], : region.shape[1]], out=region)
            offer[i] = claims[i]

        out = finish(img, tf, rng)
        return DigitsBatch(out, downsample28(out), labels, list(kind), offer, drawn, list(detail), occlusion)

    # -- handwritten --------------------------------------------------------------------------------
    def _handwritten(self, n: int, split: str, rng: np.random.Generator) -> DigitsBatch:
        pool = self.handwritten_split[split]
        idx = pool[rng.choice(len(pool), n, replace=n > len(pool))]
        _, labels = glyphs.handwritten_native()
        images = np.ascontiguousarray(glyphs.handwritten_upscaled(self.config.handwritten_px)[idx])
        drawn = np.stack([labels[idx], np.full(n, -1)], axis=1).astype(np.int64)
        return DigitsBatch(
            images,
            downsample28(images),
            labels[idx].copy(),
            ["handwritten"] * n,
            np.full(n, -1, np.int64),
            drawn,
            [f"sklearn#{i}" for i in idx],
            np.zeros(n, np.float32),
        )


# -- image operations (vectorized over a batch) ------------------------------------------------------
_AXIS = np.arange(SIZE, dtype=np.float32)
_CHUNK = 256  # images warped per vectorized step: keeps the index arrays in cache


def warp(sources: np.ndarray, tf: Transforms, rng: np.random.Generator, shift_scale: np.ndarray) -> np.ndarray:
    """uint8[m, 96, 96] canonical bitmaps → float32[m, 96, 96] in [0, 1], each scaled, rotated, sheared and
    shifted about the canvas centre with parameters drawn from ``tf`` (bilinear, zero outside the canvas).

    Vectorized over the batch: one gather per corner for all images, instead of one scipy call per image."""
    m = len(sources)
    s = rng.uniform(*tf.scale, m)
    th = np.deg2rad(rng.uniform(-tf.rotation_deg, tf.rotation_deg, m))
    k = rng.uniform(-tf.shear, tf.shear, m)
    shift = rng.uniform(-tf.shift_px, tf.shift_px, (m, 2)) * shift_scale[:, None]
    # Forward map in (row, col): out = c + shift + s·R(θ)·Shear(k)·(src − c); sampling needs the inverse.
    cos, sin = np.cos(th), np.sin(th)
    fwd = (
        s[:, None, None]
        * np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1)
        @ np.stack([np.stack([np.ones(m), np.zeros(m)], 1), np.stack([k, np.ones(m)], 1)], 1)
    )
    inv = np.linalg.inv(fwd).astype(np.float32) if m else np.zeros((0, 2, 2), np.float32)
    c = glyphs.CENTRE
    off = (c - np.einsum("mij,mj->mi", inv, c + shift)).astype(np.float32) + 1.0  # +1: the padded border
    pad = SIZE + 2
    out = np.empty((m, SIZE, SIZE), np.float32)
    for lo in range(0, m, _CHUNK):
        hi = min(m, lo + _CHUNK)
        src = np.zeros((hi - lo, pad, pad), np.float32)
        src[:, 1:-1, 1:-1] = sources[lo:hi]
        src *= 1.0 / 255.0
        iv, of = inv[lo:hi], off[lo:hi]
        # Source coordinates as a sum of a row term and a column term: float32[b, 96, 96] in one pass each.
        sy = (iv[:, 0, 0, None] * _AXIS + of[:, 0, None])[:, :, None] + (iv[:, 0, 1, None] * _AXIS)[:, None, :]
        sx = (iv[:, 1, 0, None] * _AXIS + of[:, 1, None])[:, :, None] + (iv[:, 1, 1, None] * _AXIS)[:, None, :]
        np.clip(sy, 0, pad - 1.001, out=sy)  # outside the canvas lands in the zero border
        np.clip(sx, 0, pad - 1.001, out=sx)
        y0, x0 = sy.astype(np.int32), sx.astype(np.int32)
        sy -= y0
        sx -= x0
        base = (np.arange(hi - lo, dtype=np.int32) * (pad * pad))[:, None, None] + y0 * pad + x0
        flat = src.ravel()
        a, b = flat[base], flat[base + 1]
        top = a + sx * (b - a)
        a, b = flat[base + pad], flat[base + pad + 1]
        bot = a + sx * (b - a)
        out[lo:hi] = top + sy * (bot - top)
    return out


NOISE_BANK = 1024


@functools.lru_cache(maxsize=1)
def _noise_bank() -> np.ndarray:
    """float32[1024, 1024] standard normal, fixed. Pixel noise is a crop of it at a random offset and sign:
    one copy per image instead of 9,216 normal draws (crops that do not overlap are independent)."""
    return np.random.default_rng(20180502).standard_normal((NOISE_BANK, NOISE_BANK), dtype=np.float32)


def finish(img: np.ndarray, tf: Transforms, rng: np.random.Generator) -> np.ndarray:
    """float32[n, 96, 96] in [0, 1] → uint8: Gaussian blur (sigma quantized to 0.25 px so equal sigmas are
    filtered together), then additive Gaussian noise, rounded and clipped to 0–255."""
    n = len(img)
    sigma = np.round(rng.uniform(*tf.blur_sigma, n) * 4) / 4
    for s in np.unique(sigma[sigma > 0]):
        idx = np.nonzero(sigma == s)[0]
        img[idx] = ndimage.gaussian_filter(img[idx], (0, s, s), truncate=3.0)
    img *= 255.0
    std = rng.uniform(*tf.noise_std, n).astype(np.float32) * np.where(rng.random(n) < 0.5, -1, 1)
    oy, ox = rng.integers(0, NOISE_BANK - SIZE, (2, n))
    if tf.noise_std[1] > 0:
        bank = _noise_bank()
        for i in range(n):
            img[i] += std[i] * bank[oy[i] : oy[i] + SIZE, ox[i] : ox[i] + SIZE]
    img += 0.5  # round half up on the cast below
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8)


def _textures(m: int, rng: np.random.Generator) -> np.ndarray:
    """Gratings (random frequency, orientation, phase) and checkerboards, random contrast."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    freq = rng.uniform(1 / 16, 1 / 5, m)[:, None, None]
    phi = rng.uniform(0, np.pi, m)[:, None, None]
    phase = rng.uniform(0, 2 * np.pi, m)[:, None, None]
    grating = 0.5 + 0.5 * np.sin(2 * np.pi * freq * (xx * np.cos(phi) + yy * np.sin(phi)) + phase)
    cell = rng.integers(6, 17, m)[:, None, None]
    checker = ((xx // cell + yy // cell) % 2).astype(np.float32)
    pick = (rng.random(m) < 0.5)[:, None, None]
    contrast = rng.uniform(0.4, 1.0, m)[:, None, None]
    return (np.where(pick, grating, checker) * contrast).astype(np.float32)


def _noise_fields(m: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth random blobs: a 12×12 uniform field upscaled ×8 and blurred, random contrast."""
    coarse = rng.random((m, 12, 12), dtype=np.float32)
    field = np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2)
    field = ndimage.gaussian_filter(field, (0, 4, 4))
    lo = field.min(axis=(1, 2), keepdims=True)
    hi = field.max(axis=(1, 2), keepdims=True)
    return ((field - lo) / np.maximum(hi - lo, 1e-6) * rng.uniform(0.4, 1.0, m)[:, None, None]).astype(np.float32)


def _occlude(
    img: np.ndarray,
    idx: np.ndarray,
    threshold: float,
    heavy: bool,
    height: int,
    rng: np.random.Generator,
    tries: int = 30,
) -> np.ndarray:
    """Paint a flat grey rectangle over each image in ``idx``: covering at least ``threshold`` of its ink
    (``heavy``) or a nonzero share below it. Rejection sampling; a heavy image that never reaches the
    threshold gets its whole ink box covered, a light one no occluder. Returns the covered ink shares."""
    ink = img[idx] >= INK  # bool[k, 96, 96]
    total = ink.sum(axis=(1, 2)).astype(np.float32)
    rows_any, cols_any = ink.any(axis=2), ink.any(axis=1)
    ar = np.arange(SIZE)
    cy = (ink.sum(axis=2) * ar).sum(axis=1) / np.maximum(total, 1)
    cx = (ink.sum(axis=1) * ar).sum(axis=1) / np.maximum(total, 1)
    k = len(idx)
    box = np.zeros((k, 4), np.int64)  # y0, y1, x0, x1 (exclusive)
    frac = np.zeros(k, np.float32)
    todo = np.arange(k)
    for _ in range(tries):
        if not len(todo):
            break
        j = len(todo)
        if heavy:
            hh = rng.uniform(0.5, 1.1, j) * height
            ww = rng.uniform(0.5, 1.1, j) * height
            y0 = cy[todo] - hh / 2 + rng.uniform(-12, 12, j)
            x0 = cx[todo] - ww / 2 + rng.uniform(-12, 12, j)
        else:
            hh = rng.uniform(8, 0.5 * height, j)
            ww = rng.uniform(8, 0.5 * height, j)
            y0 = cy[todo] - hh / 2 + rng.uniform(-0.4, 0.4, j) * height
            x0 = cx[todo] - ww / 2 + rng.uniform(-0.4, 0.4, j) * height
        b = np.stack([y0, y0 + hh, x0, x0 + ww], axis=1).round().astype(np.int64).clip(0, SIZE)
        r = (ar >= b[:, 0:1]) & (ar < b[:, 1:2])
        cc = (ar >= b[:, 2:3]) & (ar < b[:, 3:4])
        covered = np.einsum("ky,kyx,kx->k", r.astype(np.float32), ink[todo].astype(np.float32), cc.astype(np.float32))
        f = covered / np.maximum(total[todo], 1)
        ok = (f >= threshold) if heavy else ((f > 0.05) & (f < threshold))
        box[todo[ok]] = b[ok]
        frac[todo[ok]] = f[ok]
        todo = todo[~ok]
    for t in todo:  # fallbacks, see docstring
        if heavy and total[t] > 0:
            ys, xs = np.nonzero(rows_any[t])[0], np.nonzero(cols_any[t])[0]
            box[t] = [ys[0], ys[-1] + 1, xs[0], xs[-1] + 1]
            frac[t] = 1.0
        elif heavy:  # no ink at all (cannot happen for a drawn digit): still X, nothing to cover
            frac[t] = 1.0
    grey = rng.uniform(0.35, 0.75, k).astype(np.float32)
    for t, i in enumerate(idx):
        y0, y1, x0, x1 = box[t]
        img[i, y0:y1, x0:x1] = grey[t]
    return frac
