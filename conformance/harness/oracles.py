"""Independent oracles for the tests of sections 4 and 5.

Each helper looks at a connection from outside the implementation under test:

- `PythonServer` and `python_client`: the other end of a connection, played by
  Python's `ssl` module, reporting what it saw (the SNI name, the ALPN protocol,
  `tls-unique`, the certificate the shim presented, its key log).
- `HelloSniffer`: a plain TCP server that reads the raw ClientHello and decodes
  the extensions a client sent (server_name, ALPN), then hangs up.
- `Relay`: a TCP relay that keeps the server's bytes (the ServerHello random),
  with the TLS 1.2 PRF and exporter of RFC 5246 and RFC 5705.
- Readers of what `openssl s_server` and `s_client` print (peers.py runs
  them): exported keying material, acceptable CA names.
- Certificate facts computed from DER bytes: the signature algorithm, and the
  `tls-server-end-point` value RFC 5929 section 4.1 defines.
- `CertMaker` and `made_cert`: certificates a clause needs that the committed
  PKI lacks, made at run time with the `openssl` command line.
- Small helpers that drive the shim against such a peer (`shim_connect`,
  `shim_wrap`, `settle`, `on_both_ports`, `close_end`).

All servers listen on 127.0.0.1, on a port the system picks.
"""

import atexit
import hashlib
import hmac
import os
import re
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import NameOID

from .codec import Symbol
from .shim import ShimError, scaled
from .tls import HANDSHAKE_TIMEOUT, Outcome, cert

LOOPBACK = "127.0.0.1"
PEER_TIMEOUT = scaled(10.0)
OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"

# SSL_OP_NO_EXTENDED_MASTER_SECRET of OpenSSL 3.0 (bit 0).  Python 3.11 does
# not name it, but passes the bit on; tests confirm its effect with s_client.
OP_NO_EXTENDED_MASTER_SECRET = getattr(ssl, "OP_NO_EXTENDED_MASTER_SECRET", 1 << 0)

VERSIONS = {
    "tls12": ssl.TLSVersion.TLSv1_2,
    "tls13": ssl.TLSVersion.TLSv1_3,
}
VERSION_NAMES = {"TLSv1.2": "tls12", "TLSv1.3": "tls13"}


# -- what a peer saw ----------------------------------------------------------


@dataclass
class PeerRecord:
    """What the Python end of one connection saw."""

    sni_called: bool = False
    server_name: str = None
    version: str = None
    cipher: str = None
    alpn: bytes = None
    tls_unique: bytes = None
    peer_cert: bytes = None
    received: bytes = b""
    error: str = None
    later_error: str = None
    handshake: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def ok(self):
        return self.error is None

    def describe(self):
        return "peer: version=%s cipher=%s alpn=%r sni=%r peer_cert=%s error=%s later=%s" % (
            self.version,
            self.cipher,
            self.alpn,
            self.server_name,
            "yes" if self.peer_cert else "no",
            self.error,
            self.later_error,
        )


def _describe_error(error):
    reason = getattr(error, "reason", None)
    return "%s: %s%s" % (type(error).__name__, error, " [%s]" % reason if reason else "")


def _record_session(record, tls):
    record.version = VERSION_NAMES.get(tls.version(), tls.version())
    record.cipher = tls.cipher()[0] if tls.cipher() else None
    selected = tls.selected_alpn_protocol()
    record.alpn = selected.encode("latin-1") if selected is not None else None
    if record.version != "tls13":
        record.tls_unique = tls.get_channel_binding("tls-unique")
    record.peer_cert = tls.getpeercert(binary_form=True)


