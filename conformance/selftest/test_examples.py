"""The programs in ref/examples/, built by `make examples` and run on loopback ports.

Each is run against another example and against an independent peer: `openssl s_server` and
`curl` for the HTTPS client, `openssl s_client` and `curl` for the SNI and ALPN echo server,
`openssl s_client -starttls smtp` for the STARTTLS server.
"""

import re
import subprocess

import pytest

from libsupport import (
    CA,
    CERTS,
    EXAMPLES,
    ROOT,
    Server,
    echo_server,
    explain,
    make,
    require,
    run,
)

NAMES = [
    "echo_server",
    "hello_client",
    "hello_server",
    "https_get",
    "starttls_client",
    "starttls_server",
]


@pytest.fixture(scope="module", autouse=True)
def built():
    make("examples")


def test_every_example_is_built():
    sources = sorted(p.stem for p in (ROOT / "ref" / "examples").glob("*.c"))
    assert sources == NAMES
    for name in NAMES:
        assert (EXAMPLES / name).is_file(), f"make examples did not build {name}"


@pytest.mark.parametrize("name", NAMES)
def test_example_compiles_without_warnings(name):
    """Against the public header alone, as a user would compile it."""
    proc = run(
        [
            "cc",
            "-std=c11",
            "-D_GNU_SOURCE",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
            "-I",
            ROOT / "ref" / "include",
            ROOT / "ref" / "examples" / f"{name}.c",
        ]
    )
    assert proc.returncode == 0, explain(proc)


def test_hello_client_and_server():
    """The README's client and server: the client trusts the test root through SSL_CERT_FILE."""
    server = Server(
        [
            EXAMPLES / "hello_server",
            CERTS / "server-loopback-chain.pem",
            CERTS / "server-loopback.key",
        ]
    )
    with server:
        proc = run(
            [EXAMPLES / "hello_client", "localhost", server.port], env={"SSL_CERT_FILE": str(CA)}
        )
        assert server.wait() == 0, server.log()
    assert proc.returncode == 0, explain(proc) + server.log()
    assert proc.stdout == "hello from sslport\n"


def test_hello_client_refuses_an_untrusted_server():
    server = Server(
        [
            EXAMPLES / "hello_server",
            CERTS / "server-loopback-chain.pem",
            CERTS / "server-loopback.key",
        ]
    )
    with server:
        proc = run(
            [EXAMPLES / "hello_client", "localhost", server.port],
            env={"SSL_CERT_FILE": str(CERTS / "untrusted-root.pem")},
        )
    assert proc.returncode == 1, explain(proc)
    assert "exn:fail:network" in proc.stderr and "certificate verify failed" in proc.stderr


