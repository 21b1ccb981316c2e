"""Section 1: ssl-connect, client contexts, protocol symbols and versions.

Both ends usually live in one shim (requests overlap); where a clause is about
what goes over the wire, an independent peer from harness/peers.py looks at it:
a relay that keeps every byte, a catcher that decodes the ClientHello, a raw TCP
server that speaks no TLS, openssl s_server, Python's ssl module.
"""

import json
import socket
import ssl
import subprocess
import time

import pytest

from harness import EOF, Handle, Symbol
from harness import peers as P
from harness.shim import ShimError, scaled
from harness.support import PROTOCOL_SYMBOLS, expect_error
from harness.tls import (
    HANDSHAKE_TIMEOUT,
    LOOPBACK,
    ROOT,
    cert,
    client_context,
    close_connection,
    exchange,
    listen,
    server_context,
    sym,
    tcp_pair,
)

NOT_READY_WAIT = 0.5
REFUSAL_TIMEOUT = 5.0
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
VERSION_SYMBOLS = ["sslv2", "sslv3", "tls", "tls11", "tls12", "tls13"]
BAD_INPUTS = json.loads((ROOT / "fixtures" / "bad-inputs.json").read_text())


# -- helpers --------------------------------------------------------------------------


@pytest.fixture
def peers():
    """Real peers for one test, stopped at its end."""
    with P.PeerSet() as started:
        yield started


def trust_test_root(shim):
    """Make the test root the only default verify source (for 'secure)."""
    shim.call("ssl-default-verify-sources", [cert("root-ca.pem")])


def connect(shim, port, target="auto", host="localhost", op="ssl-connect"):
    """ssl-connect to `port`; the ports, or raises ShimError."""
    target = sym(target) if isinstance(target, str) else target
    return shim.call(op, host, port, target, timeout=HANDSHAKE_TIMEOUT)


def serve_once(shim, server="auto"):
    """A listener on a system port with an accept in flight: (listener, port, future)."""
    context = server_context(shim, server) if isinstance(server, str) else server
    listener, port = listen(shim, context)
    return listener, port, shim.start_call("ssl-accept", listener)


def wait_until_reached(raw, future, timeout=HANDSHAKE_TIMEOUT):
    """Wait until the call in flight has reached the raw server (it must not answer)."""
    deadline = time.monotonic() + scaled(timeout)
    while not raw.accepted.wait(0.05):
        still_waiting(future, "the call answered before reaching the server")
        if time.monotonic() > deadline:
            raw.wait_accepted(0)


def still_waiting(future, message):
    """Fail with `message` (or report unimplemented) if the request has answered."""
    if future.done():
        result, error = outcome_of(future, 0)
        pytest.fail("%s: %r" % (message, error or result))


def outcome_of(future, timeout=HANDSHAKE_TIMEOUT):
    try:
        return future.result(timeout), None
    except ShimError as error:
        return None, error


def describe(connection):
    parts = []
    for name, end in (("client", connection.client), ("server", connection.server)):
        if end.ok:
            parts.append("%s: ok" % name)
        else:
            parts.append("%s: %s: %s" % (name, end.error.kind, end.error.message))
    return "; ".join(parts)


def versions_of(shim, ports):
    return [shim.call("ssl-protocol-version", port) for port in ports]


def refused_values(kind, op, where):
    """The values bad-inputs.json lists for argument `where` of `op`."""
    entry = BAD_INPUTS[kind]
    places = [a for a in entry["arguments"] if a["op"] == op]
    assert any(a.get("arg", a.get("kw")) == where for a in places), (kind, op, where)
    return entry["refused"]


def decode_fixture(shim, value):
    """A bad-inputs.json value in Python form; context placeholders made for real."""
    if isinstance(value, dict) and set(value) == {"context"}:
        op = "ssl-make-%s-context" % value["context"]
        return shim.call(op)
    if isinstance(value, dict) and set(value) == {"symbol"}:
        return Symbol(value["symbol"])
    if isinstance(value, dict) and set(value) == {"bytes"}:
        return bytes.fromhex(value["bytes"])
    if isinstance(value, list):
        return [decode_fixture(shim, v) for v in value]
    return value


