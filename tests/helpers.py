"""Helpers shared by test packages (importable as ``tests.helpers``; fixtures stay in conftests).

Headless Chromium for the pages a user opens (the web page, the evaluation report).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No sandbox / GPU / background traffic: tests run as root in containers without a display or
# network, and an update check must not make a run slow or flaky.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def headless_chromium() -> Iterator:
    """A Playwright browser on the system Chromium; skips the test when either is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (run `make browser`)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def write_vector_table(uri: str, name: str, ids, vectors) -> None:
    """A plain ``id``/``vector`` LanceDB table (no lineage columns), replacing any old one.

    Stands in for `recsys embed` where a test pins its own vectors; readers must accept tables
    without the feature store's lineage columns.
    """
    import numpy as np
    import pyarrow as pa

    from features.store import FeatureStore

    vectors = np.asarray(vectors, np.float32)  # (n, d)
    table = pa.table(
        {
            "id": pa.array(np.asarray(ids, np.int64)),
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(vectors.reshape(-1)), vectors.shape[1]
            ),
        }
    )
    FeatureStore(uri).db.create_table(name, data=table, mode="overwrite")
