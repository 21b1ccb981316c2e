"""Section 3: ports->ssl-ports over pipes, plain TCP ports and other SSL ports.

Most tests join the two ends with a pair of in-memory pipes of the shim. Where
a clause needs to see or alter the bytes between the ends, the test itself sits
in the middle: `PipeRelay` moves the records from one pair of pipes to another
through the shim's base operations, and can alter one on the way.
"""

import json
import socket
import threading
import time

import pytest

from harness import EOF, Symbol
from harness.shim import ShimError, scaled
from harness.support import expect_error, outcome_of, still_waiting
from harness.tls import (
    HANDSHAKE_TIMEOUT,
    LOOPBACK,
    ROOT,
    cert,
    client_context,
    exchange,
    pipe_pair,
    server_context,
    sym,
    tcp_pair,
)

NOT_READY_WAIT = 0.5
REFUSAL_TIMEOUT = 5.0
TRANSFER_TIMEOUT = 10.0
BAD_INPUTS = json.loads((ROOT / "fixtures" / "bad-inputs.json").read_text())
PIPE_LIMITS = [None, 1, 10, 100]


# -- helpers --------------------------------------------------------------------------


def wrap(shim, inp, out, timeout=HANDSHAKE_TIMEOUT, **keywords):
    """ports->ssl-ports with keywords spelled as the protocol spells them."""
    return shim.call("ports->ssl-ports", inp, out, kw=keywords, timeout=timeout)


def start_wrap(shim, inp, out, **keywords):
    return shim.start_call("ports->ssl-ports", inp, out, kw=keywords)


def pipes(shim, limit=None):
    """Two crossed pipes: (c2s_in, c2s_out, s2c_in, s2c_out)."""
    c2s_in, c2s_out = shim.call("make-pipe", limit if limit is not None else False)
    s2c_in, s2c_out = shim.call("make-pipe", limit if limit is not None else False)
    return c2s_in, c2s_out, s2c_in, s2c_out


def pair(shim, server=None, client=None, limit=None, client_kw=None, server_kw=None):
    """Both ends over pipes, each end's keywords as given; the Connection, required."""
    server = server_context(shim) if server is None else server
    client = shim.call("ssl-make-client-context") if client is None else client
    return pipe_pair(
        shim,
        server,
        client,
        limit=limit,
        client_keywords=client_kw,
        server_keywords=server_kw,
    ).require()


def transfer(shim, out, into, data):
    """Write `data` in one call, flush, read it whole at the other end."""
    reading = shim.start_call("read-bytes", len(data), into)
    assert shim.call("write-bytes", data, out, timeout=TRANSFER_TIMEOUT) == len(data)
    shim.call("flush-output", out, timeout=TRANSFER_TIMEOUT)
    return reading.result(TRANSFER_TIMEOUT)


def pattern(size, seed=0):
    return bytes((i * 7 + seed + (i >> 8)) & 0xFF for i in range(size))


def nothing_written(shim, pipe_in):
    """True if nothing is waiting to be read from the pipe."""
    return shim.call("byte-ready?", pipe_in) is False


class PipeRelay:
    """Moves bytes from one shim pipe to another, record by record, in a thread.

    `tamper()` alters the next application-data record that passes: its last
    byte is flipped, so its authentication fails at the reader.
    """

    def __init__(self, shim, source_in, sink_out):
        self.shim = shim
        self.source_in = source_in
        self.sink_out = sink_out
        self.passed = bytearray()
        self.tampered = 0
        self.error = None
        self._armed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def tamper(self):
        with self._lock:
            self._armed = True

    def _run(self):
        pending = b""
        try:
            while True:
                chunk = self.shim.call("read-bytes-avail", 65536, self.source_in, timeout=60)
                if chunk is EOF:
                    break
                pending += chunk
                pending = self._forward(pending)
            self.shim.call("close-output-port", self.sink_out)
        except Exception as e:  # the shim went away, or the test ended
            self.error = e

    def _forward(self, pending):
        out = bytearray()
        while len(pending) >= 5:
            size = 5 + int.from_bytes(pending[3:5], "big")
            if len(pending) < size:
                break
            record, pending = bytearray(pending[:size]), pending[size:]
            with self._lock:
                if record[0] == 23 and self._armed:
                    self._armed = False
                    self.tampered += 1
                    record[-1] ^= 0x01
            out += record
        if out:
            self.passed.extend(out)
            self.shim.call("write-bytes", bytes(out), self.sink_out)
            self.shim.call("flush-output", self.sink_out)
        return pending


