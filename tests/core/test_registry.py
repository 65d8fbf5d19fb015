"""The one registry helper: refuses duplicates and classes outside the interface."""

from __future__ import annotations

from abc import ABC, abstractmethod

import pytest

from recsys.core.registry import Registry


class Shape(ABC):
    @abstractmethod
    def area(self) -> float: ...


def test_register_get_and_list():
    shapes: Registry[Shape] = Registry("shape", Shape)

    @shapes.register("unit")
    class Unit(Shape):
        def area(self) -> float:
            return 1.0

    assert shapes.get("unit") is Unit and "unit" in shapes and shapes.names() == ["unit"]
    with pytest.raises(KeyError, match="unknown shape 'disc'; known: unit"):
        shapes.get("disc")


def test_duplicate_name_and_foreign_class_are_refused():
    shapes: Registry[Shape] = Registry("shape", Shape)

    @shapes.register("unit")
    class Unit(Shape):
        def area(self) -> float:
            return 1.0

    with pytest.raises(KeyError, match="already registered"):
        shapes.register("unit")(Unit)
    with pytest.raises(TypeError, match="is not a Shape"):
        shapes.register("text")(str)  # type: ignore[arg-type]
    assert shapes.names() == ["unit"]


def test_every_extension_point_uses_it():
    from features.encoders.base import ENCODERS
    from features.fusion.base import FUSIONS
    from index.candidates.base import CANDIDATE_SOURCES
    from index.interface import INDEXES
    from recsys.models.base import RECOMMENDERS

    for registry in (ENCODERS, FUSIONS, CANDIDATE_SOURCES, INDEXES, RECOMMENDERS):
        assert isinstance(registry, Registry) and len(registry) >= 2, registry.kind
