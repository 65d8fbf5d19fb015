"""Checkpoint files of the hybrid ranker (no pickle anywhere).

```
<run>/models/hybrid/
  manifest.json       {"name": "hybrid", "files": [...]}: what ``load_recommender`` dispatches on
  model.safetensors   weights + content/text buffers
  config.json         HybridConfig + table shapes (load rebuilds the model from it)
  vocab.npz           item_ids, user_ids (dense index = position)
  histories.npz       per-user ordered positive histories (indptr, items, weights, times)
  item_vectors.npz    item_ids, vectors (n_items, dim+1): what the FAISS index is built from
  lineage.json        data counts, last interaction time, feature sources, training results
  rescorer.npz        optional re-scorer: blend weights, sparse EASE weights, log popularity
```
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recsys.core.interactions import IdVocab
from recsys.models.hybrid.config import HybridConfig
from recsys.models.hybrid.data import Sequences
from recsys.models.hybrid.rescorer import Rescorer

if TYPE_CHECKING:  # annotation only: the recommender is assembled from what load returns
    from recsys.models.hybrid.recommender import HybridRecommender

RESCORER = "rescorer.npz"  # optional
FILES = (
    "manifest.json", "model.safetensors", "config.json", "vocab.npz", "histories.npz",
    "lineage.json",
)  # fmt: skip


def save_checkpoint(rec: HybridRecommender, directory: Path) -> None:
    """Write every file of ``rec`` into ``directory``."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    model = rec.model
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / "model.safetensors"))
    shapes = {
        "n_items": model.n_items,
        "n_users": model.n_users,
        "content_dim": int(model.content.shape[1]),
        "text_dim": int(model.user_text.shape[1]),
    }
    config = {"name": rec.name, "config": model.cfg.to_dict(), **shapes}
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    manifest = {"name": rec.name, "files": list(FILES)}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
    np.savez(directory / "vocab.npz", item_ids=rec.item_vocab.ids, user_ids=rec.user_vocab.ids)
    seqs = rec.sequences
    np.savez(directory / "histories.npz", indptr=seqs.indptr, items=seqs.items,
             weights=seqs.weights, times=seqs.times)  # fmt: skip
    np.savez(directory / "item_vectors.npz", item_ids=rec.item_vocab.ids,
             vectors=rec.item_vectors())  # fmt: skip
    (directory / "lineage.json").write_text(json.dumps(rec.lineage, indent=2, default=str))
    if rec.rescorer is not None:
        rec.rescorer.save(directory / RESCORER)
    else:
        (directory / RESCORER).unlink(missing_ok=True)


def load_checkpoint(directory: Path) -> dict[str, Any]:
    """A ``HybridRecommender``'s constructor arguments, read from ``directory``.

    Keys: model (HybridModel on the CPU), item_vocab, user_vocab, sequences, lineage, rescorer.
    """
    import torch
    from safetensors.torch import load_file

    from recsys.models.hybrid.model import HybridModel  # imports torch: kept lazy

    missing = [f for f in FILES if not (directory / f).exists()]
    if missing:
        raise FileNotFoundError(f"hybrid checkpoint {directory} lacks {', '.join(missing)}")
    meta = json.loads((directory / "config.json").read_text())
    cfg = HybridConfig.from_dict(meta["config"])
    text = torch.zeros(meta["n_users"], meta["text_dim"]) if meta["text_dim"] else None
    mask = torch.zeros(meta["n_users"], dtype=torch.bool) if meta["text_dim"] else None
    model = HybridModel(
        cfg, torch.zeros(meta["n_items"], meta["content_dim"]), meta["n_users"], text, mask
    )
    model.load_state_dict(load_file(str(directory / "model.safetensors")))
    with np.load(directory / "vocab.npz", allow_pickle=False) as v:
        items, users = IdVocab(v["item_ids"]), IdVocab(v["user_ids"])
    with np.load(directory / "histories.npz", allow_pickle=False) as h:
        seqs = Sequences(h["indptr"], h["items"], h["weights"], h["times"])
    lineage = json.loads((directory / "lineage.json").read_text())
    rescorer = Rescorer.load(directory / RESCORER) if (directory / RESCORER).exists() else None
    return {"model": model, "item_vocab": items, "user_vocab": users, "sequences": seqs,
            "lineage": lineage, "rescorer": rescorer}  # fmt: skip