def python_context(
    server,
    *,
    chain=None,
    key=None,
    cafile=None,
    verify="none",
    version=None,
    ciphers=None,
    alpn=None,
    keylog=None,
    ems=True,
):
    """An ssl.SSLContext for one end, configured as the tests need it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    if not server:
        ctx.check_hostname = False
    if ciphers is not None:
        # Before the chain: @SECLEVEL=0 must hold when weak certificates load.
        ctx.set_ciphers(ciphers)
    if version is not None:
        ctx.minimum_version = VERSIONS[version]
        ctx.maximum_version = VERSIONS[version]
    if chain is not None:
        ctx.load_cert_chain(chain, key)
    if cafile is not None:
        ctx.load_verify_locations(cafile)
    ctx.verify_mode = {
        "none": ssl.CERT_NONE,
        "optional": ssl.CERT_OPTIONAL,
        "required": ssl.CERT_REQUIRED,
    }[verify]
    if alpn is not None:
        ctx.set_alpn_protocols([p.decode("latin-1") for p in alpn])
    if keylog is not None:
        ctx.keylog_filename = str(keylog)
    if not ems:
        ctx.options |= OP_NO_EXTENDED_MASTER_SECRET
    return ctx


def _wake(sock):
    """Shut a socket down, so that a thread blocked on it returns at once."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _wake_and_close(sock):
    _wake(sock)
    try:
        sock.close()
    except OSError:
        pass


class PythonServer:
    """A TLS server played by Python's ssl module, in threads.

    Each accepted connection gets a PeerRecord (in accept order) and, once the
    handshake is done, an echo of every byte it receives, until the client
    closes.  Keyword arguments are those of `python_context`.
    """

    def __init__(self, chain=None, key=None, echo=True, **options):
        if chain is not None and key is None:
            key = chain
        self.context = python_context(True, chain=chain, key=key, **options)
        self.context.sni_callback = self._sni
        self.echo = echo
        self.records = []
        self._open = []
        self._new = threading.Condition()
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((LOOPBACK, 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept_loop, daemon=True)]
        self._threads[0].start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        """Stop accepting, end the connections still open, and wait for the threads."""
        self._stop.set()
        _wake_and_close(self._sock)
        with self._new:
            open_sockets = list(self._open)
        for sock in open_sockets:
            _wake(sock)
        for thread in self._threads:
            thread.join(PEER_TIMEOUT)

    @staticmethod
    def _sni(tls, server_name, ctx):
        record = getattr(tls, "sslport_record", None)
        if record is not None:
            record.sni_called = True
            record.server_name = server_name
        return None

    def _accept_loop(self):
        while not self._stop.is_set():
            ready, _, _ = select.select([self._sock], [], [], 0.1)
            if not ready:
                continue
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            record = PeerRecord()
            with self._new:
                self.records.append(record)
                self._new.notify_all()
            thread = threading.Thread(target=self._serve, args=(conn, record), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn, record):
        conn.settimeout(PEER_TIMEOUT)
        try:
            tls = self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        except (ssl.SSLError, OSError) as e:
            record.error = _describe_error(e)
            record.handshake.set()
            record.done.set()
            conn.close()
            return
        tls.sslport_record = record
        with self._new:
            self._open.append(tls)
        if self._stop.is_set():
            _wake(tls)
        try:
            tls.do_handshake()
            _record_session(record, tls)
        except (ssl.SSLError, OSError) as e:
            record.error = _describe_error(e)
        record.handshake.set()
        try:
            if record.ok:
                self._echo(tls, record)
        finally:
            record.done.set()
            tls.close()

    def _echo(self, tls, record):
        try:
            while not self._stop.is_set():
                data = tls.recv(65536)
                if not data:
                    return
                record.received += data
                if self.echo:
                    tls.sendall(data)
        except (ssl.SSLError, OSError) as e:
            record.later_error = _describe_error(e)

    def record(self, index=0, timeout=PEER_TIMEOUT):
        """The record of the index-th connection, once its handshake has ended."""
        deadline = time.monotonic() + timeout
        with self._new:
            while len(self.records) <= index:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the Python server saw no connection %d" % index)
                self._new.wait(left)
            record = self.records[index]
        if not record.handshake.wait(max(0.0, deadline - time.monotonic())):
            raise AssertionError("the Python server's handshake %d did not end" % index)
        return record

    def finished(self, index=0, timeout=PEER_TIMEOUT):
        """The record of the index-th connection once the connection has ended."""
        record = self.record(index, timeout)
        if not record.done.wait(timeout):
            raise AssertionError("the Python server's connection %d did not end" % index)
        return record


