"""The shim client: overlapping requests, errors, timeouts, crashes, stderr."""

import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness import EOF, Handle, ShimClient, ShimCrashed, ShimError, ShimTimeout, Symbol
from harness.shim import ShimFailure, Unimplemented

ROOT = Path(__file__).resolve().parents[2]
PYTHON_SHIM = [sys.executable, str(ROOT / "conformance" / "shims" / "python" / "shim.py")]


@pytest.fixture
def client():
    shim = ShimClient(PYTHON_SHIM, cwd=str(ROOT), label="python shim", timeout=10)
    yield shim
    assert shim.close() is None
    assert shim.exit_status == 0


def fake_shim(tmp_path, body):
    """A shim written in a few lines of Python, for behaviour the real ones lack."""
    script = tmp_path / "fake_shim.py"
    prelude = """\
        import json, sys
        def say(obj):
            sys.stdout.write(json.dumps(obj) + "\\n")
            sys.stdout.flush()
        def requests():
            for line in sys.stdin:
                yield json.loads(line)
        HELLO = {"implementation": "fake", "version": "8.7", "hide-libraries": False}
    """
    script.write_text(textwrap.dedent(prelude) + textwrap.dedent(body))
    return [sys.executable, str(script)]


def test_hello(client):
    assert client.hello["implementation"] == "python-ssl"
    assert client.hello["version"] == "8.15.900"


def test_values_come_back_as_a_tuple(client):
    pipe = client.call("make-pipe", 16)
    assert isinstance(pipe, tuple) and len(pipe) == 2
    assert all(isinstance(port, Handle) for port in pipe)


def test_overlapping_requests(client):
    (pipe_in, pipe_out) = client.call("make-pipe", 4)
    reading = client.start_call("read-bytes", 10, pipe_in)
    writing = client.start_call("write-bytes", b"0123456789", pipe_out)
    assert writing.result() == 10
    assert reading.result() == b"0123456789"
    assert reading.id != writing.id
    client.call("close-output-port", pipe_out)
    assert client.call("read-bytes", 1, pipe_in) is EOF


def test_error_answers_raise_shim_error(client):
    with pytest.raises(ShimError) as caught:
        client.call("hex-string->bytes", "0")
    assert caught.value.kind == "exn:fail:contract"
    assert "hex-string->bytes" in caught.value.message


def test_unimplemented_is_its_own_outcome(client):
    with pytest.raises(Unimplemented) as caught:
        # Python's ssl module never tries a list of library versions.
        client.call("value", "openssl-lib-versions")
    assert str(caught.value.msg).startswith("unimplemented: value")
    assert not isinstance(caught.value, ShimError)


def test_timeout(client):
    (pipe_in, _) = client.call("make-pipe", False)
    started = time.monotonic()
    with pytest.raises(ShimTimeout):
        client.call("read-bytes", 1, pipe_in, timeout=0.3)
    assert time.monotonic() - started < 5


def test_keywords_are_sent_with_racket_names(tmp_path):
    argv = fake_shim(
        tmp_path,
        """
        for request in requests():
            if request["op"] == "hello":
                say({"id": request["id"], "ok": HELLO})
            elif request["op"] == "exit":
                say({"id": request["id"], "ok": None})
                break
            else:
                say({"id": request["id"], "ok": json.dumps(request.get("kw", {}))})
        """,
    )
    shim = ShimClient(argv, label="fake")
    sent = shim.call(
        "ports->ssl-ports", mode=Symbol("connect"), close_original=True, kw={"error/ssl": 1}
    )
    assert json.loads(sent) == {
        "mode": {"symbol": "connect"},
        "close-original?": True,
        "error/ssl": 1,
    }
    assert shim.close() is None


def test_a_crash_fails_waiting_requests_with_stderr(tmp_path):
    argv = fake_shim(
        tmp_path,
        """
        for request in requests():
            if request["op"] == "hello":
                say({"id": request["id"], "ok": HELLO})
            else:
                sys.stderr.write("fake: giving up on %s\\n" % request["op"])
                sys.stderr.flush()
                sys.exit(3)
        """,
    )
    shim = ShimClient(argv, label="fake")
    with pytest.raises(ShimCrashed) as caught:
        shim.call("sha1", b"x", timeout=5)
    assert "exit status 3" in str(caught.value)
    assert "fake: giving up on sha1" in str(caught.value) + shim.stderr_text()
    assert shim.crashed() and "status 3" in shim.crashed()
    assert shim.close() is not None


def test_protocol_errors_are_reported(tmp_path):
    argv = fake_shim(
        tmp_path,
        """
        for request in requests():
            if request["op"] == "hello":
                say({"id": request["id"], "ok": HELLO})
            elif request["op"] == "exit":
                say({"id": request["id"], "ok": None})
                break
            else:
                say({"id": request["id"], "ok": 1, "error": {"kind": "exn:fail"}})
        """,
    )
    shim = ShimClient(argv, label="fake")
    with pytest.raises(ShimFailure, match="protocol error"):
        shim.call("anything", timeout=5)
    assert shim.problems
    shim.close()


def test_a_shim_that_cannot_start():
    with pytest.raises(ShimFailure, match="cannot start shim"):
        ShimClient(["/nonexistent/sslport-shim"])
