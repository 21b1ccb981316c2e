"""Section 2: listeners, ssl-accept, ssl-close, ssl-abandon-port, ssl-addresses,
ssl-port? and server contexts.

Where a clause is about the network (a port in TIME_WAIT, a client that sends
no TLS, what the server asks of a client), the other end is a plain socket,
openssl s_client or Python's ssl module rather than the shim itself.
"""

import json
import socket
import ssl
import time

import pytest
from cryptography import x509

from harness import EOF, Handle, Symbol
from harness import peers as P
from harness.shim import ShimError, scaled
from harness.support import expect_error, outcome_of, still_waiting
from harness.tls import (
    HANDSHAKE_TIMEOUT,
    LOOPBACK,
    ROOT,
    cert,
    close_connection,
    exchange,
    listen,
    pipe_pair,
    server_context,
    sym,
    tcp_pair,
)

NOT_READY_WAIT = 0.5
REFUSAL_TIMEOUT = 5.0
BAD_INPUTS = json.loads((ROOT / "fixtures" / "bad-inputs.json").read_text())


@pytest.fixture
def peers():
    """Real peers for one test, stopped at its end."""
    with P.PeerSet() as started:
        yield started


# -- helpers --------------------------------------------------------------------------


def connect(shim, port, target="auto", host="localhost"):
    target = sym(target) if isinstance(target, str) else target
    return shim.call("ssl-connect", host, port, target, timeout=HANDSHAKE_TIMEOUT)


def plain_client(port, send=b""):
    """A plain TCP client on loopback, having sent `send`."""
    sock = socket.create_connection((LOOPBACK, port), timeout=HANDSHAKE_TIMEOUT)
    if send:
        sock.sendall(send)
    return sock


