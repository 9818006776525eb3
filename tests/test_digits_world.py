"""The digits generator: determinism, labels on constructed cases, and the shifts differ as stated."""

from __future__ import annotations

import numpy as np
import pytest

from goodhartlab.worlds.digits import (
    DISTRIBUTIONS,
    LABEL_X,
    SHIFTS,
    DigitsWorld,
    DigitsWorldConfig,
    NoisyRater,
    downsample28,
)
from goodhartlab.worlds.digits.config import TRAIN_FONTS, UNSEEN_FONTS


@pytest.fixture(scope="module")
def world():
    return DigitsWorld()


def _ink_centroid(images):
    w = images.astype(float)
    ar = np.arange(images.shape[1])
    tot = w.sum(axis=(1, 2))
    return (w.sum(axis=2) @ ar) / tot, (w.sum(axis=1) @ ar) / tot


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_same_seed_same_batch(world, distribution):
    a = world.sample(40, distribution, np.random.default_rng(7))
    b = DigitsWorld(DigitsWorldConfig()).sample(40, distribution, np.random.default_rng(7))
    c = world.sample(40, distribution, np.random.default_rng(8))
    assert a.images.shape == (40, 96, 96) and a.images.dtype == np.uint8
    assert a.images28.shape == (40, 28, 28) and a.images28.dtype == np.uint8
    assert a.labels.dtype == np.int64 and set(a.labels) <= set(range(11))
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.offer, b.offer)
    assert a.kind == b.kind and a.detail == b.detail
    assert not np.array_equal(a.images, c.images)
    np.testing.assert_array_equal(a.images28, downsample28(a.images))


def test_blank_image_is_x():
    w = DigitsWorld(DigitsWorldConfig(x_fraction=1.0, ambiguous_fraction=0.0, nondigit_mix={"blank": 1.0}))
    b = w.sample(30, "train", np.random.default_rng(0))
    assert (b.labels == LABEL_X).all() and set(b.kind) == {"nondigit"} and set(b.detail) == {"blank"}
    assert b.images.mean() < 5  # nothing drawn: only pixel noise (std ≤ 8 of 255, half of it clipped at 0)


def test_superimposed_pair_is_x():
    w = DigitsWorld(DigitsWorldConfig(x_fraction=0.0, ambiguous_fraction=1.0, superimposed_share=1.0))
    b = w.sample(30, "train", np.random.default_rng(0))
    assert (b.labels == LABEL_X).all() and set(b.detail) == {"superimposed"}
    assert (b.drawn >= 0).all() and (b.drawn[:, 0] != b.drawn[:, 1]).all()
    assert (b.offer == -1).all()


def test_occlusion_threshold_decides_the_label():
    heavy = DigitsWorld(
        DigitsWorldConfig(x_fraction=0.0, ambiguous_fraction=1.0, superimposed_share=0.0, occlusion_threshold=0.4)
    )
    b = heavy.sample(40, "train", np.random.default_rng(1))
    assert (b.labels == LABEL_X).all() and (b.occlusion >= 0.4).all() and (b.drawn[:, 0] >= 0).all()
    light = DigitsWorld(
        DigitsWorldConfig(x_fraction=0.0, ambiguous_fraction=0.0, partial_occlusion_rate=1.0, occlusion_threshold=0.4)
    )
    b = light.sample(40, "train", np.random.default_rng(1))
    assert (b.labels == b.drawn[:, 0]).all() and (b.occlusion < 0.4).all() and (b.occlusion > 0).mean() > 0.8


def test_fonts_unseen_uses_only_unseen_fonts(world):
    train = world.sample(300, "train", np.random.default_rng(2))
    shift = world.sample(300, "fonts_unseen", np.random.default_rng(2))
    used = lambda b: {d for d, k in zip(b.detail, b.kind) if k == "digit"}  # noqa: E731
    assert used(train) <= set(TRAIN_FONTS) and used(shift) <= set(UNSEEN_FONTS) and len(used(shift)) >= 3


def test_strong_transforms_move_digits_further(world):
    cfg = DigitsWorldConfig(x_fraction=0.0, ambiguous_fraction=0.0, offer_rate=0.0, partial_occlusion_rate=0.0)
    w = DigitsWorld(cfg)
    train = w.sample(300, "train", np.random.default_rng(3))
    strong = w.sample(300, "strong_transforms", np.random.default_rng(3))
    # Shift ranges ±8 vs ±16 px per axis: the spread of ink centroids roughly doubles.
    assert np.std(_ink_centroid(strong.images)[1]) > 1.5 * np.std(_ink_centroid(train.images)[1])


def test_offers_correlated_in_training_not_in_test(world):
    # 1000 images: the bounds below stay about 3 standard errors or more from the rates they bound.
    train = world.sample(1000, "train", np.random.default_rng(4))
    test = world.sample(1000, "offers_decorrelated", np.random.default_rng(4))
    st, sd = train.offer >= 0, test.offer >= 0
    # Training: offers on ~25% of digits, claim = label with chance 0.9 + 0.1/10.
    assert 0.2 < st.sum() / (train.labels < 10).sum() < 0.3
    assert np.mean(train.offer[st] == train.labels[st]) > 0.85
    # Test: every drawn digit carries an offer, its claim uniform.
    digits = np.array([k == "digit" for k in test.kind])
    assert (sd == digits).all() and np.mean(test.offer[sd] == test.labels[sd]) < 0.15


def test_handwritten_split_is_held_out(world):
    test = world.sample(500, "handwritten", np.random.default_rng(5))
    train = world.sample(500, "train_handwritten", np.random.default_rng(5))
    ids = lambda b: {int(d.split("#")[1]) for d in b.detail}  # noqa: E731
    assert not ids(test) & ids(train) and set(test.kind) == {"handwritten"}
    native, labels = world.handwritten_native()
    assert native.shape == (1797, 8, 8) and native.dtype == np.uint8 and native.max() == 255
    i = sorted(ids(test))[0]
    assert test.labels[[int(d.split("#")[1]) for d in test.detail].index(i)] == labels[i]


def test_rater_loopholes():
    w = DigitsWorld(DigitsWorldConfig(x_fraction=0.0, ambiguous_fraction=1.0))
    b = w.sample(50, "train", np.random.default_rng(6))
    said = NoisyRater(flip_rate=0.0, ambiguity_blind=True, offer_sway=0.0).label(b, np.random.default_rng(0))
    assert (said == b.drawn[:, 0]).all() and (said < LABEL_X).all()
    exact = NoisyRater(flip_rate=0.0, ambiguity_blind=False, offer_sway=0.0).label(b, np.random.default_rng(0))
    assert (exact == b.labels).all()


def test_shift_names():
    assert set(SHIFTS) == {"fonts_unseen", "strong_transforms", "handwritten", "offers_decorrelated"}
    with pytest.raises(ValueError, match="distributions are"):
        DigitsWorld().sample(3, "nope", np.random.default_rng(0))
