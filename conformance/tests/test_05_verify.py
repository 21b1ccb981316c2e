"""Section 5: ssl-set-verify!, ssl-try-verify! and ssl-peer-verified?.

Both ends of most connections live in one shim, so a test sees what each end
decided; where a Python `ssl` peer plays one end, its record says what the
other side of the wire saw (its handshake result, the certificate it got).
"""

import pytest

from harness import Handle
from harness.oracles import (
    PythonClient,
    PythonServer,
    close_end,
    made_cert,
    on_both_ports,
    settle,
    shim_connect,
    shim_wrap,
)
from harness.support import expect_error
from harness.tls import (
    cert,
    client_context,
    close_connection,
    exchange,
    listen,
    pipe_pair,
    server_context,
    sym,
    tcp_pair,
)

VERSIONS = ["tls12", "tls13"]
TRUSTED = ("server-loopback-chain.pem", "server-loopback.key")
SELF_SIGNED = ("server-self-signed.pem", "server-self-signed.key")
EXPIRED = ("server-expired.pem", "server-expired.key")
NOT_YET_VALID = ("server-not-yet-valid.pem", "server-not-yet-valid.key")
CLIENT = ("client.pem", "client.key")
UNTRUSTED_CLIENT = ("client-untrusted.pem", "client-untrusted.key")


def untrusted_root_server():
    """A loopback server chained to a root that no test loads."""
    pem, key = made_cert("untrusted-localhost")
    return pem, key


UNTRUSTED_SERVERS = {
    "self-signed": lambda: tuple(cert(n) for n in SELF_SIGNED),
    "untrusted-root": untrusted_root_server,
    "incomplete-chain": lambda: (cert("server-loopback.pem"), cert("server-loopback.key")),
}
OUT_OF_DATE = {
    "expired": lambda: tuple(cert(n) for n in EXPIRED),
    "not-yet-valid": lambda: tuple(cert(n) for n in NOT_YET_VALID),
}


def serving(shim, files, protocol="auto"):
    """A server context serving (chain path, key path)."""
    ctx = shim.call("ssl-make-server-context", sym(protocol))
    shim.call("ssl-load-certificate-chain!", ctx, files[0])
    shim.call("ssl-load-private-key!", ctx, files[1], False)
    return ctx


def client_holding(shim, files, protocol="auto", trust="root-ca.pem", verify=False):
    """A client context that presents the certificate of `files` (names in certs/)."""
    ctx = client_context(shim, protocol, trust=trust, verify=verify)
    shim.call("ssl-load-certificate-chain!", ctx, cert(files[0]))
    shim.call("ssl-load-private-key!", ctx, cert(files[1]), False)
    return ctx


def verifying_server(shim, protocol="auto", mode="ssl-set-verify!", trust="root-ca.pem"):
    """A server context serving the loopback chain that checks clients with `mode`."""
    ctx = server_context(shim, protocol)
    if trust is not None:
        shim.call("ssl-load-verify-source!", ctx, cert(trust))
    shim.call(mode, ctx, True)
    return ctx


def flows(shim, conn):
    """Bytes cross the connection both ways."""
    got = exchange(shim, conn.client.output, conn.server.input, b"ping")
    assert got == b"ping", "the server read %r" % (got,)
    got = exchange(shim, conn.server.output, conn.client.input, b"pong")
    assert got == b"pong", "the client read %r" % (got,)


def verified(shim, end):
    return on_both_ports(shim, "ssl-peer-verified?", end)


def assert_client_refused(shim, conn):
    """The client end failed with exn:fail:network, at connect or at its first read.

    TLS 1.3 ends the client's handshake before the server has judged the
    client's certificate, so the refusal can reach the client on its first
    read (S5.verify.4).
    """
    if conn.client.ok:
        with pytest.raises(Exception) as caught:
            shim.call("read-bytes", 1, conn.client.input)
        assert (
            getattr(caught.value, "kind", None) == "exn:fail:network"
        ), "the client's first read after a refused handshake raised %r" % (caught.value,)
    else:
        assert conn.client.error.kind == "exn:fail:network", conn.client.error


def assert_refused_by_server(shim, conn):
    assert not conn.server.ok, "ssl-accept returned ports"
    assert conn.server.error.kind == "exn:fail:network", conn.server.error
    assert_client_refused(shim, conn)


# -- ssl-set-verify! on a client context ------------------------------------------


