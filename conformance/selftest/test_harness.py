"""The suite must be able to fail: run it against deliberately broken shims.

Each run is a separate pytest process over some of conformance/tests, with
--impl pointing at broken_shims/proxy.py in front of the Python shim (so this
check needs no C build), and its summary.json is read back.
"""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path


from harness import hashing

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROXY = HERE / "broken_shims" / "proxy.py"
HASH_FILES = ["conformance/tests/test_06_sha1.py", "conformance/tests/test_07_md5.py"]
LINE = re.compile(
    r"^sslport: (\d+) passed, (\d+) failed, (\d+) skipped, (\d+) unimplemented, "
    r"(\d+) expected failures$",
    re.M,
)


class Run:
    def __init__(self, completed, results_dir):
        self.returncode = completed.returncode
        self.output = completed.stdout + completed.stderr
        path = results_dir / "summary.json"
        self.summary = json.loads(path.read_text()) if path.exists() else None

    def outcomes(self, *wanted):
        return {t["test"] for t in self.summary["tests"] if t["outcome"] in wanted}

    @property
    def failed(self):
        return self.outcomes("failed", "error", "xpassed")

    @property
    def counts(self):
        return self.summary["counts"]

    def __repr__(self):
        return "exit %d\n%s" % (self.returncode, self.output[-6000:])


def run_suite(tmp_path, fault, files=HASH_FILES, extra=()):
    results = tmp_path / ("results-%s" % re.sub(r"[^a-z0-9]+", "-", fault))
    impl = " ".join(shlex.quote(w) for w in [sys.executable, str(PROXY), fault])
    command = [sys.executable, "-m", "pytest", "-c", "conformance/pytest.ini"]
    command += ["-p", "no:cacheprovider", "-m", "not heavy", "-q"]
    # Options in --name=value form: pytest sees them before conftest.py is loaded.
    command += list(files) + list(extra)
    command += ["--impl=" + impl, "--impl-name=selftest", "--results-dir=%s" % results]
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    return Run(completed, results)


def names(run):
    """Failed tests as 'file.py::test_name[params]' without the directory."""
    return {test.split("/")[-1] for test in run.failed}


# -- a correct shim -----------------------------------------------------------


def test_correct_shim_passes(tmp_path):
    run = run_suite(tmp_path, "none")
    assert run.returncode == 0, run
    assert run.counts["failed"] == 0 and run.counts["passed"] > 50, run
    match = LINE.search(run.output)
    assert match, "no sslport closing line:\n%s" % run.output[-2000:]
    assert int(match.group(1)) == run.counts["passed"]
    assert run.summary["hello"]["implementation"] == "python-ssl"
    recorded = run.summary["tests"][0]
    assert recorded["clauses"] and recorded["duration"] >= 0


# -- broken shims ---------------------------------------------------------------

RANDOM_TESTS = [
    "test_random_inputs_from_bytes_port",
    "test_random_inputs_through_pipe",
    "test_inputs_one_byte_at_a_time",
]


def test_wrong_digest_for_64_byte_inputs_is_caught(tmp_path):
    run = run_suite(tmp_path, "digest64")
    assert run.returncode == 1, run
    want = set()
    for file, ops in [
        ("test_06_sha1.py", ["sha1", "sha1-bytes"]),
        ("test_07_md5.py", ["md5", "md5-bytes"]),
    ]:
        want |= {"%s::%s[%s]" % (file, test, op) for test in RANDOM_TESTS for op in ops}
        # sha1 and hex of sha1-bytes disagree for the 64-byte input among the first 20.
        want.add("%s::test_output_format" % file)
    assert names(run) == want, run
    assert "64 bytes" in run.output and "seed %d" % hashing.SEED in run.output


def test_odd_length_hex_accepted_is_caught(tmp_path):
    run = run_suite(tmp_path, "odd-hex", HASH_FILES[:1], ["-k", "hex_string"])
    assert run.returncode == 1, run
    failed = names(run)
    assert failed, run
    assert all("test_hex_string_to_bytes_rejects_odd_length" in name for name in failed), failed
    assert len(failed) == 4, failed


