"""Swap a freshly written directory into place so readers see the old or the new, never a mix."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def replace_dir(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out`` (same filesystem), replacing any previous ``out``.

    The old directory is renamed aside first and deleted last: a crash in between leaves either
    the old or the new tree at ``out``, plus at most a ``.<name>.old`` leftover.
    """
    old = out.with_name(f".{out.name}.old")
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
