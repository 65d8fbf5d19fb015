"""Validation during training: loss and full-ranking NDCG@10 with seen items excluded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recsys.core.metrics import METRICS
from recsys.models.hybrid.data import Sequences, history_tokens

EVAL_BATCH = 256


@dataclass
class ValidSet:
    """Held-out positives of some users plus what each of them has already seen."""

    users: np.ndarray  # (V,) dense user index
    tokens: np.ndarray  # (V, T) encoder input from the training history
    last: np.ndarray  # (V,) position of the last real token
    targets: sp.csr_matrix  # (V, n_items) held-out positives (weight as value)
    seen: sp.csr_matrix  # (V, n_items) training interactions, excluded from the ranking

    @classmethod
    def build(
        cls, held: sp.csr_matrix, seen: sp.csr_matrix, seqs: Sequences, max_len: int
    ) -> ValidSet:
        users = np.flatnonzero(np.diff(held.indptr) > 0)
        tokens, last = history_tokens([seqs.row(int(u)) for u in users], max_len)
        return cls(users, tokens, last, held[users], seen[users])

    def __len__(self) -> int:
        return len(self.users)


def evaluate(model, valid: ValidSet, device: str, k: int = 10) -> tuple[float, float]:
    """(mean cross-entropy of held-out items, mean NDCG@k over users) with the model in eval."""
    import torch

    if not len(valid):
        return float("nan"), float("nan")
    was_training = model.training
    model.eval()
    losses, ndcgs = [], []

    def t(a: np.ndarray):
        return torch.from_numpy(a).to(device)

    with torch.no_grad():
        items = model.item_vectors()  # (N, D+1)
        for lo in range(0, len(valid), EVAL_BATCH):
            hi = min(lo + EVAL_BATCH, len(valid))
            users = t(valid.users[lo:hi])
            tokens = t(valid.tokens[lo:hi])
            h = model.encode(users, tokens, items)  # (b, T, D+1)
            u = h[torch.arange(hi - lo, device=device), t(valid.last[lo:hi])]
            scores = (u @ items.T).float()  # (b, N)
            target = valid.targets[lo:hi]
            rows, cols = target.nonzero()
            logp = torch.log_softmax(scores, dim=1)
            losses.append(-logp[t(rows), t(cols)].cpu().numpy())
            seen_r, seen_c = valid.seen[lo:hi].nonzero()
            scores[t(seen_r), t(seen_c)] = -torch.inf
            top = torch.topk(scores, min(k, scores.shape[1]), dim=1).indices.cpu().numpy()
            dense = target.toarray() > 0  # (b, N)
            hits = np.take_along_axis(dense, top, axis=1)  # (b, k)
            ndcgs.append(METRICS["ndcg"].per_user(hits, dense.sum(1), k))
    model.train(was_training)
    return float(np.concatenate(losses).mean()), float(np.concatenate(ndcgs).mean())
