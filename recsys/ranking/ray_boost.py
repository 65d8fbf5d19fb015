"""XGBoost on Ray: the ranker's cross-validation and final boosters, trained data-parallel.

Ray Train's ``XGBoostTrainer`` (a well-kept wrapper: it starts XGBoost's collective tracker
and wires the workers to it) runs ``cfg.ranker_ray_workers`` workers on the cluster
``RAY_ADDRESS`` names (a local one otherwise). Each worker runs ``ranker.fit_boosters`` on its
share of the users' groups, so every decision (objective, number of trees) is the one the
local path takes, from validation curves XGBoost reduces over all workers. One Ray Train job
per ``Ranker.fit``: the cluster's start-up is paid once, not once per fold.

What moves to the cluster is the training: XGBoost's matrices, gradients and histograms
(several times the frame) and its CPU time. The frame itself is still assembled by the
driver (``train.ranking_groups``) and put once into Ray's object store, which spills to disk.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from recsys.ranking.boosting import RankingGroups, fit_boosters
from recsys.ranking.config import PipelineConfig

BOOSTERS = ("final", "fold0")


def fit_on_ray(
    data: RankingGroups,
    names: list[str],
    cfg: PipelineConfig,
    objectives: tuple[str, ...],
    device: str,
) -> tuple[Any, Any | None, dict]:
    """What ``fit_boosters`` returns, trained by Ray Train workers; ``info`` also says how
    many workers trained and on which Ray nodes."""
    import ray
    import xgboost as xgb
    from ray.train import RunConfig, ScalingConfig
    from ray.train.xgboost import XGBoostTrainer

    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    storage = cfg.ranker_ray_storage or tempfile.mkdtemp(prefix="recsys-ranker-ray-")
    trainer = XGBoostTrainer(
        _train_worker,
        train_loop_config={
            "data": [ray.put(data)],  # in a list: the workers fetch it, Ray does not inline it
            "names": names,
            "cfg": cfg.to_dict(),
            "objectives": list(objectives),
            "device": device,
        },
        scaling_config=ScalingConfig(
            num_workers=cfg.ranker_ray_workers,
            use_gpu=device == "cuda",
            resources_per_worker={"CPU": cfg.ranker_ray_cpus_per_worker},
        ),
        run_config=RunConfig(name=f"ranker-{uuid.uuid4().hex[:8]}", storage_path=storage),
    )
    result = trainer.fit()
    if result.checkpoint is None:
        raise RuntimeError(f"Ray Train returned no boosters: {result.error!r}")
    with result.checkpoint.as_directory() as folder:
        out = Path(folder)
        info = json.loads((out / "info.json").read_text())
        nodes = sorted({json.loads(p.read_text())["node"] for p in out.glob("worker-*.json")})
        boosters: dict[str, Any] = {}
        for name in BOOSTERS:
            if (out / f"{name}.json").exists():
                boosters[name] = xgb.Booster()
                boosters[name].load_model(out / f"{name}.json")
    info |= {"engine": "ray", "ray_workers": cfg.ranker_ray_workers, "ray_nodes": nodes}
    return boosters["final"], boosters.get("fold0"), info


def _train_worker(config: dict) -> None:
    """One Ray Train worker: its shard of the groups, the same decisions as every other."""
    import ray
    import ray.train
    from ray.train import Checkpoint

    context = ray.train.get_context()
    rank, workers = context.get_world_rank(), context.get_world_size()
    data = ray.get(config["data"][0])
    cfg = PipelineConfig.from_dict(config["cfg"])
    final, fold0, info = fit_boosters(
        data, config["names"], cfg, tuple(config["objectives"]), config["device"],
        shard=(rank, workers),
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        # every worker's files land in the one checkpoint folder; rank 0 writes the boosters
        # (XGBoost's collective leaves the same trees on every worker)
        node = ray.get_runtime_context().get_node_id()
        (out / f"worker-{rank}.json").write_text(json.dumps({"node": node}))
        if rank == 0:
            final.save_model(out / "final.json")
            if fold0 is not None:
                fold0.save_model(out / "fold0.json")
            (out / "info.json").write_text(json.dumps(info))
        ray.train.report({"trees": info["trees"]}, checkpoint=Checkpoint.from_directory(folder))
