"""The pytest plugin that runs the conformance suite against one implementation.

Loaded from conformance/conftest.py.  It resolves --impl, starts shims for
the fixtures, enforces the `spec` marker, gates tests on the version an
implementation claims, applies its expectations file, and writes JUnit XML
and summary.json into the results directory.
"""

import json
import os
import time
from pathlib import Path

import pytest

from . import expectations as expectations_mod
from .hashing import SEED
from .registry import ROOT, resolve
from .shim import DEFAULT_TIMEOUT, ShimClient, ShimFailure, Unimplemented
from .specdoc import is_clause_id, load_spec
from .versions import version_key

CONFORMANCE = ROOT / "conformance"
SUITE_DIR = CONFORMANCE / "tests"
SHIMS = pytest.StashKey()
STATE = pytest.StashKey()
MARKERS = (
    "spec(*ids): the spec clauses a test checks (mandatory in conformance/tests)",
    "extension(name): the test needs an optional extension (e.g. full-duplex)",
    "heavy: too heavy for valgrind (large inputs, load)",
    "slow: takes seconds rather than milliseconds",
)


def pytest_addoption(parser):
    group = parser.getgroup("sslport", "sslport conformance suite")
    group.addoption(
        "--impl",
        default="ref",
        help="implementation under test: a short name from shims/registry.toml "
        "(ref, python, racket) or a shim command line (default: ref)",
    )
    group.addoption(
        "--impl-name",
        default=None,
        help="name for expectations and results (default: the short name, or 'custom')",
    )
    group.addoption(
        "--expectations",
        default=None,
        help="expectations file (default: conformance/expectations/<impl-name>.toml if present)",
    )
    group.addoption(
        "--results-dir",
        default=None,
        help="where summary.json and junit.xml go (default: build/results/<impl-name>/)",
    )
    group.addoption("--spec-dir", default=None, help="directory of spec clauses (default: spec/)")
    group.addoption(
        "--shim-timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for each shim answer (default: %(default)s)",
    )


def _is_worker(config):
    return hasattr(config, "workerinput")


def _in_suite(path):
    path = Path(path).resolve()
    return path == SUITE_DIR or SUITE_DIR in path.parents


class SuiteState:
    """What one run knows about the implementation, the spec and the results."""

    def __init__(self, config):
        self.config = config
        option = config.option
        self.command = resolve(option.impl, option.impl_name, config.invocation_params.dir)
        self.name = self.command.name
        self.timeout = option.shim_timeout
        self.suite_mode = self._suite_mode(config)
        self.spec_dir = Path(option.spec_dir or ROOT / "spec").resolve()
        self.clauses, self.spec_problems = load_spec(self.spec_dir)
        self.expectations_path = self._expectations_path(option.expectations)
        self.expectations = expectations_mod.Expectations()
        if self.expectations_path is not None:
            self.expectations = expectations_mod.load(self.expectations_path)
        self.results_dir = Path(option.results_dir or ROOT / "build" / "results" / self.name)
        self.hello = None
        self.stale = set()

    @staticmethod
    def _suite_mode(config):
        base = Path(config.invocation_params.dir)
        for arg in config.args:
            path = (base / arg.split("::", 1)[0]).resolve()
            if path == SUITE_DIR or SUITE_DIR in path.parents or path in SUITE_DIR.parents:
                return True
        return False

    def _expectations_path(self, given):
        if given:
            path = Path(given)
            if not path.exists():
                raise pytest.UsageError("--expectations: no such file: %s" % given)
            return path
        default = CONFORMANCE / "expectations" / ("%s.toml" % self.name)
        return default if default.exists() else None

    def start_shim(self, env=None, label="shim"):
        client = ShimClient(
            self.command.argv, env=env, cwd=str(ROOT), label=label, timeout=self.timeout
        )
        if self.hello is None and not env:
            self.hello = client.hello
        return client

    def implementation_hello(self):
        """hello from the implementation, starting a shim just to ask if need be."""
        if self.hello is None:
            client = self.start_shim(label="hello")
            problem = client.close()
            if problem:
                raise ShimFailure(problem + client.stderr_note())
        return self.hello

    def claimed_version(self):
        version = self.implementation_hello().get("version")
        try:
            version_key(version)
        except ValueError:
            raise ShimFailure("hello: 'version' is not a Racket version: %r" % (version,))
        return version


