"""Section 2, misbehaving clients: a listener meets clients that break off
the handshake, send garbage, stall in the middle of a record, reset the
connection or leave without close_notify (S2.fault).

Each fault must end only the call or the port that serves that client, with
an error or the documented result, and the listener must go on serving. The
faulty clients are plain sockets; where a fault comes after the handshake,
Python's ssl runs the client by hand over memory BIOs, so that the test
decides which bytes reach the socket and when.

Already covered elsewhere, and not repeated here: a client that connects and
closes without a byte (S2.accept.2), text that is not TLS (S2.accept.4), an
altered record (S2.accept.6), a break while no client is there
(S2.accept.7), eof without close_notify from the reference itself as the
peer (S1.connect.12, S2.abandon.3, S3.eof.2), and the servers that misbehave
towards ssl-connect (S1.connect.9, S1.connect.13, S1.connect.14).
"""

import random
import socket
import ssl
import struct
import time
from dataclasses import dataclass

import pytest

from harness import EOF
from harness import peers as P
from harness.hashing import SEED
from harness.shim import ShimError, scaled
from harness.support import expect_failure, outcome_of, still_waiting
from harness.tls import HANDSHAKE_TIMEOUT, LOOPBACK, listen, server_context

NOT_READY_WAIT = 0.5
IO_TIMEOUT = scaled(10.0)
GOOD_LINE = b"hello from python\n"


@pytest.fixture
def peers():
    with P.PeerSet() as started:
        yield started


# -- the faulty client ----------------------------------------------------------------


