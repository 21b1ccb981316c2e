"""The manual pages in ref/man/: every public function has one, and every page is clean.

- Every function that ref/include/sslport.h declares is named in the NAME section of exactly
  one page, and appears in that page's SYNOPSIS; no page names a function the header lacks.
- Every page has the sections a reader looks for, and mandoc's lint finds nothing at warning
  level or worse in it.
- sslport(3) lists every other page, and tools/manlinks gives a link for every function that
  is not a page's own name (what `make install` installs, so that `man NAME` finds the page).
"""

import re

import pytest

from libsupport import ROOT, explain, require, run

HEADER = ROOT / "ref" / "include" / "sslport.h"
MAN = ROOT / "ref" / "man"
PAGES = sorted(MAN.glob("*.3"))
SECTIONS = [
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "RETURN VALUES",
    "EXAMPLES",
    "ERRORS",
    "SEE ALSO",
]


def header_functions():
    return set(re.findall(r"\b(sslport_[a-z0-9_]+)\s*\(", HEADER.read_text()))


def sections(page):
    """Section title -> its lines."""
    found, current = {}, None
    for line in page.read_text().splitlines():
        if line.startswith(".Sh "):
            current = line[4:].strip()
            found[current] = []
        elif current is not None:
            found[current].append(line)
    return found


def named(page):
    return [
        re.match(r"\.Nm (\w+)", line).group(1)
        for line in sections(page)["NAME"]
        if line.startswith(".Nm ")
    ]


def test_there_are_pages():
    assert len(PAGES) >= 12
    assert (MAN / "sslport.3").exists()


def test_every_function_has_one_page():
    pages_of = {}
    for page in PAGES:
        for name in named(page):
            pages_of.setdefault(name, []).append(page.name)
    functions = header_functions()
    missing = sorted(functions - set(pages_of))
    assert not missing, f"functions without a page: {missing}"
    unknown = sorted(set(pages_of) - functions - {"sslport"})
    assert not unknown, f"pages name functions the header does not declare: {unknown}"
    twice = {n: p for n, p in pages_of.items() if len(p) > 1}
    assert not twice, f"functions on several pages: {twice}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_sections(page):
    found = sections(page)
    for title in SECTIONS:
        assert title in found, f"{page.name} has no {title} section"
    assert [t for t in found if t in SECTIONS] == SECTIONS, "sections out of order"
    synopsis = "\n".join(found["SYNOPSIS"])
    for name in named(page):
        if name == "sslport":
            continue
        assert re.search(rf"^\.(Fn|Fo) {name}\b", synopsis, re.M), f"{name} not in SYNOPSIS"
        assert name in "\n".join(found["DESCRIPTION"]), f"{name} not described"
    assert page.name == f"{named(page)[0]}.3", "a page is named after its first function"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_lints_clean(page):
    require("mandoc")
    proc = run(["mandoc", "-T", "lint", "-W", "warning", page])
    assert proc.returncode == 0 and proc.stdout == "" and proc.stderr == "", explain(proc)


def test_overview_lists_every_page():
    overview = (MAN / "sslport.3").read_text()
    for page in PAGES:
        if page.name != "sslport.3":
            assert f".Xr {page.stem} 3" in overview, f"sslport(3) does not list {page.name}"


def test_links_cover_every_function():
    proc = run([ROOT / "tools" / "manlinks", MAN])
    assert proc.returncode == 0, explain(proc)
    links = dict(line.split()[::-1] for line in proc.stdout.splitlines())
    pages = {p.name for p in PAGES}
    for name in header_functions():
        target = f"{name}.3" if f"{name}.3" in pages else links.get(f"{name}.3")
        assert target in pages, f"man {name} would find nothing"
        assert name in named(MAN / target)
