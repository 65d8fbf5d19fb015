"""HybridModel: two towers sharing item vectors, with a small causal transformer over history.

Item tower: ``Linear(content) + ID embedding`` (the ID part dropped at random in training, and
zero for cold items, so content alone places an item). Each item vector carries one extra
component, its bias (popularity prior), and every user vector ends in a constant 1: the score
stays a plain dot product, so FAISS inner-product search over ``item_vectors`` is exact.

User tower: the history tokens are the items' own vectors (shared with the item tower, like
SASRec) plus a learned position; a causal transformer reads ``[BOS, i1, ..., iL]`` and its output
at position t predicts item t+1. The user ID embedding and a projection of the user's viewing-
history text vector are added to that output. Unknown users (index -1) get neither, so an
anonymous history is encoded by the transformer alone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recsys.models.hybrid.config import HybridConfig
from recsys.models.hybrid.data import BOS


class Block(nn.Module):
    """Pre-norm transformer block with causal self-attention (nanoGPT layout)."""

    def __init__(self, cfg: HybridConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.ln_1 = nn.LayerNorm(cfg.dim)
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.ln_2 = nn.LayerNorm(cfg.dim)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.dim, 4 * cfg.dim), nn.GELU(), nn.Linear(4 * cfg.dim, cfg.dim)
        )
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln_1(x)).split(D, dim=2)  # 3 x (B, T, D)
        q, k, v = (t.view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2) for t in (q, k, v))
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)  # (B, H, T, hd)
        y = y.transpose(1, 2).reshape(B, T, D)
        x = x + F.dropout(self.proj(y), p, self.training)
        return x + F.dropout(self.mlp(self.ln_2(x)), p, self.training)


class HybridModel(nn.Module):
    """Parameters plus the per-item content and per-user text vectors they read (as buffers)."""

    content: torch.Tensor  # buffers, declared for type checkers (register_buffer sets them)
    user_text: torch.Tensor
    user_text_mask: torch.Tensor

    def __init__(
        self,
        cfg: HybridConfig,
        content: torch.Tensor,  # (n_items, Dc) fused content vectors, zeros where missing
        n_users: int,
        user_text: torch.Tensor | None = None,  # (n_users, Dt) history-text vectors
        user_text_mask: torch.Tensor | None = None,  # (n_users,) bool
    ):
        super().__init__()
        self.cfg = cfg
        n_items, content_dim = content.shape
        out = cfg.dim + 1  # vector + bias component
        self.register_buffer("content", content.float().contiguous())
        self.content_proj = nn.Linear(content_dim, out)
        self.item_id = nn.Embedding(n_items, out)
        self.user_id = nn.Embedding(max(n_users, 1), cfg.dim)
        self.bos = nn.Parameter(torch.zeros(cfg.dim))
        self.pos = nn.Embedding(cfg.max_len + 1, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.dim)
        if user_text is None:
            user_text = torch.zeros(max(n_users, 1), 0)
            user_text_mask = torch.zeros(max(n_users, 1), dtype=torch.bool)
        elif user_text_mask is None:
            raise ValueError("user_text needs its user_text_mask (which users have text)")
        self.register_buffer("user_text", user_text.float().contiguous())
        self.register_buffer("user_text_mask", user_text_mask.bool().contiguous())
        self.text_proj = nn.Linear(user_text.shape[1], cfg.dim) if user_text.shape[1] else None
        for emb in (self.item_id, self.user_id, self.pos):
            nn.init.normal_(emb.weight, std=0.02)

    @property
    def n_items(self) -> int:
        return self.item_id.num_embeddings

    @property
    def n_users(self) -> int:
        return self.user_id.num_embeddings

    def item_vectors(self, id_keep: torch.Tensor | None = None) -> torch.Tensor:
        """(n_items, dim+1) vectors; ``id_keep`` (n_items,) zeroes ID rows (ID dropout)."""
        ids = self.item_id.weight  # (N, D+1)
        if id_keep is not None:
            ids = ids * id_keep[:, None]
        return self.content_proj(self.content) + ids

    def encode(
        self, users: torch.Tensor, tokens: torch.Tensor, items: torch.Tensor
    ) -> torch.Tensor:
        """User vectors at every position.

        Args:
            users: (B,) dense user index, -1 for unknown users.
            tokens: (B, T) item index, ``BOS`` or ``PAD`` (padding only after real tokens).
            items: (N, dim+1) item vectors from ``item_vectors``.

        Returns:
            (B, T, dim+1) user vectors; position t has read tokens[:, : t + 1].
        """
        B, T = tokens.shape
        D = self.cfg.dim
        x = items[tokens.clamp(min=0), :D]  # (B, T, D)
        x = torch.where((tokens >= 0)[..., None], x, torch.zeros_like(x))
        x = torch.where((tokens == BOS)[..., None], self.bos.to(x.dtype).expand_as(x), x)
        x = x + self.pos.weight[:T]  # (B, T, D)
        x = F.dropout(x, self.cfg.dropout, self.training)
        for block in self.blocks:
            x = block(x)
        h = self.ln_f(x)  # (B, T, D)
        known = users >= 0
        safe = users.clamp(min=0)
        u = self.user_id(safe) * known[:, None]  # (B, D)
        if self.text_proj is not None:
            has_text = (known & self.user_text_mask[safe])[:, None]
            u = u + self.text_proj(self.user_text[safe]) * has_text
        h = h + u[:, None, :]  # (B, T, D)
        return torch.cat([h, torch.ones_like(h[..., :1])], dim=-1)  # (B, T, D+1)

    @torch.no_grad()
    def resize(
        self,
        item_map: torch.Tensor,  # (n_old_items,) new row of each old item
        content: torch.Tensor,  # (n_new_items, Dc)
        user_map: torch.Tensor,  # (n_old_users,) new row of each old user
        n_users: int,
        user_text: torch.Tensor | None = None,
        user_text_mask: torch.Tensor | None = None,
    ) -> None:
        """Grow the ID tables (new rows = 0, so content decides for new items)."""
        item_rows = torch.zeros(content.shape[0], self.cfg.dim + 1)
        item_rows[item_map] = self.item_id.weight.detach().cpu()
        self.item_id = nn.Embedding.from_pretrained(item_rows, freeze=False)
        self.content = content.float().contiguous()
        user_rows = torch.zeros(max(n_users, 1), self.cfg.dim)
        user_rows[user_map] = self.user_id.weight.detach().cpu()[: len(user_map)]
        self.user_id = nn.Embedding.from_pretrained(user_rows, freeze=False)
        if user_text is None or self.text_proj is None:  # keep old users' rows, remapped
            user_text = torch.zeros(max(n_users, 1), self.user_text.shape[1])
            user_text_mask = torch.zeros(max(n_users, 1), dtype=torch.bool)
            user_text[user_map] = self.user_text.cpu()[: len(user_map)]
            user_text_mask[user_map] = self.user_text_mask.cpu()[: len(user_map)]
        elif user_text_mask is None:
            raise ValueError("user_text needs its user_text_mask (which users have text)")
        self.user_text = user_text.float().contiguous()
        self.user_text_mask = user_text_mask.bool().contiguous()
