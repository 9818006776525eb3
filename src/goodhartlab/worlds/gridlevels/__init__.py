"""Procedurally generated grid levels for goal misgeneralization (Langosco et al. 2022): a CoinRun-like run
to the right end with a coin, and a maze with a cheese. ``levels`` draws levels, ``env`` plays them
(Gymnasium single and batched vector envs), ``observer`` is the rater who watches clips."""
