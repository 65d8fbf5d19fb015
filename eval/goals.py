"""The pipeline's acceptance goals (issue "One ranking pipeline"), each with value and verdict."""

from __future__ import annotations

from eval.analysis import best_baseline, goal
from eval.experiment import SplitResults
from eval.pipeline_eval import NAME

WARM_RATIO = 1.10  # pipeline NDCG@10 vs the best tuned baseline, warm users
NEW_TITLE_RECALL = 0.05  # Recall@20 over test positives on items absent from the fit frame


def pipeline_goals(main: SplitResults, cold: SplitResults | None, report: dict) -> list[dict]:
    """Warm ratio + paired CI, new-title recall, and the cold split vs content-only models."""
    out: list[dict] = []
    pipe = main.by_name(NAME)
    if pipe is None:
        return out
    name, best = best_baseline(main, "ndcg@10", exclude_prefix=NAME)
    vs = report.get("main", {}).get("vs_best", {})
    ci = f"; paired difference {vs['mean']:+.4f} [{vs['lo']:+.4f}, {vs['hi']:+.4f}]" if vs else ""
    out.append(
        goal(
            f"warm users: pipeline NDCG@10 >= {WARM_RATIO:.2f} x best tuned baseline",
            pipe.mean("ndcg@10"),
            WARM_RATIO * best,
            f"best baseline {name} = {best:.4f}{ci}",
        )
    )
    if vs:
        out.append(
            goal(
                "warm users: paired bootstrap 95% CI of the difference above zero",
                vs["lo"],
                0.0,
                f"vs {vs['b']}",
                strict=True,
            )
        )
    new = report.get("main", {}).get("new_items", {})
    if new.get("models", {}).get(NAME):
        v = new["models"][NAME]
        out.append(
            goal(
                f"new titles: Recall@20 >= {NEW_TITLE_RECALL} over {new['positives']} "
                f"test positives on {new['new_items']} items absent from the fit frame",
                v["mean"],
                NEW_TITLE_RECALL,
                f"95% CI [{v['lo']:.4f}, {v['hi']:.4f}]",
            )
        )
    if cold is not None and cold.by_name(NAME) is not None:
        value = cold.by_name(NAME).mean("recall@20")  # type: ignore[union-attr]
        content = [r for r in cold.results if r.name.startswith("content_knn")]
        if content:
            top = max(content, key=lambda r: r.mean("recall@20"))
            out.append(
                goal(
                    "cold-item split: pipeline Recall@20 beats every content-only model",
                    value,
                    top.mean("recall@20"),
                    f"best {top.name}",
                    strict=True,
                )
            )
    return out
