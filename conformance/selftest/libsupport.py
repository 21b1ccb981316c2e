"""Helpers for the self-tests of the library as its users get it.

make(): run make at the top of the tree, one make at a time (pytest-xdist runs tests in
parallel, and two makes writing the same files would trip over each other).
Server: an example server on a loopback port the system picks; it prints "port N" first.
"""

import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
EXAMPLES = BUILD / "examples"
CERTS = ROOT / "certs"
CA = CERTS / "root-ca.pem"

TIMEOUT = 20


def make(*args):
    """Run make with args at the top of the tree; return its output."""
    BUILD.mkdir(exist_ok=True)
    with open(BUILD / ".selftest-make.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(
            ["make", "-s", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert proc.returncode == 0, f"make {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"
    return proc.stdout + proc.stderr


def require(tool):
    """Skip the test when a program it needs is not installed (tools/deps installs them)."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (tools/deps check docs capture)")
    return path


def run(argv, timeout=TIMEOUT, env=None, **kw):
    """Run a program to its end; stdout, stderr and status in the result."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        **kw,
    )


def explain(proc):
    return (
        f"argv: {proc.args}\nstatus: {proc.returncode}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )


class Server:
    """An example server: started with `argv`, it prints "port N" and serves until stopped."""

    def __init__(self, argv, env=None):
        self.argv = [str(a) for a in argv]
        self._out = ""
        self._err = ""
        self._collected = False
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ, **(env or {})),
        )
        first = self.proc.stdout.readline()
        match = re.fullmatch(r"port (\d+)\n", first)
        if match is None:
            self.stop()
            raise AssertionError(f"{self.argv} did not print its port: {first!r}\n{self.log()}")
        self.port = int(match.group(1))

    def stop(self):
        """Stop the server (if it still runs) and keep what it printed."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self._collect(5)

    def wait(self, timeout=TIMEOUT):
        """Wait for a server given a count of clients to finish by itself."""
        self._collect(timeout)
        return self.proc.returncode

    def _collect(self, timeout):
        if self._collected:
            return
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self._collected = True
        self._out += out or ""
        self._err += err or ""

    def output(self):
        return self._out

    def log(self):
        return f"server {self.argv}\nstdout:\n{self._out}\nstderr:\n{self._err}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def echo_server(count=None, env=None):
    argv = [EXAMPLES / "echo_server", CERTS]
    if count is not None:
        argv.append(count)
    return Server(argv, env=env)
