"""SSLKEYLOGFILE: the key log lines the library appends decrypt a captured session.

dumpcap captures the loopback traffic of the example HTTPS client and echo server; tshark,
given the file that SSLKEYLOGFILE named, decrypts it and finds the HTTP request in it, which it
cannot find without the file.  The lines themselves are checked against the NSS key log format
and against the client random that the capture shows in the ClientHello.
"""

import os
import re
import select
import signal
import socket
import subprocess
import time

import pytest

from libsupport import CA, EXAMPLES, echo_server, explain, make, require, run

TLS13_LABELS = {
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
}
LINE = re.compile(r"([A-Z_0-9]+) ([0-9a-f]{64}) ([0-9a-f]{64}|[0-9a-f]{96})")


@pytest.fixture(scope="module", autouse=True)
def tools():
    require("dumpcap")
    require("tshark")
    make("examples")


class Capture:
    """dumpcap on the loopback interface, for one port.

    The kernel hands packets to dumpcap in blocks, a block when it is full or old enough; a
    block not handed over when dumpcap stops is lost.  So UDP probes go to the port (where
    nothing listens for them) until dumpcap counts one, before the traffic, and for a second
    after it, so that the blocks holding the traffic are old enough to have been handed over.
    """

    def __init__(self, port, path):
        self.path = path
        self.port = port
        self.proc = subprocess.Popen(
            ["dumpcap", "-i", "lo", "-f", f"port {port}", "-w", str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.set_blocking(self.proc.stderr.fileno(), False)
        self.log = b""
        self.probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        deadline = time.monotonic() + 10
        while not re.search(rb"Packets: [1-9]", self.log):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.skip(f"cannot capture on lo (root needed): {self.log!r}")
            self._probe()

    def _probe(self):
        self.probe.sendto(b"probe", ("127.0.0.1", self.port))
        select.select([self.proc.stderr], [], [], 0.05)
        self.log += self.proc.stderr.read() or b""

    def stop(self):
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            self._probe()
        self.probe.close()
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=10)
        assert self.path.exists()


def tshark(capture, *args):
    proc = run(["tshark", "-n", "-r", capture, *args], timeout=60)
    assert proc.returncode == 0, explain(proc)
    return proc.stdout


def check_lines(keys, labels):
    """The lines are NSS key log lines of one connection; its client random, returned."""
    lines = keys.read_text().splitlines()
    assert lines, "SSLKEYLOGFILE is empty"
    parsed = [LINE.fullmatch(line) for line in lines]
    assert all(parsed), f"not key log lines: {lines}"
    assert sorted(m.group(1) for m in parsed) == sorted(labels)
    randoms = {m.group(2) for m in parsed}
    assert len(randoms) == 1, "the lines of one connection share its client random"
    return randoms.pop()


def decrypt(capture, keys):
    """The ClientHello randoms and the HTTP requests that tshark finds, given a key log."""
    out = tshark(
        capture,
        "-o",
        f"tls.keylog_file:{keys}",
        "-Y",
        "tls.handshake.type == 1 || http.request",
        "-T",
        "fields",
        "-e",
        "tls.handshake.random",
        "-e",
        "http.request.method",
        "-e",
        "http.request.uri",
    )
    rows = [line.split("\t") for line in out.splitlines()]
    randoms = [r[0] for r in rows if r[0]]
    requests = [f"{r[1]} {r[2]}" for r in rows if len(r) == 3 and r[1]]
    return randoms, requests


def test_client_keylog_decrypts_tls13(tmp_path):
    """The example client writes the file; TLS 1.3, as its secure context negotiates here."""
    keys, cap = tmp_path / "keys", tmp_path / "cap.pcapng"
    with echo_server(count=1) as server:
        capture = Capture(server.port, cap)
        proc = run(
            [EXAMPLES / "https_get", "localhost", server.port, "/keylog-tls13", CA],
            env={"SSLKEYLOGFILE": str(keys)},
        )
        server.wait()
        capture.stop()
    assert proc.returncode == 0, explain(proc) + server.log()
    assert oct(os.stat(keys).st_mode & 0o777) == "0o600"
    random = check_lines(keys, TLS13_LABELS)
    randoms, requests = decrypt(cap, keys)
    assert randoms == [random]
    # The client's request; the echo server's copy of it may come too.
    assert "GET /keylog-tls13" in requests
    assert decrypt(cap, tmp_path / "no-keys") == ([random], [])


def test_server_keylog_decrypts_tls12(tmp_path):
    """The example server writes the file; openssl s_client insists on TLS 1.2."""
    keys, cap = tmp_path / "keys", tmp_path / "cap.pcapng"
    with echo_server(count=1, env={"SSLKEYLOGFILE": str(keys)}) as server:
        capture = Capture(server.port, cap)
        client = subprocess.run(
            [
                "openssl",
                "s_client",
                "-tls1_2",
                "-connect",
                f"127.0.0.1:{server.port}",
                "-CAfile",
                str(CA),
                "-ign_eof",
                "-quiet",
            ],
            input=b"GET /keylog-tls12 HTTP/1.1\r\nHost: localhost\r\n\r\n",
            capture_output=True,
            timeout=20,
        )
        server.wait()
        capture.stop()
    assert b"GET /keylog-tls12" in client.stdout, client.stderr.decode() + server.log()
    random = check_lines(keys, {"CLIENT_RANDOM"})
    randoms, requests = decrypt(cap, keys)
    assert randoms == [random]
    assert "GET /keylog-tls12" in requests
    assert decrypt(cap, tmp_path / "no-keys") == ([random], [])
