"""What every part of the Python shim shares: errors, values, handles, the op table.

Errors are RacketError (an answer of one of the protocol's kinds) or
NotProvided (the op, or one form of it, has no counterpart in Python's ssl
module: the answer is `unimplemented`).  Ops register themselves in OPS with
the `op` decorator, values with `value`.
"""

import json
import threading
import time

CHUNK = 65536


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


def network_error(who, message):
    return RacketError("exn:fail:network", "%s: %s" % (who, message))


def unsupported(who, message):
    return RacketError("exn:fail:unsupported", "%s: %s" % (who, message))


# -- values -----------------------------------------------------------------


class Symbol:
    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, Symbol) and other.name == self.name

    def __hash__(self):
        return hash(self.name)

    def __repr__(self):
        return "'" + self.name


class Eof:
    pass


EOF = Eof()


class Values:
    """Several answers at once ({"values": [...]})."""

    def __init__(self, *items):
        self.items = items


def is_symbol(value, *names):
    return isinstance(value, Symbol) and (not names or value.name in names)


def truthy(value):
    """Racket's idea of true: everything but #f."""
    return value is not False


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

    def handle_of(self, obj):
        with self.lock:
            return self.ids.get(id(obj))

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
    if tag == "bytes" and isinstance(payload, str):
        try:
            return bytes.fromhex(payload)
        except ValueError:
            raise RacketError("exn:fail:contract", "bad hexadecimal: %r" % (payload,)) from None
    if tag == "symbol" and isinstance(payload, str):
        return Symbol(payload)
    if tag == "eof" and payload is True:
        return EOF
    if tag == "handle" and isinstance(payload, str):
        return HANDLES.lookup(payload)
    raise RacketError("exn:fail:contract", "cannot pass %r to this shim" % (value,))


def encode(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, Symbol):
        return {"symbol": value.name}
    if value is EOF:
        return {"eof": True}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return value
    return {"handle": HANDLES.handle(value)}


# -- events -------------------------------------------------------------------

# Ports and listeners wait on their own locks; sync/timeout, which waits for
# any of several, sleeps on EVENTS, which every change pokes (and which it
# also polls, for sockets, whose readiness only select() sees).
EVENTS = threading.Condition()
SYNC_WAITERS = [0]


def changed():
    if SYNC_WAITERS[0]:
        with EVENTS:
            EVENTS.notify_all()


def now():
    return time.monotonic()


# -- the op table -------------------------------------------------------------

OPS = {}
VALUES = {}


def arity(who, args, low, high=None):
    high = low if high is None else high
    if not low <= len(args) <= high:
        expected = str(low) if low == high else "%d to %d" % (low, high)
        raise RacketError(
            "exn:fail:contract",
            "%s: arity mismatch;\n the expected number of arguments does not match the "
            "given number\n  expected: %s\n  given: %d" % (who, expected, len(args)),
        )


def check_keywords(who, kw, allowed):
    extra = sorted(set(kw) - set(allowed))
    if extra:
        raise RacketError(
            "exn:fail:contract",
            "%s: does not expect the keyword arguments\n  given: %s"
            % (who, ", ".join("#:" + k for k in extra)),
        )


def op(name, low=0, high=None, keywords=None):
    """Register an op.

    Without `keywords` the function is called as f(who, *args); with a tuple of
    allowed keyword names (without #:) as f(who, args, kw).
    """

    def register(function):
        def run(args, kw):
            arity(name, args, low, high)
            check_keywords(name, kw, keywords or ())
            return function(name, args, kw) if keywords is not None else function(name, *args)

        OPS[name] = run
        return function

    return register


def value(name):
    def register(function):
        VALUES[name] = function
        return function

    return register


# -- requests in flight ---------------------------------------------------------

REQUEST = threading.local()
BREAKS = {}
BREAKS_LOCK = threading.Lock()


def break_event():
    """The event a `break` aimed at the current request sets."""
    return getattr(REQUEST, "breaker", None)


# -- the process-wide logger ------------------------------------------------------

GLOBAL_LOG = []
GLOBAL_LOG_LOCK = threading.Lock()


def log_warning(topic, message):
    with GLOBAL_LOG_LOCK:
        GLOBAL_LOG.append([Symbol("warning"), Symbol(topic), message, None])


# -- argument checks --------------------------------------------------------------


def want_count(who, value, position=None):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise contract_error(who, "exact-nonnegative-integer?", value, position)
    return value


def want_bytes(who, value, position=None):
    if not isinstance(value, bytes):
        raise contract_error(who, "bytes?", value, position)
    return value


def want_string(who, value, position=None):
    if not isinstance(value, str):
        raise contract_error(who, "string?", value, position)
    return value


def is_path(value):
    return isinstance(value, str) and value != "" and "\0" not in value


def want_path(who, value, position=None):
    if not is_path(value):
        raise contract_error(who, "path-string?", value, position)
    return value


def want_boolean(who, value, position=None):
    if value is not True and value is not False:
        raise contract_error(who, "boolean?", value, position)
    return value
