"""Real TLS peers for interoperability tests: independent ends of a connection.

Each factory starts one peer on loopback and returns an object that is also a
context manager (leaving the `with` block stops the peer):

- `openssl_server`, `openssl_client`: `openssl s_server` / `openssl s_client`;
- `gnutls_server`, `gnutls_client`: `gnutls-serv` / `gnutls-cli`;
- `python_server`, `python_client`: Python's `ssl` module in a thread;
- `curl`: one HTTPS request with `curl`.

The command-line peers are `Process` objects: `port`, `send(bytes)` to their
standard input, `wait_for(regex)` on what they printed, `output()`, `log()`
for assertion messages, `stop()`. The Python peers keep a `Session` record per
connection: the negotiated version, cipher, ALPN choice, SNI name, the bytes
received, the peer's certificate, the key log, or the error that ended it.

Every server listens on 127.0.0.1 on a port the system picks, except
gnutls-serv, which has no option to choose its address: it binds every
interface, on a port the system picks, for the length of one test.

Versions are reported as the names of the protocol symbols ('tls', 'tls11',
'tls12', 'tls13'), so that a test can compare them with what
`ssl-protocol-version` answers. `version=` arguments take those names too,
and mean "exactly that version"; 'tls' and 'tls11' also lower the peer's
security level to 0, as OpenSSL 3.0 needs for them (D.legacy-tls.1).

The `peers` fixture collects peers and stops them after the test; import it
into a test module to use it, or make one there from `PeerSet`, a context
manager.
"""

import atexit
import base64
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import tempfile
import time
import warnings
from dataclasses import dataclass, field

import pytest

from .shim import scaled
from .tls import CERTS, LOOPBACK, cert

START_TIMEOUT = scaled(10.0)
IO_TIMEOUT = scaled(10.0)
STOP_TIMEOUT = 3.0

VERSION_NAMES = {
    0x0300: "sslv3",
    0x0301: "tls",
    0x0302: "tls11",
    0x0303: "tls12",
    0x0304: "tls13",
}
VERSION_TEXTS = {
    "sslv3": "sslv3",
    "tlsv1": "tls",
    "tlsv1.0": "tls",
    "tls1.0": "tls",
    "tlsv1.1": "tls11",
    "tls1.1": "tls11",
    "tlsv1.2": "tls12",
    "tls1.2": "tls12",
    "tlsv1.3": "tls13",
    "tls1.3": "tls13",
}
LEGACY = ("tls", "tls11")
OPENSSL_VERSION_FLAGS = {
    "tls": "-tls1",
    "tls11": "-tls1_1",
    "tls12": "-tls1_2",
    "tls13": "-tls1_3",
}
GNUTLS_VERSIONS = {"tls": "TLS1.0", "tls11": "TLS1.1", "tls12": "TLS1.2", "tls13": "TLS1.3"}
PYTHON_VERSIONS = {
    "tls": ssl.TLSVersion.TLSv1,
    "tls11": ssl.TLSVersion.TLSv1_1,
    "tls12": ssl.TLSVersion.TLSv1_2,
    "tls13": ssl.TLSVersion.TLSv1_3,
}
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"


def _hang_up(sock):
    """Shut a socket down and close it, waking any thread blocked on it."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class PeerError(AssertionError):
    """A peer could not be started, or did not do what a test waited for."""


def require_tool(name):
    """The path of a command-line tool; fails (never skips) when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            "%s is not installed: tools/deps installs the peers' Debian packages" % name,
            pytrace=False,
        )
    return path


def version_name(text):
    """'TLSv1.3', 'TLS1.2', 0x0303 and the like -> 'tls13', 'tls12'; None if unknown."""
    if isinstance(text, int):
        return VERSION_NAMES.get(text)
    if text is None:
        return None
    return VERSION_TEXTS.get(str(text).strip().lower())


def _path(name):
    """A file of the test PKI by its name in certs/, or any path given as such."""
    if name is None:
        return None
    if os.sep in str(name) or os.path.isabs(str(name)):
        return str(name)
    return cert(name)


# -- processes ------------------------------------------------------------------