@pytest.mark.spec("S5.verify.1", "S5.verified.1", "S5.verified.7")
def test_verifying_client_accepts_a_trusted_server(shim):
    client = client_context(shim, verify=True)
    conn = tcp_pair(shim, server_context(shim), client).require()
    assert verified(shim, conn.client) is True
    flows(shim, conn)


@pytest.mark.spec("S5.verify.1", "S5.verified.1")
def test_verifying_client_accepts_a_trusted_python_server(shim):
    with PythonServer(*(cert(n) for n in TRUSTED)) as peer:
        end = shim_connect(shim, peer.port, client_context(shim, verify=True))
        assert end.ok, end.error
        assert verified(shim, end) is True
        got = exchange(shim, end.output, end.input, b"echo")
        assert got == b"echo"
        assert peer.record().ok, peer.record().describe()


@pytest.mark.parametrize("server", sorted(UNTRUSTED_SERVERS))
@pytest.mark.spec("S5.verify.2")
def test_verifying_client_rejects_an_untrusted_server(shim, server):
    client = client_context(shim, verify=True)
    with PythonServer(*UNTRUSTED_SERVERS[server]()) as peer:
        end = shim_connect(shim, peer.port, client)
        assert not end.ok, "ssl-connect accepted the %s server" % server
        assert end.error.kind == "exn:fail:network", end.error
        record = peer.finished()
    assert not record.ok or record.later_error, "the server saw a working connection"


@pytest.mark.spec("S5.verify.2")
def test_verifying_client_without_roots_rejects_every_server(shim):
    client = client_context(shim, trust=None, verify=True)
    conn = tcp_pair(shim, server_context(shim), client)
    assert not conn.client.ok, "a client with no roots accepted a server"
    assert conn.client.error.kind == "exn:fail:network", conn.client.error
    close_connection(shim, conn)


@pytest.mark.spec("S5.verify.2")
def test_wrapper_rejection_goes_through_the_error_procedure(shim):
    error_ssl = shim.call("make-error-procedure", "exn:fail:unsupported")
    client = client_context(shim, verify=True)
    with PythonServer(*UNTRUSTED_SERVERS["self-signed"]()) as peer:
        end = shim_wrap(shim, peer.port, client, **{"error/ssl": error_ssl})
    assert not end.ok, "ports->ssl-ports accepted a self-signed server"
    assert (
        end.error.kind == "exn:fail:unsupported"
    ), "the rejection did not come from the error procedure: %s" % (end.error,)
    calls = shim.call("procedure-calls", error_ssl)
    assert len(calls) == 1, "the error procedure was called %r" % (calls,)


@pytest.mark.parametrize("server", sorted(OUT_OF_DATE))
@pytest.mark.spec("S5.verify.3")
def test_verifying_client_rejects_a_certificate_out_of_its_validity(shim, server):
    client = client_context(shim, verify=True)
    with PythonServer(*OUT_OF_DATE[server]()) as peer:
        end = shim_connect(shim, peer.port, client)
        assert not end.ok, "ssl-connect accepted the %s certificate" % server
        assert end.error.kind == "exn:fail:network", end.error


@pytest.mark.spec("S5.verify.7")
def test_verification_turned_off_again_accepts_an_untrusted_server(shim):
    client = client_context(shim, verify=True)
    assert shim.call("ssl-set-verify!", client, False) is None
    conn = tcp_pair(shim, serving(shim, UNTRUSTED_SERVERS["self-signed"]()), client).require()
    assert verified(shim, conn.client) is False
    flows(shim, conn)


# -- ssl-set-verify! on a server context -------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec("S5.verify.4")
def test_verifying_server_rejects_a_client_without_certificate(shim, version):
    conn = tcp_pair(shim, verifying_server(shim, version), client_context(shim, version))
    assert_refused_by_server(shim, conn)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec("S5.verify.4")
def test_verifying_server_rejects_a_python_client_without_certificate(shim, version):
    listener, port = listen(shim, verifying_server(shim, version))
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, send=b"x")
    server = settle(accepting)
    assert not server.ok, "ssl-accept returned ports"
    assert server.error.kind == "exn:fail:network", server.error
    record = client.finish()
    assert not record.ok or record.later_error, record.describe()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec("S5.verify.5", "S5.verified.1", "S5.verified.7")
def test_verifying_server_accepts_a_trusted_client(shim, version):
    conn = tcp_pair(shim, verifying_server(shim, version), client_holding(shim, CLIENT, version))
    conn.require()
    assert verified(shim, conn.server) is True
    flows(shim, conn)


