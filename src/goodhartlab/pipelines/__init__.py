"""Blocks that several experiments build on (below ``experiments/``, so no experiment imports another).

``qa_base``: a QA world's π_base (the tiny LM pretrained on its corpus and fine-tuned on its Q/A format, cached
by config hash, or any local Hugging Face causal LM) and sampling its answers as token ids.
"""