@pytest.fixture
def openssl_www(tmp_path):
    """openssl s_server answering GETs with files from a scratch directory."""
    (tmp_path / "page.txt").write_text("a page\n")
    proc = subprocess.Popen(
        [
            "openssl",
            "s_server",
            "-accept",
            "127.0.0.1:0",
            "-WWW",
            "-alpn",
            "http/1.1",
            "-cert",
            str(CERTS / "server-rsa.pem"),
            "-key",
            str(CERTS / "server-rsa.key"),
        ],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    port = None
    for line in proc.stdout:
        match = re.match(r"ACCEPT .*:(\d+)$", line)
        if match:
            port = int(match.group(1))
            break
    try:
        assert port is not None, "openssl s_server did not say where it listens"
        yield port
    finally:
        proc.kill()
        proc.communicate()


def test_https_get_agrees_with_curl(openssl_www):
    """The status line the example prints is the one curl receives from the same server."""
    require("curl")
    proc = run([EXAMPLES / "https_get", "localhost", openssl_www, "/page.txt", CA])
    assert proc.returncode == 0, explain(proc)
    oracle = run(
        [
            "curl",
            "-s",
            "-D",
            "-",
            "-o",
            "/dev/null",
            "--cacert",
            CA,
            f"https://localhost:{openssl_www}/page.txt",
        ]
    )
    assert oracle.returncode == 0, explain(oracle)
    status = oracle.stdout.splitlines()[0]
    assert status.startswith("HTTP/1.0 200")
    assert proc.stdout == status + "\n"


def test_https_get_verifies_the_server(openssl_www):
    """Without the test root among the roots, the secure context refuses the server."""
    proc = run(
        [EXAMPLES / "https_get", "localhost", openssl_www, "/page.txt"],
        env={"SSL_CERT_FILE": str(CERTS / "untrusted-root.pem"), "SSL_CERT_DIR": "/nonexistent"},
    )
    assert proc.returncode == 1, explain(proc)
    assert "exn:fail:network" in proc.stderr and "certificate verify failed" in proc.stderr
    proc = run([EXAMPLES / "https_get", "127.0.0.2", openssl_www, "/page.txt", CA])
    assert proc.returncode == 1, explain(proc)


def test_https_get_against_echo_server():
    """The echo server sends the request back: its first line is the status line printed."""
    with echo_server(count=1) as server:
        proc = run([EXAMPLES / "https_get", "localhost", server.port, "/echo", CA])
        assert server.wait() == 0, server.log()
    assert proc.returncode == 0, explain(proc) + server.log()
    assert proc.stdout == "GET /echo HTTP/1.1\n"
    assert server.output() == "alpn http/1.1\n"


def s_client(port, servername=None, alpn=None, data=b"one\ntwo\n\n"):
    argv = [
        "openssl",
        "s_client",
        "-connect",
        f"127.0.0.1:{port}",
        "-CAfile",
        str(CA),
        "-verify_return_error",
        "-ign_eof",
    ]
    argv += ["-servername", servername] if servername else ["-noservername"]
    if alpn:
        argv += ["-alpn", alpn]
    return subprocess.run(argv, input=data, capture_output=True, timeout=20)


@pytest.mark.parametrize(
    "servername, alpn, subject, selected",
    [
        ("dns.example.test", "http/1.1,echo/1", "CN = dns.example.test", "echo/1"),
        ("localhost", "http/1.1", "CN = localhost", "http/1.1"),
        (None, "h2", "CN = localhost", None),
        ("other.example.test", None, "CN = localhost", None),
    ],
)
def test_echo_server_with_s_client(servername, alpn, subject, selected):
    """The name callback picks the certificate; the server's ALPN preference wins.

    The server closes without close_notify, as ports from ssl-accept do (S2.accept.5), and
    s_client reports that as an unexpected eof: its exit status is not looked at.
    """
    with echo_server(count=1) as server:
        proc = s_client(server.port, servername, alpn)
        assert server.wait() == 0, server.log()
    out = proc.stdout.decode()
    assert f"subject={subject}\n" in out, out + proc.stderr.decode() + server.log()
    assert "Verify return code: 0 (ok)" in out
    if selected:
        assert f"ALPN protocol: {selected}\n" in out
    else:
        assert "No ALPN negotiated" in out
    assert "\none\ntwo\n\n" in out
    assert server.output() == f"alpn {selected or 'none'}\n"


def test_echo_server_with_curl():
    """curl asks for dns.example.test by SNI and reads the echo as an HTTP/0.9 body."""
    require("curl")
    with echo_server(count=1) as server:
        proc = run(
            [
                "curl",
                "-sv",
                "--http0.9",
                "--http1.1",
                "--cacert",
                CA,
                "--resolve",
                f"dns.example.test:{server.port}:127.0.0.1",
                f"https://dns.example.test:{server.port}/curl",
            ]
        )
        assert server.wait() == 0, server.log()
    assert proc.returncode == 0, explain(proc) + server.log()
    assert proc.stdout.startswith("GET /curl HTTP/1.1\nHost: dns.example.test")
    assert proc.stdout.endswith("\n\n")  # text mode reads CR LF as LF
    assert "subject: CN=dns.example.test" in proc.stderr
    assert "ALPN: server accepted http/1.1" in proc.stderr
    assert server.output() == "alpn http/1.1\n"


def starttls_server(count=1):
    return Server(
        [
            EXAMPLES / "starttls_server",
            CERTS / "server-loopback-chain.pem",
            CERTS / "server-loopback.key",
            count,
        ]
    )


def test_starttls_client_and_server():
    with starttls_server() as server:
        proc = run([EXAMPLES / "starttls_client", "localhost", server.port, CA])
        assert server.wait() == 0, server.log()
    assert proc.returncode == 0, explain(proc) + server.log()
    assert proc.stdout == "tls tls13\n250 HELLO\n221 bye\n"


def test_starttls_client_verifies_the_server():
    """After the upgrade the server's certificate must chain to the client's CA file."""
    with starttls_server() as server:
        proc = run(
            [EXAMPLES / "starttls_client", "localhost", server.port, CERTS / "untrusted-root.pem"]
        )
    assert proc.returncode == 1, explain(proc)
    assert "certificate verify failed" in proc.stderr


def test_starttls_server_with_s_client():
    """openssl's own SMTP STARTTLS client upgrades the connection and talks over TLS."""
    with starttls_server() as server:
        proc = subprocess.run(
            [
                "openssl",
                "s_client",
                "-starttls",
                "smtp",
                "-connect",
                f"127.0.0.1:{server.port}",
                "-CAfile",
                str(CA),
                "-verify_return_error",
                "-ign_eof",
                "-crlf",
            ],
            input=b"hi there\nQUIT\n",
            capture_output=True,
            timeout=20,
        )
        assert server.wait() == 0, server.log()
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode() + server.log()
    assert "subject=CN = localhost" in out
    assert "Verify return code: 0 (ok)" in out
    assert out.index("250 hi there\r\n") < out.index("221 bye\r\n")


@pytest.mark.parametrize("name", ["hello_client.c", "hello_server.c"])
def test_readme_tour_shows_the_examples_verbatim(name):
    """The README's client and server are these files, so the code it shows is the code tested."""
    readme = (ROOT / "README.md").read_text()
    source = (ROOT / "ref" / "examples" / name).read_text()
    assert f"`ref/examples/{name}`" in readme
    assert f"```c\n{source}```\n" in readme, f"README.md does not show {name} as it is"
