"""Section 5: channel binding (ssl-channel-binding, ssl-default-channel-binding).

Oracles, by type:

- 'tls-unique: what Python's `ssl` reports as `tls-unique` at the peer.
- 'tls-exporter on TLS 1.3: what `openssl s_client`/`s_server -keymatexport
  EXPORTER-Channel-Binding -keymatexportlen 32` export at the peer.
- 'tls-exporter on TLS 1.2: s_client exports with no context at all, while
  RFC 9266 and D.exporter.1 use a zero-length context, which gives other
  bytes on TLS 1.2.  So the value is computed here from the connection's own
  secrets instead: the master secret and client random from the peer's key
  log, the server random from the ServerHello a relay saw, run through the
  TLS 1.2 PRF (RFC 5705 section 4).  The same computation with no context
  reproduces what s_client prints, which checks the computation itself.
- 'tls-server-end-point: the certificate's DER hashed as RFC 5929 section
  4.1 says, with the hash read from the certificate's signature algorithm.
"""

import json

import pytest

from harness import Symbol, peers
from harness.codec import decode
from harness.oracles import (
    PythonClient,
    PythonServer,
    Relay,
    close_end,
    exported_keying_material,
    first_certificate,
    keylog_fields,
    made_cert,
    on_both_ports,
    read_keylog,
    server_end_point,
    settle,
    shim_connect,
    tls12_exporter,
)
from harness.support import expect_error
from harness.tls import (
    ROOT,
    cert,
    client_context,
    close_connection,
    listen,
    server_context,
    sym,
    tcp_pair,
)

VERSIONS = ["tls12", "tls13"]
TYPES = ["tls-exporter", "tls-unique", "tls-server-end-point"]
LABEL = b"EXPORTER-Channel-Binding"
EXPORT = ["-keymatexport", LABEL.decode(), "-keymatexportlen", "32"]
# One TLS 1.2 suite whose PRF is SHA-256, for the exporter computation.
PRF_SHA256_SUITE = "ECDHE-RSA-AES128-GCM-SHA256"
BAD_INPUTS = json.loads((ROOT / "fixtures" / "bad-inputs.json").read_text(encoding="utf-8"))


def binding(shim, end, kind):
    return on_both_ports(shim, "ssl-channel-binding", end, Symbol(kind))


def pair(shim, version, server=None):
    return tcp_pair(shim, server or server_context(shim, version), client_context(shim, version))


def raises_fail(shim, op, *args):
    return expect_error("exn:fail", shim, op, *args)


# -- the default binding -------------------------------------------------------------


@pytest.mark.parametrize(
    "version, kind",
    [
        pytest.param("tls13", "tls-exporter", marks=pytest.mark.spec("S5.binding.1")),
        pytest.param("tls12", "tls-unique", marks=pytest.mark.spec("S5.binding.2")),
    ],
)
def test_default_binding_by_version(shim, version, kind):
    conn = pair(shim, version).require()
    for end in (conn.client, conn.server):
        default = on_both_ports(shim, "ssl-default-channel-binding", end)
        assert default == [Symbol(kind), binding(shim, end, kind)], default
    assert binding(shim, conn.client, kind) == binding(shim, conn.server, kind)
    close_connection(shim, conn)


# -- tls-unique -------------------------------------------------------------------------


@pytest.mark.spec("S5.binding.3")
def test_tls_unique_on_tls12_agrees_at_both_ends(shim):
    conn = pair(shim, "tls12").require()
    value = binding(shim, conn.client, "tls-unique")
    assert isinstance(value, bytes) and len(value) == 12, value
    assert binding(shim, conn.server, "tls-unique") == value
    close_connection(shim, conn)


@pytest.mark.spec("S5.binding.3")
def test_tls_unique_of_a_client_equals_the_python_server(shim):
    chain, key = cert("server-loopback-chain.pem"), cert("server-loopback.key")
    with PythonServer(chain, key, version="tls12") as peer:
        end = shim_connect(shim, peer.port, client_context(shim, "tls12"))
        assert end.ok, end.error
        value = binding(shim, end, "tls-unique")
        record = peer.record()
        close_end(shim, end)
    assert record.tls_unique is not None and len(record.tls_unique) == 12, record.describe()
    assert value == record.tls_unique