# -- configuration ----------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    try:
        state = SuiteState(config)
    except (ValueError, expectations_mod.ExpectationsError) as e:
        raise pytest.UsageError(str(e)) from None
    config.stash[STATE] = state
    if not state.suite_mode:
        return
    if state.spec_problems:
        raise pytest.UsageError("spec: " + "\n".join(state.spec_problems))
    _check_command(state)
    if not _is_worker(config) and getattr(config.option, "xmlpath", None) is None:
        state.results_dir.mkdir(parents=True, exist_ok=True)
        config.option.xmlpath = str(state.results_dir / "junit.xml")
    if not _is_worker(config):
        config.pluginmanager.register(_Accounting(state), "sslport-accounting")
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(_XdistHooks(state), "sslport-xdist")


def _check_command(state):
    program = state.command.argv[0]
    if "/" in program and not os.access(program, os.X_OK):
        hint = " (run make first)" if state.name == "ref" else ""
        raise pytest.UsageError("--impl %s: %s is not executable%s" % (state.name, program, hint))


def pytest_report_header(config):
    state = config.stash.get(STATE, None)
    if state is None or not state.suite_mode:
        return None
    expectations = state.expectations_path or "none"
    return [
        "sslport: implementation %s: %s" % (state.name, " ".join(state.command.argv)),
        "sslport: expectations %s (%d entries), spec %s (%d clauses)"
        % (expectations, len(state.expectations), state.spec_dir, len(state.clauses)),
        "sslport: random inputs from seed %d" % SEED,
    ]


# -- collection -------------------------------------------------------------


def item_clauses(item):
    ids = []
    for marker in item.iter_markers("spec"):
        ids.extend(marker.args)
    return ids


def check_spec_marker(item_name, ids, clauses):
    """Problems with one test's spec marker; `clauses` is None when spec/ is empty."""
    if not ids:
        return ["%s: no @pytest.mark.spec(...) naming the clauses it checks" % item_name]
    problems = []
    for clause_id in ids:
        if not isinstance(clause_id, str) or not is_clause_id(clause_id):
            problems.append("%s: %r is not a clause id" % (item_name, clause_id))
        elif clauses is not None and clause_id not in clauses:
            problems.append("%s: unknown clause %s (not in spec/)" % (item_name, clause_id))
    return problems


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    state = collector.config.stash.get(STATE, None)
    report = outcome.get_result()
    if state is None or not state.suite_mode or report.outcome != "passed":
        return
    known = state.clauses or None
    problems = []
    for item in report.result:
        if isinstance(item, pytest.Function) and _in_suite(item.path):
            problems.extend(check_spec_marker(item.nodeid, item_clauses(item), known))
    if problems:
        report.outcome = "failed"
        report.longrepr = "sslport: invalid spec markers:\n  " + "\n  ".join(problems)
        report.result = []


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    state = config.stash[STATE]
    if not state.suite_mode:
        return
    collected_files = set()
    ids = set()
    for item in items:
        if not _in_suite(item.path):
            continue
        node_id = expectations_mod.normalize(item.nodeid)
        ids.add(node_id)
        collected_files.add(node_id.split("::", 1)[0])
        item.user_properties.append(("clauses", " ".join(item_clauses(item))))
        _apply_expectation(item, state.expectations.get(node_id))
    for key, expectation in state.expectations.items():
        exists = (CONFORMANCE / expectation.path).exists()
        if key not in ids and (expectation.path in collected_files or not exists):
            state.stale.add("%s (%s in %s)" % (key, expectation.outcome, expectation.source))


def _apply_expectation(item, expectation):
    if expectation is None:
        return
    if expectation.outcome == "fail":
        reason = "expected to fail (%s): %s" % (expectation.source, expectation.reason)
        item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
    elif expectation.outcome == "skip":
        item.add_marker(pytest.mark.skip(reason="expected skip: %s" % expectation.reason))


# -- running ----------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    state = item.config.stash[STATE]
    item.stash[SHIMS] = []
    if not state.suite_mode or not _in_suite(item.path):
        return
    tagged = [state.clauses[c] for c in item_clauses(item) if c in state.clauses]
    tagged = [c for c in tagged if c.tags]
    if not tagged:
        return
    claimed = state.claimed_version()
    for clause in tagged:
        kind, version = clause.newest_tag()
        if version_key(version) > version_key(claimed):
            pytest.skip(
                "clause %s [%s %s] is newer than the version %s claims (%s)"
                % (clause.id, kind, version, state.name, claimed)
            )


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    state = item.config.stash[STATE]
    if not state.suite_mode or not _in_suite(item.path):
        return
    report.sslport_clauses = item_clauses(item)
    report.sslport_outcome = None
    shims = item.stash.get(SHIMS, [])
    if call.when == "call":
        _fail_on_shim_trouble(report, shims)
        _apply_outcome_expectation(report, state.expectations.get(_key(item)))
    if report.skipped and call.excinfo is not None and not hasattr(report, "wasxfail"):
        _locate_skip(item, report, call.excinfo.value)
        if state.expectations.strict and state.expectations.get(_key(item)) is None:
            _fail_unlisted_skip(report, state)
    if report.failed:
        for client in shims:
            _attach_shim_output(report, client)


