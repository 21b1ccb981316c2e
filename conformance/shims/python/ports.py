"""Ports, plain TCP and events for the Python shim, and the base ops that use them.

Every input port answers read_avail(n, who, abort) (at least one byte, or
EOF; None when `abort()` turned true while it waited), ready() and close();
every output port write(data, who), flush(who) and close().  Pipes wait on
their own condition; TCP ports poll their socket with select(), so that a
waiting read notices a close or an abort within a twentieth of a second.
"""

import errno
import select
import socket
import sys
import threading

from core import (
    CHUNK,
    EOF,
    EVENTS,
    SYNC_WAITERS,
    RacketError,
    Symbol,
    Values,
    changed,
    contract_error,
    fail,
    is_symbol,
    network_error,
    now,
    op,
    truthy,
    want_bytes,
    want_count,
    want_string,
)

POLL = 0.05


class Event:
    """Something sync/timeout can wait for: ready() says whether it is."""

    def ready(self):
        raise NotImplementedError


class Port:
    closed = False
    buffer_modes = ()
    buffer_mode = None

    def shutdown_for_exit(self):
        self.close()


class InputPort(Port, Event):
    kind = "input-port"

    def read_avail(self, n, who, abort=None):
        raise NotImplementedError

    def wake(self):
        """Make waiting reads look at their abort condition again."""


class OutputPort(Port):
    kind = "output-port"


# -- byte strings and pipes -------------------------------------------------------------


class BytesInputPort(InputPort):
    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.lock = threading.Lock()

    def read_avail(self, n, who, abort=None):
        with self.lock:
            if self.closed:
                raise fail(who, "input port is closed")
            if self.pos >= len(self.data):
                return EOF
            end = self.pos + n
            data = self.data[self.pos : end]
            self.pos += len(data)
            return data

    def ready(self):
        return True

    def close(self):
        self.closed = True


class Pipe:
    """An in-memory pipe.  With a limit, a write waits while `limit` bytes are
    unread; but a reader already waiting for up to n bytes may be handed up to
    n at once (those bytes are read as soon as they are written), so that a
    one-byte pipe does not cost a thread switch per byte."""

    def __init__(self, limit):
        self.limit = limit
        self.cond = threading.Condition()
        self.buffer = bytearray()
        self.wanted = 0
        self.input = PipeInputPort(self)
        self.output = PipeOutputPort(self)


class PipeInputPort(InputPort):
    def __init__(self, pipe):
        self.pipe = pipe

    def read_avail(self, n, who, abort=None):
        pipe = self.pipe
        with pipe.cond:
            try:
                data = self._take(n, who, abort)
            finally:
                pipe.wanted = 0
        if data is not None and data is not EOF:
            changed()
        return data

    def _take(self, n, who, abort):
        pipe = self.pipe
        while True:
            if self.closed:
                raise fail(who, "input port is closed")
            if abort is not None and abort():
                return None
            if pipe.buffer:
                data = bytes(pipe.buffer[:n])
                del pipe.buffer[:n]
                pipe.cond.notify_all()
                return data
            if pipe.output.closed:
                return EOF
            if pipe.wanted < n:
                pipe.wanted = n
                pipe.cond.notify_all()
            pipe.cond.wait(None if abort is None else POLL)

    def ready(self):
        with self.pipe.cond:
            return self.closed or bool(self.pipe.buffer) or self.pipe.output.closed

    def wake(self):
        with self.pipe.cond:
            self.pipe.cond.notify_all()

    def close(self):
        with self.pipe.cond:
            self.closed = True
            self.pipe.cond.notify_all()
        changed()


