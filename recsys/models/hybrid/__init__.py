"""The hybrid ranker: content + collaborative two-tower model with a history transformer.

Heavy imports (torch) stay inside the modules' functions, so importing this package is cheap.
"""

from recsys.models.hybrid.config import HybridConfig
from recsys.models.hybrid.recommender import HybridRecommender, fit_hybrid, update_hybrid

__all__ = ["HybridConfig", "HybridRecommender", "fit_hybrid", "update_hybrid"]
