"""Contexts, listeners, loggers and the procedures the shim makes (sections 1, 2 and 4).

A context is an ssl.SSLContext with what the API adds around it: a seal,
the verification mode the API asked for (Python's CERT_* values cannot say
"verify hostnames without verifying certificates", so hostnames are checked
by the shim itself, see hostcheck.py), the certificate chain and key last
loaded (Python loads the two together, the API one at a time), the keylogger
and the server's name callback.
"""

import os
import shutil
import ssl
import tempfile
import threading

import der
from core import (
    GLOBAL_LOG,
    GLOBAL_LOG_LOCK,
    RacketError,
    NotProvided,
    Symbol,
    contract_error,
    fail,
    is_path,
    is_symbol,
    log_warning,
    op,
    printed,
    truthy,
    unsupported,
    value,
    want_boolean,
    want_path,
    want_string,
)
from ports import Event

# -- files the shim writes: keys on their way into OpenSSL, key logs, DH parameters -----

_private_dir = None
_private_lock = threading.Lock()


def private_dir():
    """A directory only this process's user can read, removed at exit."""
    global _private_dir
    with _private_lock:
        if _private_dir is None:
            _private_dir = tempfile.mkdtemp(prefix="sslport-python-shim-")
        return _private_dir


def remove_private_files():
    if _private_dir is not None:
        shutil.rmtree(_private_dir, ignore_errors=True)


class TemporaryFile:
    """A private file holding `data`, deleted when the `with` block ends."""

    def __init__(self, data):
        self.data = data
        self.path = None

    def __enter__(self):
        fd, self.path = tempfile.mkstemp(dir=private_dir())
        with os.fdopen(fd, "wb") as f:
            f.write(self.data)
        return self.path

    def __exit__(self, *exc):
        try:
            os.unlink(self.path)
        except OSError:
            pass


# -- Diffie-Hellman parameters -----------------------------------------------------------

# Python's ssl module has no automatic DH parameters, so a server context
# could not use DHE suites at all, while the API enables them by default
# (S4.dhe.1).  Each server context therefore loads the RFC 7919 ffdhe2048
# group, computed here from its definition:
#   p = 2^2048 - 2^1984 + (floor(2^1918 * e) + 560316) * 2^64 - 1,  g = 2.


def _e_scaled(bits):
    """floor(e * 2^bits)."""
    guard = 64
    scale = 1 << (bits + guard)
    total, term, k = 0, scale, 0
    while term:
        total += term
        k += 1
        term //= k
    return total >> guard


