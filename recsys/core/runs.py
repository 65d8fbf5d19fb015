"""`Run`: the one owner of the artifacts layout (create, publish, open current, list).

```
<workspace>/artifacts/
  <run-id>/              one training run, immutable once published
    manifest.json        what was trained, on which data, with which features (written last:
                         a run directory without one is incomplete, e.g. a killed train)
    models/<name>/       one directory per fitted model (arrays + manifest)
    index/               the FAISS index `recsys index` built for this run
  LATEST                 name of the run `recsys train` wrote last
  current -> <run-id>    the served run (switching it = hot reload)
```

Every state change is a rename (the manifest, LATEST, current), so a process killed at any
point leaves the old state or the new one, never a half-written file.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LATEST = "LATEST"
CURRENT = "current"
MANIFEST = "manifest.json"
MODELS = "models"
INDEX = "index"
ANSWERS = "answers"


@dataclass(frozen=True)
class Run:
    """One run directory under ``<workspace>/artifacts``."""

    path: Path

    # ------------------------------------------------------------------ finding runs
    @classmethod
    def create(cls, artifacts: Path) -> Run:
        """A new, empty run directory with a time-ordered id."""
        run_id = datetime.now(UTC).strftime("run-%Y%m%d-%H%M%S-%f")
        path = Path(artifacts) / run_id
        path.mkdir(parents=True)
        return cls(path)

    @classmethod
    def latest(cls, artifacts: Path) -> Run | None:
        """The run `recsys train` wrote last (it becomes current once published)."""
        marker = Path(artifacts) / LATEST
        if not marker.exists():
            return None
        name = marker.read_text().strip()
        path = Path(artifacts) / name
        return cls(path) if name and path.is_dir() else None

    @classmethod
    def current(cls, artifacts: Path) -> Run | None:
        """The run ``artifacts/current`` points at, or None before the first publish."""
        link = Path(artifacts) / CURRENT
        return cls(link.resolve()) if link.exists() else None

    @classmethod
    def served(cls, artifacts: Path) -> Run:
        """What serving opens: the current run, else the latest trained one.

        Raises:
            FileNotFoundError: nothing has been trained yet.
        """
        run = cls.current(artifacts) or cls.latest(artifacts)
        if run is None:
            raise FileNotFoundError(
                f"no trained run in {artifacts}: run `recsys train` and `recsys index` first"
            )
        return run

    @classmethod
    def list(cls, artifacts: Path) -> list[Run]:
        """Every complete run (one with a manifest), oldest first."""
        root = Path(artifacts)
        if not root.exists():
            return []
        found = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()]
        return [cls(p) for p in sorted(found) if (p / MANIFEST).exists()]

    # ------------------------------------------------------------------ inside one run
    @property
    def name(self) -> str:
        return self.path.name

    def model_dir(self, model: str) -> Path:
        return self.path / MODELS / model

    def has_model(self, model: str) -> bool:
        return (self.model_dir(model) / MANIFEST).exists()

    @property
    def index_dir(self) -> Path:
        return self.path / INDEX

    @property
    def answers_dir(self) -> Path:
        """Known users' answers ranked with this run before it was published."""
        return self.path / ANSWERS

    def manifest(self) -> dict[str, Any]:
        path = self.path / MANIFEST
        return json.loads(path.read_text()) if path.exists() else {}

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Write the manifest atomically: it marks the run complete, so it goes last."""
        _write_atomic(self.path / MANIFEST, json.dumps(manifest, indent=2, default=str))

    # ------------------------------------------------------------------ state changes
    def mark_latest(self) -> None:
        """Record this run as the one `recsys index` publishes next (atomically)."""
        _write_atomic(self.path.parent / LATEST, self.name)

    def fork(self) -> Run:
        """A new run holding this run's files, less its index, answers and manifest.

        For changing what a published run serves (re-indexing it) without writing into it:
        servers may be reading it, and only a switch of ``current`` makes them reload. Files
        are hard links (a run's files are never rewritten in place), copies where the
        filesystem refuses links. The caller writes the new run's manifest last.
        """
        new = Run.create(self.path.parent)

        def skip(directory: str, names: list[str]) -> set[str]:
            if Path(directory) != self.path:
                return set()
            return {n for n in names if n in (INDEX, ANSWERS, MANIFEST) or n.startswith(".")}

        shutil.copytree(
            self.path,
            new.path,
            symlinks=True,
            ignore=skip,
            copy_function=_link_or_copy,
            dirs_exist_ok=True,
        )
        return new

    def publish(self) -> Path:
        """Point ``artifacts/current`` at this run atomically (readers see old or new).

        A fresh relative symlink is created under a temporary name and renamed over
        ``current``: rename is atomic on POSIX, which lets the server hot-reload without a
        window of no run, and a relative link lets the workspace move.
        """
        link = self.path.parent / CURRENT
        if link.exists() and not link.is_symlink():
            raise FileExistsError(f"{link} exists and is not a symlink; move it away to publish")
        tmp = self.path.parent / f".current-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        os.symlink(self.name, tmp, target_is_directory=True)
        try:
            os.replace(tmp, link)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return link


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary sibling, then rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another filesystem, or one without hard links
        shutil.copy2(src, dst)
