"""One registry helper for every extension point (encoders, fusion, indexes, sources, models…).

``Registry("encoder", Encoder)`` gives ``@encoders.register("minilm")``; registering a name
twice, or a class that does not implement the interface, is a programming error and raises at
import time instead of silently replacing the first implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> implementation class of one interface ``base``."""

    def __init__(self, kind: str, base: type):
        # `type`, not `type[T]`: bases are abstract ABCs, which mypy refuses as type[T];
        # callers name T in the annotation (INDEXES: Registry[Index] = ...)
        self.kind = kind
        self.base = base
        self._items: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: ``@registry.register("name")``."""

        def add(cls: type[T]) -> type[T]:
            if not (isinstance(cls, type) and issubclass(cls, self.base)):
                raise TypeError(f"{cls!r} is not a {self.base.__name__}: cannot be a {self.kind}")
            if name in self._items:
                raise KeyError(
                    f"{self.kind} {name!r} is already registered "
                    f"(by {self._items[name].__qualname__})"
                )
            self._items[name] = cls
            return cls

        return add

    def get(self, name: str) -> type[T]:
        """The class registered as ``name``; KeyError lists the known names."""
        if name not in self._items:
            known = ", ".join(sorted(self._items)) or "none"
            raise KeyError(f"unknown {self.kind} {name!r}; known: {known}")
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
