"""The catalog: one module per experiment. Importing this package registers them all."""

from goodhartlab.experiments import tictactoe  # noqa: F401