class QuietListener:
    """A TCP socket that listens and never accepts: shows whether anyone connected."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self):
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1

    def close(self):
        self.sock.close()


# -- ssl-connect and ssl-connect/enable-break ----------------------------------------


@pytest.mark.spec("S1.connect.1", "S2.port-pred.1")
@pytest.mark.parametrize("op", ["ssl-connect", "ssl-connect/enable-break"])
def test_connect_returns_an_input_and_an_output_ssl_port(shim, op):
    listener, port, accepting = serve_once(shim)
    ports = shim.call(op, "localhost", port, timeout=HANDSHAKE_TIMEOUT)
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert isinstance(ports, tuple) and len(ports) == 2, "%s answered %r" % (op, ports)
    assert all(isinstance(p, Handle) for p in ports) and ports[0] != ports[1]
    for port_handle in ports:
        assert shim.call("ssl-port?", port_handle) is True, "ssl-port? is not #t for %r" % (
            port_handle,
        )
    # The first is the input port, the second the output port.
    assert exchange(shim, ports[1], server_ports[0], b"to the server") == b"to the server"
    assert exchange(shim, server_ports[1], ports[0], b"to the client") == b"to the client"


@pytest.mark.spec("S1.connect.2")
def test_bytes_arrive_unchanged_and_in_order_both_ways(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    client, server = connection.client, connection.server
    pieces = [bytes(range(256)), b"\x00" * 17, b"\r\n\r\n", bytes(range(255, -1, -1)) * 40]
    for direction, (out, into) in {
        "client to server": (client.output, server.input),
        "server to client": (server.output, client.input),
    }.items():
        reading = shim.start_call("read-bytes", sum(map(len, pieces)), into)
        for piece in pieces:
            assert shim.call("write-bytes", piece, out) == len(piece)
        shim.call("flush-output", out)
        got = reading.result(HANDSHAKE_TIMEOUT)
        assert got == b"".join(pieces), "%s: bytes changed or reordered" % direction


@pytest.mark.spec("S1.connect.3")
def test_the_connection_is_encrypted_on_the_wire(shim, peers):
    listener, port, accepting = serve_once(shim)
    relay = peers.add(P.Relay(port))
    ports = connect(shim, relay.port)
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    secret = b"a secret that must never travel in clear: 7c1f0e9a"
    assert exchange(shim, ports[1], server_ports[0], secret) == secret
    assert exchange(shim, server_ports[1], ports[0], secret[::-1]) == secret[::-1]
    to_server, to_client = bytes(relay.data["c2s"]), bytes(relay.data["s2c"])
    assert to_server[:1] == b"\x16", "the client's first byte is %r, not 22%s" % (
        to_server[:1],
        relay.log(),
    )
    for stream in (to_server, to_client):
        assert secret not in stream and secret[::-1] not in stream, (
            "application bytes appear in clear on the TCP stream" + relay.log()
        )
        assert secret[:16] not in stream and secret[-16:] not in stream


@pytest.mark.spec("S1.connect.4")
def test_default_protocol_completes_with_an_untrusted_server(shim):
    context = server_context(shim, chain="server-self-signed.pem", key="server-self-signed.key")
    listener, port, accepting = serve_once(shim, context)
    ports = shim.call("ssl-connect", "localhost", port, timeout=HANDSHAKE_TIMEOUT)
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert exchange(shim, ports[1], server_ports[0], b"auto") == b"auto"
    assert shim.call("ssl-protocol-version", ports[0]) == sym("tls13")
    assert shim.call("ssl-peer-verified?", ports[0]) is False


@pytest.mark.spec("S1.connect.5")
def test_a_client_context_argument_governs_the_connection(shim):
    verifying = shim.call("ssl-make-client-context")
    shim.call("ssl-set-verify!", verifying, True)
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call("ssl-accept", listener)
    error = expect_error("exn:fail:network", shim, "ssl-connect", "localhost", port, verifying)
    _, server_error = outcome_of(accepting)
    assert server_error is not None, "the server accepted a client that refused it"
    accepting = shim.start_call("ssl-accept", listener)
    ports = connect(shim, port, "auto")
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert exchange(shim, ports[1], server_ports[0], b"ok") == b"ok", error.message


@pytest.mark.spec("S1.connect.6")
def test_a_protocol_symbol_argument_makes_a_fresh_context(shim):
    listener, port, accepting = serve_once(shim, "auto")
    ports = connect(shim, port, "tls12")
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert versions_of(shim, ports) == [sym("tls12")] * 2
    assert versions_of(shim, server_ports) == [sym("tls12")] * 2


@pytest.mark.spec("S1.connect.7")
def test_connect_where_nothing_listens_raises_network(shim):
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind((LOOPBACK, 0))  # bound and not listening: connections are refused
    try:
        port = holder.getsockname()[1]
        for op in ("ssl-connect", "ssl-connect/enable-break"):
            expect_error("exn:fail:network", shim, op, LOOPBACK, port)
    finally:
        holder.close()


@pytest.mark.spec("S1.connect.8")
def test_failed_handshake_raises_network(shim):
    listener, port, accepting = serve_once(shim, "tls12")
    expect_error("exn:fail:network", shim, "ssl-connect", "localhost", port, sym("tls13"))
    _, server_error = outcome_of(accepting)
    assert server_error is not None and server_error.kind == "exn:fail:network"


@pytest.mark.spec("S1.connect.9")
def test_failed_handshake_closes_the_tcp_connection(shim, peers):
    raw = peers.add(P.RawServer(greeting=b"HTTP/1.0 400 Not TLS\r\n\r\nno TLS spoken here\n"))
    expect_error("exn:fail:network", shim, "ssl-connect", LOOPBACK, raw.port)
    ended = raw.wait_closed(HANDSHAKE_TIMEOUT)
    assert ended in ("eof", "reset"), "the TCP connection stayed open: %s%s" % (ended, raw.log())


@pytest.mark.spec("S1.connect.10")
@pytest.mark.parametrize("version", ["tls12", "tls13"])
@pytest.mark.parametrize("direction", ["read", "write"])
def test_an_altered_record_fails_with_a_network_error(shim, peers, version, direction):
    listener, port, accepting = serve_once(shim, version)
    relay = peers.add(P.Relay(port))
    client_in, client_out = connect(shim, relay.port)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    # One round trip first, so that everything the handshake sends has passed.
    assert exchange(shim, server_out, client_in, b"ping") == b"ping"
    assert exchange(shim, client_out, server_in, b"pong") == b"pong"
    if direction == "read":
        relay.tamper("s2c")
        shim.call("write-bytes", b"altered on the way", server_out)
        shim.call("flush-output", server_out)
        error = expect_error("exn:fail:network", shim, "read-bytes", 18, client_in)
    else:
        # The client's record is refused by the server, whose alert then makes
        # the client's next write (or the read after it) fail.
        relay.tamper("c2s")
        shim.call("write-bytes", b"altered on the way", client_out)
        shim.call("flush-output", client_out)
        server_error = pytest.raises(ShimError, shim.call, "read-bytes", 18, server_in).value
        assert server_error.kind == "exn:fail:network", server_error
        error = _fail_eventually(shim, client_in, client_out)
        assert error is not None, "the client never saw the failure" + relay.log()
        assert error.kind == "exn:fail:network", "%s: %s" % (error.kind, error.message)
    assert relay.tampered["s2c" if direction == "read" else "c2s"] == 1, relay.log()
    assert error.message


def _fail_eventually(shim, client_in, client_out):
    """Write and read on the client until one fails; the error or None."""
    for _ in range(20):
        try:
            shim.call("write-bytes", b"more", client_out)
            shim.call("flush-output", client_out)
            if shim.call("sync/timeout", 0.1, client_in) is not False:
                got = shim.call("read-bytes-avail", 100, client_in)
                if got is EOF:
                    continue
        except ShimError as error:
            return error
    return None


@pytest.mark.spec("S1.connect.11")
def test_closing_the_client_output_sends_no_close_notify(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    client, server = connection.client, connection.server
    assert exchange(shim, client.output, server.input, b"before") == b"before"
    shim.call("close-output-port", client.output)
    ready = shim.call("sync/timeout", NOT_READY_WAIT, server.input)
    assert ready is False, "the server's input became ready after the client closed its output"
    assert exchange(shim, server.output, client.input, b"still read") == b"still read"


@pytest.mark.spec("S1.connect.12", "D.eof.1")
def test_closing_both_client_ports_gives_the_server_eof(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    client, server = connection.client, connection.server
    shim.call("write-bytes", b"last words", client.output)
    shim.call("flush-output", client.output)
    shim.call("close-output-port", client.output)
    shim.call("close-input-port", client.input)
    assert shim.call("read-bytes", 10, server.input, timeout=HANDSHAKE_TIMEOUT) == b"last words"
    got = shim.call("read-bytes", 1, server.input, timeout=HANDSHAKE_TIMEOUT)
    assert got is EOF, "the server read %r, not eof, after the client closed" % (got,)


@pytest.mark.spec("S1.connect.13")
def test_break_interrupts_a_waiting_connect_enable_break(shim, peers):
    raw = peers.add(P.RawServer())
    connecting = shim.start_call("ssl-connect/enable-break", LOOPBACK, raw.port)
    wait_until_reached(raw, connecting)
    # Once the ClientHello is out, the call waits for the server's reply.
    deadline = time.monotonic() + scaled(HANDSHAKE_TIMEOUT)
    while len(raw.received) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(scaled(0.2))
    still_waiting(connecting, "ssl-connect/enable-break answered a silent server")
    shim.call("break", connecting.id)
    error = pytest.raises(ShimError, connecting.result, HANDSHAKE_TIMEOUT).value
    assert error.kind == "exn:break", "%s: %s%s" % (error.kind, error.message, raw.log())


@pytest.mark.spec("S1.connect.14")
def test_break_does_not_interrupt_a_plain_connect(shim, peers):
    raw = peers.add(P.RawServer())
    connecting = shim.start_call("ssl-connect", LOOPBACK, raw.port)
    wait_until_reached(raw, connecting)
    time.sleep(0.1)
    shim.call("break", connecting.id)
    time.sleep(NOT_READY_WAIT)
    still_waiting(connecting, "ssl-connect answered after a break")
    raw.close()
    error = pytest.raises(ShimError, connecting.result, HANDSHAKE_TIMEOUT).value
    assert error.kind == "exn:fail:network", "%s: %s" % (error.kind, error.message)


CONNECT_CONTRACTS = [
    ("connect-port", 1),
    ("hostname", 0),
    ("protocol-symbol", 2),
    ("client-context", 2),
]


@pytest.mark.spec("S1.connect.15")
@pytest.mark.parametrize("op", ["ssl-connect", "ssl-connect/enable-break"])
def test_connect_refuses_bad_arguments(shim, op):
    target = QuietListener()
    try:
        for kind, position in CONNECT_CONTRACTS:
            if kind in ("protocol-symbol", "client-context") and op != "ssl-connect":
                values = BAD_INPUTS[kind]["refused"]
            else:
                values = refused_values(kind, op, position)
            for value in values:
                args = ["localhost", target.port, sym("auto")]
                args[position] = decode_fixture(shim, value)
                error = pytest.raises(
                    ShimError, shim.call, op, *args, timeout=REFUSAL_TIMEOUT
                ).value
                assert error.kind == "exn:fail:contract", "%s with %s %r: %s: %s" % (
                    op,
                    kind,
                    value,
                    error.kind,
                    error.message,
                )
        assert target.connections() == 0, "a refused call still opened a TCP connection"
    finally:
        target.close()


@pytest.mark.spec("S1.alpn.6")
def test_connect_refuses_bad_alpn_lists(shim):
    target = QuietListener()
    try:
        for value in refused_values("alpn-list", "ssl-connect", "alpn"):
            decoded = decode_fixture(shim, value)
            error = pytest.raises(
                ShimError, shim.call, "ssl-connect", "localhost", target.port, alpn=decoded
            ).value
            assert error.kind == "exn:fail:contract", "#:alpn %r: %s" % (value, error)
        assert target.connections() == 0, "a refused call still opened a TCP connection"
    finally:
        target.close()


# -- ssl-secure-client-context --------------------------------------------------------


@pytest.mark.spec("S1.secure.1", "S1.predicate.1")
def test_secure_context_is_a_client_context(shim):
    secure = shim.call("ssl-secure-client-context")
    assert isinstance(secure, Handle)
    assert shim.call("ssl-client-context?", secure) is True
    assert shim.call("ssl-server-context?", secure) is False


@pytest.mark.spec("S1.secure.2")
@pytest.mark.parametrize(
    "op, args",
    [
        ("ssl-load-certificate-chain!", [cert("client.pem")]),
        ("ssl-load-private-key!", [cert("client.key"), False]),
        ("ssl-set-verify!", [False]),
    ],
)
def test_secure_context_is_sealed(shim, op, args):
    secure = shim.call("ssl-secure-client-context")
    expect_error("exn:fail", shim, op, secure, *args)


@pytest.mark.spec("S1.secure.3")
def test_secure_context_is_the_same_object_twice(shim):
    first = shim.call("ssl-secure-client-context")
    assert shim.call("ssl-secure-client-context") == first


@pytest.mark.spec("S1.secure.4")
def test_secure_context_follows_the_default_verify_sources(shim):
    shim.call("ssl-default-verify-sources", [cert("root-ca.pem")])
    first = shim.call("ssl-secure-client-context")
    shim.call("ssl-default-verify-sources", [cert("root-ca.pem")])
    assert (
        shim.call("ssl-secure-client-context") == first
    ), "an equal list of sources gave a different secure context"
    shim.call("ssl-default-verify-sources", [cert("untrusted-root.pem")])
    second = shim.call("ssl-secure-client-context")
    assert second != first, "a different list of sources gave the same secure context"
    assert shim.call("ssl-client-context?", second) is True
    shim.call("ssl-default-verify-sources", [cert("untrusted-root.pem")])
    assert shim.call("ssl-secure-client-context") == second


@pytest.mark.spec("S1.secure.5", "S1.secure.9")
def test_secure_context_accepts_a_trusted_server_that_names_the_host(shim):
    trust_test_root(shim)
    secure = shim.call("ssl-secure-client-context")
    listener, port, accepting = serve_once(shim)
    ports = connect(shim, port, secure, host="localhost")
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("ssl-peer-verified?", ports[0]) is True
    assert versions_of(shim, ports + server_ports) == [sym("tls13")] * 4
    assert exchange(shim, ports[1], server_ports[0], b"secure") == b"secure"


@pytest.mark.spec("S1.secure.6")
@pytest.mark.parametrize(
    "chain, key",
    [
        ("server-self-signed.pem", "server-self-signed.key"),
        ("server-loopback-chain.pem", "server-loopback.key"),
    ],
)
def test_secure_context_refuses_an_untrusted_server(shim, chain, key):
    if chain == "server-loopback-chain.pem":
        # A chain to the test root, while the sources hold another root.
        shim.call("ssl-default-verify-sources", [cert("untrusted-root.pem")])
    else:
        trust_test_root(shim)
    secure = shim.call("ssl-secure-client-context")
    listener, port, accepting = serve_once(shim, server_context(shim, chain=chain, key=key))
    expect_error("exn:fail:network", shim, "ssl-connect", "localhost", port, secure)
    outcome_of(accepting)


@pytest.mark.spec("S1.secure.7")
def test_secure_context_refuses_a_server_that_does_not_name_the_host(shim):
    trust_test_root(shim)
    secure = shim.call("ssl-secure-client-context")
    context = server_context(shim, chain="server-dns.pem", key="server-dns.key")
    listener, port, accepting = serve_once(shim, context)
    expect_error("exn:fail:network", shim, "ssl-connect", "localhost", port, secure)
    outcome_of(accepting)
    # The same server passes the check when the client's context does no
    # hostname verification: the refusal was about the name.
    accepting = shim.start_call("ssl-accept", listener)
    verifying = client_context(shim, verify=True)
    ports = connect(shim, port, verifying)
    accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("ssl-peer-verified?", ports[0]) is True


@pytest.mark.spec("S1.secure.8")
def test_secure_context_refuses_weak_cipher_suites(shim, peers):
    trust_test_root(shim)
    weak = "aNULL:eNULL:@SECLEVEL=0"
    control = peers.openssl_server(version="tls12", ciphers=weak)
    # Control: a client that allows those suites completes with this server.
    check = subprocess.run(
        ["openssl", "s_client", "-connect", "%s:%d" % (LOOPBACK, control.port), "-tls1_2"]
        + ["-cipher", weak, "-noservername"],
        input=b"",
        capture_output=True,
        timeout=HANDSHAKE_TIMEOUT,
    )
    assert b"Cipher is (NONE)" not in check.stdout and check.returncode == 0, (
        "the weak-cipher server refused even a client allowing those suites: "
        + check.stdout.decode(errors="replace")
        + control.log()
    )
    server = peers.openssl_server(version="tls12", ciphers=weak)
    secure = shim.call("ssl-secure-client-context")
    error = expect_error("exn:fail:network", shim, "ssl-connect", "localhost", server.port, secure)
    assert error.message, server.log()


@pytest.mark.spec("S1.secure.10")
def test_secure_symbol_behaves_as_the_secure_context(shim):
    trust_test_root(shim)
    context = server_context(shim, chain="server-self-signed.pem", key="server-self-signed.key")
    listener, port, accepting = serve_once(shim, context)
    expect_error("exn:fail:network", shim, "ssl-connect", "localhost", port, sym("secure"))
    outcome_of(accepting)
    listener, port, accepting = serve_once(shim)
    ports = connect(shim, port, "secure")
    accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("ssl-peer-verified?", ports[0]) is True


# -- ssl-make-client-context ----------------------------------------------------------


@pytest.mark.spec("S1.make-ctx.1", "S1.predicate.1")
def test_make_client_context_makes_a_client_context(shim):
    for args in ([], [sym("auto")], [sym("tls12")]):
        context = shim.call("ssl-make-client-context", *args)
        assert shim.call("ssl-client-context?", context) is True
        assert shim.call("ssl-server-context?", context) is False


def supported_client_symbols(shim):
    return [s.name for s in shim.call("supported-client-protocols")]


@pytest.mark.spec("S1.make-ctx.2")
def test_make_client_context_gives_new_unsealed_contexts(shim):
    for name in supported_client_symbols(shim):
        if name == "secure":
            continue
        first = shim.call("ssl-make-client-context", sym(name))
        second = shim.call("ssl-make-client-context", sym(name))
        assert first != second, "two %s contexts are the same object" % name
        assert shim.call("ssl-set-verify!", first, True) is None
        assert shim.call("ssl-load-verify-source!", second, cert("root-ca.pem")) is None


@pytest.mark.spec("S1.make-ctx.3", "S1.version.1")
def test_make_client_context_defaults_to_auto(shim):
    context = shim.call("ssl-make-client-context")
    server = server_context(shim, chain="server-self-signed.pem", key="server-self-signed.key")
    listener, port, accepting = serve_once(shim, server)
    ports = connect(shim, port, context)
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert versions_of(shim, ports + server_ports) == [sym("tls13")] * 4
    assert shim.call("ssl-peer-verified?", ports[0]) is False


@pytest.mark.spec("S1.make-ctx.4")
def test_make_client_context_secure_is_the_secure_context(shim):
    assert shim.call("ssl-make-client-context", sym("secure")) == shim.call(
        "ssl-secure-client-context"
    )


def require_client_certificate(shim, protocol="auto"):
    """A server context that insists on a client certificate from the test root."""
    context = server_context(shim, protocol)
    shim.call("ssl-load-verify-source!", context, cert("root-ca.pem"))
    shim.call("ssl-set-verify!", context, True)
    return context


def private_key_form(form, tmp_path, key="client.key"):
    if form == "pem":
        return [sym("pem"), cert(key)]
    if form == "pem-data":
        return [sym("pem-data"), open(cert(key), "rb").read()]
    der = tmp_path / (key + ".der")
    subprocess.run(
        ["openssl", "pkey", "-in", cert(key), "-outform", "DER", "-out", str(der)], check=True
    )
    return [sym("der"), str(der)]


@pytest.mark.spec("S1.make-ctx.5", "D.secure-key.1")
def test_secure_context_with_credentials_is_new_sealed_and_presents_them(shim, tmp_path):
    trust_test_root(shim)
    context = shim.call(
        "ssl-make-client-context",
        sym("secure"),
        private_key=private_key_form("pem", tmp_path),
        certificate_chain=cert("client.pem"),
    )
    assert context != shim.call("ssl-secure-client-context")
    assert shim.call("ssl-client-context?", context) is True
    expect_error("exn:fail", shim, "ssl-set-verify!", context, False)
    # It presents the certificate to a server that asks for one.
    listener, port, accepting = serve_once(shim, require_client_certificate(shim))
    ports = connect(shim, port, context)
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("ssl-peer-verified?", server_ports[0]) is True
    assert shim.call("ssl-peer-verified?", ports[0]) is True
    # And it verifies as the secure context does: no untrusted server, no wrong name.
    for chain, key in [
        ("server-self-signed.pem", "server-self-signed.key"),
        ("server-dns.pem", "server-dns.key"),
    ]:
        server = require_client_certificate(shim)
        shim.call("ssl-load-certificate-chain!", server, cert(chain))
        shim.call("ssl-load-private-key!", server, cert(key), False)
        listener, port, accepting = serve_once(shim, server)
        expect_error("exn:fail:network", shim, "ssl-connect", "localhost", port, context)
        outcome_of(accepting)


@pytest.mark.spec("S1.make-ctx.5", "D.secure-key.1")
def test_secure_context_with_only_a_chain_is_new_and_sealed(shim):
    context = shim.call(
        "ssl-make-client-context", sym("secure"), certificate_chain=cert("client.pem")
    )
    assert context != shim.call("ssl-secure-client-context")
    expect_error("exn:fail", shim, "ssl-load-private-key!", context, cert("client.key"), False)


KEY_FORMS = [
    pytest.param("pem", marks=pytest.mark.spec("S1.make-ctx.6", "S1.make-ctx.9")),
    pytest.param("der", marks=pytest.mark.spec("S1.make-ctx.7", "S1.make-ctx.9")),
    pytest.param("pem-data", marks=pytest.mark.spec("S1.make-ctx.8", "S1.make-ctx.9")),
]


@pytest.mark.parametrize("form", KEY_FORMS)
def test_client_key_forms_present_the_certificate(shim, tmp_path, form):
    context = shim.call(
        "ssl-make-client-context",
        private_key=private_key_form(form, tmp_path),
        certificate_chain=cert("client.pem"),
    )
    listener, port, accepting = serve_once(shim, require_client_certificate(shim))
    ports = connect(shim, port, context)
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("ssl-peer-verified?", server_ports[0]) is True
    assert exchange(shim, ports[1], server_ports[0], b"with a key") == b"with a key"


@pytest.mark.parametrize("form", KEY_FORMS)
def test_client_key_forms_seen_by_an_independent_server(shim, peers, tmp_path, form):
    context = shim.call(
        "ssl-make-client-context",
        private_key=private_key_form(form, tmp_path),
        certificate_chain=cert("client.pem"),
    )
    server = peers.python_server(ca_file="root-ca.pem", verify=ssl.CERT_REQUIRED)
    ports = connect(shim, server.port, context)
    shim.call("write-bytes", b"hello\n", ports[1])
    shim.call("flush-output", ports[1])
    assert shim.call("read-bytes", 6, ports[0], timeout=HANDSHAKE_TIMEOUT) == b"hello\n"
    session = server.session()
    want = ssl.PEM_cert_to_DER_cert(open(cert("client.pem")).read())
    assert session.error is None and session.peer_cert == want, server.log()


@pytest.mark.spec("S1.make-ctx.10")
@pytest.mark.parametrize("version", ["tls12", "tls13"])
def test_no_client_certificate_by_default(shim, version):
    context = shim.call("ssl-make-client-context", sym(version))
    listener, port, accepting = serve_once(shim, require_client_certificate(shim))
    ports, client_error = None, None
    try:
        ports = connect(shim, port, context)
    except ShimError as error:
        client_error = error
    _, server_error = outcome_of(accepting)
    assert server_error is not None, "the server accepted a client without a certificate"
    assert server_error.kind == "exn:fail:network", server_error
    if client_error is None:
        # On TLS 1.3 the client may finish first and learn of the refusal on reading.
        try:
            got = shim.call("read-bytes", 1, ports[0], timeout=HANDSHAKE_TIMEOUT)
            assert got is EOF, "the refused client read %r" % (got,)
        except ShimError as error:
            client_error = error
    if client_error is not None:
        assert client_error.kind == "exn:fail:network", client_error


@pytest.mark.spec("S1.make-ctx.11")
@pytest.mark.parametrize("keyword", ["private_key", "certificate_chain"])
def test_missing_key_or_chain_file_raises(shim, tmp_path, keyword):
    missing = str(tmp_path / "no-such-file.pem")
    value = [sym("pem"), missing] if keyword == "private_key" else missing
    keywords = {"private_key": private_key_form("pem", tmp_path)}
    keywords["certificate_chain"] = cert("client.pem")
    keywords[keyword] = value
    error = expect_error("exn:fail", shim, "ssl-make-client-context", **keywords)
    assert error.message


@pytest.mark.spec("S1.make-ctx.12", "S2.server-ctx.9")
@pytest.mark.parametrize("op", ["ssl-make-client-context", "ssl-make-server-context"])
def test_make_context_refuses_bad_arguments(shim, op):
    cases = [("protocol-symbol", 0, v) for v in refused_values("protocol-symbol", op, 0)]
    cases += [("key-form", "private-key", v) for v in refused_values("key-form", op, "private-key")]
    cases += [
        ("path", "certificate-chain", v) for v in refused_values("path", op, "certificate-chain")
    ]
    for kind, where, value in cases:
        decoded = decode_fixture(shim, value)
        if where == 0:
            args, kw = [decoded], {}
        else:
            args, kw = [sym("auto")], {where: decoded}
        error = pytest.raises(ShimError, shim.call, op, *args, kw=kw, timeout=REFUSAL_TIMEOUT).value
        assert error.kind == "exn:fail:contract", "%s with %s %r: %s: %s" % (
            op,
            kind,
            value,
            error.kind,
            error.message,
        )


# -- protocol symbols ---------------------------------------------------------------


@pytest.mark.spec("S1.protocols.1")
def test_protocol_symbol_contract_lists_the_nine_symbols(shim):
    accepted = shim.value("ssl-protocol-symbol/c")
    assert isinstance(accepted, list)
    assert len(accepted) == len(set(accepted)) == 9, accepted
    assert set(accepted) == set(PROTOCOL_SYMBOLS), accepted


@pytest.mark.spec("S1.protocols.9", "S1.protocols.8", "D.sslv2-or-v3.1", "D.legacy-tls.1")
def test_supported_client_protocols(shim):
    supported = shim.call("supported-client-protocols")
    assert isinstance(supported, list) and len(supported) == len(set(supported)), supported
    assert set(supported) <= set(PROTOCOL_SYMBOLS), supported
    names = [s.name for s in supported]
    for name in ("secure", "auto", "tls12", "tls13"):
        assert name in names, "%s is not supported: %r" % (name, names)
    assert ("sslv2-or-v3" in names) == ("auto" in names), names
    # OpenSSL 3 keeps TLS 1.0 and 1.1 (at security level 0); SSL 2 is gone.
    assert "tls" in names and "tls11" in names, names
    assert "sslv2" not in names, names


@pytest.mark.spec("S1.protocols.10", "S1.protocols.8", "S2.server-ctx.11")
@pytest.mark.parametrize("side", ["client", "server"])
def test_each_symbol_makes_a_context_or_is_unsupported(shim, side):
    supported = shim.call("supported-%s-protocols" % side)
    op = "ssl-make-%s-context" % side
    for symbol in PROTOCOL_SYMBOLS:
        if symbol in supported:
            context = shim.call(op, symbol)
            assert shim.call("ssl-%s-context?" % side, context) is True
        else:
            expect_error("exn:fail:unsupported", shim, op, symbol)


@pytest.mark.spec("S1.protocols.11", "S2.server-ctx.12")
@pytest.mark.parametrize("side", ["client", "server"])
def test_max_protocol_is_the_newest_supported_version(shim, side):
    supported = [s.name for s in shim.call("supported-%s-protocols" % side)]
    newest = shim.call("ssl-max-%s-protocol" % side)
    assert isinstance(newest, Symbol) and newest.name in VERSION_SYMBOLS, newest
    assert newest.name in supported, (newest, supported)
    versions = [v for v in VERSION_SYMBOLS if v in supported]
    assert newest.name == versions[-1] == "tls13", (newest, versions)


@pytest.mark.spec("S1.protocols.3", "S1.protocols.7", "D.sslv2-or-v3.1")
@pytest.mark.parametrize("protocol", ["auto", "sslv2-or-v3"])
def test_client_hello_offers_nothing_below_tls10(shim, peers, protocol):
    catcher = peers.add(P.HelloCatcher())
    context = shim.call("ssl-make-client-context", sym(protocol))
    pytest.raises(ShimError, shim.call, "ssl-connect", "localhost", catcher.port, context)
    hello = catcher.hello()
    assert hello.legacy_version >= 0x0301, hello
    assert hello.supported_versions, "no supported_versions extension: %r" % (hello,)
    assert all(v >= 0x0301 for v in hello.supported_versions), hello
    assert 0x0304 in hello.supported_versions, hello


# The versions each symbol allows, as (lowest, highest) minor numbers of TLS 1.x;
# 'secure on a server is 'auto.  Below TLS 1.2 a handshake also needs security
# level 0 at both ends (D.legacy-tls.1).
RANGES = {
    "secure": (2, 3),
    "auto": (0, 3),
    "sslv2-or-v3": (0, 3),
    "tls": (0, 0),
    "tls11": (1, 1),
    "tls12": (2, 2),
    "tls13": (3, 3),
}
MINOR_NAMES = {0: "tls", 1: "tls11", 2: "tls12", 3: "tls13"}
MATRIX_SYMBOLS = list(RANGES)


def expected_version(client, server, legacy):
    low = max(RANGES[client][0], RANGES[server][0], 0 if legacy else 2)
    high = min(RANGES[client][1], RANGES[server][1])
    return MINOR_NAMES[high] if low <= high else None


# The clauses each symbol of a pair brings to a test of the matrix.
SYMBOL_CLAUSES = {
    "tls12": pytest.mark.spec("S1.protocols.4"),
    "tls13": pytest.mark.spec("S1.protocols.5"),
    "tls": pytest.mark.spec("S1.protocols.6", "D.legacy-tls.1"),
    "tls11": pytest.mark.spec("S1.protocols.6", "D.legacy-tls.1"),
    "sslv2-or-v3": pytest.mark.spec("S1.protocols.7", "D.sslv2-or-v3.1"),
}
MATRIX_CLAUSES = pytest.mark.spec("S1.version.1", "S1.protocols.2", "S2.server-ctx.3")
DEFAULT_LEVEL_CLAUSES = pytest.mark.spec("S1.connect.6", "S2.listen.6")
SECURE_LISTENER_CLAUSES = pytest.mark.spec("S2.listen.8")


def matrix_marks(client, server, legacy):
    marks = [MATRIX_CLAUSES]
    marks += [SYMBOL_CLAUSES[name] for name in {client, server} if name in SYMBOL_CLAUSES]
    if not legacy:
        marks.append(DEFAULT_LEVEL_CLAUSES)
        if server == "secure":
            marks.append(SECURE_LISTENER_CLAUSES)
    return marks


def matrix_params(legacy):
    params = []
    for client in MATRIX_SYMBOLS:
        for server in MATRIX_SYMBOLS:
            if legacy and "secure" in (client, server):
                continue  # a sealed context takes no cipher string
            params.append(
                pytest.param(
                    client,
                    server,
                    id="%s-client-%s-server" % (client, server),
                    marks=matrix_marks(client, server, legacy),
                )
            )
    return params


def check_negotiation(shim, connection, want, label):
    if want is None:
        assert not connection.client.ok, "%s: handshake succeeded; wanted a failure: %s" % (
            label,
            describe(connection),
        )
        assert connection.client.error.kind == "exn:fail:network", describe(connection)
        assert not connection.server.ok, "%s: the server accepted: %s" % (
            label,
            describe(connection),
        )
        assert connection.server.error.kind == "exn:fail:network", describe(connection)
        return
    assert connection.ok, "%s: wanted %s: %s" % (label, want, describe(connection))
    client = versions_of(shim, connection.client.ports)
    server = versions_of(shim, connection.server.ports)
    assert client == server == [sym(want)] * 2, "%s: client %r, server %r; wanted %s" % (
        label,
        client,
        server,
        want,
    )
    data = b"negotiated " + want.encode()
    assert exchange(shim, connection.client.output, connection.server.input, data) == data


@pytest.mark.parametrize("client, server", matrix_params(legacy=False))
def test_negotiated_version_for_each_pair_of_symbols(shim, client, server):
    trust_test_root(shim)
    listener = shim.call("ssl-listen", 0, 5, True, LOOPBACK, sym(server))
    shim.call("ssl-load-certificate-chain!", listener, cert("server-loopback-chain.pem"))
    shim.call("ssl-load-private-key!", listener, cert("server-loopback.key"), False)
    port = shim.call("ssl-addresses", listener, True)[1]
    connection = tcp_pair(shim, None, client, listener=listener, port=port)
    check_negotiation(shim, connection, expected_version(client, server, False), "default level")
    close_connection(shim, connection)


@pytest.mark.parametrize("client, server", matrix_params(legacy=True))
def test_negotiated_version_at_security_level_0(shim, client, server):
    server_ctx = server_context(shim, server, ciphers=LEGACY_CIPHERS)
    client_ctx = shim.call("ssl-make-client-context", sym(client))
    shim.call("ssl-set-ciphers!", client_ctx, LEGACY_CIPHERS)
    connection = tcp_pair(shim, server_ctx, client_ctx)
    check_negotiation(shim, connection, expected_version(client, server, True), "@SECLEVEL=0")
    close_connection(shim, connection)


@pytest.mark.spec("S1.protocols.6", "D.legacy-tls.1")
@pytest.mark.parametrize("protocol", ["tls", "tls11"])
def test_legacy_versions_need_security_level_0_at_both_ends(shim, protocol):
    for server_ciphers, client_ciphers in [
        (None, None),
        (LEGACY_CIPHERS, None),
        (None, LEGACY_CIPHERS),
    ]:
        server_ctx = server_context(shim, protocol, ciphers=server_ciphers)
        client_ctx = client_context(shim, protocol, trust=None, ciphers=client_ciphers)
        connection = tcp_pair(shim, server_ctx, client_ctx)
        label = "server ciphers %s, client ciphers %s" % (server_ciphers, client_ciphers)
        check_negotiation(shim, connection, None, label)


# -- ssl-client-context? and ssl-protocol-version ---------------------------------------


@pytest.mark.spec("S1.predicate.1")
def test_client_context_predicate(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    listener = connection.listener
    pipe_in, pipe_out = shim.call("make-pipe")
    yes = [
        shim.call("ssl-make-client-context"),
        shim.call("ssl-make-client-context", sym("tls13")),
        shim.call("ssl-secure-client-context"),
    ]
    no = [
        shim.call("ssl-make-server-context"),
        listener,
        connection.client.input,
        connection.server.output,
        pipe_in,
        pipe_out,
        "a string",
        False,
    ]
    for value in yes:
        assert shim.call("ssl-client-context?", value) is True, value
    for value in no:
        assert shim.call("ssl-client-context?", value) is False, value


@pytest.mark.spec("S1.version.2")
def test_protocol_version_refuses_what_is_not_an_ssl_port(shim):
    pipe_in, pipe_out = shim.call("make-pipe")
    listener, _ = listen(shim, server_context(shim))
    for value in (pipe_in, pipe_out, listener, shim.call("ssl-make-client-context"), "port"):
        expect_error("exn:fail:contract", shim, "ssl-protocol-version", value)