def test_upper_case_hex_is_caught(tmp_path):
    run = run_suite(tmp_path, "upper-hex")
    assert run.returncode == 1, run
    failed = names(run)
    for must in [
        "test_06_sha1.py::test_rfc3174_vectors[sha1-rfc3174-test1]",
        "test_06_sha1.py::test_output_format",
        "test_06_sha1.py::test_bytes_to_hex_string_example",
        "test_06_sha1.py::test_bytes_to_hex_string_all_byte_values",
        "test_07_md5.py::test_rfc1321_vectors[md5-rfc1321-abc]",
        "test_07_md5.py::test_random_inputs_through_pipe[md5]",
    ]:
        assert must in failed, "%s did not fail:\n%s" % (must, sorted(failed))
    assert not [name for name in failed if "-bytes]" in name], "byte results were not changed"


def test_a_crash_fails_the_test_with_the_shim_stderr(tmp_path):
    run = run_suite(tmp_path, "crash-on=md5", HASH_FILES[1:], ["-k", "test_output_format"])
    assert run.returncode == 1, run
    assert names(run) == {"test_07_md5.py::test_output_format"}, run
    assert "proxy: crashing on purpose at md5" in run.output, run
    message = run.summary["tests"][0]["message"]
    assert "signal" in message or "exit" in message, message


# -- accounting ------------------------------------------------------------------


def test_unimplemented_is_counted_apart(tmp_path):
    run = run_suite(tmp_path, "unimplemented-md5", HASH_FILES[1:])
    assert run.returncode == 0, run
    assert run.counts["unimplemented"] > 10 and run.counts["failed"] == 0, run
    assert run.counts["skipped"] == 0 or all(
        "unimplemented" not in t.get("message", "")
        for t in run.summary["tests"]
        if t["outcome"] == "skipped"
    )
    match = LINE.search(run.output)
    assert match and int(match.group(4)) == run.counts["unimplemented"], run


def write_expectations(tmp_path, entries, strict=False):
    lines = ["# written by the self-check"]
    if strict:
        lines.append("strict = true")
    for test, outcome in entries:
        lines += ["[[expect]]", 'test = "%s"' % test, 'outcome = "%s"' % outcome]
        lines += ['reason = "self-check"', ""]
    path = tmp_path / "expect.toml"
    path.write_text("\n".join(lines))
    return path


def test_expected_failure_that_passes_fails_the_run(tmp_path):
    test = "tests/test_06_sha1.py::test_bytes_to_hex_string_example"
    path = write_expectations(tmp_path, [(test, "fail")])
    extra = ["--expectations=%s" % path, "-k", "hex_string"]
    run = run_suite(tmp_path, "none", HASH_FILES[:1], extra)
    assert run.returncode == 1, run
    assert run.counts["xpassed"] == 1 and run.failed == {test}, run
    assert "expected failure passed" in run.output, run


def test_expected_failures_are_reported_as_such(tmp_path):
    odd = ["0", "abc", "12345", "a" * 41]
    entries = [
        ("tests/test_06_sha1.py::test_hex_string_to_bytes_rejects_odd_length[%s]" % t, "fail")
        for t in odd
    ]
    path = write_expectations(tmp_path, entries)
    extra = ["--expectations=%s" % path, "-k", "hex_string"]
    run = run_suite(tmp_path, "odd-hex", HASH_FILES[:1], extra)
    assert run.returncode == 0, run
    assert run.counts["xfailed"] == 4 and not run.failed, run
    match = LINE.search(run.output)
    assert match and match.group(5) == "4", run


def test_expected_unimplemented_that_passes_fails_the_run(tmp_path):
    test = "tests/test_06_sha1.py::test_hex_string_to_bytes_example"
    path = write_expectations(tmp_path, [(test, "unimplemented")])
    extra = ["--expectations=%s" % path, "-k", "hex_string_to_bytes_example"]
    run = run_suite(tmp_path, "none", HASH_FILES[:1], extra)
    assert run.returncode == 1 and run.failed == {test}, run
    assert "lists this test as unimplemented" in run.output, run


