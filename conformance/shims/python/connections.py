"""SSL ports over any pair of ports: ssl-connect, ssl-accept, ports->ssl-ports (sections 1-3, 5).

Every connection is an ssl.SSLObject between two memory BIOs, whatever carries
it (a TCP socket, pipes, other SSL ports).  Two pump threads move bytes: one
reads the underlying input port into the incoming BIO and, once the handshake
is done, decrypts what it can into a buffer of plain bytes; the other writes
what the SSLObject produced to the underlying output port.  The SSLObject is
only touched under the connection's lock, and the lock is never held across a
read or a write of an underlying port, so one thread may read while another
writes (the full-duplex extension), even over pipes that hold one byte.
"""

import collections
import hashlib
import ssl
import threading

import der
import hostcheck
from contexts import (
    RAISE_FAIL,
    RAISE_NETWORK,
    Context,
    ErrorProcedure,
    NameCallback,
    SslListener,
    context_from,
    context_or_listener,
    describe,
    want_alpn,
    want_protocol,
)
from core import (
    CHUNK,
    EOF,
    NotProvided,
    RacketError,
    Symbol,
    Values,
    break_event,
    changed,
    contract_error,
    fail,
    is_symbol,
    network_error,
    op,
    truthy,
    want_count,
    want_string,
)
from ports import (
    POLL,
    InputPort,
    OutputPort,
    TcpInputPort,
    TcpListener,
    TcpStream,
    address_values,
    connect_socket,
    listen_socket,
    want_input_port,
    want_output_port,
    want_port_number,
)

VERSION_NAMES = {
    "TLSv1.3": "tls13",
    "TLSv1.2": "tls12",
    "TLSv1.1": "tls11",
    "TLSv1": "tls",
    "SSLv3": "sslv3",
}
BREAK = object()


