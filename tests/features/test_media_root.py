"""Media as users keep it (issue 13): a dataset whose ``posters/`` is a symlink to another disk.

Containment is checked on the lexically normalised path, so a symlink the dataset holds is
followed, while ``..`` and absolute paths out of the dataset are still refused.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from PIL import Image

from features.encoders.base import EncodeError
from features.jobs import EmbedConfig
from features.jobs.inputs import build_inputs
from features.media import load_image, resolve_media_path
from recsys.core.catalog import Catalog
from recsys.core.schemas import ITEMS_SCHEMA, USERS_SCHEMA
from tests.worlds import make_interactions


def linked_dataset(tmp_path: Path) -> tuple[Path, Path]:
    """``dataset/posters`` -> ``other-disk/posters`` (3 posters); a secret next to the dataset."""
    disk = tmp_path / "other-disk" / "posters"
    disk.mkdir(parents=True)
    for i in (1, 2, 3):
        Image.new("RGB", (16, 24), (60 * i, 20, 200)).save(disk / f"{i}.jpg")
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "posters").symlink_to(disk, target_is_directory=True)
    Image.new("RGB", (8, 8)).save(tmp_path / "secret.jpg")
    return dataset, disk


def reason_of(call) -> str:
    with pytest.raises(EncodeError) as info:
        call()
    return info.value.reason


def test_a_symlinked_folder_inside_the_root_is_read(tmp_path):
    dataset, disk = linked_dataset(tmp_path)
    assert resolve_media_path("posters/1.jpg", dataset) == disk / "1.jpg"  # resolved to read
    assert load_image("posters/2.jpg", dataset).size == (16, 24)
    # the lexical path under the root (what the catalog hands the encoders) passes again
    assert resolve_media_path(dataset / "posters" / "3.jpg", dataset) == disk / "3.jpg"


def test_dot_dot_and_absolute_paths_out_of_the_root_are_refused(tmp_path):
    dataset, disk = linked_dataset(tmp_path)
    secret = tmp_path / "secret.jpg"
    assert reason_of(lambda: resolve_media_path("../secret.jpg", dataset)) == "outside_media_root"
    assert reason_of(lambda: resolve_media_path(secret, dataset)) == "outside_media_root"
    # the symlink's target spelled directly is outside the dataset: the link is the only way in
    assert reason_of(lambda: resolve_media_path(disk / "1.jpg", dataset)) == "outside_media_root"
    # ``..`` after the link is collapsed lexically (inside the dataset, then out of it)
    escape = "posters/../../secret.jpg"
    assert reason_of(lambda: resolve_media_path(escape, dataset)) == "outside_media_root"


def catalog_of(dataset: Path, posters: list[str | None]) -> Catalog:
    n = len(posters)
    items = pl.DataFrame(
        {
            "item_id": list(range(1, n + 1)),
            "title": [f"Movie {i}" for i in range(1, n + 1)],
            "description": [""] * n,
            "genres": [[]] * n,
            "tags": [[]] * n,
            "year": [2000] * n,
            "poster_path": posters,
            "trailer_path": [None] * n,
        },
        schema=ITEMS_SCHEMA,
    )
    users = pl.DataFrame(schema=USERS_SCHEMA)
    return Catalog(items, users, make_interactions([]), media_root=dataset.resolve())


def test_the_input_builder_accepts_linked_posters_and_refuses_escapes(tmp_path):
    dataset, _ = linked_dataset(tmp_path)
    secret = str(tmp_path / "secret.jpg")
    posters = ["posters/1.jpg", "posters/2.jpg", "posters/3.jpg", "../secret.jpg", secret]
    catalog = catalog_of(dataset, posters)

    spec = build_inputs(catalog, "image", EmbedConfig())

    assert spec.ids == [1, 2, 3]
    assert spec.inputs == [str(dataset.resolve() / "posters" / f"{i}.jpg") for i in (1, 2, 3)]
    assert sorted(spec.errors) == [4, 5]
    assert all(r.startswith("outside_media_root") for r in spec.errors.values())
    with pytest.raises(PermissionError, match="outside the media root"):
        catalog.resolve_media("posters/../../secret.jpg")
