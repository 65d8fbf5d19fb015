"""Run a suite of models on one split: tune on valid, refit on train+valid, score on test."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from eval.baselines import Baseline
from eval.protocol import EvalData, ModelResult, evaluate, prepare
from eval.tuning import Tuned, run_baseline
from recsys.core.interactions import IdVocab
from recsys.core.splits import Split

log = logging.getLogger(__name__)


@dataclass
class SplitResults:
    """Every model's test result on one split, plus the shared evaluation data."""

    split: Split
    test_data: EvalData
    results: list[ModelResult] = field(default_factory=list)
    tuned: dict[str, Tuned] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    alt: SplitResults | None = None  # same fitted models, ranking restricted to candidates

    def by_name(self, name: str) -> ModelResult | None:
        return next((r for r in self.results if r.name == name), None)

    def to_json(self) -> dict:
        return {
            "split": self.split.description,
            "evaluated_users": len(self.test_data.user_ids),
            "models": [
                {
                    "name": r.name,
                    "params": r.params,
                    "metrics": r.summary,
                    "beyond": r.beyond,
                    "seconds": round(r.seconds, 2),
                    "valid_scores": [
                        {"params": p, "ndcg@10": s}
                        for p, s in (
                            self.tuned[r.name].valid_scores if r.name in self.tuned else []
                        )
                    ],
                }
                for r in self.results
            ],
            "notes": self.notes,
        }


def run_suite(
    split: Split,
    item_vocab: IdVocab,
    baselines: list[Baseline],
    item_vectors: np.ndarray | None = None,
    ks: tuple[int, ...] = (10, 20),
    n_boot: int = 1000,
    progress=None,
    candidates: np.ndarray | None = None,
) -> SplitResults:
    """Evaluate ``baselines`` on ``split``; a model that fails is recorded as a note, not fatal.

    With ``candidates`` (item ids) the same fitted models are also scored with ranking
    restricted to those items; that result is ``.alt``.
    """
    valid_data = prepare(split.train, split.valid, item_vocab) if split.valid.height else None
    test_data = prepare(split.train_valid(), split.test, item_vocab)
    out = SplitResults(split, test_data)
    if candidates is not None:
        out.alt = SplitResults(
            split, prepare(split.train_valid(), split.test, item_vocab, candidates)
        )
    if not len(test_data.user_ids):
        out.notes.append(f"{split.description['name']}: no test user has a positive; skipped")
        return out
    for baseline in baselines:
        try:
            result, tuned = run_baseline(
                baseline, split, item_vocab, valid_data, test_data, item_vectors, ks, n_boot
            )
        except (ValueError, RuntimeError, KeyError, ImportError, np.linalg.LinAlgError) as e:
            log.warning("model %s failed on %s: %s", baseline.name, split.description["name"], e)
            out.notes.append(f"{baseline.name} failed: {type(e).__name__}: {e}")
            continue
        finally:
            if progress is not None:
                progress.update(1)
        out.results.append(result)
        out.tuned[baseline.name] = tuned
        if out.alt is not None and tuned.model is not None:
            alt = evaluate(tuned.model, out.alt.test_data, baseline.name, ks, item_vectors, n_boot)
            alt.params = tuned.params
            out.alt.results.append(alt)
            out.alt.tuned[baseline.name] = tuned
    return out
