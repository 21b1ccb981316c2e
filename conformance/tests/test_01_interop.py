"""Sections 1 and 2 against real peers: other TLS stacks at the other end.

The implementation connects as a client to openssl s_server, gnutls-serv and a
Python ssl server, and accepts openssl s_client, gnutls-cli, a Python ssl client
and curl. Each test checks the data both ways and the negotiated version as
both ends report it: `ssl-protocol-version` on this side, the peer's own report
on the other. The peers come from harness/peers.py.
"""

import pytest

from harness import EOF
from harness import peers as P
from harness.shim import ShimError
from harness.tls import HANDSHAKE_TIMEOUT, LOOPBACK, cert, listen, server_context, sym

LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
VERSIONS = ["tls", "tls11", "tls12", "tls13"]
LEGACY = ("tls", "tls11")


@pytest.fixture
def peers():
    """Real peers for one test, stopped at its end."""
    with P.PeerSet() as started:
        yield started


VERSION_CLAUSES = {
    "tls": pytest.mark.spec("S1.version.1", "S1.protocols.6", "D.legacy-tls.1"),
    "tls11": pytest.mark.spec("S1.version.1", "S1.protocols.6", "D.legacy-tls.1"),
    "tls12": pytest.mark.spec("S1.version.1", "S1.protocols.4"),
    "tls13": pytest.mark.spec("S1.version.1", "S1.protocols.5"),
}


def version_params():
    return [pytest.param(v, id=v, marks=VERSION_CLAUSES[v]) for v in VERSIONS]


def client_context(shim, version):
    """A client context for exactly `version`; security level 0 for the old ones."""
    context = shim.call("ssl-make-client-context", sym(version))
    if version in LEGACY:
        shim.call("ssl-set-ciphers!", context, LEGACY_CIPHERS)
    return context


def server_for(shim, version):
    return server_context(shim, version, ciphers=LEGACY_CIPHERS if version in LEGACY else None)


def read_line(shim, port):
    """Read bytes up to a line feed from an SSL input port."""
    data = b""
    while not data.endswith(b"\n"):
        got = shim.call("read-bytes-avail", 4096, port, timeout=HANDSHAKE_TIMEOUT)
        if got is EOF:
            break
        data += got
    return data


def send(shim, port, data):
    assert shim.call("write-bytes", data, port) == len(data)
    shim.call("flush-output", port)


def both_versions(shim, ports):
    versions = {shim.call("ssl-protocol-version", p) for p in ports}
    assert len(versions) == 1, "the two ports report %r" % (versions,)
    return versions.pop()


# -- the implementation as a client ------------------------------------------------------


@pytest.mark.spec("S1.connect.1", "S1.connect.2")
@pytest.mark.parametrize("version", version_params())
def test_client_against_openssl_s_server(shim, peers, version):
    server = peers.openssl_server(version=version)
    client_in, client_out = shim.call(
        "ssl-connect", "localhost", server.port, client_context(shim, version)
    )
    send(shim, client_out, b"from sslport to s_server\n")
    server.wait_for(r"from sslport to s_server\n", stream="stdout")
    server.send(b"from s_server to sslport\n")
    assert read_line(shim, client_in) == b"from s_server to sslport\n", server.log()
    assert both_versions(shim, (client_in, client_out)) == sym(version)
    assert P.openssl_version(server) == version, server.log()


@pytest.mark.spec("S1.connect.1", "S1.connect.2")
@pytest.mark.parametrize("version", version_params())
def test_client_against_gnutls_serv(shim, peers, version):
    server = peers.gnutls_server(version=version)
    client_in, client_out = shim.call(
        "ssl-connect", "localhost", server.port, client_context(shim, version)
    )
    line = b"echo me, gnutls: %s\n" % version.encode()
    send(shim, client_out, line)
    assert read_line(shim, client_in) == line, server.log()
    assert both_versions(shim, (client_in, client_out)) == sym(version)
    assert P.gnutls_version(server) == version, server.log()


@pytest.mark.spec("S1.connect.1", "S1.connect.2")
@pytest.mark.parametrize("version", version_params())
def test_client_against_python_ssl_server(shim, peers, version):
    server = peers.python_server(version=version)
    client_in, client_out = shim.call(
        "ssl-connect", "localhost", server.port, client_context(shim, version)
    )
    send(shim, client_out, b"from sslport to python\n")
    assert read_line(shim, client_in) == b"from sslport to python\n"
    session = server.session()
    assert session.error is None, server.log()
    assert session.received == b"from sslport to python\n", server.log()
    assert session.version == version, server.log()
    assert both_versions(shim, (client_in, client_out)) == sym(version)
    # The server sent close_notify after its line: the client reads eof.
    assert shim.call("read-bytes", 1, client_in, timeout=HANDSHAKE_TIMEOUT) is EOF