@pytest.mark.spec("S5.verify.5")
def test_verifying_server_accepts_a_trusted_python_client(shim):
    listener, port = listen(shim, verifying_server(shim))
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, chain=cert("client.pem"), key=cert("client.key"))
    server = settle(accepting)
    assert server.ok, server.error
    assert verified(shim, server) is True
    close_end(shim, server)
    record = client.finish()
    assert record.ok and not record.later_error, record.describe()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec("S5.verify.6")
def test_verifying_server_rejects_an_untrusted_client(shim, version):
    client = client_holding(shim, UNTRUSTED_CLIENT, version)
    conn = tcp_pair(shim, verifying_server(shim, version), client)
    assert_refused_by_server(shim, conn)


@pytest.mark.spec("S5.verify.8")
def test_verify_set_on_a_listener_applies_to_later_connections(shim):
    listener, port = listen(shim, server_context(shim))
    shim.call("ssl-load-verify-root-certificates!", listener, cert("root-ca.pem"))
    assert shim.call("ssl-set-verify!", listener, True) is None
    trusted = tcp_pair(shim, None, client_holding(shim, CLIENT), listener=listener, port=port)
    trusted.require()
    assert verified(shim, trusted.server) is True
    anonymous = tcp_pair(shim, None, client_context(shim), listener=listener, port=port)
    assert_refused_by_server(shim, anonymous)


# -- verification on a live port: renegotiation ------------------------------------


def tls12_pair(shim, client):
    """A TLS 1.2 connection whose server trusts the root but asks for nothing."""
    server = server_context(shim, "tls12")
    shim.call("ssl-load-verify-source!", server, cert("root-ca.pem"))
    return tcp_pair(shim, server, client).require()


def renegotiate(shim, conn, op):
    """`op` on the server's port while the client reads; returns the op's answer.

    The client's handshake messages are only processed while it reads, so a
    read is pending during the renegotiation, and a byte from the server
    ends it afterwards.
    """
    reading = shim.start_call("read-bytes", 1, conn.client.input)
    try:
        answer = shim.call(op, conn.server.input, True)
    finally:
        try:
            shim.call("write-bytes", b"!", conn.server.output)
            shim.call("flush-output", conn.server.output)
        except Exception:
            pass
    return answer, reading


@pytest.mark.spec("S5.verify.9", "S5.verified.6")
def test_set_verify_on_a_tls12_server_port_renegotiates(shim):
    conn = tls12_pair(shim, client_holding(shim, CLIENT, "tls12"))
    assert verified(shim, conn.server) is False, "verified before the server asked"
    answer, reading = renegotiate(shim, conn, "ssl-set-verify!")
    assert answer is None
    assert reading.result() == b"!"
    assert verified(shim, conn.server) is True
    flows(shim, conn)


@pytest.mark.spec("S5.verify.10")
def test_set_verify_on_a_tls12_server_port_fails_without_client_certificate(shim):
    conn = tls12_pair(shim, client_context(shim, "tls12"))
    reading = shim.start_call("read-bytes", 1, conn.client.input)
    with pytest.raises(Exception) as caught:
        shim.call("ssl-set-verify!", conn.server.input, True)
    kind = getattr(caught.value, "kind", "")
    assert kind.startswith("exn:fail"), "ssl-set-verify! raised %r" % (caught.value,)
    close_connection(shim, conn)
    try:
        reading.result()
    except Exception:
        pass


@pytest.mark.spec("S5.try-verify.9", "S5.verified.3")
def test_try_verify_on_a_tls12_server_port_renegotiates_with_an_untrusted_client(shim):
    conn = tls12_pair(shim, client_holding(shim, UNTRUSTED_CLIENT, "tls12"))
    answer, reading = renegotiate(shim, conn, "ssl-try-verify!")
    assert answer is None
    assert reading.result() == b"!"
    assert verified(shim, conn.server) is False
    flows(shim, conn)


# -- ssl-try-verify! ----------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec("S5.try-verify.1", "S5.verified.2")
def test_trying_server_accepts_a_client_without_certificate(shim, version):
    server = verifying_server(shim, version, mode="ssl-try-verify!")
    conn = tcp_pair(shim, server, client_context(shim, version)).require()
    assert verified(shim, conn.server) is False
    flows(shim, conn)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec("S5.try-verify.2", "S5.verified.3", "D.try-verify.1")
