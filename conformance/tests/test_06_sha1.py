"""Section 6: sha1, sha1-bytes, bytes->hex-string, hex-string->bytes.

Digests are compared with hashlib; the RFC 3174 vectors come from
fixtures/hash-vectors.json and are themselves checked against hashlib.
"""

import random
import string

import pytest

from harness import EOF, ShimError, Symbol
from harness.hashing import (
    MAX_ONE_BYTE_SIZE,
    PARTLY_READ,
    check_inputs,
    check_partly_read,
    hash_from_bytes_port,
    hash_through_pipe,
    heavy_inputs,
    load_vectors,
    oracle,
    random_inputs,
    report,
)
from harness.support import expect_error, start_hidden

HEAVY_INPUT = 100000
VECTORS = [
    pytest.param(v, id=v.id, marks=[pytest.mark.heavy] if len(v.data) > HEAVY_INPUT else [])
    for v in load_vectors("sha1")
]
SMALL_VECTORS = [v for v in load_vectors("sha1") if len(v.data) <= HEAVY_INPUT]


def one_byte_pipe(shim, op, data):
    return hash_through_pipe(shim, op, data, limit=1)


def warnings_in(messages):
    return [m for m in messages if m[0] == Symbol("warning")]


@pytest.mark.parametrize("vector", VECTORS)
@pytest.mark.parametrize(
    "op",
    [
        pytest.param("sha1", marks=pytest.mark.spec("S6.sha1.1")),
        pytest.param("sha1-bytes", marks=pytest.mark.spec("S6.sha1-bytes.1", "S6.sha1-bytes.3")),
    ],
)
def test_rfc3174_vectors(shim, op, vector):
    want = oracle(op, vector.data)
    fixture = vector.digest if op == "sha1" else bytes.fromhex(vector.digest)
    assert fixture == want, "fixture %s disagrees with hashlib" % vector.id
    digest, _ = hash_from_bytes_port(shim, op, vector.data)
    assert digest == want, "%s: %s answered %r" % (vector.source, op, digest)


@pytest.mark.heavy
@pytest.mark.spec("S6.sha1.1")
def test_sha1_of_a_million_a(shim):
    digest, _ = hash_from_bytes_port(shim, "sha1", b"a" * 1000000)
    assert digest == "34aa973cd4c4daa4f61eeb2bdbad27316534016f" == oracle("sha1", b"a" * 1000000)


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("sha1", marks=pytest.mark.spec("S6.sha1.1")),
        pytest.param("sha1-bytes", marks=pytest.mark.spec("S6.sha1-bytes.3")),
    ],
)
def test_empty_input(shim, op):
    want = oracle(op, b"")
    if op == "sha1":
        assert want == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    for read in (hash_from_bytes_port, hash_through_pipe):
        digest, after = read(shim, op, b"")
        assert digest == want, "%s of empty input via %s: %r" % (op, read.__name__, digest)
        assert after is EOF


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("sha1", marks=pytest.mark.spec("S6.sha1.1", "S6.sha1.2")),
        pytest.param("sha1-bytes", marks=pytest.mark.spec("S6.sha1-bytes.2", "S6.sha1-bytes.3")),
    ],
)
def test_random_inputs_from_bytes_port(shim, op):
    inputs = random_inputs()
    wrong = check_inputs(shim, op, inputs, hash_from_bytes_port)
    assert not wrong, report(wrong, len(inputs), op)


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("sha1", marks=pytest.mark.spec("S6.sha1.2", "S6.sha1.3")),
        pytest.param("sha1-bytes", marks=pytest.mark.spec("S6.sha1-bytes.2", "S6.sha1-bytes.3")),
    ],
)
def test_random_inputs_through_pipe(shim, op):
    inputs = random_inputs()
    wrong = check_inputs(shim, op, inputs, hash_through_pipe)
    assert not wrong, report(wrong, len(inputs), op)


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("sha1", marks=pytest.mark.spec("S6.sha1.3")),
        pytest.param("sha1-bytes", marks=pytest.mark.spec("S6.sha1-bytes.3")),
    ],
)
def test_inputs_one_byte_at_a_time(shim, op):
    inputs = [(label, data) for (label, data) in random_inputs() if len(data) <= MAX_ONE_BYTE_SIZE]
    wrong = check_inputs(shim, op, inputs, one_byte_pipe)
    assert not wrong, report(wrong, len(inputs), op)