def relayed_pair(shim, server=None, client=None, client_kw=None, server_kw=None):
    """Both ends over pipes, with a PipeRelay on each direction.

    Returns (connection_ends, relays) with ends = {"client": (in, out),
    "server": (in, out)} and relays = {"c2s": ..., "s2c": ...}; an end that
    failed has its ShimError instead of ports.
    """
    server = server_context(shim) if server is None else server
    client = shim.call("ssl-make-client-context") if client is None else client
    c_out_in, c_out = shim.call("make-pipe", False)  # client writes here
    s_in, s_in_out = shim.call("make-pipe", False)  # server reads here
    s_out_in, s_out = shim.call("make-pipe", False)  # server writes here
    c_in, c_in_out = shim.call("make-pipe", False)  # client reads here
    relays = {
        "c2s": PipeRelay(shim, c_out_in, s_in_out),
        "s2c": PipeRelay(shim, s_out_in, c_in_out),
    }
    server_kw = dict(server_kw or {}, mode=sym("accept"), context=server)
    client_kw = dict(client_kw or {}, mode=sym("connect"), context=client)
    accepting = start_wrap(shim, s_in, s_out, **server_kw)
    connecting = start_wrap(shim, c_in, c_out, **client_kw)
    ends = {}
    for name, future in (("client", connecting), ("server", accepting)):
        ports, error = outcome_of(future)
        ends[name] = ports if error is None else error
    return ends, relays


def error_procedure(shim, kind):
    return shim.call("make-error-procedure", kind)


def check_error_calls(shim, procedure, at_least=1):
    calls = shim.call("procedure-calls", procedure)
    assert len(calls) >= at_least, "the error procedure was called %d times" % len(calls)
    for who, message in calls:
        assert isinstance(who, Symbol), "who is %r, not a symbol" % (who,)
        assert isinstance(message, str) and message, "message is %r" % (message,)
    return calls


# -- mode -----------------------------------------------------------------------------


@pytest.mark.spec("S3.mode.1", "S3.mode.2", "S3.io.1")
@pytest.mark.parametrize("limit", PIPE_LIMITS, ids=lambda v: "unlimited" if v is None else v)
def test_connect_and_accept_modes_over_pipes(shim, limit):
    connection = pair(shim, limit=limit)
    client, server = connection.client, connection.server
    size = 3000 if limit == 1 else 40000
    data = pattern(size)
    assert transfer(shim, client.output, server.input, data) == data
    assert transfer(shim, server.output, client.input, data[::-1]) == data[::-1]
    for port in client.ports + server.ports:
        assert shim.call("ssl-port?", port) is True
        assert shim.call("ssl-protocol-version", port) == sym("tls13")


@pytest.mark.spec("S3.mode.3", "D.mode.1")
def test_mode_defaults_to_accept(shim):
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    accepting = start_wrap(shim, c2s_in, s2c_out, context=server_context(shim))
    client = wrap(shim, s2c_in, c2s_out, mode=sym("connect"))
    server, error = outcome_of(accepting)
    assert error is None, "without #:mode and with a server context: %s" % (error,)
    assert exchange(shim, client[1], server[0], b"default mode") == b"default mode"
    assert exchange(shim, server[1], client[0], b"is accept") == b"is accept"


@pytest.mark.spec("S3.mode.3", "D.mode.1", "S3.context.7")
def test_mode_defaults_to_accept_with_a_fresh_server_context(shim):
    # Without #:mode and #:context the fresh context is a server context, with
    # no certificate: a client's handshake with it fails at both ends.
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    accepting = start_wrap(shim, c2s_in, s2c_out)
    connecting = start_wrap(shim, s2c_in, c2s_out, mode=sym("connect"))
    _, server_error = outcome_of(accepting)
    if server_error is not None:
        shim.call("close-output-port", s2c_out)
    _, client_error = outcome_of(connecting)
    assert server_error is not None, "a server context with no certificate completed"
    assert client_error is not None, "the client completed a handshake with no certificate"


@pytest.mark.spec("S3.mode.4")
def test_the_handshake_happens_inside_the_call(shim):
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    connecting = start_wrap(shim, s2c_in, c2s_out, mode=sym("connect"))
    reading = shim.start_call("read-bytes", 1, c2s_in)
    deadline = time.monotonic() + scaled(HANDSHAKE_TIMEOUT)
    while not reading.done() and time.monotonic() < deadline:
        still_waiting(connecting, "ports->ssl-ports answered before writing its ClientHello")
        time.sleep(0.02)
    first = reading.result(0)
    assert first == b"\x16", "the client's first byte is %r" % (first,)
    time.sleep(NOT_READY_WAIT)
    still_waiting(connecting, "ports->ssl-ports returned before the peer answered")
    # A failure this end detects is raised by the call itself.
    shim.call("write-bytes", b"\x15\x03\x03\x00\x02\x02\x28", s2c_out)  # a fatal alert
    shim.call("flush-output", s2c_out)
    _, error = outcome_of(connecting)
    assert error is not None, "the handshake completed against a fatal alert"
    assert error.kind == "exn:fail", "%s: %s" % (error.kind, error.message)


def refused_values(kind):
    entry = BAD_INPUTS[kind]
    return entry["refused"]


def decode_fixture(shim, value):
    if isinstance(value, dict) and set(value) == {"context"}:
        return shim.call("ssl-make-%s-context" % value["context"])
    if isinstance(value, dict) and set(value) == {"symbol"}:
        return Symbol(value["symbol"])
    if isinstance(value, dict) and set(value) == {"bytes"}:
        return bytes.fromhex(value["bytes"])
    if isinstance(value, list):
        return [decode_fixture(shim, v) for v in value]
    return value