class PipeOutputPort(OutputPort):
    def __init__(self, pipe):
        self.pipe = pipe

    def write(self, data, who):
        pipe = self.pipe
        view = memoryview(data)
        with pipe.cond:
            while view:
                if self.closed:
                    raise fail(who, "output port is closed")
                if pipe.input.closed:
                    return  # nobody will read: the bytes are dropped
                room = len(view) if not pipe.limit else pipe.limit - len(pipe.buffer)
                if pipe.wanted and not pipe.buffer:
                    room = max(room, pipe.wanted)
                if room <= 0:
                    pipe.cond.wait()
                    continue
                pipe.buffer.extend(view[:room])
                view = view[room:]
                pipe.cond.notify_all()
                changed()

    def flush(self, who):
        if self.closed:
            raise fail(who, "output port is closed")

    def close(self):
        with self.pipe.cond:
            self.closed = True
            self.pipe.cond.notify_all()
        changed()


# -- TCP ----------------------------------------------------------------------------------


def _readable(sock, timeout):
    r, _, _ = select.select([sock], [], [], timeout)
    return bool(r)


def _address(sockaddr):
    return sockaddr[0], sockaddr[1]


class TcpStream:
    """One TCP connection: its two ports, each closed on its own."""

    def __init__(self, sock):
        sock.setblocking(True)
        self.sock = sock
        self.lock = threading.Lock()
        self.gone = False
        self.input = TcpInputPort(self)
        self.output = TcpOutputPort(self)

    def _maybe_close(self):
        with self.lock:
            if self.gone or not (self.input.closed and self.output.closed):
                return
            self.gone = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        changed()

    def addresses(self, who):
        try:
            return _address(self.sock.getsockname()), _address(self.sock.getpeername())
        except OSError as e:
            raise network_error(who, "could not get the addresses (%s)" % e.strerror) from None


class TcpInputPort(InputPort):
    buffer_modes = ("none", "block")

    def __init__(self, stream):
        self.stream = stream
        self.buffer_mode = "block"

    def read_avail(self, n, who, abort=None):
        sock = self.stream.sock
        while True:
            if self.closed:
                raise fail(who, "input port is closed")
            if abort is not None and abort():
                return None
            try:
                if not _readable(sock, POLL):
                    continue
                data = sock.recv(n)
            except (BlockingIOError, InterruptedError):
                continue
            except (OSError, ValueError) as e:
                if self.closed:
                    continue
                raise network_error(who, "error reading from stream port (%s)" % e) from None
            changed()
            return data if data else EOF

    def ready(self):
        if self.closed or self.stream.gone:
            return True
        try:
            return _readable(self.stream.sock, 0)
        except (OSError, ValueError):
            return True

    def close(self):
        if not self.closed:
            self.closed = True
            self.stream._maybe_close()


class TcpOutputPort(OutputPort):
    buffer_modes = ("none", "line", "block")

    def __init__(self, stream):
        self.stream = stream
        self.buffer_mode = "block"

    def write(self, data, who):
        if self.closed:
            raise fail(who, "output port is closed")
        try:
            self.stream.sock.sendall(data)
        except (OSError, ValueError) as e:
            raise network_error(who, "error writing to stream port (%s)" % e) from None

    def flush(self, who):
        if self.closed:
            raise fail(who, "output port is closed")

    def close(self):
        if self.closed:
            return
        self.closed = True
        if not self.stream.input.closed:
            try:
                self.stream.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        self.stream._maybe_close()


class TcpListener(Event):
    kind = "tcp-listener"

    def __init__(self, sock):
        sock.setblocking(False)
        self.sock = sock
        self.closed = False
        self.local = _address(sock.getsockname())

    def accept(self, who, breaker=None):
        """A connected socket; waits, noticing a close and (if given) a break."""
        while True:
            if self.closed:
                raise network_error(who, "the listener is closed")
            if breaker is not None and breaker.is_set():
                raise RacketError("exn:break", "%s: user break" % who)
            try:
                if not _readable(self.sock, POLL):
                    continue
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                continue
            except (OSError, ValueError) as e:
                if self.closed:
                    continue
                raise network_error(who, "accept failed (%s)" % e) from None
            conn.setblocking(True)
            return conn

    def ready(self):
        if self.closed:
            return True
        try:
            return _readable(self.sock, 0)
        except (OSError, ValueError):
            return True

    def close(self, who="tcp-close"):
        if self.closed:
            raise network_error(who, "the listener is already closed")
        self.closed = True
        self.sock.close()
        changed()

    def shutdown_for_exit(self):
        if not self.closed:
            self.close()

    def addresses(self, who):
        if self.closed:
            raise network_error(who, "the listener is closed")
        return self.local, ("0.0.0.0", 0)