def test_trying_server_keeps_a_connection_with_an_untrusted_client(shim, version):
    server = verifying_server(shim, version, mode="ssl-try-verify!")
    conn = tcp_pair(shim, server, client_holding(shim, UNTRUSTED_CLIENT, version)).require()
    flows(shim, conn)
    assert verified(shim, conn.server) is False
    hostnames = shim.call("ssl-peer-certificate-hostnames", conn.server.input)
    assert hostnames == [
        "sslport Untrusted Client"
    ], "the server did not get the client's certificate: %r" % (hostnames,)


@pytest.mark.spec("S5.try-verify.2", "D.try-verify.1")
def test_trying_server_keeps_a_python_client_with_an_untrusted_certificate(shim):
    listener, port = listen(shim, verifying_server(shim, mode="ssl-try-verify!"))
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(
        port, chain=cert("client-untrusted.pem"), key=cert("client-untrusted.key"), send=b"hi"
    )
    server = settle(accepting)
    assert server.ok, server.error
    assert shim.call("read-bytes", 2, server.input) == b"hi"
    assert verified(shim, server) is False
    close_end(shim, server)
    record = client.finish()
    assert record.ok and not record.later_error, record.describe()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec("S5.try-verify.3", "S5.verified.1")
def test_trying_server_verifies_a_trusted_client(shim, version):
    server = verifying_server(shim, version, mode="ssl-try-verify!")
    conn = tcp_pair(shim, server, client_holding(shim, CLIENT, version)).require()
    assert verified(shim, conn.server) is True
    flows(shim, conn)


@pytest.mark.spec("S5.try-verify.11", "S5.verified.1", "S5.verified.3", "D.try-verify.1")
def test_try_verify_set_on_a_listener_applies_to_later_connections(shim):
    listener, port = listen(shim, server_context(shim))
    shim.call("ssl-load-verify-root-certificates!", listener, cert("root-ca.pem"))
    assert shim.call("ssl-try-verify!", listener, True) is None
    trusted = tcp_pair(shim, None, client_holding(shim, CLIENT), listener=listener, port=port)
    trusted.require()
    assert verified(shim, trusted.server) is True
    flows(shim, trusted)
    client = client_holding(shim, UNTRUSTED_CLIENT)
    untrusted = tcp_pair(shim, None, client, listener=listener, port=port).require()
    flows(shim, untrusted)
    assert verified(shim, untrusted.server) is False
    hostnames = shim.call("ssl-peer-certificate-hostnames", untrusted.server.input)
    assert hostnames == [
        "sslport Untrusted Client"
    ], "the server did not get the client's certificate: %r" % (hostnames,)


