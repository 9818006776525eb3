"""Exact checks and estimators computed from worlds and measurements."""