def python_client(
    port,
    *,
    server_hostname=None,
    chain=None,
    key=None,
    send=b"",
    expect=0,
    until_eof=False,
    host=LOOPBACK,
    timeout=PEER_TIMEOUT,
    record=None,
    **options,
):
    """Connect with Python's ssl module, optionally send and read; returns a PeerRecord.

    `server_hostname` is sent as SNI when it is a DNS name.  After the
    handshake, `send` is written and `expect` bytes are read back, or with
    `until_eof` everything until the server closes; a failure then lands in
    `later_error`.  Keyword arguments beyond these are `python_context`'s.
    """
    if chain is not None and key is None:
        key = chain
    record = record if record is not None else PeerRecord()
    try:
        ctx = python_context(False, chain=chain, key=key, **options)
        sock = socket.create_connection((host, port), timeout=timeout)
    except (ssl.SSLError, OSError) as e:
        record.error = _describe_error(e)
        record.handshake.set()
        record.done.set()
        return record
    tls = None
    try:
        tls = ctx.wrap_socket(sock, server_hostname=server_hostname, do_handshake_on_connect=False)
        tls.do_handshake()
        _record_session(record, tls)
    except (ssl.SSLError, OSError) as e:
        record.error = _describe_error(e)
        record.handshake.set()
        record.done.set()
        (tls or sock).close()
        return record
    record.handshake.set()
    try:
        if send:
            tls.sendall(send)
        while until_eof or len(record.received) < expect:
            data = tls.recv(65536 if until_eof else expect - len(record.received))
            if not data:
                break
            record.received += data
    except (ssl.SSLError, OSError) as e:
        record.later_error = _describe_error(e)
    finally:
        record.done.set()
        tls.close()
    return record


class PythonClient:
    """`python_client` in a thread, holding the connection until the server closes.

    For tests whose shim end must settle while the Python end stays open:
    `record()` waits for the handshake, `finish()` for the end of the
    connection (close the shim's ports first).
    """

    def __init__(self, port, **keywords):
        keywords.setdefault("until_eof", True)
        self._record = PeerRecord()
        self._thread = threading.Thread(
            target=python_client,
            args=(port,),
            kwargs=dict(keywords, record=self._record),
            daemon=True,
        )
        self._thread.start()

    def record(self, timeout=PEER_TIMEOUT):
        if not self._record.handshake.wait(timeout):
            raise AssertionError("the Python client's handshake did not end")
        return self._record

    def finish(self, timeout=PEER_TIMEOUT):
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("the Python client's connection did not end")
        return self._record


# -- key logs -----------------------------------------------------------------

KEYLOG_LINE = re.compile(rb"^([A-Z0-9_]+) ([0-9a-f]{64}) ([0-9a-f]+)$")


