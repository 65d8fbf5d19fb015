"""Goal sentences with known answers, and the report's first screen as rendered."""

from __future__ import annotations

from html.parser import HTMLParser

from eval.goals import cold_goal, new_title_goal, paired_ci_goal, warm_ratio_goal
from eval.report import write_report
from eval.verdict import first_screen, sentence

VS = {"a": "pipeline", "b": "ease", "mean": 0.0087, "lo": 0.0003, "hi": 0.0169, "ratio": 1.07}


def test_warm_ratio_missed():
    g = warm_ratio_goal(0.1416, "ease", 0.1329, VS)
    assert g["met"] is False
    assert sentence(g) == (
        "Warm users: the pipeline's NDCG@10 is 0.1416, 1.07× the best baseline (ease 0.1329); "
        "the goal is 1.10×, missed by 0.0046; "
        "the paired difference +0.0087 [+0.0003, +0.0169] is above zero."
    )


def test_warm_ratio_met_without_paired_difference():
    g = warm_ratio_goal(0.1500, "ease", 0.1250, None)  # 1.20×; target 0.1375
    assert g["met"] is True
    assert sentence(g) == (
        "Warm users: the pipeline's NDCG@10 is 0.1500, 1.20× the best baseline (ease 0.1250); "
        "the goal is 1.10×, met by 0.0125."
    )


def test_warm_ratio_pending():
    g = warm_ratio_goal(None, "ease", 0.1329, None)
    assert g["met"] is None
    assert sentence(g).endswith("the goal is 1.10×, pending (no value yet).")
    assert "not measured yet" in sentence(g)


def test_paired_ci_includes_zero_is_missed():
    g = paired_ci_goal({**VS, "lo": -0.0012})
    assert g["met"] is False
    assert sentence(g) == (
        "Warm users, paired: the NDCG@10 difference pipeline − ease is "
        "+0.0087 [-0.0012, +0.0169]; the goal is a 95% CI entirely above zero, missed by 0.0012."
    )


def test_new_titles_met_and_cold_tie_missed():
    g = new_title_goal({"mean": 0.0612, "lo": 0.04, "hi": 0.08}, positives=57, new_items=12)
    assert sentence(g) == (
        "New titles: the pipeline's Recall@20 over 57 test positives on 12 titles absent from "
        "the fit frame is 0.0612 [0.0400, 0.0800]; the goal is 0.05, met by 0.0112."
    )
    tie = cold_goal(0.2, "content_knn[text]", 0.2)  # a "beats" goal is missed at a tie
    assert tie["met"] is False
    assert sentence(tie).endswith("the goal is to beat it, missed: it must exceed 0.2000.")


def test_unknown_goal_falls_back_to_its_text():
    g = {"goal": "latency: p95 under 50 ms", "value": None, "target": 50.0, "met": None}
    assert sentence(g) == (
        "Latency: p95 under 50 ms: no value yet against a target of 50.0000, "
        "pending (no value yet)."
    )


def _model(name: str, ndcg: float) -> dict:
    stat = {"mean": ndcg, "lo": ndcg - 0.01, "hi": ndcg + 0.01}
    return {"name": name, "params": {}, "metrics": {"ndcg@10": stat}, "beyond": {}}


def _report() -> dict:
    models = [_model("pipeline", 0.1416), _model("ease", 0.1329), _model("popularity", 0.05)]
    split = {"name": "per_user_temporal", "rule": "last 20%", "counts": {}}
    return {
        "created_at": "2024-01-01T00:00:00+00:00",
        "seconds": 1.0,
        "dataset": {"name": "tiny", "items": 3, "users": 2, "interactions": 9},
        "ks": [10, 20],
        "n_boot": 50,
        "seed": 0,
        "grid": "small",
        "sections": {"main": {"models": models, "split": split, "evaluated_users": 2}},
        "section_titles": {"main": "Primary protocol"},
        "pipeline": {
            "main": {
                "vs_best": VS,
                "modalities": ["text"],
                "info": {"ease_lambda": 100.0},
                "source_recall": {"union": {"quota": 50, "mean_size": 50.0, "recall": 0.4}},
                "new_items": {"k": 20, "new_items": 1, "positives": 2, "users": 2, "models": {}},
            }
        },
        "goals": [warm_ratio_goal(0.1416, "ease", 0.1329, VS), paired_ci_goal(VS)],
        "buckets": {
            "metric": "ndcg@10",
            "labels": ["1-5", "6-20"],
            "users": [3, 0],
            "models": {"pipeline": [0.12, None], "ease": [0.10, None], "popularity": [0.0, None]},
        },
        "notes": [],
    }


def test_first_screen_buckets_compare_pipeline_with_best_baseline():
    screen = first_screen(_report())
    assert screen is not None
    assert (screen["pipeline"], screen["best"]) == ("pipeline", "ease")
    (first,) = screen["buckets"]  # the bucket without users is left out
    assert first["label"] == "1-5" and first["users"] == 3 and abs(first["ratio"] - 1.2) < 1e-9
    assert first_screen({"sections": {"main": {"models": []}}}) is None


class _Outline(HTMLParser):
    """The body's top-level elements after <h1>, and what #verdict holds."""

    def __init__(self):
        super().__init__()
        self.depth, self.top, self.in_verdict = 0, [], False
        self.imgs, self.sentences = [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.depth == 0 and tag not in ("html", "head", "body", "meta", "title", "style"):
            self.top.append((tag, a.get("id")))
            self.in_verdict = a.get("id") == "verdict"
        if self.in_verdict and tag == "img":
            self.imgs.append(a.get("src", ""))
        if self.in_verdict and tag == "li" and "sentence" in (a.get("class") or ""):
            self.sentences += 1
        if tag not in ("html", "head", "body", "meta", "img", "br"):
            self.depth += 1

    def handle_endtag(self, tag):
        if tag not in ("html", "head", "body", "meta", "img", "br"):
            self.depth -= 1


def test_html_opens_with_the_verdict(tmp_path):
    report = _report()
    paths = write_report(tmp_path, report, figures={})
    outline = _Outline()
    outline.feed(paths["html"].read_text())
    assert outline.top[0] == ("h1", None)
    assert outline.top[1] == ("section", "verdict")
    assert outline.imgs and outline.imgs[0].startswith("data:image/png;base64,")
    assert outline.sentences == len(report["goals"]) == 2
    md = paths["md"].read_text()
    assert md.index("## Verdict") < md.index("## Goals")
    assert "missed by 0.0046" in md and "| 1-5 | 3 | 0.1200 | 0.1000 | 1.20 |" in md
