"""Feature pipeline: per-modality encoders, fusion, the LanceDB feature store and batch jobs."""
