"""Spec parsing, version order, marker checks, expectations and spec-coverage."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness import hashing
from harness.expectations import ExpectationsError, load
from harness.plugin import check_spec_marker
from harness.specdoc import load_spec, load_waiting
from harness.versions import version_key

ROOT = Path(__file__).resolve().parents[2]
COVERAGE = ROOT / "tools" / "spec-coverage"


# -- versions ------------------------------------------------------------------


def test_racket_version_order():
    ordered = ["6.0.0.3", "8.7", "8.7.0.8", "8.11.1.4", "8.14.0.2", "8.15.900", "9.0"]
    assert sorted(ordered, key=version_key) == ordered
    assert version_key("8.7") == version_key("8.7.0.0")
    assert version_key("8.11") > version_key("8.7.0.8")


@pytest.mark.parametrize("bad", ["", "8.", "v8.7", "8.7.x", "1.2.3.4.5", None])
def test_bad_versions_are_refused(bad):
    with pytest.raises(ValueError):
        version_key(bad)


# -- spec files ------------------------------------------------------------------

SPEC = """\
    # 6. Example

    Prose is not a clause, nor **bold** text.

    - **S6.sha1.1** first clause
      continued on a second line.
    - **S6.sha1.2** [added 8.7.0.8] tagged clause.
    - **S6.hex-two.1** [changed 8.14.0.2] another, with [added 8.11.1.4] in its text.

    ```
    - **S6.sha1.9** inside a code block: not a clause
    ```
"""


def write_spec(directory, files):
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(textwrap.dedent(text))
    return directory


def test_clauses_and_tags(tmp_path):
    spec = write_spec(
        tmp_path / "spec", {"06-sha1.md": SPEC, "README.md": SPEC.replace("6.", "7.")}
    )
    clauses, problems = load_spec(spec)
    assert problems == []
    assert sorted(clauses) == ["S6.hex-two.1", "S6.sha1.1", "S6.sha1.2"]
    assert "second line" in clauses["S6.sha1.1"].text
    assert clauses["S6.sha1.1"].tags == []
    assert clauses["S6.sha1.2"].newest_tag() == ("added", "8.7.0.8")
    assert clauses["S6.hex-two.1"].newest_tag() == ("changed", "8.14.0.2")


def test_malformed_and_duplicate_ids(tmp_path):
    text = "- **S6.Sha1.1** bad case\n- **S6.sha1.1** one\n"
    spec = write_spec(tmp_path / "spec", {"06-a.md": text, "07-b.md": "- **S6.sha1.1** two\n"})
    _, problems = load_spec(spec)
    assert any("malformed clause id 'S6.Sha1.1'" in p for p in problems), problems
    assert any("already defined" in p for p in problems), problems


def test_waiting_list(tmp_path):
    path = tmp_path / "waiting.txt"
    path.write_text("# comment\nS1.connect.1 issue-4\n\nS1.connect.2\nnot-an-id issue-4\n")
    waiting, problems = load_waiting(path)
    assert waiting == {"S1.connect.1": "issue-4"}
    assert len(problems) == 2


def test_spec_marker_checks():
    known = {"S6.sha1.1": object()}
    assert check_spec_marker("t", ["S6.sha1.1"], known) == []
    assert "no @pytest.mark.spec" in check_spec_marker("t", [], known)[0]
    assert "unknown clause S6.sha1.2" in check_spec_marker("t", ["S6.sha1.2"], known)[0]
    assert "not a clause id" in check_spec_marker("t", ["sha1"], known)[0]
    assert "not a clause id" in check_spec_marker("t", [6], known)[0]
    assert check_spec_marker("t", ["S6.sha1.2"], None) == []


# -- expectations ------------------------------------------------------------------


def write(tmp_path, text):
    path = tmp_path / "expect.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_expectations_load(tmp_path):
    path = write(
        tmp_path,
        """\
        [[expect]]
        test = "conformance/tests/test_06_sha1.py::test_x[sha1]"
        outcome = "fail"
        reason = "D.fallback.1: no warning"
        """,
    )
    table = load(path)
    assert list(table) == ["tests/test_06_sha1.py::test_x[sha1]"]
    assert table["tests/test_06_sha1.py::test_x[sha1]"].outcome == "fail"
    assert not table.strict
    assert load(write(tmp_path, "strict = true\nexpect = []\n")).strict


@pytest.mark.parametrize(
    "text",
    [
        '[[expect]]\ntest = "tests/a.py::t"\noutcome = "fail"\n',
        '[[expect]]\ntest = "tests/a.py::t"\noutcome = "fail"\nreason = " "\n',
        '[[expect]]\ntest = "tests/a.py::t"\noutcome = "broken"\nreason = "r"\n',
        '[[expect]]\ntest = "tests/a.py"\noutcome = "fail"\nreason = "r"\n',
        '[[expect]]\ntest = "tests/a.py::t"\noutcome = "fail"\nreason = "r"\nextra = 1\n',
        '[[expect]]\ntest = "tests/a.py::t"\noutcome = "skip"\nreason = "r"\n' * 2,
        "expect = 3\n",
        'strict = "yes"\nexpect = []\n',
        "not toml [\n",
    ],
)
def test_malformed_expectations_are_refused(tmp_path, text):
    with pytest.raises(ExpectationsError):
        load(write(tmp_path, text))


def test_shipped_expectations_are_valid():
    for path in (ROOT / "conformance" / "expectations").glob("*.toml"):
        load(path)


# -- the hash vectors fixture ---------------------------------------------------------


def test_hash_vectors_agree_with_hashlib():
    vectors = hashing.load_vectors()
    assert {v.algorithm for v in vectors} == {"sha1", "md5"}
    assert all(v.source.startswith("RFC ") for v in vectors)
    assert hashing.wrong_vectors(vectors) == []


def test_a_wrong_hash_vector_is_detected(tmp_path):
    table = json.loads(hashing.VECTORS_FILE.read_text())
    table["vectors"][1]["digest"] = "0" * 40
    path = tmp_path / "vectors.json"
    path.write_text(json.dumps(table))
    assert hashing.wrong_vectors(hashing.load_vectors(path=path)) == [table["vectors"][1]["id"]]


def test_random_inputs_are_fixed_and_cover_the_edges():
    inputs = hashing.random_inputs()
    assert len(inputs) >= 200
    assert inputs == hashing.random_inputs()
    sizes = {len(data) for (_, data) in inputs}
    assert set(hashing.EDGE_SIZES) <= sizes
    assert max(len(data) for (_, data) in hashing.heavy_inputs()) == 1 << 20


# -- tools/spec-coverage ----------------------------------------------------------------

TESTS = """\
    import pytest

    @pytest.mark.spec("S6.sha1.1")
    def test_one():
        pass

    @pytest.mark.parametrize("op", [pytest.param("x", marks=pytest.mark.spec("S6.sha1.2"))])
    def test_two(op):
        pass