class TlsConnection:
    """One end of a TLS connection over an underlying input and output port."""

    def __init__(
        self,
        context,
        server_side,
        under_in,
        under_out,
        hostname=False,
        alpn=(),
        close_original=False,
        shutdown_on_close=False,
        error=RAISE_FAIL,
    ):
        self.context = context
        self.server_side = server_side
        self.under_in = under_in
        self.under_out = under_out
        self.hostname = hostname
        self.close_original = close_original
        self.shutdown_on_close = shutdown_on_close
        self.error = error
        self.verify_hostname = context.verify_hostname and not server_side
        self.verify_mode = context.ssl.verify_mode
        self.cond = threading.Condition()
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.sslobj = context.wrap(self.incoming, self.outgoing, server_side, hostname, alpn)
        self.plain = bytearray()
        self.eof = False
        self.read_failure = None
        self.write_failure = None
        self.queue = collections.deque()
        self.queued = 0
        self.sent = 0
        self.progress = 0
        self.under_done = False
        self.under_failure = None
        self.handshaken = False
        self.stopping = False
        self.writer_stopping = False
        self.finished = False
        self.served_by = context
        self.version = None
        self.alpn = None
        self.peer = None
        self.own = None
        self.verified = False
        self._peer_certificate = None
        self.input = SslInputPort(self)
        self.output = SslOutputPort(self)
        self.pull_lock = threading.Lock()
        self.writer = threading.Thread(target=self._pump_out, daemon=True)

    # -- moving bytes --

    def start(self):
        self.writer.start()

    def _pull(self, who, abort, block=True):
        """Move what the underlying input port has into the incoming BIO, once.

        Whoever needs bytes from the peer pulls: a reader, the handshake, a
        readiness check (block=False: only what is there already).  One
        thread pulls at a time, without the connection's lock; the others
        wait for its progress.
        """
        if not self.pull_lock.acquire(blocking=False):
            if block:
                with self.cond:
                    seen = self.progress
                    if self.progress == seen and not abort():
                        self.cond.wait(POLL)
            return
        try:
            if self.under_done or abort():
                return
            if not block and not self.under_in.ready():
                return
            try:
                data = self.under_in.read_avail(CHUNK, who, abort)
            except RacketError as e:
                data = e
            except Exception as e:  # the underlying port broke in a way of its own
                data = RacketError("exn:fail", str(e))
            if data is None:
                return
            with self.cond:
                if isinstance(data, RacketError):
                    self.under_failure = data.message
                    self.under_done = True
                elif data is EOF:
                    self.incoming.write_eof()
                    self.under_done = True
                else:
                    self.incoming.write(data)
                self.progress += 1
                if self.handshaken:
                    self._decrypt()
                self.cond.notify_all()
        finally:
            self.pull_lock.release()
        changed()

    def _pump_out(self):
        while True:
            with self.cond:
                while not self.queue and not self.writer_stopping:
                    self.cond.wait()
                if not self.queue:
                    return
                data = self.queue.popleft()
            failure = None
            try:
                self.under_out.write(data, "ssl-pump")
            except RacketError as e:
                failure = e.message
            except Exception as e:
                failure = str(e)
            with self.cond:
                if failure is None:
                    self.sent += len(data)
                else:
                    self.write_failure = failure
                    self.queue.clear()
                self.cond.notify_all()
            changed()
            if failure is not None:
                return

    def _collect(self):
        """Queue what the SSLObject wrote for the writer pump (lock held)."""
        data = self.outgoing.read()
        if data and self.write_failure is None:
            self.queue.append(data)
            self.queued += len(data)
            self.cond.notify_all()

    def _decrypt(self):
        """Decrypt what has arrived into the plain buffer (lock held)."""
        while not self.eof and self.read_failure is None:
            try:
                data = self.sslobj.read(CHUNK)
            except ssl.SSLWantReadError:
                break
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                self.eof = True
                break
            except ssl.SSLError as e:
                self.read_failure = "read failed (%s)" % describe(e)
                break
            if not data:
                self.eof = True
                break
            self.plain += data
        self._collect()
        if self.under_failure is not None and not self.eof and self.read_failure is None:
            self.read_failure = self.under_failure

    # -- the handshake --

    def handshake(self, who, breaker=None):
        """Complete the handshake, or abort the connection and raise."""

        def stop():
            return self.stopping or (breaker is not None and breaker.is_set())

        while True:
            failure, done = None, False
            if breaker is not None and breaker.is_set():
                failure = BREAK
            else:
                with self.cond:
                    failure, done = self._step()
                    if done:
                        self._completed()
            self.served_by.drain_keylog()
            if self.served_by is not self.context:
                self.context.drain_keylog()
            if failure is BREAK:
                self.abort()
                raise RacketError("exn:break", "%s: user break" % who)
            if failure is not None:
                self.abort()
                action = "accept" if self.server_side else "connect"
                self.error.fail(who, "%s failed (%s)" % (action, failure))
            if done:
                changed()
                return
            self._pull(who, stop)

    def _step(self):
        """One step of the handshake (lock held): (failure text or None, done)."""
        done = False
        try:
            self.sslobj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            pass
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            self._collect()
            return "the connection closed during the handshake", False
        except ssl.SSLError as e:
            self._collect()
            return describe(e), False
        problem = self._check_peer(done)
        if problem is not None:
            self.outgoing.read()  # the peer never sees this end's next flight
            return problem, False
        self._collect()
        if not done and self.under_failure is not None:
            return self.under_failure, False
        return None, done

    def _check_peer(self, done):
        """Hostname verification, once the handshake is done at this end.

        Python's ssl module shows the peer's certificate only then; what this
        end wrote last (on TLS 1.3 its Finished) has not been sent yet, and a
        rejected peer never gets it.
        """
        if not self.verify_hostname or not done:
            return None
        peer = self.sslobj.getpeercert(binary_form=True)
        if peer is None:
            return "the server presented no certificate"
        try:
            ok = hostcheck.matches(der.Certificate(peer), self.hostname)
        except der.DerError:
            ok = False
        if not ok:
            return "the certificate does not name the host %r" % (self.hostname,)
        return None

    def _completed(self):
        """Note what the handshake settled (lock held)."""
        self.handshaken = True
        self.version = VERSION_NAMES.get(self.sslobj.version())
        alpn = self.sslobj.selected_alpn_protocol()
        self.alpn = alpn.encode("utf-8") if alpn is not None else False
        self.peer = self.sslobj.getpeercert(binary_form=True)
        self.verified = self.peer is not None and self.verify_mode != ssl.CERT_NONE
        serving = getattr(self.sslobj.context, "sslport_context", None)
        if isinstance(serving, Context):
            self.served_by = serving
        if self.server_side:
            self.own = self.served_by.own_certificate()
        self._decrypt()

    def abort(self):
        """End a connection whose handshake failed: let an alert out, then stop."""
        with self.cond:
            self.input.closed = True
            self.output.closed = True
            self.cond.wait_for(lambda: self.sent >= self.queued or self.write_failure, 2.0)
        self._finish()

    # -- reading --

    def read_avail(self, n, who, abort=None):
        def stop():
            return self.input.closed or self.stopping or (abort is not None and abort())

        while True:
            failure = None
            with self.cond:
                if self.input.closed:
                    raise fail(who, "input port is closed")
                if abort is not None and abort():
                    return None
                if self.plain:
                    data = bytes(self.plain[:n])
                    del self.plain[:n]
                    return data
                if self.read_failure is not None:
                    failure = self.read_failure
                elif self.eof or self.under_done:
                    return EOF
            if failure is not None:
                self.error.fail(who, failure)
            self._pull(who, stop)

    def _settled(self):
        return self.input.closed or bool(self.plain) or self.eof or self.read_failure is not None

    def input_ready(self):
        with self.cond:
            if self._settled():
                return True
        self._pull("sync/timeout", lambda: self.input.closed or self.stopping, block=False)
        with self.cond:
            return self._settled()

    def wake(self):
        with self.cond:
            self.cond.notify_all()

    def close_input(self):
        with self.cond:
            if self.input.closed:
                return
            self.input.closed = True
            self.plain.clear()
            self.cond.notify_all()
        self.under_in.wake()
        changed()
        self._maybe_finish()

    # -- writing --

    def write(self, data, who):
        failure = None
        with self.cond:
            if self.output.closed:
                raise fail(who, "output port is closed")
            failure = self.write_failure
            if failure is None:
                try:
                    view = memoryview(data)
                    while view:
                        view = view[self.sslobj.write(view) :]
                except ssl.SSLError as e:
                    failure = "write failed (%s)" % describe(e)
                self._collect()
        if failure is not None:
            self.error.fail(who, failure)

    def _drain(self, target):
        """Wait until the writer pump has sent `target` bytes; a failure or None (lock held)."""
        while self.sent < target and self.write_failure is None:
            self.cond.wait()
        return self.write_failure if self.sent < target else None

    def flush(self, who):
        with self.cond:
            if self.output.closed:
                raise fail(who, "output port is closed")
            failure = self._drain(self.queued)
        if failure is None:
            try:
                self.under_out.flush(who)
            except RacketError as e:
                failure = e.message
        if failure is not None:
            self.error.fail(who, failure)

    def close_output(self, who, shutdown):
        """Close the SSL output port; with `shutdown`, send close_notify first."""
        failure = None
        with self.cond:
            if self.output.closed:
                return
            self.output.closed = True
            shutdown = shutdown and self.handshaken
            if shutdown and self.write_failure is None:
                try:
                    self.sslobj.unwrap()
                except ssl.SSLWantReadError:
                    pass  # close_notify is out; the peer's is not awaited
                except ssl.SSLError as e:
                    failure = "shutdown failed (%s)" % describe(e)
                self._collect()
            drained = self._drain(self.queued)
            if shutdown and failure is None and drained is not None:
                failure = "shutdown failed (%s)" % drained
        if shutdown and failure is None:
            try:
                self.under_out.flush(who)
            except RacketError as e:
                failure = "shutdown failed (%s)" % e.message
        changed()
        self._maybe_finish()
        if failure is not None:
            self.error.fail(who, failure)

    # -- the end --

    def _maybe_finish(self):
        with self.cond:
            if not (self.input.closed and self.output.closed):
                return
        self._finish()

    def _finish(self):
        with self.cond:
            if self.finished:
                return
            self.finished = True
            self.stopping = True
            self.writer_stopping = True
            self.cond.notify_all()
        self.under_in.wake()
        if self.close_original:
            for port in (self.under_out, self.under_in):
                try:
                    port.close()
                except RacketError:
                    pass
        changed()

    def exit_now(self):
        """At exit: close without shutdown and without waiting for anything."""
        with self.cond:
            self.input.closed = True
            self.output.closed = True
            self.finished = True
            self.stopping = True
            self.writer_stopping = True
            self.queue.clear()
            self.cond.notify_all()
        if self.close_original:
            for port in (self.under_out, self.under_in):
                exit_port = getattr(port, "shutdown_for_exit", None)
                try:
                    exit_port()
                except Exception:
                    pass

    # -- what the connection knows --

    def peer_certificate(self):
        if self.peer is None:
            return None
        if self._peer_certificate is None:
            try:
                self._peer_certificate = der.Certificate(self.peer)
            except der.DerError:
                return None
        return self._peer_certificate

    def tcp_stream(self, who):
        port = self.under_in
        if isinstance(port, TcpInputPort):
            return port.stream
        if isinstance(port, SslInputPort):
            return port.conn.tcp_stream(who)
        raise fail(who, "the connection is not over TCP ports")