@pytest.mark.spec("S5.binding.3")
def test_tls_unique_of_a_server_equals_the_python_client(shim):
    listener, port = listen(shim, server_context(shim, "tls12"))
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, version="tls12")
    end = settle(accepting)
    assert end.ok, end.error
    value = binding(shim, end, "tls-unique")
    close_end(shim, end)
    record = client.finish()
    assert record.tls_unique is not None and len(record.tls_unique) == 12, record.describe()
    assert value == record.tls_unique


@pytest.mark.spec("S5.binding.4")
def test_tls_unique_on_tls13_raises(shim):
    conn = pair(shim, "tls13").require()
    for end in (conn.client, conn.server):
        for port in end.ports:
            raises_fail(shim, "ssl-channel-binding", port, Symbol("tls-unique"))
    close_connection(shim, conn)


# -- tls-exporter -------------------------------------------------------------------------


@pytest.mark.spec("S5.binding.5")
def test_tls_exporter_on_tls13_agrees_at_both_ends(shim):
    conn = pair(shim, "tls13").require()
    value = binding(shim, conn.client, "tls-exporter")
    assert isinstance(value, bytes) and len(value) == 32, value
    assert binding(shim, conn.server, "tls-exporter") == value
    close_connection(shim, conn)


@pytest.mark.spec("S5.binding.5", "D.exporter.1")
def test_tls_exporter_of_a_server_equals_openssl_s_client(shim):
    listener, port = listen(shim, server_context(shim, "tls13"))
    accepting = shim.start_call("ssl-accept", listener)
    with peers.openssl_client(port, version="tls13", extra=EXPORT) as client:
        end = settle(accepting)
        assert end.ok, end.error
        value = binding(shim, end, "tls-exporter")
        client.wait_for(r"Keying material: [0-9A-F]+")
        theirs = exported_keying_material(client.output())
        close_end(shim, end)
    assert value == theirs, "the shim exported %s, s_client %s%s" % (
        value.hex(),
        theirs and theirs.hex(),
        client.log(),
    )


@pytest.mark.spec("S5.binding.5", "D.exporter.1")
def test_tls_exporter_of_a_client_equals_openssl_s_server(shim):
    with peers.openssl_server(version="tls13", extra=EXPORT) as server:
        end = shim_connect(shim, server.port, client_context(shim, "tls13"))
        assert end.ok, end.error
        value = binding(shim, end, "tls-exporter")
        server.wait_for(r"Keying material: [0-9A-F]+")
        theirs = exported_keying_material(server.output())
        close_end(shim, end)
    assert value == theirs, "the shim exported %s, s_server %s%s" % (
        value.hex(),
        theirs and theirs.hex(),
        server.log(),
    )


def tls12_exporter_values(peer_log, relay):
    """(zero-length context, no context) exporter values of the relayed connection."""
    lines = [keylog_fields(line) for line in read_keylog(peer_log)]
    assert len(lines) == 1 and lines[0][0] == b"CLIENT_RANDOM", lines
    client_random = bytes.fromhex(lines[0][1].decode())
    master_secret = bytes.fromhex(lines[0][2].decode())
    server_random = relay.server_hello_random()
    return tuple(
        tls12_exporter("sha256", master_secret, client_random, server_random, LABEL, context)
        for context in (b"", None)
    )


@pytest.mark.spec("S5.binding.6", "D.exporter.1")
def test_tls_exporter_of_a_tls12_client_uses_an_empty_context(shim, tmp_path):
    peer_log = tmp_path / "server.keylog"
    chain, key = cert("server-loopback-chain.pem"), cert("server-loopback.key")
    with PythonServer(
        chain, key, version="tls12", ciphers=PRF_SHA256_SUITE, keylog=peer_log
    ) as peer, Relay(peer.port) as relay:
        end = shim_connect(shim, relay.port, client_context(shim, "tls12"))
        assert end.ok, end.error
        value = binding(shim, end, "tls-exporter")
        assert peer.record().cipher == PRF_SHA256_SUITE, peer.record().describe()
        close_end(shim, end)
    empty_context, no_context = tls12_exporter_values(peer_log, relay)
    assert empty_context != no_context
    assert value == empty_context, "exported %s; with an empty context %s, with none %s" % (
        value.hex(),
        empty_context.hex(),
        no_context.hex(),
    )