@pytest.mark.heavy
@pytest.mark.parametrize(
    "op",
    [
        pytest.param("sha1", marks=pytest.mark.spec("S6.sha1.1", "S6.sha1.3")),
        pytest.param("sha1-bytes", marks=pytest.mark.spec("S6.sha1-bytes.3")),
    ],
)
def test_large_inputs(shim, op):
    inputs = heavy_inputs()
    wrong = check_inputs(shim, op, inputs, hash_from_bytes_port)
    wrong += check_inputs(shim, op, inputs, hash_through_pipe)
    assert not wrong, report(wrong, 2 * len(inputs), op)


@pytest.mark.spec("S6.sha1.1", "S6.sha1-bytes.1", "S6.sha1.4")
def test_output_format(shim):
    for label, data in random_inputs()[:20]:
        text, _ = hash_from_bytes_port(shim, "sha1", data)
        raw, _ = hash_from_bytes_port(shim, "sha1-bytes", data)
        assert isinstance(text, str) and len(text) == 40, "sha1 of %s: %r" % (label, text)
        assert set(text) <= set("0123456789abcdef"), "sha1 is not lower-case hex: %r" % text
        assert isinstance(raw, bytes) and len(raw) == 20, "sha1-bytes of %s: %r" % (label, raw)
        assert text == shim.call("bytes->hex-string", raw), "sha1 is not hex of sha1-bytes"


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("sha1", marks=pytest.mark.spec("S6.sha1.2", "S6.sha1.3")),
        pytest.param("sha1-bytes", marks=pytest.mark.spec("S6.sha1-bytes.2")),
    ],
)
def test_reads_the_port_to_eof(shim, op):
    (pipe_in, pipe_out) = shim.call("make-pipe", False)
    shim.call("write-bytes", b"first part, ", pipe_out)
    hashing = shim.start_call(op, pipe_in)
    shim.call("write-bytes", b"second part", pipe_out)
    if hashing.done():
        early = hashing.result()
        pytest.fail("%s answered %r before the pipe reached end-of-file" % (op, early))
    shim.call("close-output-port", pipe_out)
    assert hashing.result() == oracle(op, b"first part, second part")
    assert shim.call("read-bytes", 1, pipe_in) is EOF


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("sha1", marks=pytest.mark.spec("S6.sha1.1", "S6.sha1.2")),
        pytest.param("sha1-bytes", marks=pytest.mark.spec("S6.sha1-bytes.1", "S6.sha1-bytes.2")),
    ],
)
def test_hashes_what_is_left_of_a_bytes_port(shim, op):
    wrong = check_partly_read(shim, op)
    assert not wrong, report(wrong, len(PARTLY_READ), op)


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("sha1", marks=pytest.mark.spec("S6.sha1.5")),
        pytest.param("sha1-bytes", marks=pytest.mark.spec("S6.sha1-bytes.4")),
    ],
)
def test_rejects_what_is_not_an_input_port(shim, op):
    (_, pipe_out) = shim.call("make-pipe", False)
    for argument in [b"abc", "abc", 42, pipe_out]:
        expect_error("exn:fail:contract", shim, op, argument)


# -- bytes->hex-string ---------------------------------------------------------

ALL_BYTES = bytes(range(256))
RANDOM_BYTES = [random.Random(i).randbytes(i * 7) for i in range(1, 12)]


@pytest.mark.spec("S6.hex.1")
def test_bytes_to_hex_string_example(shim):
    assert shim.call("bytes->hex-string", b"\x00\xff\x10") == "00ff10"


@pytest.mark.spec("S6.hex.1")
def test_bytes_to_hex_string_of_empty(shim):
    assert shim.call("bytes->hex-string", b"") == ""


@pytest.mark.spec("S6.hex.1")
def test_bytes_to_hex_string_all_byte_values(shim):
    for data in [ALL_BYTES] + RANDOM_BYTES:
        text = shim.call("bytes->hex-string", data)
        assert len(text) == 2 * len(data), "bytes->hex-string of %d bytes: %r" % (len(data), text)
        assert text == data.hex(), "bytes->hex-string of %r answered %r" % (data[:16], text)


@pytest.mark.spec("S6.hex.2")
def test_bytes_to_hex_string_rejects_non_bytes(shim):
    for argument in ["00ff", [0, 255], 42, None]:
        expect_error("exn:fail:contract", shim, "bytes->hex-string", argument)


# -- hex-string->bytes ---------------------------------------------------------


@pytest.mark.spec("S6.unhex.1")
def test_hex_string_to_bytes_example(shim):
    assert shim.call("hex-string->bytes", "00ff10") == b"\x00\xff\x10"


