"""Every registered name resolves to an Encoder class whose ``name`` matches (no model loads)."""

from __future__ import annotations

import importlib

import pytest

from features.encoders import DEFAULT_ENCODERS, ENCODERS, FITTED_FEATURES, Encoder, create_encoder


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_registered_encoders_resolve(name):
    module, cls_name = ENCODERS[name].split(":")
    cls = getattr(importlib.import_module(module), cls_name)
    assert issubclass(cls, Encoder) and cls.name == name
    assert cls.modality in ("text", "image", "video")


def test_defaults_and_fitted_are_registered():
    assert set(DEFAULT_ENCODERS.values()) <= set(ENCODERS)
    module, cls_name = FITTED_FEATURES["ratings"].split(":")
    assert hasattr(getattr(importlib.import_module(module), cls_name), "fit")


def test_unknown_name_is_a_clear_key_error():
    with pytest.raises(KeyError, match="unknown encoder 'nope'"):
        create_encoder("nope")


def test_encode_error_reason_codes():
    from features.encoders.base import EncodeError

    err = EncodeError("x.jpg is 0 bytes", "empty_file")
    assert str(err) == "empty_file: x.jpg is 0 bytes" and err.reason == "empty_file"
    assert EncodeError("corrupt_image: x.jpg").reason == "corrupt_image"  # prefix parsed
    plain = EncodeError("something odd")
    assert str(plain) == "something odd" and plain.reason == "invalid_input"