@pytest.mark.spec("S3.mode.5", "S3.context.9", "S3.error.5", "S3.hostname.4", "S3.alpn.4")
def test_wrapper_refuses_bad_arguments(shim):
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    client = shim.call("ssl-make-client-context")
    cases = [("mode", {"mode": decode_fixture(shim, v)}) for v in refused_values("mode")]
    cases += [
        ("encrypt", {"mode": sym("connect"), "encrypt": decode_fixture(shim, v)})
        for v in refused_values("protocol-symbol")
    ]
    for value in ("client", "a context", 7, sym("auto"), c2s_in, [client]):
        cases.append(("context", {"mode": sym("connect"), "context": value}))
    for value in ("error", 42, sym("error"), b"error", [None]):
        cases.append(("error/ssl", {"mode": sym("connect"), "error/ssl": value}))
    cases += [
        ("hostname", {"mode": sym("connect"), "hostname": decode_fixture(shim, v)})
        for v in refused_values("hostname")
    ]
    for mode in ("connect", "accept"):
        cases += [
            ("alpn", {"mode": sym(mode), "alpn": decode_fixture(shim, v)})
            for v in refused_values("alpn-list")
        ]
    for kind, keywords in cases:
        error = pytest.raises(
            ShimError,
            shim.call,
            "ports->ssl-ports",
            s2c_in,
            c2s_out,
            kw=keywords,
            timeout=REFUSAL_TIMEOUT,
        ).value
        assert error.kind == "exn:fail:contract", "%s %r: %s: %s" % (
            kind,
            keywords,
            error.kind,
            error.message,
        )
    for inp, out in ((c2s_out, c2s_out), (s2c_in, s2c_in), ("in", c2s_out), (s2c_in, 5)):
        expect_error("exn:fail:contract", shim, "ports->ssl-ports", inp, out, mode=sym("connect"))
    assert nothing_written(shim, c2s_in), "a refused call wrote to its output port"


@pytest.mark.spec("S3.alpn.2")
def test_accept_mode_refuses_an_alpn_list(shim):
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    error = pytest.raises(
        ShimError,
        shim.call,
        "ports->ssl-ports",
        c2s_in,
        s2c_out,
        kw={"mode": sym("accept"), "context": server_context(shim), "alpn": [b"h2"]},
        timeout=REFUSAL_TIMEOUT,
    ).value
    assert error.kind == "exn:fail", "%s: %s" % (error.kind, error.message)
    assert nothing_written(shim, s2c_in), "the refused call wrote to its output port"


@pytest.mark.spec("S3.alpn.3")
def test_accept_mode_takes_an_empty_alpn_list(shim):
    connection = pair(shim, server_kw={"alpn": []})
    data = b"no ALPN needed"
    assert exchange(shim, connection.client.output, connection.server.input, data) == data


@pytest.mark.spec("S1.protocols.8", "S1.protocols.10", "S2.server-ctx.11")
def test_unsupported_symbols_fail_where_a_context_is_made(shim):
    unsupported = [
        s for s in (sym("sslv2"), sym("sslv3")) if s not in shim.call("supported-client-protocols")
    ]
    assert sym("sslv2") in unsupported, "OpenSSL 3 has no SSL 2.0"
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    target = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    target.bind((LOOPBACK, 0))
    target.listen(8)  # TCP connections succeed; the TLS part is the question
    port = target.getsockname()[1]
    for symbol in unsupported:
        expect_error("exn:fail:unsupported", shim, "ssl-connect", "localhost", port, symbol)
        expect_error("exn:fail:unsupported", shim, "ssl-listen", 0, 5, True, LOOPBACK, symbol)
        for mode in ("connect", "accept"):
            expect_error(
                "exn:fail:unsupported",
                shim,
                "ports->ssl-ports",
                s2c_in,
                c2s_out,
                kw={"mode": sym(mode), "encrypt": symbol},
            )
    target.close()
    assert nothing_written(shim, c2s_in), "a refused call wrote to its output port"


# -- context and protocol -----------------------------------------------------------------


@pytest.mark.spec("S3.context.1")
def test_a_client_context_governs_connect_mode(shim):
    verifying = shim.call("ssl-make-client-context")
    shim.call("ssl-set-verify!", verifying, True)
    connection = pipe_pair(shim, server_context(shim), verifying)
    assert not connection.client.ok, "a verifying client with no root accepted the server"
    accepted = pipe_pair(shim, server_context(shim), client_context(shim, verify=True))
    assert accepted.ok, "the same server is refused by a client that trusts its root"


@pytest.mark.spec("S3.context.2")
def test_a_server_context_governs_accept_mode(shim):
    context = server_context(shim, chain="server-dns.pem", key="server-dns.key")
    connection = pair(shim, server=context)
    names = shim.call("ssl-peer-certificate-hostnames", connection.client.input)
    assert names == ["dns.example.test"], "the client saw %r" % (names,)