def listen_socket(who, port, backlog, reuse, host):
    """A listening socket, or exn:fail:network."""
    try:
        if host is False:
            family, address = socket.AF_INET, ("0.0.0.0", port)
        else:
            info = socket.getaddrinfo(
                host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
            )
            family, address = info[0][0], info[0][4]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise network_error(who, "listen failed (%s)" % e) from None
    try:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as e:
        sock.close()
        raise network_error(
            who, "listen failed\n  port number: %s\n  system error: %s" % (port, e.strerror)
        ) from None
    return sock


def connect_socket(who, host, port, breaker=None):
    """A socket connected to host:port, trying each address; or exn:fail:network."""
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise network_error(who, "host not found\n  hostname: %s\n  (%s)" % (host, e)) from None
    problem = "no address"
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            error = sock.connect_ex(address)
            while error in (errno.EINPROGRESS, errno.EALREADY):
                if breaker is not None and breaker.is_set():
                    sock.close()
                    raise RacketError("exn:break", "%s: user break" % who)
                _, w, _ = select.select([], [sock], [], POLL)
                if w:
                    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error == 0:
                sock.setblocking(True)
                return sock
            problem = errno.errorcode.get(error, str(error))
        except OSError as e:
            problem = str(e)
        sock.close()
    raise network_error(
        who, "connection failed\n  hostname: %s\n  port number: %s\n  (%s)" % (host, port, problem)
    )


# -- argument checks ---------------------------------------------------------------------


def want_input_port(who, value, position=None):
    if not isinstance(value, InputPort):
        raise contract_error(who, "input-port?", value, position)
    return value


def want_output_port(who, value, position=None):
    if not isinstance(value, OutputPort):
        raise contract_error(who, "output-port?", value, position)
    return value


def want_port(who, value):
    if not isinstance(value, Port):
        raise contract_error(who, "port?", value)
    return value


def want_port_number(who, value, low, position=None):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 65535:
        expected = "(integer-in %d 65535)" % low
        raise contract_error(who, expected, value, position)
    return value


# -- base operations on ports --------------------------------------------------------------


@op("make-pipe", 0, 1)
def op_make_pipe(who, limit=False):
    if limit is not False and limit is not None:
        if want_count(who, limit) == 0:
            raise contract_error(who, "(or/c #f exact-positive-integer?)", limit)
    pipe = Pipe(limit or None)
    return Values(pipe.input, pipe.output)


@op("open-input-bytes", 1)
def op_open_input_bytes(who, data):
    return BytesInputPort(want_bytes(who, data))


def read_exactly(who, n, port):
    chunks, total = [], 0
    while total < n:
        data = port.read_avail(n - total, who)
        if data is EOF:
            break
        chunks.append(data)
        total += len(data)
    if n > 0 and total == 0:
        return EOF
    return b"".join(chunks)


@op("read-bytes", 2)
def op_read_bytes(who, n, port):
    return read_exactly(who, want_count(who, n, 1), want_input_port(who, port, 2))


@op("read-bytes-avail", 2)
def op_read_bytes_avail(who, n, port):
    n = want_count(who, n, 1)
    port = want_input_port(who, port, 2)
    if n == 0:
        return b""
    return port.read_avail(n, who)


@op("write-bytes", 2)
def op_write_bytes(who, data, port):
    want_bytes(who, data, 1)
    want_output_port(who, port, 2).write(data, who)
    return len(data)


@op("flush-output", 1)
def op_flush_output(who, port):
    want_output_port(who, port).flush(who)


@op("close-input-port", 1)
def op_close_input_port(who, port):
    want_input_port(who, port).close()


