"""ALPN: what a client offers (S1.alpn, S3.alpn), what a server selects
(S4.alpn) and what ssl-get-alpn-selected reports (S5.alpn-selected).

The matrix runs both ways, on TLS 1.2 and 1.3, with the other end played by
the shim itself, Python's `ssl` and `openssl s_client`/`s_server`; the
peer's own report of the selected protocol must agree with the shim's.
What a client offers is read from the raw ClientHello.
"""

import json
import socket

import pytest

from harness import Symbol
from harness import peers
from harness.codec import decode
from harness.oracles import (
    LOOPBACK,
    HelloSniffer,
    PythonClient,
    PythonServer,
    close_end,
    on_both_ports,
    settle,
    shim_connect,
    shim_wrap,
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
    tcp_pair,
)

VERSIONS = ["tls12", "tls13"]
LONG = b"p" * 255
BAD_INPUTS = json.loads((ROOT / "fixtures" / "bad-inputs.json").read_text(encoding="utf-8"))

# (server's list, client's list, selected): None for a list means "does no ALPN".
MATRIX = {
    "server-preference": ([b"h2", b"http/1.1"], [b"http/1.1", b"h2"], b"h2"),
    "one-in-common": ([b"h2", b"spdy/3", b"http/1.1"], [b"x", b"http/1.1"], b"http/1.1"),
    "lengths-1-and-255": ([LONG, b"a"], [b"a", LONG], LONG),
    "no-overlap": ([b"h2"], [b"x", b"y"], None),
    "client-without-alpn": ([b"h2"], None, None),
    "server-without-alpn": (None, [b"h2"], None),
}
CASES = sorted(MATRIX)
PEERS = ["shim", "python", "openssl"]


def selected(shim, end):
    """ssl-get-alpn-selected on both ports of an end: a byte string, or None for #f."""
    answer = on_both_ports(shim, "ssl-get-alpn-selected", end)
    assert (
        answer is False or isinstance(answer, bytes) and answer
    ), "ssl-get-alpn-selected answered %r" % (answer,)
    return None if answer is False else answer


def alpn_server(shim, version, protocols, allow=True):
    server = server_context(shim, version)
    if protocols is not None:
        assert shim.call("ssl-set-server-alpn!", server, protocols, allow) is None
    return server


def openssl_selected(output):
    for line in output.splitlines():
        if line.startswith("ALPN protocol: "):
            return line[len("ALPN protocol: ") :].encode("latin-1")
    assert "No ALPN negotiated" in output, "s_client printed no ALPN line:\n" + output[-2000:]
    return None


def run_shim_server(shim, peer, version, server_list, client_list, allow=True):
    """The shim accepts a `peer` client offering `client_list`.

    Returns (the shim's server end, what it selected, what the peer saw: its
    selected protocol or an error text); the shim's answer is read before
    its ports close.
    """
    server = alpn_server(shim, version, server_list, allow)
    if peer == "shim":
        conn = tcp_pair(shim, server, client_context(shim, version), alpn=client_list or [])
        mine = selected(shim, conn.server) if conn.server.ok else None
        theirs = selected(shim, conn.client) if conn.client.ok else "error: %s" % conn.client.error
        close_connection(shim, conn)
        return conn.server, mine, theirs
    listener, port = listen(shim, server)
    accepting = shim.start_call("ssl-accept", listener)
    if peer == "python":
        client = PythonClient(port, alpn=client_list, version=version)
    else:
        client = peers.openssl_client(port, version=version, alpn=client_list)
    try:
        end = settle(accepting)
        mine = selected(shim, end) if end.ok else None
        close_end(shim, end)
        if peer == "python":
            record = client.finish()
            return end, mine, record.alpn if record.ok else "error: %s" % record.error
        client.close_input()
        client.wait()
        output = client.output()
    finally:
        if peer == "openssl":
            client.stop()
    return end, mine, openssl_selected(output) if end.ok else "error: " + output


def run_shim_client(shim, peer, version, server_list, client_list):
    """The shim connects to a `peer` server selecting from `server_list`.

    Returns (the shim's client end, what it reports as selected, the peer's
    selected protocol or an error text).
    """
    keywords = {"alpn": client_list} if client_list is not None else {}
    chain, key = cert("server-loopback-chain.pem"), cert("server-loopback.key")
    if peer == "python":
        with PythonServer(chain, key, alpn=server_list, version=version) as server:
            end = shim_connect(shim, server.port, client_context(shim, version), **keywords)
            mine = selected(shim, end) if end.ok else None
            record = server.record()
            close_end(shim, end)
        return end, mine, record.alpn if record.ok else "error: %s" % record.error
    with peers.openssl_server(version=version, alpn=server_list) as server:
        end = shim_connect(shim, server.port, client_context(shim, version), **keywords)
        if not end.ok:
            return end, None, "error: %s" % server.log()
        mine = selected(shim, end)
        match = server.wait_for(r"(ALPN protocols selected: (\S+)|CIPHER is)")
        close_end(shim, end)
    return end, mine, match.group(2) if match.group(2) else None


