"""Simulated raters of clips: a camera rater that judges from rendered images only, and an oracle.

A *clip* is one short episode: the states s_0 … s_T, shape (T+1, 7); a batch of clips is (B, T+1, 7).
Both raters follow :class:`goodhartlab.core.parts.Rater`: ``score`` rates behaviours, ``prefer`` gives
P(first preferred) with Boltzmann noise, P = σ(β · (score₁ − score₂)) (Christiano et al. 2017, eq. 1).

The camera rater is handed what its cameras show, never the states: :meth:`CameraRater.show` renders the
clip through its cameras (with a depth cue or not) and ``score`` reads only those images. It approves a frame
when, in every camera it has, the ball is hidden behind a *closed* gripper at the pixel where the ball was
last seen ("hand over the ball and gripper closed") and, with a depth cue, the gripper is drawn at the depth
the ball was last seen at. Frames are scored after each action: a clip's score is its number of approved
frames among s_1 … s_T.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from goodhartlab.worlds.camera import scene


def _boltzmann(s1: np.ndarray, s2: np.ndarray, beta: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-beta * (np.asarray(s1, float) - np.asarray(s2, float))))


@dataclass(frozen=True)
class Shown:
    """What a camera rater sees of a batch of clips: per camera, pixel codes (B, T+1, n, n) and, with a depth
    cue, depth maps of the same shape (else ``None``)."""

    codes: dict[str, np.ndarray]
    depth: dict[str, np.ndarray | None]


@dataclass(frozen=True)
class CameraRater:
    """Judges clips from renders of ``cameras`` (``depth_cue``: with a depth map). ``beta``: Boltzmann
    rationality per approved frame of difference."""

    size: int
    cameras: tuple[str, ...] = ("front",)
    depth_cue: bool = False
    beta: float = 1.0

    def __post_init__(self) -> None:
        if not self.cameras or any(c not in scene.CAMERAS for c in self.cameras):
            raise ValueError(f"cameras must be a non-empty subset of {scene.CAMERAS}, got {self.cameras}")

    def show(self, clips: np.ndarray) -> Shown:
        """Render ``clips`` (B, T+1, 7) through this rater's cameras."""
        b, t1, _ = clips.shape
        flat = clips.reshape(b * t1, 7)
        codes, depth = {}, {}
        for camera in self.cameras:
            c, d = scene.render(flat, camera, self.size)
            codes[camera] = c.reshape(b, t1, self.size, self.size)
            depth[camera] = d.reshape(b, t1, self.size, self.size) if self.depth_cue else None
        return Shown(codes, depth)

    def approved_frames(self, shown: Shown) -> np.ndarray:
        """Bool (B, T+1): the frames this rater approves, from the images alone."""
        out = None
        for camera in self.cameras:
            codes = shown.codes[camera]
            b, t1, n, _ = codes.shape
            flat = codes.reshape(b, t1, n * n)
            ball_seen = (flat == scene.BALL).any(axis=2)
            ball_pix = (flat == scene.BALL).argmax(axis=2)
            # The pixel (and depth) where the ball was last seen, carried forward through frames it is hidden.
            last = np.maximum.accumulate(np.where(ball_seen, np.arange(t1)[None, :], -1), axis=1)
            known = last >= 0
            ref = np.take_along_axis(ball_pix, np.maximum(last, 0), axis=1)
            at_ref = np.take_along_axis(flat, ref[:, :, None], axis=2)[:, :, 0]
            ok = known & ~ball_seen & (at_ref == scene.HAND_CLOSED)
            dmap = shown.depth[camera]
            if dmap is not None:
                dflat = dmap.reshape(b, t1, n * n)
                ball_depth = np.take_along_axis(
                    np.take_along_axis(dflat, ref[:, :, None], axis=2)[:, :, 0], np.maximum(last, 0), axis=1
                )
                hand_depth = np.take_along_axis(dflat, ref[:, :, None], axis=2)[:, :, 0]
                ok &= hand_depth == ball_depth
            out = ok if out is None else out & ok
        return out

    def score(
        self, situations: Sequence[Any] | None, behaviours: Shown, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Approved frames among s_1 … s_T of each clip: float (B,)."""
        return self.approved_frames(behaviours)[:, 1:].sum(axis=1).astype(float)

    def prefer(
        self, situations: Sequence[Any] | None, first: Shown, second: Shown, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        return _boltzmann(self.score(situations, first), self.score(situations, second), self.beta)

    def approves_end(self, shown: Shown) -> np.ndarray:
        """Bool (B,): the rater approves the clip's last frame (the outcome a rater-based evaluation reports)."""
        return self.approved_frames(shown)[:, -1]


@dataclass(frozen=True)
class OracleRater:
    """Compares clips with the true state: approves exactly the frames with a real grasp. Same Boltzmann
    noise as the camera rater. ``show`` hands it the states themselves."""

    size: int
    beta: float = 1.0

    def show(self, clips: np.ndarray) -> np.ndarray:
        return np.asarray(clips)

    def approved_frames(self, shown: np.ndarray) -> np.ndarray:
        b, t1, _ = shown.shape
        return scene.grasped(shown.reshape(b * t1, 7)).reshape(b, t1)

    def score(
        self, situations: Sequence[Any] | None, behaviours: np.ndarray, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        return self.approved_frames(behaviours)[:, 1:].sum(axis=1).astype(float)

    def prefer(
        self,
        situations: Sequence[Any] | None,
        first: np.ndarray,
        second: np.ndarray,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        return _boltzmann(self.score(situations, first), self.score(situations, second), self.beta)

    def approves_end(self, shown: np.ndarray) -> np.ndarray:
        return self.approved_frames(shown)[:, -1]