@pytest.mark.spec("S3.context.3")
def test_the_context_wins_over_encrypt(shim):
    client = shim.call("ssl-make-client-context", sym("tls12"))
    connection = pair(shim, client=client, client_kw={"encrypt": sym("tls13")})
    for port in connection.client.ports + connection.server.ports:
        assert shim.call("ssl-protocol-version", port) == sym("tls12")


@pytest.mark.spec("S3.context.4", "S3.context.5")
@pytest.mark.parametrize("encrypt, want", [("tls12", "tls12"), ("tls13", "tls13"), (None, "tls13")])
def test_encrypt_makes_the_context_without_one(shim, encrypt, want):
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    accepting = start_wrap(shim, c2s_in, s2c_out, mode=sym("accept"), context=server_context(shim))
    keywords = {"mode": sym("connect")}
    if encrypt is not None:
        keywords["encrypt"] = sym(encrypt)
    client = wrap(shim, s2c_in, c2s_out, **keywords)
    server = accepting.result(HANDSHAKE_TIMEOUT)
    for port in client + server:
        assert shim.call("ssl-protocol-version", port) == sym(want)


@pytest.mark.spec("S3.context.6")
@pytest.mark.parametrize("mode, kind", [("connect", "server"), ("accept", "client")])
def test_a_context_of_the_wrong_kind_is_refused(shim, mode, kind):
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    context = shim.call("ssl-make-%s-context" % kind)
    error = pytest.raises(
        ShimError,
        shim.call,
        "ports->ssl-ports",
        s2c_in,
        c2s_out,
        kw={"mode": sym(mode), "context": context},
        timeout=REFUSAL_TIMEOUT,
    ).value
    assert error.kind in ("exn:fail", "exn:fail:contract"), error
    assert nothing_written(shim, c2s_in), "the refused call wrote to its output port"


@pytest.mark.spec("S3.context.7")
def test_accept_mode_without_a_context_has_no_certificate(shim):
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    accepting = start_wrap(shim, c2s_in, s2c_out, mode=sym("accept"))
    connecting = start_wrap(shim, s2c_in, c2s_out, mode=sym("connect"))
    _, server_error = outcome_of(accepting)
    if server_error is not None:
        shim.call("close-output-port", s2c_out)
    _, client_error = outcome_of(connecting)
    assert server_error is not None and client_error is not None, (server_error, client_error)


@pytest.mark.spec("S3.context.8")
def test_encrypt_secure_verifies_as_the_secure_context(shim):
    shim.call("ssl-default-verify-sources", [cert("root-ca.pem")])
    untrusted = server_context(shim, chain="server-self-signed.pem", key="server-self-signed.key")
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    accepting = start_wrap(shim, c2s_in, s2c_out, mode=sym("accept"), context=untrusted)
    connecting = start_wrap(
        shim, s2c_in, c2s_out, mode=sym("connect"), encrypt=sym("secure"), hostname="localhost"
    )
    _, client_error = outcome_of(connecting)
    assert client_error is not None, "'secure accepted a server trusted by no default source"
    shim.call("close-output-port", c2s_out)
    outcome_of(accepting)
    # The same call against a trusted server that names the host completes.
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    accepting = start_wrap(shim, c2s_in, s2c_out, mode=sym("accept"), context=server_context(shim))
    client = wrap(
        shim, s2c_in, c2s_out, mode=sym("connect"), encrypt=sym("secure"), hostname="localhost"
    )
    accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("ssl-peer-verified?", client[0]) is True


# -- closing the underlying ports ------------------------------------------------------


@pytest.mark.spec("S3.close-original.1")
@pytest.mark.parametrize("first", ["input", "output"])
def test_close_original_closes_both_once_both_ssl_ports_are(shim, first):
    connection = pair(shim, client_kw={"close-original?": True})
    c2s_in, c2s_out, s2c_in, s2c_out = connection.extra["pipes"]
    client = connection.client
    underlying = {"input": s2c_in, "output": c2s_out}
    order = [first, "output" if first == "input" else "input"]
    op = {"input": "close-input-port", "output": "close-output-port"}
    ssl_port = {"input": client.input, "output": client.output}
    shim.call(op[order[0]], ssl_port[order[0]])
    for name, port in underlying.items():
        assert (
            shim.call("port-closed?", port) is False
        ), "the underlying %s closed when only the SSL %s was" % (name, order[0])
    shim.call(op[order[1]], ssl_port[order[1]])
    for name, port in underlying.items():
        assert shim.call("port-closed?", port) is True, "the underlying %s stayed open" % name


@pytest.mark.spec("S3.close-original.2")
def test_without_close_original_the_underlying_ports_stay_open(shim):
    connection = pair(shim)
    c2s_in, c2s_out, s2c_in, s2c_out = connection.extra["pipes"]
    shim.call("close-output-port", connection.client.output)
    shim.call("close-input-port", connection.client.input)
    assert shim.call("port-closed?", c2s_out) is False
    assert shim.call("port-closed?", s2c_in) is False
    assert shim.call("write-bytes", b"plain", c2s_out) == 5
    shim.call("flush-output", c2s_out)
    assert shim.call("read-bytes", 5, c2s_in) == b"plain"


