"""The gold channel: where a world writes what really happened, out of a learner's reach.

A world that is an environment takes a :class:`GoldLedger` from the evaluator
and writes each episode's gold outcome into it. Nothing gold goes into an
observation, ``info`` or a reward; a learner is handed the environment only.
(AI Safety Gridworlds keep a hidden performance function for the same reason.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class GoldLedger:
    """Per-episode gold records, appended by a world when an episode ends."""

    episodes: list[dict[str, Any]] = field(default_factory=list)

    def write(self, **record: Any) -> None:
        self.episodes.append(record)

    def clear(self) -> None:
        self.episodes.clear()
