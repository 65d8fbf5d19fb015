"""Synthetic streaming platform: items with text, posters and trailers; users with tastes.

``generate(SynthConfig(...), out)`` writes a deterministic dataset whose latent item styles and
user tastes are saved in ``truth.npz``, so models can be checked against known answers.
"""

from recsys.datasets.synthetic.config import SynthConfig
from recsys.datasets.synthetic.writer import FORMAT, generate

__all__ = ["FORMAT", "SynthConfig", "generate"]
