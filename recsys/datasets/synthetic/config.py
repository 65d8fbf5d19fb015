"""Configuration of the synthetic streaming catalog."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class SynthConfig:
    """Sizes and knobs of the generated world; the same config and seed give the same bytes.

    Attributes:
        items: Number of items (titles) in the catalog.
        users: Number of users.
        interactions: Target number of interaction rows (approximately honoured: duplicate
            user-item draws are dropped).
        seed: Random seed.
        media: Write posters (JPEG) and trailers (MP4); without media the path columns are null.
        dim: Dimension of the latent style/taste space.
        cold_fraction: Share of items that never get an interaction.
        sparse_user_fraction: Share of users with only one or two interactions.
        preference_strength: Inverse temperature of taste·style in item choice and ratings.
        popularity_skew: Sigma of the log-normal item popularity (long tail when large).
        days: Length of the interaction window in days (about two years).
        start: First day of the window (ISO date, UTC).
        workers: Processes used to render media (0 = one per CPU, capped at 4).
    """

    items: int = 2000
    users: int = 1000
    interactions: int = 100_000
    seed: int = 0
    media: bool = True
    dim: int = 16
    cold_fraction: float = 0.05
    sparse_user_fraction: float = 0.08
    preference_strength: float = 6.0
    popularity_skew: float = 1.4
    days: int = 730
    start: str = "2024-01-01"
    workers: int = 0

    def __post_init__(self) -> None:
        if self.items < 20 or self.users < 5 or self.interactions < self.users:
            raise ValueError(
                "SynthConfig needs items >= 20, users >= 5 and interactions >= users, got "
                f"items={self.items}, users={self.users}, interactions={self.interactions}"
            )
        if not 0.0 <= self.cold_fraction < 0.5:
            raise ValueError(f"cold_fraction must be in [0, 0.5), got {self.cold_fraction}")

    def to_dict(self) -> dict:
        return asdict(self)
