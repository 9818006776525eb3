"""Language models, tokenizer, reward models and sampling (torch + transformers)."""