# -- shutdown on close ------------------------------------------------------------------


SHUTDOWN = {"shutdown-on-close?": True}


@pytest.mark.spec("S3.shutdown.1", "S3.eof.1")
def test_shutdown_on_close_sends_close_notify(shim):
    # Both ends shut down on close, so that neither close can wait for ever
    # for the other's close_notify (how long a close waits is not specified).
    connection = pair(shim, client_kw=SHUTDOWN, server_kw=SHUTDOWN)
    client, server = connection.client, connection.server
    assert exchange(shim, server.output, client.input, b"first") == b"first"
    shim.call("write-bytes", b"final bytes", client.output)
    reading = shim.start_call("read-bytes", 11, server.input)
    closing = shim.start_call("close-output-port", client.output)
    assert reading.result(HANDSHAKE_TIMEOUT) == b"final bytes"
    got = shim.call("read-bytes", 1, server.input, timeout=HANDSHAKE_TIMEOUT)
    assert got is EOF, "after close_notify the peer read %r" % (got,)
    # The peer's own output port stayed open all along.
    assert shim.call("port-closed?", server.output) is False
    shim.call("close-output-port", server.output, timeout=HANDSHAKE_TIMEOUT)
    closing.result(HANDSHAKE_TIMEOUT)
    assert shim.call("read-bytes", 1, client.input, timeout=HANDSHAKE_TIMEOUT) is EOF


@pytest.mark.spec("S3.shutdown.2")
def test_without_shutdown_closing_writes_nothing(shim):
    connection = pair(shim)
    c2s_in = connection.extra["pipes"][0]
    assert exchange(shim, connection.client.output, connection.server.input, b"x") == b"x"
    assert nothing_written(shim, c2s_in)
    shim.call("close-output-port", connection.client.output)
    assert nothing_written(shim, c2s_in), "closing the SSL output wrote to the underlying port"
    assert shim.call("sync/timeout", NOT_READY_WAIT, connection.server.input) is False


@pytest.mark.spec("S3.shutdown.3")
def test_shutdown_fails_when_the_underlying_output_is_closed(shim):
    connection = pair(shim, client_kw=SHUTDOWN)
    c2s_out = connection.extra["pipes"][1]
    shim.call("close-output-port", c2s_out)
    error = pytest.raises(
        ShimError, shim.call, "close-output-port", connection.client.output, timeout=10
    ).value
    assert error.kind.startswith("exn:fail"), "%s: %s" % (error.kind, error.message)


# -- the error procedure ------------------------------------------------------------------


def failing_pair(shim, client_kw=None, server_kw=None):
    """A TLS 1.3-only client against a TLS 1.2-only server, over pipes."""
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    accepting = start_wrap(
        shim,
        c2s_in,
        s2c_out,
        **dict(server_kw or {}, mode=sym("accept"), context=server_context(shim, "tls12")),
    )
    connecting = start_wrap(
        shim, s2c_in, c2s_out, **dict(client_kw or {}, mode=sym("connect"), encrypt=sym("tls13"))
    )
    _, client_error = outcome_of(connecting)
    shim.call("close-output-port", c2s_out)
    _, server_error = outcome_of(accepting)
    shim.call("close-output-port", s2c_out)
    return client_error, server_error


@pytest.mark.spec("S3.error.1")
def test_default_error_procedure_raises_exn_fail(shim):
    client_error, server_error = failing_pair(shim)
    assert client_error is not None and client_error.kind == "exn:fail", client_error
    assert server_error is not None and server_error.kind == "exn:fail", server_error


@pytest.mark.spec("S3.error.1")
def test_default_error_procedure_on_a_read_raises_exn_fail(shim):
    ends, relays = relayed_pair(shim)
    client_in, client_out = ends["client"]
    server_in, server_out = ends["server"]
    assert exchange(shim, server_out, client_in, b"ping") == b"ping"
    relays["s2c"].tamper()
    shim.call("write-bytes", b"altered", server_out)
    shim.call("flush-output", server_out)
    error = expect_error("exn:fail", shim, "read-bytes", 7, client_in)
    assert relays["s2c"].tampered == 1
    assert error.message


@pytest.mark.spec("S3.error.2", "S3.error.3")
@pytest.mark.parametrize("kind", ["exn:fail:network", "exn:fail:unsupported"])
def test_an_error_procedure_raises_its_kind_on_a_handshake_failure(shim, kind):
    client_proc = error_procedure(shim, kind)
    server_proc = error_procedure(shim, kind)
    client_error, server_error = failing_pair(
        shim, client_kw={"error/ssl": client_proc}, server_kw={"error/ssl": server_proc}
    )
    for name, error, procedure in (
        ("client", client_error, client_proc),
        ("server", server_error, server_proc),
    ):
        assert error is not None and error.kind == kind, "%s: %r" % (name, error)
        calls = check_error_calls(shim, procedure)
        assert len(calls) == 1, "%s: the error procedure was called %r" % (name, calls)
        who, message = calls[0]
        assert message in error.message, (calls, error.message)