class Process:
    """A command-line peer: its output, its standard input, its port."""

    def __init__(self, name, argv, env=None, port=None):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.port = port
        self._chunks = []
        self._stdout = bytearray()
        self._stderr = bytearray()
        self._lock = threading.Condition()
        full_env = dict(os.environ)
        full_env.update(env or {})
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=str(CERTS),
                env=full_env,
            )
        except OSError as e:
            raise PeerError("cannot start %s: %s" % (" ".join(self.argv), e)) from None
        self._readers = [
            self._drain(self.proc.stdout, self._stdout, "stdout"),
            self._drain(self.proc.stderr, self._stderr, "stderr"),
        ]

    def _drain(self, stream, sink, label):
        def run():
            while True:
                chunk = stream.read1(65536)
                if not chunk:
                    break
                with self._lock:
                    sink.extend(chunk)
                    self._chunks.append(chunk)
                    self._lock.notify_all()
            with self._lock:
                self._lock.notify_all()

        thread = threading.Thread(target=run, name="%s-%s" % (self.name, label), daemon=True)
        thread.start()
        return thread

    # What the peer printed.

    def stdout(self):
        with self._lock:
            return bytes(self._stdout)

    def stderr(self):
        with self._lock:
            return bytes(self._stderr)

    def output(self):
        """Everything printed so far, stdout and stderr in the order it came."""
        with self._lock:
            return b"".join(self._chunks).decode("utf-8", "replace")

    def log(self):
        """A block for assertion messages: the command line and its output."""
        status = self.proc.poll()
        head = "--- %s: %s (%s) ---" % (
            self.name,
            " ".join(self.argv),
            "running" if status is None else "exit status %s" % status,
        )
        text = self.output()
        if len(text) > 12000:
            text = "...\n" + text[-12000:]
        return "\n%s\n%s" % (head, text)

    def wait_for(self, pattern, timeout=IO_TIMEOUT, stream="output"):
        """Wait until `pattern` (a regex on text) matches what the peer printed."""
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                data = self._stream_bytes(stream)
                found = regex.search(data)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                exited = self.proc.poll() is not None and not any(
                    r.is_alive() for r in self._readers
                )
                if left <= 0 or exited:
                    break
                self._lock.wait(min(left, 0.1))
        raise PeerError("%s never printed %r%s" % (self.name, regex.pattern, self.log()))

    def _stream_bytes(self, stream):
        if stream == "stdout":
            return bytes(self._stdout)
        if stream == "stderr":
            return bytes(self._stderr)
        return b"".join(self._chunks)

    # Talking to it.

    def send(self, data):
        """Write bytes to the peer's standard input (it sends them over TLS)."""
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise PeerError("cannot write to %s: %s%s" % (self.name, e, self.log())) from None

    def close_input(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def wait(self, timeout=IO_TIMEOUT):
        """Wait for the peer to exit; its status."""
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PeerError("%s did not exit in %gs%s" % (self.name, timeout, self.log())) from None
        for reader in self._readers:
            reader.join(STOP_TIMEOUT)
        return status

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        """Terminate the peer (kill it if it lingers); harmless when it has exited."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.close_input()
        for reader in self._readers:
            reader.join(STOP_TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def __repr__(self):
        return "<%s on port %s>" % (self.name, self.port)


def _listening_ports(pid):
    """TCP ports a process listens on over IPv4, read from /proc."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return []
    ports = []
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.append(int(fields[1].split(":")[1], 16))
    return ports


def _wait_for_listening_port(process, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ports = _listening_ports(process.proc.pid)
        if ports:
            return ports[0]
        if process.proc.poll() is not None:
            break
        time.sleep(0.05)
    raise PeerError("%s is not listening%s" % (process.name, process.log()))


# -- openssl s_server / s_client --------------------------------------------------


def _openssl_common(version, alpn, keylog, ciphers):
    args = []
    if version is not None:
        args.append(OPENSSL_VERSION_FLAGS[version])
    if ciphers is None and version in LEGACY:
        ciphers = LEGACY_CIPHERS
    if ciphers is not None:
        args += ["-cipher", ciphers]
    if alpn:
        args += ["-alpn", ",".join(_text(p) for p in alpn)]
    if keylog is not None:
        args += ["-keylogfile", str(keylog)]
    return args


def _chain_args(flag, path):
    """`flag` with a file of the certificates after the first in `path`, if any.

    s_server and s_client send only the first certificate of their -cert file;
    the intermediates go in a separate -cert_chain file.
    """
    blocks = re.findall(
        r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?",
        open(path).read(),
        re.S,
    )
    if len(blocks) < 2:
        return []
    rest = os.path.join(_scratch(), "chain-%d-%s" % (len(_CHAIN_FILES), os.path.basename(path)))
    rest = _CHAIN_FILES.setdefault(path, rest)
    if not os.path.exists(rest):
        with open(rest, "w") as out:
            out.write("".join(blocks[1:]))
    return [flag, rest]


_CHAIN_FILES = {}
_SCRATCH = []


def _scratch():
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix="sslport-peers-"))
        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return _SCRATCH[0]


def _text(protocol):
    return protocol.decode("ascii") if isinstance(protocol, bytes) else str(protocol)


