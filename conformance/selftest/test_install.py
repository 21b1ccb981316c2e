"""`make install` and `make uninstall` into a scratch prefix, and programs built from what they
install.

The program is ref/examples/https_get.c, copied out of the tree and built with nothing but what
`pkg-config --cflags --libs sslport` says; it fetches a page from the example echo server.
"""

import os
import re
import shutil

import pytest

from libsupport import CA, ROOT, echo_server, explain, make, require, run

HEADER = ROOT / "ref" / "include" / "sslport.h"
PAGES = sorted(p.name for p in (ROOT / "ref" / "man").glob("*.3"))


def header_functions():
    text = HEADER.read_text()
    return sorted(set(re.findall(r"\b(sslport_[a-z0-9_]+)\s*\(", text)))


def version():
    return re.search(r'#define SSLPORT_VERSION "([^"]+)"', HEADER.read_text()).group(1)


def files_under(top):
    """Every file and link under top, as paths relative to it."""
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            found.append(os.path.relpath(os.path.join(dirpath, name), top))
    return sorted(found)


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    require("pkg-config")
    make("examples")
    top = tmp_path_factory.mktemp("prefix")
    make("install", f"PREFIX={top}")
    return top


def pkg_config(prefix, *args):
    """pkg-config that sees the scratch prefix's sslport.pc and nothing else."""
    proc = run(
        ["pkg-config", *args, "sslport"],
        env={"PKG_CONFIG_LIBDIR": str(prefix / "lib" / "pkgconfig"), "PKG_CONFIG_PATH": ""},
    )
    assert proc.returncode == 0, explain(proc)
    return proc.stdout.split()


def test_installed_files(prefix):
    links = [f"share/man/man3/{f}.3" for f in header_functions() if f"{f}.3" not in PAGES]
    want = sorted(
        [
            "include/sslport.h",
            "lib/libsslport.a",
            "lib/libsslport.so",
            "lib/libsslport.so.0",
            "lib/pkgconfig/sslport.pc",
        ]
        + [f"share/man/man3/{p}" for p in PAGES]
        + links
    )
    assert files_under(prefix) == want
    assert (prefix / "include" / "sslport.h").read_bytes() == HEADER.read_bytes()
    assert os.readlink(prefix / "lib" / "libsslport.so") == "libsslport.so.0"


def test_shared_library_soname(prefix):
    require("readelf")
    proc = run(["readelf", "-d", prefix / "lib" / "libsslport.so.0"])
    assert "Library soname: [libsslport.so.0]" in proc.stdout, explain(proc)
    # OpenSSL is opened at run time, never linked.
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", proc.stdout)
    assert needed and not [n for n in needed if n.startswith(("libssl.", "libcrypto."))]


def test_pkg_config(prefix):
    assert pkg_config(prefix, "--modversion") == [version()]
    assert pkg_config(prefix, "--cflags") == [f"-I{prefix}/include"]
    assert pkg_config(prefix, "--libs") == [f"-L{prefix}/lib", "-lsslport"]


def build_client(prefix, tmp_path, flags):
    """https_get.c, copied away from the tree's headers, built with `flags` alone."""
    src = tmp_path / "client.c"
    shutil.copy(ROOT / "ref" / "examples" / "https_get.c", src)
    exe = tmp_path / "client"
    proc = run(["cc", "-std=c11", "-D_GNU_SOURCE", "-o", exe, src, *flags], cwd=tmp_path)
    assert proc.returncode == 0, explain(proc)
    return exe


def fetch(exe, env=None):
    """Run the client against the example echo server: the status line is the echoed request."""
    with echo_server(count=1) as server:
        proc = run([exe, "localhost", server.port, "/installed", CA], env=env)
        server.wait()
    assert proc.returncode == 0, explain(proc) + server.log()
    assert proc.stdout == "GET /installed HTTP/1.1\n"
    assert server.output() == "alpn http/1.1\n"


def test_program_built_with_pkg_config(prefix, tmp_path):
    exe = build_client(prefix, tmp_path, pkg_config(prefix, "--cflags", "--libs"))
    env = {"LD_LIBRARY_PATH": str(prefix / "lib")}
    ldd = run(["ldd", exe], env=env)
    assert f"libsslport.so.0 => {prefix}/lib/libsslport.so.0" in ldd.stdout, explain(ldd)
    fetch(exe, env)


def test_program_linked_with_the_static_library(prefix, tmp_path):
    libs = pkg_config(prefix, "--static", "--libs")
    flags = ["-l:libsslport.a" if f == "-lsslport" else f for f in libs]
    exe = build_client(prefix, tmp_path, pkg_config(prefix, "--cflags") + flags)
    ldd = run(["ldd", exe])
    assert "libsslport" not in ldd.stdout, explain(ldd)
    fetch(exe)


def test_man_finds_each_function(prefix):
    """`man NAME` finds the group page that documents NAME."""
    require("man")
    man3 = prefix / "share" / "man" / "man3"
    for name in header_functions():
        page = man3 / f"{name}.3"
        assert page.exists(), f"no page or link for {name}"
        target = os.path.realpath(page)
        assert f"\n.Nm {name}" in open(target).read(), f"{target} does not name {name}"
    proc = run(["man", "-M", prefix / "share" / "man", "sslport_accept"], env={"MANPAGER": "cat"})
    assert proc.returncode == 0, explain(proc)
    assert "SSLPORT_CONNECT(3)" in proc.stdout


def test_uninstall_leaves_nothing(tmp_path):
    make("install", f"PREFIX={tmp_path}")
    assert "lib/libsslport.so.0" in files_under(tmp_path)
    make("uninstall", f"PREFIX={tmp_path}")
    assert files_under(tmp_path) == []


def test_destdir(tmp_path):
    """DESTDIR stages the files; the installed sslport.pc still names PREFIX."""
    make("install", "PREFIX=/opt/sslport", f"DESTDIR={tmp_path}")
    pc = (tmp_path / "opt" / "sslport" / "lib" / "pkgconfig" / "sslport.pc").read_text()
    assert "prefix=/opt/sslport\n" in pc
    make("uninstall", "PREFIX=/opt/sslport", f"DESTDIR={tmp_path}")
    assert files_under(tmp_path) == []
