"""`recsys` command line: one command per pipeline stage plus `demo`, which runs them all.

Handlers stay thin: they parse options and call the stage's function in its own package.
Expected failures (bad data, missing inputs) print one clear line and exit 1, no traceback.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer

from recsys.app.demo import DEMO_INTERACTIONS, DEMO_ITEMS, DEMO_USERS
from recsys.core.settings import Settings, offline_hub
from recsys.core.workspace import Workspace

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Multimodal recommendation service: data → features → ranker → API.",
)
data_app = typer.Typer(no_args_is_help=True, help="Datasets: synthetic demo catalog.")
app.add_typer(data_app, name="data")

# Errors a user can fix; anything else is a bug and keeps its traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    FileNotFoundError,
    PermissionError,
    KeyError,
)


WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        help="Directory holding data/, lancedb/ and artifacts/ "
        "(default $RECSYS_WORKSPACE, else ./workspace).",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"recsys {version('recsys-multimodal')}")
        raise typer.Exit()


class State:
    settings: Settings
    workspace: Workspace


state = State()


@app.callback()
def _main(
    workspace: WorkspaceOption = None,
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    # The one place the CLI reads the environment: RECSYS_* settings, and the hub stays off.
    offline_hub()
    settings = Settings() if workspace is None else Settings(workspace=workspace)
    state.settings = settings
    state.workspace = settings.open_workspace()


def _ws(workspace: Path | None) -> Workspace:
    """The workspace named after the subcommand, else the one before it (or the default)."""
    if workspace is None:
        return state.workspace
    return state.settings.model_copy(update={"workspace": workspace}).open_workspace()


def _run(stage: str, fn, *args, **kwargs):
    try:
        result = fn(*args, **kwargs)
    except USER_ERRORS as exc:
        typer.secho(f"{stage} failed: {exc}", fg="red", err=True)
        raise typer.Exit(1) from None
    if isinstance(result, str):
        typer.echo(result)
    return result


@data_app.command("synth")
def data_synth(
    workspace: WorkspaceOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Output directory (default <workspace>/raw/synthetic).")
    ] = None,
    items: Annotated[int, typer.Option(help="Number of items.")] = 2000,
    users: Annotated[int, typer.Option(help="Number of users.")] = 1000,
    interactions: Annotated[int, typer.Option(help="Number of interactions.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Random seed (output is deterministic).")] = 0,
    media: Annotated[
        bool, typer.Option("--media/--no-media", help="Write posters and trailers.")
    ] = True,
) -> None:
    """Generate the deterministic synthetic streaming catalog (items, users, media, history)."""
    from recsys.datasets.synthetic import SynthConfig, generate

    cfg = SynthConfig(items=items, users=users, interactions=interactions, seed=seed, media=media)
    _run("synth", generate, cfg, out or _ws(workspace).raw_dir / "synthetic")


@app.command()
def preprocess(
    src: Annotated[Path, typer.Argument(help="Dataset folder: synthetic or MovieLens layout.")],
    workspace: WorkspaceOption = None,
) -> None:
    """Validate a raw dataset and write the canonical tables into the workspace."""
    from recsys.datasets.preprocess import preprocess as run

    _run("preprocess", run, src, _ws(workspace))


@app.command()
def embed(
    workspace: WorkspaceOption = None,
    modalities: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated subset of text,image,video,ratings,review_text,"
            "history_text (default: all)."
        ),
    ] = None,
    engine: Annotated[str, typer.Option(help="local | ray")] = "local",
) -> None:
    """Encode items/users per modality into the LanceDB feature store and fuse them.

    Exits 1 when a modality encoded 0 of its N items (the message gives the top reasons), or
    when an encoder named in ``--modalities`` cannot load; the other tables are still written.
    """
    from features.jobs.embed import run_embed

    chosen = [m.strip() for m in modalities.split(",")] if modalities else None
    # Only a modality the user named must have its encoder: a default run skips what cannot
    # load (a checkpoint not downloaded) as before.
    _run(
        "embed",
        run_embed,
        _ws(workspace),
        modalities=chosen,
        engine=engine,
        require_encoders=chosen is not None,
    )


@app.command()
def train(
    workspace: WorkspaceOption = None,
    update: Annotated[
        bool,
        typer.Option("--update", help="Warm-start from the latest run and train on newer data."),
    ] = False,
) -> None:
    """Train the recommenders into a new artifacts run."""
    from recsys.app.train import run_train

    _run("train", run_train, _ws(workspace), update=update)


@app.command()
def index(
    workspace: WorkspaceOption = None,
    kind: Annotated[
        str | None, typer.Option(help="flat | hnsw | ivfpq (default: chosen by catalog size).")
    ] = None,
    answers_k: Annotated[
        list[int] | None,
        typer.Option(
            "--answers-k",
            help="k of the answers ranked for every known user before publishing "
            "(repeat for several; default 10 and 20; 0: none).",
        ),
    ] = None,
) -> None:
    """Build the FAISS index for the latest run, precompute known users' answers and publish
    it as artifacts/current."""
    from recsys.app.publish import DEFAULT_ANSWER_KS, run_index

    ks = tuple(k for k in answers_k if k) if answers_k else DEFAULT_ANSWER_KS
    if any(k < 0 for k in ks):
        raise typer.BadParameter("--answers-k takes positive k (or 0 for none)")
    _run("index", run_index, _ws(workspace), kind=kind, answer_ks=ks)


@app.command()
def evaluate(
    workspace: WorkspaceOption = None,
    report: Annotated[
        Path | None, typer.Option(help="Report directory (default <workspace>/reports/latest).")
    ] = None,
) -> None:
    """Offline evaluation (full ranking, temporal split): report.html, report.md, metrics.json."""
    from recsys.app.evaluate import run_evaluate

    ws = _ws(workspace)
    _run("evaluate", run_evaluate, ws, report or ws.reports_dir / "latest")


@app.command()
def status(
    workspace: WorkspaceOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """What the workspace holds: data, feature tables, embed errors, runs, evaluation, events."""
    import json

    from recsys.app.status import format_status, workspace_status

    result = _run("status", workspace_status, _ws(workspace))
    typer.echo(json.dumps(result, indent=2) if as_json else format_status(result))


@app.command()
def serve(
    workspace: WorkspaceOption = None,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (each loads the run, arrays shared).")
    ] = 1,
) -> None:
    """Serve the API and web page with uvicorn."""
    from serving.run import run_server

    _run("serve", run_server, _ws(workspace), host=host, port=port, workers=workers)


@app.command()
def chat(workspace: WorkspaceOption = None) -> None:
    """Interactive recommendations: type titles you liked or free text; `quit` exits."""
    from recsys.app.chat import run_chat

    _run("chat", run_chat, _ws(workspace), sys.stdin, sys.stdout)


@app.command()
def demo(
    workspace: WorkspaceOption = None,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    items: Annotated[int, typer.Option(help="Synthetic items.")] = DEMO_ITEMS,
    users: Annotated[int, typer.Option(help="Synthetic users.")] = DEMO_USERS,
    interactions: Annotated[int, typer.Option(help="Synthetic interactions.")] = DEMO_INTERACTIONS,
    serve_api: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Start the server at the end.")
    ] = True,
) -> None:
    """synth → preprocess → embed → train → index → serve (evaluation in the background)."""
    from recsys.app.demo import run_demo

    _run(
        "demo",
        run_demo,
        _ws(workspace),
        host=host,
        port=port,
        items=items,
        users=users,
        interactions=interactions,
        serve=serve_api,
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