class SslInputPort(InputPort):
    buffer_modes = ("none", "block")

    def __init__(self, conn):
        self.conn = conn
        self.buffer_mode = "block"

    def read_avail(self, n, who, abort=None):
        return self.conn.read_avail(n, who, abort)

    def ready(self):
        return self.conn.input_ready()

    def wake(self):
        self.conn.wake()

    def close(self):
        self.conn.close_input()

    def shutdown_for_exit(self):
        self.conn.exit_now()


class SslOutputPort(OutputPort):
    buffer_modes = ("none", "line", "block")

    def __init__(self, conn):
        self.conn = conn
        self.buffer_mode = "block"

    def write(self, data, who):
        self.conn.write(data, who)

    def flush(self, who):
        self.conn.flush(who)

    def close_reporting(self, who):
        self.conn.close_output(who, self.conn.shutdown_on_close)

    def close(self):
        try:
            self.close_reporting("close-output-port")
        except RacketError:
            pass

    def abandon(self, who):
        self.conn.close_output(who, False)

    def shutdown_for_exit(self):
        self.conn.exit_now()


SSL_PORTS = (SslInputPort, SslOutputPort)


def want_ssl_port(who, value, position=None):
    if not isinstance(value, SSL_PORTS):
        raise contract_error(who, "ssl-port?", value, position)
    return value.conn


