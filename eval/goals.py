"""The pipeline's acceptance goals (issue "One ranking pipeline"), each with value and verdict.

Each goal dict is `analysis.goal`'s plus ``kind`` and ``facts`` (the numbers behind it), so
`eval.verdict.sentence` can say it in words without parsing the ``detail`` text.
"""

from __future__ import annotations

from eval.analysis import best_baseline, goal
from eval.experiment import SplitResults
from eval.pipeline_eval import NAME

WARM_RATIO = 1.10  # pipeline NDCG@10 vs the best tuned baseline, warm users
NEW_TITLE_RECALL = 0.05  # Recall@20 over test positives on items absent from the fit frame


def warm_ratio_goal(value: float | None, baseline: str, best: float, vs: dict | None) -> dict:
    """Pipeline NDCG@10 ≥ WARM_RATIO × the best baseline's; ``vs`` the paired difference."""
    ci = f"; paired difference {vs['mean']:+.4f} [{vs['lo']:+.4f}, {vs['hi']:+.4f}]" if vs else ""
    g = goal(
        f"warm users: pipeline NDCG@10 >= {WARM_RATIO:.2f} x best tuned baseline",
        value,
        WARM_RATIO * best,
        f"best baseline {baseline} = {best:.4f}{ci}",
    )
    facts = {"baseline": baseline, "baseline_value": best, "target_ratio": WARM_RATIO}
    if vs:
        facts["diff"] = {k: vs[k] for k in ("mean", "lo", "hi")}
    return {**g, "kind": "warm_ratio", "facts": facts}


def paired_ci_goal(vs: dict) -> dict:
    """The paired bootstrap 95% CI of pipeline − best baseline lies above zero."""
    g = goal(
        "warm users: paired bootstrap 95% CI of the difference above zero",
        vs["lo"],
        0.0,
        f"vs {vs['b']}",
        strict=True,
    )
    facts = {"baseline": vs["b"], "mean": vs["mean"], "lo": vs["lo"], "hi": vs["hi"]}
    return {**g, "kind": "paired_ci", "facts": facts}


def new_title_goal(v: dict, positives: int, new_items: int, k: int = 20) -> dict:
    """Recall@k of the test positives on titles the fit frame never saw, ``v`` mean/lo/hi."""
    g = goal(
        f"new titles: Recall@{k} >= {NEW_TITLE_RECALL} over {positives} "
        f"test positives on {new_items} items absent from the fit frame",
        v["mean"],
        NEW_TITLE_RECALL,
        f"95% CI [{v['lo']:.4f}, {v['hi']:.4f}]",
    )
    facts = {"k": k, "positives": positives, "new_items": new_items, "lo": v["lo"], "hi": v["hi"]}
    return {**g, "kind": "new_titles", "facts": facts}


def cold_goal(value: float, content: str, content_value: float) -> dict:
    """On the cold-item split the pipeline's Recall@20 beats every content-only model."""
    g = goal(
        "cold-item split: pipeline Recall@20 beats every content-only model",
        value,
        content_value,
        f"best {content}",
        strict=True,
    )
    return {**g, "kind": "cold_items", "facts": {"baseline": content}}


def pipeline_goals(main: SplitResults, cold: SplitResults | None, report: dict) -> list[dict]:
    """Warm ratio + paired CI, new-title recall, and the cold split vs content-only models."""
    out: list[dict] = []
    pipe = main.by_name(NAME)
    if pipe is None:
        return out
    name, best = best_baseline(main, "ndcg@10", exclude_prefix=NAME)
    vs = report.get("main", {}).get("vs_best", {})
    out.append(warm_ratio_goal(pipe.mean("ndcg@10"), name, best, vs or None))
    if vs:
        out.append(paired_ci_goal(vs))
    new = report.get("main", {}).get("new_items", {})
    if new.get("models", {}).get(NAME):
        v = new["models"][NAME]
        out.append(new_title_goal(v, new["positives"], new["new_items"], new.get("k", 20)))
    if cold is not None and cold.by_name(NAME) is not None:
        value = cold.by_name(NAME).mean("recall@20")  # type: ignore[union-attr]
        content = [r for r in cold.results if r.name.startswith("content_knn")]
        if content:
            top = max(content, key=lambda r: r.mean("recall@20"))
            out.append(cold_goal(value, top.name, top.mean("recall@20")))
    return out