def _locate_skip(item, report, exception):
    """Report a skip at the test, with its bare reason, wherever it was raised."""
    if isinstance(exception, Unimplemented):
        report.sslport_outcome = "unimplemented"
    if not isinstance(report.longrepr, tuple):
        return
    reason = str(getattr(exception, "msg", None) or report.longrepr[2])
    path, line = item.reportinfo()[:2]
    report.longrepr = (str(path), (line or 0) + 1, reason)


def _fail_unlisted_skip(report, state):
    """Under a strict expectations file, a skip it does not list is a failure."""
    what = "unimplemented" if report.sslport_outcome == "unimplemented" else "skipped"
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
    report.outcome = "failed"
    report.sslport_outcome = None
    report.longrepr = "sslport: %s is strict, and this test was %s without an entry there: %s" % (
        state.expectations_path,
        what,
        reason,
    )


def _key(item):
    return expectations_mod.normalize(item.nodeid)


def _fail_on_shim_trouble(report, shims):
    trouble = []
    for client in shims:
        crash = client.crashed()
        if crash:
            trouble.append(crash)
        trouble.extend("%s: %s" % (client.label, p) for p in client.problems)
    if trouble and report.passed:
        report.outcome = "failed"
        report.longrepr = "sslport: the shim misbehaved:\n  " + "\n  ".join(trouble)
    elif trouble and report.failed:
        report.sections.append(("sslport: shim trouble", "\n".join(trouble)))


def _apply_outcome_expectation(report, expectation):
    longrepr = report.longrepr
    if report.failed and isinstance(longrepr, str) and longrepr.startswith("[XPASS(strict)]"):
        report.sslport_outcome = "xpassed"
        if expectation is not None:
            report.longrepr = (
                "sslport: expected failure passed: %s lists this test as failing (%s); "
                "it passed, so remove or update the entry"
                % (expectation.source, expectation.reason)
            )
    elif expectation is not None and expectation.outcome == "unimplemented" and report.passed:
        report.outcome = "failed"
        report.sslport_outcome = "xpassed"
        report.longrepr = (
            "sslport: %s lists this test as unimplemented (%s), but it passed; "
            "remove or update the entry" % (expectation.source, expectation.reason)
        )


def _attach_shim_output(report, client):
    stderr = client.stderr_text()
    if stderr:
        report.sections.append(("Captured stderr %s" % client.label, stderr[-20000:]))
    transcript = client.transcript()
    if transcript:
        report.sections.append(("sslport: %s transcript (last lines)" % client.label, transcript))


# -- fixtures ---------------------------------------------------------------


@pytest.fixture
def shim_factory(request):
    """start(env=None, label=None) -> a new ShimClient; all are closed after the test."""
    state = request.config.stash[STATE]
    started = []

    def start(env=None, label=None):
        label = label or "shim %d (%s)" % (len(started) + 1, state.name)
        client = state.start_shim(env=env, label=label)
        started.append(client)
        request.node.stash.setdefault(SHIMS, []).append(client)
        return client

    yield start
    problems = []
    for client in started:
        problem = client.close()
        if problem:
            problems.append(problem + client.stderr_note())
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def shim(shim_factory):
    """A fresh shim for this test."""
    return shim_factory()


class ImplInfo:
    def __init__(self, state):
        self.name = state.name
        self.argv = state.command.argv
        self.hello = state.implementation_hello()
        self.version = self.hello.get("version")
        self.openssl = self.hello.get("openssl")
        self.hide_libraries = self.hello.get("hide-libraries") is True

    def require_hide_libraries(self, variable):
        if not self.hide_libraries:
            pytest.skip(
                "%s does not honour %s (hello says hide-libraries is not true)"
                % (self.name, variable)
            )


@pytest.fixture(scope="session")
def impl(request):
    """What the implementation under test says about itself."""
    return ImplInfo(request.config.stash[STATE])


# -- accounting -------------------------------------------------------------

