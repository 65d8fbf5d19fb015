"""Fuse the per-modality item tables into ``item_fused``, recording lineage.

The content hash of a fused row hashes the (modality, encoder version, content hash) of every
part it used, so a re-run re-fuses exactly the items whose inputs changed.

Items are fused ``chunk`` ids at a time (each chunk read by id range, fused, written), so the
job's memory is bounded by the chunk, not the catalog: read whole, 1M items' text, image and
ratings vectors, their dense copies and the fused output took the embed job past 24 GB (the
OOM killer ended it on the 2-core box).
"""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np

from features.fusion import FusionConfig, create_fusion
from features.jobs.runner import ModalityResult, finish_table
from features.store import FeatureStore

FUSE_CHUNK = 50_000  # items per read-fuse-write step: ~0.35 GB per 1,700-d array


def fuse_items(
    store: FeatureStore,
    item_ids: list[int],
    config: FusionConfig,
    job_id: str,
    chunk: int = FUSE_CHUNK,
) -> ModalityResult:
    start = time.perf_counter()
    fusion = create_fusion(config)
    result = ModalityResult("item_fused", encoder=f"fusion-{fusion.name}")
    modalities = [m for m in config.weights if config.weights[m] > 0 and store.has("item", m)]
    if not modalities:
        result.unavailable = "no item modality tables to fuse"
        return result
    ids = np.asarray(sorted(item_ids), np.int64)
    versions = {m: store.latest_encoder_version("item", m) for m in modalities}
    dims = {m: store.dim("item", m) for m in modalities}
    lineage = {"fusion": config.model_dump(), "modalities": versions}
    lineage_key = json.dumps(lineage, sort_keys=True).encode()
    version = f"{fusion.version}+{hashlib.sha256(lineage_key).hexdigest()[:8]}"
    result.encoder_version = version
    done = store.latest_hashes("item", "fused", version)
    fused_any, missing = False, []
    for lo in range(0, len(ids), chunk):
        part = ids[lo : lo + chunk]
        parts, masks, hashes = _read_parts(store, part, versions, dims)
        keys = [
            "|".join(f"{m}:{versions[m]}:{hashes[m][i]}" for m in modalities if masks[m][i])
            for i in range(len(part))
        ]
        row_hash = [hashlib.sha256(k.encode()).hexdigest()[:32] for k in keys]
        any_part = np.any(np.stack([masks[m] for m in modalities]), axis=0)  # (n,)
        fused_any |= bool(any_part.any())
        missing += part[~any_part].tolist()
        todo = np.array(
            [i for i in range(len(part)) if any_part[i] and done.get(int(part[i])) != row_hash[i]],
            int,
        )
        result.skipped += int(any_part.sum()) - len(todo)
        if not len(todo):
            continue
        fused = fusion.fuse(
            {m: parts[m][todo] for m in modalities}, {m: masks[m][todo] for m in modalities}
        )  # (n_todo, D)
        store.write(
            "item",
            "fused",
            part[todo],
            fused,
            encoder=result.encoder,
            encoder_version=version,
            content_hashes=[row_hash[i] for i in todo],
            job_id=job_id,
            lineage=lineage,
            replace_on_dim_change=True,  # a new modality set widens late fusion
        )
        result.encoded += len(todo)
    if fused_any:  # every item was fused or already there: complete
        finish_table(store, "item", "fused", version, job_id, bool(result.encoded))
    result.errors = {int(i): "no modality vector to fuse" for i in missing}
    result.failed = len(missing)
    result.seconds = time.perf_counter() - start
    return result


def _read_parts(
    store: FeatureStore, ids: np.ndarray, versions: dict[str, str], dims: dict[str, int]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per modality: (n, d_m) vectors of the sorted ``ids`` (zeros where absent), the mask
    of present rows and their content hashes; read by the ids' range."""
    where = f"id >= {int(ids[0])} AND id <= {int(ids[-1])}"
    parts, masks, hashes = {}, {}, {}
    for m, version in versions.items():
        rows = store.rows("item", m, encoder_version=version, where=where)
        parts[m] = np.zeros((len(ids), dims[m]), np.float32)  # every chunk as wide
        masks[m] = np.zeros(len(ids), bool)
        hashes[m] = np.full(len(ids), "", dtype=object)
        if not len(rows):  # no item of this range has the modality
            continue
        found = rows["id"].to_numpy()
        vecs = np.asarray(rows["vector"].to_numpy(), np.float32).reshape(len(found), dims[m])
        pos = np.searchsorted(ids, found)
        keep = (pos < len(ids)) & (ids[np.minimum(pos, len(ids) - 1)] == found)
        parts[m][pos[keep]] = vecs[keep]
        masks[m][pos[keep]] = True
        hashes[m][pos[keep]] = np.asarray(rows["content_hash"].to_list(), dtype=object)[keep]
    return parts, masks, hashes
