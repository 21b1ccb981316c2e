"""The value codec: every kind survives encode then decode, and junk is refused."""

import json

import pytest

from harness import EOF, Handle, Opaque, Symbol
from harness.codec import ProtocolError, decode, encode
from harness.shim import racket_keyword

VALUES = [
    None,
    True,
    False,
    0,
    -7,
    2**40,
    0.25,
    "",
    "text with ünïcode",
    b"",
    b"\x00\xff\x10",
    bytes(range(256)),
    Symbol("tls12"),
    EOF,
    Handle("h17"),
    Opaque("#<procedure:x>"),
    [],
    [1, "two", b"3", Symbol("four"), [EOF, None, Handle("h1")]],
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_round_trip_through_json(value):
    wire = json.loads(json.dumps(encode(value)))
    assert decode(wire) == value
    assert type(decode(wire)) is type(value)


def test_wire_forms():
    assert encode(b"\xab\x01") == {"bytes": "ab01"}
    assert encode(Symbol("auto")) == {"symbol": "auto"}
    assert encode(EOF) == {"eof": True}
    assert encode(Handle("7")) == {"handle": "7"}
    assert encode(Opaque("x")) == {"opaque": "x"}
    assert encode((1, 2)) == [1, 2]


def test_symbols_and_handles_compare_by_name():
    assert Symbol("tls12") == Symbol("tls12") and hash(Symbol("a")) == hash(Symbol("a"))
    assert Symbol("a") != "a" and Symbol("a") != Symbol("b")
    assert repr(Symbol("tls12")) == "'tls12"
    assert Handle("1") == Handle("1") and Handle("1") != Handle("2")
    assert {Handle("1"), Handle("1")} == {Handle("1")}


@pytest.mark.parametrize(
    "wire",
    [
        {"bytes": "ABCD"},
        {"bytes": "abc"},
        {"bytes": "zz"},
        {"symbol": 3},
        {"eof": False},
        {"handle": 5},
        {"bytes": "00", "symbol": "x"},
        {"unknown": 1},
        {},
    ],
    ids=json.dumps,
)
def test_decode_refuses_malformed_values(wire):
    with pytest.raises(ProtocolError):
        decode(wire)


def test_encode_refuses_what_has_no_wire_form():
    with pytest.raises(TypeError):
        encode(object())


def test_keyword_names():
    assert racket_keyword("close_original") == "close-original?"
    assert racket_keyword("shutdown_on_close") == "shutdown-on-close?"
    assert racket_keyword("error_ssl") == "error/ssl"
    assert racket_keyword("certificate_chain") == "certificate-chain"
    assert racket_keyword("alpn") == "alpn"
