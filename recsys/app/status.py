"""`recsys status`: what a workspace holds (data, features, runs, evaluation, events)."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from recsys.core.catalog import MANIFEST
from recsys.core.runs import Run
from recsys.core.workspace import Workspace

log = logging.getLogger(__name__)
# Manifest keys that are scores (not timings or counts): what a run's line shows.
METRIC_WORDS = ("ndcg", "recall", "precision", "map", "mrr", "hit", "auc", "loss")


def workspace_status(ws: Workspace) -> dict[str, Any]:
    """Everything `recsys status` shows, JSON-serialisable; never creates anything."""
    status: dict[str, Any] = {
        "root": str(ws.root),
        "exists": ws.root.is_dir(),
        "data": _data(ws),
        "store": _store(ws.lancedb_uri),
        "runs": _runs(ws.artifacts_dir),
        "evaluation": _evaluation(ws.reports_dir),
        "events": _events(ws.events_dir),
    }
    status["next"] = _next_step(status)
    return status


def _data(ws: Workspace) -> dict[str, Any] | None:
    """Name and counts of the canonical dataset, or None before `recsys preprocess`."""
    path = ws.data_dir / MANIFEST
    if not path.is_file():
        return None
    # The counts `Catalog.save` records: no need to load the tables (large on real data).
    manifest = json.loads(path.read_text())
    counts = {k: manifest.get("counts", {}).get(k, 0) for k in ("items", "users", "interactions")}
    return {"name": manifest.get("name", "dataset"), "path": str(ws.data_dir), **counts}


def _store(uri: str) -> dict[str, Any]:
    """Feature tables with their encoder versions, embed errors and the last job."""
    import polars as pl

    from features.store import ERRORS_TABLE, JOBS_TABLE, FeatureStore  # lancedb: lazy

    out: dict[str, Any] = {"uri": uri, "exists": False, "tables": [], "errors": [], "jobs": 0}
    if not FeatureStore.exists(uri):  # opening a local path would create the store
        return out
    store = FeatureStore(uri)
    out["exists"] = True
    names = store.table_names()
    out["tables"] = [_table(store, n) for n in names if n not in (ERRORS_TABLE, JOBS_TABLE)]
    errors = store.errors()
    if errors.height:
        # Messages start with a reason code (features/media.py): "missing_file: <path> …".
        code = pl.col("reason").str.split(":").list.first().str.strip_chars().alias("code")
        grouped = (
            errors.with_columns(code)
            .group_by("entity", "modality", "code")
            .agg(pl.len().alias("count"), pl.col("reason").first().alias("example"))
        )
        order = grouped.sort(["count", "code"], descending=[True, False])  # ties: stable
        out["errors"] = order.to_dicts()
    jobs = store.jobs()
    out["jobs"] = jobs.height
    if jobs.height:
        out["last_job"] = {k: _iso(v) for k, v in jobs.drop("summary").row(-1, named=True).items()}
    return out


def _table(store, name: str) -> dict[str, Any]:
    """Rows, vector width and encoder versions of one feature table."""
    try:
        ids = store.read(name, columns=["id"])["id"]
        # One id's rows give the columns and the width without scanning the vectors.
        probe = store.read(name, where=f"id = {ids.min()}") if len(ids) else None
        lineage = probe is not None and "encoder" in probe.columns
        info = store.versions(name) if lineage else {"encoder_versions": [], "table_versions": []}
    except Exception as exc:  # a corrupt table must not hide the others: show it as unreadable
        log.warning("feature table %s is unreadable: %s", name, exc)
        return {"name": name, "unreadable": f"{type(exc).__name__}: {exc}"}
    history = info["table_versions"]
    return {
        "name": name,
        "rows": len(ids),
        "ids": ids.n_unique(),
        "dim": len(probe["vector"][0]) if probe is not None and "vector" in probe.columns else None,
        "table_version": history[-1]["version"] if history else None,
        # Tables written without the store's lineage columns (hand-made) list no encoders.
        "encoders": [{k: _iso(v) for k, v in e.items()} for e in info["encoder_versions"]],
    }


def _runs(artifacts: Path) -> list[dict[str, Any]]:
    """Every complete run, oldest first, flagged ``current`` (served) and ``latest`` (trained)."""
    from serving.engine.answer_store import answers_written  # lazy: the engine package

    current, latest = Run.current(artifacts), Run.latest(artifacts)
    out = []
    for run in Run.list(artifacts):
        try:
            manifest = run.manifest()
        except ValueError as exc:  # half-written manifest.json: still list the run
            manifest = {"unreadable": str(exc)}
        models = manifest.get("models") or sorted(p.name for p in run.path.glob("models/*/"))
        out.append(
            {
                "id": run.name,
                "created_at": manifest.get("created_at"),
                "models": list(models),
                "metrics": _metrics(manifest),
                "indexed": run.index_dir.is_dir(),
                "answers": answers_written(run.answers_dir),
                "current": current is not None and current.path.resolve() == run.path.resolve(),
                "latest": latest is not None and latest.path.resolve() == run.path.resolve(),
            }
        )
    return out


def _metrics(manifest: dict[str, Any]) -> dict[str, float]:
    """Scores a run manifest records, one level deep: ``hybrid.best_valid_ndcg10`` …"""
    found = {}
    for section, values in manifest.items():
        pairs = values.items() if isinstance(values, dict) else [("", values)]
        for key, value in pairs:
            name = f"{section}.{key}" if key else section
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            if is_number and any(w in name.lower() for w in METRIC_WORDS):
                found[name] = value
    return found


def _evaluation(reports: Path) -> dict[str, Any] | None:
    """The newest ``reports/*/metrics.json``: dataset and the best model's NDCG@10."""
    found = sorted(reports.glob("*/metrics.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        return None
    try:
        report = json.loads(found[-1].read_text())
    except ValueError as exc:  # an evaluation killed mid-write
        return {"path": str(found[-1]), "unreadable": str(exc)}
    models = report.get("sections", {}).get("main", {}).get("models", [])
    scored = [
        {"model": m.get("name"), "ndcg@10": m["metrics"]["ndcg@10"]["mean"]}
        for m in models
        if isinstance(m.get("metrics", {}).get("ndcg@10"), dict)
        and isinstance(m["metrics"]["ndcg@10"].get("mean"), int | float)
    ]
    return {
        "path": str(found[-1]),
        "created_at": report.get("created_at"),
        "dataset": report.get("dataset"),
        "models": len(models),
        "best": max(scored, key=lambda s: s["ndcg@10"], default=None),
    }