# -- ssl-connect --------------------------------------------------------------------------


def client_target(who, target, position):
    """Check the client-protocol argument (a client context or a protocol symbol)."""
    if isinstance(target, Context):
        if target.server:
            raise contract_error(
                who, "(or/c ssl-client-context? ssl-protocol-symbol/c)", target, position
            )
        return target
    return want_protocol(who, target, position)


def connect(who, args, kw, enable_break):
    hostname = want_string(who, args[0], 1)
    port = want_port_number(who, args[1], 1, 2)
    target = client_target(who, args[2] if len(args) > 2 else Symbol("auto"), 3)
    alpn = want_alpn(who, kw.get("alpn", []))
    context = target if isinstance(target, Context) else context_from(who, False, target)
    breaker = break_event() if enable_break else None
    stream = TcpStream(connect_socket(who, hostname, port, breaker))
    conn = TlsConnection(
        context,
        False,
        stream.input,
        stream.output,
        hostname=hostname,
        alpn=alpn,
        close_original=True,
        error=RAISE_NETWORK,
    )
    conn.start()
    conn.handshake(who, breaker)
    return Values(conn.input, conn.output)


@op("ssl-connect", 2, 3, keywords=("alpn",))
def op_ssl_connect(who, args, kw):
    return connect(who, args, kw, False)


@op("ssl-connect/enable-break", 2, 3, keywords=("alpn",))
def op_ssl_connect_enable_break(who, args, kw):
    return connect(who, args, kw, True)


# -- listeners and ssl-accept -----------------------------------------------------------


@op("ssl-listen", 1, 5)
def op_ssl_listen(who, port, backlog=5, reuse=False, hostname=False, protocol=Symbol("auto")):
    want_port_number(who, port, 0, 1)
    want_count(who, backlog, 2)
    if hostname is not False:
        want_string(who, hostname, 4)
    if isinstance(protocol, Context):
        if not protocol.server:
            raise contract_error(
                who, "(or/c ssl-server-context? ssl-protocol-symbol/c)", protocol, 5
            )
        context = protocol
    else:
        context = context_from(who, True, want_protocol(who, protocol, 5))
    return SslListener(
        TcpListener(listen_socket(who, port, backlog, truthy(reuse), hostname)), context
    )


