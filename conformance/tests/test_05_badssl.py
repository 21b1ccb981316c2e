"""A local badssl: servers that are wrong in one way each, and one that is right.

Python `ssl` servers on loopback serve an expired certificate, a certificate
for another host, a self-signed certificate, a chain to a root nobody trusts,
an incomplete chain, a chain through a SHA-1 intermediate, only weak cipher
suites, and a demand for a client certificate.  The secure client (the
`'secure` symbol and `ssl-secure-client-context`, with the test root as the
only default verify source) must refuse each bad one with
`exn:fail:network` and accept the good one; the `'auto` client verifies
nothing, so it accepts every server whose handshake can complete.

Each bad server is checked to work for a client that tolerates its defect,
so a refusal is known to come from that defect.  What the server saw of
each attempt is part of the assertion messages.
"""

import pytest

from harness import Symbol
from harness.oracles import PythonServer, made_cert, on_both_ports, python_client, shim_connect
from harness.tls import cert, exchange

TRUSTED = (cert("server-loopback-chain.pem"), cert("server-loopback.key"))
WEAK_ONLY = "aNULL:eNULL:@SECLEVEL=0"
LOW = "DEFAULT:@SECLEVEL=0"


def server_options(name):
    """Keyword arguments of PythonServer for each server of the local badssl."""
    if name == "good":
        return dict(chain=TRUSTED[0], key=TRUSTED[1])
    if name == "expired":
        return dict(chain=cert("server-expired.pem"), key=cert("server-expired.key"))
    if name == "wrong-host":
        return dict(chain=cert("server-dns.pem"), key=cert("server-dns.key"))
    if name == "self-signed":
        return dict(chain=cert("server-self-signed.pem"), key=cert("server-self-signed.key"))
    if name == "untrusted-root":
        pem, key = made_cert("untrusted-localhost")
        return dict(chain=pem, key=key)
    if name == "incomplete-chain":
        return dict(chain=cert("server-loopback.pem"), key=cert("server-loopback.key"))
    if name == "sha1-intermediate":
        return dict(
            chain=cert("server-sha1-inter-chain.pem"),
            key=cert("server-sha1-inter.key"),
            ciphers=LOW,
        )
    if name == "weak-ciphers":
        return dict(chain=TRUSTED[0], key=TRUSTED[1], version="tls12", ciphers=WEAK_ONLY)
    if name == "client-certificate":
        return dict(chain=TRUSTED[0], key=TRUSTED[1], cafile=cert("root-ca.pem"), verify="required")
    raise KeyError(name)


# What a client needs to get past each defect: the control that proves the
# server works, so that a refusal can only come from the defect.
TOLERANT_CLIENT = {
    "weak-ciphers": dict(version="tls12", ciphers=WEAK_ONLY),
    "client-certificate": dict(chain=cert("client.pem"), key=cert("client.key")),
    "sha1-intermediate": dict(ciphers=LOW),
}
BAD = [
    "expired",
    "wrong-host",
    "self-signed",
    "untrusted-root",
    "incomplete-chain",
    "sha1-intermediate",
    "weak-ciphers",
    "client-certificate",
]
AUTO_ACCEPTS = {
    "good": True,
    "expired": True,
    "wrong-host": True,
    "self-signed": True,
    "untrusted-root": True,
    "incomplete-chain": True,
    "sha1-intermediate": True,
    "weak-ciphers": False,
    "client-certificate": False,
}


@pytest.fixture(scope="module")
def badssl():
    """Every server of the local badssl, started once for the module."""
    servers = {name: PythonServer(**server_options(name)) for name in ["good"] + BAD}
    yield servers
    for server in servers.values():
        server.stop()


def secure_client(shim, kind):
    """The secure client of `kind`, with the test root as the only default source."""
    shim.call("ssl-default-verify-sources", [cert("root-ca.pem")])
    if kind == "symbol":
        return Symbol("secure")
    return shim.call("ssl-secure-client-context")


