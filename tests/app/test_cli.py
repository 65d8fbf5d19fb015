"""The `recsys` CLI exposes every pipeline stage and fails with one clear line."""

from __future__ import annotations

from typer.testing import CliRunner

from recsys.app.cli import app

STAGES = ["data", "preprocess", "embed", "train", "index", "evaluate", "serve", "chat", "demo"]


def test_help_lists_every_stage():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for stage in STAGES:
        assert stage in result.output


def test_stage_without_data_fails_cleanly(tmp_path):
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path), "train"])
    assert result.exit_code == 1
    assert "recsys preprocess" in result.output
    assert "Traceback" not in result.output
