"""Tic-tac-toe: the game engine, its MDPs (plain and embodied), reward specs, the intended goal, and Gymnasium envs."""