@pytest.mark.spec("S1.secure.5", "S1.secure.9")
@pytest.mark.parametrize("peer", ["openssl", "gnutls", "python"])
def test_secure_client_verifies_independent_servers(shim, peers, peer):
    shim.call("ssl-default-verify-sources", [cert("root-ca.pem")])
    start = {
        "openssl": peers.openssl_server,
        "gnutls": peers.gnutls_server,
        "python": peers.python_server,
    }[peer]
    server = start()
    client_in, client_out = shim.call(
        "ssl-connect", "localhost", server.port, shim.call("ssl-secure-client-context")
    )
    assert shim.call("ssl-peer-verified?", client_in) is True
    assert both_versions(shim, (client_in, client_out)) == sym("tls13")
    send(shim, client_out, b"verified\n")
    if peer == "openssl":
        server.wait_for(r"verified\n", stream="stdout")
    else:
        assert read_line(shim, client_in) == b"verified\n", server.log()


# The versions each client symbol allows; Python's server allows TLS 1.0 to 1.3
# at security level 0, so the client's own range decides.
CLIENT_RANGES = {
    "secure": ("tls12", "tls13"),
    "auto": ("tls", "tls13"),
    "sslv2-or-v3": ("tls", "tls13"),
    "tls": ("tls", "tls"),
    "tls11": ("tls11", "tls11"),
    "tls12": ("tls12", "tls12"),
    "tls13": ("tls13", "tls13"),
}


def expected(symbol, legacy):
    low, high = (VERSIONS.index(v) for v in CLIENT_RANGES[symbol])
    low = max(low, 0 if legacy else VERSIONS.index("tls12"))
    return VERSIONS[high] if low <= high else None


SYMBOL_CLAUSES = {
    "secure": pytest.mark.spec("S1.secure.9"),
    "sslv2-or-v3": pytest.mark.spec("S1.protocols.7", "D.sslv2-or-v3.1"),
    "tls": pytest.mark.spec("S1.protocols.6", "D.legacy-tls.1"),
    "tls11": pytest.mark.spec("S1.protocols.6", "D.legacy-tls.1"),
}


def symbol_params():
    params = []
    for symbol in CLIENT_RANGES:
        for legacy in (False, True):
            if legacy and symbol == "secure":
                continue  # a sealed context takes no cipher string
            params.append(
                pytest.param(
                    symbol,
                    legacy,
                    id="%s-%s" % (symbol, "seclevel0" if legacy else "default"),
                    marks=[SYMBOL_CLAUSES[symbol]] if symbol in SYMBOL_CLAUSES else [],
                )
            )
    return params


@pytest.mark.spec("S1.version.1", "S1.protocols.2")
@pytest.mark.parametrize("symbol, legacy", symbol_params())
def test_client_symbol_seen_from_the_server(shim, peers, symbol, legacy):
    shim.call("ssl-default-verify-sources", [cert("root-ca.pem")])
    server = peers.python_server(
        ciphers=LEGACY_CIPHERS,
        context_hook=lambda context: P.allow_versions(context, "tls"),
    )
    if legacy:
        context = shim.call("ssl-make-client-context", sym(symbol))
        shim.call("ssl-set-ciphers!", context, LEGACY_CIPHERS)
    else:
        context = sym(symbol)
    want = expected(symbol, legacy)
    if want is None:
        error = pytest.raises(
            ShimError, shim.call, "ssl-connect", "localhost", server.port, context
        ).value
        assert error.kind == "exn:fail:network", error
        session = server.session()
        assert session.error is not None, server.log()
        return
    client_in, client_out = shim.call("ssl-connect", "localhost", server.port, context)
    send(shim, client_out, b"which version?\n")
    assert read_line(shim, client_in) == b"which version?\n"
    session = server.session()
    assert session.version == want, "the server saw %s; wanted %s%s" % (
        session.version,
        want,
        server.log(),
    )
    assert both_versions(shim, (client_in, client_out)) == sym(want)


# -- the implementation as a server -------------------------------------------------------


def accept_from(shim, version, start_client):
    """Listen, start the peer with the port, accept: (peer, server ports)."""
    listener, port = listen(shim, server_for(shim, version))
    accepting = shim.start_call("ssl-accept", listener)
    peer = start_client(port)
    return peer, accepting.result(HANDSHAKE_TIMEOUT)


@pytest.mark.spec("S2.accept.1", "S2.server-ctx.3")
@pytest.mark.parametrize("version", version_params())
def test_server_against_openssl_s_client(shim, peers, version):
    client, (server_in, server_out) = accept_from(
        shim,
        version,
        lambda port: peers.openssl_client(port, version=version, servername="localhost"),
    )
    client.send(b"from s_client to sslport\n")
    assert read_line(shim, server_in) == b"from s_client to sslport\n", client.log()
    send(shim, server_out, b"from sslport to s_client\n")
    client.wait_for(r"from sslport to s_client\n", stream="stdout")
    assert both_versions(shim, (server_in, server_out)) == sym(version)
    assert P.openssl_version(client) == version, client.log()
    assert "Verify return code: 0 (ok)" in client.output(), client.log()


