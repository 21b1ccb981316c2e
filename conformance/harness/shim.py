"""A client for one RPC shim process (design.md, "The RPC shim protocol").

Requests may overlap: a reader thread matches each response to the waiting
Future by id, and a second thread drains the shim's stderr into a buffer so
that it can be attached to any failure.
"""

import collections
import itertools
import json
import os
import subprocess
import threading

import pytest

from .codec import ProtocolError, decode, encode


def _timeout_scale():
    # A shim under valgrind or a sanitizer runs many times slower; the whole
    # suite's waits stretch by this factor (make memcheck sets it).
    text = os.environ.get("SSLPORT_TIMEOUT_SCALE", "").strip() or "1"
    try:
        scale = float(text)
    except ValueError:
        raise ValueError("SSLPORT_TIMEOUT_SCALE is not a number: %r" % text) from None
    if scale <= 0:
        raise ValueError("SSLPORT_TIMEOUT_SCALE must be positive: %r" % text)
    return scale


TIMEOUT_SCALE = _timeout_scale()


def scaled(seconds):
    """A wait of `seconds`, stretched by SSLPORT_TIMEOUT_SCALE."""
    return seconds * TIMEOUT_SCALE


DEFAULT_TIMEOUT = 20.0
# A loaded machine (CI on two cores) can take seconds to end a process.
EXIT_TIMEOUT = scaled(15.0)
ERROR_KINDS = frozenset(
    [
        "exn:fail:contract",
        "exn:fail:network",
        "exn:fail",
        "exn:fail:unsupported",
        "exn:break",
        "unimplemented",
    ]
)

# Documented keyword arguments whose Racket spelling is not just the Python
# name with hyphens (bindings.md).  Anything else: "_" becomes "-".
KEYWORDS = {
    "close_original": "close-original?",
    "shutdown_on_close": "shutdown-on-close?",
    "error_ssl": "error/ssl",
    "try_": "try?",
}


class ShimError(Exception):
    """The shim answered with an error response."""

    def __init__(self, kind, message, op=None):
        super().__init__("%s: %s: %s" % (op, kind, message))
        self.kind = kind
        self.message = message
        self.op = op


class Unimplemented(pytest.skip.Exception):
    """The shim does not provide an op; the suite counts this apart."""

    def __init__(self, op, message):
        super().__init__("unimplemented: %s: %s" % (op, message), pytrace=False)
        self.kind = "unimplemented"
        self.op = op
        self.message = message


class ShimFailure(AssertionError):
    """The shim misbehaved: it crashed, hung or broke the protocol."""


class ShimCrashed(ShimFailure):
    """The shim exited while requests were waiting."""


class ShimTimeout(ShimFailure):
    """A request got no answer in time."""


def racket_keyword(name):
    return KEYWORDS.get(name, name.replace("_", "-"))


class Future:
    """One request in flight."""

    def __init__(self, client, request_id, op):
        self.client = client
        self.id = request_id
        self.op = op
        self._event = threading.Event()
        self._response = None

    def _resolve(self, response):
        self._response = response
        self._event.set()

    def done(self):
        return self._event.is_set()

    def result(self, timeout=None):
        if timeout is None:
            timeout = self.client.default_timeout
        timeout = scaled(timeout)
        if not self._event.wait(timeout):
            raise ShimTimeout(
                "%s (request %d) got no answer in %gs%s"
                % (self.op, self.id, timeout, self.client.stderr_note())
            )
        return self.client._unpack(self.op, self._response)

    def __repr__(self):
        return "<request %d %s>" % (self.id, self.op)


