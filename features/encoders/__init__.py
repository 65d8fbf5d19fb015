"""Encoders behind one ABC; ``create_encoder(name, **config)`` picks one by registry name.

Registration lives in each encoder module; importing this package registers the built-ins
by name only (modules and their heavy dependencies load on first use).
"""

from features.encoders.base import ENCODERS, EncodeError, Encoder, create_encoder, register_encoder

register_encoder("minilm", "features.encoders.text:SentenceTransformerEncoder")

__all__ = ["ENCODERS", "Encoder", "EncodeError", "create_encoder", "register_encoder"]
