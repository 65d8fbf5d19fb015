"""Core: config, canonical schemas, datasets, ranker, CLI."""

__version__ = "0.1.0"
