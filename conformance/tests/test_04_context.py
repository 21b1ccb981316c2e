"""Section 4: context procedures apart from SNI, server ALPN and the keylogger
(those are test_04_sni.py, test_04_alpn.py and test_04_keylog.py).

Verify sources, the default sources parameter, the deprecated root loader,
cipher strings, sealing, certificate chains, private keys, suggested CAs and
the deprecated DHE/ECDHE procedures.  What a context does is observed at the
other end of a connection: a shim peer's verdict, the certificate a Python
client received, the cipher suite and version Python negotiated, the chain
and CA names `openssl s_client` prints.
"""

import json
import os
import re
import ssl

import pytest

from harness import Symbol, peers
from harness.codec import decode
from harness.oracles import (
    PythonClient,
    PythonServer,
    close_end,
    first_certificate,
    made_cert,
    on_both_ports,
    pem_certificates,
    settle,
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

BAD_INPUTS = json.loads((ROOT / "fixtures" / "bad-inputs.json").read_text(encoding="utf-8"))
MISSING_FILE = str(ROOT / "certs" / "no-such-file.pem")
MISSING_DIR = str(ROOT / "certs" / "no-such-directory")
RSA_SUITE_A = "ECDHE-RSA-AES128-GCM-SHA256"
RSA_SUITE_B = "ECDHE-RSA-AES256-GCM-SHA384"
RSA_SUITE_C = "ECDHE-RSA-CHACHA20-POLY1305"


def refused(shim, kind):
    """The values fixtures/bad-inputs.json lists for `kind`, placeholders made real."""
    values = []
    for value in BAD_INPUTS[kind]["refused"]:
        if isinstance(value, dict) and set(value) == {"context"}:
            maker = "ssl-make-%s-context" % value["context"]
            values.append(shim.call(maker, sym("auto")))
        else:
            values.append(decode(value))
    return values


def connects(shim, server, client):
    """Connect `client` to `server` (contexts); True if both ends succeeded."""
    conn = tcp_pair(shim, server, client)
    ok = conn.ok
    if ok:
        assert exchange(shim, conn.client.output, conn.server.input, b"ok") == b"ok"
    close_connection(shim, conn)
    return ok


def verifying_client(shim, protocol="auto"):
    return client_context(shim, protocol, trust=None, verify=True)


def untrusted_server(shim):
    pem, key = made_cert("untrusted-localhost")
    ctx = shim.call("ssl-make-server-context", sym("auto"))
    shim.call("ssl-load-certificate-chain!", ctx, pem)
    shim.call("ssl-load-private-key!", ctx, key, False)
    return ctx


def client_with(shim, chain, key, protocol="auto"):
    ctx = client_context(shim, protocol, trust=None)
    shim.call("ssl-load-certificate-chain!", ctx, cert(chain))
    shim.call("ssl-load-private-key!", ctx, cert(key), False)
    return ctx


def client_verifying_server(shim, loader="ssl-load-verify-source!"):
    server = server_context(shim)
    shim.call(loader, server, cert("root-ca.pem"))
    shim.call("ssl-set-verify!", server, True)
    return server


def python_sees(shim, server, **client_options):
    """Accept one Python client on `server`; its PeerRecord and the shim's end."""
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port, **client_options)
    end = settle(accepting)
    close_end(shim, end)
    return client.finish(), end


# -- ssl-load-verify-source! ----------------------------------------------------------


@pytest.mark.spec("S4.verify-source.1")
def test_pem_file_source_is_trusted(shim):
    client = verifying_client(shim)
    assert connects(shim, server_context(shim), client) is False, "trusted with nothing loaded"
    assert shim.call("ssl-load-verify-source!", client, cert("root-ca.pem")) is None
    assert connects(shim, server_context(shim), client) is True


@pytest.mark.spec("S4.verify-source.2")
def test_directory_source_is_trusted(shim):
    client = verifying_client(shim)
    source = [Symbol("directory"), str(ROOT / "certs" / "ca-dir")]
    assert shim.call("ssl-load-verify-source!", client, source) is None
    assert connects(shim, server_context(shim), client) is True


@pytest.mark.spec("S4.verify-source.3")
def test_sources_add_up(shim):
    client = verifying_client(shim)
    shim.call("ssl-load-verify-source!", client, cert("root-ca.pem"))
    assert connects(shim, untrusted_server(shim), client) is False
    shim.call("ssl-load-verify-source!", client, cert("untrusted-root.pem"))
    assert connects(shim, server_context(shim), client) is True
    assert connects(shim, untrusted_server(shim), client) is True


