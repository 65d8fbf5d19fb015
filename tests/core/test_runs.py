"""`Run`: the artifacts layout in one place (create, mark latest, publish, open, list)."""

from __future__ import annotations

import os

import pytest

from recsys.core.runs import Run


def test_lifecycle(tmp_path):
    artifacts = tmp_path / "artifacts"
    assert Run.latest(artifacts) is None and Run.current(artifacts) is None
    with pytest.raises(FileNotFoundError, match="recsys train"):
        Run.served(artifacts)

    first = Run.create(artifacts)
    first.write_manifest({"run_id": first.name})
    first.mark_latest()
    assert Run.latest(artifacts) == first and Run.served(artifacts) == first  # not yet published

    second = Run.create(artifacts)
    second.write_manifest({"run_id": second.name})
    first.publish()
    second.mark_latest()
    assert Run.current(artifacts) == first and Run.served(artifacts) == first
    assert Run.latest(artifacts) == second
    assert [r.name for r in Run.list(artifacts)] == [first.name, second.name]

    second.publish()
    assert os.readlink(artifacts / "current") == second.name  # relative: the workspace can move
    assert Run.served(artifacts).manifest()["run_id"] == second.name
    assert second.model_dir("ease") == second.path / "models" / "ease"
    assert not second.has_model("ease")


def test_publish_refuses_to_replace_a_real_directory(tmp_path):
    run = Run.create(tmp_path)
    (tmp_path / "current").mkdir()
    with pytest.raises(FileExistsError, match="not a symlink"):
        run.publish()
