"""HybridRecommender: the trained hybrid model behind the ``Recommender`` interface.

It keeps each known user's ordered positive history from training, because the ``histories``
CSR of ``score`` has no order; the CSR is used for unknown users and to append fresh session
items a known user has not had in training.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.core.interactions import IdVocab
from recsys.models.base import Recommender, register
from recsys.models.hybrid import encode
from recsys.models.hybrid.checkpoint import load_checkpoint, save_checkpoint
from recsys.models.hybrid.config import HybridConfig
from recsys.models.hybrid.data import Sequences
from recsys.models.hybrid.rescorer import Rescorer, content_unit
from recsys.models.hybrid.train import Log, train

_log = logging.getLogger(__name__)


@register
class HybridRecommender(Recommender):
    name: ClassVar[str] = "hybrid"

    def __init__(
        self,
        model,  # HybridModel (torch import stays lazy)
        item_vocab: IdVocab,
        user_vocab: IdVocab,
        sequences: Sequences,
        lineage: dict[str, Any] | None = None,
        rescorer: Rescorer | None = None,
    ):
        self.model = model.cpu().eval()
        self.item_vocab = item_vocab
        self.user_vocab = user_vocab
        self.sequences = sequences
        self.lineage = dict(lineage or {})
        self._item_vectors: np.ndarray | None = None
        self.rescorer = rescorer  # used by ``score`` when set
        self._content_unit: np.ndarray | None = None

    @classmethod
    def fit(
        cls,
        interactions: pl.DataFrame,
        item_vocab: IdVocab,
        vectors: np.ndarray | None = None,
        config: HybridConfig | None = None,
        log: Log = _log.debug,
        device: str | None = None,
        **overrides: Any,
    ) -> HybridRecommender:
        """``fit_hybrid`` behind the ``Recommender`` contract.

        ``vectors`` (len(item_vocab), Dc) are the items' content vectors (None = IDs only);
        ``overrides`` replace fields of ``config`` (default ``HybridConfig()``), so a tuning
        grid can name hyper-parameters directly.
        """
        base = (config or HybridConfig()).to_dict()
        cfg = HybridConfig.from_dict({**base, **overrides})
        # an all-zero content matrix means "IDs only" to the hybrid
        content = vectors if vectors is not None else np.zeros((len(item_vocab), 1), np.float32)
        return fit_hybrid(interactions, item_vocab.ids, content, cfg, log=log, device=device)

    @property
    def config(self) -> HybridConfig:
        return self.model.cfg

    def item_vectors(self) -> np.ndarray:
        """(n_items, dim+1) float32 item vectors in ``item_vocab`` order (last column = bias)."""
        if self._item_vectors is None:
            self._item_vectors = encode.item_vectors(self.model)
        return self._item_vectors

    def encode_users(self, user_idx: np.ndarray, sequences: list[np.ndarray]) -> np.ndarray:
        """(B, dim+1) user vectors; ``sequences`` = dense item indices, oldest -> newest.

        ``user_idx`` is -1 for an anonymous user: the history alone then defines the vector.
        """
        return encode.encode_users(
            self.model, self.item_vectors(), user_idx, sequences, self.config.max_len
        )

    def history(self, user: int, extra: np.ndarray | None = None) -> np.ndarray:
        """Ordered history of a dense user index (-1: empty) + ``extra`` items not in it."""
        seq = self.sequences.row(user) if 0 <= user < self.sequences.n_users else np.zeros(0, int)
        if extra is not None and len(extra):
            seq = np.concatenate([seq, extra[~np.isin(extra, seq)]])
        return seq

    def score(self, users: np.ndarray, histories: sp.csr_matrix) -> np.ndarray:
        histories = sp.csr_matrix(histories)
        seqs = [
            self.history(int(u), histories.indices[histories.indptr[r] : histories.indptr[r + 1]])
            for r, u in enumerate(np.asarray(users))
        ]
        dot = self.encode_users(np.asarray(users), seqs) @ self.item_vectors().T  # (B, N)
        return self.rescore(dot, seqs)

    def rescore(self, dot: np.ndarray, seqs: list[np.ndarray]) -> np.ndarray:
        """(B, N) re-scorer blend of tower scores ``dot`` for users with histories ``seqs``
        (``dot`` itself without a re-scorer)."""
        if self.rescorer is None:
            return dot
        if self._content_unit is None:
            self._content_unit = content_unit(self.model.content.numpy())
        lens = [len(s) for s in seqs]
        indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        cols = np.concatenate(seqs).astype(np.int64) if seqs else np.zeros(0, np.int64)
        hist = sp.csr_matrix(
            (np.ones(len(cols), np.float32), cols, indptr), shape=(len(seqs), dot.shape[1])
        )
        feats = self.rescorer.features(dot, hist, self._content_unit)
        return self.rescorer.blend(feats).astype(np.float32)

    def add_items(self, item_ids: np.ndarray, content: np.ndarray) -> np.ndarray:
        """Add (cold) items scored from content alone; returns their dense indices."""
        self.grow(item_ids, content, np.zeros(0, np.int64))
        return self.item_vocab.index(item_ids)

    def grow(
        self,
        item_ids: np.ndarray,
        content: np.ndarray,
        user_ids: np.ndarray,
        user_text: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        """Extend the vocabularies with new ids (existing ids keep their learned rows).

        Args:
            item_ids: ids to ensure, with ``content`` (len(item_ids), Dc) rows; new items get a
                zero ID row, so their content projection alone places them.
            user_ids: ids to ensure; new users get a zero ID row and an empty history.
            user_text: optional (vectors (n_users_new, Dt), mask) in the new user order.
        """
        import torch

        item_ids = np.asarray(item_ids, np.int64)
        old_content = self.model.content.numpy()
        content = np.asarray(content, np.float32)
        if content.size != len(item_ids) * old_content.shape[1]:
            raise ValueError(
                f"content must be ({len(item_ids)}, {old_content.shape[1]}) for {len(item_ids)} "
                f"items of a model trained on {old_content.shape[1]}-d content, got {content.shape}"
            )
        content = content.reshape(len(item_ids), old_content.shape[1])
        items = IdVocab.from_ids(np.concatenate([self.item_vocab.ids, item_ids]))
        users = IdVocab.from_ids(np.concatenate([self.user_vocab.ids, user_ids]))
        item_map = items.index(self.item_vocab.ids)
        user_map = users.index(self.user_vocab.ids)
        new_content = np.zeros((len(items), old_content.shape[1]), np.float32)
        new_content[items.index(item_ids)] = content
        new_content[item_map] = old_content  # learned items keep the content they trained with
        text = None
        if user_text is not None:
            text = (torch.from_numpy(user_text[0]), torch.from_numpy(user_text[1]))
        self.model.resize(
            torch.from_numpy(item_map), torch.from_numpy(new_content),
            torch.from_numpy(user_map), len(users), *(text or (None, None)),
        )  # fmt: skip
        self.sequences = _remap_sequences(self.sequences, item_map, user_map, len(users))
        self.item_vocab, self.user_vocab = items, users
        self._item_vectors = None
        self._content_unit = None
        if self.rescorer is not None:
            self.rescorer.remap(item_map, len(items))

    def save(self, directory: Path) -> None:
        save_checkpoint(self, Path(directory))

    @classmethod
    def load(cls, directory: Path) -> HybridRecommender:
        return cls(**load_checkpoint(Path(directory)))


def fit_hybrid(
    interactions: pl.DataFrame,
    item_ids: np.ndarray,
    content: np.ndarray,
    config: HybridConfig | None = None,
    valid: pl.DataFrame | None = None,
    log: Log = print,
    *,
    user_text: tuple[np.ndarray, np.ndarray] | None = None,
    init: HybridRecommender | None = None,
    since: datetime | None = None,
    device: str | None = None,
) -> HybridRecommender:
    """Train the hybrid ranker with validation-based early stopping.

    Args:
        interactions: canonical interactions (INTERACTIONS_SCHEMA columns).
        item_ids: (N,) catalog ids; ``content`` (N, Dc) their content vectors (zeros = none).
        config: hyper-parameters (default ``HybridConfig()``).
        valid: held-out interactions; None = each user's last ``valid_last_n`` positives.
        log: receives progress lines (``step 500: train loss ..., valid NDCG@10 ...``).
        user_text: optional (user_ids (U,), vectors (U, Dt)) viewing-history text vectors.
        init: warm start from this model (its ID tables are grown to the new vocabularies).
        since: with ``init``: train on windows with targets newer than this, plus a replay
            sample of older ones.
        device: torch device; default ``pick_device()``.

    Returns:
        The best model (by valid NDCG@10); its histories include the held-out interactions.
    """
    t = train(interactions, item_ids, content, config, valid, log, user_text=user_text,
              init=init, since=since, device=device)  # fmt: skip
    return HybridRecommender(t.model, t.items, t.users, t.sequences, t.lineage, t.rescorer)


def update_hybrid(
    init: HybridRecommender,
    interactions: pl.DataFrame,
    item_ids: np.ndarray,
    content: np.ndarray,
    valid: pl.DataFrame | None = None,
    log: Log = print,
    **kwargs,
) -> HybridRecommender:
    """Warm start: grow ``init`` to the new ids and train on interactions newer than it saw."""
    last = init.lineage.get("last_interaction_at")
    since = datetime.fromisoformat(last) if last else None
    return fit_hybrid(interactions, item_ids, content, init.config, valid, log,
                      init=init, since=since, **kwargs)  # fmt: skip


def _remap_sequences(seqs: Sequences, item_map, user_map, n_users: int) -> Sequences:
    lengths = np.zeros(n_users, np.int64)
    lengths[user_map] = np.diff(seqs.indptr)
    indptr = np.zeros(n_users + 1, np.int64)
    np.cumsum(lengths, out=indptr[1:])
    order = np.argsort(user_map, kind="stable")  # old users in their new row order
    parts = [np.arange(seqs.indptr[u], seqs.indptr[u + 1]) for u in order]
    take = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return Sequences(indptr, item_map[seqs.items[take]], seqs.weights[take], seqs.times[take])
