"""Section 4: ssl-set-keylogger! [added 8.7.0.8].

The oracle is the peer's own key log: Python's `ssl` writes the NSS key-log
lines of the same connection to a file (`keylog_filename`), and every line
the shim's logger receives must be among them.
"""

import pytest

from harness import Symbol
from harness.oracles import (
    PythonClient,
    PythonServer,
    close_end,
    keylog_fields,
    read_keylog,
    settle,
    shim_connect,
)
from harness.support import expect_error
from harness.tls import (
    cert,
    client_context,
    close_connection,
    exchange,
    listen,
    server_context,
    sym,
    tcp_pair,
)

VERSIONS = ["tls12", "tls13"]
TLS13_LABELS = [
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
]


def key_lines(shim, logger):
    """The data of every message the logger got, after checking each message's form."""
    lines = []
    for message in shim.call("logger-messages", logger):
        level, topic, text, data = message
        assert level == Symbol("debug"), "level %r in %r" % (level, message)
        assert topic == Symbol("openssl-keylogger"), "topic %r in %r" % (topic, message)
        assert isinstance(text, str), "message %r" % (message,)
        assert isinstance(data, bytes), "data %r is not a byte string" % (data,)
        assert keylog_fields(data) is not None, "not an NSS key-log line: %r" % (data,)
        lines.append(data)
    return lines


def labels(lines):
    return [keylog_fields(line)[0].decode("ascii") for line in lines]


def check_one_connection(lines, version):
    """S4.keylog.3 and .4: the lines of one handshake at `version`."""
    assert lines, "nothing was logged"
    randoms = {keylog_fields(line)[1] for line in lines}
    assert len(randoms) == 1, "one handshake, several client randoms: %r" % (lines,)
    found = labels(lines)
    if version == "tls13":
        for label in TLS13_LABELS:
            assert found.count(label) == 1, "%s logged %d times: %r" % (
                label,
                found.count(label),
                found,
            )
    else:
        assert found == ["CLIENT_RANDOM"], "TLS 1.2 logged %r" % (found,)
        secret = keylog_fields(lines[0])[2]
        assert len(secret) == 96, "the master secret has %d hex digits" % len(secret)


def check_against_peer(lines, peer_lines):
    """S4.keylog.5: the shim's lines are the connection's, as the peer logged them."""
    missing = [line for line in lines if line not in peer_lines]
    assert not missing, "lines the peer did not log: %r\npeer: %r" % (missing, peer_lines)
    for label in set(labels(lines)):
        theirs = [line for line in peer_lines if keylog_fields(line)[0].decode() == label]
        ours = [line for line in lines if keylog_fields(line)[0].decode() == label]
        assert sorted(ours) == sorted(theirs), label


def logging_context(shim, side, version, logger):
    ctx = server_context(shim, version) if side == "server" else client_context(shim, version)
    assert shim.call("ssl-set-keylogger!", ctx, logger) is None
    return ctx


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec(
    "S4.keylog.1", "S4.keylog.2", "S4.keylog.3", "S4.keylog.4", "S4.keylog.5", "S4.keylog.6"
)
def test_client_keylog_matches_the_python_server(shim, tmp_path, version):
    logger = shim.call("make-logger")
    client = logging_context(shim, "client", version, logger)
    peer_log = tmp_path / "server.keylog"
    chain, key = cert("server-loopback-chain.pem"), cert("server-loopback.key")
    with PythonServer(chain, key, version=version, keylog=peer_log) as peer:
        end = shim_connect(shim, peer.port, client)
        assert end.ok, end.error
        assert exchange(shim, end.output, end.input, b"keys") == b"keys"
        assert peer.record().version == version
        close_end(shim, end)
        peer.finished()
    lines = key_lines(shim, logger)
    check_one_connection(lines, version)
    check_against_peer(lines, read_keylog(peer_log))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec(
    "S4.keylog.1", "S4.keylog.2", "S4.keylog.3", "S4.keylog.4", "S4.keylog.5", "S4.keylog.6"
)
def test_server_keylog_matches_the_python_client(shim, tmp_path, version):
    logger = shim.call("make-logger")
    listener, port = listen(shim, logging_context(shim, "server", version, logger))
    accepting = shim.start_call("ssl-accept", listener)
    peer_log = tmp_path / "client.keylog"
    client = PythonClient(port, version=version, keylog=peer_log, send=b"k")
    end = settle(accepting)
    assert end.ok, end.error
    assert shim.call("read-bytes", 1, end.input) == b"k"
    close_end(shim, end)
    record = client.finish()
    assert record.ok and record.version == version, record.describe()
    lines = key_lines(shim, logger)
    check_one_connection(lines, version)
    check_against_peer(lines, read_keylog(peer_log))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec("S4.keylog.5", "S4.keylog.6")