@op("close-output-port", 1)
def op_close_output_port(who, port):
    port = want_output_port(who, port)
    closer = getattr(port, "close_reporting", None)
    if closer is not None:
        closer(who)
    else:
        port.close()


@op("port-closed?", 1)
def op_port_closed(who, port):
    return want_port(who, port).closed


@op("file-stream-buffer-mode", 1, 2)
def op_file_stream_buffer_mode(who, port, *mode):
    port = want_port(who, port)
    if not mode:
        return Symbol(port.buffer_mode) if port.buffer_modes else False
    (mode,) = mode
    if not is_symbol(mode, "none", "line", "block"):
        raise contract_error(who, "(or/c 'none 'line 'block)", mode, 2)
    if mode.name not in port.buffer_modes:
        raise contract_error(who, "a port that supports buffer mode '%s" % mode.name, port, 1)
    port.buffer_mode = mode.name
    return None


@op("byte-ready?", 1)
def op_byte_ready(who, port):
    port = want_input_port(who, port)
    if port.closed:
        raise fail(who, "input port is closed")
    return port.ready()


@op("sync/timeout", 1, 1000)
def op_sync_timeout(who, seconds, *events):
    if seconds is not False and (
        isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0
    ):
        raise contract_error(who, "(or/c #f (and/c real? (not/c negative?)))", seconds, 1)
    for position, event in enumerate(events, 2):
        if not isinstance(event, Event):
            raise contract_error(who, "evt?", event, position)
    deadline = None if seconds is False else now() + seconds
    while True:
        for event in events:
            if event.ready():
                return event
        remaining = None if deadline is None else deadline - now()
        if remaining is not None and remaining <= 0:
            return False
        with EVENTS:
            SYNC_WAITERS[0] += 1
            try:
                EVENTS.wait(POLL if remaining is None else min(remaining, POLL))
            finally:
                SYNC_WAITERS[0] -= 1


# -- base operations on plain TCP -----------------------------------------------------------


@op("tcp-listen", 1, 4)
def op_tcp_listen(who, port, backlog=4, reuse=False, host=False):
    want_port_number(who, port, 0, 1)
    want_count(who, backlog, 2)
    if host is not False:
        want_string(who, host, 4)
    return TcpListener(listen_socket(who, port, backlog, truthy(reuse), host))


def want_tcp_listener(who, value):
    if not isinstance(value, TcpListener):
        raise contract_error(who, "tcp-listener?", value)
    return value


@op("tcp-accept", 1)
def op_tcp_accept(who, listener):
    stream = TcpStream(want_tcp_listener(who, listener).accept(who))
    return Values(stream.input, stream.output)


@op("tcp-connect", 2)
def op_tcp_connect(who, host, port):
    want_string(who, host, 1)
    want_port_number(who, port, 1, 2)
    stream = TcpStream(connect_socket(who, host, port))
    return Values(stream.input, stream.output)


@op("tcp-close", 1)
def op_tcp_close(who, listener):
    want_tcp_listener(who, listener).close(who)


def address_values(local, remote, numbers):
    if truthy(numbers):
        return Values(local[0], local[1], remote[0], remote[1])
    return Values(local[0], remote[0])


@op("tcp-addresses", 1, 2)
def op_tcp_addresses(who, thing, numbers=False):
    if isinstance(thing, TcpListener):
        local, remote = thing.addresses(who)
    elif isinstance(thing, (TcpInputPort, TcpOutputPort)):
        local, remote = thing.stream.addresses(who)
    else:
        raise contract_error(who, "(or/c tcp-port? tcp-listener?)", thing)
    return address_values(local, remote, numbers)


def read_all(port, who):
    """Every byte of an input port up to eof, in chunks (for hashing)."""
    while True:
        data = port.read_avail(CHUNK, who)
        if data is EOF:
            return
        yield data


def debug(message):
    print("sslport python shim: %s" % message, file=sys.stderr, flush=True)
