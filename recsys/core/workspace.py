"""Workspace layout: one directory holds canonical data, the LanceDB store and artifacts.

```
<workspace>/
  raw/<name>/          datasets as produced by `recsys data synth` (or copied in)
  data/                canonical tables (parquet) + dataset.json (media root, counts)
  lancedb/             feature store (or any LanceDB URI: Settings.lancedb_uri)
  artifacts/<run-id>/  trained models, FAISS index, manifests
  artifacts/current    symlink to the served run (switching it = hot reload)
  events/              events posted to the API (events-YYYY-MM-DD.jsonl), used by train
  reports/             evaluation reports
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKSPACE = "workspace"


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace; ``store_uri`` overrides where the LanceDB store lives."""

    root: Path
    store_uri: str | None = None

    @classmethod
    def at(cls, root: str | Path | None = None, store_uri: str | None = None) -> Workspace:
        """The workspace at ``root`` (default ``./workspace``), resolved to an absolute path."""
        return cls(Path(root or DEFAULT_WORKSPACE).expanduser().resolve(), store_uri or None)

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def lancedb_uri(self) -> str:
        return self.store_uri or str(self.root / "lancedb")

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "artifacts"

    @property
    def events_dir(self) -> Path:
        """Interaction events the API received (JSON lines), read by `recsys train`."""
        return self.root / "events"

    @property
    def cache_dir(self) -> Path:
        """Copies derived from other parts (safe to delete: they are rebuilt on demand)."""
        return self.root / "cache"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def ensure(self) -> Workspace:
        for d in (self.raw_dir, self.artifacts_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self
