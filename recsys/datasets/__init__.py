"""Datasets: the synthetic multimodal demo catalog and the MovieLens adapter."""
