"""The report's first screen: is the served pipeline better than the baselines, and on whom.

`sentence` says one goal dict (from `eval.goals`) in plain words; `first_screen` gathers what
the headline plot, the sentences and the by-activity table need from the report dict.
"""

from __future__ import annotations

import math

from eval.pipeline_eval import NAME

METRIC = "ndcg@10"

_SUBJECT = {
    "warm_ratio": "Warm users",
    "paired_ci": "Warm users, paired",
    "new_titles": "New titles",
    "cold_items": "Cold items",
}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _outcome(g: dict) -> str:
    """'met by 0.0012', 'missed by 0.0046' or 'pending (no value yet)'."""
    value, target, met = g["value"], g["target"], g["met"]
    if met is None or _missing(value):
        return "pending (no value yet)"
    if met:
        return f"met by {value - target:.4f}"
    if value >= target:  # a strict goal at a tie, or a zero value on a zero target
        return f"missed: it must exceed {target:.4f}"
    return f"missed by {target - value:.4f}"


def _ci(d: dict) -> str:
    return f"{d['mean']:+.4f} [{d['lo']:+.4f}, {d['hi']:+.4f}]"


def _side(d: dict) -> str:
    if d["lo"] > 0:
        return "is above zero"
    if d["hi"] < 0:
        return "is below zero"
    return "includes zero"


def sentence(g: dict) -> str:
    """One plain sentence for a goal: the value, the target, met or missed by how much."""
    kind, f = g.get("kind"), g.get("facts", {})
    value, outcome = g["value"], _outcome(g)
    subject = _SUBJECT.get(kind or "", "")
    if kind == "warm_ratio":
        base = f"the best baseline ({f['baseline']} {f['baseline_value']:.4f})"
        if _missing(value):
            head = f"the pipeline's NDCG@10 is not measured yet against {base}"
        else:
            ratio = value / f["baseline_value"] if f["baseline_value"] > 0 else math.inf
            head = f"the pipeline's NDCG@10 is {value:.4f}, {ratio:.2f}× {base}"
        text = f"{subject}: {head}; the goal is {f['target_ratio']:.2f}×, {outcome}"
        if f.get("diff"):
            text += f"; the paired difference {_ci(f['diff'])} {_side(f['diff'])}"
        return text + "."
    if kind == "paired_ci":
        return (
            f"{subject}: the NDCG@10 difference pipeline − {f['baseline']} is {_ci(f)}; "
            f"the goal is a 95% CI entirely above zero, {outcome}."
        )
    if kind == "new_titles":
        measured = "not measured yet" if _missing(value) else f"{value:.4f}"
        return (
            f"{subject}: the pipeline's Recall@{f['k']} over {f['positives']} test positives on "
            f"{f['new_items']} titles absent from the fit frame is {measured} "
            f"[{f['lo']:.4f}, {f['hi']:.4f}]; the goal is {g['target']:.2f}, {outcome}."
        )
    if kind == "cold_items":
        measured = "not measured yet" if _missing(value) else f"{value:.4f}"
        return (
            f"{subject}: the pipeline's Recall@20 is {measured} against {g['target']:.4f} for "
            f"the best content-only model ({f['baseline']}); the goal is to beat it, {outcome}."
        )
    text = g["goal"][:1].upper() + g["goal"][1:]
    measured = "no value yet" if _missing(value) else f"{value:.4f}"
    return f"{text}: {measured} against a target of {g['target']:.4f}, {outcome}."


def first_screen(report: dict, metric: str = METRIC) -> dict | None:
    """Rows for the headline plot, the goal sentences and pipeline vs best baseline by bucket.

    None when the primary section has no model with ``metric``.
    """
    section = report.get("sections", {}).get("main", {})
    models = [
        {"name": m["name"], **m["metrics"][metric]}
        for m in section.get("models", [])
        if metric in m.get("metrics", {})
    ]
    if not models:
        return None
    names = [m["name"] for m in models]
    pipeline = NAME if NAME in names else None
    vs = ((report.get("pipeline") or {}).get("main") or {}).get("vs_best")
    others = [m for m in models if m["name"] != NAME]
    if vs and vs.get("b") in names:
        best = vs["b"]
    else:
        best = max(others, key=lambda m: m["mean"])["name"] if others else None
    return {
        "metric": metric,
        "models": models,
        "pipeline": pipeline,
        "best": best,
        "diff": vs if pipeline and vs else None,
        "sentences": [sentence(g) for g in report.get("goals") or []],
        "buckets": _bucket_rows(report.get("buckets"), pipeline, best),
    }


def _bucket_rows(buckets: dict | None, pipeline: str | None, best: str | None) -> list[dict]:
    """Per non-empty activity bucket: users, the pipeline's and the best baseline's mean, ratio."""
    models = (buckets or {}).get("models", {})
    if pipeline not in models or best not in models:
        return []
    rows = []
    for i, label in enumerate(buckets["labels"]):  # type: ignore[index]
        users = buckets["users"][i]  # type: ignore[index]
        if not users:
            continue
        a, b = models[pipeline][i], models[best][i]
        ratio = a / b if a is not None and b else None
        rows.append({"label": label, "users": users, "pipeline": a, "best": b, "ratio": ratio})
    return rows
