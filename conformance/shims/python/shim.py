#!/usr/bin/python3
"""An sslport RPC shim over Python's hashlib and ssl modules.

It speaks the JSON Lines protocol of design.md on stdin/stdout: every request
runs on its own thread and answers are written, whole lines at a time, under
one lock.  Ops live in the OPS table; an op not in it answers `unimplemented`.
So far it provides the base port operations and the hashing and library
bindings (sections 0, 6 to 9 of the documentation).
"""

import hashlib
import json
import os
import re
import sys
import threading
import time

try:
    import ssl
except ImportError as e:  # pragma: no cover - only on a Python built without ssl
    ssl = None
    SSL_IMPORT_ERROR = "ssl module: %s" % e
else:
    SSL_IMPORT_ERROR = None

IMPLEMENTATION = "python-ssl"
VERSION = "8.15.900"
CHUNK = 4096


# -- errors -----------------------------------------------------------------


class RacketError(Exception):
    """An error answer: `kind` is one of the protocol's exception kinds."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


class NotProvided(Exception):
    """The op or value exists in the API but this shim cannot express it."""


def contract_error(who, expected, value, position=None):
    where = "" if position is None else "\n  argument position: %s" % position
    return RacketError(
        "exn:fail:contract",
        "%s: contract violation\n  expected: %s\n  given: %s%s"
        % (who, expected, printed(value), where),
    )


def fail(who, message):
    return RacketError("exn:fail", "%s: %s" % (who, message))


# -- values -----------------------------------------------------------------


class Symbol:
    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, Symbol) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


class Eof:
    pass


EOF = Eof()


class Values:
    """Several answers at once ({"values": [...]})."""

    def __init__(self, *items):
        self.items = items


def printed(value):
    """Racket-like printed form for error messages."""
    if isinstance(value, bytes):
        return '#"%s"' % value.decode("latin-1").encode("unicode_escape").decode("ascii")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is True or value is False:
        return "#t" if value else "#f"
    if value is None:
        return "#<void>"
    if isinstance(value, Symbol):
        return "'" + value.name
    if value is EOF:
        return "#<eof>"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "'(" + " ".join(printed(v) for v in value) + ")"
    return "#<%s>" % getattr(value, "kind", type(value).__name__)


class Handles:
    """Objects the shim keeps; one object always has the same handle."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_id = {}
        self.ids = {}
        self.next = 1

    def handle(self, obj):
        with self.lock:
            key = id(obj)
            if key not in self.ids:
                self.ids[key] = "h%d" % self.next
                self.by_id["h%d" % self.next] = obj
                self.next += 1
            return self.ids[key]

    def lookup(self, handle_id):
        with self.lock:
            if handle_id not in self.by_id:
                raise RacketError("exn:fail:contract", "unknown handle: %s" % handle_id)
            return self.by_id[handle_id]

    def release(self, handle_id):
        with self.lock:
            obj = self.by_id.pop(handle_id, None)
            if obj is not None:
                del self.ids[id(obj)]

    def everything(self):
        with self.lock:
            return list(self.by_id.values())


HANDLES = Handles()


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise RacketError("exn:fail:contract", "not a protocol value: %r" % (value,))
    ((tag, payload),) = value.items()
    if tag == "bytes":
        return bytes.fromhex(payload)
    if tag == "symbol":
        return Symbol(payload)
    if tag == "eof":
        return EOF
    if tag == "handle":
        return HANDLES.lookup(payload)
    raise RacketError("exn:fail:contract", "cannot pass %r to this shim" % (value,))


def encode(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, Symbol):
        return {"symbol": value.name}
    if value is EOF:
        return {"eof": True}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return value
    return {"handle": HANDLES.handle(value)}


# -- ports ------------------------------------------------------------------

# One condition for every port: any change of any port wakes every waiter,
# which keeps sync/timeout over several ports simple.
CHANGED = threading.Condition()


class InputPort:
    kind = "input-port"

    def __init__(self):
        self.closed = False

    def read_avail(self, n, who):
        """Wait for at least one byte; answer up to n bytes, or EOF."""
        with CHANGED:
            while True:
                if self.closed:
                    raise fail(who, "input port is closed")
                data = self._take(n)
                if data is not None:
                    CHANGED.notify_all()
                    return data
                CHANGED.wait()

    def ready(self):
        with CHANGED:
            return self.closed or self._ready()

    def close(self):
        with CHANGED:
            self.closed = True
            CHANGED.notify_all()


class BytesInputPort(InputPort):
    def __init__(self, data):
        super().__init__()
        self.data = data
        self.pos = 0

    def _take(self, n):
        if self.pos >= len(self.data):
            return EOF
        data = self.data[self.pos : self.pos + n]
        self.pos += len(data)
        return data

    def _ready(self):
        return True


class Pipe:
    def __init__(self, limit):
        self.limit = limit
        self.buffer = bytearray()
        self.input = PipeInputPort(self)
        self.output = PipeOutputPort(self)


