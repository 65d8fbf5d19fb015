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


def test_workspace_is_accepted_after_the_subcommand_too(tmp_path):
    before = CliRunner().invoke(app, ["--workspace", str(tmp_path / "a"), "train"])
    after = CliRunner().invoke(app, ["train", "--workspace", str(tmp_path / "b")])
    assert before.exit_code == after.exit_code == 1
    assert str(tmp_path / "a") in before.output and str(tmp_path / "b") in after.output


def test_synth_writes_inside_the_named_workspace(tmp_path):
    args = ["data", "synth", "--workspace", str(tmp_path), "--items", "30", "--users", "10"]
    result = CliRunner().invoke(app, [*args, "--interactions", "200", "--no-media"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "raw" / "synthetic" / "items.parquet").exists()


def test_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("recsys 0.")


def test_status_on_an_empty_workspace_says_what_to_run(tmp_path):
    import json

    text = CliRunner().invoke(app, ["status", "--workspace", str(tmp_path / "none")])
    assert text.exit_code == 0 and "recsys preprocess" in text.output
    as_json = CliRunner().invoke(app, ["status", "--json", "-w", str(tmp_path / "none")])
    assert json.loads(as_json.output)["runs"] == []
