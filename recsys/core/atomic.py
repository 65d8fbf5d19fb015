"""Swap a freshly written directory into place so readers see the old or the new, never a mix."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def replace_dir(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out`` (same filesystem), replacing any previous ``out``.

    The old directory is renamed aside first and deleted last, so ``out`` never holds a mix of
    both trees. Between the two renames (microseconds) ``out`` is absent; a crash exactly there
    leaves the old tree at ``.<name>.old`` and nothing at ``out`` (readers report it missing;
    rerunning the writer restores it). POSIX has no atomic directory swap through ``os``.
    """
    old = out.with_name(f".{out.name}.old")
    if out.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
