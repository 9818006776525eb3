"""Explicit, named random streams derived from one run seed. No global random state.

A stream is identified by the run seed plus a path of names, e.g.
``generator(seed, "qlearning", "eps=0.1", 3)``; the same path always yields the
same stream, and different paths are statistically independent
(numpy SeedSequence spawning from hashed keys).
"""

from __future__ import annotations

import hashlib

import numpy as np


def _key(seed: int, names: tuple[object, ...]) -> list[int]:
    digest = hashlib.sha256(repr(names).encode()).digest()
    return [int(seed)] + [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def generator(seed: int, *names: object) -> np.random.Generator:
    """A numpy Generator for the stream ``names`` under ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(_key(seed, names)))


def int_seed(seed: int, *names: object) -> int:
    """A 63-bit integer seed for libraries that take one (torch.Generator.manual_seed)."""
    return int(np.random.SeedSequence(_key(seed, names)).generate_state(2, np.uint64)[0] >> 1)


def torch_generator(seed: int, *names: object):
    """A torch.Generator for the stream ``names`` under ``seed``."""
    import torch

    g = torch.Generator()
    g.manual_seed(int_seed(seed, *names))
    return g