def openssl_server(
    cert="server-loopback-chain.pem",
    key="server-loopback.key",
    version=None,
    ca_file=None,
    verify=None,
    alpn=None,
    servername=None,
    cert2=None,
    key2=None,
    keylog=None,
    ciphers=None,
    naccept=1,
    extra=(),
):
    """`openssl s_server` on 127.0.0.1, a system-chosen port.

    It prints what a client sends and sends what is given to `send`.
    `verify`: None asks for no client certificate, "request" asks for one,
    "require" insists (both verify it against `ca_file`). `servername` with
    `cert2`/`key2` serves a second certificate (its first one only, s_server
    has no chain option for it) to clients asking for that SNI name; s_server
    prints the name it received either way. `naccept`
    connections are served, then it exits (None: no limit).
    """
    argv = [require_tool("openssl"), "s_server", "-accept", "%s:0" % LOOPBACK]
    argv += ["-cert", _path(cert), "-key", _path(key)] + _chain_args("-cert_chain", _path(cert))
    argv += _openssl_common(version, alpn, keylog, ciphers)
    if ca_file is not None:
        argv += ["-CAfile", _path(ca_file)]
    if verify == "request":
        argv += ["-verify", "4"]
    elif verify == "require":
        argv += ["-Verify", "4", "-verify_return_error"]
    if servername is not None:
        argv += ["-servername", servername]
        argv += ["-cert2", _path(cert2 or cert), "-key2", _path(key2 or key)]
    if naccept is not None:
        argv += ["-naccept", str(naccept)]
    argv += list(extra)
    process = Process("openssl s_server", argv)
    try:
        found = process.wait_for(r"ACCEPT(?: [^\s:]+:(\d+))?\s", START_TIMEOUT, "stdout")
        process.port = int(found.group(1)) if found.group(1) else _wait_for_listening_port(process)
    except BaseException:
        process.stop()
        raise
    return process


def openssl_client(
    port,
    host=LOOPBACK,
    version=None,
    ca_file="root-ca.pem",
    cert=None,
    key=None,
    alpn=None,
    servername=None,
    keylog=None,
    ciphers=None,
    verify_hostname=None,
    extra=(),
):
    """`openssl s_client` to `host`:`port`; what it receives goes to its stdout.

    `servername` None sends no SNI; a string sends that name. The client
    verifies the chain against `ca_file` and, with `verify_hostname`, the name;
    it hangs up on a verification error. Its standard input stays open until
    `close_input` (s_client -ign_eof), so it does not hang up on its own.
    """
    argv = [require_tool("openssl"), "s_client", "-connect", "%s:%d" % (host, port), "-ign_eof"]
    argv += _openssl_common(version, alpn, keylog, ciphers)
    if ca_file is not None:
        argv += ["-CAfile", _path(ca_file), "-verify_return_error"]
    if cert is not None:
        argv += ["-cert", _path(cert), "-key", _path(key or cert)]
        argv += _chain_args("-cert_chain", _path(cert))
    if servername is None:
        argv.append("-noservername")
    else:
        argv += ["-servername", servername]
    if verify_hostname is not None:
        argv += ["-verify_hostname", verify_hostname]
    argv += list(extra)
    return Process("openssl s_client", argv, port=port)


def openssl_version(process, timeout=IO_TIMEOUT):
    """The version an openssl s_server or s_client peer negotiated, as a symbol name.

    s_client prints it ("Protocol  : TLSv1.2", "New, TLSv1.3"); s_server prints the session as
    PEM, whose DER holds the version as its second integer.
    """
    if process.name == "openssl s_client":
        # "New, <version>, Cipher is" names the cipher's version, not the
        # connection's, except for TLS 1.3 suites; the session block names the
        # connection's ("Protocol  : TLSv1.1").
        found = process.wait_for(r"Protocol\s*:\s*(\S+)|New, (TLSv1\.3), Cipher", timeout)
        return version_name((found.group(1) or found.group(2)).decode())
    found = process.wait_for(
        r"-----BEGIN SSL SESSION PARAMETERS-----\s+([A-Za-z0-9+/=\s]+?)-----END", timeout
    )
    return version_name(_session_version(base64.b64decode(found.group(1))))


def _session_version(der):
    """The protocol version in a DER SSL_SESSION: SEQUENCE { INTEGER 1, INTEGER v, ... }."""
    position = 1
    position += 1 + (der[position] & 0x7F) if der[position] & 0x80 else 1
    for index in range(2):
        if der[position] != 0x02:
            return None
        length = der[position + 1]
        value = int.from_bytes(der[position + 2 : position + 2 + length], "big")
        position += 2 + length
        if index == 1:
            return value
    return None


# -- gnutls-serv / gnutls-cli -----------------------------------------------------


def _gnutls_priority(version, priority):
    if priority is not None:
        return priority
    if version is None:
        return None
    return "NORMAL:-VERS-ALL:+VERS-%s" % GNUTLS_VERSIONS[version]


