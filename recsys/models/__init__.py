"""Pure recommenders behind one contract (``base.Recommender``).

Importing the package imports every model so ``RECOMMENDERS`` is complete wherever it is read
(``load_recommender`` dispatch, the evaluation baselines, the contract tests); torch and
implicit stay lazy inside the models' functions, so this is cheap.
"""

from recsys.models import als, content_knn, ease, hybrid, itemknn, popularity  # noqa: F401
