"""The report page renders in a real browser: headless Chromium loads it,
its script runs without errors, and a screenshot is kept under build/.

Run by `make report` after tools/report has written the page.
"""

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REPORT = pathlib.Path(os.environ.get("SSLPORT_REPORT_DIR", ROOT / "build" / "report")).resolve()
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium(tmp_path, *args):
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail("chromium is not installed: run `tools/deps check report` as root")
    argv = [browser, *FLAGS, "--user-data-dir=%s" % (tmp_path / "profile"), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def page():
    index = REPORT / "index.html"
    if not index.exists():
        pytest.fail("no report at %s: run tools/report first" % index)
    return index


def test_page_script_runs_without_errors(page, tmp_path):
    done = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'data-ready="yes"' in done.stdout, "the page's script did not finish"
    errors = [line for line in done.stderr.splitlines() if "Uncaught" in line]
    assert not errors, "script errors:\n" + "\n".join(errors)


def test_page_shows_the_matrix(page, tmp_path):
    done = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert 'id="matrix"' in done.stdout
    for title in ("SHA-1 hashing", "Peer verification", "Deviations"):
        assert title in done.stdout, "section %r missing from the matrix" % title


def test_screenshot_is_saved(page, tmp_path):
    shot = REPORT / "screenshot.png"
    if shot.exists():
        shot.unlink()
    done = chromium(tmp_path, "--window-size=1400,1800", "--screenshot=%s" % shot, page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 10000, "no screenshot written"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