class HandDrivenClient:
    """A TLS client over a plain socket, driven one step at a time.

    Python's ssl runs the protocol over memory BIOs; the test chooses what
    goes out on the socket, so it can send part of a record, garbage, or
    end the connection with a reset or without close_notify.
    """

    def __init__(self, port):
        self.sock = socket.create_connection((LOOPBACK, port), timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")

    def client_hello(self):
        """The bytes of the first flight (the ClientHello record), not sent."""
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.outgoing.read()

    def handshake(self):
        """Run the whole handshake over the socket."""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.send(self.outgoing.read())
                self.take_input()
        self.send(self.outgoing.read())

    def take_input(self):
        data = self.sock.recv(65536)
        if not data:
            raise P.PeerError("the server closed the connection during the handshake")
        self.incoming.write(data)

    def record(self, data):
        """One application-data record carrying `data`, encrypted, not sent."""
        self.tls.write(data)
        return self.outgoing.read()

    def send(self, data):
        if data:
            self.sock.sendall(data)

    def close(self):
        """End the TCP connection with a FIN, without close_notify.

        What the server sent and nobody read (a TLS 1.3 server's session
        tickets) is taken first: closing a socket with unread input sends a
        reset instead.
        """
        self.sock.setblocking(False)
        try:
            while self.sock.recv(65536):
                pass
        except OSError:  # nothing more for now, or the server is gone
            pass
        self.sock.close()

    def reset(self):
        """End the TCP connection with a reset (SO_LINGER of zero)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def raw_client(port):
    return socket.create_connection((LOOPBACK, port), timeout=IO_TIMEOUT)


def ended_by(sock):
    """Read until the server ends the connection: 'eof' or 'reset'."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "still open"
    return "eof"


# -- helpers ------------------------------------------------------------------------


def wait_until_taken(shim, listener):
    """Wait until no TCP connection waits at the listener: an accept took it."""
    deadline = time.monotonic() + scaled(HANDSHAKE_TIMEOUT)
    while shim.call("sync/timeout", 0, listener) is not False:
        assert time.monotonic() < deadline, "no ssl-accept took the waiting client"
        time.sleep(0.02)


def serve_good_client(shim, listener, port, peers):
    """The listener still serves: a Python client's handshake and a line each way."""
    accepting = shim.start_call("ssl-accept", listener)
    client = peers.python_client(port, send=GOOD_LINE)
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    assert shim.call("read-bytes", len(GOOD_LINE), server_in) == GOOD_LINE
    shim.call("write-bytes", b"still serving\n", server_out)
    shim.call("flush-output", server_out)
    session = client.wait()
    assert session.error is None and session.received == b"still serving\n", client.log()
    shim.call("close-output-port", server_out)
    shim.call("close-input-port", server_in)


@dataclass
class Accepted:
    """A HandDrivenClient through its handshake, and the server's ports."""

    listener: object
    port: int
    client: HandDrivenClient
    input: object
    output: object


def accepted_client(shim, first=None):
    """A listener and an Accepted client on it; with `first`, a record of those
    bytes sent by the client and read by the server."""
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call("ssl-accept", listener)
    client = HandDrivenClient(port)
    client.handshake()
    server_in, server_out = accepting.result(HANDSHAKE_TIMEOUT)
    if first is not None:
        client.send(client.record(first))
        assert shim.call("read-bytes", len(first), server_in) == first
    return Accepted(listener, port, client, server_in, server_out)


# -- breaking off the handshake ------------------------------------------------------------


def hello_half(client):
    hello = client.client_hello()
    client.send(hello[: len(hello) // 2])


def hello_whole(client):
    client.send(client.client_hello())


def hello_and_reply(client):
    client.send(client.client_hello())
    client.take_input()  # the server's reply, or the first part of it


BREAK_OFFS = {
    "closes-after-half-the-hello": (hello_half, HandDrivenClient.close),
    "closes-after-the-hello": (hello_whole, HandDrivenClient.close),
    "closes-after-the-reply": (hello_and_reply, HandDrivenClient.close),
    "resets-after-half-the-hello": (hello_half, HandDrivenClient.reset),
    "resets-after-the-hello": (hello_whole, HandDrivenClient.reset),
    "resets-after-the-reply": (hello_and_reply, HandDrivenClient.reset),
}


@pytest.mark.spec("S2.fault.2", "S2.fault.1")
@pytest.mark.parametrize("fault", sorted(BREAK_OFFS))
def test_a_client_breaking_off_the_handshake_fails_only_its_accept(shim, peers, fault):
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call("ssl-accept", listener)
    client = HandDrivenClient(port)
    send, end = BREAK_OFFS[fault]
    send(client)
    end(client)
    expect_failure(accepting, "exn:fail:network", "ssl-accept, when the client %s" % fault)
    serve_good_client(shim, listener, port, peers)


# -- garbage ----------------------------------------------------------------------------


def _random_client_hello_body():
    body = random.Random(SEED).randbytes(124)
    return b"\x16\x03\x01\x00\x80" + b"\x01\x00\x00\x7c" + body


# Bytes that no TLS server can take for the start of a handshake.  None
# leaves the server waiting for more: each record is complete, or announces
# more than the largest record allowed, which its header alone refutes.
GARBAGE = {
    "zero-bytes": b"\x00" * 64,
    "unknown-record-type": b"\x63\x03\x03\x00\x10" + b"\x5a" * 16,
    "record-longer-than-allowed": b"\x16\x03\x01\xff\xff" + b"\x00" * 64,
    "server-hello-from-a-client": b"\x16\x03\x01\x00\x08\x02\x00\x00\x04" + b"\x00" * 4,
    "client-hello-of-random-bytes": _random_client_hello_body(),
    "fatal-alert": b"\x15\x03\x01\x00\x02\x02\x28",
    "application-data-first": b"\x17\x03\x03\x00\x10" + b"\x00" * 16,
}


@pytest.mark.spec("S2.fault.3", "S2.fault.1")
@pytest.mark.parametrize("garbage", sorted(GARBAGE))
def test_garbage_fails_only_its_accept_and_is_hung_up_on(shim, peers, garbage):
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call("ssl-accept", listener)
    sock = raw_client(port)
    try:
        sock.sendall(GARBAGE[garbage])
        expect_failure(accepting, "exn:fail:network", "ssl-accept of %s" % garbage)
        assert ended_by(sock) in ("eof", "reset"), "the server kept the connection open"
    finally:
        sock.close()
    serve_good_client(shim, listener, port, peers)


@pytest.mark.spec("S2.accept.6", "S2.fault.1")
def test_garbage_after_the_handshake_fails_the_read(shim, peers):
    served = accepted_client(shim, first=b"sound record")
    reading = shim.start_call("read-bytes", 10, served.input)
    served.client.send(b"\x17\x03\x03\x00\x20" + b"\x00" * 32)  # a record no key made
    expect_failure(reading, "exn:fail:network", "read-bytes after garbage")
    served.client.close()
    serve_good_client(shim, served.listener, served.port, peers)


# -- stalling -----------------------------------------------------------------------------


STALLS = {
    "says-nothing": lambda client: None,
    "stalls-in-the-hello": hello_half,
    "stalls-after-the-hello": hello_whole,
}


def stalled_accept(shim, op, stall):
    """A listener, a call of `op` that took a stalled client, and that client."""
    listener, port = listen(shim, server_context(shim))
    accepting = shim.start_call(op, listener)
    client = HandDrivenClient(port)
    STALLS[stall](client)
    wait_until_taken(shim, listener)
    time.sleep(scaled(0.2))
    still_waiting(accepting, "%s answered a client that %s" % (op, stall))
    return listener, port, accepting, client


@pytest.mark.spec("S2.fault.4", "S2.fault.1")
@pytest.mark.parametrize("stall", sorted(STALLS))
def test_a_stalled_client_holds_only_its_accept(shim, peers, stall):
    listener, port, accepting, client = stalled_accept(shim, "ssl-accept", stall)
    serve_good_client(shim, listener, port, peers)
    still_waiting(accepting, "ssl-accept gave up on a client that %s" % stall)
    client.close()
    expect_failure(accepting, "exn:fail:network", "ssl-accept once the stalled client left")


@pytest.mark.spec("S2.fault.5", "S2.fault.1")
@pytest.mark.parametrize("stall", sorted(STALLS))
def test_break_ends_an_accept_stalled_in_the_handshake(shim, peers, stall):
    listener, port, accepting, client = stalled_accept(shim, "ssl-accept/enable-break", stall)
    shim.call("break", accepting.id)
    expect_failure(accepting, "exn:break", "ssl-accept/enable-break after a break")
    assert ended_by(client.sock) in ("eof", "reset"), "the stalled client's connection stayed open"
    client.close()
    serve_good_client(shim, listener, port, peers)


@pytest.mark.spec("S2.fault.6", "S2.fault.1")
def test_half_a_record_waits_for_the_rest(shim, peers):
    served = accepted_client(shim)
    record = served.client.record(b"a record cut in two")
    served.client.send(record[: len(record) // 2])
    assert (
        shim.call("sync/timeout", NOT_READY_WAIT, served.input) is False
    ), "the input port became ready with half a record"
    reading = shim.start_call("read-bytes", 19, served.input)
    serve_good_client(shim, served.listener, served.port, peers)
    still_waiting(reading, "read-bytes answered with half a record")
    served.client.send(record[len(record) // 2 :])
    assert reading.result(HANDSHAKE_TIMEOUT) == b"a record cut in two"
    served.client.close()


@pytest.mark.spec("S2.fault.7", "D.eof.1", "S2.fault.1")
def test_half_a_record_then_eof_reads_eof(shim, peers):
    served = accepted_client(shim, first=b"whole")
    record = served.client.record(b"never finished")
    served.client.send(record[: len(record) // 2])
    reading = shim.start_call("read-bytes", 14, served.input)
    time.sleep(scaled(0.2))
    still_waiting(reading, "read-bytes answered with half a record")
    served.client.close()
    got, error = outcome_of(reading)
    assert error is None and got is EOF, "the read after half a record and eof: %r" % (
        error or got,
    )
    serve_good_client(shim, served.listener, served.port, peers)


# -- ending the connection -------------------------------------------------------------------


@pytest.mark.spec("S2.fault.8", "S2.fault.1")
@pytest.mark.parametrize("read", ["waiting", "after"])
def test_a_reset_fails_both_ports(shim, peers, read):
    served = accepted_client(shim, first=b"before the reset")
    if read == "waiting":
        reading = shim.start_call("read-bytes", 1, served.input)
        time.sleep(scaled(0.2))
        still_waiting(reading, "read-bytes answered with nothing sent")
        served.client.reset()
    else:
        served.client.reset()
        time.sleep(scaled(0.1))  # loopback delivers the reset at once
        reading = shim.start_call("read-bytes", 1, served.input)
    expect_failure(reading, "exn:fail:network", "read-bytes after a reset")
    with pytest.raises(ShimError) as caught:
        shim.call("write-bytes", b"into a reset connection", served.output)
        shim.call("flush-output", served.output)
    assert caught.value.kind == "exn:fail:network", caught.value
    assert shim.call("close-output-port", served.output) is None
    assert shim.call("close-input-port", served.input) is None
    serve_good_client(shim, served.listener, served.port, peers)


@pytest.mark.spec("S3.eof.2", "D.eof.1", "S2.fault.1")
def test_a_foreign_client_leaving_without_close_notify_gives_eof(shim, peers):
    served = accepted_client(shim)
    reading = shim.start_call("read-bytes", 100, served.input)
    served.client.send(served.client.record(b"last words"))
    served.client.close()
    assert reading.result(HANDSHAKE_TIMEOUT) == b"last words"
    assert shim.call("read-bytes", 1, served.input, timeout=HANDSHAKE_TIMEOUT) is EOF
    serve_good_client(shim, served.listener, served.port, peers)