@pytest.mark.spec("S2.accept.1", "S2.server-ctx.3")
@pytest.mark.parametrize("version", version_params())
def test_server_against_gnutls_cli(shim, peers, version):
    client, (server_in, server_out) = accept_from(
        shim, version, lambda port: peers.gnutls_client(port, version=version)
    )
    client.send(b"from gnutls-cli to sslport\n")
    assert read_line(shim, server_in) == b"from gnutls-cli to sslport\n", client.log()
    send(shim, server_out, b"from sslport to gnutls-cli\n")
    client.wait_for(r"from sslport to gnutls-cli\n", stream="stdout")
    assert both_versions(shim, (server_in, server_out)) == sym(version)
    assert P.gnutls_version(client) == version, client.log()
    assert "The certificate is trusted" in client.output(), client.log()


@pytest.mark.spec("S2.accept.1", "S2.server-ctx.3")
@pytest.mark.parametrize("version", version_params())
def test_server_against_python_ssl_client(shim, peers, version):
    client, (server_in, server_out) = accept_from(
        shim, version, lambda port: peers.python_client(port, version=version)
    )
    assert read_line(shim, server_in) == b"hello from python\n"
    send(shim, server_out, b"hello from sslport\n")
    session = client.wait()
    assert session.error is None, client.log()
    assert session.received == b"hello from sslport\n", client.log()
    assert session.version == version, client.log()
    assert both_versions(shim, (server_in, server_out)) == sym(version)
    # The client sent close_notify after its line: the server reads eof.
    assert shim.call("read-bytes", 1, server_in, timeout=HANDSHAKE_TIMEOUT) is EOF


@pytest.mark.parametrize(
    "symbol",
    [
        pytest.param("auto", marks=pytest.mark.spec("S2.server-ctx.3", "S1.protocols.2")),
        pytest.param("secure", marks=pytest.mark.spec("S2.server-ctx.4", "S2.listen.8")),
        pytest.param("sslv2-or-v3", marks=pytest.mark.spec("S1.protocols.7", "D.sslv2-or-v3.1")),
    ],
)
@pytest.mark.parametrize("version", ["tls12", "tls13"])
def test_server_symbol_seen_from_the_client(shim, peers, symbol, version):
    client, (server_in, server_out) = accept_from(
        shim, symbol, lambda port: peers.python_client(port, version=version)
    )
    assert read_line(shim, server_in) == b"hello from python\n"
    send(shim, server_out, b"ok\n")
    session = client.wait()
    assert session.error is None and session.version == version, client.log()
    assert both_versions(shim, (server_in, server_out)) == sym(version)


HTTP_BODY = b"served by sslport over TLS\n"


@pytest.mark.spec("S2.accept.1", "S1.version.1")
def test_server_answers_curl(shim, peers):
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call("ssl-accept", listener)
    client = peers.curl(port)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    request = b""
    while b"\r\n\r\n" not in request:
        got = shim.call("read-bytes-avail", 4096, server_in, timeout=HANDSHAKE_TIMEOUT)
        assert got is not EOF, "curl hung up before the end of its request: %r" % request
        request += got
    assert request.startswith(b"GET / HTTP/1.1\r\n"), request
    assert b"\r\nHost: localhost:%d\r\n" % port in request, request
    response = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (
        len(HTTP_BODY),
        HTTP_BODY,
    )
    send(shim, server_out, response)
    shim.call("close-output-port", server_out)
    shim.call("close-input-port", server_in)
    status = client.wait()
    assert status == 0, "curl failed%s" % client.log()
    assert client.stdout() == HTTP_BODY, client.log()
    assert P.curl_version(client) == "tls13", client.log()
    assert "SSL certificate verify ok" in client.output(), client.log()


@pytest.mark.spec("S2.listen.2", "S2.listen.3")
def test_listener_reached_by_every_peer_in_turn(shim, peers):
    listener, port = listen(shim, server_context(shim))
    starters = [
        lambda: peers.python_client(port),
        lambda: peers.openssl_client(port, servername="localhost"),
        lambda: peers.gnutls_client(port),
    ]
    for start in starters:
        accepting = shim.start_call("ssl-accept", listener)
        peer = start()
        server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
        if not isinstance(peer, P.PythonClient):
            peer.send(b"hello from python\n")  # the same line from every peer
        assert read_line(shim, server_in) == b"hello from python\n", peer.log()
        send(shim, server_out, b"bye\n")
        shim.call("close-output-port", server_out)
        shim.call("close-input-port", server_in)
    assert shim.call("ssl-addresses", listener, True)[:2] == (LOOPBACK, port)
