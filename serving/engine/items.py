"""Read-only, array-shaped view of the catalog that the engine ranks over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recsys.core.catalog import Catalog
from recsys.core.interactions import IdVocab


@dataclass(frozen=True)
class ItemTable:
    """Items in ``vocab`` order (dense index = position); every array has one row per item."""

    vocab: IdVocab
    titles: list[str]
    years: np.ndarray  # (n,) int32, -1 when unknown
    poster_paths: list[str | None]  # relative to the catalog's media root
    trailer_paths: list[str | None]  # likewise; None for a title without a trailer
    genre_masks: dict[str, np.ndarray]  # lower-cased genre -> (n,) bool

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> ItemTable:
        items = catalog.items.sort("item_id")
        n = items.height
        genres = items["genres"].to_list() if "genres" in items.columns else [None] * n
        masks: dict[str, np.ndarray] = {}
        for i, row in enumerate(genres):
            for g in row or []:
                masks.setdefault(g.lower(), np.zeros(n, bool))[i] = True
        years = items["year"].fill_null(-1).to_numpy() if "year" in items.columns else None
        posters = items["poster_path"].to_list() if "poster_path" in items.columns else [None] * n
        trailers = (
            items["trailer_path"].to_list() if "trailer_path" in items.columns else [None] * n
        )
        return cls(
            vocab=IdVocab(items["item_id"].to_numpy().astype(np.int64)),
            titles=[
                t or f"item {i}"
                for t, i in zip(items["title"].to_list(), items["item_id"], strict=True)
            ],
            years=(np.full(n, -1, np.int32) if years is None else years.astype(np.int32)),
            poster_paths=posters,
            trailer_paths=trailers,
            genre_masks=masks,
        )

    def __len__(self) -> int:
        return len(self.vocab)

    @property
    def genres(self) -> list[str]:
        """The catalog's genres, lower-cased and sorted: what the genre filter can match."""
        return sorted(self.genre_masks)

    def filter_mask(
        self, genre: str | None, year_min: int | None, year_max: int | None
    ) -> np.ndarray | None:
        """(n,) bool of items passing the filters, or None when no filter is set."""
        if not genre and year_min is None and year_max is None:
            return None
        mask = np.ones(len(self), bool)
        if genre:
            mask &= self.genre_masks.get(genre.lower(), np.zeros(len(self), bool))
        if year_min is not None:
            mask &= self.years >= year_min
        if year_max is not None:
            mask &= (self.years <= year_max) & (self.years >= 0)
        return mask