def want_listener(who, value):
    if not isinstance(value, SslListener):
        raise contract_error(who, "ssl-listener?", value)
    return value


@op("ssl-close", 1)
def op_ssl_close(who, listener):
    want_listener(who, listener).tcp.close(who)


@op("ssl-listener?", 1)
def op_is_listener(who, thing):
    return isinstance(thing, SslListener)


def accept(who, listener, enable_break):
    listener = want_listener(who, listener)
    breaker = break_event() if enable_break else None
    stream = TcpStream(listener.tcp.accept(who, breaker))
    context = listener.context
    if context.verify_hostname:
        stream.output.close()
        stream.input.close()
        raise network_error(
            who, "accept failed (hostname verification is on, but a client has no hostname)"
        )
    conn = TlsConnection(
        context, True, stream.input, stream.output, close_original=True, error=RAISE_NETWORK
    )
    conn.start()
    conn.handshake(who, breaker)
    return Values(conn.input, conn.output)


@op("ssl-accept", 1)
def op_ssl_accept(who, listener):
    return accept(who, listener, False)


@op("ssl-accept/enable-break", 1)
def op_ssl_accept_enable_break(who, listener):
    return accept(who, listener, True)


@op("ssl-abandon-port", 1)
def op_ssl_abandon_port(who, port):
    want_ssl_port(who, port)
    if isinstance(port, SslOutputPort):
        port.abandon(who)
    else:
        port.close()


@op("ssl-addresses", 1, 2)
def op_ssl_addresses(who, thing, numbers=False):
    if isinstance(thing, SslListener):
        local, remote = thing.tcp.addresses(who)
    elif isinstance(thing, SSL_PORTS):
        local, remote = thing.conn.tcp_stream(who).addresses(who)
    else:
        raise contract_error(who, "(or/c ssl-port? ssl-listener?)", thing)
    return address_values(local, remote, numbers)


@op("ssl-port?", 1)
def op_is_ssl_port(who, thing):
    return isinstance(thing, SSL_PORTS)


# -- ports->ssl-ports ---------------------------------------------------------------------

WRAP_KEYWORDS = (
    "mode",
    "context",
    "encrypt",
    "close-original?",
    "shutdown-on-close?",
    "error/ssl",
    "hostname",
    "alpn",
)


@op("ports->ssl-ports", 2, 2, keywords=WRAP_KEYWORDS)
def op_ports_to_ssl_ports(who, args, kw):
    under_in = want_input_port(who, args[0], 1)
    under_out = want_output_port(who, args[1], 2)
    mode = kw.get("mode", Symbol("accept"))
    if not is_symbol(mode, "connect", "accept"):
        raise contract_error(who, "(or/c 'connect 'accept)", mode)
    context = kw.get("context", None)
    if context is not None and not isinstance(context, Context):
        raise contract_error(who, "(or/c ssl-client-context? ssl-server-context?)", context)
    encrypt = want_protocol(who, kw.get("encrypt", Symbol("auto")))
    error = kw.get("error/ssl", RAISE_FAIL)
    if error is not RAISE_FAIL and not isinstance(error, (ErrorProcedure, NameCallback)):
        raise contract_error(who, "procedure?", error)
    hostname = kw.get("hostname", False)
    if hostname is not False and not isinstance(hostname, str):
        raise contract_error(who, "(or/c string? #f)", hostname)
    alpn = want_alpn(who, kw.get("alpn", []))
    server = mode.name == "accept"
    if context is None:
        context = context_from(who, server, encrypt)
    elif context.server != server:
        raise fail(
            who,
            "%s mode requires a %s context" % (mode.name, "server" if server else "client"),
        )
    if server and alpn:
        raise fail(who, "#:alpn is not allowed in accept mode; use ssl-set-server-alpn!")
    if context.verify_hostname and (server or hostname is False):
        error.fail(who, "hostname verification is on, but there is no hostname to verify")
    conn = TlsConnection(
        context,
        server,
        under_in,
        under_out,
        hostname=hostname,
        alpn=alpn,
        close_original=truthy(kw.get("close-original?", False)),
        shutdown_on_close=truthy(kw.get("shutdown-on-close?", False)),
        error=error,
    )
    conn.start()
    conn.handshake(who)
    return Values(conn.input, conn.output)


