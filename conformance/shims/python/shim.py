#!/usr/bin/python3
"""An sslport RPC shim over Python's hashlib and ssl modules.

It speaks the JSON Lines protocol of spec/rpc.md on stdin/stdout: every
request runs on its own thread and answers are written, whole lines at a
time, under one lock.  Ops live in the OPS table (core.py), filled by the
modules imported here:

    ports.py        pipes, byte ports, plain TCP, sync/timeout (base ops)
    contexts.py     contexts, verify sources, keys, SNI, ALPN, keylogger,
                    loggers and the procedures the shim makes (sections 1, 2, 4)
    connections.py  SSL ports over any ports: ssl-connect, ssl-accept,
                    ports->ssl-ports, peer verification, channel binding (1-3, 5)
    der.py          the bits of DER and PEM the API needs
    hostcheck.py    hostname matching (D.hostname-match.1)

This file adds hello, hashing, the library values, breaks, release and exit.
An op that is not in the table, or a form of one that Python's ssl module
cannot express, answers `unimplemented`.
"""

import hashlib
import json
import os
import re
import sys
import threading
import time
import warnings

sys.dont_write_bytecode = True
warnings.simplefilter("ignore", DeprecationWarning)  # ssl.TLSVersion.TLSv1 and friends

try:
    import ssl
except ImportError as e:  # pragma: no cover - only on a Python built without ssl
    ssl = None
    SSL_IMPORT_ERROR = "ssl module: %s" % e
else:
    SSL_IMPORT_ERROR = None

from core import (  # noqa: E402
    BREAKS,
    BREAKS_LOCK,
    HANDLES,
    OPS,
    REQUEST,
    VALUES,
    NotProvided,
    RacketError,
    Values,
    contract_error,
    decode,
    encode,
    op,
    want_bytes,
)
from ports import read_all, want_input_port  # noqa: E402

if ssl is not None:
    import connections  # noqa: E402,F401 - registers the TLS ops
    import contexts  # noqa: E402 - registers the context ops
else:
    contexts = None

IMPLEMENTATION = "python-ssl"
VERSION = "8.15.900"


# -- hello, values, release, break ------------------------------------------------------


@op("hello")
def op_hello(who):
    return {
        "implementation": IMPLEMENTATION,
        "version": VERSION,
        "openssl": ssl.OPENSSL_VERSION if ssl else None,
        "hide-libraries": False,
    }


@op("value", 1)
def op_value(who, name):
    if not isinstance(name, str):
        raise contract_error(who, "string?", name)
    if name not in VALUES:
        raise NotProvided("value %s" % name)
    return VALUES[name]()


@op("release", 1)
def op_release(who, obj):
    handle = HANDLES.handle_of(obj)
    if handle is not None:
        HANDLES.release(handle)


@op("break", 1)
def op_break(who, request_id):
    # Only the /enable-break calls look at the event, while they wait.
    with BREAKS_LOCK:
        event = BREAKS.get(request_id)
    if event is not None:
        event.set()


# -- the libraries (sections 0, 8 and 9) ----------------------------------------------------


class Library:
    """A shared library the ssl module has loaded, found in /proc/self/maps."""

    kind = "ffi-lib"

    def __init__(self, path):
        self.path = path


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


VALUES["ssl-available?"] = lambda: ssl is not None
VALUES["ssl-load-fail-reason"] = lambda: SSL_IMPORT_ERROR or False
VALUES["libssl-load-fail-reason"] = lambda: SSL_IMPORT_ERROR or False
VALUES["libcrypto-load-fail-reason"] = lambda: SSL_IMPORT_ERROR or False
LIBRARIES = {}


def _library(prefix):
    if ssl is None:
        return False
    path = loaded_library(prefix)
    if path is None:
        raise NotProvided("%s: the ssl module's library is not visible in this process" % prefix)
    return LIBRARIES.setdefault(prefix, Library(path))


VALUES["libssl"] = lambda: _library("libssl")
VALUES["libcrypto"] = lambda: _library("libcrypto")


# -- hashing (sections 6 and 7) ------------------------------------------------------------

HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")


def hash_port(who, algorithm, port):
    want_input_port(who, port)
    digest = hashlib.new(algorithm, usedforsecurity=False)
    for data in read_all(port, who):
        digest.update(data)
    return digest.digest()


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


# -- the request loop ---------------------------------------------------------------------

OUT_LOCK = threading.Lock()
WORKERS = []


def answer(response):
    line = json.dumps(response, separators=(",", ":")) + "\n"
    with OUT_LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


def run_request(request):
    request_id = request.get("id")
    breaker = threading.Event()
    with BREAKS_LOCK:
        BREAKS[request_id] = breaker
    REQUEST.breaker = breaker
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
    finally:
        with BREAKS_LOCK:
            BREAKS.pop(request_id, None)
    answer(response)


def perform(request):
    name = request.get("op")
    args = request.get("args", [])
    kw = request.get("kw", {})
    if not isinstance(args, list) or not isinstance(kw, dict):
        raise RacketError("exn:fail:contract", "args is an array and kw an object")
    args = decode(args)
    kw = {k: decode(v) for (k, v) in kw.items()}
    if name == "exit":
        shut_down()
        return None
    if name not in OPS:
        raise NotProvided("op %s" % name)
    return OPS[name](args, kw)


def shut_down():
    """Close everything the shim holds, without waiting for any peer."""
    for obj in HANDLES.everything():
        closer = getattr(obj, "shutdown_for_exit", None)
        if closer is not None:
            try:
                closer()
            except Exception:
                pass
    if contexts is not None:
        contexts.remove_private_files()


def refuse(raw, why):
    print("sslport python shim: %s: %r" % (why, raw[:200]), file=sys.stderr)
    message = "not a request: %s" % why
    answer({"id": None, "error": {"kind": "exn:fail:contract", "message": message}})


def main():
    for raw in sys.stdin.buffer:
        try:
            request = json.loads(raw)
        except ValueError:
            refuse(raw, "not JSON")
            continue
        if not isinstance(request, dict) or type(request.get("id")) is not int:
            refuse(raw, "not an object with an integer id")
            continue
        if request.get("op") == "exit":
            run_request(request)
            sys.stdout.flush()
            os._exit(0)
        worker = threading.Thread(target=run_request, args=(request,), daemon=True)
        worker.start()
        # Keep only the requests still in flight: a long run makes many.
        WORKERS[:] = [w for w in WORKERS if w.is_alive()]
        WORKERS.append(worker)
    # End of input without exit: let requests in flight answer, briefly.
    deadline = time.monotonic() + 2.0
    for worker in WORKERS:
        worker.join(max(0.0, deadline - time.monotonic()))
    shut_down()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
