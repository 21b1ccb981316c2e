"""The value codec of the RPC shim protocol (design.md, "Values").

JSON null is void (None), booleans, numbers, strings and arrays map to
themselves, and tagged objects carry what JSON cannot:

    {"bytes": "<hex>"}   <-> bytes
    {"symbol": "tls12"}  <-> Symbol("tls12")
    {"eof": true}        <-> EOF
    {"handle": "<id>"}   <-> Handle("<id>")
    {"opaque": "<text>"} <-> Opaque("<text>")
"""


class ProtocolError(Exception):
    """A shim sent something the protocol does not allow."""


class Symbol:
    """A Racket symbol; compares and hashes by name."""

    __slots__ = ("name",)

    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError("a symbol's name is a string")
        self.name = name

    def __eq__(self, other):
        return isinstance(other, Symbol) and other.name == self.name

    def __hash__(self):
        return hash(("symbol", self.name))

    def __repr__(self):
        return "'" + self.name


class _Eof:
    """The end-of-file value; there is exactly one."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "#<eof>"

    def __reduce__(self):
        return (_Eof, ())


EOF = _Eof()


class Handle:
    """An object the shim keeps; two handles are the same object iff their ids match."""

    __slots__ = ("id",)

    def __init__(self, handle_id):
        if not isinstance(handle_id, str):
            raise TypeError("a handle id is a string")
        self.id = handle_id

    def __eq__(self, other):
        return isinstance(other, Handle) and other.id == self.id

    def __hash__(self):
        return hash(("handle", self.id))

    def __repr__(self):
        return "#<handle %s>" % self.id


class Opaque:
    """A value the protocol cannot carry, with the shim's printed form."""

    __slots__ = ("text",)

    def __init__(self, text):
        if not isinstance(text, str):
            raise TypeError("an opaque value's text is a string")
        self.text = text

    def __eq__(self, other):
        return isinstance(other, Opaque) and other.text == self.text

    def __hash__(self):
        return hash(("opaque", self.text))

    def __repr__(self):
        return "#<opaque %s>" % self.text


def encode(value):
    """Turn a Python value into its JSON-ready protocol form."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, Symbol):
        return {"symbol": value.name}
    if value is EOF:
        return {"eof": True}
    if isinstance(value, Handle):
        return {"handle": value.id}
    if isinstance(value, Opaque):
        return {"opaque": value.text}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    raise TypeError("no protocol form for %r" % (value,))


def _decode_tagged(obj):
    if len(obj) != 1:
        raise ProtocolError("a tagged value has exactly one key: %r" % (obj,))
    (tag, payload) = next(iter(obj.items()))
    if tag == "bytes" and isinstance(payload, str) and _is_lower_hex(payload):
        return bytes.fromhex(payload)
    if tag == "symbol" and isinstance(payload, str):
        return Symbol(payload)
    if tag == "eof" and payload is True:
        return EOF
    if tag == "handle" and isinstance(payload, str):
        return Handle(payload)
    if tag == "opaque" and isinstance(payload, str):
        return Opaque(payload)
    return _bad(obj)


def _is_lower_hex(text):
    # The protocol spells bytes in lower-case hex, two digits a byte.
    return len(text) % 2 == 0 and all(c in "0123456789abcdef" for c in text)


def _bad(obj):
    raise ProtocolError("not a protocol value: %r" % (obj,))


def decode(value):
    """Turn a decoded JSON value from a shim into its Python form."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return _decode_tagged(value)
    return _bad(value)
