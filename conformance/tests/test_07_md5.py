"""Section 7: md5 and md5-bytes.

Digests are compared with hashlib; the RFC 1321 test suite comes from
fixtures/hash-vectors.json and is itself checked against hashlib.
"""

import pytest

from harness import EOF, Symbol
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
    for v in load_vectors("md5")
]
SMALL_VECTORS = [v for v in load_vectors("md5") if len(v.data) <= HEAVY_INPUT]


def one_byte_pipe(shim, op, data):
    return hash_through_pipe(shim, op, data, limit=1)


def warnings_in(messages):
    return [m for m in messages if m[0] == Symbol("warning")]


@pytest.mark.parametrize("vector", VECTORS)
@pytest.mark.parametrize(
    "op",
    [
        pytest.param("md5", marks=pytest.mark.spec("S7.md5.1")),
        pytest.param("md5-bytes", marks=pytest.mark.spec("S7.md5-bytes.1", "S7.md5-bytes.3")),
    ],
)
def test_rfc1321_vectors(shim, op, vector):
    want = oracle(op, vector.data)
    fixture = vector.digest if op == "md5" else bytes.fromhex(vector.digest)
    assert fixture == want, "fixture %s disagrees with hashlib" % vector.id
    digest, _ = hash_from_bytes_port(shim, op, vector.data)
    assert digest == want, "%s: %s of %r answered %r" % (vector.source, op, vector.data, digest)


@pytest.mark.heavy
@pytest.mark.spec("S7.md5.1")
def test_md5_of_a_million_a(shim):
    digest, _ = hash_from_bytes_port(shim, "md5", b"a" * 1000000)
    assert digest == "7707d6ae4e027c70eea2a935c2296f21" == oracle("md5", b"a" * 1000000)


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("md5", marks=pytest.mark.spec("S7.md5.1")),
        pytest.param("md5-bytes", marks=pytest.mark.spec("S7.md5-bytes.3")),
    ],
)
def test_empty_input(shim, op):
    want = oracle(op, b"")
    if op == "md5":
        assert want == "d41d8cd98f00b204e9800998ecf8427e"
    for read in (hash_from_bytes_port, hash_through_pipe):
        digest, after = read(shim, op, b"")
        assert digest == want, "%s of empty input via %s: %r" % (op, read.__name__, digest)
        assert after is EOF


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("md5", marks=pytest.mark.spec("S7.md5.1", "S7.md5.2")),
        pytest.param("md5-bytes", marks=pytest.mark.spec("S7.md5-bytes.2", "S7.md5-bytes.3")),
    ],
)
def test_random_inputs_from_bytes_port(shim, op):
    inputs = random_inputs()
    wrong = check_inputs(shim, op, inputs, hash_from_bytes_port)
    assert not wrong, report(wrong, len(inputs), op)


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("md5", marks=pytest.mark.spec("S7.md5.1", "S7.md5.2")),
        pytest.param("md5-bytes", marks=pytest.mark.spec("S7.md5-bytes.2", "S7.md5-bytes.3")),
    ],
)
def test_random_inputs_through_pipe(shim, op):
    inputs = random_inputs()
    wrong = check_inputs(shim, op, inputs, hash_through_pipe)
    assert not wrong, report(wrong, len(inputs), op)


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("md5", marks=pytest.mark.spec("S7.md5.1")),
        pytest.param("md5-bytes", marks=pytest.mark.spec("S7.md5-bytes.3")),
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
        pytest.param("md5", marks=pytest.mark.spec("S7.md5.1")),
        pytest.param("md5-bytes", marks=pytest.mark.spec("S7.md5-bytes.3")),
    ],
)
def test_large_inputs(shim, op):
    inputs = heavy_inputs()
    wrong = check_inputs(shim, op, inputs, hash_from_bytes_port)
    wrong += check_inputs(shim, op, inputs, hash_through_pipe)
    assert not wrong, report(wrong, 2 * len(inputs), op)


@pytest.mark.spec("S7.md5.1", "S7.md5-bytes.1", "S7.md5.3")
def test_output_format(shim):
    for label, data in random_inputs()[:20]:
        text, _ = hash_from_bytes_port(shim, "md5", data)
        raw, _ = hash_from_bytes_port(shim, "md5-bytes", data)
        assert isinstance(text, str) and len(text) == 32, "md5 of %s: %r" % (label, text)
        assert set(text) <= set("0123456789abcdef"), "md5 is not lower-case hex: %r" % text
        assert isinstance(raw, bytes) and len(raw) == 16, "md5-bytes of %s: %r" % (label, raw)
        assert text == shim.call("bytes->hex-string", raw), "md5 is not hex of md5-bytes"


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("md5", marks=pytest.mark.spec("S7.md5.2")),
        pytest.param("md5-bytes", marks=pytest.mark.spec("S7.md5-bytes.2")),
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
        pytest.param("md5", marks=pytest.mark.spec("S7.md5.1", "S7.md5.2")),
        pytest.param("md5-bytes", marks=pytest.mark.spec("S7.md5-bytes.1", "S7.md5-bytes.2")),
    ],
)
def test_hashes_what_is_left_of_a_bytes_port(shim, op):
    wrong = check_partly_read(shim, op)
    assert not wrong, report(wrong, len(PARTLY_READ), op)


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("md5", marks=pytest.mark.spec("S7.md5.4")),
        pytest.param("md5-bytes", marks=pytest.mark.spec("S7.md5-bytes.4")),
    ],
)
def test_rejects_what_is_not_an_input_port(shim, op):
    (_, pipe_out) = shim.call("make-pipe", False)
    for argument in [b"abc", "abc", 42, pipe_out]:
        expect_error("exn:fail:contract", shim, op, argument)


# -- with and without libcrypto ------------------------------------------------


@pytest.mark.spec("S7.fallback.1", "D.fallback.1")
@pytest.mark.parametrize("op", ["md5", "md5-bytes"])
def test_fallback_gives_the_same_digests(shim_factory, impl, op):
    shim = start_hidden(shim_factory, impl, "libcrypto")
    inputs = [(v.id, v.data) for v in SMALL_VECTORS] + random_inputs()
    wrong = check_inputs(shim, op, inputs, hash_from_bytes_port)
    wrong += check_inputs(shim, op, inputs[:40], hash_through_pipe)
    wrong += check_partly_read(shim, op)
    assert not wrong, report(wrong, len(inputs) + 40 + len(PARTLY_READ), op)


@pytest.mark.spec("S7.fallback.2", "D.fallback.1")
@pytest.mark.parametrize("op", ["md5", "md5-bytes"])
def test_fallback_logs_a_warning(shim_factory, impl, op):
    shim = start_hidden(shim_factory, impl, "libcrypto")
    digest, _ = hash_from_bytes_port(shim, op, b"abc")
    assert digest == oracle(op, b"abc")
    messages = shim.call("log-messages")
    assert warnings_in(messages), "no 'warning after %s without libcrypto: %r" % (op, messages)


@pytest.mark.spec("S7.fallback.3")
@pytest.mark.parametrize("hidden", [(), ("libssl",)], ids=["nothing-hidden", "no-libssl"])
def test_no_warning_with_libcrypto(shim_factory, impl, hidden):
    shim = start_hidden(shim_factory, impl, *hidden) if hidden else shim_factory()
    for op in ("md5", "md5-bytes"):
        digest, _ = hash_from_bytes_port(shim, op, b"abc")
        assert digest == oracle(op, b"abc")
    messages = shim.call("log-messages")
    assert not warnings_in(messages), "hashing warned with libcrypto loaded: %r" % messages