def gnutls_server(
    cert="server-loopback-chain.pem",
    key="server-loopback.key",
    version=None,
    priority=None,
    ca_file=None,
    require_client_cert=False,
    alpn=None,
    keylog=None,
    extra=(),
):
    """`gnutls-serv --echo`: it sends each line it receives back to the client.

    It prints "- Version: TLS1.3" and the SNI name for every connection. It
    asks for no client certificate unless `require_client_cert`.
    """
    argv = [require_tool("gnutls-serv"), "--port", "0", "--echo"]
    argv += ["--x509certfile", _path(cert), "--x509keyfile", _path(key)]
    prio = _gnutls_priority(version, priority)
    if prio is not None:
        argv.append("--priority=%s" % prio)
    if ca_file is not None:
        argv += ["--x509cafile", _path(ca_file)]
    argv.append("--require-client-cert" if require_client_cert else "--disable-client-cert")
    for protocol in alpn or ():
        argv.append("--alpn=%s" % _text(protocol))
    argv += list(extra)
    env = {"SSLKEYLOGFILE": str(keylog)} if keylog is not None else None
    process = Process("gnutls-serv", argv, env=env)
    try:
        process.wait_for(r"listening on IPv4", START_TIMEOUT)
        process.port = _wait_for_listening_port(process)
    except BaseException:
        process.stop()
        raise
    return process


def gnutls_client(
    port,
    host="localhost",
    version=None,
    priority=None,
    ca_file="root-ca.pem",
    cert=None,
    key=None,
    alpn=None,
    keylog=None,
    insecure=False,
    extra=(),
):
    """`gnutls-cli` to `host`:`port`; it sends its standard input, prints what it gets.

    It verifies the server against `ca_file` and `host` (SNI is `host` unless
    it is an IP literal) unless `insecure`.
    """
    argv = [require_tool("gnutls-cli"), "--port", str(port)]
    prio = _gnutls_priority(version, priority)
    if prio is not None:
        argv.append("--priority=%s" % prio)
    if ca_file is not None:
        argv += ["--x509cafile", _path(ca_file)]
    if cert is not None:
        argv += ["--x509certfile", _path(cert), "--x509keyfile", _path(key or cert)]
    for protocol in alpn or ():
        argv.append("--alpn=%s" % _text(protocol))
    if insecure:
        argv.append("--insecure")
    argv += list(extra)
    argv.append(host)
    env = {"SSLKEYLOGFILE": str(keylog)} if keylog is not None else None
    return Process("gnutls-cli", argv, env=env, port=port)


def gnutls_version(process, timeout=IO_TIMEOUT):
    """The version a gnutls peer negotiated, as a symbol name."""
    found = process.wait_for(r"(?:- Version: |- Description: \()(TLS1\.\d)", timeout)
    return version_name(found.group(1).decode())


# -- curl ------------------------------------------------------------------------


def curl(port, path="/", host="localhost", ca_file="root-ca.pem", keylog=None, extra=()):
    """One HTTPS GET with curl, verifying against `ca_file`; the body goes to stdout.

    `curl_version(process)` reads the version from its verbose log.
    """
    argv = [require_tool("curl"), "--silent", "--show-error", "--verbose"]
    argv += ["--max-time", str(int(IO_TIMEOUT)), "--http1.1"]
    if ca_file is not None:
        argv += ["--cacert", _path(ca_file)]
    argv += list(extra)
    argv.append("https://%s:%d%s" % (host, port, path))
    env = {"SSLKEYLOGFILE": str(keylog)} if keylog is not None else None
    return Process("curl", argv, env=env, port=port)


def curl_version(process, timeout=IO_TIMEOUT):
    found = process.wait_for(r"SSL connection using (\S+)", timeout)
    return version_name(found.group(1).decode())


# -- Python's ssl module -------------------------------------------------------------


@dataclass
class Session:
    """What a Python peer saw of one connection."""

    version: str = None  # a symbol name: 'tls13', ...
    version_text: str = None  # as Python reports it: 'TLSv1.3'
    cipher: tuple = None
    alpn: str = None
    server_name: str = None  # the SNI name the server received
    peer_cert: bytes = field(default=None, repr=False)  # DER, or None
    tls_unique: bytes = field(default=None, repr=False)
    received: bytes = b""
    sent: bytes = b""
    error: str = None
    closed_cleanly: bool = None
    notes: list = field(default_factory=list)


def _python_context(
    side, version, cert, key, ca_file, verify, alpn, ciphers, keylog, check_hostname=False
):
    context = ssl.SSLContext(
        ssl.PROTOCOL_TLS_SERVER if side == "server" else ssl.PROTOCOL_TLS_CLIENT
    )
    if side == "client":
        context.check_hostname = check_hostname
    if version is not None:
        allow_versions(context, version, version)
    if ciphers is None and version in LEGACY:
        ciphers = LEGACY_CIPHERS
    if ciphers is not None:
        context.set_ciphers(ciphers)
    if cert is not None:
        context.load_cert_chain(_path(cert), _path(key) if key else None)
    if ca_file is not None:
        context.load_verify_locations(_path(ca_file))
    if verify is not None:
        context.verify_mode = verify
    if alpn:
        context.set_alpn_protocols([_text(p) for p in alpn])
    if keylog is not None:
        context.keylog_filename = str(keylog)
    return context


