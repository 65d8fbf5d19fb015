"""Fuse the per-modality item tables into ``item_fused``, recording lineage.

The content hash of a fused row hashes the (modality, encoder version, content hash) of every
part it used, so a re-run re-fuses exactly the items whose inputs changed.
"""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np

from features.fusion import FusionConfig, create_fusion
from features.jobs.runner import ModalityResult, finish_table
from features.store import FeatureStore


def fuse_items(
    store: FeatureStore, item_ids: list[int], config: FusionConfig, job_id: str
) -> ModalityResult:
    start = time.perf_counter()
    fusion = create_fusion(config)
    result = ModalityResult("item_fused", encoder=f"fusion-{fusion.name}")
    modalities = [m for m in config.weights if config.weights[m] > 0 and store.has("item", m)]
    if not modalities:
        result.unavailable = "no item modality tables to fuse"
        return result
    ids = np.asarray(sorted(item_ids), np.int64)
    parts, masks, hashes, versions = {}, {}, {}, {}
    for m in modalities:
        rows = store.rows("item", m)
        versions[m] = str(rows["encoder_version"][0])
        found = rows["id"].to_numpy()
        vecs = np.asarray(rows["vector"].to_numpy(), np.float32)  # (n_m, d_m)
        pos = np.searchsorted(ids, found)
        keep = (pos < len(ids)) & (ids[np.minimum(pos, len(ids) - 1)] == found)
        parts[m] = np.zeros((len(ids), vecs.shape[1]), np.float32)  # (N, d_m)
        parts[m][pos[keep]] = vecs[keep]
        masks[m] = np.zeros(len(ids), bool)
        masks[m][pos[keep]] = True
        hashes[m] = np.full(len(ids), "", dtype=object)
        hashes[m][pos[keep]] = np.asarray(rows["content_hash"].to_list(), dtype=object)[keep]
    lineage = {"fusion": config.model_dump(), "modalities": versions}
    lineage_key = json.dumps(lineage, sort_keys=True).encode()
    version = f"{fusion.version}+{hashlib.sha256(lineage_key).hexdigest()[:8]}"
    result.encoder_version = version
    keys = [
        "|".join(f"{m}:{versions[m]}:{hashes[m][i]}" for m in modalities if masks[m][i])
        for i in range(len(ids))
    ]
    row_hash = [hashlib.sha256(k.encode()).hexdigest()[:32] for k in keys]
    any_part = np.any(np.stack([masks[m] for m in modalities]), axis=0)  # (N,)
    done = store.latest_hashes("item", "fused", version)
    todo = np.array(
        [i for i in range(len(ids)) if any_part[i] and done.get(int(ids[i])) != row_hash[i]], int
    )
    result.skipped = int(any_part.sum()) - len(todo)
    if len(todo):
        fused = fusion.fuse(
            {m: parts[m][todo] for m in modalities}, {m: masks[m][todo] for m in modalities}
        )  # (n_todo, D)
        store.write(
            "item",
            "fused",
            ids[todo],
            fused,
            encoder=result.encoder,
            encoder_version=version,
            content_hashes=[row_hash[i] for i in todo],
            job_id=job_id,
            lineage=lineage,
            replace_on_dim_change=True,  # a new modality set widens late fusion
        )
    result.encoded = len(todo)
    if any_part.any():  # every item was fused or already there (one write): complete
        finish_table(store, "item", "fused", version, job_id, bool(len(todo)))
    missing = {int(ids[i]): "no modality vector to fuse" for i in np.flatnonzero(~any_part)}
    result.errors, result.failed = missing, len(missing)
    result.seconds = time.perf_counter() - start
    return result
