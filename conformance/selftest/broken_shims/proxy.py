#!/usr/bin/python3
"""A shim that forwards to a real shim and breaks one thing on purpose.

    proxy.py FAULT [COMMAND ...]

COMMAND defaults to the Python shim.  FAULT is one of:

    none               forward everything unchanged
    digest64           a wrong digest for inputs of exactly 64 bytes
    odd-hex            hex-string->bytes accepts odd-length strings
    upper-hex          hex strings (sha1, md5, bytes->hex-string) in upper case
    unimplemented-md5  md5 and md5-bytes answer unimplemented
    version=V          hello claims documentation version V
    crash-on=OP        the shim dies (SIGABRT) when it receives OP

The self-check runs the suite through it and insists that the suite fails,
naming the right tests.
"""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PYTHON_SHIM = [sys.executable, str(ROOT / "conformance" / "shims" / "python" / "shim.py")]
HASH_OPS = {"sha1", "sha1-bytes", "md5", "md5-bytes"}


class Proxy:
    def __init__(self, fault, command):
        self.fault, _, self.parameter = fault.partition("=")
        self.child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.out_lock = threading.Lock()
        self.lock = threading.Lock()
        self.requests = {}
        self.lengths = {}
        self.pipe_input = {}

    # -- plumbing ---------------------------------------------------------

    def answer(self, response):
        line = json.dumps(response, separators=(",", ":")) + "\n"
        with self.out_lock:
            sys.stdout.write(line)
            sys.stdout.flush()

    def forward_requests(self):
        for raw in sys.stdin.buffer:
            request = json.loads(raw)
            with self.lock:
                self.requests[request["id"]] = request
            if not self.intercept(request):
                self.child.stdin.write(json.dumps(request).encode() + b"\n")
                self.child.stdin.flush()
        self.child.stdin.close()

    def forward_responses(self):
        for raw in self.child.stdout:
            response = json.loads(raw)
            with self.lock:
                request = self.requests.pop(response.get("id"), {})
            self.answer(self.rewrite(request, response))

    def run(self):
        reader = threading.Thread(target=self.forward_responses)
        reader.start()
        self.forward_requests()
        reader.join()
        return self.child.wait()

    # -- faults -------------------------------------------------------------

    def intercept(self, request):
        """Answer a request here instead of forwarding it; True if done."""
        op, args = request.get("op"), request.get("args", [])
        self.track_request(op, args)
        if self.fault == "crash-on" and op == self.parameter:
            sys.stderr.write("proxy: crashing on purpose at %s\n" % op)
            sys.stderr.flush()
            os.abort()
        if self.fault == "unimplemented-md5" and op in ("md5", "md5-bytes"):
            error = {"kind": "unimplemented", "message": "%s is switched off" % op}
            self.answer({"id": request["id"], "error": error})
            return True
        if self.fault == "odd-hex" and op == "hex-string->bytes":
            text = args[0] if args else None
            if isinstance(text, str) and len(text) % 2 == 1 and _is_hex(text + "0"):
                self.answer({"id": request["id"], "ok": {"bytes": (text + "0").lower()}})
                return True
        return False

    def track_request(self, op, args):
        if op == "write-bytes" and len(args) == 2:
            with self.lock:
                port = self.pipe_input.get(_handle(args[1]))
                if port is not None:
                    self.lengths[port] += len(args[0]["bytes"]) // 2

    def rewrite(self, request, response):
        op, args = request.get("op"), request.get("args", [])
        self.track_response(op, args, response)
        if self.fault == "version" and op == "hello" and "ok" in response:
            response["ok"]["version"] = self.parameter
        if self.fault == "digest64" and op in HASH_OPS and "ok" in response:
            with self.lock:
                length = self.lengths.get(_handle(args[0]) if args else None)
            if length == 64:
                response["ok"] = _corrupt(response["ok"])
        if self.fault == "upper-hex" and "ok" in response:
            if op in ("sha1", "md5", "bytes->hex-string") and isinstance(response["ok"], str):
                response["ok"] = response["ok"].upper()
        return response

    def track_response(self, op, args, response):
        with self.lock:
            if op == "open-input-bytes" and "ok" in response:
                self.lengths[_handle(response["ok"])] = len(args[0]["bytes"]) // 2
            if op == "make-pipe" and "values" in response:
                (port_in, port_out) = (_handle(v) for v in response["values"])
                self.pipe_input[port_out] = port_in
                self.lengths[port_in] = 0


def _handle(value):
    return value.get("handle") if isinstance(value, dict) else None


def _is_hex(text):
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _corrupt(value):
    if isinstance(value, str):
        return ("1" if value[:1] == "0" else "0") + value[1:]
    data = bytearray.fromhex(value["bytes"])
    data[0] ^= 0x01
    return {"bytes": data.hex()}


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    command = argv[2:] or PYTHON_SHIM
    return Proxy(argv[1], command).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