def read_keylog(path):
    """The NSS key-log lines of a file, without comments and line ends."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if line and not line.startswith(b"#")]


def keylog_fields(line):
    """(label, client random hex, secret hex) of one key-log line, or None."""
    match = KEYLOG_LINE.match(line)
    return match.groups() if match else None


# -- the raw ClientHello --------------------------------------------------------


@dataclass
class ClientHello:
    """The extensions of one ClientHello, decoded from the bytes on the wire."""

    extensions: list
    server_name: str = None
    alpn: list = None


class HelloSniffer:
    """A plain TCP server that reads one ClientHello per connection and hangs up."""

    def __init__(self):
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((LOOPBACK, 0))
        self._sock.listen(4)
        self._sock.settimeout(PEER_TIMEOUT)
        self.port = self._sock.getsockname()[1]
        self.hellos = []
        self.errors = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        _wake_and_close(self._sock)
        self._thread.join(PEER_TIMEOUT)

    def _run(self):
        try:
            conn, _ = self._sock.accept()
        except OSError as e:
            self.errors.append("accept: %s" % e)
            self._done.set()
            return
        with conn:
            conn.settimeout(PEER_TIMEOUT)
            try:
                self.hellos.append(parse_client_hello(_read_handshake_message(conn)))
            except (OSError, ValueError) as e:
                self.errors.append(str(e))
        self._done.set()

    def hello(self, timeout=PEER_TIMEOUT):
        if not self._done.wait(timeout):
            raise AssertionError("no ClientHello arrived at the sniffer")
        if not self.hellos:
            raise AssertionError("the sniffer could not read a ClientHello: %s" % self.errors)
        return self.hellos[0]


def _recv_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ValueError("the client closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def _read_handshake_message(conn):
    """The first handshake message, reassembled from TLS records."""
    body = b""
    while True:
        header = _recv_exactly(conn, 5)
        if header[0] != 22:
            raise ValueError("the first record is of type %d, not handshake" % header[0])
        body += _recv_exactly(conn, int.from_bytes(header[3:5], "big"))
        if len(body) >= 4 and len(body) >= 4 + int.from_bytes(body[1:4], "big"):
            return body[: 4 + int.from_bytes(body[1:4], "big")]


def parse_client_hello(message):
    """Decode a ClientHello handshake message (RFC 8446 section 4.1.2)."""
    if message[0] != 1:
        raise ValueError("handshake message type %d is not ClientHello" % message[0])
    reader = _Reader(message[4:])
    reader.take(2 + 32)
    reader.vector(1)
    reader.vector(2)
    reader.vector(1)
    hello = ClientHello(extensions=[])
    extensions = _Reader(reader.vector(2))
    while not extensions.at_end():
        kind = int.from_bytes(extensions.take(2), "big")
        data = extensions.vector(2)
        hello.extensions.append(kind)
        if kind == 0:
            hello.server_name = _server_name(data)
        elif kind == 16:
            names = _Reader(_Reader(data).vector(2))
            hello.alpn = []
            while not names.at_end():
                hello.alpn.append(names.vector(1))
    return hello


def _server_name(data):
    names = _Reader(_Reader(data).vector(2))
    while not names.at_end():
        kind = names.take(1)[0]
        name = names.vector(2)
        if kind == 0:
            return name.decode("ascii")
    return None


class _Reader:
    def __init__(self, data):
        self.data = data
        self.at = 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise ValueError("ClientHello truncated")
        piece = self.data[self.at : self.at + n]
        self.at += n
        return piece

    def vector(self, size):
        return self.take(int.from_bytes(self.take(size), "big"))

    def at_end(self):
        return self.at >= len(self.data)


# -- a relay that watches the handshake ---------------------------------------


class Relay:
    """A TCP relay from 127.0.0.1:port to a server, keeping the server's bytes.

    One connection is relayed; `server_hello_random()` decodes the ServerHello
    the server sent (TLS 1.2 sends it in clear), for exporter computations.
    """

    def __init__(self, target_port):
        self.target_port = target_port
        self.from_server = bytearray()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((LOOPBACK, 0))
        self._sock.listen(1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._relayed = []
        self._threads = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        _wake_and_close(self._sock)
        self._thread.join(PEER_TIMEOUT)
        for sock in self._relayed:
            _wake(sock)
        for thread in self._threads:
            thread.join(PEER_TIMEOUT)
        for sock in self._relayed:
            sock.close()

    def _run(self):
        try:
            client, _ = self._sock.accept()
        except OSError:
            return
        server = socket.create_connection((LOOPBACK, self.target_port), timeout=PEER_TIMEOUT)
        self._relayed += [client, server]
        for source, sink, keep in ((client, server, None), (server, client, self.from_server)):
            thread = threading.Thread(target=self._pump, args=(source, sink, keep), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _pump(self, source, sink, keep):
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([source], [], [], 0.1)
                if not ready:
                    continue
                data = source.recv(65536)
                if not data:
                    break
                if keep is not None:
                    keep.extend(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def server_hello_random(self):
        """The 32-byte random of the ServerHello the server sent."""
        data = bytes(self.from_server)
        if len(data) < 5 + 4 + 2 + 32 or data[0] != 22 or data[5] != 2:
            raise AssertionError("no ServerHello in the server's first bytes: %r" % data[:16])
        return data[5 + 4 + 2 : 5 + 4 + 2 + 32]


def tls12_prf(hash_name, secret, label, seed, length):
    """The TLS 1.2 PRF (RFC 5246 section 5): P_hash(secret, label + seed)."""
    seed = label + seed
    out = b""
    a = seed
    while len(out) < length:
        a = hmac.new(secret, a, hash_name).digest()
        out += hmac.new(secret, a + seed, hash_name).digest()
    return out[:length]


def tls12_exporter(hash_name, master_secret, client_random, server_random, label, context):
    """RFC 5705 section 4: keying material; `context` None means no context at all."""
    seed = client_random + server_random
    if context is not None:
        seed += len(context).to_bytes(2, "big") + context
    return tls12_prf(hash_name, master_secret, label, seed, 32)


# -- what openssl s_server and s_client print (peers.py runs them) -------------


def exported_keying_material(output):
    """The 'Keying material' an s_client or s_server printed, as bytes, or None."""
    match = re.search(r"Keying material: ([0-9A-Fa-f]+)", output)
    return bytes.fromhex(match.group(1)) if match else None


def acceptable_ca_names(output):
    """The CA names an s_client was shown in a CertificateRequest, as printed."""
    match = re.search(r"Acceptable client certificate CA names\n((?:[^\n]*\n)*?)\S*-", output)
    if not match:
        return None
    return [line for line in match.group(1).splitlines() if line and not line.startswith("-")]


# -- certificates ---------------------------------------------------------------

# Signature algorithm OIDs (RFC 3279, 4055, 5758, 8410) and the hash each names.
SIGNATURE_HASHES = {
    "1.2.840.113549.1.1.4": "md5",
    "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
    "1.3.101.112": None,
    "1.3.101.113": None,
}


def pem_certificates(path):
    """The DER bytes of each certificate in a PEM file, in order."""
    with open(path, "r", encoding="ascii") as f:
        text = f.read()
    blocks = re.findall(
        r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, flags=re.S
    )
    return [ssl.PEM_cert_to_DER_cert(block) for block in blocks]


def first_certificate(path):
    return pem_certificates(path)[0]


def _der_element(data, at):
    """(tag, content start, content end) of the DER element at `at`."""
    tag = data[at]
    length = data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, start + length


def _oid_text(content):
    first = content[0]
    parts = [first // 40, first % 40] if first < 80 else [2, first - 80]
    value = 0
    for byte in content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(p) for p in parts)


def signature_algorithm_oid(der):
    """The OID of a certificate's outer signatureAlgorithm (RFC 5280 section 4.1.1.2)."""
    tag, start, _ = _der_element(der, 0)
    assert tag == 0x30, "a certificate is a SEQUENCE"
    _, _, tbs_end = _der_element(der, start)
    tag, alg_start, _ = _der_element(der, tbs_end)
    assert tag == 0x30, "signatureAlgorithm is a SEQUENCE"
    tag, oid_start, oid_end = _der_element(der, alg_start)
    assert tag == 0x06, "an AlgorithmIdentifier starts with an OID"
    return _oid_text(der[oid_start:oid_end])