def _events(directory: Path) -> dict[str, Any]:
    """How many event files and lines the API has logged."""
    files = sorted(directory.glob("events-*.jsonl"))
    lines = 0
    for path in files:
        with path.open("rb") as f:  # count without parsing: a log can be large
            lines += sum(1 for line in f if line.strip())
    return {"path": str(directory), "files": len(files), "lines": lines}


def _next_step(status: dict[str, Any]) -> str:
    """The command that moves this workspace forward (`recsys serve` once it is complete)."""
    runs = status["runs"]
    if status["data"] is None:
        return "recsys preprocess SRC  (or `recsys data synth` first, or `make run` for it all)"
    if not status["store"]["tables"]:
        return "recsys embed"
    if not runs:
        return "recsys train"
    if not any(r["current"] for r in runs) or any(r["latest"] and not r["current"] for r in runs):
        return "recsys index  (publishes the latest run)"
    if status["evaluation"] is None:
        return "recsys evaluate"
    return "recsys serve"


def format_status(status: dict[str, Any]) -> str:
    """Human text of ``workspace_status``: one screen, "none yet" where a stage has not run."""
    lines = [f"workspace  {status['root']}" + ("" if status["exists"] else "  (does not exist)")]
    data = status["data"]
    lines.append(
        f"data       {data['name']}: {data['items']:,} items, {data['users']:,} users, "
        f"{data['interactions']:,} interactions"
        if data
        else "data       none yet: `recsys preprocess SRC` (or `make run` for the demo)"
    )
    store = status["store"]
    lines.append(f"features   {store['uri']}" + ("" if store["tables"] else "  none yet"))
    for t in store["tables"]:
        if "unreadable" in t:
            lines.append(f"  {t['name']:<18} UNREADABLE {t['unreadable'][:80]}")
            continue
        lines.append(f"  {t['name']:<18} {t['rows']:>8,} rows  {t['ids']:,} ids  dim {t['dim']}")
        for e in t["encoders"]:
            version = f"{e['encoder']} {e['encoder_version']}"
            version = version if len(version) <= 48 else version[:47] + "…"
            lines.append(f"    {version}: {e['rows']:,} rows, last written {e['last_written']}")
    total = sum(e["count"] for e in store["errors"])
    lines.append(f"errors     {total:,} embed errors" if total else "errors     none")
    for e in store["errors"][:8]:  # the commonest reasons; the rest are in `embed_errors`
        where = f"{e['entity']}_{e['modality']}"
        example = e["example"].removeprefix(e["code"]).lstrip(": ")[:60]
        lines.append(f"  {where:<18} {e['count']:>8,}  {e['code']}  e.g. {example}")
    if store.get("last_job"):
        j = store["last_job"]
        lines.append(f"last job   {j['kind']} {j['status']} at {j['finished_at']} ({j['job_id']})")
    runs = status["runs"]
    shown = f"{len(runs)}" + (", newest 8:" if len(runs) > 8 else "")
    lines.append("runs       " + (shown if runs else "none yet: `recsys train`"))
    for r in runs[-8:]:  # newest last; older runs stay in artifacts/
        flags = "".join(f" [{f}]" for f in ("current", "latest") if r[f])
        flags += "" if r["indexed"] else " (no index)"
        flags += f" ({r['answers']:,} precomputed answers)" if r["answers"] else ""
        scores = ", ".join(f"{k} {v:.4f}" for k, v in r["metrics"].items())
        when = (r["created_at"] or "")[:19]
        lines.append(f"  {r['id']}{flags}  {when}  {','.join(r['models'])}  {scores}".rstrip())
    ev = status["evaluation"]
    if ev is None:
        lines.append("evaluation none yet")
    elif "unreadable" in ev:
        lines.append(f"evaluation {ev['path']}  UNREADABLE {ev['unreadable'][:60]}")
    else:
        best = ev["best"]
        head = f"best {best['model']} NDCG@10 {best['ndcg@10']:.4f}" if best else "no scores"
        name = (ev["dataset"] or {}).get("name", "?")
        lines.append(f"evaluation {ev['path']}  ({name}, {ev['created_at']}): {head}")
    events = status["events"]
    lines.append(f"events     {events['lines']:,} lines in {events['files']} files")
    lines.append(f"next       {status['next']}")
    return "\n".join(lines)


def _iso(value: Any) -> Any:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else value
