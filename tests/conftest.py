"""Shared fixtures: a tiny deterministic synthetic dataset and workspaces built from it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from recsys.core.workspace import Workspace
from tests.worlds import blocks, interactions, make_frame, unit_vectors  # noqa: F401 (fixtures)

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
MOVIELENS_DIR = REPO_ROOT.parent / "shared" / "data" / "ml-latest-small"
TINY = {"items": 80, "users": 60, "interactions": 2000, "seed": 0}


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory) -> Path:
    """Output of `recsys data synth` at a tiny size, media included (read-only: do not modify)."""
    from recsys.datasets.synthetic import SynthConfig, generate

    out = tmp_path_factory.mktemp("tiny-synth")
    generate(SynthConfig(media=True, **TINY), out)
    return out


@pytest.fixture(scope="session")
def _tiny_preprocessed(tiny_dataset_dir, tmp_path_factory) -> Workspace:
    from recsys.datasets.preprocess import preprocess

    ws = Workspace(tmp_path_factory.mktemp("tiny-ws")).ensure()
    preprocess(tiny_dataset_dir, ws)
    return ws


@pytest.fixture
def tiny_workspace(_tiny_preprocessed, tmp_path) -> Workspace:
    """A fresh workspace per test with the tiny dataset already preprocessed into data/."""
    ws = Workspace(tmp_path / "ws").ensure()
    shutil.copytree(_tiny_preprocessed.data_dir, ws.data_dir)
    return ws


@pytest.fixture(scope="session")
def movielens_dir() -> Path:
    if not (MOVIELENS_DIR / "ratings.csv").exists():
        pytest.skip(f"MovieLens latest-small not found at {MOVIELENS_DIR}")
    return MOVIELENS_DIR


@pytest.fixture
def one_thread():
    """Torch on one thread for the test (``pytest.mark.usefixtures("one_thread")``).

    Tiny tensors: thread hand-off costs more than it saves on a shared 2-core box.
    """
    import torch  # heavy: only for the tests that ask

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
