"""Helpers for tests that make TLS connections through a shim.

Everything here goes through documented bindings (and the protocol's base
ops), so it works on any implementation: contexts are made with
`ssl-make-*-context` and the loaders, listeners listen on a loopback port
the system picks, and both ends of a connection can live in one shim
because requests overlap.
"""

import pathlib
from dataclasses import dataclass, field

from .codec import Symbol
from .shim import ShimError

ROOT = pathlib.Path(__file__).resolve().parents[2]
CERTS = ROOT / "certs"
LOOPBACK = "127.0.0.1"
HANDSHAKE_TIMEOUT = 20.0


def cert(name):
    """The path of a file of the test PKI (certs/README.md lists them)."""
    path = CERTS / name
    if not path.exists():
        raise FileNotFoundError("no such file in certs/: %s" % name)
    return str(path)


def sym(name):
    return Symbol(name)


def server_context(
    shim,
    protocol="auto",
    chain="server-loopback-chain.pem",
    key="server-loopback.key",
    ciphers=None,
):
    """A server context serving `chain` with `key` (any key type)."""
    ctx = shim.call("ssl-make-server-context", sym(protocol))
    if ciphers is not None:
        shim.call("ssl-set-ciphers!", ctx, ciphers)
    if chain is not None:
        shim.call("ssl-load-certificate-chain!", ctx, cert(chain))
    if key is not None:
        shim.call("ssl-load-private-key!", ctx, cert(key), False)
    return ctx


def client_context(shim, protocol="auto", trust="root-ca.pem", verify=False, ciphers=None):
    """A client context that trusts `trust` (None: nothing) and verifies if asked."""
    ctx = shim.call("ssl-make-client-context", sym(protocol))
    if ciphers is not None:
        shim.call("ssl-set-ciphers!", ctx, ciphers)
    if trust is not None:
        shim.call("ssl-load-verify-source!", ctx, cert(trust))
    if verify:
        shim.call("ssl-set-verify!", ctx, True)
    return ctx


def listen(shim, server, host=LOOPBACK, backlog=5, reuse=True):
    """An SSL listener on a port the system picks; returns (listener, port)."""
    listener = shim.call("ssl-listen", 0, backlog, reuse, host, server)
    values = shim.call("ssl-addresses", listener, True)
    return listener, values[1]


@dataclass
class Outcome:
    """One end's result: its two ports, or the error it raised."""

    ports: tuple = None
    error: ShimError = None

    @property
    def ok(self):
        return self.error is None

    @property
    def input(self):
        self._require()
        return self.ports[0]

    @property
    def output(self):
        self._require()
        return self.ports[1]

    def _require(self):
        if self.error is not None:
            raise AssertionError("this end failed: %s: %s" % (self.error.kind, self.error.message))


@dataclass
class Connection:
    """Both ends of one connection made through a shim."""

    client: Outcome
    server: Outcome
    listener: object = None
    extra: dict = field(default_factory=dict)

    @property
    def ok(self):
        return self.client.ok and self.server.ok

    def require(self):
        self.client._require()
        self.server._require()
        return self


def _settle(future, timeout):
    try:
        return Outcome(ports=tuple(future.result(timeout)))
    except ShimError as error:
        return Outcome(error=error)


def _call_outcome(shim, op, *args, **keywords):
    try:
        return Outcome(ports=tuple(shim.call(op, *args, timeout=HANDSHAKE_TIMEOUT, **keywords)))
    except ShimError as error:
        return Outcome(error=error)


def tcp_pair(shim, server, client, hostname="localhost", alpn=None, listener=None, port=None):
    """Connect with ssl-connect to an ssl-accept in the same shim.

    `server` is a server context or protocol symbol name, `client` a client
    context or protocol symbol name.  Neither end raising is not assumed:
    look at `.client.error` / `.server.error`, or call `.require()`.
    """
    if listener is None:
        listener, port = listen(shim, sym(server) if isinstance(server, str) else server)
    accepting = shim.start_call("ssl-accept", listener)
    keywords = {} if alpn is None else {"alpn": list(alpn)}
    target = sym(client) if isinstance(client, str) else client
    client_end = _call_outcome(shim, "ssl-connect", hostname, port, target, **keywords)
    if not client_end.ok:
        # A refused client may leave the server waiting for bytes; closing
        # nothing here, the server end settles when the socket closes.
        pass
    server_end = _settle(accepting, HANDSHAKE_TIMEOUT)
    return Connection(client=client_end, server=server_end, listener=listener)


def pipe_pair(
    shim,
    server_ctx,
    client_ctx,
    hostname=None,
    limit=None,
    alpn=None,
    client_keywords=None,
    server_keywords=None,
):
    """Both ends wrapped with ports->ssl-ports over in-process pipes.

    `limit` bounds each pipe (bytes); None leaves them unbounded.
    """
    c2s_in, c2s_out = shim.call("make-pipe", limit if limit is not None else False)
    s2c_in, s2c_out = shim.call("make-pipe", limit if limit is not None else False)
    server_kw = {"mode": sym("accept"), "context": server_ctx}
    server_kw.update(server_keywords or {})
    accepting = shim.start_call("ports->ssl-ports", c2s_in, s2c_out, kw=_racket(server_kw))
    client_kw = {"mode": sym("connect"), "context": client_ctx}
    if hostname is not None:
        client_kw["hostname"] = hostname
    if alpn is not None:
        client_kw["alpn"] = list(alpn)
    client_kw.update(client_keywords or {})
    client_end = _call_outcome(shim, "ports->ssl-ports", s2c_in, c2s_out, kw=_racket(client_kw))
    if not client_end.ok:
        # Let the server see end-of-file rather than wait for the client.
        shim.call("close-output-port", c2s_out)
    server_end = _settle(accepting, HANDSHAKE_TIMEOUT)
    if not server_end.ok:
        shim.call("close-output-port", s2c_out)
    return Connection(
        client=client_end,
        server=server_end,
        extra={"pipes": (c2s_in, c2s_out, s2c_in, s2c_out)},
    )


def _racket(keywords):
    """Keyword names as the protocol spells them (hyphens, `?`)."""
    spelled = {}
    for name, value in keywords.items():
        spelled[name.replace("_", "-") if not name.endswith("?") else name] = value
    return spelled


def exchange(shim, writer_out, reader_in, data, timeout=HANDSHAKE_TIMEOUT):
    """Write `data` on one end (flushed) and read it whole on the other."""
    reading = shim.start_call("read-bytes", len(data), reader_in)
    shim.call("write-bytes", data, writer_out)
    shim.call("flush-output", writer_out)
    return reading.result(timeout)


def close_connection(shim, connection):
    """Close every port of both ends that opened (errors ignored)."""
    for end in (connection.client, connection.server):
        if end.ok:
            for op, port in (("close-output-port", end.output), ("close-input-port", end.input)):
                try:
                    shim.call(op, port)
                except ShimError:
                    pass