class PipeInputPort(InputPort):
    def __init__(self, pipe):
        super().__init__()
        self.pipe = pipe

    def _take(self, n):
        buffer = self.pipe.buffer
        if buffer:
            data = bytes(buffer[:n])
            del buffer[:n]
            return data
        return EOF if self.pipe.output.closed else None

    def _ready(self):
        return bool(self.pipe.buffer) or self.pipe.output.closed


class PipeOutputPort:
    kind = "output-port"

    def __init__(self, pipe):
        self.pipe = pipe
        self.closed = False

    def write(self, data, who):
        view = memoryview(data)
        with CHANGED:
            while view:
                if self.closed:
                    raise fail(who, "output port is closed")
                if self.pipe.input.closed:
                    return  # nobody will read: the bytes are dropped
                room = self._room()
                if room == 0:
                    CHANGED.wait()
                    continue
                self.pipe.buffer.extend(view[:room])
                view = view[room:]
                CHANGED.notify_all()

    def _room(self):
        if not self.pipe.limit:
            return sys.maxsize
        return max(0, self.pipe.limit - len(self.pipe.buffer))

    def flush(self, who):
        if self.closed:
            raise fail(who, "output port is closed")

    def close(self):
        with CHANGED:
            self.closed = True
            CHANGED.notify_all()


class Logger:
    kind = "logger"

    def __init__(self):
        self.messages = []


class Library:
    """A shared library the ssl module has loaded, found in /proc/self/maps."""

    kind = "ffi-lib"

    def __init__(self, path):
        self.path = path


GLOBAL_LOG = []


def loaded_library(prefix):
    try:
        with open("/proc/self/maps") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        path = line.split()[-1] if len(line.split()) >= 6 else ""
        if os.path.basename(path).startswith(prefix + ".so"):
            return path
    return None


# -- argument checks ----------------------------------------------------------


def arity(who, args, low, high=None):
    high = low if high is None else high
    if not low <= len(args) <= high:
        expected = str(low) if low == high else "%d to %d" % (low, high)
        raise RacketError(
            "exn:fail:contract",
            "%s: arity mismatch;\n the expected number of arguments does not match the "
            "given number\n  expected: %s\n  given: %d" % (who, expected, len(args)),
        )


def no_keywords(who, kw):
    if kw:
        raise RacketError(
            "exn:fail:contract",
            "%s: does not expect keyword arguments\n  given: %s" % (who, ", ".join(sorted(kw))),
        )


def want_input_port(who, value, position=None):
    if not isinstance(value, InputPort):
        raise contract_error(who, "input-port?", value, position)
    return value


def want_output_port(who, value, position=None):
    if not isinstance(value, PipeOutputPort):
        raise contract_error(who, "output-port?", value, position)
    return value


def want_count(who, value, position=None):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise contract_error(who, "exact-nonnegative-integer?", value, position)
    return value


def want_bytes(who, value, position=None):
    if not isinstance(value, bytes):
        raise contract_error(who, "bytes?", value, position)
    return value


def want_port(who, value):
    if not isinstance(value, (InputPort, PipeOutputPort)):
        raise contract_error(who, "port?", value)
    return value


# -- base operations --------------------------------------------------------

OPS = {}


def op(name, low=0, high=None, keywords=False):
    """Register an op taking (who, args, kw); checks arity and keywords."""

    def register(function):
        def run(args, kw):
            arity(name, args, low, high)
            if not keywords:
                no_keywords(name, kw)
            return function(name, args, kw) if keywords else function(name, *args)

        OPS[name] = run
        return function

    return register


@op("hello")
def op_hello(who):
    return {
        "implementation": IMPLEMENTATION,
        "version": VERSION,
        "openssl": ssl.OPENSSL_VERSION if ssl else None,
        "hide-libraries": False,
    }


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
    want_output_port(who, port).close()


@op("port-closed?", 1)
def op_port_closed(who, port):
    return want_port(who, port).closed


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
        if not isinstance(event, InputPort):
            raise contract_error(who, "evt?", event, position)
    with CHANGED:
        if seconds is False:
            return _wait_ready(events, None)
        return _wait_ready(events, float(seconds))


def _wait_ready(events, seconds):
    deadline = None if seconds is None else _now() + seconds
    while True:
        for event in events:
            if event.ready():
                return event
        remaining = None if deadline is None else deadline - _now()
        if remaining is not None and remaining <= 0:
            return False
        CHANGED.wait(remaining)


def _now():
    return time.monotonic()


@op("make-logger", 0, 2)
def op_make_logger(who, *ignored):
    return Logger()


@op("logger-messages", 1)
def op_logger_messages(who, logger):
    if not isinstance(logger, Logger):
        raise contract_error(who, "logger?", logger)
    return list(logger.messages)


@op("log-messages")
def op_log_messages(who):
    return list(GLOBAL_LOG)


@op("release", 1)
def op_release(who, value):
    handle = value if isinstance(value, str) else HANDLES.ids.get(id(value))
    if handle is not None:
        HANDLES.release(handle)


