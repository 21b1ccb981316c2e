"""Resolving --impl: a short name from shims/registry.toml, or a command line."""

import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "conformance" / "shims" / "registry.toml"


@dataclass
class ImplCommand:
    name: str
    argv: list
    short_name: bool


def load_registry(path=REGISTRY):
    with open(path, "rb") as f:
        table = tomllib.load(f)
    return {name: entry["command"] for (name, entry) in table.items()}


def resolve(impl, impl_name=None, invocation_dir=None, registry=None):
    """Turn an --impl value into the name and argv of a shim command."""
    registry = load_registry() if registry is None else registry
    if impl in registry:
        argv = _absolute(shlex.split(registry[impl]), ROOT)
        return ImplCommand(impl_name or impl, argv, True)
    argv = shlex.split(impl)
    if not argv:
        raise ValueError("--impl is empty")
    argv = _absolute(argv, Path(invocation_dir or Path.cwd()))
    return ImplCommand(impl_name or "custom", argv, False)


def _absolute(argv, base):
    # The program and any script after it may be paths relative to `base`;
    # shims run from the repository root, so make such paths absolute.
    out = []
    for word in argv:
        candidate = base / word
        if "/" in word and not word.startswith("/") and candidate.exists():
            word = str(candidate)
        out.append(word)
    return out