def read_until_closed(sock):
    """Read until the other end closes; 'eof' or 'reset'."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return "reset"
    return "eof"


def decode_fixture(shim, value):
    """A bad-inputs.json value in Python form; context placeholders made for real."""
    if isinstance(value, dict) and set(value) == {"context"}:
        return shim.call("ssl-make-%s-context" % value["context"])
    if isinstance(value, dict) and set(value) == {"symbol"}:
        return Symbol(value["symbol"])
    if isinstance(value, dict) and set(value) == {"bytes"}:
        return bytes.fromhex(value["bytes"])
    if isinstance(value, list):
        return [decode_fixture(shim, v) for v in value]
    return value


def local_tcp_states(port):
    """The states (hex, as /proc/net/tcp gives them) of 127.0.0.1 sockets on `port`."""
    states = []
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            address, local = fields[1].split(":")
            if address == "0100007F" and int(local, 16) == port:
                states.append(fields[3])
    return states


def wait_for_tcp_state(port, states, timeout=5.0):
    """Wait until a socket on local `port` is in one of `states`; True if one is."""
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        if set(local_tcp_states(port)) & set(states):
            return True
        time.sleep(0.02)
    return False


def dns_names(path):
    """The DNS names in the subject alternative names of a PEM certificate file."""
    certificate = x509.load_pem_x509_certificate(open(path, "rb").read())
    extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    return extension.value.get_values_for_type(x509.DNSName)


def der_of(path):
    return ssl.PEM_cert_to_DER_cert(open(path).read())


def asked_for_a_client_certificate(output):
    return "CertificateRequest" in output


# -- ssl-listen and ssl-listener? -----------------------------------------------------


@pytest.mark.spec("S2.listen.1", "S2.listen.13")
def test_listen_returns_a_listener(shim):
    listener = shim.call("ssl-listen", 0, 5, True, LOOPBACK, server_context(shim))
    assert isinstance(listener, Handle)
    assert shim.call("ssl-listener?", listener) is True
    shim.call("ssl-close", listener)
    assert shim.call("ssl-listener?", listener) is True, "a closed listener is still a listener"


@pytest.mark.spec("S2.listen.1", "S2.listen.12")
@pytest.mark.parametrize("backlog", [0, 1, 64])
def test_listen_takes_any_queue_size(shim, backlog):
    listener = shim.call("ssl-listen", 0, backlog, True, LOOPBACK, server_context(shim))
    port = shim.call("ssl-addresses", listener, True)[1]
    connection = tcp_pair(shim, None, "auto", listener=listener, port=port).require()
    assert exchange(shim, connection.client.output, connection.server.input, b"q") == b"q"


@pytest.mark.spec("S2.listen.2")
def test_port_0_lets_the_system_choose(shim):
    listener = shim.call("ssl-listen", 0, 5, False, LOOPBACK, server_context(shim))
    values = shim.call("ssl-addresses", listener, True)
    port = values[1]
    assert isinstance(port, int) and 1 <= port <= 65535, values
    accepting = shim.start_call("ssl-accept", listener)
    ports = connect(shim, port)
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert exchange(shim, ports[1], server_ports[0], b"port 0") == b"port 0"


@pytest.mark.spec("S2.listen.3", "S2.addresses.3")
def test_listen_hostname(shim):
    listener = shim.call("ssl-listen", 0, 5, True, LOOPBACK, server_context(shim))
    assert shim.call("ssl-addresses", listener) == (LOOPBACK, "0.0.0.0")
    port = shim.call("ssl-addresses", listener, True)[1]
    accepting = shim.start_call("ssl-accept", listener)
    ports = connect(shim, port, host=LOOPBACK)
    server_ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert exchange(shim, ports[1], server_ports[0], b"to 127.0.0.1") == b"to 127.0.0.1"


@pytest.mark.spec("S2.listen.3", "S2.addresses.3", "S2.listen.6")
def test_listen_defaults_to_every_address(shim):
    # Only the port number: hostname #f and 'auto, the defaults.  (The one
    # listener of the suite bound beyond loopback, for the length of a handshake.)
    listener = shim.call("ssl-listen", 0)
    shim.call("ssl-load-certificate-chain!", listener, cert("server-loopback-chain.pem"))
    shim.call("ssl-load-private-key!", listener, cert("server-loopback.key"), False)
    assert shim.call("ssl-addresses", listener) == ("0.0.0.0", "0.0.0.0")
    port = shim.call("ssl-addresses", listener, True)[1]
    accepting = shim.start_call("ssl-accept", listener)
    ports = connect(shim, port, host=LOOPBACK)
    accepting.result(HANDSHAKE_TIMEOUT)
    shim.call("ssl-close", listener)
    assert shim.call("ssl-protocol-version", ports[0]) == sym("tls13")


@pytest.mark.spec("S2.listen.4")
def test_reuse_allows_a_port_in_time_wait(shim):
    context = server_context(shim)
    listener = shim.call("ssl-listen", 0, 5, True, LOOPBACK, context)
    port = shim.call("ssl-addresses", listener, True)[1]
    accepting = shim.start_call("ssl-accept", listener)
    client_in, client_out = connect(shim, port)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    assert exchange(shim, client_out, server_in, b"x") == b"x"
    # The server closes first, so its end of the connection goes to TIME_WAIT.
    shim.call("close-output-port", server_out)
    shim.call("close-input-port", server_in)
    # The server's FIN is acknowledged (FIN_WAIT2) before the client closes.
    wait_for_tcp_state(port, ("05", "06"))
    shim.call("close-output-port", client_out)
    shim.call("close-input-port", client_in)
    shim.call("ssl-close", listener)
    assert wait_for_tcp_state(port, ("06",)), "no connection of port %d reached TIME_WAIT: %r" % (
        port,
        local_tcp_states(port),
    )
    again = shim.call("ssl-listen", port, 5, True, LOOPBACK, context)
    assert shim.call("ssl-addresses", again, True)[1] == port
    accepting = shim.start_call("ssl-accept", again)
    ports = connect(shim, port)
    accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("ssl-protocol-version", ports[0]) == sym("tls13")


@pytest.mark.spec("S2.listen.5")
@pytest.mark.parametrize("reuse", [False, True])
def test_listen_on_a_held_port_raises_network(shim, reuse):
    listener, port = listen(shim, server_context(shim))
    expect_error(
        "exn:fail:network", shim, "ssl-listen", port, 5, reuse, LOOPBACK, server_context(shim)
    )
    assert shim.call("ssl-addresses", listener, True)[1] == port, "the first listener was harmed"


@pytest.mark.spec("S2.listen.6")
def test_a_symbol_gives_each_listener_a_fresh_unsealed_context(shim):
    loaded = shim.call("ssl-listen", 0, 5, True, LOOPBACK, sym("auto"))
    bare = shim.call("ssl-listen", 0, 5, True, LOOPBACK, sym("auto"))
    assert shim.call("ssl-load-certificate-chain!", loaded, cert("server-rsa.pem")) is None
    assert shim.call("ssl-load-private-key!", loaded, cert("server-rsa.key"), False) is None
    port = shim.call("ssl-addresses", loaded, True)[1]
    connection = tcp_pair(shim, None, "auto", listener=loaded, port=port).require()
    assert exchange(shim, connection.client.output, connection.server.input, b"ok") == b"ok"
    # The other listener's context did not get the certificate.
    port = shim.call("ssl-addresses", bare, True)[1]
    connection = tcp_pair(shim, None, "auto", listener=bare, port=port)
    assert (
        not connection.client.ok and not connection.server.ok
    ), "a listener made from a symbol shares its context with another"


@pytest.mark.spec("S2.listen.7")
def test_a_listener_uses_the_given_context(shim, peers):
    context = server_context(shim, chain="server-rsa.pem", key="server-rsa.key")
    listener, port = listen(shim, context)
    accepting = shim.start_call("ssl-accept", listener)
    client = peers.python_client(port)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("read-bytes", 18, server_in) == b"hello from python\n"
    shim.call("write-bytes", b"answer\n", server_out)
    shim.call("flush-output", server_out)
    session = client.wait()
    assert session.error is None and session.received == b"answer\n", client.log()
    assert session.peer_cert == der_of(cert("server-rsa.pem")), "the client saw another certificate"


def s_client_to(peers, port, version):
    """openssl s_client through a handshake and one line, with its protocol trace."""
    client = peers.openssl_client(port, version=version, extra=["-msg"])
    client.send(b"line from s_client\n")
    return client


@pytest.mark.spec("S2.listen.8", "S2.server-ctx.4")
@pytest.mark.parametrize("version", ["tls12", "tls13"])
@pytest.mark.parametrize("how", ["listener", "context"])
def test_secure_on_a_server_means_auto(shim, peers, version, how):
    if how == "listener":
        listener = shim.call("ssl-listen", 0, 5, True, LOOPBACK, sym("secure"))
        shim.call("ssl-load-certificate-chain!", listener, cert("server-loopback-chain.pem"))
        shim.call("ssl-load-private-key!", listener, cert("server-loopback.key"), False)
        port = shim.call("ssl-addresses", listener, True)[1]
    else:
        context = shim.call("ssl-make-server-context", sym("secure"))
        assert shim.call("ssl-set-verify!", context, False) is None, "the context is sealed"
        shim.call("ssl-load-certificate-chain!", context, cert("server-loopback-chain.pem"))
        shim.call("ssl-load-private-key!", context, cert("server-loopback.key"), False)
        listener, port = listen(shim, context)
    accepting = shim.start_call("ssl-accept", listener)
    client = s_client_to(peers, port, version)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("read-bytes", 19, server_in) == b"line from s_client\n"
    assert shim.call("ssl-protocol-version", server_in) == sym(version)
    assert P.openssl_version(client) == version, client.log()
    assert not asked_for_a_client_certificate(client.output()), (
        "the server asked for a client certificate" + client.log()
    )


@pytest.mark.spec("S2.listen.9")
def test_a_listener_without_certificate_fails_handshakes(shim):
    listener = shim.call("ssl-listen", 0, 5, True, LOOPBACK, sym("auto"))
    port = shim.call("ssl-addresses", listener, True)[1]
    connection = tcp_pair(shim, None, "auto", listener=listener, port=port)
    assert (
        not connection.client.ok and connection.client.error.kind == "exn:fail:network"
    ), connection.client
    assert (
        not connection.server.ok and connection.server.error.kind == "exn:fail:network"
    ), connection.server


@pytest.mark.spec("S2.listen.10")
def test_a_listener_with_no_client_is_not_ready(shim):
    listener, _ = listen(shim, server_context(shim))
    started = time.monotonic()
    assert shim.call("sync/timeout", NOT_READY_WAIT, listener) is False
    assert time.monotonic() - started >= NOT_READY_WAIT * 0.9, "sync/timeout did not wait"


@pytest.mark.spec("S2.listen.11")
def test_a_listener_is_ready_when_a_tcp_client_waits(shim):
    listener, port = listen(shim, server_context(shim))
    sock = plain_client(port)
    try:
        ready = shim.call("sync/timeout", HANDSHAKE_TIMEOUT, listener)
        assert ready == listener, "sync/timeout answered %r, not the listener" % (ready,)
        # Waiting took nothing: the client is still there to be accepted.
        assert shim.call("sync/timeout", 0, listener) == listener
    finally:
        sock.close()


LISTEN_CONTRACTS = [
    ("listen-port", 0),
    ("backlog", 1),
    ("hostname", 3),
    ("protocol-symbol", 4),
    ("server-context", 4),
]


@pytest.mark.spec("S2.listen.12")
def test_listen_refuses_bad_arguments(shim):
    context = server_context(shim)
    for kind, position in LISTEN_CONTRACTS:
        entry = BAD_INPUTS[kind]
        assert {"op": "ssl-listen", "arg": position} in entry["arguments"], kind
        for value in entry["refused"]:
            args = [0, 5, True, LOOPBACK, context]
            args[position] = decode_fixture(shim, value)
            error = pytest.raises(
                ShimError, shim.call, "ssl-listen", *args, timeout=REFUSAL_TIMEOUT
            ).value
            assert error.kind == "exn:fail:contract", "%s %r: %s: %s" % (
                kind,
                value,
                error.kind,
                error.message,
            )


@pytest.mark.spec("S2.listen.13")
def test_listener_predicate(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    for value in (
        shim.call("ssl-make-server-context"),
        shim.call("ssl-make-client-context"),
        connection.client.input,
        connection.server.output,
        "a listener",
        False,
    ):
        assert shim.call("ssl-listener?", value) is False, value
    assert shim.call("ssl-listener?", connection.listener) is True


@pytest.mark.spec("S2.listen.13")
def test_a_plain_tcp_listener_is_no_ssl_listener(shim):
    plain = shim.call("tcp-listen", 0, 4, True, LOOPBACK)
    assert shim.call("ssl-listener?", plain) is False
    shim.call("tcp-close", plain)


# -- ssl-close ------------------------------------------------------------------------


@pytest.mark.spec("S2.close.1")
def test_close_stops_new_connections(shim):
    listener, port = listen(shim, server_context(shim))
    assert shim.call("ssl-close", listener) is None
    expect_error("exn:fail:network", shim, "ssl-connect", LOOPBACK, port)


@pytest.mark.spec("S2.close.2")
def test_close_twice_and_accept_after_close_raise_network(shim):
    listener, _ = listen(shim, server_context(shim))
    shim.call("ssl-close", listener)
    expect_error("exn:fail:network", shim, "ssl-close", listener)
    expect_error("exn:fail:network", shim, "ssl-accept", listener)


@pytest.mark.spec("S2.addresses.5")
def test_addresses_of_a_closed_listener_raise_network(shim):
    listener, _ = listen(shim, server_context(shim))
    shim.call("ssl-close", listener)
    expect_error("exn:fail:network", shim, "ssl-addresses", listener)
    expect_error("exn:fail:network", shim, "ssl-addresses", listener, True)


@pytest.mark.spec("S2.close.3")
def test_accepted_connections_outlive_the_listener(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    shim.call("ssl-close", connection.listener)
    client, server = connection.client, connection.server
    assert exchange(shim, client.output, server.input, b"after close") == b"after close"
    assert exchange(shim, server.output, client.input, b"still here") == b"still here"


@pytest.mark.spec("S2.close.4")
def test_a_waiting_client_fails_when_the_listener_closes(shim):
    listener, port = listen(shim, server_context(shim))
    connecting = shim.start_call("ssl-connect", "localhost", port)
    ready = shim.call("sync/timeout", HANDSHAKE_TIMEOUT, listener)
    still_waiting(connecting, "ssl-connect completed with no accept")
    assert ready == listener, "the client's TCP connection never reached the listener"
    shim.call("ssl-close", listener)
    _, error = outcome_of(connecting)
    assert error is not None, "the client's handshake completed after the listener closed"
    assert error.kind == "exn:fail:network", error


@pytest.mark.spec("S2.close.5", "S2.accept.9")
@pytest.mark.parametrize("op", ["ssl-close", "ssl-accept", "ssl-accept/enable-break"])
def test_listener_operations_refuse_other_values(shim, op):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    pipe_in, _ = shim.call("make-pipe")
    for value in (
        shim.call("ssl-make-server-context"),
        connection.server.input,
        pipe_in,
        "listener",
        5,
        False,
    ):
        expect_error("exn:fail:contract", shim, op, value)


# -- ssl-accept and ssl-accept/enable-break ---------------------------------------------


@pytest.mark.spec("S2.accept.1", "S2.port-pred.1")
@pytest.mark.parametrize("op", ["ssl-accept", "ssl-accept/enable-break"])
def test_accept_returns_ports_connected_to_the_client(shim, op):
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call(op, listener)
    client_in, client_out = connect(shim, port)
    ports = accepting.result(HANDSHAKE_TIMEOUT)
    assert isinstance(ports, tuple) and len(ports) == 2 and ports[0] != ports[1], ports
    server_in, server_out = ports
    assert shim.call("ssl-port?", server_in) and shim.call("ssl-port?", server_out)
    data = bytes(range(256)) * 3
    assert exchange(shim, client_out, server_in, data) == data
    assert exchange(shim, server_out, client_in, data[::-1]) == data[::-1]


@pytest.mark.spec("S2.accept.2")
def test_accept_waits_for_a_client(shim, peers):
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call("ssl-accept", listener)
    time.sleep(NOT_READY_WAIT)
    still_waiting(accepting, "ssl-accept answered with no client")
    # A TCP client that has not sent its ClientHello yet is not enough either.
    sock = plain_client(port)
    try:
        time.sleep(NOT_READY_WAIT)
        still_waiting(accepting, "ssl-accept answered before any handshake")
    finally:
        sock.close()
    _, error = outcome_of(accepting)
    assert error is not None and error.kind == "exn:fail:network", error
    accepting = shim.start_call("ssl-accept", listener)
    client = peers.python_client(port)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    shim.call("write-bytes", b"done\n", server_out)
    shim.call("flush-output", server_out)
    session = client.wait()
    assert session.error is None and session.received == b"done\n", client.log()


@pytest.mark.spec("S2.accept.3")
def test_a_failed_handshake_leaves_the_listener_usable(shim):
    listener, port = listen(shim, server_context(shim, "tls12"))
    accepting = shim.start_call("ssl-accept", listener)
    expect_error("exn:fail:network", shim, "ssl-connect", "localhost", port, sym("tls13"))
    _, error = outcome_of(accepting)
    assert error is not None and error.kind == "exn:fail:network", error
    connection = tcp_pair(shim, None, "auto", listener=listener, port=port).require()
    assert exchange(shim, connection.client.output, connection.server.input, b"ok") == b"ok"


@pytest.mark.spec("S2.accept.4")
def test_a_client_speaking_no_tls_is_refused_and_hung_up_on(shim):
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call("ssl-accept", listener)
    sock = plain_client(port, b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
    try:
        _, error = outcome_of(accepting)
        assert error is not None and error.kind == "exn:fail:network", error
        sock.settimeout(HANDSHAKE_TIMEOUT)
        assert read_until_closed(sock) in ("eof", "reset")
    finally:
        sock.close()


@pytest.mark.spec("S2.accept.5")
def test_closing_the_server_output_sends_no_close_notify(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    client, server = connection.client, connection.server
    shim.call("close-output-port", server.output)
    assert (
        shim.call("sync/timeout", NOT_READY_WAIT, client.input) is False
    ), "the client's input became ready after the server closed its output"
    assert exchange(shim, client.output, server.input, b"still") == b"still"


@pytest.mark.spec("S2.accept.6")
@pytest.mark.parametrize("version", ["tls12", "tls13"])
def test_an_altered_record_fails_the_accepted_port(shim, peers, version):
    listener, port = listen(shim, server_context(shim, version))
    relay = peers.add(P.Relay(port))
    accepting = shim.start_call("ssl-accept", listener)
    client_in, client_out = connect(shim, relay.port)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    assert exchange(shim, server_out, client_in, b"ping") == b"ping"
    relay.tamper("c2s")
    shim.call("write-bytes", b"altered record", client_out)
    shim.call("flush-output", client_out)
    error = expect_error("exn:fail:network", shim, "read-bytes", 14, server_in)
    assert relay.tampered["c2s"] == 1, relay.log()
    assert error.message


def wait_until_ready(shim, listener, future):
    """Wait until a client waits at the listener (the call in flight must not answer)."""
    ready = shim.call("sync/timeout", HANDSHAKE_TIMEOUT, listener)
    assert ready == listener, "no client reached the listener"
    still_waiting(future, "the call answered too soon")


@pytest.mark.spec("S2.accept.7")
def test_break_interrupts_accept_enable_break(shim, peers):
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call("ssl-accept/enable-break", listener)
    time.sleep(scaled(0.3))
    still_waiting(accepting, "ssl-accept/enable-break answered with no client")
    shim.call("break", accepting.id)
    _, error = outcome_of(accepting)
    assert error is not None and error.kind == "exn:break", error
    # No connection was used up, and the listener still serves.
    client = peers.python_client(port)
    server_in, server_out = shim.call("ssl-accept", listener, timeout=HANDSHAKE_TIMEOUT)
    assert shim.call("read-bytes", 18, server_in) == b"hello from python\n"
    shim.call("write-bytes", b"accepted\n", server_out)
    shim.call("flush-output", server_out)
    session = client.wait()
    assert session.error is None and session.received == b"accepted\n", client.log()


@pytest.mark.spec("S2.accept.8")
def test_break_does_not_interrupt_a_plain_accept(shim):
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call("ssl-accept", listener)
    time.sleep(0.2)
    shim.call("break", accepting.id)
    time.sleep(NOT_READY_WAIT)
    still_waiting(accepting, "ssl-accept answered after a break")
    client_in, client_out = connect(shim, port)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    assert exchange(shim, client_out, server_in, b"same call") == b"same call"


# -- ssl-abandon-port ---------------------------------------------------------------------


@pytest.mark.spec("S2.abandon.1")
def test_abandoning_the_output_closes_it_without_close_notify(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    client, server = connection.client, connection.server
    assert shim.call("ssl-abandon-port", client.output) is None
    assert shim.call("port-closed?", client.output) is True
    assert shim.call("sync/timeout", NOT_READY_WAIT, server.input) is False
    assert exchange(shim, server.output, client.input, b"in") == b"in"


@pytest.mark.spec("S2.abandon.1")
def test_abandoning_skips_the_shutdown_of_shutdown_on_close_ports(shim):
    connection = pipe_pair(
        shim,
        server_context(shim),
        shim.call("ssl-make-client-context"),
        client_keywords={"shutdown-on-close?": True},
    ).require()
    client, server = connection.client, connection.server
    c2s_in = connection.extra["pipes"][0]
    shim.call("ssl-abandon-port", client.output)
    assert shim.call("port-closed?", client.output) is True
    assert shim.call("byte-ready?", c2s_in) is False, "abandoning wrote to the pipe"
    assert shim.call("sync/timeout", NOT_READY_WAIT, server.input) is False


@pytest.mark.spec("S2.abandon.2")
def test_abandoning_the_input_closes_only_it(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    client, server = connection.client, connection.server
    assert shim.call("ssl-abandon-port", client.input) is None
    assert shim.call("port-closed?", client.input) is True
    assert shim.call("port-closed?", client.output) is False
    assert exchange(shim, client.output, server.input, b"out") == b"out"


@pytest.mark.spec("S2.abandon.3", "D.eof.1")
@pytest.mark.parametrize("side", ["client", "server"])
def test_abandoning_both_ports_closes_the_connection(shim, side):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    ends = {"client": connection.client, "server": connection.server}
    mine, peer = ends[side], ends["server" if side == "client" else "client"]
    shim.call("ssl-abandon-port", mine.output)
    shim.call("ssl-abandon-port", mine.input)
    got = shim.call("read-bytes", 1, peer.input, timeout=HANDSHAKE_TIMEOUT)
    assert got is EOF, "the peer read %r, not eof" % (got,)


@pytest.mark.spec("S2.abandon.4")
def test_abandoning_a_closed_port_does_nothing(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    client, server = connection.client, connection.server
    shim.call("close-output-port", client.output)
    assert shim.call("ssl-abandon-port", client.output) is None
    assert shim.call("port-closed?", client.output) is True
    # The input port and the connection are untouched.
    assert shim.call("port-closed?", client.input) is False
    assert exchange(shim, server.output, client.input, b"still open") == b"still open"
    shim.call("close-input-port", client.input)
    assert shim.call("ssl-abandon-port", client.input) is None
    assert shim.call("port-closed?", client.input) is True


@pytest.mark.spec("S2.abandon.5")
def test_abandon_refuses_what_is_not_an_ssl_port(shim):
    pipe_in, pipe_out = shim.call("make-pipe")
    listener, _ = listen(shim, server_context(shim))
    for value in (pipe_in, pipe_out, listener, shim.call("ssl-make-client-context"), "port"):
        expect_error("exn:fail:contract", shim, "ssl-abandon-port", value)
    assert shim.call("port-closed?", pipe_out) is False


# -- ssl-addresses --------------------------------------------------------------------


@pytest.mark.spec("S2.addresses.1")
def test_addresses_of_ssl_ports(shim):
    connection = tcp_pair(shim, server_context(shim), "auto", hostname=LOOPBACK).require()
    for end in (connection.client, connection.server):
        for port in end.ports:
            values = shim.call("ssl-addresses", port)
            assert values == (LOOPBACK, LOOPBACK), values
            assert shim.call("ssl-addresses", port, False) == (LOOPBACK, LOOPBACK)


@pytest.mark.spec("S2.addresses.2", "S2.addresses.1")
def test_addresses_with_port_numbers(shim):
    listener, port = listen(shim, server_context(shim))
    connection = tcp_pair(shim, None, "auto", listener=listener, port=port).require()
    client = {shim.call("ssl-addresses", p, True) for p in connection.client.ports}
    server = {shim.call("ssl-addresses", p, True) for p in connection.server.ports}
    assert len(client) == 1 and len(server) == 1, (client, server)
    ((c_local, c_lport, c_remote, c_rport),) = client
    ((s_local, s_lport, s_remote, s_rport),) = server
    assert c_local == c_remote == s_local == s_remote == LOOPBACK, (client, server)
    assert c_rport == port == s_lport, (client, server, port)
    assert c_lport == s_rport and c_lport != port, (client, server)


@pytest.mark.spec("S2.addresses.3")
def test_addresses_of_a_listener_with_port_numbers(shim):
    listener, port = listen(shim, server_context(shim))
    assert shim.call("ssl-addresses", listener, True) == (LOOPBACK, port, "0.0.0.0", 0)


@pytest.mark.spec("S2.addresses.4")
def test_addresses_over_pipes_raise(shim):
    connection = pipe_pair(shim, server_context(shim), shim.call("ssl-make-client-context"))
    connection.require()
    for port in connection.client.ports + connection.server.ports:
        expect_error("exn:fail", shim, "ssl-addresses", port)
        expect_error("exn:fail", shim, "ssl-addresses", port, True)


@pytest.mark.spec("S2.addresses.6")
def test_addresses_refuse_other_values(shim):
    pipe_in, _ = shim.call("make-pipe")
    for value in (shim.call("ssl-make-server-context"), pipe_in, "127.0.0.1", 443, False):
        expect_error("exn:fail:contract", shim, "ssl-addresses", value)


@pytest.mark.spec("S2.addresses.6", "S2.port-pred.2")
def test_plain_tcp_ports_are_not_ssl_ports(shim):
    plain = shim.call("tcp-listen", 0, 4, True, LOOPBACK)
    port = shim.call("tcp-addresses", plain, True)[1]
    accepting = shim.start_call("tcp-accept", plain)
    tcp_in, tcp_out = shim.call("tcp-connect", LOOPBACK, port)
    accepting.result(HANDSHAKE_TIMEOUT)
    for value in (tcp_in, tcp_out):
        assert shim.call("ssl-port?", value) is False
        expect_error("exn:fail:contract", shim, "ssl-addresses", value)
    shim.call("tcp-close", plain)


# -- ssl-port? ------------------------------------------------------------------------


@pytest.mark.spec("S2.port-pred.1")
def test_ssl_port_predicate_holds_before_and_after_close(shim):
    tcp = tcp_pair(shim, server_context(shim), "auto").require()
    piped = pipe_pair(shim, server_context(shim), shim.call("ssl-make-client-context")).require()
    ports = []
    for connection in (tcp, piped):
        ports += list(connection.client.ports) + list(connection.server.ports)
    for port in ports:
        assert shim.call("ssl-port?", port) is True, port
    close_connection(shim, tcp)
    close_connection(shim, piped)
    for port in ports:
        assert shim.call("port-closed?", port) is True
        assert shim.call("ssl-port?", port) is True, "a closed SSL port is no SSL port"


@pytest.mark.spec("S2.port-pred.2")
def test_ssl_port_predicate_refuses_other_values(shim):
    pipe_in, pipe_out = shim.call("make-pipe")
    listener, _ = listen(shim, server_context(shim))
    for value in (
        pipe_in,
        pipe_out,
        listener,
        shim.call("ssl-make-server-context"),
        shim.call("ssl-make-client-context"),
        "port",
        False,
    ):
        assert shim.call("ssl-port?", value) is False, value


# -- server contexts --------------------------------------------------------------------


@pytest.mark.spec("S2.server-ctx.1")
def test_make_server_context_makes_a_server_context(shim):
    for args in ([], [sym("auto")], [sym("secure")], [sym("tls12")]):
        context = shim.call("ssl-make-server-context", *args)
        assert shim.call("ssl-server-context?", context) is True
        assert shim.call("ssl-client-context?", context) is False


@pytest.mark.spec("S2.server-ctx.2")
def test_make_server_context_gives_new_unsealed_contexts(shim):
    for symbol in shim.call("supported-server-protocols"):
        first = shim.call("ssl-make-server-context", symbol)
        second = shim.call("ssl-make-server-context", symbol)
        assert first != second, "two %s server contexts are the same object" % symbol
        assert shim.call("ssl-set-verify!", first, False) is None
        assert shim.call("ssl-load-certificate-chain!", second, cert("server-rsa.pem")) is None


@pytest.mark.spec("S2.server-ctx.3")
@pytest.mark.parametrize(
    "server, client, want",
    [
        (None, "tls12", "tls12"),
        (None, "tls13", "tls13"),
        (None, "auto", "tls13"),
        ("tls12", "auto", "tls12"),
        ("tls12", "tls13", None),
        ("tls13", "tls12", None),
    ],
)
def test_server_protocols(shim, server, client, want):
    context = shim.call("ssl-make-server-context", *([] if server is None else [sym(server)]))
    shim.call("ssl-load-certificate-chain!", context, cert("server-loopback-chain.pem"))
    shim.call("ssl-load-private-key!", context, cert("server-loopback.key"), False)
    connection = tcp_pair(shim, context, client)
    if want is None:
        assert not connection.client.ok and not connection.server.ok
        assert connection.server.error.kind == "exn:fail:network", connection.server.error
        return
    connection.require()
    for port in connection.client.ports + connection.server.ports:
        assert shim.call("ssl-protocol-version", port) == sym(want)


def key_form(form, key):
    if form == "pem":
        return [sym("pem"), cert(key)]
    if form == "pem-data":
        return [sym("pem-data"), open(cert(key), "rb").read()]
    return [sym("der"), cert(key)]


SERVER_KEY_FORMS = [
    pytest.param(
        "server-loopback-chain.pem",
        "pem",
        "server-loopback.key",
        marks=pytest.mark.spec("S2.server-ctx.5"),
    ),
    pytest.param(
        "server-rsa.pem", "pem", "server-rsa.key", marks=pytest.mark.spec("S2.server-ctx.5")
    ),
    pytest.param(
        "server-rsa.pem",
        "der",
        "server-rsa-key-pkcs8.der",
        marks=pytest.mark.spec("S2.server-ctx.6"),
    ),
    pytest.param(
        "server-rsa.pem", "der", "server-rsa-key.der", marks=pytest.mark.spec("S2.server-ctx.6")
    ),
    pytest.param(
        "server-rsa.pem", "pem-data", "server-rsa.key", marks=pytest.mark.spec("S2.server-ctx.7")
    ),
    pytest.param(
        "server-ecdsa-p256.pem",
        "pem",
        "server-ecdsa-p256.key",
        marks=pytest.mark.spec("S2.server-ctx.8"),
    ),
    pytest.param(
        "server-ecdsa-p256.pem",
        "der",
        "server-ecdsa-p256-key.der",
        marks=pytest.mark.spec("S2.server-ctx.6", "S2.server-ctx.8"),
    ),
    pytest.param(
        "server-ecdsa-p384.pem",
        "pem-data",
        "server-ecdsa-p384.key",
        marks=pytest.mark.spec("S2.server-ctx.7", "S2.server-ctx.8"),
    ),
]


@pytest.mark.parametrize("chain, form, key", SERVER_KEY_FORMS)
def test_server_context_key_forms(shim, peers, chain, form, key):
    context = shim.call(
        "ssl-make-server-context",
        private_key=key_form(form, key),
        certificate_chain=cert(chain),
    )
    listener, port = listen(shim, context)
    connection = tcp_pair(shim, None, "auto", listener=listener, port=port).require()
    names = shim.call("ssl-peer-certificate-hostnames", connection.client.input)
    assert names == dns_names(cert(chain)), "the client saw %r" % (names,)
    # An independent client sees the chain's first certificate.
    accepting = shim.start_call("ssl-accept", listener)
    client = peers.python_client(port)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    shim.call("write-bytes", b"served\n", server_out)
    shim.call("flush-output", server_out)
    session = client.wait()
    assert session.error is None and session.received == b"served\n", client.log()
    assert session.peer_cert == der_of(cert(chain)), client.log()


@pytest.mark.spec("S2.server-ctx.10")
def test_server_context_predicate_refuses_other_values(shim):
    connection = tcp_pair(shim, server_context(shim), "auto").require()
    for value in (
        shim.call("ssl-make-client-context"),
        shim.call("ssl-secure-client-context"),
        connection.listener,
        connection.server.input,
        connection.client.output,
        "context",
        False,
    ):
        assert shim.call("ssl-server-context?", value) is False, value
    assert shim.call("ssl-server-context?", shim.call("ssl-make-server-context")) is True
