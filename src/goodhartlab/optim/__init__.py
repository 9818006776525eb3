"""Optimizers of a signal: exact planning lives in analysis; here, learners that only see the environment."""
