"""The pipeline rows of `recsys evaluate`: the production pipeline trained on each split's data
before its test cut, scored as served, with candidate recall, new-title recall, paired
differences and modality ablations."""

from __future__ import annotations

import logging

import numpy as np

from eval.content import content_cutoff
from eval.experiment import SplitResults
from eval.pipeline_eval import (
    NAME as PIPELINE_ROW,
)
from eval.pipeline_eval import (
    evaluate_pipeline,
    new_item_slice,
    paired_difference,
    recommend_all,
    to_eval_indices,
)
from eval.protocol import score_top
from recsys.app.content import load_pipeline_content
from recsys.app.train import workspace_pipeline_config

log = logging.getLogger(__name__)


def guarded(notes: list[str], where: str, fn, *args):
    """``fn(*args)``; a pipeline that cannot be trained on this split is a note, not a crash
    (e.g. a split so small that no label user has a like among its candidates)."""
    try:
        return fn(*args)
    except ValueError as e:
        log.warning("pipeline row on %s failed: %s", where, e)
        notes.append(f"pipeline ({where}) failed: {e}")
        return None


def pipeline_row(
    ws,
    catalog,
    vocab,
    split,
    suite,
    cfg,
    item_vectors,
    report_dir,
    key,
    new_items=None,
    content=None,
) -> dict:
    """Train the production pipeline on ``split``'s data before its test cut and score it
    as served; its row joins ``suite`` (and ``suite.alt`` restricted to ``new_items``)."""
    pcfg = workspace_pipeline_config(ws)
    for field, value in cfg.pipeline_overrides.items():
        setattr(pcfg, field, value)
    if content is None:
        content = load_pipeline_content(ws, vocab, as_of=content_cutoff(split))
    ran = evaluate_pipeline(
        split,
        catalog.items,
        content,
        suite.test_data,
        report_dir / "runs" / key,
        pcfg,
        tuple(cfg.ks),
        item_vectors,
        cfg.n_boot,
        log_fn=log.info,
    )
    suite.results.insert(0, ran.result)
    out = {
        "source_recall": ran.source_recall,
        "info": ran.pipeline.info,
        "modalities": ran.pipeline.modalities,
        "feature_gain": ran.pipeline.ranker.importance() if ran.pipeline.ranker else {},
        "new_items": new_item_slice(
            suite.results, suite.test_data, split.train_valid(), max(cfg.ks), cfg.n_boot
        ),
    }
    others = [r for r in suite.results if r.name != ran.result.name]
    if others:
        best = max(others, key=lambda r: r.mean("ndcg@10"))
        out["vs_best"] = paired_difference(ran.result, best, "ndcg@10", cfg.n_boot)
        ease = next((r for r in others if r.name == "ease"), None)
        if ease is not None and ease is not best:  # else the same line twice
            out["vs_ease"] = paired_difference(ran.result, ease, "ndcg@10", cfg.n_boot)
    if new_items is not None and suite.alt is not None:
        allowed = np.isin(ran.pipeline.vocab.ids, new_items)
        lists = recommend_all(ran.pipeline, suite.alt.test_data.user_ids, max(cfg.ks), allowed)
        top = to_eval_indices(lists, ran.pipeline, suite.alt.test_data, max(cfg.ks))
        alt = score_top(
            top, suite.alt.test_data, ran.result.name, tuple(cfg.ks), item_vectors, cfg.n_boot
        )
        suite.alt.results.insert(0, alt)
    return out


def pipeline_ablation(ws, catalog, vocab, split, suite, cfg, report_dir) -> dict:
    """Drop each modality's content, retrain the pipeline, report the NDCG@10 change (paired CI)."""
    full = suite.by_name(PIPELINE_ROW)
    content = load_pipeline_content(ws, vocab, as_of=content_cutoff(split))
    rows = {}
    for modality in sorted(content):
        rest = {m: v for m, v in content.items() if m != modality}
        shadow = SplitResults(split, suite.test_data)
        pipeline_row(
            ws,
            catalog,
            vocab,
            split,
            shadow,
            cfg,
            None,
            report_dir,
            f"without-{modality}",
            content=rest,
        )
        rows[modality] = paired_difference(shadow.results[0], full, "ndcg@10", cfg.n_boot)
        rows[modality]["recall@20"] = shadow.results[0].mean("recall@20")
    return rows
