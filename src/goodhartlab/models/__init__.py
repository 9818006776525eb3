"""Models: classifiers and judges (torch), the tiny language model, tokenizer, reward models and sampling (transformers)."""
