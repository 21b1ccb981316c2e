"""The bulk and handshake workloads through Python's ssl module.

    pybench.py bulk CHAIN KEY CA TOTAL WRITE
    pybench.py handshake tls12|tls13 CHAIN KEY CA COUNT

The same shape as tools/bench/reference.c: a server thread and the main
thread as the client over TCP on 127.0.0.1, the client verifying the
chain and the host, TCP_NODELAY, no TLS 1.3 session tickets, no
close_notify on close.  The TLS 1.3 suite comes from OPENSSL_CONF.  One
JSON line on stdout per run.
"""

import json
import socket
import ssl
import sys
import threading
import time

VERSIONS = {"tls12": ssl.TLSVersion.TLSv1_2, "tls13": ssl.TLSVersion.TLSv1_3}
UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def size(text):
    if text[-1:] in UNITS:
        return int(text[:-1]) * UNITS[text[-1]]
    return int(text)


def server_context(version, chain, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(chain, key)
    ctx.num_tickets = 0
    return ctx


def client_context(version, ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_verify_locations(ca)
    return ctx


def listen_local():
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    return sock


def accept_tls(listener, ctx):
    raw, _ = listener.accept()
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_side=True)


def connect_tls(port, ctx):
    raw = socket.create_connection(("127.0.0.1", port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def report(workload, rate, unit, seconds, cpu, amount, check):
    fields = {
        "workload": workload,
        "impl": "python",
        "rate": rate,
        "unit": unit,
        "seconds": seconds,
        "cpu": cpu,
        "amount": amount,
        "check": check,
    }
    print(json.dumps(fields), flush=True)


def bulk(chain, key, ca, total, wsize):
    total, wsize = size(total), size(wsize)
    sctx = server_context(ssl.TLSVersion.TLSv1_3, chain, key)
    listener = listen_local()
    done = {}

    def sink():
        conn = accept_tls(listener, sctx)
        buf = bytearray(wsize)
        got = 0
        while got < total:
            n = conn.recv_into(buf)
            if n == 0:
                break
            got += n
        done["end"] = time.monotonic()
        done["got"] = got
        done["conn"] = conn

    thread = threading.Thread(target=sink)
    thread.start()
    conn = connect_tls(listener.getsockname()[1], client_context(ssl.TLSVersion.TLSv1_3, ca))
    data = bytes(i * 131 % 256 for i in range(wsize))
    view = memoryview(data)
    t0, c0 = time.monotonic(), time.process_time()
    sent = 0
    while sent < total:
        n = min(wsize, total - sent)
        conn.sendall(view[:n])
        sent += n
    thread.join()
    if done.get("got") != total:
        sys.exit("pybench: the server got %s of %d bytes" % (done.get("got"), total))
    seconds = done["end"] - t0
    cpu = time.process_time() - c0
    report("bulk", total / seconds / 1e6, "MB/s", seconds, cpu, total, conn.cipher()[0])
    conn.close()
    done["conn"].close()


def handshake(proto, chain, key, ca, count):
    count = int(count)
    sctx = server_context(VERSIONS[proto], chain, key)
    cctx = client_context(VERSIONS[proto], ca)
    listener = listen_local()
    port = listener.getsockname()[1]
    accepted = []

    def acceptor():
        for _ in range(count):
            accept_tls(listener, sctx).close()
            accepted.append(1)

    thread = threading.Thread(target=acceptor)
    t0, c0 = time.monotonic(), time.process_time()
    thread.start()
    for _ in range(count):
        connect_tls(port, cctx).close()
    thread.join()
    seconds = time.monotonic() - t0
    cpu = time.process_time() - c0
    if len(accepted) != count:
        sys.exit("pybench: the server accepted %d of %d" % (len(accepted), count))
    report("handshake", count / seconds, "handshakes/s", seconds, cpu, count, proto)


def main(argv):
    workloads = {"bulk": (bulk, 5), "handshake": (handshake, 5)}
    if len(argv) < 2 or argv[1] not in workloads or len(argv) - 2 != workloads[argv[1]][1]:
        sys.exit("usage: pybench.py bulk|handshake ARGS... (see its docstring)")
    workloads[argv[1]][0](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
