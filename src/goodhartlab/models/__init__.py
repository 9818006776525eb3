"""Language models for the RLHF laboratory: tokenizer, tiny causal LM, reward models, sampling."""