def allow_versions(context, low=None, high=None):
    """Set an ssl.SSLContext's version range by symbol names ('tls' ... 'tls13').

    TLS 1.0 and 1.1 are deprecated in Python; the tests use them on purpose.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if low is not None:
            context.minimum_version = PYTHON_VERSIONS[low]
        if high is not None:
            context.maximum_version = PYTHON_VERSIONS[high]


def _record(sock, session):
    session.version_text = sock.version()
    session.version = version_name(session.version_text)
    session.cipher = sock.cipher()
    session.alpn = sock.selected_alpn_protocol()
    session.peer_cert = sock.getpeercert(binary_form=True)
    try:
        session.tls_unique = sock.get_channel_binding("tls-unique")
    except (ValueError, ssl.SSLError):
        session.tls_unique = None


def read_line(sock, session, limit=1 << 20):
    """Read until a line feed or eof; the bytes read."""
    data = bytearray()
    while b"\n" not in data and len(data) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data.extend(chunk)
    session.received += bytes(data)
    return bytes(data)


def read_to_eof(sock, session):
    """Read until the peer closes (close_notify or TCP close)."""
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(65536)
        except ssl.SSLEOFError:
            session.notes.append("eof without close_notify")
            break
        if not chunk:
            break
        data.extend(chunk)
    session.received += bytes(data)
    return bytes(data)


def echo_line(reply=None, wait_for_peer=False):
    """A server handler: read one line, send `reply` (default: the line), close_notify.

    With `wait_for_peer`, it then waits for the client's close_notify too.
    """

    def handle(sock, session):
        line = read_line(sock, session)
        answer = line if reply is None else (reply(line) if callable(reply) else reply)
        sock.sendall(answer)
        session.sent += answer
        close_notify(sock, session, wait_for_peer)

    return handle


def close_notify(sock, session, wait_for_peer=False):
    """Send close_notify; wait for the peer's only if asked.

    Without waiting, the socket is made non-blocking first, so that the
    second half of the shutdown (reading the peer's close_notify) does not
    block; `session.closed_cleanly` then says whether the peer's had come.
    """
    if not wait_for_peer:
        sock.settimeout(0.0)
    try:
        sock.unwrap()
        session.closed_cleanly = True
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        session.closed_cleanly = False
        session.notes.append("close_notify sent; the peer's not awaited")
    except (OSError, ssl.SSLError, ValueError) as e:
        session.closed_cleanly = False
        session.notes.append("unwrap: %s" % e)


class PythonServer:
    """A server of Python's ssl module, in a thread, on 127.0.0.1."""

    name = "python ssl server"

    def __init__(self, context, handler, connections, timeout):
        self.context = context
        self.handler = handler
        self.sessions = []
        self.errors = []
        self._timeout = timeout
        self._connections = connections
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(8)
        self._listener.settimeout(timeout)
        self.port = self._listener.getsockname()[1]
        self._user_sni = context.sni_callback
        self._active = None
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()

    def _serve(self):
        for _ in range(self._connections):
            try:
                raw, _address = self._listener.accept()
            except OSError as e:
                self.errors.append("accept: %s" % e)
                return
            self._one(raw)

    def _one(self, raw):
        session = Session()
        self.sessions.append(session)
        raw.settimeout(self._timeout)
        self._active = raw

        def sni(sock, name, context):
            session.server_name = name
            if self._user_sni is not None:
                return self._user_sni(sock, name, context)
            return None

        self.context.sni_callback = sni
        try:
            with self.context.wrap_socket(raw, server_side=True) as sock:
                _record(sock, session)
                self.handler(sock, session)
        except (OSError, ssl.SSLError, ValueError) as e:
            if session.error is None and not self._stopping:
                session.error = "%s: %s" % (type(e).__name__, e)
        finally:
            self._active = None
            raw.close()

    def wait(self, timeout=IO_TIMEOUT):
        """Wait until the server has served its connections; its sessions."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise PeerError("%s still serving after %gs%s" % (self.name, timeout, self.log()))
        return self.sessions

    def session(self, index=0, timeout=IO_TIMEOUT):
        """The record of one connection, once it has ended."""
        self.wait(timeout)
        if len(self.sessions) <= index:
            raise PeerError("%s saw no connection %d%s" % (self.name, index, self.log()))
        return self.sessions[index]

    def log(self):
        lines = ["--- %s on port %s ---" % (self.name, self.port)]
        lines += ["error: %s" % e for e in self.errors]
        for number, session in enumerate(self.sessions):
            lines.append("connection %d: %r" % (number, session))
        return "\n" + "\n".join(lines)

    def stop(self):
        self._stopping = True
        _hang_up(self._listener)
        _hang_up(self._active)
        self._thread.join(STOP_TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def python_server(
    cert="server-loopback-chain.pem",
    key="server-loopback.key",
    version=None,
    ca_file=None,
    verify=None,
    alpn=None,
    ciphers=None,
    keylog=None,
    handler=None,
    connections=1,
    context_hook=None,
    timeout=IO_TIMEOUT,
):
    """A Python ssl server in a thread; `sessions` records each connection.

    `handler(sock, session)` runs for each connection after the handshake;
    the default reads a line and sends it back (`echo_line()`). `verify` is an
    `ssl.CERT_*` mode for client certificates. `context_hook(context)` may
    change the `ssl.SSLContext` before the server starts. The SNI name a
    client sends is in `session.server_name`.
    """
    context = _python_context("server", version, cert, key, ca_file, verify, alpn, ciphers, keylog)
    if context_hook is not None:
        context_hook(context)
    return PythonServer(context, handler or echo_line(), connections, timeout)


class PythonClient:
    """A client of Python's ssl module, in a thread."""

    name = "python ssl client"

    def __init__(self, context, host, port, servername, handler, timeout):
        self.context = context
        self.port = port
        self.session = Session()
        self._args = (host, port, servername, handler, timeout)
        self._raw = None
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self):
        host, port, servername, handler, timeout = self._args
        session = self.session
        try:
            with socket.create_connection((host, port), timeout=timeout) as raw:
                self._raw = raw
                with self.context.wrap_socket(raw, server_hostname=servername) as sock:
                    _record(sock, session)
                    handler(sock, session)
        except (OSError, ssl.SSLError, ValueError) as e:
            session.error = "%s: %s" % (type(e).__name__, e)

    def wait(self, timeout=IO_TIMEOUT):
        """Wait for the client to finish; its session record."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise PeerError("%s still running after %gs%s" % (self.name, timeout, self.log()))
        return self.session

    def log(self):
        return "\n--- %s to port %s ---\n%r" % (self.name, self.port, self.session)

    def stop(self):
        if self._thread.is_alive():
            _hang_up(self._raw)
        self._thread.join(STOP_TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def send_and_read(data, read=None, wait_for_peer=False):
    """A client handler: send `data`, read a line (or `read(sock, session)`), close_notify."""

    def handle(sock, session):
        sock.sendall(data)
        session.sent += data
        (read or read_line)(sock, session)
        close_notify(sock, session, wait_for_peer)

    return handle


def python_client(
    port,
    host=LOOPBACK,
    servername="localhost",
    version=None,
    ca_file="root-ca.pem",
    cert=None,
    key=None,
    alpn=None,
    ciphers=None,
    keylog=None,
    check_hostname=True,
    send=b"hello from python\n",
    handler=None,
    context_hook=None,
    timeout=IO_TIMEOUT,
):
    """A Python ssl client in a thread, connecting at once.

    It verifies the server against `ca_file` (None: verifies nothing) and,
    with `check_hostname`, `servername`, which is also the SNI name (None
    sends none). The default `handler` sends `send` and reads one line.
    """
    verify = ssl.CERT_REQUIRED if ca_file is not None else ssl.CERT_NONE
    context = _python_context(
        "client",
        version,
        cert,
        key,
        ca_file,
        None,
        alpn,
        ciphers,
        keylog,
        check_hostname=check_hostname and ca_file is not None and servername is not None,
    )
    context.verify_mode = verify
    if context_hook is not None:
        context_hook(context)
    return PythonClient(context, host, port, servername, handler or send_and_read(send), timeout)


# -- a fixture ---------------------------------------------------------------------


class PeerSet:
    """Peers started for one test; all are stopped at its end."""

    def __init__(self):
        self.started = []

    def add(self, peer):
        self.started.append(peer)
        return peer

    def openssl_server(self, **kw):
        return self.add(openssl_server(**kw))

    def openssl_client(self, port, **kw):
        return self.add(openssl_client(port, **kw))

    def gnutls_server(self, **kw):
        return self.add(gnutls_server(**kw))

    def gnutls_client(self, port, **kw):
        return self.add(gnutls_client(port, **kw))

    def python_server(self, **kw):
        return self.add(python_server(**kw))

    def python_client(self, port, **kw):
        return self.add(python_client(port, **kw))

    def curl(self, port, **kw):
        return self.add(curl(port, **kw))

    def logs(self):
        """Every peer's log, for assertion messages."""
        return "".join(peer.log() for peer in self.started)

    def stop(self):
        for peer in reversed(self.started):
            peer.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