def server_end_point(der):
    """RFC 5929 section 4.1: the tls-server-end-point value of a certificate.

    MD5 and SHA-1 become SHA-256; another single hash is used as it is; a
    signature with no single hash (Ed25519, Ed448) has no value: None.
    """
    oid = signature_algorithm_oid(der)
    if oid not in SIGNATURE_HASHES:
        raise ValueError("signature algorithm %s is not in the oracle's table" % oid)
    name = SIGNATURE_HASHES[oid]
    if name is None:
        return None
    if name in ("md5", "sha1"):
        name = "sha256"
    return hashlib.new(name, der).digest()


def openssl_name(path, which="subject"):
    """A certificate's subject or issuer in the one-line form `-nameopt compat` prints."""
    done = subprocess.run(
        [OPENSSL, "x509", "-noout", "-in", path, "-" + which, "-nameopt", "compat"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        check=True,
    )
    text = done.stdout.decode("utf-8").strip()
    prefix = which + "="
    assert text.startswith(prefix), "openssl x509 printed %r" % text
    return text[len(prefix) :].encode("utf-8")


class CertMaker:
    """Certificates made at run time, for cases the committed PKI does not hold."""

    def __init__(self, directory):
        self.dir = str(directory)
        self._serial = 1000

    def _run(self, *args):
        done = subprocess.run(
            [OPENSSL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        if done.returncode != 0:
            raise RuntimeError(
                "openssl %s failed: %s" % (" ".join(args), done.stderr.decode("utf-8", "replace"))
            )

    def key(self, name, kind="ec"):
        path = os.path.join(self.dir, name + ".key")
        if kind == "ec":
            self._run(
                "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path
            )
        elif kind == "rsa":
            self._run(
                "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path
            )
        else:
            self._run("genpkey", "-algorithm", kind, "-out", path)
        return path

    def make(
        self,
        name,
        subject,
        sans=(),
        issuer=("root-ca.pem", "root-ca.key"),
        digest="sha256",
        kind="ec",
        ca=False,
        dates=None,
    ):
        """A certificate `name`.pem with its key `name`.key; returns (cert, key) paths.

        `issuer` is a pair of paths (or of names in certs/), or None for a
        self-signed certificate.  `sans` are openssl subjectAltName entries
        such as "DNS:a.test" or "IP:127.0.0.1".  `dates` is (not before, not
        after) as `openssl ca` takes them ("20000101000000Z"), for an issued
        certificate; without it the certificate is valid from now for 100 years.
        """
        key = self.key(name, kind)
        pem = os.path.join(self.dir, name + ".pem")
        ext = os.path.join(self.dir, name + ".ext")
        lines = ["[v3]"]
        if sans:
            lines.append("subjectAltName=" + ",".join(sans))
        lines.append("basicConstraints=critical,CA:%s" % ("TRUE" if ca else "FALSE"))
        with open(ext, "w", encoding="ascii") as f:
            f.write("\n".join(lines) + "\n")
        self._serial += 1
        digest_args = ["-" + digest] if digest else []
        if issuer is None:
            self._run(
                "req",
                "-new",
                "-x509",
                "-key",
                key,
                "-subj",
                subject,
                "-days",
                "36500",
                "-set_serial",
                str(self._serial),
                "-extensions",
                "v3",
                "-config",
                self._config(ext),
                "-out",
                pem,
                *digest_args,
            )
            return pem, key
        issuer_cert, issuer_key = (p if os.path.isabs(p) else cert(p) for p in issuer)
        csr = os.path.join(self.dir, name + ".csr")
        self._run(
            "req", "-new", "-key", key, "-subj", subject, "-config", self._config(ext), "-out", csr
        )
        if dates is not None:
            self._sign_dated(name, csr, issuer_cert, issuer_key, ext, dates, digest, pem)
            return pem, key
        self._run(
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            issuer_cert,
            "-CAkey",
            issuer_key,
            "-set_serial",
            str(self._serial),
            "-days",
            "36500",
            "-extfile",
            ext,
            "-extensions",
            "v3",
            "-out",
            pem,
            *digest_args,
        )
        return pem, key

    def _sign_dated(self, name, csr, issuer_cert, issuer_key, ext, dates, digest, pem):
        """Sign `csr` with `openssl ca`, the one signer that takes both dates (as
        tools/mkcerts makes the committed expired and not-yet-valid certificates)."""
        work = os.path.join(self.dir, name + ".ca")
        os.mkdir(work)
        database = os.path.join(work, "index.txt")
        open(database, "w").close()
        with open(os.path.join(work, "serial"), "w", encoding="ascii") as f:
            f.write("%04X\n" % self._serial)
        config = os.path.join(work, "ca.cnf")
        with open(ext, encoding="ascii") as f:
            section = f.read()
        with open(config, "w", encoding="ascii") as f:
            f.write(
                "[ca]\ndefault_ca=made\n[made]\ndatabase=%s\nnew_certs_dir=%s\n"
                "serial=%s\npolicy=any\nunique_subject=no\ncopy_extensions=none\n"
                "[any]\norganizationName=optional\ncommonName=optional\n%s"
                % (database, work, os.path.join(work, "serial"), section)
            )
        self._run(
            "ca",
            "-config",
            config,
            "-batch",
            "-notext",
            "-preserveDN",
            "-cert",
            issuer_cert,
            "-keyfile",
            issuer_key,
            "-in",
            csr,
            "-out",
            pem,
            "-startdate",
            dates[0],
            "-enddate",
            dates[1],
            "-md",
            digest or "sha256",
            "-extensions",
            "v3",
        )

    def _config(self, ext):
        """A minimal openssl.cnf holding the v3 section (req needs a config)."""
        path = ext + ".cnf"
        with open(ext, encoding="ascii") as f:
            section = f.read()
        with open(path, "w", encoding="ascii") as f:
            f.write("[req]\ndistinguished_name=dn\n[dn]\n" + section)
        return path


def certificate_hostnames(path):
    """RFC 2818 section 3.1, as D.hostnames.1 reads it: the dNSName entries in
    order, else the last common name, else nothing; parsed with `cryptography`."""
    with open(path, "rb") as f:
        certificate = x509.load_pem_x509_certificate(f.read())
    try:
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        dns = sans.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns = []
    if dns:
        return list(dns)
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return [names[-1].value] if names else []


# Certificates the clauses name that the committed PKI does not hold, made
# once per process on first use: name -> CertMaker.make keyword arguments.
LOOPBACK_SANS = ("DNS:localhost", "IP:127.0.0.1", "IP:::1")
MADE = {
    # S5.check-hostname: the peer certificate the clauses describe.
    "check-hostname": dict(
        subject="/CN=cn.example.org",
        sans=(
            "DNS:*.example.com",
            "DNS:f*.foo.test",
            "DNS:exact.test",
            "DNS:*.com",
            "DNS:xn--*.idn.test",
            "IP:127.0.0.1",
            "IP:::1",
        ),
    ),
    # S5.check-hostname.5, S5.hostname.8: one iPAddress entry and CN localhost.
    "ip-only": dict(subject="/CN=localhost", sans=("IP:127.0.0.1",)),
    # S5.check-hostname.6, S5.hostname.8: a dNSName that spells an address.
    "dns-ip-only": dict(subject="/CN=dns-ip-only", sans=("DNS:127.0.0.1",)),
    # S5.hostnames.3: entries of every kind around two dNSNames.
    "mixed-sans": dict(
        subject="/CN=mixed.example.test",
        sans=(
            "DNS:a.example.test",
            "IP:127.0.0.1",
            "email:someone@example.test",
            "URI:https://uri.example.test/",
            "DNS:c.example.test",
        ),
    ),
    # S5.hostnames.4: neither a dNSName nor a common name.
    "no-cn": dict(subject="/O=sslport", sans=("IP:127.0.0.1",)),
    # A loopback server under the root no test trusts.
    "untrusted-localhost": dict(
        subject="/CN=untrusted-localhost",
        sans=LOOPBACK_SANS,
        issuer=("untrusted-root.pem", "untrusted-root.key"),
    ),
    # S5.binding.9: SHA-224 with RSA (the root's key) and with ECDSA (the
    # intermediate's), and SHA-384 with ECDSA.
    "sha224-rsa": dict(subject="/CN=server-sha224-rsa", sans=LOOPBACK_SANS, digest="sha224"),
    "sha224-ecdsa": dict(
        subject="/CN=server-sha224-ecdsa",
        sans=LOOPBACK_SANS,
        digest="sha224",
        issuer=("inter-ca.pem", "inter-ca.key"),
    ),
    "sha384-ecdsa": dict(
        subject="/CN=server-sha384-ecdsa",
        sans=LOOPBACK_SANS,
        digest="sha384",
        issuer=("inter-ca.pem", "inter-ca.key"),
    ),
    # S5.verified.1, S5.verified.3: client certificates under the trusted
    # root with no extended key usage, alike but for their validity period
    # (the committed expired and not-yet-valid ones are for servers only).
    "client-in-date": dict(
        subject="/O=sslport/CN=sslport In-Date Client", dates=("20200101000000Z", "21991231235959Z")
    ),
    "client-expired": dict(
        subject="/O=sslport/CN=sslport Expired Client", dates=("20000101000000Z", "20010101000000Z")
    ),
    "client-not-yet-valid": dict(
        subject="/O=sslport/CN=sslport Not-Yet-Valid Client",
        dates=("21900101000000Z", "21991231235959Z"),
    ),
    # S5.binding.11: Ed448 signs with no separate hash.
    "ed448": dict(
        subject="/CN=server-ed448", sans=LOOPBACK_SANS, issuer=None, digest=None, kind="ED448"
    ),
}
_made = {}
_made_lock = threading.Lock()
_made_dir = None


def made_cert(name):
    """(certificate path, key path) of a certificate in MADE, made on first use."""
    global _made_dir
    with _made_lock:
        if name not in _made:
            if _made_dir is None:
                _made_dir = tempfile.mkdtemp(prefix="sslport-certs-")
                atexit.register(shutil.rmtree, _made_dir, True)
            _made[name] = CertMaker(_made_dir).make(name, **MADE[name])
        return _made[name]


# -- driving the shim against a peer ------------------------------------------


def shim_connect(shim, port, client, hostname="localhost", **keywords):
    """ssl-connect from the shim to 127.0.0.1:port (through `hostname`); an Outcome."""
    target = Symbol(client) if isinstance(client, str) else client
    try:
        ports = shim.call(
            "ssl-connect", hostname, port, target, timeout=HANDSHAKE_TIMEOUT, **keywords
        )
    except ShimError as error:
        return Outcome(error=error)
    return Outcome(ports=tuple(ports))


def shim_wrap(shim, port, context, **keywords):
    """A plain TCP connection to 127.0.0.1:port wrapped with ports->ssl-ports in
    connect mode; `keywords` are Racket keyword names (`hostname`, `alpn`, ...)."""
    tcp_in, tcp_out = shim.call("tcp-connect", LOOPBACK, port)
    kw = {"mode": Symbol("connect"), "context": context, "close-original?": True}
    kw.update(keywords)
    try:
        ports = shim.call("ports->ssl-ports", tcp_in, tcp_out, kw=kw, timeout=HANDSHAKE_TIMEOUT)
    except ShimError as error:
        for op, port_handle in (("close-output-port", tcp_out), ("close-input-port", tcp_in)):
            try:
                shim.call(op, port_handle)
            except ShimError:
                pass
        return Outcome(error=error)
    return Outcome(ports=tuple(ports))


def settle(future, timeout=HANDSHAKE_TIMEOUT):
    """The Outcome of a started ssl-accept or ports->ssl-ports call."""
    try:
        return Outcome(ports=tuple(future.result(timeout)))
    except ShimError as error:
        return Outcome(error=error)


def on_both_ports(shim, op, outcome, *args):
    """Call `op` on the input and the output port of one end; both must agree."""
    answers = [shim.call(op, port, *args) for port in outcome.ports]
    assert answers[0] == answers[1], "%s: input port %r, output port %r" % (
        op,
        answers[0],
        answers[1],
    )
    return answers[0]


def close_end(shim, end):
    """Close both ports of one end, if it has them (errors ignored)."""
    if end.ok:
        for op, port in (("close-output-port", end.output), ("close-input-port", end.input)):
            try:
                shim.call(op, port)
            except ShimError:
                pass