# -- the matrix ----------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.spec(
    "S4.alpn.1", "S4.alpn.2", "S4.alpn.4", "S4.alpn.7", "S5.alpn-selected.1", "S5.alpn-selected.2"
)
def test_shim_server_selects(shim, case, peer, version):
    server_list, client_list, expected = MATRIX[case]
    end, mine, peer_saw = run_shim_server(shim, peer, version, server_list, client_list)
    assert end.ok, end.error
    assert peer_saw == expected, "the %s client saw %r, wanted %r" % (peer, peer_saw, expected)
    assert mine == expected


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("peer", ["python", "openssl"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.spec("S1.alpn.3", "S1.alpn.4", "S1.alpn.5", "S5.alpn-selected.1", "S5.alpn-selected.2")
def test_shim_client_reports_the_server_selection(shim, case, peer, version):
    server_list, client_list, expected = MATRIX[case]
    if peer == "openssl" and case == "no-overlap":
        expected = "refused"
    end, mine, peer_saw = run_shim_client(shim, peer, version, server_list, client_list)
    if expected == "refused":
        assert not end.ok, "s_server refuses a client with no protocol in common"
        assert end.error.kind == "exn:fail:network", end.error
        return
    assert end.ok, end.error
    assert peer_saw == expected, "the %s server saw %r, wanted %r" % (peer, peer_saw, expected)
    assert mine == expected


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.spec("S4.alpn.3")
def test_shim_server_refuses_without_match(shim, peer, version):
    end, _, peer_saw = run_shim_server(shim, peer, version, [b"h2"], [b"x"], allow=False)
    assert not end.ok, "ssl-accept accepted a client with no protocol in common"
    assert end.error.kind == "exn:fail:network", end.error
    assert isinstance(peer_saw, str) and peer_saw.startswith("error"), peer_saw
    if peer == "shim":
        assert "exn:fail:network" in peer_saw, peer_saw
    else:
        # The no_application_protocol alert (RFC 7301 section 3.2), as each peer names it.
        assert "no application protocol" in peer_saw.lower(), peer_saw[-2000:]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.spec("S4.alpn.4")
def test_client_without_alpn_is_accepted_without_match_allowed(shim, version):
    end, mine, peer_saw = run_shim_server(shim, "shim", version, [b"h2"], None, allow=False)
    assert end.ok, end.error
    assert peer_saw is None
    assert mine is None


@pytest.mark.spec("S4.alpn.5", "S5.alpn-selected.2")
def test_empty_server_list_selects_nothing(shim):
    server = server_context(shim)
    assert shim.call("ssl-set-server-alpn!", server, []) is None
    conn = tcp_pair(shim, server, client_context(shim), alpn=[b"h2"]).require()
    assert selected(shim, conn.server) is None
    assert selected(shim, conn.client) is None


@pytest.mark.spec("S4.alpn.6")
def test_a_second_list_replaces_the_first(shim):
    server = alpn_server(shim, "auto", [b"h2"])
    shim.call("ssl-set-server-alpn!", server, [b"http/1.1"])
    conn = tcp_pair(shim, server, client_context(shim), alpn=[b"h2", b"http/1.1"]).require()
    assert selected(shim, conn.server) == b"http/1.1"
    assert selected(shim, conn.client) == b"http/1.1"


# -- what a client offers ------------------------------------------------------------------


@pytest.mark.spec("S1.alpn.1")
def test_ssl_connect_offers_the_list_in_order(shim):
    offered = [b"h2", LONG, b"a", b"http/1.1"]
    with HelloSniffer() as sniffer:
        shim_connect(shim, sniffer.port, "auto", alpn=offered)
        hello = sniffer.hello()
    assert hello.alpn == offered


@pytest.mark.spec("S1.alpn.1")
def test_openssl_server_sees_the_offered_list(shim):
    with peers.openssl_server(alpn=[b"zz", b"http/1.1"]) as server:
        end = shim_connect(shim, server.port, "auto", alpn=[b"h2", b"http/1.1"])
        assert end.ok, end.error
        server.wait_for("ALPN protocols advertised by the client: h2, http/1.1")
        assert selected(shim, end) == b"http/1.1"
        close_end(shim, end)


@pytest.mark.spec("S3.alpn.1")
def test_wrapper_offers_the_list_in_order(shim):
    offered = [b"spdy/3", b"h2"]
    with HelloSniffer() as sniffer:
        shim_wrap(shim, sniffer.port, client_context(shim), alpn=offered)
        hello = sniffer.hello()
    assert hello.alpn == offered
    server = alpn_server(shim, "auto", [b"h2"])
    conn = pipe_pair(shim, server, client_context(shim), alpn=offered).require()
    assert selected(shim, conn.client) == b"h2"
    assert selected(shim, conn.server) == b"h2"


@pytest.mark.parametrize("alpn", [None, []], ids=["omitted", "empty"])
@pytest.mark.spec("S1.alpn.2")
def test_no_alpn_offered_without_a_list(shim, alpn):
    keywords = {} if alpn is None else {"alpn": alpn}
    with HelloSniffer() as sniffer:
        shim_connect(shim, sniffer.port, "auto", **keywords)
        hello = sniffer.hello()
    assert 16 not in hello.extensions, "an ALPN extension was sent: %r" % (hello.alpn,)
    chain, key = cert("server-loopback-chain.pem"), cert("server-loopback.key")
    with PythonServer(chain, key, alpn=[b"h2"]) as server:
        end = shim_connect(shim, server.port, "auto", **keywords)
        assert end.ok, end.error
        assert selected(shim, end) is None
        assert server.record().alpn is None


@pytest.mark.spec("S3.alpn.2")
def test_wrapper_refuses_alpn_in_accept_mode(shim):
    wire_in, wire_out = shim.call("make-pipe")
    back_in, _ = shim.call("make-pipe")
    keywords = {"mode": Symbol("accept"), "context": server_context(shim), "alpn": [b"h2"]}
    expect_error("exn:fail", shim, "ports->ssl-ports", back_in, wire_out, kw=keywords)
    assert shim.call("byte-ready?", wire_in) is False, "bytes were written"


@pytest.mark.spec("S3.alpn.3")
def test_wrapper_allows_an_empty_list_in_accept_mode(shim):
    conn = pipe_pair(
        shim, server_context(shim), client_context(shim), server_keywords={"alpn": []}
    ).require()
    assert exchange(shim, conn.client.output, conn.server.input, b"ok") == b"ok"
    close_connection(shim, conn)


# -- contracts --------------------------------------------------------------------------

BAD_LISTS = BAD_INPUTS["alpn-list"]["refused"]


def decoded(value):
    """A bad-inputs.json value in the harness's Python form."""
    return decode(value)


@pytest.mark.spec("S1.alpn.6")
def test_ssl_connect_refuses_bad_lists(shim):
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    listener.listen(16)
    listener.setblocking(False)
    try:
        port = listener.getsockname()[1]
        for value in BAD_LISTS:
            expect_error(
                "exn:fail:contract", shim, "ssl-connect", "localhost", port, alpn=decoded(value)
            )
        with pytest.raises(BlockingIOError):
            listener.accept()
            pytest.fail("ssl-connect opened a connection before refusing its #:alpn")
    finally:
        listener.close()


@pytest.mark.parametrize("mode", ["connect", "accept"])
@pytest.mark.spec("S3.alpn.4")
def test_wrapper_refuses_bad_lists(shim, mode):
    context = client_context(shim) if mode == "connect" else server_context(shim)
    for value in BAD_LISTS:
        wire_in, wire_out = shim.call("make-pipe")
        back_in, _ = shim.call("make-pipe")
        keywords = {"mode": Symbol(mode), "context": context, "alpn": decoded(value)}
        expect_error("exn:fail:contract", shim, "ports->ssl-ports", back_in, wire_out, kw=keywords)
        assert shim.call("byte-ready?", wire_in) is False


@pytest.mark.spec("S4.alpn.8")
def test_server_alpn_refuses_bad_arguments(shim):
    server = server_context(shim)
    for value in BAD_LISTS:
        expect_error("exn:fail:contract", shim, "ssl-set-server-alpn!", server, decoded(value))
    for value in BAD_INPUTS["boolean"]["refused"]:
        expect_error(
            "exn:fail:contract", shim, "ssl-set-server-alpn!", server, [b"h2"], decoded(value)
        )
    listener, _ = listen(shim, server_context(shim))
    for value in (client_context(shim), listener, 5, "server", None):
        expect_error("exn:fail:contract", shim, "ssl-set-server-alpn!", value, [b"h2"])


@pytest.mark.spec("S5.alpn-selected.3")
def test_alpn_selected_refuses_what_is_not_an_ssl_port(shim):
    listener, _ = listen(shim, server_context(shim))
    plain_in, _ = shim.call("make-pipe")
    for value in (listener, plain_in, client_context(shim), 5, None):
        expect_error("exn:fail:contract", shim, "ssl-get-alpn-selected", value)
