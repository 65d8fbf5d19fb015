"""`recsys evaluate`: splits → tuned baselines + hybrid → metrics with CIs → HTML/MD/JSON report."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from eval import analysis, plots
from eval.baselines import Baseline, collaborative_baselines, content_baseline
from eval.baselines.hybrid import hybrid_baseline
from eval.config import EvalConfig
from eval.content import ItemContent, workspace_fusion_config
from eval.experiment import SplitResults, run_suite
from eval.goals import pipeline_goals
from eval.pipeline_eval import (
    NAME as PIPELINE_ROW,
)
from eval.report import summary_table, thumbnail, write_report
from recsys.app.evaluate_pipeline import guarded, pipeline_ablation, pipeline_row
from recsys.core.catalog import Catalog, load_workspace_catalog
from recsys.core.interactions import IdVocab
from recsys.core.splits import make_split
from recsys.core.workspace import Workspace

log = logging.getLogger(__name__)


def run_evaluate(
    ws: Workspace,
    report_dir: Path,
    config: EvalConfig | None = None,
    catalog: Catalog | None = None,
    **overrides,
) -> str:
    """Evaluate every model under ``config`` and write report.html, report.md, metrics.json.

    ``overrides`` are EvalConfig fields (e.g. ``protocol="leave_last_out"``). ``catalog``
    defaults to the workspace's canonical data; item vectors come from the workspace store.
    """
    from tqdm.auto import tqdm

    cfg = (config or EvalConfig()).model_copy(update=overrides)
    cfg = EvalConfig.model_validate(cfg.model_dump())  # re-validate the overrides
    start = time.perf_counter()
    catalog = catalog or load_workspace_catalog(ws)
    inter = catalog.interactions
    vocab = IdVocab.from_ids(catalog.items["item_id"])
    content = ItemContent.from_store(ws.lancedb_uri, vocab, workspace_fusion_config(ws))
    notes = content.notes
    mods = content.modalities
    content_mod = "fused" if len(mods) > 1 else (mods[0] if mods else None)
    specs = [x for x in content.ablation_specs() if x != "+".join(mods)]  # that one = fused
    if content_mod is None:
        notes.append(
            "no item vectors in the store: content-kNN and ablations skipped "
            "(run `recsys embed` first)"
        )
    # diversity is a display metric of the lists: content-only vectors, no refit needed
    div_mod = next((m for m in ("text", "image", "video") if m in mods), None)
    diversity_vectors = content.static_vectors(div_mod) if div_mod else None

    def vecs(mod: str):
        return lambda frame: content.for_frame(mod, frame)

    ks = tuple(cfg.ks)
    split_kw = {"test_frac": cfg.test_frac, "valid_frac": cfg.valid_frac}
    if cfg.protocol == "leave_last_out":
        split_kw = {}

    hybrid_ok = cfg.hybrid
    if not hybrid_ok:
        notes.append("hybrid row skipped: disabled in the evaluation config")

    def hybrid(mod: str | None) -> Baseline:
        return hybrid_baseline(vecs(mod) if mod else None, mod or "ids", cfg.hybrid_overrides)

    main_models = collaborative_baselines(cfg.grid)
    if content_mod:
        main_models.append(content_baseline(vecs(content_mod), content_mod))
    if hybrid_ok:
        main_models.append(hybrid(content_mod))
    cold_models = [m for m in main_models if m.name in ("popularity",)]
    cold_models += [content_baseline(vecs(x), x) for x in specs if x != content_mod]
    if content_mod:
        cold_models.append(content_baseline(vecs(content_mod), content_mod))
    if hybrid_ok:
        cold_models.append(hybrid(content_mod))
    ablation_mods = [x for x in specs if x != content_mod] if cfg.ablation else []
    hybrid_ablation = ablation_mods if cfg.hybrid_ablation and hybrid_ok else []
    cold_models += [hybrid(x) for x in hybrid_ablation]

    total = (
        len(main_models)
        + len(cfg.extra_protocols) * (len(main_models) - (0 if cfg.hybrid_on_extra else hybrid_ok))
        + len(ablation_mods)
        + len(hybrid_ablation)
        + (len(cold_models) if cfg.cold_items else 0)
    )
    bar = tqdm(total=total, desc="evaluate", unit="model")
    main_split = make_split(inter, cfg.protocol, **split_kw)
    main = run_suite(main_split, vocab, main_models, diversity_vectors, ks, cfg.n_boot, bar)
    pipeline_report: dict = {}
    if cfg.pipeline:
        row = guarded(
            notes,
            "main",
            pipeline_row,
            ws,
            catalog,
            vocab,
            main_split,
            main,
            cfg,
            diversity_vectors,
            Path(report_dir),
            "main",
        )
        if row is not None:
            pipeline_report["main"] = row
    extra_models = [
        m for m in main_models if cfg.hybrid_on_extra or not m.name.startswith("hybrid")
    ]
    extras = {
        p: run_suite(
            make_split(inter, p, **split_kw),
            vocab,
            extra_models,
            diversity_vectors,
            ks,
            cfg.n_boot,
            bar,
        )
        for p in cfg.extra_protocols
    }
    ablation_models = [content_baseline(vecs(m), m) for m in ablation_mods] + [
        hybrid(m) for m in hybrid_ablation
    ]
    warm_abl = (
        run_suite(main_split, vocab, ablation_models, diversity_vectors, ks, 0, bar)
        if ablation_models
        else None
    )
    cold = None
    if cfg.cold_items:
        cold_split = make_split(inter, "cold_item", **split_kw)
        new_items = cold_split.test["item_id"].unique().to_numpy()
        cold = run_suite(
            cold_split, vocab, cold_models, diversity_vectors, ks, cfg.n_boot, bar, new_items
        )
        if cfg.pipeline:
            row = guarded(
                notes,
                "cold_items",
                pipeline_row,
                ws,
                catalog,
                vocab,
                cold_split,
                cold,
                cfg,
                diversity_vectors,
                Path(report_dir),
                "cold_items",
                new_items,
            )
            if row is not None:
                pipeline_report["cold_items"] = row
    bar.close()
    if cfg.pipeline and cfg.pipeline_ablation and "main" in pipeline_report:
        pipeline_report["ablation"] = pipeline_ablation(
            ws, catalog, vocab, main_split, main, cfg, Path(report_dir)
        )

    report = _assemble(
        cfg,
        catalog,
        main,
        extras,
        cold,
        warm_abl,
        content_mod,
        notes,
        hybrid_ok,
        time.perf_counter() - start,
    )
    report["pipeline"] = pipeline_report
    report["goals"] = pipeline_goals(main, cold, pipeline_report)
    figures = _figures(report)
    example_model = report["example_model"]
    examples = _examples(catalog, main, example_model, cfg) if example_model else []
    write_report(Path(report_dir), report, figures, examples)
    table = summary_table(report["sections"]["main"], max(ks))
    print(table)
    best = max(main.results, key=lambda r: r.mean("ndcg@10"), default=None)
    head = f"{best.name} NDCG@10 {best.mean('ndcg@10'):.4f}" if best else "no results"
    return (
        f"evaluate: {len(main.results)} models on {cfg.protocol} "
        f"({len(main.test_data.user_ids)} test users), best {head}; "
        f"report at {Path(report_dir) / 'report.html'}"
    )


def _assemble(
    cfg, catalog, main, extras, cold, warm_abl, content_mod, notes, hybrid_ok, seconds
) -> dict:
    sections = {"main": main.to_json()}
    titles = {"main": f"Primary protocol: {cfg.protocol}"}
    for p, res in extras.items():
        sections[p] = res.to_json()
        titles[p] = f"Secondary protocol: {p}"
    if cold is not None:
        sections["cold_items"] = cold.to_json()
        titles["cold_items"] = "Cold items (items first seen after the cut-off), full catalog"
        if cold.alt is not None:
            sections["cold_items_only"] = cold.alt.to_json()
            titles["cold_items_only"] = "Cold items, ranking restricted to the new items"
    hybrid_name = f"hybrid[{content_mod or 'ids'}]"
    ablation = None
    if content_mod and cfg.ablation:
        metric = f"recall@{max(cfg.ks)}"
        values: dict[str, dict[str, float]] = {}
        cold_alt = cold.alt if cold is not None else None
        for res, col in (
            (main, "warm"),
            (warm_abl, "warm"),
            (cold, "cold"),
            (cold_alt, "cold, new items only"),
        ):
            for r in res.results if res else []:
                if r.name.startswith(("content_knn", "hybrid")):
                    values.setdefault(r.name, {})[col] = r.mean(metric)
        columns = ["warm", "cold", "cold, new items only"]
        ablation = {"metric": metric, "rows": values, "columns": columns}
    example_model = (
        PIPELINE_ROW
        if main.by_name(PIPELINE_ROW)
        else hybrid_name
        if hybrid_ok and main.by_name(hybrid_name)
        else (analysis.best_baseline(main, "ndcg@10")[0])
    )
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(seconds, 1),
        "dataset": {
            "name": catalog.name,
            "items": catalog.items.height,
            "users": catalog.users.height,
            "interactions": catalog.interactions.height,
        },
        "config": cfg.model_dump(),
        "ks": list(cfg.ks),
        "n_boot": cfg.n_boot,
        "seed": cfg.seed,
        "grid": cfg.grid,
        "sections": sections,
        "section_titles": titles,
        "goals": [],  # filled by pipeline_goals
        "ablation": ablation,
        "buckets": analysis.activity_buckets(main) if main.results else None,
        "example_model": example_model,
        "notes": notes
        + main.notes
        + [n for r in extras.values() for n in r.notes]
        + (cold.notes if cold else []),
    }


def _figures(report: dict) -> dict[str, bytes]:
    figs = {}
    main = report["sections"]["main"]
    if main["models"]:
        figs["metric by model (primary protocol)"] = plots.metric_by_model(main["models"])
    cold = report["sections"].get("cold_items")
    if cold and cold["models"]:
        figs["metric by model (cold items)"] = plots.metric_by_model(cold["models"])
        both = {m["name"]: {"warm": m["metrics"]["recall@20"]["mean"]} for m in main["models"]}
        for m in cold["models"]:
            if m["name"] in both:
                both[m["name"]]["cold"] = m["metrics"]["recall@20"]["mean"]
        figs["cold vs warm"] = plots.grouped(
            both, "Recall@20: warm (primary) vs cold items", "recall@20"
        )
    if report.get("ablation") and report["ablation"]["rows"]:
        figs["modality ablation"] = plots.grouped(
            report["ablation"]["rows"], "Modality ablation", report["ablation"]["metric"]
        )
    if report.get("buckets"):
        figs["by user activity"] = plots.by_bucket(report["buckets"])
    gain = report.get("pipeline", {}).get("main", {}).get("feature_gain")
    if gain:
        figs["ranker feature contributions"] = plots.feature_gain(gain)
    return figs


def _examples(catalog: Catalog, main: SplitResults, model: str, cfg: EvalConfig) -> list[dict]:
    """Example users with titles and poster thumbnails (data URIs) for the HTML report."""
    rows = analysis.example_users(main, model, cfg.n_examples, cfg.seed)
    items = catalog.items.select("item_id", "title", "poster_path")
    lookup = {r["item_id"]: r for r in items.iter_rows(named=True)}

    def show(item_id: int, hit: bool = False) -> dict:
        row = lookup.get(item_id, {})
        try:
            path = catalog.resolve_media(row.get("poster_path"))
        except PermissionError:
            path = None
        return {
            "item_id": item_id,
            "title": row.get("title") or str(item_id),
            "thumb": thumbnail(path),
            "hit": hit,
        }

    return [
        {
            "user_id": ex["user_id"],
            "history": [show(i) for i in ex["history"][-8:]],
            "recs": [show(i, h) for i, h in zip(ex["recs"], ex["hits"], strict=True)],
        }
        for ex in rows
    ]
