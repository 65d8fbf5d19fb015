"""LanceDB feature store: per-(entity, modality) tables, lineage, versions, point-in-time reads.

The only package that imports ``lancedb``; everything else reads through ``FeatureStore``.
"""

from features.store.aligned import AlignedVectors
from features.store.schema import (
    COMPLETIONS_TABLE,
    ENTITIES,
    ERRORS_TABLE,
    ITEM_MODALITIES,
    JOBS_TABLE,
    MODALITIES,
    USER_MODALITIES,
    table_name,
)
from features.store.store import FeatureStore

__all__ = [
    "COMPLETIONS_TABLE",
    "ENTITIES",
    "ERRORS_TABLE",
    "ITEM_MODALITIES",
    "JOBS_TABLE",
    "MODALITIES",
    "USER_MODALITIES",
    "AlignedVectors",
    "FeatureStore",
    "table_name",
]