@pytest.mark.spec("S3.error.4", "S3.error.3")
@pytest.mark.parametrize("kind", ["exn:fail:network", "exn:fail:unsupported"])
def test_the_error_procedure_serves_after_the_handshake(shim, kind):
    procedure = error_procedure(shim, kind)
    ends, relays = relayed_pair(shim, client_kw={"error/ssl": procedure})
    client_in, client_out = ends["client"]
    server_in, server_out = ends["server"]
    assert exchange(shim, server_out, client_in, b"ping") == b"ping"
    assert shim.call("procedure-calls", procedure) == []
    relays["s2c"].tamper()
    shim.call("write-bytes", b"altered", server_out)
    shim.call("flush-output", server_out)
    error = expect_error(kind, shim, "read-bytes", 7, client_in)
    check_error_calls(shim, procedure)
    assert error.message


# -- closing SSL ports --------------------------------------------------------------------


@pytest.mark.spec("S3.close.1")
def test_closing_the_ssl_input_leaves_the_output_working(shim):
    connection = pair(shim)
    shim.call("close-input-port", connection.client.input)
    data = b"still going out"
    assert exchange(shim, connection.client.output, connection.server.input, data) == data


@pytest.mark.spec("S3.close.2")
def test_closing_the_ssl_output_leaves_the_input_working(shim):
    connection = pair(shim)
    shim.call("close-output-port", connection.client.output)
    data = b"still coming in"
    assert exchange(shim, connection.server.output, connection.client.input, data) == data


@pytest.mark.spec("S3.close.3", "S3.close.5")
def test_port_closed_and_closing_twice(shim):
    connection = pair(shim)
    client = connection.client
    for op, port in (("close-input-port", client.input), ("close-output-port", client.output)):
        assert shim.call("port-closed?", port) is False
        assert shim.call(op, port) is None
        assert shim.call("port-closed?", port) is True
        assert shim.call(op, port) is None, "closing a closed port"
        assert shim.call("port-closed?", port) is True


@pytest.mark.spec("S3.close.4")
def test_reading_or_writing_a_closed_port_raises(shim):
    connection = pair(shim)
    client = connection.client
    shim.call("close-input-port", client.input)
    shim.call("close-output-port", client.output)
    expect_error("exn:fail", shim, "read-bytes", 1, client.input)
    expect_error("exn:fail", shim, "read-bytes-avail", 1, client.input)
    expect_error("exn:fail", shim, "write-bytes", b"x", client.output)


# -- end of file --------------------------------------------------------------------------


@pytest.mark.spec("S3.eof.2", "S3.eof.3", "D.eof.1")
def test_eof_without_close_notify_is_eof(shim):
    connection = pair(shim)
    s2c_out = connection.extra["pipes"][3]
    shim.call("write-bytes", b"last record", connection.server.output)
    shim.call("flush-output", connection.server.output)
    shim.call("close-output-port", s2c_out)  # the underlying port, no close_notify
    client_in = connection.client.input
    assert shim.call("read-bytes", 11, client_in, timeout=HANDSHAKE_TIMEOUT) == b"last record"
    for op in ("read-bytes", "read-bytes-avail", "read-bytes"):
        got = shim.call(op, 5, client_in, timeout=HANDSHAKE_TIMEOUT)
        assert got is EOF, "%s answered %r after the underlying eof" % (op, got)


@pytest.mark.spec("S3.eof.1", "S3.eof.3")
def test_eof_after_close_notify_stays_eof(shim):
    connection = pair(shim, client_kw=SHUTDOWN, server_kw=SHUTDOWN)
    server = connection.server
    shim.call("write-bytes", b"bye", server.output)
    closing = shim.start_call("close-output-port", server.output)
    client_in = connection.client.input
    assert shim.call("read-bytes", 10, client_in, timeout=HANDSHAKE_TIMEOUT) == b"bye"
    for _ in range(3):
        assert shim.call("read-bytes-avail", 5, client_in, timeout=HANDSHAKE_TIMEOUT) is EOF
    shim.call("close-output-port", connection.client.output)
    closing.result(HANDSHAKE_TIMEOUT)


@pytest.mark.spec("S3.eof.4", "S3.error.3")
@pytest.mark.parametrize("mode", ["connect", "accept"])
def test_eof_during_the_handshake_raises_through_the_error_procedure(shim, mode):
    procedure = error_procedure(shim, "exn:fail:unsupported")
    c2s_in, c2s_out, s2c_in, s2c_out = pipes(shim)
    keywords = {"mode": sym(mode), "error/ssl": procedure}
    if mode == "accept":
        keywords["context"] = server_context(shim)
        shim.call("write-bytes", b"\x16\x03\x01", c2s_out)  # the start of a record, no more
        shim.call("close-output-port", c2s_out)
        call = start_wrap(shim, c2s_in, s2c_out, **keywords)
    else:
        shim.call("close-output-port", s2c_out)
        call = start_wrap(shim, s2c_in, c2s_out, **keywords)
    _, error = outcome_of(call)
    assert error is not None, "the handshake completed with no peer"
    assert error.kind == "exn:fail:unsupported", "%s: %s" % (error.kind, error.message)
    check_error_calls(shim, procedure)


