"""Every registered name resolves to an Encoder class whose ``name`` matches (no model loads)."""

from __future__ import annotations

import pytest

from features.encoders import ENCODERS, Encoder, create_encoder
from features.encoders.base import EncodeError
from features.jobs.config import EncodersConfig


@pytest.mark.parametrize("name", ENCODERS.names())
def test_registered_encoders_resolve(name):
    cls = ENCODERS.get(name)
    assert issubclass(cls, Encoder) and cls.name == name  # lineage records ``cls.name``
    assert cls.modality in ("text", "image", "video")


def test_built_ins_and_every_default_encoder_are_registered():
    assert ENCODERS.names() == ["clip", "clip-text", "efficientnet-lite0", "minilm", "video"]
    assert set(EncodersConfig().model_dump().values()) <= set(ENCODERS)


def test_registering_a_name_twice_is_refused():
    # minilm used to be registered twice, the second silently replacing the first
    with pytest.raises(KeyError, match="'minilm' is already registered"):
        ENCODERS.register("minilm")(ENCODERS.get("minilm"))


def test_unknown_name_is_a_clear_key_error():
    with pytest.raises(KeyError, match="unknown encoder 'nope'; known: clip"):
        create_encoder("nope")


def test_encode_error_reason_codes():
    err = EncodeError("x.jpg is 0 bytes", "empty_file")
    assert str(err) == "empty_file: x.jpg is 0 bytes" and err.reason == "empty_file"
    assert EncodeError("corrupt_image: x.jpg").reason == "corrupt_image"  # prefix parsed
    plain = EncodeError("something odd")
    assert str(plain) == "something odd" and plain.reason == "invalid_input"
