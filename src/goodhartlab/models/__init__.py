"""Models: classifiers, judges, language models, reward models."""