def test_strict_expectations_fail_an_unlisted_unimplemented(tmp_path):
    listed = "tests/test_07_md5.py::test_empty_input[md5-bytes]"
    path = write_expectations(tmp_path, [(listed, "unimplemented")], strict=True)
    extra = ["--expectations=%s" % path, "-k", "test_empty_input"]
    run = run_suite(tmp_path, "unimplemented-md5", HASH_FILES[1:], extra)
    assert run.returncode == 1, run
    assert run.failed == {"tests/test_07_md5.py::test_empty_input[md5]"}, run
    assert run.outcomes("unimplemented") == {listed}, run
    assert "is strict" in run.output, run


def test_strict_expectations_fail_an_unlisted_skip(tmp_path):
    path = write_expectations(tmp_path, [], strict=True)
    extra = ["--expectations=%s" % path, "-k", "hex_string_to_bytes_example"]
    extra.append("--spec-dir=%s" % newer_spec(tmp_path, "S6.unhex.1"))
    run = run_suite(tmp_path, "version=8.7", HASH_FILES[:1], extra)
    assert run.returncode == 1, run
    assert run.summary["tests"] and all(
        t["outcome"] == "error" and "is strict" in t["message"] for t in run.summary["tests"]
    ), run


def test_stale_expectation_fails_the_run(tmp_path):
    path = write_expectations(tmp_path, [("tests/test_06_sha1.py::test_no_such_test", "fail")])
    extra = ["--expectations=%s" % path, "-k", "hex_string_example"]
    run = run_suite(tmp_path, "none", HASH_FILES[:1], extra)
    assert run.returncode == 1, run
    assert "stale expectations" in run.output and "test_no_such_test" in run.output, run
    assert run.summary["stale_expectations"], run


def test_expectations_need_a_reason(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[[expect]]\ntest = "tests/test_06_sha1.py::x"\noutcome = "fail"\n')
    run = run_suite(tmp_path, "none", HASH_FILES[:1], ["--expectations=%s" % path])
    assert run.returncode == 4 and "'reason' is a required" in run.output, run


# -- version gating --------------------------------------------------------------


def newer_spec(tmp_path, clause):
    """A copy of spec/ in which `clause` was added in 8.8."""
    spec = tmp_path / "spec"
    spec.mkdir()
    for source in (ROOT / "spec").glob("*.md"):
        text = source.read_text()
        text = text.replace("**%s**" % clause, "**%s** [added 8.8]" % clause)
        (spec / source.name).write_text(text)
    return spec


def test_clause_newer_than_the_claimed_version_is_skipped(tmp_path):
    spec = newer_spec(tmp_path, "S6.unhex.3")
    selection = "hex_string_to_bytes_of_empty or hex_string_to_bytes_example"
    extra = ["--spec-dir=%s" % spec, "-k", selection]
    run = run_suite(tmp_path, "version=8.7.0.8", HASH_FILES[:1], extra)
    assert run.returncode == 0, run
    skipped = [t for t in run.summary["tests"] if t["outcome"] == "skipped"]
    assert [t["test"] for t in skipped] == [
        "tests/test_06_sha1.py::test_hex_string_to_bytes_of_empty"
    ], run
    message = skipped[0]["message"]
    assert "S6.unhex.3" in message and "8.8" in message and "8.7.0.8" in message, message
    assert run.counts["passed"] == 1, run
    run = run_suite(tmp_path, "version=8.8", HASH_FILES[:1], extra)
    assert run.returncode == 0 and run.counts["passed"] == 2, run


# -- coverage tool -----------------------------------------------------------------


def test_spec_coverage_tool(tmp_path):
    has_clauses = any(
        re.search(r"^\s*- \*\*(S[0-9]|D)\.", p.read_text(), re.M)
        for p in (ROOT / "spec").glob("*.md")
    )
    completed = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "spec-coverage"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode in (0, 1), completed.stderr
    result = json.loads(completed.stdout)
    if has_clauses:
        assert completed.returncode == 0, "spec-coverage fails: %s" % json.dumps(
            {k: result[k][:20] for k in ("missing", "stale", "unknown", "problems")}, indent=1
        )
