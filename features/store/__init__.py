"""LanceDB feature store: per-(entity, modality) tables, lineage, versions, point-in-time reads."""

from features.store.schema import ENTITIES, ERRORS_TABLE, JOBS_TABLE, MODALITIES, table_name
from features.store.store import FeatureStore

__all__ = ["ENTITIES", "ERRORS_TABLE", "JOBS_TABLE", "MODALITIES", "FeatureStore", "table_name"]
