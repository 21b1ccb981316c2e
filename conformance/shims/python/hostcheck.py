"""Hostname matching for the Python shim (spec D.hostname-match.1).

The rule serves both ssl-peer-check-hostname and hostname verification at
connection time.  An IP literal (the text forms inet_pton(3) accepts) matches
only an iPAddress SAN holding the same octets.  Any other host is a DNS name:
it must be well formed (no empty label, no label over 63 octets, at most 253
octets, no `*`, no trailing dot), and then it is matched the way OpenSSL's
default host check (X509_check_host without flags) matches: ASCII case is
ignored; a wildcard may only sit at the start or the end of the left-most
label of a pattern that has at least two dots after it and no A-label (xn--)
in that label; it stands for at least one character of one label when it is
the whole label, and a partial wildcard never matches an A-label.  The
common names count only when the certificate has no dNSName.
"""

import socket


def ip_literal(host):
    """The octets of `host` if it is an IPv4 or IPv6 literal, else None."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(family, host)
        except (OSError, ValueError):
            pass
    return None


def well_formed(host):
    if not host or len(host) > 253 or "*" in host or "\0" in host:
        return False
    return all(0 < len(label) <= 63 for label in host.split("."))


def _lower(text):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _equal(pattern, host):
    return "\0" not in pattern and _lower(pattern) == _lower(host)


def _star(pattern):
    """The index of the one usable wildcard of `pattern`, or None."""
    star = None
    at_label_start = True
    hyphen = False
    idna = False
    dots = 0
    for i, c in enumerate(pattern):
        if c == "*":
            at_end = i == len(pattern) - 1 or pattern[i + 1] == "."
            if star is not None or idna or dots:
                return None
            if not at_label_start and not at_end:
                return None
            star = i
            at_label_start = False
        elif c.isascii() and c.isalnum():
            if at_label_start and _lower(pattern[i : i + 4]) == "xn--":
                idna = True
            at_label_start = False
            hyphen = False
        elif c == ".":
            if at_label_start or hyphen:
                return None
            at_label_start = True
            idna = False
            dots += 1
        elif c == "-":
            if at_label_start:
                return None
            hyphen = True
        else:
            return None
    if at_label_start or hyphen or dots < 2:
        return None
    return star


def pattern_matches(pattern, host):
    """Whether one presented DNS identifier covers the (well-formed) host."""
    star = _star(pattern)
    if star is None:
        return _equal(pattern, host)
    prefix, suffix = pattern[:star], pattern[star + 1 :]
    if len(host) < len(prefix) + len(suffix):
        return False
    if not _equal(prefix, host[: len(prefix)]):
        return False
    middle = host[len(prefix) : len(host) - len(suffix)]
    if not _equal(suffix, host[len(host) - len(suffix) :]):
        return False
    whole_label = prefix == "" and suffix.startswith(".")
    if whole_label and middle == "":
        return False
    if not whole_label and _lower(host[:4]) == "xn--":
        return False
    return all(c.isascii() and (c.isalnum() or c == "-") for c in middle)


def matches(certificate, host):
    """Whether the certificate (a der.Certificate) is valid for `host`."""
    octets = ip_literal(host)
    if octets is not None:
        return octets in certificate.ip_addresses
    if not well_formed(host):
        return False
    if certificate.dns_names:
        return any(pattern_matches(name, host) for name in certificate.dns_names)
    return any(pattern_matches(name, host) for name in certificate.common_names())


def hostnames(certificate):
    """The DNS SANs in order; without any, the last common name; never IP SANs."""
    if certificate.dns_names:
        return list(certificate.dns_names)
    names = certificate.common_names()
    return names[-1:]