@pytest.mark.spec("S6.unhex.2")
def test_hex_string_to_bytes_accepts_either_case(shim):
    cases = {
        "ABcd": b"\xab\xcd",
        ALL_BYTES.hex().upper(): ALL_BYTES,
        "aBcDeF09": b"\xab\xcd\xef\x09",
    }
    for text, want in cases.items():
        answer = shim.call("hex-string->bytes", text)
        assert answer == want, "hex-string->bytes %r answered %r" % (text[:20], answer[:10])


@pytest.mark.spec("S6.unhex.3")
def test_hex_string_to_bytes_of_empty(shim):
    assert shim.call("hex-string->bytes", "") == b""


@pytest.mark.spec("S6.unhex.4")
def test_hex_round_trip(shim):
    for data in [ALL_BYTES, b""] + RANDOM_BYTES:
        back = shim.call("hex-string->bytes", shim.call("bytes->hex-string", data))
        assert back == data, "round trip of %r gave %r" % (data[:16], back[:16])


@pytest.mark.spec("S6.unhex.5")
@pytest.mark.parametrize("text", ["0", "abc", "12345", "a" * 41])
def test_hex_string_to_bytes_rejects_odd_length(shim, text):
    expect_error("exn:fail:contract", shim, "hex-string->bytes", text)


NOT_HEX = ["zz", "0g", "g0", " 0", "12 34", "1234 ", "0x00", "12\n", "\u00e91", "１２", "٠١"]


@pytest.mark.spec("S6.unhex.5")
@pytest.mark.parametrize("text", NOT_HEX)
def test_hex_string_to_bytes_rejects_non_hex(shim, text):
    expect_error("exn:fail:contract", shim, "hex-string->bytes", text)


# Every other ASCII character but NUL, which a C shim's string cannot hold:
# among them each neighbour of a digit range ("/", ":", "@", "G", "`", "g").
NOT_HEX_ASCII = [chr(c) for c in range(1, 128) if chr(c) not in string.hexdigits]


@pytest.mark.spec("S6.unhex.5")
def test_hex_string_to_bytes_rejects_every_other_ascii_character(shim):
    wrong = []
    for c in NOT_HEX_ASCII:
        for text in (c + "0", "0" + c):
            try:
                wrong.append("%r answered %r" % (text, shim.call("hex-string->bytes", text)))
            except ShimError as error:
                if error.kind != "exn:fail:contract":
                    wrong.append("%r raised %s (%s)" % (text, error.kind, error.message))
    assert not wrong, "hex-string->bytes took characters that are not hexadecimal digits: " + (
        "; ".join(wrong)
    )


@pytest.mark.spec("S6.unhex.6")
def test_hex_string_to_bytes_rejects_non_strings(shim):
    for argument in [b"00ff", 42, ["00"], None]:
        expect_error("exn:fail:contract", shim, "hex-string->bytes", argument)


# -- with and without libcrypto ------------------------------------------------


@pytest.mark.spec("S6.fallback.1", "D.fallback.1")
@pytest.mark.parametrize("op", ["sha1", "sha1-bytes"])
def test_fallback_gives_the_same_digests(shim_factory, impl, op):
    shim = start_hidden(shim_factory, impl, "libcrypto")
    inputs = [(v.id, v.data) for v in SMALL_VECTORS] + random_inputs()
    wrong = check_inputs(shim, op, inputs, hash_from_bytes_port)
    wrong += check_inputs(shim, op, inputs[:40], hash_through_pipe)
    wrong += check_partly_read(shim, op)
    assert not wrong, report(wrong, len(inputs) + 40 + len(PARTLY_READ), op)


@pytest.mark.spec("S6.fallback.2", "D.fallback.1")
@pytest.mark.parametrize("op", ["sha1", "sha1-bytes"])
def test_fallback_logs_a_warning(shim_factory, impl, op):
    shim = start_hidden(shim_factory, impl, "libcrypto")
    digest, _ = hash_from_bytes_port(shim, op, b"abc")
    assert digest == oracle(op, b"abc")
    messages = shim.call("log-messages")
    assert warnings_in(messages), "no 'warning after %s without libcrypto: %r" % (op, messages)


@pytest.mark.spec("S6.fallback.3")
@pytest.mark.parametrize("hidden", [(), ("libssl",)], ids=["nothing-hidden", "no-libssl"])
def test_no_warning_with_libcrypto(shim_factory, impl, hidden):
    shim = start_hidden(shim_factory, impl, *hidden) if hidden else shim_factory()
    for op in ("sha1", "sha1-bytes"):
        digest, _ = hash_from_bytes_port(shim, op, b"abc")
        assert digest == oracle(op, b"abc")
    messages = shim.call("log-messages")
    assert not warnings_in(messages), "hashing warned with libcrypto loaded: %r" % messages
