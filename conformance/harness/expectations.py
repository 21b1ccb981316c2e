"""Per-implementation expectations: conformance/expectations/<name>.toml.

    [[expect]]
    test = "tests/test_06_sha1.py::test_sha1_output_format"
    outcome = "fail"            # or "unimplemented" or "skip"
    reason = "why, with the evidence"

A file may also say, at its top, `strict = true`: then every test it does
not list must pass, and a skip or an unimplemented outcome that it does not
list fails the run, as a failure would.  The reference's file says so.
"""

import tomllib
from dataclasses import dataclass

OUTCOMES = ("fail", "unimplemented", "skip")


class ExpectationsError(Exception):
    pass


class Expectations(dict):
    """{normalized test id: Expectation}, and whether the file is strict."""

    def __init__(self, entries=(), strict=False):
        super().__init__(entries)
        self.strict = strict


@dataclass
class Expectation:
    test: str
    outcome: str
    reason: str
    source: str

    @property
    def path(self):
        return self.test.split("::", 1)[0]


def normalize(node_id):
    """Node ids are relative to conformance/; accept them from the repo root too."""
    if node_id.startswith("conformance/"):
        return node_id[len("conformance/") :]
    return node_id


def load(path):
    """Return the file's Expectations; raise ExpectationsError if malformed."""
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ExpectationsError("%s: %s" % (path, e)) from None
    extra = set(table) - {"expect", "strict"}
    if extra:
        raise ExpectationsError("%s: unknown top-level keys %s" % (path, sorted(extra)))
    strict = table.get("strict", False)
    if not isinstance(strict, bool):
        raise ExpectationsError("%s: 'strict' is true or false" % path)
    entries = table.get("expect", [])
    if not isinstance(entries, list):
        raise ExpectationsError("%s: 'expect' is an array of tables" % path)
    result = Expectations(strict=strict)
    for number, entry in enumerate(entries, 1):
        expectation = _entry(path, number, entry)
        key = normalize(expectation.test)
        if key in result:
            raise ExpectationsError("%s: entry %d: %s listed twice" % (path, number, key))
        result[key] = expectation
    return result


def _entry(path, number, entry):
    where = "%s: entry %d" % (path, number)
    if not isinstance(entry, dict):
        raise ExpectationsError("%s: not a table" % where)
    extra = set(entry) - {"test", "outcome", "reason"}
    if extra:
        raise ExpectationsError("%s: unknown keys %s" % (where, sorted(extra)))
    for key in ("test", "outcome", "reason"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ExpectationsError("%s: '%s' is a required non-empty string" % (where, key))
    if "::" not in entry["test"]:
        raise ExpectationsError("%s: test %r is not a node id" % (where, entry["test"]))
    if entry["outcome"] not in OUTCOMES:
        raise ExpectationsError(
            "%s: outcome %r is not one of %s" % (where, entry["outcome"], ", ".join(OUTCOMES))
        )
    return Expectation(entry["test"], entry["outcome"], entry["reason"].strip(), str(path))
