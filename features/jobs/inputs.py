"""What each modality's encoder sees, with a content hash per row for incremental runs.

Text hashes are hashes of the exact string; posters are hashed by their bytes (small), trailers
by size + mtime (large: reading gigabytes to learn nothing changed would cost more than encoding).
Bad media paths become per-item errors here, before any model is loaded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from features.encoders import text_inputs
from features.jobs.config import EmbedConfig
from recsys.core.catalog import Catalog


@dataclass
class ModalityInputs:
    """Rows to encode for one table; ``errors`` are ids already known to be bad (id -> reason)."""

    entity: str
    modality: str
    ids: list[int]
    inputs: list[Any]
    hashes: list[str]
    errors: dict[int, str] = field(default_factory=dict)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def file_hash(path: Path, by_bytes: bool) -> str:
    h = hashlib.sha256()
    if by_bytes:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    else:
        st = path.stat()
        h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:32]


def _texts(entity: str, modality: str, ids: list[int], texts: list[str]) -> ModalityInputs:
    # An empty text carries no signal: no row (fusion masks it), and not an error either.
    kept = [(i, t) for i, t in zip(ids, texts, strict=True) if t and t.strip()]
    return ModalityInputs(
        entity,
        modality,
        [i for i, _ in kept],
        [t for _, t in kept],
        [text_hash(t) for _, t in kept],
    )


def media_inputs(catalog: Catalog, modality: str, column: str, by_bytes: bool) -> ModalityInputs:
    out = ModalityInputs("item", modality, [], [], [])
    rows = catalog.items.select("item_id", column).filter(catalog.items[column].is_not_null())
    for item_id, relative in rows.iter_rows():
        try:
            path = catalog.resolve_media(relative)
            if path is None:
                raise FileNotFoundError("the dataset has no media root")
            if not path.is_file():
                raise FileNotFoundError(f"{path} does not exist or is not a file")
            digest = file_hash(path, by_bytes)
        except PermissionError as exc:
            out.errors[int(item_id)] = f"outside_media_root: {exc}"
            continue
        except OSError as exc:
            out.errors[int(item_id)] = f"missing_file: {column}={relative!r}: {exc}"
            continue
        out.ids.append(int(item_id))
        out.inputs.append(str(path))
        out.hashes.append(digest)
    return out


def build_inputs(catalog: Catalog, modality: str, cfg: EmbedConfig) -> ModalityInputs:
    """Inputs of one job modality (not "ratings", which is fitted, not encoded per row)."""
    items = catalog.items
    item_ids = [int(i) for i in items["item_id"].to_list()]
    if modality == "text":
        return _texts("item", "text", item_ids, text_inputs.item_texts(items))
    if modality == "review_text":
        reviews = text_inputs.review_texts(catalog.interactions, item_ids, cfg.max_reviews)
        return _texts("item", "review_text", item_ids, reviews)
    if modality == "history_text":
        user_ids = [int(u) for u in catalog.users["user_id"].to_list()]
        history = text_inputs.user_history_texts(
            catalog.interactions, items, user_ids, cfg.history_items
        )
        return _texts("user", "history_text", user_ids, history)
    if modality == "image":
        return media_inputs(catalog, "image", "poster_path", by_bytes=True)
    if modality == "video":
        return media_inputs(catalog, "video", "trailer_path", by_bytes=False)
    raise ValueError(f"no input builder for modality {modality!r}")