# -- verification and what a connection knows (section 5) ---------------------------------


def set_verify(who, target, on, mode):
    if isinstance(target, SSL_PORTS):
        # No renegotiation (Python's ssl module has none; TLS 1.3 has none):
        # the certificate the handshake brought decides (D.port-verify.1).
        conn = target.conn
        if truthy(on) and mode == "set" and not conn.verified:
            raise fail(
                who,
                "the peer's certificate was not verified, and the connection "
                "cannot be renegotiated",
            )
        return None
    try:
        context = context_or_listener(who, target, 1)
    except RacketError:
        raise contract_error(
            who,
            "(or/c ssl-client-context? ssl-server-context? ssl-listener? ssl-port?)",
            target,
            1,
        ) from None
    with context.lock:
        context.check_unsealed(who)
        context.set_verify(mode if truthy(on) else "none")
    return None


@op("ssl-set-verify!", 2)
def op_set_verify(who, target, on):
    return set_verify(who, target, on, "set")


@op("ssl-try-verify!", 2)
def op_try_verify(who, target, on):
    return set_verify(who, target, on, "try")


@op("ssl-peer-verified?", 1)
def op_peer_verified(who, port):
    return want_ssl_port(who, port).verified


@op("ssl-peer-certificate-hostnames", 1)
def op_peer_certificate_hostnames(who, port):
    certificate = want_ssl_port(who, port).peer_certificate()
    return hostcheck.hostnames(certificate) if certificate is not None else []


@op("ssl-peer-check-hostname", 2)
def op_peer_check_hostname(who, port, hostname):
    conn = want_ssl_port(who, port, 1)
    want_string(who, hostname, 2)
    certificate = conn.peer_certificate()
    return certificate is not None and hostcheck.matches(certificate, hostname)


def peer_name(who, port, which):
    conn = want_ssl_port(who, port)
    certificate = conn.peer_certificate()
    if not conn.verified or certificate is None:
        return False
    return der.oneline(getattr(certificate, which))


@op("ssl-peer-subject-name", 1)
def op_peer_subject_name(who, port):
    return peer_name(who, port, "subject")


@op("ssl-peer-issuer-name", 1)
def op_peer_issuer_name(who, port):
    return peer_name(who, port, "issuer")


@op("ssl-get-alpn-selected", 1)
def op_get_alpn_selected(who, port):
    conn = want_ssl_port(who, port)
    return conn.alpn if conn.alpn else False


@op("ssl-protocol-version", 1)
def op_protocol_version(who, port):
    conn = want_ssl_port(who, port)
    return Symbol(conn.version) if conn.version else False


BINDING_TYPES = ("tls-exporter", "tls-unique", "tls-server-end-point")


def channel_binding(who, conn, kind):
    if conn.finished or not conn.handshaken:
        raise fail(who, "the connection is closed")
    if kind == "tls-exporter":
        raise NotProvided("%s 'tls-exporter (Python's ssl module exports no keying material)" % who)
    if kind == "tls-unique":
        if conn.version == "tls13":
            raise fail(who, "'tls-unique is not defined for TLS 1.3")
        with conn.cond:
            value = conn.sslobj.get_channel_binding("tls-unique")
        if value is None:
            raise fail(who, "no 'tls-unique value for this connection")
        return value
    certificate = conn.own if conn.server_side else conn.peer
    if certificate is None:
        raise fail(who, "no server certificate")
    try:
        name = der.end_point_hash(der.Certificate(certificate))
    except der.DerError:
        name = None
    if name is None:
        raise fail(who, "the certificate's signature algorithm names no single hash function")
    return hashlib.new(name, certificate).digest()


@op("ssl-channel-binding", 2)
def op_channel_binding(who, port, kind):
    conn = want_ssl_port(who, port, 1)
    if not is_symbol(kind, *BINDING_TYPES):
        raise contract_error(who, "(or/c 'tls-exporter 'tls-unique 'tls-server-end-point)", kind, 2)
    return channel_binding(who, conn, kind.name)


@op("ssl-default-channel-binding", 1)
def op_default_channel_binding(who, port):
    conn = want_ssl_port(who, port)
    kind = "tls-exporter" if conn.version == "tls13" else "tls-unique"
    return [Symbol(kind), channel_binding(who, conn, kind)]