"""


def coverage(spec, tests, *options):
    command = [sys.executable, str(COVERAGE), "--spec-dir", str(spec), "--tests-dir", str(tests)]
    return subprocess.run(command + list(options), capture_output=True, text=True, timeout=60)


def project(tmp_path, clauses, waiting="", tests=TESTS):
    spec = write_spec(tmp_path / "spec", {"06-sha1.md": clauses})
    (spec / "waiting.txt").write_text(waiting)
    tests_dir = write_spec(tmp_path / "tests", {"test_06.py": tests})
    return spec, tests_dir


def test_coverage_ok(tmp_path):
    spec, tests = project(
        tmp_path, "- **S6.sha1.1** a\n- **S6.sha1.2** b\n- **S6.sha1.3** c\n", "S6.sha1.3 issue-9\n"
    )
    result = coverage(spec, tests)
    assert result.returncode == 0, result.stdout
    assert "issue-9 (1): S6.sha1.3" in result.stdout
    data = json.loads(coverage(spec, tests, "--json").stdout)
    assert data["ok"] and data["sections"]["S6"] == {
        "clauses": 3,
        "covered": 2,
        "waiting": 1,
        "missing": 0,
    }


def test_coverage_missing_clause(tmp_path):
    spec, tests = project(tmp_path, "- **S6.sha1.1** a\n- **S6.sha1.2** b\n- **S6.sha1.3** c\n")
    result = coverage(spec, tests)
    assert result.returncode == 1 and "S6.sha1.3" in result.stdout, result.stdout


def test_coverage_stale_waiting(tmp_path):
    spec, tests = project(tmp_path, "- **S6.sha1.1** a\n- **S6.sha1.2** b\n", "S6.sha1.1 issue-9\n")
    result = coverage(spec, tests, "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["stale"], result.stdout


def test_coverage_unknown_marker(tmp_path):
    spec, tests = project(tmp_path, "- **S6.sha1.1** a\n")
    result = coverage(spec, tests, "--json")
    assert result.returncode == 1
    assert "S6.sha1.2" in " ".join(json.loads(result.stdout)["unknown"])