@pytest.mark.spec("S5.binding.6", "D.exporter.1")
def test_tls_exporter_of_a_tls12_server_uses_an_empty_context(shim, tmp_path):
    server = server_context(shim, "tls12", ciphers=PRF_SHA256_SUITE)
    listener, port = listen(shim, server)
    peer_log = tmp_path / "client.keylog"
    with Relay(port) as relay:
        accepting = shim.start_call("ssl-accept", listener)
        client = PythonClient(relay.port, version="tls12", keylog=peer_log)
        end = settle(accepting)
        assert end.ok, end.error
        value = binding(shim, end, "tls-exporter")
        close_end(shim, end)
        assert client.finish().ok
    empty_context, no_context = tls12_exporter_values(peer_log, relay)
    assert value == empty_context, "exported %s; with an empty context %s, with none %s" % (
        value.hex(),
        empty_context.hex(),
        no_context.hex(),
    )


@pytest.mark.spec("S5.binding.6")
def test_tls_exporter_on_tls12_agrees_at_both_ends_and_differs_from_no_context(shim):
    listener, port = listen(shim, server_context(shim, "tls12"))
    accepting = shim.start_call("ssl-accept", listener)
    with peers.openssl_client(port, version="tls12", extra=EXPORT) as client:
        end = settle(accepting)
        assert end.ok, end.error
        value = binding(shim, end, "tls-exporter")
        client.wait_for(r"Keying material: [0-9A-F]+")
        no_context = exported_keying_material(client.output())
        assert "Extended master secret: yes" in client.output(), client.log()
        close_end(shim, end)
    assert len(value) == 32 and value != no_context
    conn = pair(shim, "tls12").require()
    assert binding(shim, conn.client, "tls-exporter") == binding(shim, conn.server, "tls-exporter")
    close_connection(shim, conn)


def check_no_ems(port):
    """The Python peer on `port` really negotiates TLS 1.2 without EMS."""
    with peers.openssl_client(port, version="tls12") as probe:
        probe.wait_for(r"Extended master secret: (yes|no)")
        assert "Extended master secret: no" in probe.output(), probe.log()


@pytest.mark.spec("S5.binding.7")
def test_tls_exporter_without_ems_raises_at_a_client(shim):
    chain, key = cert("server-loopback-chain.pem"), cert("server-loopback.key")
    with PythonServer(chain, key, version="tls12", ems=False) as peer:
        check_no_ems(peer.port)
        end = shim_connect(shim, peer.port, client_context(shim, "tls12"))
        assert end.ok, end.error
        for port in end.ports:
            raises_fail(shim, "ssl-channel-binding", port, Symbol("tls-exporter"))
        default = on_both_ports(shim, "ssl-default-channel-binding", end)
        assert default[0] == Symbol("tls-unique")
        assert default[1] == peer.record(1).tls_unique
        close_end(shim, end)


@pytest.mark.spec("S5.binding.7")
def test_tls_exporter_without_ems_raises_at_a_server(shim):
    listener, port = listen(shim, server_context(shim, "tls12"))
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, version="tls12", ems=False)
    end = settle(accepting)
    assert end.ok, end.error
    for port_handle in end.ports:
        raises_fail(shim, "ssl-channel-binding", port_handle, Symbol("tls-exporter"))
    assert binding(shim, end, "tls-unique") == client.record().tls_unique
    close_end(shim, end)
    client.finish()


# -- tls-server-end-point -----------------------------------------------------------------

WEAK = "DEFAULT:@SECLEVEL=0"
END_POINT_CERTS = [
    pytest.param("server-sha256.pem", None, 32, marks=pytest.mark.spec("S5.binding.9")),
    pytest.param("server-sha384.pem", None, 48, marks=pytest.mark.spec("S5.binding.9")),
    pytest.param("server-sha512.pem", None, 64, marks=pytest.mark.spec("S5.binding.9")),
    pytest.param("server-loopback-chain.pem", None, 32, marks=pytest.mark.spec("S5.binding.9")),
    pytest.param("sha224-rsa", None, 28, marks=pytest.mark.spec("S5.binding.9")),
    pytest.param("sha224-ecdsa", None, 28, marks=pytest.mark.spec("S5.binding.9")),
    pytest.param("sha384-ecdsa", None, 48, marks=pytest.mark.spec("S5.binding.9")),
    pytest.param("server-sha1.pem", WEAK, 32, marks=pytest.mark.spec("S5.binding.10")),
    pytest.param("server-md5.pem", WEAK, 32, marks=pytest.mark.spec("S5.binding.10")),
]


