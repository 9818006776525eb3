"""Models: classifiers, judges, language models, tokenizers, reward models, sampling."""
