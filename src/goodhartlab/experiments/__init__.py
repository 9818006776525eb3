"""The catalog: one module per experiment. Importing this package registers them all."""

from goodhartlab.experiments import tictactoe  # noqa: F401
from goodhartlab.experiments import amplification  # noqa: F401
from goodhartlab.experiments import digits  # noqa: F401
from goodhartlab.experiments import debate  # noqa: F401
from goodhartlab.experiments import weak_to_strong  # noqa: F401
from goodhartlab.experiments import rlhf  # noqa: F401
from goodhartlab.experiments import goal_misgeneralization  # noqa: F401