def _der_integer(n):
    body = n.to_bytes((n.bit_length() + 8) // 8, "big")
    return b"\x02" + _der_length(len(body)) + body


def _der_length(n):
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def ffdhe2048_pem():
    p = (1 << 2048) - (1 << 1984) + ((_e_scaled(1918) + 560316) << 64) - 1
    body = _der_integer(p) + _der_integer(2)
    return der.pem("DH PARAMETERS", b"\x30" + _der_length(len(body)) + body).encode("ascii")


_dh_path = []
_dh_lock = threading.Lock()


def load_dh(context):
    with _dh_lock:
        if not _dh_path:
            fd, path = tempfile.mkstemp(dir=private_dir(), suffix=".pem")
            with os.fdopen(fd, "wb") as f:
                f.write(ffdhe2048_pem())
            _dh_path.append(path)
    context.load_dh_params(_dh_path[0])


# -- protocols ----------------------------------------------------------------------------

PROTOCOL_NAMES = (
    "secure",
    "auto",
    "sslv2-or-v3",
    "sslv2",
    "sslv3",
    "tls",
    "tls11",
    "tls12",
    "tls13",
)
V = ssl.TLSVersion
# The versions each symbol allows: (minimum, maximum or None for the newest).
VERSION_RANGES = {
    "secure": (V.TLSv1, None),
    "auto": (V.TLSv1, None),
    "sslv2-or-v3": (V.TLSv1, None),
    "tls": (V.TLSv1, V.TLSv1),
    "tls11": (V.TLSv1_1, V.TLSv1_1),
    "tls12": (V.TLSv1_2, V.TLSv1_2),
    "tls13": (V.TLSv1_3, V.TLSv1_3),
}
VERSION_SYMBOLS = ["sslv2", "sslv3", "tls", "tls11", "tls12", "tls13"]


def supported_protocols():
    # SSL 2.0 is gone from OpenSSL 3 and Python; SSL 3.0 only when Python says so.
    names = ["secure", "auto", "sslv2-or-v3"]
    available = {
        "sslv3": ssl.HAS_SSLv3,
        "tls": ssl.HAS_TLSv1,
        "tls11": ssl.HAS_TLSv1_1,
        "tls12": ssl.HAS_TLSv1_2,
        "tls13": ssl.HAS_TLSv1_3,
    }
    return names + [name for name in VERSION_SYMBOLS if available.get(name)]


def want_protocol(who, value, position=None):
    if not is_symbol(value, *PROTOCOL_NAMES):
        raise contract_error(who, "ssl-protocol-symbol/c", value, position)
    return value


def check_supported(who, symbol):
    if symbol.name not in supported_protocols() or symbol.name not in VERSION_RANGES:
        raise unsupported(who, "requested protocol not supported\n  requested: '%s" % symbol.name)


SECURE_CIPHERS = "DEFAULT:!aNULL:!eNULL:!LOW:!EXPORT:!SSLv2"


# -- contexts ------------------------------------------------------------------------------


class KeylogTap:
    """Key-log lines Python writes for a context, read back and sent to a logger."""

    def __init__(self, logger, path):
        self.logger = logger
        self.path = path
        self.offset = 0
        self.lock = threading.Lock()

    def drain(self):
        with self.lock:
            try:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    data = f.read()
            except OSError:
                return
            end = data.rfind(b"\n") + 1
            self.offset += end
        for line in data[:end].splitlines():
            if line and not line.startswith(b"#"):
                self.logger.add("debug", "openssl-keylogger", line.decode("latin-1"), line)


class Context:
    """A client or server context of the API."""

    def __init__(self, server, protocol):
        self.server = server
        self.kind = "ssl-server-context" if server else "ssl-client-context"
        self.lock = threading.RLock()
        self.sealed = False
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        if not server:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        low, high = VERSION_RANGES[protocol]
        context.minimum_version = low
        if high is not None:
            context.maximum_version = high
        if server:
            load_dh(context)
        context.sslport_context = self
        self.ssl = context
        self.verify = "none"
        self.verify_hostname = False
        self.chain = None
        self.key = None
        self.sni = None
        self.keylog = None

    def check_unsealed(self, who):
        if self.sealed:
            raise fail(who, "context is sealed; no further changes are allowed")

    # -- connections --

    def wrap(self, incoming, outgoing, server_side, hostname, alpn):
        """An ssl.SSLObject over two memory BIOs, with a per-connection ALPN list.

        OpenSSL copies the context's ALPN list into each connection when it
        is made, so the list is set for that moment only.
        """
        server_hostname = None if server_side or hostname is False else hostname
        with self.lock:
            if alpn:
                self.ssl.set_alpn_protocols([name.decode("latin-1") for name in alpn])
            try:
                try:
                    return self.ssl.wrap_bio(
                        incoming, outgoing, server_side=server_side, server_hostname=server_hostname
                    )
                except (ValueError, UnicodeError):
                    # A name Python will not send as SNI (empty, a leading dot,
                    # an empty label): no SNI; the hostname check still sees it.
                    return self.ssl.wrap_bio(incoming, outgoing, server_side=server_side)
            finally:
                if alpn:
                    self.ssl.set_alpn_protocols([])

    def drain_keylog(self):
        tap = self.keylog
        if tap is not None:
            tap.drain()

    # -- settings --

    def set_verify(self, mode):
        with self.lock:
            self.verify = mode
            if mode == "none":
                self.ssl.verify_mode = ssl.CERT_NONE
            elif mode == "set" or not self.server:
                # A client cannot verify and go on when verification fails:
                # Python's CERT_OPTIONAL means CERT_REQUIRED for clients.
                self.ssl.verify_mode = ssl.CERT_REQUIRED
            else:
                self.ssl.verify_mode = ssl.CERT_OPTIONAL

    def set_ciphers(self, who, spec):
        try:
            self.ssl.set_ciphers(spec)
        except ssl.SSLError as e:
            raise fail(who, "setting cipher list failed (%s)" % describe(e)) from None

    def load_source(self, who, source):
        """Load one verification source, or raise exn:fail."""
        try:
            if isinstance(source, str):
                self.ssl.load_verify_locations(cafile=source)
            elif source[0].name == "directory":
                if not os.path.isdir(source[1]):
                    raise fail(who, "not a directory\n  path: %s" % source[1])
                self.ssl.load_verify_locations(capath=source[1])
            else:
                raise fail(who, "'%s sources are not available on this platform" % source[0].name)
        except (ssl.SSLError, OSError) as e:
            raise fail(
                who, "could not load verification source %s (%s)" % (printed(source), describe(e))
            ) from None

    def load_chain(self, who, path):
        text = read_file(who, path, "certificate chain")
        certificates = der.certificates(text)
        try:
            for certificate in certificates:
                der.Certificate(certificate)
        except der.DerError:
            certificates = []
        if not certificates:
            raise fail(who, "no certificate found\n  path: %s" % path)
        chain = "".join(der.pem("CERTIFICATE", c) for c in certificates).encode("ascii")
        with self.lock:
            self.chain = chain
            if self.key is not None:
                try:
                    self._install(chain, self.key)
                    return
                except ssl.SSLError:
                    pass
            try:
                self._install(chain, None)
            except ssl.SSLError:
                pass  # the certificate is in; its key is to come

    def load_key(self, who, key):
        with self.lock:
            if self.chain is not None:
                try:
                    self._install(self.chain, key)
                except ssl.SSLError as e:
                    raise fail(who, "the key does not go with the certificate (%s)" % describe(e))
            self.key = key

    def _install(self, chain, key):
        with TemporaryFile(chain) as chain_file:
            if key is None:
                self.ssl.load_cert_chain(chain_file, password=no_password)
                return
            with TemporaryFile(key) as key_file:
                self.ssl.load_cert_chain(chain_file, key_file, password=no_password)

    def own_certificate(self):
        """The DER of the first certificate of the chain this context serves, or None."""
        with self.lock:
            if self.chain is None:
                return None
            return der.certificates(self.chain)[0]

    def set_keylogger(self, logger):
        with self.lock:
            old = self.keylog
            if old is not None:
                old.drain()
            if logger is False:
                self.ssl.keylog_filename = None
                self.keylog = None
            else:
                fd, path = tempfile.mkstemp(dir=private_dir(), suffix=".keylog")
                os.close(fd)
                self.ssl.keylog_filename = path
                self.keylog = KeylogTap(logger, path)
            if old is not None:
                try:
                    os.unlink(old.path)
                except OSError:
                    pass

    def set_name_callback(self, procedure):
        with self.lock:
            self.sni = procedure
            self.ssl.sni_callback = self._server_name

    def _server_name(self, connection, name, _context):
        # Called by OpenSSL for every ClientHello; the API's callback sees
        # only a name the client sent (D.sni.1).
        procedure = self.sni
        if name is None or procedure is None:
            return None
        try:
            answer = procedure.answer(name)
        except Exception:
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
        if answer is False:
            return None
        if isinstance(answer, Context) and answer.server:
            connection.context = answer.ssl
            return None
        return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR

    def set_server_alpn(self, who, protocols):
        try:
            names = [name.decode("ascii") for name in protocols]
        except UnicodeDecodeError:
            raise fail(who, "Python's ssl module takes ALPN names as ASCII text") from None
        with self.lock:
            self.ssl.set_alpn_protocols(names)


def no_password():
    # Never prompt for a pass phrase: an encrypted key fails to load.
    return b""


def describe(error):
    """An OSError or ssl.SSLError as text, without Python's source position."""
    text = str(error)
    if text.endswith(")") and "(_ssl.c:" in text:
        text = text[: text.rfind(" (_ssl.c:")]
    return text


def read_file(who, path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise fail(
            who, "could not read the %s (%s)\n  path: %s" % (what, e.strerror, path)
        ) from None


def parse_key(who, data, rsa, asn1):
    """The PEM text of the key to load from `data` (file contents or bytes)."""
    if asn1:
        try:
            form, is_rsa = der.key_kind(data)
        except der.DerError:
            raise fail(who, "no private key found in the DER data") from None
        if rsa and not is_rsa:
            raise fail(who, "the DER key is not an RSA key")
        return der.pem_key(data).encode("ascii")
    keys = der.pem_keys(data)
    if truthy(rsa):
        keys = [key for key in keys if key[1]]
    if not keys:
        raise fail(who, "no %sprivate key found" % ("RSA " if truthy(rsa) else ""))
    return keys[0][0].encode("ascii")


class SslListener(Event):
    kind = "ssl-listener"

    def __init__(self, tcp, context):
        self.tcp = tcp
        self.context = context

    @property
    def closed(self):
        return self.tcp.closed

    def ready(self):
        return self.tcp.ready()

    def shutdown_for_exit(self):
        self.tcp.shutdown_for_exit()


def want_context(who, value, position=None):
    if not isinstance(value, Context):
        raise contract_error(who, "(or/c ssl-client-context? ssl-server-context?)", value, position)
    return value


def want_server_context(who, value, position=None):
    if not isinstance(value, Context) or not value.server:
        raise contract_error(who, "ssl-server-context?", value, position)
    return value


def context_or_listener(who, value, position=None):
    if isinstance(value, Context):
        return value
    if isinstance(value, SslListener):
        return value.context
    raise contract_error(
        who, "(or/c ssl-client-context? ssl-server-context? ssl-listener?)", value, position
    )


# -- default verification sources and the secure context ------------------------------------


def is_source(value):
    if is_path(value):
        return True
    if not isinstance(value, list) or len(value) != 2:
        return False
    head, arg = value
    if is_symbol(head, "directory"):
        return is_path(arg)
    if is_symbol(head, "win32-store"):
        return isinstance(arg, str)
    if is_symbol(head, "macosx-keychain"):
        return arg is False or is_path(arg)
    return False


def initial_sources():
    paths = ssl.get_default_verify_paths()
    cafile = os.environ.get("SSL_CERT_FILE") or paths.openssl_cafile
    directories = os.environ.get("SSL_CERT_DIR")
    if directories:
        directories = [d for d in directories.split(":") if d]
    else:
        directories = [paths.openssl_capath]
    return [cafile] + [[Symbol("directory"), d] for d in directories]


SOURCES_LOCK = threading.Lock()
SOURCES = [initial_sources()]
SECURE = []


def current_sources():
    with SOURCES_LOCK:
        return [list(s) if isinstance(s, list) else s for s in SOURCES[0]]


def _sources_key(sources):
    return tuple(s if isinstance(s, str) else (s[0].name, s[1]) for s in sources)


def load_default_sources(context):
    for source in current_sources():
        try:
            context.load_source("ssl-load-default-verify-sources!", source)
        except RacketError:
            pass


def new_secure_context(who, private_key=False, chain=False):
    context = Context(False, "auto")
    load_default_sources(context)
    context.set_verify("set")
    context.verify_hostname = True
    context.set_ciphers(who, SECURE_CIPHERS)
    load_credentials(who, context, private_key, chain)
    context.sealed = True
    return context


def secure_context():
    """The cached secure client context for the current default sources."""
    with SOURCES_LOCK:
        key = _sources_key(SOURCES[0])
        if SECURE and SECURE[0][0] == key:
            return SECURE[0][1]
    context = new_secure_context("ssl-secure-client-context")
    with SOURCES_LOCK:
        if SECURE and SECURE[0][0] == key:
            return SECURE[0][1]
        SECURE[:] = [(key, context)]
    return context


# -- making contexts ----------------------------------------------------------------------


def want_key_form(who, value):
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and (
            (is_symbol(value[0], "pem", "der") and is_path(value[1]))
            or (is_symbol(value[0], "pem-data") and isinstance(value[1], bytes))
        )
    )
    if not ok:
        raise contract_error(
            who,
            "(or/c (list/c 'pem path-string?) (list/c 'pem-data bytes?) "
            "(list/c 'der path-string?) #f)",
            value,
        )
    return value


def load_credentials(who, context, private_key, chain):
    if chain is not False:
        context.load_chain(who, chain)
    if private_key is not False:
        form, where = private_key
        if form.name == "pem-data":
            data, asn1 = where, False
        else:
            data, asn1 = read_file(who, where, "private key"), form.name == "der"
        context.load_key(who, parse_key(who, data, False, asn1))


def make_context(who, server, args, kw):
    protocol = args[0] if args else Symbol("auto")
    want_protocol(who, protocol, 1)
    private_key = kw.get("private-key", False)
    chain = kw.get("certificate-chain", False)
    if private_key is not False:
        want_key_form(who, private_key)
    if chain is not False:
        want_path(who, chain)
    return context_from(who, server, protocol, private_key, chain)


def context_from(who, server, protocol, private_key=False, chain=False):
    """A context made from a protocol symbol (already checked by want_protocol)."""
    check_supported(who, protocol)
    if protocol.name == "secure" and not server:
        if private_key is False and chain is False:
            return secure_context()
        return new_secure_context(who, private_key, chain)
    context = Context(server, "auto" if protocol.name == "secure" else protocol.name)
    load_credentials(who, context, private_key, chain)
    return context


@op("ssl-make-client-context", 0, 1, keywords=("private-key", "certificate-chain"))
def op_make_client_context(who, args, kw):
    return make_context(who, False, args, kw)


@op("ssl-make-server-context", 0, 1, keywords=("private-key", "certificate-chain"))
def op_make_server_context(who, args, kw):
    return make_context(who, True, args, kw)


@op("ssl-secure-client-context")
def op_secure_client_context(who):
    return secure_context()


@op("supported-client-protocols")
def op_supported_client_protocols(who):
    return [Symbol(name) for name in supported_protocols()]


@op("supported-server-protocols")
def op_supported_server_protocols(who):
    return [Symbol(name) for name in supported_protocols()]


def newest_protocol():
    versions = [name for name in VERSION_SYMBOLS if name in supported_protocols()]
    return Symbol(versions[-1]) if versions else False


@op("ssl-max-client-protocol")
def op_max_client_protocol(who):
    return newest_protocol()


@op("ssl-max-server-protocol")
def op_max_server_protocol(who):
    return newest_protocol()


@op("ssl-client-context?", 1)
def op_is_client_context(who, thing):
    return isinstance(thing, Context) and not thing.server


@op("ssl-server-context?", 1)
def op_is_server_context(who, thing):
    return isinstance(thing, Context) and thing.server


@value("ssl-protocol-symbol/c")
def value_protocol_symbols():
    return [Symbol(name) for name in PROTOCOL_NAMES]


@value("ssl-dh4096-param-bytes")
def value_dh4096_param_bytes():
    return b""


# -- verification sources -----------------------------------------------------------------

SOURCE_CONTRACT = (
    "(or/c path-string? (list/c 'directory path-string?) (list/c 'win32-store string?) "
    "(list/c 'macosx-keychain (or/c #f path-string?)))"
)


@op("ssl-load-verify-source!", 2, 2, keywords=("try?",))
def op_load_verify_source(who, args, kw):
    context = want_context(who, args[0], 1)
    source = args[1]
    if not is_source(source):
        raise contract_error(who, SOURCE_CONTRACT, source, 2)
    with context.lock:
        context.check_unsealed(who)
        try:
            context.load_source(who, source)
        except RacketError:
            if not truthy(kw.get("try?", False)):
                raise


@op("ssl-default-verify-sources", 0, 1)
def op_default_verify_sources(who, *new):
    if not new:
        return current_sources()
    (sources,) = new
    if not isinstance(sources, list) or not all(is_source(s) for s in sources):
        raise contract_error(who, "(listof %s)" % SOURCE_CONTRACT, sources)
    with SOURCES_LOCK:
        SOURCES[0] = [list(s) if isinstance(s, list) else s for s in sources]
    return None


@op("ssl-load-default-verify-sources!", 1)
def op_load_default_verify_sources(who, context):
    context = want_context(who, context)
    with context.lock:
        if current_sources():
            context.check_unsealed(who)
        load_default_sources(context)


@op("ssl-load-verify-root-certificates!", 2)
def op_load_verify_root_certificates(who, target, path):
    context = context_or_listener(who, target, 1)
    want_path(who, path, 2)
    with context.lock:
        context.check_unsealed(who)
        context.load_source(who, path)


# -- ciphers, sealing, chains, keys ------------------------------------------------------


@op("ssl-set-ciphers!", 2)
def op_set_ciphers(who, context, spec):
    context = want_context(who, context, 1)
    want_string(who, spec, 2)
    with context.lock:
        context.check_unsealed(who)
        context.set_ciphers(who, spec)


@op("ssl-seal-context!", 1)
def op_seal_context(who, context):
    want_context(who, context).sealed = True


@op("ssl-load-certificate-chain!", 2)
def op_load_certificate_chain(who, target, path):
    context = context_or_listener(who, target, 1)
    want_path(who, path, 2)
    with context.lock:
        context.check_unsealed(who)
        context.load_chain(who, path)


def want_key_source(who, value):
    if is_path(value):
        return value
    if (
        isinstance(value, list)
        and len(value) == 2
        and is_symbol(value[0], "data")
        and isinstance(value[1], bytes)
    ):
        return value
    raise contract_error(who, "(or/c path-string? (list/c 'data bytes?))", value, 2)


@op("ssl-load-private-key!", 2, 4)
def op_load_private_key(who, target, source, rsa=True, asn1=False):
    context = context_or_listener(who, target, 1)
    want_key_source(who, source)
    with context.lock:
        context.check_unsealed(who)
        if isinstance(source, str):
            data = read_file(who, source, "private key")
        elif truthy(asn1):
            raise fail(who, "asn1? is supported only for a key read from a file")
        else:
            data = source[1]
        context.load_key(who, parse_key(who, data, truthy(rsa), truthy(asn1)))


@op("ssl-load-suggested-certificate-authorities!", 2)
def op_load_suggested_certificate_authorities(who, target, path):
    # SSL_CTX_set_client_CA_list has no counterpart in Python's ssl module.
    raise NotProvided("op %s (Python's ssl module cannot set the CA names a server sends)" % who)


# -- DHE and ECDHE (deprecated, no effect) -----------------------------------------------------


@op("ssl-server-context-enable-dhe!", 1, 2)
def op_enable_dhe(who, context, *param):
    want_server_context(who, context, 1)
    if param and not (is_path(param[0]) or isinstance(param[0], bytes)):
        raise contract_error(who, "(or/c path-string? bytes?)", param[0], 2)
    log_warning("openssl", "%s: deprecated; it has no effect" % who)


@op("ssl-server-context-enable-ecdhe!", 1, 2)
def op_enable_ecdhe(who, context, *curve):
    want_server_context(who, context, 1)
    if curve and not isinstance(curve[0], Symbol):
        raise contract_error(who, "symbol?", curve[0], 2)
    log_warning("openssl", "%s: deprecated; it has no effect" % who)


# -- server name indication, server ALPN, keylogger, hostname verification -------------------


class Procedure:
    kind = "procedure"

    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    def record(self, call):
        with self.lock:
            self.calls.append(call)


@op("ssl-set-server-name-identification-callback!", 2)
def op_set_name_callback(who, context, callback):
    context = want_server_context(who, context, 1)
    if not isinstance(callback, Procedure):
        raise contract_error(who, "(string? . -> . (or/c ssl-server-context? #f))", callback, 2)
    with context.lock:
        context.check_unsealed(who)
        context.set_name_callback(callback)


def want_alpn(who, value, position=None):
    if not isinstance(value, list) or not all(
        isinstance(name, bytes) and 1 <= len(name) <= 255 for name in value
    ):
        raise contract_error(
            who, "(listof (and/c bytes? (lambda (b) (<= 1 (bytes-length b) 255))))", value, position
        )
    return value


@op("ssl-set-server-alpn!", 2, 3)
def op_set_server_alpn(who, context, protocols, allow_no_match=True):
    context = want_server_context(who, context, 1)
    want_alpn(who, protocols, 2)
    want_boolean(who, allow_no_match, 3)
    if allow_no_match is False:
        # Python's ssl module answers a client with no protocol in common by
        # selecting none (SSL_TLSEXT_ERR_NOACK); it cannot refuse it.
        raise NotProvided(
            "%s with allow-no-match? #f (Python's ssl module cannot refuse a "
            "client with no protocol in common)" % who
        )
    with context.lock:
        context.check_unsealed(who)
        context.set_server_alpn(who, protocols)


class Logger:
    kind = "logger"

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    def add(self, level, topic, message, data):
        with self.lock:
            self.messages.append([Symbol(level), Symbol(topic), message, data])


@op("ssl-set-keylogger!", 2)
def op_set_keylogger(who, context, logger):
    context = want_context(who, context, 1)
    if logger is not False and not isinstance(logger, Logger):
        raise contract_error(who, "(or/c #f logger?)", logger, 2)
    with context.lock:
        context.check_unsealed(who)
        context.set_keylogger(logger)


@op("ssl-set-verify-hostname!", 2)
def op_set_verify_hostname(who, context, on):
    context = want_context(who, context, 1)
    with context.lock:
        context.check_unsealed(who)
        context.verify_hostname = truthy(on)


# -- loggers and procedures made by the shim -------------------------------------------------


@op("make-logger", 0, 2)
def op_make_logger(who, *ignored):
    return Logger()


@op("logger-messages", 1)
def op_logger_messages(who, logger):
    if not isinstance(logger, Logger):
        raise contract_error(who, "logger?", logger)
    with logger.lock:
        return [list(m) for m in logger.messages]


@op("log-messages")
def op_log_messages(who):
    with GLOBAL_LOG_LOCK:
        return [list(m) for m in GLOBAL_LOG]


ERROR_KINDS = (
    "exn:fail:contract",
    "exn:fail:network",
    "exn:fail",
    "exn:fail:unsupported",
    "exn:break",
)


class ErrorProcedure(Procedure):
    """A procedure for #:error/ssl: called as Racket's `error` is, raises its kind."""

    def __init__(self, kind):
        super().__init__()
        self.raises = kind

    def fail(self, who, message):
        self.record([Symbol(who), message])
        raise RacketError(self.raises, "%s: %s" % (who, message))

    def answer(self, name):
        # Given a hostname as a name callback, it fails as `error` would.
        self.record(name)
        raise RacketError(self.raises, "%s" % name)


class NameCallback(Procedure):
    """A name callback made from [hostname, answer] pairs."""

    def __init__(self, pairs):
        super().__init__()
        self.table = {}
        for name, answer in pairs:
            self.table.setdefault(name, answer)

    def answer(self, name):
        self.record(name)
        answer = self.table.get(name, False)
        if is_symbol(answer, "raise"):
            raise fail("name callback", "raised for %s" % name)
        return answer

    def fail(self, who, message):
        raise contract_error("name callback", "string?", Symbol(who))


class Raiser:
    """The error procedures the API uses by default: `error`, and one for network errors."""

    def __init__(self, kind):
        self.raises = kind

    def fail(self, who, message):
        raise RacketError(self.raises, "%s: %s" % (who, message))


RAISE_FAIL = Raiser("exn:fail")
RAISE_NETWORK = Raiser("exn:fail:network")


@op("make-error-procedure", 1)
def op_make_error_procedure(who, kind):
    if kind not in ERROR_KINDS:
        raise contract_error(who, "an error kind of the protocol", kind)
    return ErrorProcedure(kind)


@op("make-sni-callback", 1)
def op_make_sni_callback(who, pairs):
    if not isinstance(pairs, list) or not all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in pairs
    ):
        raise contract_error(who, "(listof (list/c string? any/c))", pairs)
    return NameCallback(pairs)


@op("procedure-calls", 1)
def op_procedure_calls(who, procedure):
    if not isinstance(procedure, Procedure):
        raise contract_error(who, "a procedure made by the shim", procedure)
    with procedure.lock:
        return list(procedure.calls)
