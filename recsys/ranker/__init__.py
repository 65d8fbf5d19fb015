"""Recommenders: a common interface, simple collaborative models, and the hybrid ranker."""
