"""Gymnasium ids of goodhartlab's environments (``gymnasium.make("goodhartlab/...")``).

Registered by import string, as Gymnasium's own ``entry_point``s are, so registering imports no world.
Each env exposes its finished episodes' gold through a method ``pop_gold() -> list[dict]`` (the records
since the last call), which works on one env, under ``SyncVectorEnv`` and, through ``call("pop_gold")``,
under ``AsyncVectorEnv``. Only evaluation calls it; learners never do (tests patch it to raise in training).
"""

from __future__ import annotations

ENVS: dict[str, str] = {
    "goodhartlab/TicTacToe-v0": "goodhartlab.worlds.tictactoe.env:TicTacToeEnv",
    "goodhartlab/EmbodiedTicTacToe-v0": "goodhartlab.worlds.tictactoe.env:EmbodiedTicTacToeEnv",
    "goodhartlab/CoinRun-v0": "goodhartlab.worlds.gridlevels.env:CoinRunEnv",
    "goodhartlab/Maze-v0": "goodhartlab.worlds.gridlevels.env:MazeEnv",
}


def register() -> None:
    """Register every id in :data:`ENVS` with Gymnasium (idempotent)."""
    import gymnasium

    for env_id, entry_point in ENVS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point)