# Client certificates under the trusted root that differ only in their validity
# period, made at run time (certs/ has expired and not-yet-valid certificates
# for servers only): (made_cert name, common name, ssl-peer-verified? answer).
DATED_CLIENTS = [
    pytest.param(
        "client-in-date",
        "sslport In-Date Client",
        True,
        marks=pytest.mark.spec("S5.try-verify.3", "S5.verified.1"),
        id="in-date",
    ),
    pytest.param(
        "client-expired",
        "sslport Expired Client",
        False,
        marks=pytest.mark.spec("S5.verified.3", "D.try-verify.1"),
        id="expired",
    ),
    pytest.param(
        "client-not-yet-valid",
        "sslport Not-Yet-Valid Client",
        False,
        marks=pytest.mark.spec("S5.verified.3", "D.try-verify.1"),
        id="not-yet-valid",
    ),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name, common_name, expected", DATED_CLIENTS)
def test_trying_server_verifies_a_client_only_within_its_validity(
    shim, version, name, common_name, expected
):
    chain, key = made_cert(name)
    client = client_context(shim, version)
    shim.call("ssl-load-certificate-chain!", client, chain)
    shim.call("ssl-load-private-key!", client, key, False)
    server = verifying_server(shim, version, mode="ssl-try-verify!")
    conn = tcp_pair(shim, server, client).require()
    flows(shim, conn)
    assert verified(shim, conn.server) is expected
    hostnames = shim.call("ssl-peer-certificate-hostnames", conn.server.input)
    assert hostnames == [common_name], "the server did not get the client's certificate: %r" % (
        hostnames,
    )


@pytest.mark.parametrize("server", sorted(UNTRUSTED_SERVERS) + sorted(OUT_OF_DATE))
@pytest.mark.spec("S5.try-verify.4", "S5.verified.3", "D.try-verify.1")
def test_trying_client_keeps_a_connection_to_a_server_that_fails_verification(shim, server):
    files = {**UNTRUSTED_SERVERS, **OUT_OF_DATE}[server]()
    client = client_context(shim)
    shim.call("ssl-try-verify!", client, True)
    with PythonServer(*files) as peer:
        end = shim_connect(shim, peer.port, client)
        assert end.ok, "ssl-connect refused the %s server: %s" % (server, end.error)
        assert exchange(shim, end.output, end.input, b"echo") == b"echo"
        assert verified(shim, end) is False
        assert peer.record().ok, peer.record().describe()


@pytest.mark.spec("S5.try-verify.5", "S5.verified.1")
def test_trying_client_verifies_a_trusted_server(shim):
    client = client_context(shim)
    shim.call("ssl-try-verify!", client, True)
    conn = tcp_pair(shim, server_context(shim), client).require()
    assert verified(shim, conn.client) is True


@pytest.mark.spec("S5.try-verify.6", "D.try-verify.2")
def test_trying_client_still_checks_the_hostname(shim):
    client = client_context(shim)
    shim.call("ssl-try-verify!", client, True)
    shim.call("ssl-set-verify-hostname!", client, True)
    wrong_name = server_context(shim, chain="server-dns.pem", key="server-dns.key")
    conn = tcp_pair(shim, wrong_name, client)
    assert not conn.client.ok, "a certificate for dns.example.test was accepted for localhost"
    assert conn.client.error.kind == "exn:fail:network", conn.client.error
    close_connection(shim, conn)


@pytest.mark.spec("S5.try-verify.7", "S5.hostnames.4")
def test_try_verify_off_asks_no_client_certificate(shim):
    server = verifying_server(shim, mode="ssl-try-verify!")
    asked = tcp_pair(shim, server, client_holding(shim, CLIENT)).require()
    seen = shim.call("ssl-peer-certificate-hostnames", asked.server.input)
    assert seen == ["sslport Test Client"], "with try-verify on the server saw %r" % (seen,)
    assert shim.call("ssl-try-verify!", server, False) is None
    unasked = tcp_pair(shim, server, client_holding(shim, CLIENT)).require()
    assert shim.call("ssl-peer-certificate-hostnames", unasked.server.input) == []
    assert verified(shim, unasked.server) is False


@pytest.mark.parametrize(
    "order, accepted",
    [
        (("ssl-try-verify!", "ssl-set-verify!"), False),
        (("ssl-set-verify!", "ssl-try-verify!"), True),
    ],
    ids=["try-then-set", "set-then-try"],
)
@pytest.mark.spec("S5.try-verify.8")
def test_the_later_of_set_and_try_verify_decides(shim, order, accepted):
    client = client_context(shim)
    for op in order:
        shim.call(op, client, True)
    conn = tcp_pair(shim, serving(shim, UNTRUSTED_SERVERS["self-signed"]()), client)
    assert conn.client.ok is accepted, "after %s then %s: %s" % (order + (conn.client.error,))
    if not accepted:
        assert conn.client.error.kind == "exn:fail:network"
    close_connection(shim, conn)


# -- ssl-peer-verified? ----------------------------------------------------------


@pytest.mark.parametrize("server, expected", [("trusted", True), ("self-signed", False)])
@pytest.mark.spec("S5.verified.4", "D.verified.1")
def test_roots_without_verification_still_report_verified(shim, server, expected):
    client = client_context(shim, trust="root-ca.pem", verify=False)
    files = TRUSTED if server == "trusted" else SELF_SIGNED
    conn = tcp_pair(shim, serving(shim, tuple(cert(n) for n in files)), client).require()
    assert verified(shim, conn.client) is expected
    flows(shim, conn)


@pytest.mark.spec("S5.verified.5")
def test_no_roots_and_no_verification_report_unverified(shim):
    conn = tcp_pair(shim, server_context(shim), client_context(shim, trust=None)).require()
    assert verified(shim, conn.client) is False


@pytest.mark.spec("S5.verified.6")
def test_a_server_that_never_verifies_reports_unverified(shim):
    server = server_context(shim)
    shim.call("ssl-load-verify-source!", server, cert("root-ca.pem"))
    conn = tcp_pair(shim, server, client_holding(shim, CLIENT)).require()
    assert verified(shim, conn.server) is False
    assert shim.call("ssl-peer-certificate-hostnames", conn.server.input) == []


@pytest.mark.spec("S5.verified.2", "S5.verified.7")
def test_verified_over_pipes_on_both_ports(shim):
    server = verifying_server(shim, mode="ssl-try-verify!")
    conn = pipe_pair(shim, server, client_context(shim, verify=True)).require()
    assert verified(shim, conn.client) is True
    assert verified(shim, conn.server) is False


# -- contracts -----------------------------------------------------------------------


def not_a_context_listener_or_port(shim):
    plain_in, _ = shim.call("make-pipe")
    return [5, "ctx", None, sym("auto"), plain_in]


@pytest.mark.parametrize(
    "op",
    [
        pytest.param("ssl-set-verify!", marks=pytest.mark.spec("S5.verify.11")),
        pytest.param("ssl-try-verify!", marks=pytest.mark.spec("S5.try-verify.10")),
    ],
)
def test_verify_setters_refuse_other_values(shim, op):
    for value in not_a_context_listener_or_port(shim):
        expect_error("exn:fail:contract", shim, op, value, True)


@pytest.mark.spec("S5.verified.8")
def test_peer_verified_refuses_what_is_not_an_ssl_port(shim):
    listener, _ = listen(shim, server_context(shim))
    plain_in, plain_out = shim.call("make-pipe")
    for value in (listener, plain_in, plain_out, client_context(shim), 5, None):
        expect_error("exn:fail:contract", shim, "ssl-peer-verified?", value)
    assert isinstance(listener, Handle)


@pytest.mark.parametrize(
    "ciphers, accepted", [(None, False), ("DEFAULT:@SECLEVEL=0", True)], ids=["level-2", "level-0"]
)
@pytest.mark.spec("D.weak-signature.1")
def test_sha1_intermediate_verifies_only_at_security_level_0(shim, ciphers, accepted):
    client = client_context(shim, ciphers=ciphers, verify=True)
    chain, key = cert("server-sha1-inter-chain.pem"), cert("server-sha1-inter.key")
    with PythonServer(chain, key, ciphers="DEFAULT:@SECLEVEL=0") as peer:
        end = shim_connect(shim, peer.port, client)
        assert end.ok is accepted, "a chain through a SHA-1 intermediate: %s" % (end.error,)
        if accepted:
            assert verified(shim, end) is True
            assert exchange(shim, end.output, end.input, b"sha1") == b"sha1"
            close_end(shim, end)
        else:
            assert end.error.kind == "exn:fail:network", end.error


# -- verification on ports that cannot renegotiate (D.port-verify.1) -----------------


def tls13_server_port_pair(shim, mode=None):
    """A TLS 1.3 connection whose client holds a trusted certificate; the server
    trusts the root and asks for the certificate in the handshake only with `mode`."""
    server = server_context(shim, "tls13")
    shim.call("ssl-load-verify-source!", server, cert("root-ca.pem"))
    if mode is not None:
        shim.call(mode, server, True)
    return tcp_pair(shim, server, client_holding(shim, CLIENT, "tls13")).require()


@pytest.mark.spec("D.port-verify.1")
def test_tls13_server_port_does_not_renegotiate(shim):
    conn = tls13_server_port_pair(shim)
    assert verified(shim, conn.server) is False
    expect_error("exn:fail", shim, "ssl-set-verify!", conn.server.input, True)
    assert shim.call("ssl-try-verify!", conn.server.output, True) is None
    assert shim.call("ssl-set-verify!", conn.server.input, False) is None
    assert verified(shim, conn.server) is False
    flows(shim, conn)
    verified_conn = tls13_server_port_pair(shim, "ssl-try-verify!")
    assert verified(shim, verified_conn.server) is True
    assert shim.call("ssl-set-verify!", verified_conn.server.input, True) is None
    flows(shim, verified_conn)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("server", ["trusted", "self-signed"])
@pytest.mark.spec("D.port-verify.1", "D.verified.1")
def test_client_port_does_not_renegotiate(shim, version, server):
    files = tuple(cert(n) for n in (TRUSTED if server == "trusted" else SELF_SIGNED))
    client = client_context(shim, version, trust="root-ca.pem", verify=False)
    conn = tcp_pair(shim, serving(shim, files, version), client).require()
    expected = server == "trusted"
    assert verified(shim, conn.client) is expected
    if expected:
        assert shim.call("ssl-set-verify!", conn.client.input, True) is None
    else:
        expect_error("exn:fail", shim, "ssl-set-verify!", conn.client.input, True)
    assert shim.call("ssl-try-verify!", conn.client.output, True) is None
    assert shim.call("ssl-set-verify!", conn.client.output, False) is None
    assert verified(shim, conn.client) is expected
    flows(shim, conn)
