"""Racket version numbers: "8.7" < "8.7.0.8" < "8.11.1.4" < "8.15.900"."""

import re

_VERSION = re.compile(r"[0-9]+(?:\.[0-9]+){0,3}")


def version_key(text):
    """A tuple that orders Racket versions numerically, missing parts as 0."""
    if not isinstance(text, str) or not _VERSION.fullmatch(text):
        raise ValueError("not a Racket version: %r" % (text,))
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


def newer_than(version, claimed):
    return version_key(version) > version_key(claimed)