@pytest.mark.spec("S4.verify-source.4")
def test_server_checks_clients_against_its_sources(shim):
    server = client_verifying_server(shim)
    conn = tcp_pair(shim, server, client_with(shim, "client.pem", "client.key")).require()
    assert on_both_ports(shim, "ssl-peer-verified?", conn.server) is True
    close_connection(shim, conn)
    untrusted = client_with(shim, "client-untrusted.pem", "client-untrusted.key")
    assert connects(shim, server, untrusted) is False


@pytest.mark.spec("S4.verify-source.5")
def test_loading_roots_does_not_turn_verification_on(shim):
    client = client_context(shim, trust="root-ca.pem", verify=False)
    assert connects(shim, untrusted_server(shim), client) is True


SOURCE_FAILURES = {
    "missing-file": MISSING_FILE,
    "missing-directory": [Symbol("directory"), MISSING_DIR],
    "no-pem": str(ROOT / "certs" / "bad-no-pem.pem"),
    "win32-store": [Symbol("win32-store"), "ROOT"],
    "macosx-keychain": [Symbol("macosx-keychain"), False],
}


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(name, marks=pytest.mark.spec("D.verify-source.1"))
        if name == "missing-directory"
        else name
        for name in sorted(SOURCE_FAILURES)
    ],
)
@pytest.mark.spec("S4.verify-source.6")
def test_source_that_cannot_load_raises(shim, source):
    client = verifying_client(shim)
    expect_error("exn:fail", shim, "ssl-load-verify-source!", client, SOURCE_FAILURES[source])


@pytest.mark.spec("S4.verify-source.7")
def test_try_ignores_every_failure(shim):
    empty = verifying_client(shim)
    rooted = client_context(shim, verify=True)
    for ctx in (empty, rooted):
        for name in sorted(SOURCE_FAILURES):
            answer = shim.call("ssl-load-verify-source!", ctx, SOURCE_FAILURES[name], try_=True)
            assert answer is None, "%s: %r" % (name, answer)
    assert connects(shim, server_context(shim), empty) is False, "a failed load added a root"
    assert connects(shim, server_context(shim), rooted) is True, "a failed load lost a root"


@pytest.mark.spec("S4.verify-source.8")
def test_verify_source_refuses_bad_arguments(shim):
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (listener, plain_in, 5, None):
        expect_error(
            "exn:fail:contract", shim, "ssl-load-verify-source!", value, cert("root-ca.pem")
        )
    client = client_context(shim, trust=None)
    spec_cases = [[Symbol("directory")], [Symbol("dir"), "/p"], 42, b"certs/root-ca.pem"]
    for value in spec_cases + refused(shim, "verify-source"):
        expect_error("exn:fail:contract", shim, "ssl-load-verify-source!", client, value)


# -- ssl-default-verify-sources and ssl-load-default-verify-sources! -----------------


def is_source(value):
    if isinstance(value, str):
        return True
    return (
        isinstance(value, list)
        and len(value) == 2
        and value[0] in (Symbol("directory"), Symbol("win32-store"), Symbol("macosx-keychain"))
    )


@pytest.mark.spec("S4.default-sources.1")
def test_default_sources_read_and_set(shim):
    sources = shim.call("ssl-default-verify-sources")
    assert isinstance(sources, list) and all(is_source(s) for s in sources), sources
    chosen = [cert("root-ca.pem"), [Symbol("directory"), str(ROOT / "certs" / "ca-dir")]]
    assert shim.call("ssl-default-verify-sources", chosen) is None
    assert shim.call("ssl-default-verify-sources") == chosen
    assert shim.call("ssl-default-verify-sources", []) is None
    assert shim.call("ssl-default-verify-sources") == []


