"""Section 3, the full-duplex extension: reads and writes on one connection at once.

The documentation promises one direction at a time; these clauses (S3.duplex)
go further, and an implementation may declare the extension absent in its
expectations file. Every request here is in flight together with another one
on the same connection, which the shim allows because requests overlap.
"""

import time

import pytest

from harness import EOF
from harness.shim import ShimError, scaled
from harness.tls import HANDSHAKE_TIMEOUT, pipe_pair, server_context, sym, tcp_pair

pytestmark = pytest.mark.extension("full-duplex")

MEBIBYTE = 1 << 20
NOT_READY_WAIT = 0.5
DUPLEX_TIMEOUT = 60.0


def pattern(size, seed):
    return bytes((i * 13 + seed + (i >> 10)) & 0xFF for i in range(size))


def connection_over(shim, carrier, limit=None, version="auto"):
    server = server_context(shim)
    if carrier == "tcp":
        return tcp_pair(shim, server, version).require()
    client = shim.call("ssl-make-client-context", sym(version))
    return pipe_pair(shim, server, client, limit=limit).require()


def blocked(future, what):
    time.sleep(0.2)
    if future.done():
        try:
            result = future.result(0)
        except ShimError as error:
            result = error
        pytest.fail("%s did not block: it answered %r" % (what, result))


@pytest.mark.spec("S3.duplex.1")
@pytest.mark.parametrize("carrier", ["pipes", "tcp"])
@pytest.mark.parametrize("side", ["client", "server"])
def test_write_while_a_read_is_blocked(shim, carrier, side):
    connection = connection_over(shim, carrier)
    ends = {"client": connection.client, "server": connection.server}
    mine, peer = ends[side], ends["server" if side == "client" else "client"]
    reading = shim.start_call("read-bytes", 5, mine.input)
    blocked(reading, "read-bytes on an idle connection")
    data = b"written while this end's read waits"
    assert shim.call("write-bytes", data, mine.output, timeout=HANDSHAKE_TIMEOUT) == len(data)
    shim.call("flush-output", mine.output, timeout=HANDSHAKE_TIMEOUT)
    assert shim.call("read-bytes", len(data), peer.input, timeout=HANDSHAKE_TIMEOUT) == data
    assert not reading.done(), "the blocked read answered with nothing sent to it"
    shim.call("write-bytes", b"reply", peer.output)
    shim.call("flush-output", peer.output)
    assert reading.result(HANDSHAKE_TIMEOUT) == b"reply"


def both_ways_at_once(shim, connection, size):
    client, server = connection.client, connection.server
    to_server, to_client = pattern(size, 1), pattern(size, 2)
    in_flight = {
        "server reads": shim.start_call("read-bytes", size, server.input),
        "client reads": shim.start_call("read-bytes", size, client.input),
        "client writes": shim.start_call("write-bytes", to_server, client.output),
        "server writes": shim.start_call("write-bytes", to_client, server.output),
    }
    for name in ("client writes", "server writes"):
        assert in_flight[name].result(DUPLEX_TIMEOUT) == size, name
    shim.call("flush-output", client.output, timeout=DUPLEX_TIMEOUT)
    shim.call("flush-output", server.output, timeout=DUPLEX_TIMEOUT)
    got_server = in_flight["server reads"].result(DUPLEX_TIMEOUT)
    got_client = in_flight["client reads"].result(DUPLEX_TIMEOUT)
    assert got_server == to_server, "the client's mebibyte arrived changed"
    assert got_client == to_client, "the server's mebibyte arrived changed"


@pytest.mark.heavy
@pytest.mark.slow
@pytest.mark.spec("S3.duplex.2")
def test_a_mebibyte_each_way_over_one_byte_pipes(shim):
    connection = connection_over(shim, "pipes", limit=1)
    both_ways_at_once(shim, connection, MEBIBYTE)


@pytest.mark.spec("S3.duplex.2")
@pytest.mark.parametrize("version", ["tls12", "tls13"])
@pytest.mark.parametrize("limit", [1, 10, 100])
def test_both_ways_at_once_over_small_pipes(shim, limit, version):
    connection = connection_over(shim, "pipes", limit=limit, version=version)
    both_ways_at_once(shim, connection, 64 * 1024)


@pytest.mark.heavy
@pytest.mark.spec("S3.duplex.3")
@pytest.mark.parametrize("version", ["tls12", "tls13"])
def test_a_mebibyte_each_way_over_tcp(shim, version):
    connection = connection_over(shim, "tcp", version=version)
    both_ways_at_once(shim, connection, MEBIBYTE)


@pytest.mark.spec("S3.duplex.4")
@pytest.mark.parametrize("carrier", ["pipes", "tcp"])
def test_closing_the_output_while_a_read_is_blocked(shim, carrier):
    connection = connection_over(shim, carrier)
    client, server = connection.client, connection.server
    reading = shim.start_call("read-bytes", 1, client.input)
    blocked(reading, "read-bytes on an idle connection")
    started = time.monotonic()
    assert shim.call("close-output-port", client.output, timeout=HANDSHAKE_TIMEOUT) is None
    assert time.monotonic() - started < scaled(NOT_READY_WAIT), "the close waited for the read"
    assert shim.call("port-closed?", client.output) is True
    assert not reading.done(), "closing the output ended the read"
    shim.call("write-bytes", b"!", server.output)
    shim.call("flush-output", server.output)
    assert reading.result(HANDSHAKE_TIMEOUT) == b"!"
    shim.call("close-output-port", server.output)
    shim.call("close-input-port", client.input)
    if carrier == "tcp":
        got = shim.call("read-bytes", 1, server.input, timeout=HANDSHAKE_TIMEOUT)
        assert got is EOF, "the server read %r once the client's ports were closed" % (got,)
