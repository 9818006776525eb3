"""The hand between the ball and the camera: a gripper, a ball, cameras that hide depth, and their raters.
See ``scene.py`` (rules, renders, gold), ``env.py`` (Gymnasium envs) and ``rater.py``."""