@op("break", 1)
def op_break(who, request_id):
    # Nothing here waits in an /enable-break call, so a break has no effect.
    return None


# -- values -----------------------------------------------------------------

VALUES = {}


def value(name):
    def register(function):
        VALUES[name] = function
        return function

    return register


@op("value", 1)
def op_value(who, name):
    if not isinstance(name, str):
        raise contract_error(who, "string?", name)
    if name not in VALUES:
        raise NotProvided("value %s" % name)
    return VALUES[name]()


@value("ssl-available?")
def value_ssl_available():
    return ssl is not None


@value("ssl-load-fail-reason")
def value_ssl_load_fail_reason():
    return SSL_IMPORT_ERROR or False


def _library(prefix):
    if ssl is None:
        return False
    path = loaded_library(prefix)
    if path is None:
        raise NotProvided("%s: the ssl module's library is not visible in this process" % prefix)
    return LIBRARIES.setdefault(prefix, Library(path))


LIBRARIES = {}


@value("libssl")
def value_libssl():
    return _library("libssl")


@value("libcrypto")
def value_libcrypto():
    return _library("libcrypto")


@value("libssl-load-fail-reason")
def value_libssl_load_fail_reason():
    return SSL_IMPORT_ERROR or False


@value("libcrypto-load-fail-reason")
def value_libcrypto_load_fail_reason():
    return SSL_IMPORT_ERROR or False


# -- hashing (sections 6 and 7) ------------------------------------------------

HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


def hash_port(who, algorithm, port):
    want_input_port(who, port)
    digest = hashlib.new(algorithm, usedforsecurity=False)
    while True:
        data = port.read_avail(CHUNK, who)
        if data is EOF:
            return digest.digest()
        digest.update(data)


@op("sha1-bytes", 1)
def op_sha1_bytes(who, port):
    return hash_port(who, "sha1", port)


@op("sha1", 1)
def op_sha1(who, port):
    return hash_port(who, "sha1", port).hex()


@op("md5-bytes", 1)
def op_md5_bytes(who, port):
    return hash_port(who, "md5", port)


@op("md5", 1)
def op_md5(who, port):
    return hash_port(who, "md5", port).hex()


@op("bytes->hex-string", 1)
def op_bytes_to_hex_string(who, data):
    return want_bytes(who, data).hex()


@op("hex-string->bytes", 1)
def op_hex_string_to_bytes(who, text):
    if not isinstance(text, str) or not HEX.fullmatch(text):
        raise contract_error(who, '(and/c string? #px"^([[:xdigit:]]{2})*$")', text)
    return bytes.fromhex(text)


# -- the request loop -------------------------------------------------------

OUT_LOCK = threading.Lock()


def answer(response):
    line = json.dumps(response, separators=(",", ":")) + "\n"
    with OUT_LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


def run_request(request):
    request_id = request.get("id")
    try:
        result = perform(request)
        if isinstance(result, Values):
            response = {"id": request_id, "values": [encode(v) for v in result.items]}
        else:
            response = {"id": request_id, "ok": encode(result)}
    except RacketError as e:
        response = {"id": request_id, "error": {"kind": e.kind, "message": e.message}}
    except NotProvided as e:
        message = "%s is not provided by %s" % (e, IMPLEMENTATION)
        response = {"id": request_id, "error": {"kind": "unimplemented", "message": message}}
    except Exception as e:  # a bug in this shim: report it, keep serving
        print("sslport python shim: %s: %r" % (request.get("op"), e), file=sys.stderr)
        response = {"id": request_id, "error": {"kind": "exn:fail", "message": repr(e)}}
    answer(response)


def perform(request):
    name = request.get("op")
    args = decode(request.get("args", []))
    kw = {k: decode(v) for (k, v) in request.get("kw", {}).items()}
    if name == "exit":
        shut_down()
        return None
    if name not in OPS:
        raise NotProvided("op %s" % name)
    return OPS[name](args, kw)


def shut_down():
    for obj in HANDLES.everything():
        close = getattr(obj, "close", None)
        if close is not None:
            close()


def main():
    for raw in sys.stdin.buffer:
        try:
            request = json.loads(raw)
        except ValueError:
            print("sslport python shim: not JSON: %r" % raw[:200], file=sys.stderr)
            continue
        if not isinstance(request, dict) or not isinstance(request.get("id"), int):
            print("sslport python shim: not a request: %r" % raw[:200], file=sys.stderr)
            continue
        if request.get("op") == "exit":
            run_request(request)
            sys.stdout.flush()
            os._exit(0)
        worker = threading.Thread(target=run_request, args=(request,), daemon=True)
        worker.start()
        WORKERS.append(worker)
    # End of input without exit: let requests in flight answer, briefly.
    deadline = time.monotonic() + 2.0
    for worker in WORKERS:
        worker.join(max(0.0, deadline - time.monotonic()))
    shut_down()
    sys.stdout.flush()
    os._exit(0)


WORKERS = []


if __name__ == "__main__":
    main()
