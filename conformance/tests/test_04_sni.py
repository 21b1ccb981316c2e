"""Section 4: server name indication, at the client and in the server's callback.

What a client sends is read from the wire (a sniffer that decodes the raw
ClientHello) and by independent servers (Python's `sni_callback`, `openssl
s_server -servername`).  What a server does with the name is seen by the
clients: the certificate a Python client receives, the hostnames a shim
client reads from the peer certificate.
"""

import pytest

from harness import Symbol, peers
from harness.oracles import (
    HelloSniffer,
    PythonClient,
    PythonServer,
    close_end,
    first_certificate,
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
    tcp_pair,
)

DEFAULT_CERT = "server-loopback.pem"
OTHER_CERT = "server-dns.pem"
NAME = "virtual.example.test"


def other_server_context(shim):
    """The context a callback switches to: it serves server-dns.pem."""
    return server_context(shim, chain=OTHER_CERT, key="server-dns.key")


def peer_hostnames(shim, end):
    return on_both_ports(shim, "ssl-peer-certificate-hostnames", end)


def callback_server(shim, pairs):
    """The default loopback server context with a name callback made from `pairs`."""
    server = server_context(shim)
    callback = shim.call("make-sni-callback", pairs)
    assert shim.call("ssl-set-server-name-identification-callback!", server, callback) is None
    return server, callback


def calls(shim, callback):
    return shim.call("procedure-calls", callback)


# -- what the client sends -----------------------------------------------------------


@pytest.mark.spec("S4.sni.1")
def test_ssl_connect_sends_the_hostname(shim):
    with HelloSniffer() as sniffer:
        shim_connect(shim, sniffer.port, "auto", hostname="localhost")
        hello = sniffer.hello()
    assert 0 in hello.extensions, "no server_name extension in the ClientHello"
    assert hello.server_name == "localhost"


@pytest.mark.parametrize("name", [NAME, "a.b.c.example.test", "xn--caf-dma.example.test"])
@pytest.mark.spec("S4.sni.1", "S3.hostname.1")
def test_wrapper_sends_the_hostname(shim, name):
    with HelloSniffer() as sniffer:
        shim_wrap(shim, sniffer.port, client_context(shim), hostname=name)
        hello = sniffer.hello()
    assert hello.server_name == name, "the ClientHello names %r" % (hello.server_name,)


@pytest.mark.parametrize("protocol", ["tls12", "tls13"])
@pytest.mark.spec("S4.sni.1")
def test_python_server_sees_the_hostname(shim, protocol):
    with PythonServer(cert("server-loopback-chain.pem"), cert("server-loopback.key")) as peer:
        end = shim_connect(shim, peer.port, protocol, hostname="localhost")
        assert end.ok, end.error
        record = peer.record()
        assert record.sni_called and record.server_name == "localhost", record.describe()
        end = shim_wrap(shim, peer.port, client_context(shim, protocol), hostname=NAME)
        assert end.ok, end.error
        record = peer.record(1)
        assert record.server_name == NAME, record.describe()


@pytest.mark.spec("S4.sni.1")
def test_openssl_server_sees_the_hostname(shim):
    with peers.openssl_server(servername=NAME, cert2=OTHER_CERT, key2="server-dns.key") as peer:
        end = shim_wrap(shim, peer.port, client_context(shim), hostname=NAME)
        assert end.ok, end.error
        peer.wait_for('Hostname in TLS extension: "%s"' % NAME)
        assert peer_hostnames(shim, end) == ["dns.example.test"], (
            "s_server did not switch to its second certificate:" + peer.log()
        )
        close_end(shim, end)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
@pytest.mark.spec("S4.sni.2", "D.sni.3")
def test_no_sni_for_an_ip_literal(shim, host):
    with HelloSniffer() as sniffer:
        shim_wrap(shim, sniffer.port, client_context(shim), hostname=host)
        hello = sniffer.hello()
    assert 0 not in hello.extensions, "server_name %r sent for %s" % (hello.server_name, host)


@pytest.mark.spec("S4.sni.2", "D.sni.3")
def test_ssl_connect_to_an_ip_literal_sends_no_sni(shim):
    with PythonServer(cert("server-loopback-chain.pem"), cert("server-loopback.key")) as peer:
        end = shim_connect(shim, peer.port, "auto", hostname="127.0.0.1")
        assert end.ok, end.error
        record = peer.record()
    assert record.server_name is None, "the server received SNI %r" % (record.server_name,)


@pytest.mark.spec("S4.sni.2")
def test_wrapper_without_hostname_sends_no_sni(shim):
    with HelloSniffer() as sniffer:
        shim_wrap(shim, sniffer.port, client_context(shim))
        hello = sniffer.hello()
    assert 0 not in hello.extensions, "server_name %r sent" % (hello.server_name,)


# -- the server's callback -------------------------------------------------------------


@pytest.mark.spec("S4.sni.3", "S3.hostname.1")
def test_callback_receives_the_name_once_per_handshake(shim):
    server, callback = callback_server(shim, [[NAME, False]])
    first = pipe_pair(shim, server, client_context(shim), hostname=NAME).require()
    assert calls(shim, callback) == [NAME]
    second = pipe_pair(shim, server, client_context(shim), hostname="other.example.test")
    second.require()
    assert calls(shim, callback) == [NAME, "other.example.test"]
    close_connection(shim, first)
    close_connection(shim, second)