_RANK = {"passed": 0, "skipped": 1, "unimplemented": 1, "xfailed": 1, "error": 2}
_RANK.update({"xpassed": 3, "failed": 3})
COUNT_KEYS = ("passed", "failed", "xfailed", "xpassed", "skipped", "unimplemented", "errors")


def _phase_outcome(report):
    special = getattr(report, "sslport_outcome", None)
    if report.when == "call":
        if special:
            return special
        if report.skipped:
            return "xfailed" if hasattr(report, "wasxfail") else "skipped"
        return report.outcome
    if report.failed:
        return "error"
    if report.skipped:
        return special or "skipped"
    return None


def _message(report):
    if hasattr(report, "wasxfail"):
        return report.wasxfail
    if report.skipped and isinstance(report.longrepr, tuple):
        return report.longrepr[2]
    return str(report.longrepr)[-8000:]


def count_outcomes(records, collection_errors=0):
    """Counts by outcome; a file that failed to collect counts as one error."""
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts["errors"] = collection_errors
    for record in records:
        key = "errors" if record["outcome"] == "error" else record["outcome"]
        if key in counts:
            counts[key] += 1
    return counts


def sslport_line(counts):
    """The closing line; "failed" counts everything that fails the run."""
    failed = counts["failed"] + counts["xpassed"] + counts["errors"]
    return "sslport: %d passed, %d failed, %d skipped, %d unimplemented, %d expected failures" % (
        counts["passed"],
        failed,
        counts["skipped"],
        counts["unimplemented"],
        counts["xfailed"],
    )


class _Accounting:
    """Per-test outcomes, summary.json and the closing line (main process only)."""

    def __init__(self, state):
        self.state = state
        self.records = {}
        self.summary = None
        self.summary_path = None
        self.collection_errors = []

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append({"node": report.nodeid, "message": str(report.longrepr)})

    def pytest_runtest_logreport(self, report):
        if not hasattr(report, "sslport_clauses"):
            return
        record = self.records.setdefault(
            report.nodeid,
            {"test": report.nodeid, "outcome": None, "clauses": report.sslport_clauses},
        )
        record["duration"] = round(record.get("duration", 0.0) + report.duration, 6)
        outcome = _phase_outcome(report)
        if outcome is not None and _RANK[outcome] > _RANK.get(record["outcome"], -1):
            record["outcome"] = outcome
            if outcome != "passed":
                record["message"] = _message(report)

    def pytest_sessionfinish(self, session):
        if self.state.stale and session.exitstatus == 0:
            session.exitstatus = 1
        self._write_summary(session)

    def _hello(self):
        if self.state.hello is None and self.records:
            try:
                self.state.implementation_hello()
            except ShimFailure:
                pass
        return self.state.hello

    def _write_summary(self, session):
        state = self.state
        hello = self._hello()
        records = sorted(self.records.values(), key=lambda r: r["test"])
        summary = {
            "implementation": state.name,
            "command": state.command.argv,
            "hello": hello,
            "version": (hello or {}).get("version"),
            "openssl": (hello or {}).get("openssl"),
            "expectations": str(state.expectations_path) if state.expectations_path else None,
            "stale_expectations": sorted(state.stale),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "exit_status": int(session.exitstatus),
            "counts": count_outcomes(records, len(self.collection_errors)),
            "collection_errors": self.collection_errors,
            "tests": records,
        }
        state.results_dir.mkdir(parents=True, exist_ok=True)
        self.summary_path = state.results_dir / "summary.json"
        self.summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        self.summary = summary

    def pytest_terminal_summary(self, terminalreporter):
        if self.summary is None:
            return
        write = terminalreporter.write_line
        if self.state.stale:
            terminalreporter.section("sslport: stale expectations", red=True)
            write("These entries name tests that do not exist; remove them:")
            for entry in sorted(self.state.stale):
                write("  " + entry)
        write("sslport: results in %s" % self.summary_path)
        write(sslport_line(self.summary["counts"]))


def pytest_sessionfinish(session):
    config = session.config
    state = config.stash.get(STATE, None)
    if state is not None and state.suite_mode and _is_worker(config):
        config.workeroutput["sslport_hello"] = state.hello
        config.workeroutput["sslport_stale"] = sorted(state.stale)


class _XdistHooks:
    """Collects what each xdist worker learned (hello, stale expectations)."""

    def __init__(self, state):
        self.state = state

    def pytest_testnodedown(self, node, error):
        output = getattr(node, "workeroutput", {}) or {}
        if self.state.hello is None and output.get("sslport_hello"):
            self.state.hello = output["sslport_hello"]
        self.state.stale.update(output.get("sslport_stale", []))