# -- reading and writing ------------------------------------------------------------------


@pytest.mark.spec("S3.io.1", "S3.io.2")
def test_write_counts_and_a_single_byte(shim):
    connection = pair(shim)
    client, server = connection.client, connection.server
    for size in (1, 100, 20000):
        data = pattern(size, size)
        assert shim.call("write-bytes", data, client.output) == size
        shim.call("flush-output", client.output)
        assert shim.call("read-bytes", size, server.input, timeout=HANDSHAKE_TIMEOUT) == data
    shim.call("write-bytes", b"!", server.output)
    shim.call("flush-output", server.output)
    assert shim.call("read-bytes", 1, client.input, timeout=HANDSHAKE_TIMEOUT) == b"!"


@pytest.mark.spec("S3.io.3")
@pytest.mark.parametrize("limit", [None, pytest.param(100, marks=pytest.mark.heavy)])
def test_one_mebibyte_in_one_write(shim, limit):
    connection = pair(shim, limit=limit)
    data = pattern(1 << 20, 3)
    got = transfer(shim, connection.client.output, connection.server.input, data)
    assert len(got) == len(data) and got == data, "the mebibyte arrived changed"


@pytest.mark.spec("S3.io.4")
def test_read_bytes_avail_answers_what_has_arrived(shim):
    connection = pair(shim)
    shim.call("write-bytes", b"ten bytes!", connection.server.output)
    shim.call("flush-output", connection.server.output)
    got = shim.call("read-bytes-avail", 1000, connection.client.input, timeout=HANDSHAKE_TIMEOUT)
    assert isinstance(got, bytes) and 1 <= len(got) <= 10, got
    assert b"ten bytes!".startswith(got)


@pytest.mark.spec("S3.io.1", "S3.io.2")
@pytest.mark.parametrize("mode", ["block", "none"])
@pytest.mark.parametrize("limit", [1, 10, 100])
def test_buffer_modes_of_the_ssl_output_port(shim, mode, limit):
    connection = pair(shim, limit=limit)
    client, server = connection.client, connection.server
    assert shim.call("file-stream-buffer-mode", client.output, sym(mode)) is None
    assert shim.call("file-stream-buffer-mode", client.output) == sym(mode)
    data = pattern(5000, 9)
    reading = shim.start_call("read-bytes", len(data), server.input)
    for start in range(0, len(data), 250):
        assert shim.call("write-bytes", data[start : start + 250], client.output) == 250
    if mode == "block":
        shim.call("flush-output", client.output)
    # In 'none mode every write goes out at once: no flush is needed.
    assert reading.result(HANDSHAKE_TIMEOUT) == data


# -- readiness ------------------------------------------------------------------------------


@pytest.mark.spec("S3.ready.1", "S3.ready.2")
def test_an_ssl_input_port_is_ready_when_data_arrives(shim):
    connection = pair(shim)
    client_in = connection.client.input
    assert shim.call("sync/timeout", NOT_READY_WAIT, client_in) is False
    assert shim.call("byte-ready?", client_in) is False
    shim.call("write-bytes", b"wake up", connection.server.output)
    shim.call("flush-output", connection.server.output)
    assert shim.call("sync/timeout", HANDSHAKE_TIMEOUT, client_in) == client_in
    assert shim.call("read-bytes", 7, client_in) == b"wake up"


def ready_with_buffered_bytes(shim, connection, underlying_in, records, read):
    client_in = connection.client.input
    server_out = connection.server.output
    sent = b""
    for number in range(records):
        piece = pattern(100, number)
        sent += piece
        shim.call("write-bytes", piece, server_out)
        shim.call("flush-output", server_out)
    got = shim.call("read-bytes", read, client_in, timeout=HANDSHAKE_TIMEOUT)
    assert got == sent[:read]
    assert (
        shim.call("byte-ready?", underlying_in) is False
    ), "the underlying port still holds bytes: the precondition failed"
    assert (
        shim.call("sync/timeout", 0, client_in) == client_in
    ), "decrypted bytes are waiting, but the SSL input port is not ready"
    assert shim.call("byte-ready?", client_in) is True
    rest = shim.call("read-bytes", len(sent) - read, client_in, timeout=HANDSHAKE_TIMEOUT)
    assert rest == sent[read:]


@pytest.mark.spec("S3.ready.3")
@pytest.mark.parametrize("records, read", [(1, 1), (2, 150)])
def test_ready_with_decrypted_bytes_over_pipes(shim, records, read):
    connection = pair(shim)
    s2c_in = connection.extra["pipes"][2]
    ready_with_buffered_bytes(shim, connection, s2c_in, records, read)


