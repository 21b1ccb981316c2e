"""Section 5: hostname verification, the peer's hostnames, check-hostname,
subject and issuer names.

The oracles: fixtures/hostnames.json (itself checked against OpenSSL's host
check by the selftest), `openssl x509 -checkhost`/`-checkip` for the clauses'
own cases, the certificates' names parsed with `cryptography`, and
`openssl x509 -nameopt compat` for subjects and issuers.
"""

import collections
import ipaddress
import json
import subprocess

import pytest

from harness import Symbol
from harness.oracles import (
    OPENSSL,
    PythonServer,
    certificate_hostnames,
    made_cert,
    on_both_ports,
    openssl_name,
    shim_connect,
)
from harness.support import expect_error
from harness.tls import (
    ROOT,
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

HOSTNAMES = json.loads((ROOT / "fixtures" / "hostnames.json").read_text(encoding="utf-8"))
ROWS_BY_CERT = collections.OrderedDict()
for _row in HOSTNAMES:
    ROWS_BY_CERT.setdefault(_row["cert"], []).append(_row)

# The cases of S5.check-hostname.1 to .8: (certificate made by the oracles, host,
# match?).
CHECK_CASES = [
    pytest.param(
        "check-hostname",
        "exact.test",
        True,
        marks=pytest.mark.spec("S5.check-hostname.1"),
        id="check-hostname-exact.test",
    ),
    pytest.param(
        "check-hostname",
        "EXACT.test",
        True,
        marks=pytest.mark.spec("S5.check-hostname.1"),
        id="check-hostname-EXACT.test",
    ),
    pytest.param(
        "check-hostname",
        "a.example.com",
        True,
        marks=pytest.mark.spec("S5.check-hostname.2"),
        id="check-hostname-a.example.com",
    ),
    pytest.param(
        "check-hostname",
        "example.com",
        False,
        marks=pytest.mark.spec("S5.check-hostname.2"),
        id="check-hostname-example.com",
    ),
    pytest.param(
        "check-hostname",
        "a.b.example.com",
        False,
        marks=pytest.mark.spec("S5.check-hostname.2"),
        id="check-hostname-a.b.example.com",
    ),
    pytest.param(
        "check-hostname",
        "foo.foo.test",
        True,
        marks=pytest.mark.spec("S5.check-hostname.3"),
        id="check-hostname-foo.foo.test",
    ),
    pytest.param(
        "check-hostname",
        "bar.foo.test",
        False,
        marks=pytest.mark.spec("S5.check-hostname.3"),
        id="check-hostname-bar.foo.test",
    ),
    pytest.param(
        "check-hostname",
        "x.com",
        False,
        marks=pytest.mark.spec("S5.check-hostname.4"),
        id="check-hostname-x.com",
    ),
    pytest.param(
        "check-hostname",
        "xn--abc.idn.test",
        False,
        marks=pytest.mark.spec("S5.check-hostname.4"),
        id="check-hostname-xn--abc.idn.test",
    ),
    pytest.param(
        "check-hostname",
        "cn.example.org",
        False,
        marks=pytest.mark.spec("S5.check-hostname.5"),
        id="check-hostname-cn.example.org",
    ),
    pytest.param(
        "ip-only",
        "localhost",
        True,
        marks=pytest.mark.spec("S5.check-hostname.5"),
        id="ip-only-localhost",
    ),
    pytest.param(
        "check-hostname",
        "127.0.0.1",
        True,
        marks=pytest.mark.spec("S5.check-hostname.6"),
        id="check-hostname-127.0.0.1",
    ),
    pytest.param(
        "check-hostname",
        "::1",
        True,
        marks=pytest.mark.spec("S5.check-hostname.6"),
        id="check-hostname-::1",
    ),
    pytest.param(
        "dns-ip-only",
        "127.0.0.1",
        False,
        marks=pytest.mark.spec("S5.check-hostname.6"),
        id="dns-ip-only-127.0.0.1",
    ),
    pytest.param(
        "check-hostname",
        "",
        False,
        marks=pytest.mark.spec("S5.check-hostname.7"),
        id="check-hostname-",
    ),
    pytest.param(
        "check-hostname",
        ".example.com",
        False,
        marks=pytest.mark.spec("S5.check-hostname.7"),
        id="check-hostname-.example.com",
    ),
    pytest.param(
        "check-hostname",
        "a..example.com",
        False,
        marks=pytest.mark.spec("S5.check-hostname.7"),
        id="check-hostname-a..example.com",
    ),
    pytest.param(
        "check-hostname",
        "exact.test.",
        False,
        marks=pytest.mark.spec("S5.check-hostname.7"),
        id="check-hostname-exact.test.",
    ),
    pytest.param(
        "check-hostname",
        "other.test",
        False,
        marks=pytest.mark.spec("S5.check-hostname.8"),
        id="check-hostname-other.test",
    ),
]
# Cases where OpenSSL's own check answers otherwise, and why (D.hostname-match.1).
OPENSSL_DISAGREES = {
    ".example.com": "a leading dot means 'any subdomain' to X509_check_host",
}


def is_ip_literal(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def openssl_checks(path, host):
    """`openssl x509 -checkhost` (or -checkip for an IP literal): does it match?"""
    option = "-checkip" if is_ip_literal(host) else "-checkhost"
    done = subprocess.run(
        [OPENSSL, "x509", "-noout", "-in", path, option, host],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=True,
    )
    text = done.stdout.decode("utf-8", "replace")
    return " does match " in text


def made_server(shim, name):
    pem, key = made_cert(name)
    ctx = shim.call("ssl-make-server-context", sym("auto"))
    shim.call("ssl-load-certificate-chain!", ctx, pem)
    shim.call("ssl-load-private-key!", ctx, key, False)
    return ctx


def certs_server(shim, name):
    """A server context serving a certificate of certs/ with its key."""
    key = name.replace("-chain.pem", ".pem")[: -len(".pem")] + ".key"
    return server_context(shim, chain=name, key=key)


def connected_client(shim, server_ctx, client=None):
    """Connect an unverifying client to `server_ctx`; returns the Connection."""
    return tcp_pair(shim, server_ctx, client or client_context(shim, trust=None)).require()


def hostname_checking_client(shim, verify=False, trust="root-ca.pem"):
    ctx = client_context(shim, trust=trust, verify=verify)
    assert shim.call("ssl-set-verify-hostname!", ctx, True) is None
    return ctx


def wrap_with_hostname(shim, server_ctx, client_ctx, hostname):
    """ports->ssl-ports over pipes with #:hostname; returns (Connection, error procedure)."""
    error_ssl = shim.call("make-error-procedure", "exn:fail:unsupported")
    conn = pipe_pair(
        shim,
        server_ctx,
        client_ctx,
        hostname=hostname,
        client_keywords={"error/ssl": error_ssl},
    )
    return conn, error_ssl


# -- ssl-peer-check-hostname --------------------------------------------------------


@pytest.mark.parametrize("cert_name", list(ROWS_BY_CERT))
@pytest.mark.spec(
    "S5.check-hostname.1",
    "S5.check-hostname.2",
    "S5.check-hostname.3",
    "S5.check-hostname.4",
    "S5.check-hostname.5",
    "S5.check-hostname.6",
    "S5.check-hostname.7",
    "S5.check-hostname.8",
    "D.hostname-match.1",
)
def test_check_hostname_follows_the_hostname_table(shim, cert_name):
    conn = connected_client(shim, certs_server(shim, cert_name))
    wrong = []
    for row in ROWS_BY_CERT[cert_name]:
        for port in conn.client.ports:
            got = shim.call("ssl-peer-check-hostname", port, row["host"])
            if got is not row["match"]:
                wrong.append(
                    "%r: %r, wanted %r (%s)" % (row["host"], got, row["match"], row["rule"])
                )
                break
    assert not wrong, "%s:\n  %s" % (cert_name, "\n  ".join(wrong))


@pytest.mark.parametrize("cert_name, host, expected", CHECK_CASES)
@pytest.mark.spec("D.hostname-match.1")
def test_check_hostname_cases(shim, cert_name, host, expected):
    pem, _ = made_cert(cert_name)
    if host not in OPENSSL_DISAGREES:
        assert openssl_checks(pem, host) is expected, "the oracle disagrees on %r" % host
    conn = connected_client(shim, made_server(shim, cert_name))
    assert on_both_ports(shim, "ssl-peer-check-hostname", conn.client, host) is expected


@pytest.mark.spec("S5.check-hostname.9", "D.check-hostname.1")
def test_check_hostname_without_peer_certificate_is_false(shim):
    conn = connected_client(shim, server_context(shim))
    for host in ("localhost", "127.0.0.1", "sslport Test Client"):
        assert on_both_ports(shim, "ssl-peer-check-hostname", conn.server, host) is False


@pytest.mark.spec("S5.check-hostname.10")
def test_check_hostname_does_not_depend_on_verification(shim):
    verifying = connected_client(shim, server_context(shim), client_context(shim, verify=True))
    plain = connected_client(shim, server_context(shim))
    assert on_both_ports(shim, "ssl-peer-verified?", verifying.client) is True
    assert on_both_ports(shim, "ssl-peer-verified?", plain.client) is False
    for host, expected in (("localhost", True), ("LOCALHOST", True), ("other.test", False)):
        for conn in (verifying, plain):
            got = shim.call("ssl-peer-check-hostname", conn.client.input, host)
            assert got is expected, "%r: %r" % (host, got)


@pytest.mark.spec("S5.check-hostname.11")
def test_check_hostname_refuses_bad_arguments(shim):
    conn = connected_client(shim, server_context(shim))
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (listener, plain_in, client_context(shim), 5, None):
        expect_error("exn:fail:contract", shim, "ssl-peer-check-hostname", value, "localhost")
    for host in (443, b"localhost", Symbol("localhost"), None, True, ["localhost"]):
        expect_error("exn:fail:contract", shim, "ssl-peer-check-hostname", conn.client.input, host)


# -- hostname verification at connection time ----------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
@pytest.mark.spec("S5.hostname.1")
def test_hostname_verification_accepts_a_certificate_naming_the_host(shim, host):
    conn = tcp_pair(shim, server_context(shim), hostname_checking_client(shim), hostname=host)
    conn.require()
    assert exchange(shim, conn.client.output, conn.server.input, b"hi") == b"hi"


@pytest.mark.spec("S5.hostname.2")
def test_hostname_verification_rejects_another_name_at_connect(shim):
    conn = tcp_pair(
        shim, certs_server(shim, "server-dns.pem"), hostname_checking_client(shim, verify=True)
    )
    assert not conn.client.ok, "a certificate for dns.example.test was accepted for localhost"
    assert conn.client.error.kind == "exn:fail:network", conn.client.error
    close_connection(shim, conn)


@pytest.mark.spec("S5.hostname.2", "S3.hostname.2")
def test_hostname_verification_through_the_wrapper(shim):
    server = certs_server(shim, "server-dns.pem")
    client = hostname_checking_client(shim, verify=True)
    good, good_errors = wrap_with_hostname(shim, server, client, "dns.example.test")
    good.require()
    assert shim.call("procedure-calls", good_errors) == []
    bad, bad_errors = wrap_with_hostname(shim, server, client, "other.example.test")
    assert not bad.client.ok, "a certificate for dns.example.test was accepted for another name"
    assert (
        bad.client.error.kind == "exn:fail:unsupported"
    ), "the rejection did not go through the error procedure: %s" % (bad.client.error,)
    assert len(shim.call("procedure-calls", bad_errors)) == 1


@pytest.mark.spec("S5.hostname.3")
def test_hostname_verification_rejects_a_server_without_certificate(shim):
    anonymous = "aNULL:@SECLEVEL=0"
    server = server_context(shim, "tls12", chain=None, key=None, ciphers=anonymous)
    plain = client_context(shim, "tls12", trust=None, ciphers=anonymous)
    control = tcp_pair(shim, server, plain).require()
    assert on_both_ports(shim, "ssl-peer-certificate-hostnames", control.client) == []
    checking = client_context(shim, "tls12", trust=None, ciphers=anonymous)
    shim.call("ssl-set-verify-hostname!", checking, True)
    conn = tcp_pair(shim, server, checking)
    assert not conn.client.ok, "a server without a certificate passed hostname verification"
    assert conn.client.error.kind == "exn:fail:network", conn.client.error
    close_connection(shim, conn)


@pytest.mark.spec("S5.hostname.4")
def test_hostname_verification_alone_does_not_verify_the_certificate(shim):
    server = certs_server(shim, "server-self-signed.pem")
    conn = tcp_pair(shim, server, hostname_checking_client(shim, verify=False)).require()
    assert on_both_ports(shim, "ssl-peer-verified?", conn.client) is False


@pytest.mark.spec("S5.hostname.5")
def test_hostname_verification_turned_off(shim):
    client = hostname_checking_client(shim)
    assert shim.call("ssl-set-verify-hostname!", client, False) is None
    conn = tcp_pair(shim, certs_server(shim, "server-dns.pem"), client).require()
    assert on_both_ports(shim, "ssl-peer-check-hostname", conn.client, "localhost") is False


@pytest.mark.spec("S5.hostname.6", "D.hostname.1")
def test_hostname_verification_in_a_server_context_rejects_every_client(shim):
    server = server_context(shim)
    shim.call("ssl-set-verify-hostname!", server, True)
    conn = tcp_pair(shim, server, client_context(shim))
    assert not conn.server.ok, "ssl-accept accepted a client with hostname verification on"
    assert conn.server.error.kind == "exn:fail:network", conn.server.error
    if conn.client.ok:
        with pytest.raises(Exception):
            shim.call("read-bytes", 1, conn.client.input)
    close_connection(shim, conn)


@pytest.mark.parametrize(
    "cert_name, host, expected", [pytest.param(*case.values, id=case.id) for case in CHECK_CASES]
)
@pytest.mark.spec("S5.hostname.7", "D.hostname-match.1")
def test_hostname_verification_matches_as_check_hostname(shim, cert_name, host, expected):
    server = made_server(shim, cert_name)
    conn, errors = wrap_with_hostname(shim, server, hostname_checking_client(shim), host)
    assert conn.client.ok is expected, "%s for %r: %s" % (cert_name, host, conn.client.error)
    if not expected:
        assert conn.client.error.kind == "exn:fail:unsupported", conn.client.error
        assert len(shim.call("procedure-calls", errors)) == 1
    close_connection(shim, conn)


@pytest.mark.parametrize("verify", [False, True], ids=["hostname-only", "with-verification"])
@pytest.mark.parametrize("cert_name, expected", [("ip-only", True), ("dns-ip-only", False)])
@pytest.mark.spec("S5.hostname.8", "D.hostname-match.1")
def test_ip_literal_matching_does_not_depend_on_verification(shim, verify, cert_name, expected):
    client = hostname_checking_client(shim, verify=verify)
    conn = tcp_pair(shim, made_server(shim, cert_name), client, hostname="127.0.0.1")
    assert conn.client.ok is expected, "%s for 127.0.0.1: %s" % (cert_name, conn.client.error)
    if not expected:
        assert conn.client.error.kind == "exn:fail:network", conn.client.error
    close_connection(shim, conn)


@pytest.mark.spec("S3.hostname.3", "D.hostname.1")
def test_wrapper_without_hostname_fails_before_writing(shim):
    client = hostname_checking_client(shim)
    error_ssl = shim.call("make-error-procedure", "exn:fail:unsupported")
    wire_in, wire_out = shim.call("make-pipe")
    back_in, _ = shim.call("make-pipe")
    keywords = {"mode": Symbol("connect"), "context": client, "error/ssl": error_ssl}
    expect_error("exn:fail:unsupported", shim, "ports->ssl-ports", back_in, wire_out, kw=keywords)
    assert len(shim.call("procedure-calls", error_ssl)) == 1
    assert shim.call("byte-ready?", wire_in) is False, "bytes were written before the check"


@pytest.mark.spec("S5.hostname.9")
def test_set_verify_hostname_refuses_what_is_not_a_context(shim):
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (listener, plain_in, 5, "ctx", None, sym("auto")):
        expect_error("exn:fail:contract", shim, "ssl-set-verify-hostname!", value, True)


@pytest.mark.spec("S3.hostname.4")
def test_wrapper_refuses_a_hostname_that_is_not_a_string(shim):
    client = client_context(shim)
    for hostname in (443, b"localhost", Symbol("localhost"), True, ["localhost"]):
        wire_in, wire_out = shim.call("make-pipe")
        back_in, _ = shim.call("make-pipe")
        keywords = {"mode": Symbol("connect"), "context": client, "hostname": hostname}
        expect_error("exn:fail:contract", shim, "ports->ssl-ports", back_in, wire_out, kw=keywords)
        assert shim.call("byte-ready?", wire_in) is False


# -- ssl-peer-certificate-hostnames ----------------------------------------------------

HOSTNAME_CERTS = [
    pytest.param("server-multi.pem", marks=pytest.mark.spec("S5.hostnames.1")),
    pytest.param("server-loopback-chain.pem", marks=pytest.mark.spec("S5.hostnames.1")),
    pytest.param("server-wildcard.pem", marks=pytest.mark.spec("S5.hostnames.2")),
    pytest.param("server-upper.pem", marks=pytest.mark.spec("S5.hostnames.2")),
    pytest.param("server-idn.pem", marks=pytest.mark.spec("S5.hostnames.2")),
    pytest.param("server-dns-ip.pem", marks=pytest.mark.spec("S5.hostnames.1")),
    pytest.param("server-two-cn.pem", marks=pytest.mark.spec("S5.hostnames.4")),
    pytest.param("server-cn-only.pem", marks=pytest.mark.spec("S5.hostnames.4")),
    pytest.param("server-ip.pem", marks=pytest.mark.spec("S5.hostnames.3", "S5.hostnames.4")),
    pytest.param("server-cn-ip.pem", marks=pytest.mark.spec("S5.hostnames.4")),
]
MADE_HOSTNAME_CERTS = [
    pytest.param(
        "check-hostname",
        ["*.example.com", "f*.foo.test", "exact.test", "*.com", "xn--*.idn.test"],
        marks=pytest.mark.spec("S5.hostnames.2"),
    ),
    pytest.param(
        "mixed-sans", ["a.example.test", "c.example.test"], marks=pytest.mark.spec("S5.hostnames.3")
    ),
    pytest.param("no-cn", [], marks=pytest.mark.spec("S5.hostnames.4")),
    pytest.param("ip-only", ["localhost"], marks=pytest.mark.spec("S5.hostnames.4")),
]


@pytest.mark.parametrize("cert_name", HOSTNAME_CERTS)
@pytest.mark.spec("D.hostnames.1")
def test_peer_certificate_hostnames(shim, cert_name):
    expected = certificate_hostnames(cert(cert_name))
    conn = connected_client(shim, certs_server(shim, cert_name))
    got = on_both_ports(shim, "ssl-peer-certificate-hostnames", conn.client)
    assert got == expected, "%s: %r, wanted %r" % (cert_name, got, expected)


@pytest.mark.parametrize("made, expected", MADE_HOSTNAME_CERTS)
@pytest.mark.spec("D.hostnames.1")
def test_peer_certificate_hostnames_of_made_certificates(shim, made, expected):
    assert certificate_hostnames(made_cert(made)[0]) == expected, "the oracle disagrees"
    conn = connected_client(shim, made_server(shim, made))
    got = on_both_ports(shim, "ssl-peer-certificate-hostnames", conn.client)
    assert got == expected, "%s: %r, wanted %r" % (made, got, expected)


@pytest.mark.spec("S5.hostnames.5")
def test_peer_certificate_hostnames_without_certificate(shim):
    conn = connected_client(shim, server_context(shim))
    assert on_both_ports(shim, "ssl-peer-certificate-hostnames", conn.server) == []


@pytest.mark.spec("S5.hostnames.6")
def test_peer_certificate_hostnames_do_not_depend_on_verification(shim):
    verifying = connected_client(shim, server_context(shim), client_context(shim, verify=True))
    plain = connected_client(shim, server_context(shim))
    assert on_both_ports(shim, "ssl-peer-verified?", verifying.client) is True
    assert on_both_ports(shim, "ssl-peer-verified?", plain.client) is False
    for conn in (verifying, plain):
        assert on_both_ports(shim, "ssl-peer-certificate-hostnames", conn.client) == ["localhost"]


@pytest.mark.spec("S5.hostnames.7")
def test_peer_certificate_hostnames_refuses_what_is_not_an_ssl_port(shim):
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (listener, plain_in, client_context(shim), 5, None):
        expect_error("exn:fail:contract", shim, "ssl-peer-certificate-hostnames", value)


# -- subject and issuer names ------------------------------------------------------------


def client_with_certificate(shim, verify=True):
    ctx = client_context(shim, verify=verify)
    shim.call("ssl-load-certificate-chain!", ctx, cert("client.pem"))
    shim.call("ssl-load-private-key!", ctx, cert("client.key"), False)
    return ctx


@pytest.mark.spec("S5.subject.1")
def test_subject_and_issuer_of_a_verified_peer(shim):
    server = server_context(shim)
    shim.call("ssl-load-verify-source!", server, cert("root-ca.pem"))
    shim.call("ssl-set-verify!", server, True)
    conn = tcp_pair(shim, server, client_with_certificate(shim)).require()
    expected = {
        "client": (openssl_name(cert("server-loopback.pem")), b"/CN=localhost"),
        "server": (openssl_name(cert("client.pem")), b"/O=sslport/CN=sslport Test Client"),
    }
    issuers = {
        "client": (
            openssl_name(cert("server-loopback.pem"), "issuer"),
            b"/O=sslport/CN=sslport Test Intermediate CA",
        ),
        "server": (
            openssl_name(cert("client.pem"), "issuer"),
            b"/O=sslport/CN=sslport Test Root CA",
        ),
    }
    for side, end in (("client", conn.client), ("server", conn.server)):
        assert on_both_ports(shim, "ssl-peer-verified?", end) is True
        oracle, readme = expected[side]
        assert oracle == readme, "openssl prints %r, certs/README.md says %r" % (oracle, readme)
        assert on_both_ports(shim, "ssl-peer-subject-name", end) == oracle, side
        oracle, readme = issuers[side]
        assert oracle == readme, "openssl prints %r, certs/README.md says %r" % (oracle, readme)
        assert on_both_ports(shim, "ssl-peer-issuer-name", end) == oracle, side


def unverified_pair(shim, side):
    """A connection where `side`'s peer presented a certificate this end did not verify.

    The client side needs nothing but an 'auto client with no roots; the
    server side needs ssl-try-verify! and an untrusted client certificate.
    """
    if side == "client":
        return tcp_pair(shim, server_context(shim), client_context(shim, trust=None)).require()
    server = server_context(shim)
    shim.call("ssl-load-verify-source!", server, cert("root-ca.pem"))
    shim.call("ssl-try-verify!", server, True)
    client = client_context(shim, trust=None)
    shim.call("ssl-load-certificate-chain!", client, cert("client-untrusted.pem"))
    shim.call("ssl-load-private-key!", client, cert("client-untrusted.key"), False)
    return tcp_pair(shim, server, client).require()


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.spec("S5.subject.2", "D.subject.1")
def test_subject_and_issuer_of_an_unverified_peer_are_false(shim, side):
    conn = unverified_pair(shim, side)
    end = conn.client if side == "client" else conn.server
    assert on_both_ports(shim, "ssl-peer-verified?", end) is False
    assert on_both_ports(shim, "ssl-peer-certificate-hostnames", end) != [], "no peer certificate"
    assert on_both_ports(shim, "ssl-peer-subject-name", end) is False
    assert on_both_ports(shim, "ssl-peer-issuer-name", end) is False


@pytest.mark.spec("S5.subject.3")
def test_subject_and_issuer_without_peer_certificate_are_false(shim):
    server = server_context(shim)
    shim.call("ssl-load-verify-source!", server, cert("root-ca.pem"))
    shim.call("ssl-try-verify!", server, True)
    conn = tcp_pair(shim, server, client_context(shim)).require()
    assert on_both_ports(shim, "ssl-peer-subject-name", conn.server) is False
    assert on_both_ports(shim, "ssl-peer-issuer-name", conn.server) is False


@pytest.mark.parametrize("op", ["ssl-peer-subject-name", "ssl-peer-issuer-name"])
@pytest.mark.spec("S5.subject.4")
def test_subject_and_issuer_refuse_what_is_not_an_ssl_port(shim, op):
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (listener, plain_in, client_context(shim), 5, None):
        expect_error("exn:fail:contract", shim, op, value)


@pytest.mark.spec("S5.hostname.1")
def test_hostname_verification_with_a_python_server(shim):
    with PythonServer(cert("server-loopback-chain.pem"), cert("server-loopback.key")) as peer:
        end = shim_connect(shim, peer.port, hostname_checking_client(shim, verify=True))
        assert end.ok, end.error
        assert peer.record().ok, peer.record().describe()