@pytest.mark.spec("S4.sni.3")
def test_callback_receives_the_name_a_python_client_sends(shim):
    server, callback = callback_server(shim, [])
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, server_hostname=NAME)
    end = settle(accepting)
    assert end.ok, end.error
    assert calls(shim, callback) == [NAME]
    close_end(shim, end)
    assert client.finish().ok


@pytest.mark.parametrize("protocol", ["tls12", "tls13"])
@pytest.mark.spec("S4.sni.4")
def test_callback_context_serves_the_connection(shim, protocol):
    server, callback = callback_server(shim, [[NAME, other_server_context(shim)]])
    conn = pipe_pair(shim, server, client_context(shim, protocol), hostname=NAME).require()
    assert peer_hostnames(shim, conn.client) == ["dns.example.test"]
    assert exchange(shim, conn.client.output, conn.server.input, b"ping") == b"ping"
    assert calls(shim, callback) == [NAME]


@pytest.mark.spec("S4.sni.4")
def test_callback_context_is_the_certificate_a_python_client_receives(shim):
    server, _ = callback_server(shim, [[NAME, other_server_context(shim)]])
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, server_hostname=NAME)
    end = settle(accepting)
    assert end.ok, end.error
    record = client.record()
    assert record.peer_cert == first_certificate(cert(OTHER_CERT)), record.describe()
    close_end(shim, end)
    client.finish()


@pytest.mark.spec("S4.sni.5")
def test_callback_answering_false_keeps_the_original_context(shim):
    server, callback = callback_server(shim, [[NAME, False]])
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, server_hostname=NAME)
    end = settle(accepting)
    assert end.ok, end.error
    assert client.record().peer_cert == first_certificate(cert(DEFAULT_CERT))
    assert calls(shim, callback) == [NAME]
    close_end(shim, end)
    client.finish()
    conn = pipe_pair(shim, server, client_context(shim), hostname="unknown.example.test")
    assert peer_hostnames(shim, conn.require().client) == ["localhost"]


@pytest.mark.spec("S4.sni.6", "D.sni.1")
def test_callback_not_called_without_sni(shim):
    server, callback = callback_server(shim, [[NAME, other_server_context(shim)]])
    conn = pipe_pair(shim, server, client_context(shim)).require()
    assert peer_hostnames(shim, conn.client) == ["localhost"]
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, server_hostname=None)
    end = settle(accepting)
    assert end.ok, end.error
    assert client.record().peer_cert == first_certificate(cert(DEFAULT_CERT))
    assert calls(shim, callback) == [], "the callback was called without SNI"
    close_end(shim, end)
    client.finish()


@pytest.mark.parametrize("answer", ["raise", "client-context"])
@pytest.mark.spec("S4.sni.7", "D.sni.2")
def test_failing_callback_fails_that_handshake_only(shim, answer):
    bad = Symbol("raise") if answer == "raise" else client_context(shim)
    server, callback = callback_server(shim, [[NAME, bad]])
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    refused = shim_wrap(shim, port, client_context(shim), hostname=NAME)
    server_end = settle(accepting)
    assert not server_end.ok, "ssl-accept succeeded although the callback failed"
    assert server_end.error.kind == "exn:fail:network", server_end.error
    if refused.ok:
        with pytest.raises(Exception):
            shim.call("read-bytes", 1, refused.input)
    assert calls(shim, callback) == [NAME]
    later = tcp_pair(shim, None, client_context(shim), listener=listener, port=port).require()
    assert exchange(shim, later.client.output, later.server.input, b"still") == b"still"


@pytest.mark.spec("S4.sni.7", "D.sni.2")
def test_failing_callback_alerts_a_python_client(shim):
    server, _ = callback_server(shim, [[NAME, Symbol("raise")]])
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, server_hostname=NAME)
    end = settle(accepting)
    assert not end.ok and end.error.kind == "exn:fail:network", end.error
    record = client.finish()
    assert not record.ok or record.later_error, record.describe()


@pytest.mark.spec("S4.sni.8")
def test_a_second_callback_replaces_the_first(shim):
    server, first = callback_server(shim, [[NAME, other_server_context(shim)]])
    second = shim.call("make-sni-callback", [[NAME, False]])
    shim.call("ssl-set-server-name-identification-callback!", server, second)
    conn = pipe_pair(shim, server, client_context(shim), hostname=NAME).require()
    assert calls(shim, first) == []
    assert calls(shim, second) == [NAME]
    assert peer_hostnames(shim, conn.client) == ["localhost"]


@pytest.mark.spec("S4.sni.9")
def test_callback_setter_refuses_bad_arguments(shim):
    callback = shim.call("make-sni-callback", [])
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (client_context(shim), listener, plain_in, 5, "server", None):
        expect_error(
            "exn:fail:contract",
            shim,
            "ssl-set-server-name-identification-callback!",
            value,
            callback,
        )
    server = server_context(shim)
    for value in (5, "callback", None, True, server, plain_in):
        expect_error(
            "exn:fail:contract", shim, "ssl-set-server-name-identification-callback!", server, value
        )