@pytest.fixture
def peers():
    """A PeerSet: start peers through it and they are stopped after the test."""
    started = PeerSet()
    yield started
    started.stop()


# -- raw TCP peers: a silent server, a ClientHello catcher, a relay ------------------


class RawServer:
    """A plain TCP server on 127.0.0.1 that plays a peer speaking no TLS.

    It accepts one connection, sends `greeting` (bytes, or None for nothing)
    and then keeps reading until the client closes, recording what arrived.
    `accepted` is set once a client is in; `close()` hangs up on it; `closed`
    is set when the client's side has ended (eof, or a reset: `ended_by`).
    """

    name = "raw tcp server"

    def __init__(self, greeting=None, timeout=IO_TIMEOUT):
        self.greeting = greeting
        self.received = bytearray()
        self.ended_by = None
        self.accepted = threading.Event()
        self.closed = threading.Event()
        self._conn = None
        self._timeout = timeout
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(4)
        self._listener.settimeout(timeout)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            conn, _ = self._listener.accept()
        except OSError as e:
            self.ended_by = "accept: %s" % e
            self.closed.set()
            return
        self._conn = conn
        conn.settimeout(self._timeout)
        self.accepted.set()
        try:
            if self.greeting:
                conn.sendall(self.greeting)
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    self.ended_by = "eof"
                    break
                self.received.extend(chunk)
        except ConnectionResetError:
            self.ended_by = "reset"
        except OSError as e:
            self.ended_by = "error: %s" % e
        self.closed.set()

    def wait_accepted(self, timeout=IO_TIMEOUT):
        if not self.accepted.wait(timeout):
            raise PeerError("no client reached the %s%s" % (self.name, self.log()))

    def wait_closed(self, timeout=IO_TIMEOUT):
        """Wait until the client's side of the connection has ended; how it ended."""
        if not self.closed.wait(timeout):
            raise PeerError("the client never closed its connection%s" % self.log())
        return self.ended_by

    def close(self):
        """Hang up on the client (a TCP close, no TLS alert)."""
        if self._conn is not None:
            try:
                self._conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._conn.close()

    def log(self):
        return "\n--- %s on port %s: accepted=%s ended_by=%s received %d bytes: %r ---" % (
            self.name,
            self.port,
            self.accepted.is_set(),
            self.ended_by,
            len(self.received),
            bytes(self.received[:64]),
        )

    def stop(self):
        self.close()
        _hang_up(self._listener)
        self._thread.join(STOP_TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


@dataclass
class ClientHello:
    """The fields of a ClientHello that the tests look at (RFC 8446 section 4.1.2)."""

    legacy_version: int
    extensions: list  # extension type numbers, in order
    supported_versions: list = None  # from extension 43, or None
    server_name: str = None
    alpn: list = None


def parse_client_hello(message):
    """Decode a ClientHello handshake message (type, 3-byte length, body)."""
    if not message or message[0] != 1:
        raise ValueError("not a ClientHello: %r" % message[:8])
    body = _Cursor(message[4:])
    legacy_version = int.from_bytes(body.take(2), "big")
    body.take(32)
    body.vector(1)  # session id
    body.vector(2)  # cipher suites
    body.vector(1)  # compression methods
    hello = ClientHello(legacy_version=legacy_version, extensions=[])
    extensions = _Cursor(body.vector(2) if not body.done() else b"")
    while not extensions.done():
        kind = int.from_bytes(extensions.take(2), "big")
        data = _Cursor(extensions.vector(2))
        hello.extensions.append(kind)
        if kind == 43:
            versions = _Cursor(data.vector(1))
            hello.supported_versions = []
            while not versions.done():
                hello.supported_versions.append(int.from_bytes(versions.take(2), "big"))
        elif kind == 0:
            names = _Cursor(data.vector(2))
            if not names.done() and names.take(1) == b"\x00":
                hello.server_name = names.vector(2).decode("ascii", "replace")
        elif kind == 16:
            names = _Cursor(data.vector(2))
            hello.alpn = []
            while not names.done():
                hello.alpn.append(names.vector(1))
    return hello


class _Cursor:
    def __init__(self, data):
        self.data = bytes(data)
        self.at = 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise ValueError("truncated message")
        piece = self.data[self.at : self.at + n]
        self.at += n
        return piece

    def vector(self, length_size):
        return self.take(int.from_bytes(self.take(length_size), "big"))

    def done(self):
        return self.at >= len(self.data)


def split_records(data):
    """TLS records in a byte stream: [(type, version, payload)], and the bytes left over."""
    records = []
    at = 0
    while len(data) - at >= 5:
        length = int.from_bytes(data[at + 3 : at + 5], "big")
        if len(data) - at < 5 + length:
            break
        records.append(
            (data[at], int.from_bytes(data[at + 1 : at + 3], "big"), data[at + 5 : at + 5 + length])
        )
        at += 5 + length
    return records, data[at:]


def first_handshake_message(data):
    """The first handshake message carried by the records at the start of `data`."""
    records, _ = split_records(data)
    body = b""
    for kind, _version, payload in records:
        if kind != 22:
            break
        body += payload
        if len(body) >= 4 and len(body) >= 4 + int.from_bytes(body[1:4], "big"):
            return body[: 4 + int.from_bytes(body[1:4], "big")]
    raise ValueError("no complete handshake message in %d bytes" % len(data))


class HelloCatcher(RawServer):
    """A plain TCP server that reads a client's first flight and hangs up.

    `hello()` decodes the ClientHello it read.
    """

    name = "ClientHello catcher"

    def _run(self):
        try:
            conn, _ = self._listener.accept()
        except OSError as e:
            self.ended_by = "accept: %s" % e
            self.closed.set()
            return
        self._conn = conn
        conn.settimeout(self._timeout)
        self.accepted.set()
        try:
            while True:
                try:
                    first_handshake_message(bytes(self.received))
                    break
                except ValueError:
                    pass
                chunk = conn.recv(65536)
                if not chunk:
                    break
                self.received.extend(chunk)
        except OSError as e:
            self.ended_by = "error: %s" % e
        conn.close()
        self.closed.set()

    def hello(self, timeout=IO_TIMEOUT):
        self.wait_closed(timeout)
        try:
            return parse_client_hello(first_handshake_message(bytes(self.received)))
        except ValueError as e:
            raise PeerError("no ClientHello could be read: %s%s" % (e, self.log())) from None


class Relay:
    """A TCP relay on 127.0.0.1 to a server, keeping every byte of both directions.

    Data is passed on record by record once the first bytes look like TLS, so
    that `tamper(direction)` can alter the next application-data record (type
    23) sent that way after the call: its last byte is flipped, which breaks
    the record's authentication tag. `direction` is "c2s" or "s2c".
    """

    name = "relay"

    def __init__(self, target_port, target_host=LOOPBACK, timeout=IO_TIMEOUT):
        self.target = (target_host, target_port)
        self.data = {"c2s": bytearray(), "s2c": bytearray()}
        self.tampered = {"c2s": 0, "s2c": 0}
        self.errors = []
        self._armed = {"c2s": False, "s2c": False}
        self._lock = threading.Lock()
        self._timeout = timeout
        self._sockets = []
        self._pumps = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(1)
        self._listener.settimeout(timeout)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            client, _ = self._listener.accept()
            server = socket.create_connection(self.target, timeout=self._timeout)
        except OSError as e:
            self.errors.append("connect: %s" % e)
            return
        self._sockets = [client, server]
        for source, sink, direction in ((client, server, "c2s"), (server, client, "s2c")):
            pump = threading.Thread(target=self._pump, args=(source, sink, direction), daemon=True)
            self._pumps.append(pump)
            pump.start()

    def tamper(self, direction):
        with self._lock:
            self._armed[direction] = True

    def _pump(self, source, sink, direction):
        pending = b""
        try:
            while True:
                try:
                    chunk = source.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    break
                with self._lock:
                    self.data[direction].extend(chunk)
                pending += chunk
                pending = self._forward(pending, sink, direction)
            if pending:
                sink.sendall(pending)
            sink.shutdown(socket.SHUT_WR)
        except OSError as e:
            self.errors.append("%s: %s" % (direction, e))
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _forward(self, pending, sink, direction):
        if pending[:1] not in (b"\x14", b"\x15", b"\x16", b"\x17"):
            sink.sendall(pending)
            return b""
        records, rest = split_records(pending)
        out = bytearray()
        for kind, version, payload in records:
            with self._lock:
                alter = kind == 23 and self._armed[direction]
                if alter:
                    self._armed[direction] = False
                    self.tampered[direction] += 1
            if alter:
                payload = payload[:-1] + bytes([payload[-1] ^ 0x01])
            out += bytes([kind]) + version.to_bytes(2, "big") + len(payload).to_bytes(2, "big")
            out += payload
        if out:
            sink.sendall(bytes(out))
        return rest

    def records(self, direction):
        with self._lock:
            return split_records(bytes(self.data[direction]))[0]

    def log(self):
        return "\n--- %s to port %s: c2s %d bytes, s2c %d bytes, tampered %r, errors %r ---" % (
            self.name,
            self.target[1],
            len(self.data["c2s"]),
            len(self.data["s2c"]),
            self.tampered,
            self.errors,
        )

    def stop(self):
        _hang_up(self._listener)
        for sock in self._sockets:
            _hang_up(sock)
        self._thread.join(STOP_TIMEOUT)
        for pump in self._pumps:
            pump.join(STOP_TIMEOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False
