"""Offline evaluation: temporal splits, full-ranking metrics, baselines, reports, benchmarks."""