@pytest.mark.spec("S4.default-sources.2")
def test_default_sources_without_environment(shim_factory, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    shim = shim_factory(label="shim without SSL_CERT_FILE/SSL_CERT_DIR")
    sources = shim.call("ssl-default-verify-sources")
    assert len(sources) == 2, sources
    file_source, dir_source = sources
    assert isinstance(file_source, str), sources
    assert isinstance(dir_source, list) and dir_source[0] == Symbol("directory"), sources
    defaults = ssl.get_default_verify_paths()
    # OpenSSL's defaults, and Debian's names for them (symbolic links between them).
    for got, openssl_default, debian in (
        (file_source, defaults.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"),
        (dir_source[1], defaults.openssl_capath, "/etc/ssl/certs"),
    ):
        assert os.path.realpath(got) == os.path.realpath(openssl_default), sources
        assert os.path.realpath(got) == os.path.realpath(debian), sources


@pytest.mark.spec("S4.default-sources.3")
def test_default_sources_from_environment(shim_factory):
    env = {"SSL_CERT_FILE": "/some/file.pem", "SSL_CERT_DIR": "/dir/a:/dir/b"}
    shim = shim_factory(env=env, label="shim with SSL_CERT_FILE and SSL_CERT_DIR")
    assert shim.call("ssl-default-verify-sources") == [
        "/some/file.pem",
        [Symbol("directory"), "/dir/a"],
        [Symbol("directory"), "/dir/b"],
    ]


@pytest.mark.spec("S4.default-sources.4")
def test_default_sources_refuse_what_is_not_a_list_of_sources(shim):
    before = shim.call("ssl-default-verify-sources")
    values = [5, cert("root-ca.pem"), [5], [[Symbol("directory")]], [b"x"], Symbol("x"), True]
    for value in values:
        expect_error("exn:fail:contract", shim, "ssl-default-verify-sources", value)
    assert shim.call("ssl-default-verify-sources") == before


@pytest.mark.spec("S4.default-sources.5")
def test_load_default_sources_loads_the_parameter(shim):
    shim.call("ssl-default-verify-sources", [cert("root-ca.pem")])
    client = verifying_client(shim)
    assert shim.call("ssl-load-default-verify-sources!", client) is None
    assert connects(shim, server_context(shim), client) is True


@pytest.mark.spec("S4.default-sources.6")
def test_load_default_sources_ignores_failures(shim):
    sources = [MISSING_FILE, [Symbol("directory"), MISSING_DIR], cert("root-ca.pem")]
    shim.call("ssl-default-verify-sources", sources)
    client = verifying_client(shim)
    assert shim.call("ssl-load-default-verify-sources!", client) is None
    assert connects(shim, server_context(shim), client) is True


@pytest.mark.spec("S4.default-sources.7")
def test_load_default_sources_with_none(shim):
    shim.call("ssl-default-verify-sources", [])
    client = verifying_client(shim)
    assert shim.call("ssl-load-default-verify-sources!", client) is None
    assert connects(shim, server_context(shim), client) is False


# -- ssl-load-verify-root-certificates! -------------------------------------------------


@pytest.mark.spec("S4.roots.1")
def test_root_certificates_are_trusted(shim):
    client = verifying_client(shim)
    assert shim.call("ssl-load-verify-root-certificates!", client, cert("root-ca.pem")) is None
    assert connects(shim, server_context(shim), client) is True


@pytest.mark.spec("S4.roots.2")
def test_root_certificates_on_a_listener(shim):
    listener, port = listen(shim, server_context(shim))
    shim.call("ssl-set-verify!", listener, True)
    assert shim.call("ssl-load-verify-root-certificates!", listener, cert("root-ca.pem")) is None
    client = client_with(shim, "client.pem", "client.key")
    conn = tcp_pair(shim, None, client, listener=listener, port=port).require()
    assert on_both_ports(shim, "ssl-peer-verified?", conn.server) is True
    close_connection(shim, conn)


@pytest.mark.spec("S4.roots.3")
def test_root_certificates_missing_file(shim):
    expect_error(
        "exn:fail", shim, "ssl-load-verify-root-certificates!", client_context(shim), MISSING_FILE
    )


@pytest.mark.spec("S4.roots.4")
def test_root_certificates_refuse_bad_arguments(shim):
    conn = tcp_pair(shim, server_context(shim), client_context(shim)).require()
    for value in (conn.client.input, conn.client.output, "ctx", 5, None):
        expect_error(
            "exn:fail:contract",
            shim,
            "ssl-load-verify-root-certificates!",
            value,
            cert("root-ca.pem"),
        )
    close_connection(shim, conn)


# -- ssl-set-ciphers! ----------------------------------------------------------------------


@pytest.mark.spec("S4.ciphers.1")
def test_ciphers_without_a_common_suite_fail(shim):
    server = server_context(shim, "tls12", ciphers=RSA_SUITE_A)
    client = client_context(shim, "tls12", ciphers=RSA_SUITE_B)
    conn = tcp_pair(shim, server, client)
    assert not conn.client.ok and not conn.server.ok, "a handshake with no common suite"
    assert conn.client.error.kind == "exn:fail:network"
    assert conn.server.error.kind == "exn:fail:network"
    close_connection(shim, conn)
    both = client_context(shim, "tls12", ciphers=RSA_SUITE_B + ":" + RSA_SUITE_A)
    assert connects(shim, server, both) is True


@pytest.mark.parametrize("suite", [RSA_SUITE_A, RSA_SUITE_C])
@pytest.mark.spec("S4.ciphers.1")
def test_ciphers_negotiate_the_common_suite(shim, suite):
    server = server_context(shim, "tls12", ciphers="%s:%s" % (RSA_SUITE_B, suite))
    record, end = python_sees(shim, server, ciphers=suite + ":" + RSA_SUITE_C)
    assert end.ok, end.error
    assert record.cipher == suite, record.describe()
    chain, key = cert("server-loopback-chain.pem"), cert("server-loopback.key")
    with PythonServer(chain, key) as peer:
        end = shim_connect(shim, peer.port, client_context(shim, "tls12", ciphers=suite))
        assert end.ok, end.error
        assert peer.record().cipher == suite, peer.record().describe()
        close_end(shim, end)


@pytest.mark.parametrize("spec_string", ["", "NONE", "junk"])
@pytest.mark.spec("S4.ciphers.2")
def test_cipher_string_selecting_nothing_raises(shim, spec_string):
    for ctx in (client_context(shim), server_context(shim)):
        expect_error("exn:fail", shim, "ssl-set-ciphers!", ctx, spec_string)


@pytest.mark.spec("S4.ciphers.3")
def test_ciphers_do_not_govern_tls13(shim):
    server = server_context(shim, ciphers=RSA_SUITE_A)
    record, end = python_sees(shim, server)
    assert end.ok, end.error
    assert record.version == "tls13", record.describe()
    client = client_context(shim, ciphers=RSA_SUITE_A)
    conn = tcp_pair(shim, server, client).require()
    assert on_both_ports(shim, "ssl-protocol-version", conn.client) == Symbol("tls13")
    close_connection(shim, conn)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1 is deprecated:DeprecationWarning")
@pytest.mark.spec("S4.ciphers.4", "D.legacy-tls.1")
def test_security_level_zero_allows_tls10(shim):
    low = "DEFAULT:@SECLEVEL=0"
    assert connects(shim, server_context(shim, "tls"), client_context(shim, "tls")) is False
    conn = tcp_pair(
        shim, server_context(shim, "tls", ciphers=low), client_context(shim, "tls", ciphers=low)
    ).require()
    for end in (conn.client, conn.server):
        assert on_both_ports(shim, "ssl-protocol-version", end) == Symbol("tls")
    close_connection(shim, conn)
    chain, key = cert("server-loopback-chain.pem"), cert("server-loopback.key")
    with PythonServer(chain, key, ciphers=low, version=None) as peer:
        peer.context.minimum_version = ssl.TLSVersion.TLSv1
        end = shim_connect(shim, peer.port, client_context(shim, "tls", ciphers=low))
        assert end.ok, end.error
        assert peer.record().version == "TLSv1", peer.record().describe()
        close_end(shim, end)


@pytest.mark.spec("S4.ciphers.5")
def test_ciphers_refuse_bad_arguments(shim):
    listener, _ = listen(shim, server_context(shim))
    for value in (listener, 5, "ctx", None):
        expect_error("exn:fail:contract", shim, "ssl-set-ciphers!", value, "DEFAULT")
    ctx = client_context(shim)
    for value in refused(shim, "cipher-list"):
        expect_error("exn:fail:contract", shim, "ssl-set-ciphers!", ctx, value)


# -- sealing -------------------------------------------------------------------------------


def sealed(shim, ctx):
    assert shim.call("ssl-seal-context!", ctx) is None
    return ctx


@pytest.mark.spec("S4.seal.1")
def test_sealed_contexts_still_serve(shim):
    server = sealed(shim, server_context(shim))
    assert shim.call("ssl-seal-context!", server) is None, "sealing twice"
    client = sealed(shim, client_context(shim, verify=True))
    assert connects(shim, server, client) is True
    conn = pipe_pair(shim, server, client).require()
    assert exchange(shim, conn.client.output, conn.server.input, b"sealed") == b"sealed"
    close_connection(shim, conn)


def setter_calls(ctx, path_cert, path_key):
    """Each setter of S4.seal.2 and S4.seal.3 with valid arguments: (op, args, kw)."""
    return [
        ("ssl-set-verify!", [ctx, True], {}),
        ("ssl-set-verify!", [ctx, False], {}),
        ("ssl-try-verify!", [ctx, True], {}),
        ("ssl-set-verify-hostname!", [ctx, True], {}),
        ("ssl-set-ciphers!", [ctx, "DEFAULT"], {}),
        ("ssl-load-certificate-chain!", [ctx, path_cert], {}),
        ("ssl-load-private-key!", [ctx, path_key, False], {}),
        ("ssl-load-verify-source!", [ctx, cert("root-ca.pem")], {}),
        ("ssl-load-verify-source!", [ctx, cert("root-ca.pem")], {"try?": True}),
        ("ssl-load-verify-root-certificates!", [ctx, cert("root-ca.pem")], {}),
        ("ssl-load-suggested-certificate-authorities!", [ctx, cert("root-ca.pem")], {}),
    ]


@pytest.mark.parametrize("side", ["client", "server"])
@pytest.mark.spec("S4.seal.2", "S4.seal.3")
def test_sealed_context_refuses_every_setter(shim, side):
    ctx = client_context(shim) if side == "client" else server_context(shim)
    sealed(shim, ctx)
    for op, args, kw in setter_calls(ctx, cert("server-rsa.pem"), cert("server-rsa.key")):
        expect_error("exn:fail", shim, op, *args, kw=kw)


@pytest.mark.spec("S4.seal.4")
def test_sealed_server_context_refuses_alpn_and_name_callback(shim):
    server = sealed(shim, server_context(shim))
    expect_error("exn:fail", shim, "ssl-set-server-alpn!", server, [b"h2"])
    callback = shim.call("make-sni-callback", [])
    expect_error("exn:fail", shim, "ssl-set-server-name-identification-callback!", server, callback)


@pytest.mark.spec("S4.seal.6")
def test_sealed_context_refuses_default_sources(shim):
    ctx = sealed(shim, client_context(shim))
    shim.call("ssl-default-verify-sources", [cert("root-ca.pem")])
    expect_error("exn:fail", shim, "ssl-load-default-verify-sources!", ctx)


@pytest.mark.spec("S4.seal.7")
def test_refused_change_leaves_the_context_as_it_was(shim):
    client = sealed(shim, client_context(shim, verify=True))
    expect_error("exn:fail", shim, "ssl-set-verify!", client, False)
    expect_error("exn:fail", shim, "ssl-try-verify!", client, True)
    assert connects(shim, untrusted_server(shim), client) is False
    assert connects(shim, server_context(shim), client) is True


@pytest.mark.spec("S4.seal.8")
def test_listener_with_a_sealed_context_refuses_setters(shim):
    listener, port = listen(shim, sealed(shim, server_context(shim)))
    for op, args, kw in setter_calls(listener, cert("server-rsa.pem"), cert("server-rsa.key")):
        if op in ("ssl-set-verify-hostname!", "ssl-set-ciphers!", "ssl-load-verify-source!"):
            continue  # they take no listener
        expect_error("exn:fail", shim, op, *args, kw=kw)
    conn = tcp_pair(shim, None, client_context(shim), listener=listener, port=port).require()
    assert on_both_ports(shim, "ssl-peer-certificate-hostnames", conn.client) == ["localhost"]
    close_connection(shim, conn)


@pytest.mark.spec("S4.seal.9")
def test_seal_refuses_what_is_not_a_context(shim):
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (listener, plain_in, 5, "ctx", None, sym("auto")):
        expect_error("exn:fail:contract", shim, "ssl-seal-context!", value)


# -- ssl-load-certificate-chain! -------------------------------------------------------------


def chain_shown_to(shim, server):
    """The certificates s_client received from `server`, by subject, in the order sent."""
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    with peers.openssl_client(port, extra=["-showcerts"]) as client:
        client.wait_for(r"Verify return code: \d+")
        close_end(shim, settle(accepting))
        text = client.output()
    return [
        line.split("s:", 1)[1]
        for line in text.splitlines()
        if line.startswith(" ") and " s:" in line
    ]


@pytest.mark.spec("S4.chain.1")
def test_chain_sends_the_intermediate(shim):
    client = verifying_client(shim)
    shim.call("ssl-load-verify-source!", client, cert("root-ca.pem"))
    leaf_only = server_context(shim, chain="server-loopback.pem", key="server-loopback.key")
    assert connects(shim, leaf_only, client) is False, "verified without the intermediate"
    full = server_context(shim, chain="server-loopback-chain.pem", key="server-loopback.key")
    assert connects(shim, full, client) is True
    subjects = chain_shown_to(shim, full)
    assert len(subjects) == 2, subjects
    assert "Intermediate" in subjects[1], subjects


@pytest.mark.spec("S4.chain.2", "S4.key.10")
def test_chain_and_key_on_a_listener(shim):
    listener, port = listen(shim, sym("auto"))
    assert shim.call("ssl-load-certificate-chain!", listener, cert("server-rsa.pem")) is None
    assert shim.call("ssl-load-private-key!", listener, cert("server-rsa.key")) is None
    accepting = shim.start_call("ssl-accept", listener)
    client = PythonClient(port)
    end = settle(accepting)
    assert end.ok, end.error
    record = client.record()
    assert record.peer_cert == first_certificate(cert("server-rsa.pem")), record.describe()
    close_end(shim, end)
    client.finish()


@pytest.mark.spec("S4.chain.3")
def test_client_chain_is_presented(shim):
    server = client_verifying_server(shim)
    client = client_context(shim, trust=None)
    assert shim.call("ssl-load-certificate-chain!", client, cert("client.pem")) is None
    shim.call("ssl-load-private-key!", client, cert("client.key"), False)
    conn = tcp_pair(shim, server, client).require()
    assert on_both_ports(shim, "ssl-peer-verified?", conn.server) is True
    close_connection(shim, conn)


@pytest.mark.spec("S4.chain.4")
def test_a_second_chain_replaces_the_first(shim):
    server = server_context(shim, chain="server-loopback-chain.pem", key="server-loopback.key")
    shim.call("ssl-load-certificate-chain!", server, cert("server-rsa.pem"))
    shim.call("ssl-load-private-key!", server, cert("server-rsa.key"))
    record, end = python_sees(shim, server)
    assert end.ok, end.error
    assert record.peer_cert == first_certificate(cert("server-rsa.pem")), record.describe()
    subjects = chain_shown_to(shim, server)
    assert len(subjects) == 1 and "server-rsa" in subjects[0], subjects


@pytest.mark.parametrize("path", [MISSING_FILE, cert("bad-no-pem.pem"), cert("bad-empty.pem")])
@pytest.mark.spec("S4.chain.5")
def test_chain_that_cannot_load_raises(shim, path):
    expect_error("exn:fail", shim, "ssl-load-certificate-chain!", server_context(shim), path)


@pytest.mark.spec("S4.chain.6")
def test_chain_refuses_bad_arguments(shim):
    plain_in, _ = shim.call("make-pipe")
    for value in (plain_in, 5, "ctx", None):
        expect_error(
            "exn:fail:contract", shim, "ssl-load-certificate-chain!", value, cert("server-rsa.pem")
        )
    server = server_context(shim, chain=None, key=None)
    for value in refused(shim, "path"):
        expect_error("exn:fail:contract", shim, "ssl-load-certificate-chain!", server, value)


# -- ssl-load-private-key! --------------------------------------------------------------------


def keyed_server(shim, chain, key, *args):
    server = server_context(shim, chain=chain, key=None)
    assert shim.call("ssl-load-private-key!", server, key, *args) is None
    return server


def serves(shim, server, chain):
    """A Python client completes a handshake and receives `chain`'s certificate."""
    record, end = python_sees(shim, server)
    assert end.ok, end.error
    assert record.ok, record.describe()
    assert record.peer_cert == first_certificate(cert(chain)), record.describe()


@pytest.mark.spec("S4.key.1")
def test_key_from_a_pem_file(shim):
    server = keyed_server(shim, "server-rsa.pem", cert("server-rsa.key"))
    serves(shim, server, "server-rsa.pem")
    pkcs1 = keyed_server(shim, "server-rsa.pem", cert("server-rsa-pkcs1.key"))
    serves(shim, pkcs1, "server-rsa.pem")


@pytest.mark.spec("S4.key.2", "D.rsa-key.1")
def test_rsa_key_after_another_key(shim, tmp_path):
    both = tmp_path / "ec-then-rsa.key"
    with open(cert("server-ecdsa-p256.key")) as ec, open(cert("server-rsa.key")) as rsa:
        both.write_text(ec.read() + rsa.read())
    server = keyed_server(shim, "server-rsa.pem", str(both))
    serves(shim, server, "server-rsa.pem")
    default = keyed_server(shim, "server-rsa.pem", str(both), True)
    serves(shim, default, "server-rsa.pem")
    any_type = server_context(shim, chain="server-rsa.pem", key=None)
    expect_error("exn:fail", shim, "ssl-load-private-key!", any_type, str(both), False)


@pytest.mark.spec("S4.key.3", "D.rsa-key.1")
def test_no_rsa_key_raises(shim):
    server = server_context(shim, chain="server-ecdsa-p256.pem", key=None)
    expect_error("exn:fail", shim, "ssl-load-private-key!", server, cert("server-ecdsa-p256.key"))


@pytest.mark.parametrize("name", ["server-ecdsa-p256", "server-ecdsa-p384", "server-ed25519"])
@pytest.mark.spec("S4.key.4")
def test_any_key_type_without_rsa(shim, name):
    chain = name + ("-chain.pem" if name == "server-ed25519" else ".pem")
    server = keyed_server(shim, chain, cert(name + ".key"), False)
    serves(shim, server, chain)


@pytest.mark.parametrize(
    "key, rsa",
    [
        ("server-rsa-key.der", True),
        pytest.param("server-rsa-key-pkcs8.der", True, marks=pytest.mark.spec("D.der-key.1")),
        pytest.param("server-rsa-key-pkcs8.der", False, marks=pytest.mark.spec("D.der-key.1")),
    ],
)
@pytest.mark.spec("S4.key.5")
def test_der_key(shim, key, rsa):
    server = keyed_server(shim, "server-rsa.pem", cert(key), rsa, True)
    serves(shim, server, "server-rsa.pem")


@pytest.mark.parametrize(
    "chain, key, rsa",
    [
        ("server-rsa.pem", "server-rsa.key", True),
        ("server-rsa.pem", "server-rsa-pkcs1.key", True),
        ("server-ecdsa-p256.pem", "server-ecdsa-p256.key", False),
    ],
)
@pytest.mark.spec("S4.key.6")
def test_key_from_data(shim, chain, key, rsa):
    with open(cert(key), "rb") as f:
        data = f.read()
    server = keyed_server(shim, chain, [Symbol("data"), data], rsa)
    serves(shim, server, chain)


@pytest.mark.spec("S4.key.7")
def test_key_data_failures(shim):
    server = server_context(shim, chain="server-rsa.pem", key=None)
    with open(cert("server-rsa.key"), "rb") as f:
        pem = f.read()
    with open(cert("server-rsa-key.der"), "rb") as f:
        der = f.read()
    expect_error(
        "exn:fail", shim, "ssl-load-private-key!", server, [Symbol("data"), pem], True, True
    )
    expect_error(
        "exn:fail", shim, "ssl-load-private-key!", server, [Symbol("data"), der], True, True
    )
    for data in (b"", b"no key here", der):
        for rsa in (True, False):
            expect_error(
                "exn:fail", shim, "ssl-load-private-key!", server, [Symbol("data"), data], rsa
            )


@pytest.mark.spec("S4.key.8")
def test_missing_key_file_raises(shim):
    server = server_context(shim, chain="server-rsa.pem", key=None)
    for rsa in (True, False):
        expect_error("exn:fail", shim, "ssl-load-private-key!", server, MISSING_FILE, rsa)


@pytest.mark.spec("S4.key.9")
def test_key_not_matching_the_chain_raises(shim):
    server = server_context(shim, chain="server-dns.pem", key=None)
    expect_error(
        "exn:fail", shim, "ssl-load-private-key!", server, cert("bad-mismatched.key"), False
    )
    rsa_chain = server_context(shim, chain="server-rsa.pem", key=None)
    expect_error("exn:fail", shim, "ssl-load-private-key!", rsa_chain, cert("root-ca.key"))


@pytest.mark.spec("S4.key.11")
def test_key_refuses_bad_arguments(shim):
    plain_in, _ = shim.call("make-pipe")
    for value in (plain_in, 5, "ctx", None):
        expect_error(
            "exn:fail:contract", shim, "ssl-load-private-key!", value, cert("server-rsa.key")
        )
    server = server_context(shim, chain=None, key=None)
    spec_cases = [[Symbol("pem"), "/p"], [Symbol("data"), "text"], 5]
    for value in spec_cases + refused(shim, "private-key-source"):
        expect_error("exn:fail:contract", shim, "ssl-load-private-key!", server, value)


# -- ssl-load-suggested-certificate-authorities! ---------------------------------------------


def ca_names_shown(shim, server):
    """The CA names s_client is shown when `server` asks for its certificate.

    s_client prints each on a line after "Acceptable client certificate CA
    names", as "O = sslport, CN = ...", before the requested signature
    algorithms; the spaces around "=" are dropped here.
    """
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    with peers.openssl_client(port) as client:
        client.wait_for(r"(Acceptable client certificate CA names|No client certificate CA)")
        client.wait_for(r"Verify return code")
        close_end(shim, settle(accepting))
        lines = client.output().splitlines()
    header = "Acceptable client certificate CA names"
    if header not in lines:
        return []
    names = []
    for line in lines[lines.index(header) + 1 :]:
        if not line or line.startswith(("Requested Signature", "Client Certificate Types", "---")):
            break
        names.append(re.sub(r"\s*=\s*", "=", line))
    return names


def as_s_client_prints(subject):
    """A subject in certs/README.md's form, "/O=a/CN=b", as s_client prints it."""
    return ", ".join(subject.strip("/").split("/"))


@pytest.mark.spec("S4.suggested-ca.1")
def test_suggested_authorities_are_listed(shim, tmp_path):
    suggested = tmp_path / "suggested.pem"
    with open(cert("untrusted-root.pem")) as a, open(cert("root-ca.pem")) as b:
        suggested.write_text(a.read() + b.read())
    subjects = ["/O=sslport/CN=sslport Untrusted Root CA", "/O=sslport/CN=sslport Test Root CA"]
    assert len(pem_certificates(str(suggested))) == 2
    server = server_context(shim)
    shim.call("ssl-try-verify!", server, True)
    assert ca_names_shown(shim, server) == [], "CA names before any were suggested"
    shim.call("ssl-load-suggested-certificate-authorities!", server, str(suggested))
    assert ca_names_shown(shim, server) == [as_s_client_prints(s) for s in subjects]


@pytest.mark.spec("S4.suggested-ca.2")
def test_suggested_authority_is_not_trusted(shim):
    server = server_context(shim)
    shim.call("ssl-load-verify-source!", server, cert("root-ca.pem"))
    shim.call("ssl-load-suggested-certificate-authorities!", server, cert("untrusted-root.pem"))
    shim.call("ssl-set-verify!", server, True)
    untrusted = client_with(shim, "client-untrusted.pem", "client-untrusted.key")
    assert connects(shim, server, untrusted) is False
    assert connects(shim, server, client_with(shim, "client.pem", "client.key")) is True


@pytest.mark.spec("S4.suggested-ca.3")
def test_suggested_authorities_missing_file(shim):
    expect_error(
        "exn:fail",
        shim,
        "ssl-load-suggested-certificate-authorities!",
        server_context(shim),
        MISSING_FILE,
    )


@pytest.mark.spec("S4.suggested-ca.4")
def test_suggested_authorities_refuse_bad_arguments(shim):
    plain_in, _ = shim.call("make-pipe")
    for value in (plain_in, 5, "ctx", None):
        expect_error(
            "exn:fail:contract",
            shim,
            "ssl-load-suggested-certificate-authorities!",
            value,
            cert("root-ca.pem"),
        )


# -- DHE and ECDHE -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suite",
    [
        pytest.param("DHE-RSA-AES128-GCM-SHA256", marks=pytest.mark.spec("S4.dhe.1", "D.dhe.1")),
        pytest.param("ECDHE-RSA-AES128-GCM-SHA256", marks=pytest.mark.spec("S4.dhe.2")),
    ],
)
def test_ephemeral_key_exchange_works_by_default(shim, suite):
    server = server_context(shim, "tls12")
    record, end = python_sees(shim, server, ciphers=suite)
    assert end.ok, end.error
    assert record.cipher == suite, record.describe()
    client = client_context(shim, "tls12", ciphers=suite)
    assert connects(shim, server, client) is True


DHE_CALLS = [
    ("ssl-server-context-enable-dhe!", []),
    ("ssl-server-context-enable-dhe!", [MISSING_FILE]),
    ("ssl-server-context-enable-dhe!", [b"not DH parameters"]),
    ("ssl-server-context-enable-dhe!", [b""]),
    ("ssl-server-context-enable-ecdhe!", []),
    ("ssl-server-context-enable-ecdhe!", [Symbol("ignored")]),
    ("ssl-server-context-enable-ecdhe!", [Symbol("secp521r1")]),
    ("ssl-server-context-enable-ecdhe!", [Symbol("no-such-curve")]),
]


def warnings(shim):
    return [m for m in shim.call("log-messages") if m[0] == Symbol("warning")]


@pytest.mark.spec("S4.dhe.3", "S4.dhe.4", "D.dhe.1")
def test_deprecated_procedures_change_nothing_and_warn(shim):
    server = server_context(shim, "tls12")
    before = {}
    for suite in ("DHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "DEFAULT"):
        record, _ = python_sees(shim, server, ciphers=suite)
        before[suite] = record.cipher
    for op, args in DHE_CALLS:
        count = len(warnings(shim))
        assert shim.call(op, server, *args) is None, (op, args)
        assert len(warnings(shim)) > count, "%s %r logged no warning" % (op, args)
    for suite, cipher in sorted(before.items()):
        record, end = python_sees(shim, server, ciphers=suite)
        assert end.ok, end.error
        assert record.cipher == cipher, "with %s: %s, before the calls %s" % (
            suite,
            record.cipher,
            cipher,
        )


@pytest.mark.spec("S4.dhe.5", "D.dhe.1")
def test_dh4096_param_bytes_is_empty(shim):
    assert shim.value("ssl-dh4096-param-bytes") == b""


@pytest.mark.parametrize(
    "op", ["ssl-server-context-enable-dhe!", "ssl-server-context-enable-ecdhe!"]
)
@pytest.mark.spec("S4.dhe.6")
def test_deprecated_procedures_refuse_a_client_context(shim, op):
    listener, _ = listen(shim, server_context(shim))
    for value in [client_context(shim), listener] + refused(shim, "server-context"):
        expect_error("exn:fail:contract", shim, op, value)
