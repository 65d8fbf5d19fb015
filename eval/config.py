"""EvalConfig: what `recsys evaluate` runs (defaults = the fast demo configuration)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class EvalConfig(BaseModel):
    """Protocol, cut-offs, grids and budgets of one evaluation run.

    The defaults keep the demo catalog (2k items, 1k users, 100k interactions) around a minute
    on 2 CPU cores; ``EvalConfig.thorough()`` widens grids, adds the global split and trains the
    hybrid longer.
    """

    model_config = ConfigDict(extra="forbid")

    protocol: str = "per_user_temporal"  # primary split (recsys.core.splits.SPLITS)
    extra_protocols: list[str] = Field(default_factory=list)  # evaluated beside it
    test_frac: float = 0.2
    valid_frac: float = 0.1
    cold_items: bool = True  # also run the cold-item split (cold-start goals, ablation)
    ks: list[int] = Field(default_factory=lambda: [10, 20])
    grid: str = "fast"  # eval.baselines.GRIDS
    n_boot: int = 1000
    seed: int = 0
    # the ranking pipeline row: `recsys train`'s procedure on the data before the test cut,
    # loaded as served (the workspace's pipeline.json, then these overrides)
    pipeline: bool = True
    pipeline_overrides: dict = Field(default_factory=dict)
    pipeline_ablation: bool = False  # retrain the pipeline without each modality (slow)
    hybrid: bool = True
    hybrid_overrides: dict = Field(default_factory=lambda: {"max_epochs": 2})
    hybrid_on_extra: bool = False  # also train the hybrid for the extra protocols (slow)
    ablation: bool = True  # content-kNN per modality, warm and cold
    hybrid_ablation: bool = False  # one hybrid per modality (slow)
    n_examples: int = 3

    @field_validator("ks")
    @classmethod
    def _headline_ks(cls, ks: list[int]) -> list[int]:
        # tuning, goals, plots and the summary table read NDCG@10 and Recall@20
        if any(k < 1 for k in ks):
            raise ValueError(f"cut-offs must be >= 1, got {ks}")
        return sorted({*ks, 10, 20})

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, name: str) -> str:
        from recsys.core.splits import SPLITS

        if name not in SPLITS:
            raise ValueError(f"unknown protocol {name!r}; choose one of {sorted(SPLITS)}")
        return name

    @classmethod
    def thorough(cls, **overrides) -> EvalConfig:
        base = {
            "extra_protocols": ["global_temporal"],
            "grid": "thorough",
            "hybrid_overrides": {},
            "hybrid_ablation": True,
            "pipeline_ablation": True,
            "hybrid_on_extra": True,
        }
        return cls(**{**base, **overrides})