class ShimClient:
    """A running shim; `call` sends a request and waits for its answer."""

    def __init__(self, argv, env=None, cwd=None, label="shim", timeout=DEFAULT_TIMEOUT):
        self.argv = list(argv)
        self.label = label
        self.env_extra = dict(env or {})
        self.default_timeout = timeout
        self.problems = []
        self.exit_status = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending = {}
        self._closing = False
        self._close_problem = None
        self._gone = None
        self._stderr = bytearray()
        self._stderr_lock = threading.Lock()
        self._transcript = collections.deque(maxlen=40)
        self.proc = self._spawn(cwd)
        self._reader = self._thread(self._read_stdout, "stdout")
        self._drainer = self._thread(self._read_stderr, "stderr")
        self.hello = self.call("hello")

    def _spawn(self, cwd):
        env = dict(os.environ)
        env.update(self.env_extra)
        try:
            return subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=env,
            )
        except OSError as e:
            raise ShimFailure("cannot start shim %r: %s" % (" ".join(self.argv), e)) from None

    def _thread(self, target, name):
        t = threading.Thread(target=target, name="%s-%s" % (self.label, name), daemon=True)
        t.start()
        return t

    # -- requests -------------------------------------------------------

    def start_call(self, op, *args, kw=None, **keywords):
        """Send a request without waiting; returns its Future."""
        kwargs = {racket_keyword(k): v for (k, v) in keywords.items()}
        kwargs.update(kw or {})
        request = {"op": op, "args": [encode(a) for a in args]}
        if kwargs:
            request["kw"] = {k: encode(v) for (k, v) in kwargs.items()}
        with self._lock:
            if self._gone is not None:
                raise ShimCrashed("cannot send %s: %s%s" % (op, self._gone, self.stderr_note()))
            request_id = next(self._ids)
            request["id"] = request_id
            future = Future(self, request_id, op)
            self._pending[request_id] = future
            line = json.dumps(request, separators=(",", ":")) + "\n"
            self._note(">", line)
            try:
                self.proc.stdin.write(line.encode("utf-8"))
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                del self._pending[request_id]
                raise ShimCrashed("cannot send %s: %s%s" % (op, e, self.stderr_note())) from None
        return future

    def call(self, op, *args, kw=None, timeout=None, **keywords):
        """Send a request and wait for its decoded answer.

        A `values` answer comes back as a tuple.  Keyword arguments are given
        either as Python names (close_original=True sends "close-original?")
        or verbatim in `kw` ({"close-original?": True}).
        """
        return self.start_call(op, *args, kw=kw, **keywords).result(timeout)

    def value(self, name, timeout=None):
        """Read a value binding such as ssl-available?."""
        return self.call("value", name, timeout=timeout)

    def _unpack(self, op, response):
        if "crash" in response:
            raise ShimCrashed("%s: %s%s" % (op, response["crash"], self.stderr_note()))
        if "broken" in response:
            raise ShimFailure("%s: %s" % (op, response["broken"]))
        if op == "hello" and isinstance(response.get("ok"), dict):
            return _check_hello(response["ok"])
        if "ok" in response:
            return decode(response["ok"])
        if "values" in response:
            return tuple(decode(v) for v in response["values"])
        error = response["error"]
        if error["kind"] == "unimplemented":
            raise Unimplemented(op, error["message"])
        raise ShimError(error["kind"], error["message"], op)

    # -- the reader threads ---------------------------------------------

    def _read_stdout(self):
        for raw in self.proc.stdout:
            self._note("<", raw.decode("utf-8", "replace"))
            try:
                self._dispatch(raw)
            except (ValueError, ProtocolError) as e:
                self.problems.append("protocol error: %s in line %r" % (e, raw[:200]))
        status = self.proc.wait()
        self._end("the shim closed its output (exit status %s)" % _describe_status(status))

    def _dispatch(self, raw):
        response = json.loads(raw)
        request_id = None
        if isinstance(response, dict) and isinstance(response.get("id"), int):
            request_id = response["id"]
        with self._lock:
            future = self._pending.pop(request_id, None)
        try:
            _check_response(response)
        except ProtocolError as e:
            if future is not None:
                future._resolve({"broken": "protocol error: %s in %r" % (e, raw[:200])})
            raise
        if future is None:
            raise ProtocolError("answer to no request in flight")
        future._resolve(response)

    def _end(self, reason):
        with self._lock:
            self._gone = reason
            pending = list(self._pending.values())
            self._pending.clear()
        for future in pending:
            future._resolve({"crash": reason})

    def _read_stderr(self):
        while True:
            chunk = self.proc.stderr.read1(65536)
            if not chunk:
                return
            with self._stderr_lock:
                self._stderr.extend(chunk)

    def _note(self, direction, line):
        line = line.rstrip("\n")
        if len(line) > 300:
            line = line[:300] + "... (%d characters)" % len(line)
        self._transcript.append("%s %s" % (direction, line))

    # -- reporting ------------------------------------------------------

    def stderr_text(self):
        with self._stderr_lock:
            return self._stderr.decode("utf-8", "replace")

    def stderr_note(self):
        text = self.stderr_text()
        if not text:
            return ""
        return "\n--- %s stderr ---\n%s" % (self.label, text[-4000:])

    def transcript(self):
        return "\n".join(self._transcript)

    def crashed(self):
        """A description of an unexpected exit, or None while it runs."""
        if self._closing:
            return None
        status = self.proc.poll()
        if status is None:
            return None
        return "%s exited during the test (status %s)" % (self.label, _describe_status(status))

    # -- shutdown -------------------------------------------------------

    def close(self):
        """Ask the shim to exit; kill it if it will not.  Returns a problem or None."""
        if self._closing:
            return self._close_problem
        problem = self.crashed()
        self._closing = True
        if problem is None:
            problem = self._send_exit()
        status = self._wait_or_kill()
        self.exit_status = status
        if problem is None and status != 0:
            problem = "%s exit status %s" % (self.label, _describe_status(status))
        self._reader.join(EXIT_TIMEOUT)
        self._drainer.join(EXIT_TIMEOUT)
        self._close_problem = problem
        return problem

    def _send_exit(self):
        try:
            self.call("exit", timeout=EXIT_TIMEOUT)
        except (ShimFailure, ShimError, Unimplemented) as e:
            return "%s did not exit cleanly: %s" % (self.label, str(e).split("\n")[0])
        return None

    def _wait_or_kill(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after %gs" % EXIT_TIMEOUT


def _check_response(response):
    if not isinstance(response, dict) or not isinstance(response.get("id"), int):
        raise ProtocolError("a response is an object with an integer id")
    keys = set(response) - {"id"}
    if len(keys) != 1 or not keys <= {"ok", "values", "error"}:
        raise ProtocolError("a response has exactly one of ok, values, error")
    if "values" in response and not isinstance(response["values"], list):
        raise ProtocolError("values is an array")
    if "error" in response:
        error = response["error"]
        if not isinstance(error, dict) or error.get("kind") not in ERROR_KINDS:
            raise ProtocolError("an error has a kind among %s" % sorted(ERROR_KINDS))
        if not isinstance(error.get("message"), str):
            raise ProtocolError("an error has a message string")


def _check_hello(info):
    for key in ("implementation", "version"):
        if not isinstance(info.get(key), str):
            raise ShimFailure("hello: %r is not a string in %r" % (key, info))
    if not isinstance(info.get("hide-libraries", False), bool):
        raise ShimFailure("hello: 'hide-libraries' is not a boolean in %r" % (info,))
    return info


def _describe_status(status):
    if isinstance(status, int) and status < 0:
        return "killed by signal %d" % -status
    return str(status)
