"""Worlds with their gold. A world never imports a learner."""
