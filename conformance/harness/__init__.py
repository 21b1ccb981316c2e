"""The sslport conformance harness: shim client, value codec and pytest plugin."""

from .codec import EOF, Handle, Opaque, Symbol
from .shim import Future, ShimClient, ShimCrashed, ShimError, ShimTimeout, Unimplemented

__all__ = [
    "EOF",
    "Future",
    "Handle",
    "Opaque",
    "ShimClient",
    "ShimCrashed",
    "ShimError",
    "ShimTimeout",
    "Symbol",
    "Unimplemented",
]
