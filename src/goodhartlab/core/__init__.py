"""Shared records, seeded randomness, the config base and the experiment registry."""
