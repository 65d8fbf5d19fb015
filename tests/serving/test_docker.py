"""The Docker files reference only paths that exist and `recsys` commands that the CLI has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
DOCKERFILES = ["Dockerfile", "Dockerfile.cuda"]


def _cli_commands() -> set[str]:
    """Every command path of the Typer app: "serve", "data synth", ..."""
    import click
    import typer

    from recsys.app.cli import app

    def walk(cmd, prefix):
        for name, sub in getattr(cmd, "commands", {}).items():
            path = f"{prefix} {name}".strip()
            yield path
            if isinstance(sub, click.Group):
                yield from walk(sub, path)

    return set(walk(typer.main.get_command(app), ""))


def _recsys_invocations(text: str) -> list[list[str]]:
    out = []
    for chunk in re.split(r"&&|;|\n", text):
        words = shlex.split(chunk.strip().strip('"[],'), posix=True) if chunk.strip() else []
        words = [w.strip('",[]') for w in words if w.strip('",[]')]
        if words and words[0] == "recsys":
            out.append(words[1:])
    return out


def _check(invocations: list[list[str]], commands: set[str]) -> None:
    assert invocations
    for args in invocations:
        names = [a for a in args if not a.startswith("-")]
        assert names and (names[0] in commands or " ".join(names[:2]) in commands), args


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_copies_existing_paths_and_runs_real_commands(name):
    text = (DOCKER / name).read_text()
    copies = re.findall(r"^COPY\s+(.+)$", text, flags=re.M)
    assert copies
    for line in copies:
        *sources, _dest = line.split()
        for src in sources:
            assert (REPO / src).exists(), f"{name}: COPY {src} does not exist"
    cmd = re.search(r"^CMD\s+(\[.*\])$", text, flags=re.M).group(1)
    args = yaml.safe_load(cmd)
    _check([args[1:]], _cli_commands())
    assert (DOCKER / f"{name}.dockerignore").exists()


def test_compose_services_reference_real_files_and_commands():
    spec = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    commands = _cli_commands()
    assert {"api", "pipeline"} <= set(spec["services"])
    for service in spec["services"].values():
        build = service.get("build")
        if build:
            context = (DOCKER / build["context"]).resolve()
            assert (context / build["dockerfile"]).exists()
        cmd = service["command"]
        text = cmd[-1] if cmd[0] == "sh" else " ".join(cmd)
        _check(_recsys_invocations(text), commands)
    volumes = [v.split(":")[0] for s in spec["services"].values() for v in s["volumes"]]
    assert set(volumes) == {"workspace"} and "workspace" in spec["volumes"]


def _with_defaults(value: str) -> str:
    """Compose interpolation with no variables set: ``${X:-d}`` gives d, ``${X}`` nothing."""
    return re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)


def test_compose_api_needs_a_key_and_listens_on_this_host_only():
    from serving.settings import Settings

    grace = Settings.model_fields["shutdown_grace_seconds"].default

    api = yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]["api"]
    # `${VAR:?message}`: compose refuses to start without it; no default key ships
    assert re.fullmatch(r"\$\{RECSYS_API_KEY:\?[^}]+\}", api["environment"]["RECSYS_API_KEY"])
    assert api["ports"]
    for port in api["ports"]:
        host, _, _ = _with_defaults(port).rpartition(":")[0].rpartition(":")
        assert host == "127.0.0.1", port  # "8000:8000" would publish on every interface
    # SIGKILL must come after the server's own grace period for in-flight requests
    assert float(api["stop_grace_period"].removesuffix("s")) > grace
