"""Amplification world: question tasks with known answers and H, the simulated human."""

from goodhartlab.worlds.amplification.human import Human
from goodhartlab.worlds.amplification.tasks import Question
from goodhartlab.worlds.amplification.world import TASKS, TaskSizes, World, build_world

__all__ = ["Human", "Question", "TASKS", "TaskSizes", "World", "build_world"]
