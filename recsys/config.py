"""Workspace layout: one directory holds canonical data, the LanceDB store and artifacts.

```
<workspace>/
  raw/<name>/          datasets as produced by `recsys data synth` (or copied in)
  data/                canonical tables (parquet) + dataset.json (media root, counts)
  lancedb/             feature store (or any LanceDB URI via RECSYS_LANCEDB_URI)
  artifacts/<run-id>/  trained models, FAISS index, manifests
  artifacts/current    symlink to the served run (switching it = hot reload)
  events/              events posted to the API (events-YYYY-MM-DD.jsonl), used by train
  reports/             evaluation reports
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKSPACE = "workspace"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def from_env(cls, root: str | Path | None = None) -> Workspace:
        """``root`` if given, else ``$RECSYS_WORKSPACE``, else ``./workspace``."""
        chosen = root or os.environ.get("RECSYS_WORKSPACE") or DEFAULT_WORKSPACE
        return cls(Path(chosen).expanduser().resolve())

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def lancedb_uri(self) -> str:
        return os.environ.get("RECSYS_LANCEDB_URI") or str(self.root / "lancedb")

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "artifacts"

    @property
    def current_link(self) -> Path:
        return self.artifacts_dir / "current"

    @property
    def events_dir(self) -> Path:
        """Interaction events the API received (JSON lines), read by `recsys train`."""
        return self.root / "events"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def current_run(self) -> Path | None:
        """The run directory `artifacts/current` points at, or None before the first train."""
        link = self.current_link
        return link.resolve() if link.exists() else None

    def ensure(self) -> Workspace:
        for d in (self.raw_dir, self.artifacts_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self