def certificate_files(name):
    """(chain, key) of a file in certs/ or a certificate the oracles make."""
    if name.endswith(".pem"):
        key = name.replace("-chain.pem", ".pem")[: -len(".pem")] + ".key"
        return cert(name), cert(key)
    return made_cert(name)


def end_point_pair(shim, version, name, ciphers):
    """A `version` connection whose server serves the certificate `name`."""
    chain, key = certificate_files(name)
    server = shim.call("ssl-make-server-context", sym(version))
    if ciphers is not None:
        shim.call("ssl-set-ciphers!", server, ciphers)
    shim.call("ssl-load-certificate-chain!", server, chain)
    shim.call("ssl-load-private-key!", server, key, False)
    client = client_context(shim, version, trust=None, ciphers=ciphers)
    conn = tcp_pair(shim, server, client).require()
    negotiated = on_both_ports(shim, "ssl-protocol-version", conn.client)
    assert negotiated == Symbol(version), "the connection negotiated %r" % (negotiated,)
    return conn, chain


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name, ciphers, size", END_POINT_CERTS)
@pytest.mark.spec("S5.binding.8")
def test_tls_server_end_point(shim, version, name, ciphers, size):
    conn, chain = end_point_pair(shim, version, name, ciphers)
    expected = server_end_point(first_certificate(chain))
    assert expected is not None and len(expected) == size, "the oracle gives %r" % (expected,)
    assert binding(shim, conn.client, "tls-server-end-point") == expected
    assert binding(shim, conn.server, "tls-server-end-point") == expected
    close_connection(shim, conn)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["server-ed25519-chain.pem", "ed448"])
@pytest.mark.spec("S5.binding.11")
def test_tls_server_end_point_without_a_single_hash_raises(shim, version, name):
    conn, chain = end_point_pair(shim, version, name, None)
    assert server_end_point(first_certificate(chain)) is None
    for end in (conn.client, conn.server):
        for port in end.ports:
            raises_fail(shim, "ssl-channel-binding", port, Symbol("tls-server-end-point"))
    close_connection(shim, conn)


# -- across connections, after close, contracts ---------------------------------------------


@pytest.mark.parametrize(
    "version, kinds", [("tls12", ["tls-unique", "tls-exporter"]), ("tls13", ["tls-exporter"])]
)
@pytest.mark.spec("S5.binding.12")
def test_values_differ_between_connections(shim, version, kinds):
    server = server_context(shim, version)
    first = pair(shim, version, server).require()
    second = pair(shim, version, server).require()
    for kind in kinds:
        assert binding(shim, first.client, kind) != binding(shim, second.client, kind), kind
    same = "tls-server-end-point"
    assert binding(shim, first.client, same) == binding(shim, second.client, same)
    close_connection(shim, first)
    close_connection(shim, second)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.spec("S5.binding.13")
def test_binding_after_close_raises(shim, version, side):
    conn = pair(shim, version).require()
    end = conn.client if side == "client" else conn.server
    default = on_both_ports(shim, "ssl-default-channel-binding", end)
    assert isinstance(default[1], bytes)
    shim.call("close-output-port", end.output)
    shim.call("close-input-port", end.input)
    for port in end.ports:
        for kind in TYPES:
            raises_fail(shim, "ssl-channel-binding", port, Symbol(kind))
        raises_fail(shim, "ssl-default-channel-binding", port)
    close_connection(shim, conn)


@pytest.mark.spec("S5.binding.14")
def test_binding_refuses_bad_arguments(shim):
    conn = pair(shim, "tls13").require()
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (listener, plain_in, client_context(shim), 5, None):
        expect_error("exn:fail:contract", shim, "ssl-channel-binding", value, sym("tls-exporter"))
        expect_error("exn:fail:contract", shim, "ssl-default-channel-binding", value)
    for value in BAD_INPUTS["channel-binding-type"]["refused"]:
        expect_error(
            "exn:fail:contract", shim, "ssl-channel-binding", conn.client.input, decode(value)
        )
    close_connection(shim, conn)