@pytest.mark.spec("S3.ready.3", "S3.mode.1", "S3.mode.2")
@pytest.mark.parametrize("records, read", [(1, 1), (2, 150)])
def test_ready_with_decrypted_bytes_over_tcp(shim, records, read):
    connection, plain = starttls_pair(shim)
    ready_with_buffered_bytes(shim, connection, plain["client"][0], records, read)


@pytest.mark.spec("S3.ready.4")
def test_an_ssl_input_port_is_ready_at_eof(shim):
    connection = pair(shim, client_kw=SHUTDOWN, server_kw=SHUTDOWN)
    shim.call("write-bytes", b"end", connection.server.output)
    closing = shim.start_call("close-output-port", connection.server.output)
    client_in = connection.client.input
    assert shim.call("read-bytes", 3, client_in, timeout=HANDSHAKE_TIMEOUT) == b"end"
    assert shim.call("sync/timeout", HANDSHAKE_TIMEOUT, client_in) == client_in
    assert shim.call("byte-ready?", client_in) is True
    assert shim.call("read-bytes", 1, client_in) is EOF
    shim.call("close-output-port", connection.client.output)
    closing.result(HANDSHAKE_TIMEOUT)


# -- over TCP, and over other SSL ports -------------------------------------------------


class Ends:
    """Two ends of a connection made by hand, shaped like harness.tls.Connection."""

    def __init__(self, client, server):
        self.client = _End(client)
        self.server = _End(server)


class _End:
    def __init__(self, ports):
        self.ports = tuple(ports)
        self.input, self.output = ports


def starttls_pair(shim, client_kw=None, server_kw=None):
    """A plain TCP connection that exchanges a line in clear, then turns to TLS."""
    listener = shim.call("tcp-listen", 0, 4, True, LOOPBACK)
    port = shim.call("tcp-addresses", listener, True)[1]
    accepting = shim.start_call("tcp-accept", listener)
    client = shim.call("tcp-connect", LOOPBACK, port)
    server = accepting.result(HANDSHAKE_TIMEOUT)
    shim.call("tcp-close", listener)
    assert exchange(shim, client[1], server[0], b"STARTTLS\r\n") == b"STARTTLS\r\n"
    assert exchange(shim, server[1], client[0], b"220 go ahead\r\n") == b"220 go ahead\r\n"
    server_keywords = dict(server_kw or {}, mode=sym("accept"), context=server_context(shim))
    client_keywords = dict(client_kw or {}, mode=sym("connect"))
    accepting = start_wrap(shim, server[0], server[1], **server_keywords)
    wrapped_client = wrap(shim, client[0], client[1], **client_keywords)
    wrapped_server = accepting.result(HANDSHAKE_TIMEOUT)
    return Ends(wrapped_client, wrapped_server), {"client": client, "server": server}


@pytest.mark.spec("S3.mode.1", "S3.mode.2", "S2.addresses.1")
def test_starttls_upgrade_of_a_plain_tcp_connection(shim):
    connection, plain = starttls_pair(shim, client_kw={"close-original?": True})
    client, server = connection.client, connection.server
    data = pattern(30000, 5)
    assert transfer(shim, client.output, server.input, data) == data
    assert transfer(shim, server.output, client.input, data[::-1]) == data[::-1]
    assert shim.call("ssl-protocol-version", client.input) == sym("tls13")
    assert shim.call("ssl-addresses", client.input) == (LOOPBACK, LOOPBACK)
    shim.call("close-output-port", client.output)
    shim.call("close-input-port", client.input)
    assert shim.call("port-closed?", plain["client"][0]) is True
    assert shim.call("port-closed?", plain["client"][1]) is True


@pytest.mark.spec("S3.mode.1", "S3.mode.2")
@pytest.mark.parametrize("outer", ["tcp", "pipes"])
def test_tls_inside_tls(shim, outer):
    if outer == "tcp":
        outer_connection = tcp_pair(shim, server_context(shim), "tls12").require()
    else:
        outer_connection = pair(shim, client=shim.call("ssl-make-client-context", sym("tls12")))
    o_client, o_server = outer_connection.client, outer_connection.server
    inner_server_ctx = server_context(shim, chain="server-rsa.pem", key="server-rsa.key")
    accepting = start_wrap(
        shim, o_server.input, o_server.output, mode=sym("accept"), context=inner_server_ctx
    )
    inner_client = wrap(
        shim, o_client.input, o_client.output, mode=sym("connect"), encrypt=sym("tls13")
    )
    inner_server = accepting.result(HANDSHAKE_TIMEOUT)
    data = pattern(20000, 11)
    assert transfer(shim, inner_client[1], inner_server[0], data) == data
    assert transfer(shim, inner_server[1], inner_client[0], data[::-1]) == data[::-1]
    for port in inner_client + inner_server:
        assert shim.call("ssl-protocol-version", port) == sym("tls13")
    for port in o_client.ports + o_server.ports:
        assert shim.call("ssl-protocol-version", port) == sym("tls12")
    names = shim.call("ssl-peer-certificate-hostnames", inner_client[0])
    assert names == ["localhost"], names