def test_both_ends_log_the_same_secrets(shim, version):
    client_logger = shim.call("make-logger")
    server_logger = shim.call("make-logger")
    server = logging_context(shim, "server", version, server_logger)
    client = logging_context(shim, "client", version, client_logger)
    conn = tcp_pair(shim, server, client).require()
    assert exchange(shim, conn.client.output, conn.server.input, b"x") == b"x"
    assert exchange(shim, conn.server.output, conn.client.input, b"y") == b"y"
    client_lines = key_lines(shim, client_logger)
    server_lines = key_lines(shim, server_logger)
    check_one_connection(client_lines, version)
    check_one_connection(server_lines, version)
    check_against_peer(client_lines, server_lines)
    check_against_peer(server_lines, client_lines)
    close_connection(shim, conn)


@pytest.mark.spec("S4.keylog.1")
def test_each_handshake_logs(shim):
    logger = shim.call("make-logger")
    server = server_context(shim)
    client = logging_context(shim, "client", "auto", logger)
    first = tcp_pair(shim, server, client).require()
    after_first = key_lines(shim, logger)
    second = tcp_pair(shim, server, client).require()
    after_second = key_lines(shim, logger)
    assert after_second[: len(after_first)] == after_first
    new = after_second[len(after_first) :]
    check_one_connection(new, "tls13")
    assert {keylog_fields(line)[1] for line in new} != {
        keylog_fields(line)[1] for line in after_first
    }, "two handshakes logged the same client random"
    close_connection(shim, first)
    close_connection(shim, second)


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.spec("S4.keylog.7")
def test_a_later_keylogger_replaces_the_earlier(shim, side):
    first = shim.call("make-logger")
    second = shim.call("make-logger")
    ctx = logging_context(shim, side, "auto", first)
    other = client_context(shim) if side == "server" else server_context(shim)
    server, client = (ctx, other) if side == "server" else (other, ctx)

    conn = tcp_pair(shim, server, client).require()
    logged = len(key_lines(shim, first))
    assert logged > 0, "the first logger got nothing"
    close_connection(shim, conn)

    assert shim.call("ssl-set-keylogger!", ctx, False) is None
    conn = tcp_pair(shim, server, client).require()
    assert exchange(shim, conn.client.output, conn.server.input, b"z") == b"z"
    assert len(key_lines(shim, first)) == logged, "a connection logged after #f"
    close_connection(shim, conn)

    assert shim.call("ssl-set-keylogger!", ctx, second) is None
    conn = tcp_pair(shim, server, client).require()
    assert exchange(shim, conn.client.output, conn.server.input, b"z") == b"z"
    assert len(key_lines(shim, first)) == logged, "the replaced logger still gets lines"
    check_one_connection(key_lines(shim, second), "tls13")
    close_connection(shim, conn)


@pytest.mark.spec("S4.keylog.8")
def test_keylogger_refuses_bad_arguments(shim):
    logger = shim.call("make-logger")
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (listener, plain_in, 5, "ctx", None, sym("auto"), True):
        expect_error("exn:fail:contract", shim, "ssl-set-keylogger!", value, logger)
    ctx = client_context(shim)
    for value in (5, "logger", True, None, ctx, plain_in, sym("debug")):
        expect_error("exn:fail:contract", shim, "ssl-set-keylogger!", ctx, value)


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.spec("S4.seal.5")
def test_sealed_context_refuses_a_keylogger(shim, side):
    logger = shim.call("make-logger")
    ctx = server_context(shim) if side == "server" else client_context(shim)
    shim.call("ssl-seal-context!", ctx)
    for value in (logger, False):
        expect_error("exn:fail", shim, "ssl-set-keylogger!", ctx, value)
    conn = tcp_pair(
        shim,
        ctx if side == "server" else server_context(shim),
        ctx if side == "client" else client_context(shim),
    ).require()
    assert shim.call("logger-messages", logger) == [], "a refused keylogger got lines"
    close_connection(shim, conn)
