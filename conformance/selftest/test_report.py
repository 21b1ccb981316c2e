"""tools/report counts what the summaries say, section by section."""

import importlib.machinery
import importlib.util
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_report_tool():
    loader = importlib.machinery.SourceFileLoader("sslport_report", str(ROOT / "tools" / "report"))
    spec = importlib.util.spec_from_loader("sslport_report", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def write_summary(directory, name, tests):
    directory.mkdir(parents=True)
    summary = {
        "implementation": name,
        "hello": {"version": "8.7", "openssl": "OpenSSL 3.0"},
        "tests": tests,
        "collection_errors": [],
    }
    (directory / "summary.json").write_text(json.dumps(summary))


def test_report_counts_outcomes_by_section_and_lists_failures(tmp_path):
    report = load_report_tool()
    write_summary(
        tmp_path / "one",
        "one",
        [
            {"test": "t::a", "outcome": "passed", "clauses": ["S6.sha1.1"]},
            {"test": "t::b", "outcome": "failed", "clauses": ["S6.sha1.2"], "message": "boom"},
            {"test": "t::c", "outcome": "xfailed", "clauses": ["S7.md5.1"]},
            {"test": "t::d", "outcome": "unimplemented", "clauses": ["S7.md5.2"]},
        ],
    )
    write_summary(
        tmp_path / "two",
        "two",
        [{"test": "t::a", "outcome": "passed", "clauses": ["S6.sha1.1", "S7.md5.1"]}],
    )
    out = tmp_path / "out"
    assert report.main(["--out", str(out), str(tmp_path / "one"), str(tmp_path / "two")]) == 0
    markdown = (out / "summary.md").read_text()
    assert "| 6 SHA-1 hashing | 1 passed, 1 failed | 1 passed |" in markdown
    assert "| 7 MD5 hashing | 1 expected failure, 1 unimplemented | 1 passed |" in markdown
    assert "- `t::b`: boom" in markdown
    page = (out / "index.html").read_text()
    assert page.count("<details>") == 1
    assert 'class="w-failed"' in page


def test_report_refuses_a_missing_summary(tmp_path):
    report = load_report_tool()
    assert report.main(["--out", str(tmp_path / "out"), str(tmp_path / "nothing")]) == 2
