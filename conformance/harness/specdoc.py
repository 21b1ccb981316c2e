"""Spec clauses (spec/*.md) and the waiting list (spec/waiting.txt).

The clause format is the one HACKING.md describes: a markdown list item that
starts with its id in bold, optionally followed by version tags:

    - **S6.sha1.2** `sha1` consumes the port up to end-of-file ...
    - **S4.keylog.1** [added 8.7.0.8] `ssl-set-keylogger!` ...
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from .versions import version_key

CLAUSE_ID = re.compile(r"(?:S[0-9]|D)\.[a-z0-9-]+\.[0-9]+")
_ITEM = re.compile(r"^(\s*)[-*+]\s+\*\*([^*]+)\*\*(.*)$")
_LOOKS_LIKE_ID = re.compile(r"^(?:S[0-9]*|D)\.")
_NUMBERED = re.compile(r"^[0-9][0-9]-[a-z0-9-]+\.md$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_TAG = re.compile(r"\[(added|changed)\s+([0-9]+(?:\.[0-9]+)*)\]")


@dataclass
class Clause:
    id: str
    path: Path
    line: int
    text: str
    tags: list = field(default_factory=list)

    @property
    def section(self):
        return self.id.split(".")[0]

    def newest_tag(self):
        """The (kind, version) tag with the highest version, or None."""
        if not self.tags:
            return None
        return max(self.tags, key=lambda tag: version_key(tag[1]))


def is_clause_id(text):
    return CLAUSE_ID.fullmatch(text) is not None


def parse_spec_file(path):
    """Return (clauses, problems) for one markdown file."""
    clauses, problems = [], []
    current = None
    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if _FENCE.match(line):
            fenced, current = not fenced, None
            continue
        match = None if fenced else _ITEM.match(line)
        if match:
            current = _start_clause(path, number, match, clauses, problems)
        elif current is not None and line.strip() and line[:1].isspace():
            current.text += " " + line.strip()
        else:
            current = None
    for clause in clauses:
        clause.tags = [(kind, version) for (kind, version) in _TAG.findall(clause.text)]
    return clauses, problems


def _start_clause(path, number, match, clauses, problems):
    label = match.group(2).strip()
    if is_clause_id(label):
        clause = Clause(label, path, number, match.group(3).strip())
        clauses.append(clause)
        return clause
    if _LOOKS_LIKE_ID.match(label):
        problems.append("%s:%d: malformed clause id %r" % (path, number, label))
    return None


def spec_files(spec_dir):
    """The files that hold clauses: NN-topic.md and deviations.md (HACKING.md)."""
    spec_dir = Path(spec_dir)
    files = sorted(p for p in spec_dir.glob("*.md") if _NUMBERED.match(p.name))
    deviations = spec_dir / "deviations.md"
    return files + ([deviations] if deviations.exists() else [])


def load_spec(spec_dir):
    """Return ({id: Clause}, problems) for every clause file in spec_dir."""
    table, problems = {}, []
    for path in spec_files(spec_dir):
        clauses, file_problems = parse_spec_file(path)
        problems.extend(file_problems)
        for clause in clauses:
            first = table.get(clause.id)
            if first is not None:
                problems.append(
                    "%s:%d: clause %s already defined at %s:%d"
                    % (path, clause.line, clause.id, first.path, first.line)
                )
                continue
            table[clause.id] = clause
    return table, problems


def load_waiting(path):
    """Return ({id: issue}, problems) from spec/waiting.txt (absent: empty)."""
    waiting, problems = {}, []
    path = Path(path)
    if not path.exists():
        return waiting, problems
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if not is_clause_id(parts[0]) or len(parts) != 2:
            problems.append("%s:%d: expected '<clause id> <issue>'" % (path, number))
            continue
        if parts[0] in waiting:
            problems.append("%s:%d: %s listed twice" % (path, number, parts[0]))
        waiting[parts[0]] = parts[1].strip()
    return waiting, problems
