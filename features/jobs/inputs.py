"""What each modality's encoder sees, with a content hash per row for incremental runs.

Text hashes are hashes of the exact string; posters are hashed by their bytes (small), trailers
by size + mtime (large: reading gigabytes to learn nothing changed would cost more than encoding).
Bad media paths become per-item errors here, before any model is loaded.

Texts built from dated events carry their event time (``valid_from``): an item with user tags
has two rows (base text undated, full text dated), so a row is keyed by its slot (id,
valid_from), not its id alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from features.encoders import text_inputs
from features.jobs.config import EmbedConfig
from recsys.core.catalog import Catalog


@dataclass
class ModalityInputs:
    """Rows to encode for one table; ``errors`` are ids already known to be bad (id -> reason).

    ``valid_from`` is aligned with ``ids`` (each row's event time, None = undated); empty means
    every row is undated (media, catalog text without dated tags).
    """

    entity: str
    modality: str
    ids: list[int]
    inputs: list[Any]
    hashes: list[str]
    errors: dict[int, str] = field(default_factory=dict)
    valid_from: list[datetime | None] = field(default_factory=list)

    def slots(self) -> list[tuple[int, datetime | None]]:
        """(id, valid_from) of every row: what a row is re-encoded or skipped by."""
        times = self.valid_from or [None] * len(self.ids)
        return list(zip(self.ids, times, strict=True))


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


def _texts(entity: str, modality: str, rows: Sequence[text_inputs.DatedText]) -> ModalityInputs:
    # An empty text carries no signal: no row (fusion masks it), and not an error either.
    kept = [r for r in rows if r.text and r.text.strip()]
    return ModalityInputs(
        entity,
        modality,
        [r.id for r in kept],
        [r.text for r in kept],
        [text_hash(r.text) for r in kept],
        valid_from=[r.valid_from for r in kept],
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
        return _texts("item", "text", text_inputs.dated_item_texts(items, catalog.tag_events))
    if modality == "review_text":
        # One row per item, no base row: before its first review an item has no review text.
        reviews = text_inputs.dated_review_texts(catalog.interactions, item_ids, cfg.max_reviews)
        return _texts("item", "review_text", reviews)
    if modality == "history_text":
        user_ids = [int(u) for u in catalog.users["user_id"].to_list()]
        history = text_inputs.user_history_texts(
            catalog.interactions, items, user_ids, cfg.history_items
        )
        rows = [text_inputs.DatedText(u, h) for u, h in zip(user_ids, history, strict=True)]
        return _texts("user", "history_text", rows)
    if modality == "image":
        return media_inputs(catalog, "image", "poster_path", by_bytes=True)
    if modality == "video":
        return media_inputs(catalog, "video", "trailer_path", by_bytes=False)
    raise ValueError(f"no input builder for modality {modality!r}")
