"""The ``Encoder`` interface shared by offline batch jobs and the online API.

Every encoder returns L2-normalised float32 vectors, has a ``name`` and a ``version`` that are
stored with every vector (lineage), and picks its device through ``recsys.core.device``.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from recsys.core.registry import Registry


class EncodeError(ValueError):
    """One input could not be encoded (corrupt file, bad path...); the message says why.

    ``reason`` is a short machine-readable code (``missing_file``, ``corrupt_image``...); the
    message starts with it so that error tables stay greppable as plain strings. Without an
    explicit ``reason`` the message is kept as is and a leading ``code:`` is taken as the reason.
    """

    def __init__(self, message: str, reason: str | None = None):
        if reason is None:
            head, sep, _ = message.partition(":")
            reason = head if sep and head.isidentifier() and head.islower() else "invalid_input"
        elif not message.startswith(f"{reason}:"):
            message = f"{reason}: {message}"
        super().__init__(message)
        self.reason = reason


class Encoder(ABC):
    name: ClassVar[str]
    modality: ClassVar[str]  # "text" | "image" | "video" | "ratings"
    prepare_in_workers: ClassVar[bool] = False
    """True when ``prepare`` does real CPU work (decoding, resizing) that batch jobs should run in
    worker processes while the model runs; False keeps it in the job's process (text)."""

    @property
    @abstractmethod
    def version(self) -> str:
        """Changes whenever vectors would change (weights, preprocessing, dim)."""

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @abstractmethod
    def encode(self, inputs: Sequence[Any]) -> np.ndarray:
        """Encode a batch; returns (len(inputs), dim) float32, rows L2-normalised.

        Raises ``EncodeError`` if any input is bad; use ``encode_batch`` to keep the good ones.
        """

    def encode_batch(self, inputs: Sequence[Any]) -> EncodeResult:
        """Encode what can be encoded and record why the rest failed (never raises EncodeError).

        The default tries the whole batch, then falls back to one input at a time to isolate
        failures; media encoders override it to validate per item before one batched forward.
        """
        try:
            return EncodeResult(self.encode(inputs), list(range(len(inputs))), {})
        except EncodeError:
            pass
        vectors, ok, errors = [], [], {}
        for i, x in enumerate(inputs):
            try:
                vectors.append(self.encode([x])[0])
                ok.append(i)
            except EncodeError as exc:
                errors[i] = str(exc)
        stacked = np.stack(vectors) if vectors else np.zeros((0, self.dim), np.float32)
        return EncodeResult(stacked, ok, errors)

    def prepare(self, inputs: Sequence[Any]) -> Prepared:
        """The model-free half of ``encode_batch`` (decode, validate, resize); never raises
        ``EncodeError``. Must not touch the model: batch jobs call it in worker processes on an
        encoder built there, so the result has to pickle (arrays, not tensors).

        ``encode_prepared(prepare(x))`` equals ``encode_batch(x)``. The default defers all work
        to ``encode_batch``: the payload is the inputs themselves.
        """
        return Prepared(list(inputs), list(range(len(inputs))), {})

    def encode_prepared(self, prepared: Prepared) -> EncodeResult:
        """The model half: vectors for ``prepared.ok``; indices refer to ``prepare``'s inputs."""
        result = self.encode_batch(prepared.payload)
        errors = dict(prepared.errors)
        errors.update({prepared.ok[j]: reason for j, reason in result.errors.items()})
        return EncodeResult(result.vectors, [prepared.ok[j] for j in result.ok], errors)


def load_each(inputs: Sequence[Any], load) -> tuple[list[Any], list[int], dict[int, str]]:
    """Apply ``load`` to each input: (loaded, their input indices, input index -> reason).

    Media encoders decode and validate per item with this, then run one batched forward over
    what loaded, so one corrupt file costs one row, not the batch.
    """
    loaded, ok, errors = [], [], {}
    for i, x in enumerate(inputs):
        try:
            loaded.append(load(x))
            ok.append(i)
        except EncodeError as exc:
            errors[i] = str(exc)
    return loaded, ok, errors


@dataclass
class Prepared:
    """``prepare``'s output: ``payload`` (what the model consumes) holds ``inputs[ok]`` in order;
    ``errors`` maps input index -> reason for the inputs that failed to load."""

    payload: Any
    ok: list[int]
    errors: dict[int, str] = field(default_factory=dict)


@dataclass
class EncodeResult:
    """``vectors[j]`` belongs to ``inputs[ok[j]]``; ``errors`` maps input index -> reason."""

    vectors: np.ndarray
    ok: list[int]
    errors: dict[int, str] = field(default_factory=dict)


ENCODERS: Registry[Encoder] = Registry("encoder", Encoder)
"""Registry name -> ``Encoder`` class. Each built-in registers where it is defined; importing
``features.encoders`` imports them all (cheap: torch, transformers and the weights load on
first use)."""


def encoder_parameters(name: str) -> set[str]:
    """Keyword names the registered encoder's constructor takes (base classes' included)."""
    names: set[str] = set()
    for klass in ENCODERS.get(name).__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            names |= set(inspect.signature(init).parameters) - {"self", "kwargs", "args"}
    return names


def create_encoder(name: str, **config: Any) -> Encoder:
    """An instance of the encoder registered as ``name``; KeyError lists the known names."""
    return ENCODERS.get(name)(**config)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)