def attempt(shim, server, client):
    """Connect to `server`; returns (end, the server's record of that connection)."""
    count = len(server.records)
    end = shim_connect(shim, server.port, client, hostname="localhost")
    return end, server.record(count)


def check_control(server, name):
    """The bad server completes a handshake with a client that tolerates its defect,
    so that a refusal can only come from that defect."""
    record = python_client(server.port, send=b"ping", expect=4, **TOLERANT_CLIENT.get(name, {}))
    assert record.ok and not record.later_error, "control: " + record.describe()
    assert record.received == b"ping", "control: " + record.describe()


def refused_at_connect_or_first_read(shim, end, name):
    """The client end failed with exn:fail:network.

    Only the server that demands a client certificate may let the client's
    handshake end first (TLS 1.3 ends it before the server has judged the
    client): then the refusal arrives on the first read (S5.verify.4).
    """
    if not end.ok:
        assert end.error.kind == "exn:fail:network", end.error
        return
    assert name == "client-certificate", "the %s server was accepted" % name
    with pytest.raises(Exception) as caught:
        shim.call("read-bytes", 1, end.input)
    assert getattr(caught.value, "kind", None) == "exn:fail:network", caught.value


@pytest.mark.parametrize("kind", ["symbol", "context"])
@pytest.mark.parametrize(
    "name",
    [
        pytest.param("expired", marks=pytest.mark.spec("S5.verify.3")),
        pytest.param("wrong-host", marks=pytest.mark.spec("S1.secure.7", "S5.hostname.2")),
        pytest.param("self-signed", marks=pytest.mark.spec("S1.secure.6", "S5.verify.2")),
        pytest.param("untrusted-root", marks=pytest.mark.spec("S1.secure.6", "S5.verify.2")),
        pytest.param("incomplete-chain", marks=pytest.mark.spec("S1.secure.6", "S5.verify.2")),
        pytest.param("sha1-intermediate", marks=pytest.mark.spec("D.weak-signature.1")),
        pytest.param("weak-ciphers", marks=pytest.mark.spec("S1.secure.8")),
        pytest.param("client-certificate", marks=pytest.mark.spec("S5.verify.4")),
    ],
)
@pytest.mark.spec("S1.secure.10")
def test_secure_client_refuses_a_bad_server(shim, badssl, name, kind):
    check_control(badssl[name], name)
    end, record = attempt(shim, badssl[name], secure_client(shim, kind))
    refused_at_connect_or_first_read(shim, end, name)
    record.done.wait()
    assert not record.ok or record.later_error or not record.received, record.describe()


@pytest.mark.parametrize("kind", ["symbol", "context"])
@pytest.mark.spec("S1.secure.5", "S1.secure.9", "S1.secure.10", "S5.verify.1")
def test_secure_client_accepts_the_good_server(shim, badssl, kind):
    end, record = attempt(shim, badssl["good"], secure_client(shim, kind))
    assert end.ok, end.error
    assert on_both_ports(shim, "ssl-peer-verified?", end) is True
    assert on_both_ports(shim, "ssl-protocol-version", end) == Symbol("tls13")
    assert exchange(shim, end.output, end.input, b"good") == b"good"
    assert record.ok and record.version == "tls13", record.describe()


@pytest.mark.parametrize("name", ["good"] + BAD)
@pytest.mark.spec("S1.connect.4", "S1.make-ctx.3", "S5.verified.5")
def test_auto_client_verifies_nothing(shim, badssl, name):
    end, record = attempt(shim, badssl[name], Symbol("auto"))
    if not AUTO_ACCEPTS[name]:
        refused_at_connect_or_first_read(shim, end, name)
        check_control(badssl[name], name)
        return
    assert end.ok, "'auto refused the %s server: %s" % (name, end.error)
    assert exchange(shim, end.output, end.input, b"auto") == b"auto"
    assert on_both_ports(shim, "ssl-peer-verified?", end) is False
    assert record.ok, record.describe()
