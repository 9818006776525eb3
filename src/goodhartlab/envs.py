"""Gymnasium ids of goodhartlab's environments (``gymnasium.make("goodhartlab/...")``).

Registered by import string, as Gymnasium's own ``entry_point``s are, so registering imports no world. ``import
goodhartlab`` registers them (it imports gymnasium, never torch); ``gymnasium.make("goodhartlab.envs:goodhartlab/
TicTacToe-v0")`` also works without importing goodhartlab first (importing this module imports the package). (Gymnasium 1.x has no plugin entry-point group.)

Each env exposes its finished episodes' gold through a method ``pop_gold() -> list[dict]`` (the records since the
last call), which works on one env (``env.unwrapped.pop_gold()`` behind ``make``'s wrappers), under
``SyncVectorEnv`` and, through ``call("pop_gold")``, under ``AsyncVectorEnv``. Only evaluation calls it; learners
never do (tests patch it to raise in training). Envs whose actions can be illegal also expose ``action_masks()``
for sb3-contrib's MaskablePPO.
"""

from __future__ import annotations

import gymnasium

ENVS: dict[str, str] = {
    "goodhartlab/TicTacToe-v0": "goodhartlab.worlds.tictactoe.env:TicTacToeEnv",
    "goodhartlab/EmbodiedTicTacToe-v0": "goodhartlab.worlds.tictactoe.env:EmbodiedTicTacToeEnv",
    "goodhartlab/PreferenceShift-v0": "goodhartlab.worlds.preference.env:PreferenceShiftEnv",
    "goodhartlab/Camera-v0": "goodhartlab.worlds.camera.env:CameraEnv",
    "goodhartlab/CoinRun-v0": "goodhartlab.worlds.gridlevels.env:CoinRunEnv",
    "goodhartlab/Maze-v0": "goodhartlab.worlds.gridlevels.env:MazeEnv",
}


def register() -> None:
    """Register every id in :data:`ENVS` with Gymnasium (idempotent)."""
    for env_id, entry_point in ENVS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point)
