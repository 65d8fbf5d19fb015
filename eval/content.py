"""Leak-free item content vectors for evaluation.

Text, image and video vectors come from the item's own content, so the store's vectors are used
as they are, read as of the split's cut-off: item text includes user tags (and review text
reviews) that are dated, and a tag written after the test began must not describe an item
(``content_cutoff``; the store keeps a tag-free base text for that). The ``ratings`` modality
(and any fusion that includes it) is computed from interactions, and the store's copy was fitted
on ALL interactions, test included: using it would leak test positives (and give cold test items
vectors learned from their test interactions). So ratings vectors are refitted on each fit frame
(train, then train+valid) and fused vectors are re-fused from those parts with the workspace's
fusion config.

The cut-off rule for a split (``content_cutoff``): the earliest timestamp of its test frame.
Strict on purpose: no tag written after any test interaction began can enter (on the cold-item
split that is T_test; on per-user splits it is the first test interaction of any user, so most
tags are left out).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import polars as pl

from eval.vectors import load_modalities
from features.fusion import FusionConfig, create_fusion
from features.jobs.config import EmbedConfig
from recsys.core.interactions import IdVocab
from recsys.core.splits import Split
from recsys.core.workspace import Workspace

log = logging.getLogger(__name__)


CONTENT = ("text", "image", "video")  # from the item itself: store vectors used as they are
# Read from the store only to say they are refused (see the module docstring).
DERIVED = ("ratings", "fused")


class ItemContent:
    """Item vectors per modality or modality set, never using interactions outside a fit frame.

    A spec is one modality (``"text"``), a ``+``-joined set fused with the workspace's fusion
    (``"text+image+ratings"``), or ``"fused"`` = every available modality fused.
    """

    def __init__(
        self,
        static: dict[str, np.ndarray],
        item_vocab: IdVocab,
        fusion_config: FusionConfig | None = None,
        notes: list[str] | None = None,
        ratings: bool = True,
    ):
        self.item_vocab = item_vocab
        self.static = {m: v for m, v in static.items() if m in CONTENT}
        self.fusion_config = fusion_config
        # ratings/fused are recomputed here, so "no such table" notes about them would mislead
        derived = tuple(f"modality {m!r}" for m in DERIVED)
        self.notes = [n for n in notes or [] if not n.startswith(derived)]
        self.ratings = ratings
        if any(m in static for m in DERIVED):
            self.notes.append(
                "store tables item_ratings/item_fused were fitted on all "
                "interactions (test included): not used; ratings vectors are "
                "refitted on each training frame and fused again"
            )
        self._cache: dict[tuple, np.ndarray] = {}

    @classmethod
    def from_store(
        cls,
        uri: str,
        item_vocab: IdVocab,
        fusion_config: FusionConfig | None = None,
        as_of: datetime | None = None,
    ) -> ItemContent:
        """Content vectors of the store at event-time cut-off ``as_of`` (``content_cutoff``).

        None reads every row ("now": tags and reviews from after the test included), so an
        evaluation should always pass the cut-off of the split(s) it scores.
        """
        static, notes = load_modalities(uri, item_vocab, (*CONTENT, *DERIVED), as_of)
        if as_of is not None:
            notes.append(
                f"item content read as of {as_of.isoformat()} (tags/reviews after it left out)"
            )
        return cls(static, item_vocab, fusion_config, notes)

    @property
    def modalities(self) -> list[str]:
        """Single modalities available (content ones from the store, plus ratings)."""
        return [*self.static, *(["ratings"] if self.ratings else [])]

    def ablation_specs(self) -> list[str]:
        """Text only, image only, then add video, ratings: whatever exists."""
        mods = self.modalities
        specs = [m for m in CONTENT if m in mods]
        cumulative: list[str] = []
        for m in mods:
            cumulative.append(m)
            if len(cumulative) > 1:
                specs.append("+".join(cumulative))
        if "ratings" in mods and "ratings" not in specs:
            specs.append("ratings")
        return list(dict.fromkeys(specs))

    def static_vectors(self, modality: str) -> np.ndarray:
        """Store vectors of a content modality (e.g. for the diversity metric)."""
        return self.static[modality]

    def for_frame(self, spec: str, frame: pl.DataFrame) -> np.ndarray:
        """(n_items, d) vectors of ``spec`` using no interaction outside ``frame``."""
        if spec in self.static:
            return self.static[spec]
        parts = self.modalities if spec == "fused" else spec.split("+")
        unknown = [m for m in parts if m not in self.modalities]
        if unknown:
            raise KeyError(f"modalities {unknown} not available (have {self.modalities})")
        key = (spec, frame.height, str(frame["timestamp"].max()) if frame.height else "")
        if key not in self._cache:
            if parts == ["ratings"]:
                self._cache[key] = self._ratings(frame)
            else:
                self._cache[key] = self._fuse(parts, frame)
        return self._cache[key]

    def _ratings(self, frame: pl.DataFrame) -> np.ndarray:
        from features.encoders.ratings import RatingsFeatures

        users = frame["user_id"].unique().sort().to_numpy()
        fitted = RatingsFeatures.fit(frame, self.item_vocab.ids, users)
        vectors = np.asarray(fitted.item_vectors(), np.float32)  # (n_items, d)
        # An item without interactions in the frame has no ratings signal: a zero row (mask
        # False) rather than the normalised numerical noise the factorisation leaves there.
        seen = self.item_vocab.index(frame["item_id"].unique().to_numpy())
        has = np.zeros(len(self.item_vocab), bool)
        has[seen[seen >= 0]] = True
        vectors[~has] = 0.0
        return vectors

    def _fuse(self, modalities: list[str], frame: pl.DataFrame) -> np.ndarray:
        config = self.fusion_config or FusionConfig()
        # every requested modality takes part even if the config gives it weight 0
        weights = {m: config.weights.get(m, 0.0) or 1.0 for m in modalities}
        config = config.model_copy(update={"weights": weights})
        parts = {m: self.for_frame(m, frame) for m in modalities}
        masks = {m: np.abs(v).sum(1) > 0 for m, v in parts.items()}
        return np.asarray(create_fusion(config).fuse(parts, masks), np.float32)  # (N, D)


def content_cutoff(*splits: Split) -> datetime | None:
    """Event-time cut-off of content read for ``splits``: the earliest start of their tests.

    A split's test starts at its earliest test timestamp, or at the ``T_test`` it declares when
    that is earlier (cold_item: test rows of users unseen before T_test are dropped, yet its
    new items were first seen at T_test). Several splits sharing one ``ItemContent`` get the
    earliest of their cut-offs (strict for all). None when no split has a test: nothing leaks.
    """
    starts = [t for s in splits for t in _test_starts(s)]
    return min(starts, default=None)


def _test_starts(split: Split) -> list[datetime]:
    first = split.test["timestamp"].min() if split.test.height else None
    declared = split.description.get("T_test")
    starts = [first] if isinstance(first, datetime) else []
    if isinstance(declared, str) and split.test.height:
        starts.append(datetime.fromisoformat(declared))  # splits record it as str(datetime)
    # canonical timestamps are UTC; a naive one (hand-made frames) means UTC too
    return [t if t.tzinfo else t.replace(tzinfo=UTC) for t in starts]


def workspace_fusion_config(ws: Workspace) -> FusionConfig | None:
    """The fusion config `recsys embed` used for this workspace (None = library default)."""
    try:
        return EmbedConfig.load(ws).fusion
    except (ValueError, OSError) as e:  # an unreadable embed.json must not stop the evaluation
        log.warning("using the default fusion config: %s", e)
        return None
