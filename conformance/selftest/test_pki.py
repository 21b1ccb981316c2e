"""Selftest of the test PKI (certs/) and of the data made from it (fixtures/).

- Every file in certs/ is listed in certs/manifest.json, and its facts,
  parsed with `cryptography` and checked with the openssl command line,
  are the ones the manifest states; certs/README.md states the same.
- tools/mkcerts makes a set in a new directory that passes the same checks
  and has the same manifest and README.
- Every row of fixtures/hostnames.json agrees with OpenSSL's host check,
  `openssl x509 -checkhost` (or `-checkip` for an IP literal), or records
  why it does not; a recorded reason that no longer holds fails too.
- fixtures/bad-inputs.json is well formed.
"""

import ipaddress
import json
import os
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CERTS = os.path.join(TOP, "certs")
FIXTURES = os.path.join(TOP, "fixtures")
MKCERTS = os.path.join(TOP, "tools", "mkcerts")

# Files in certs/ that describe the others rather than being listed.
META = {"manifest.json", "README.md"}

SHORT_NAMES = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
}
HASH_NAMES = {
    "sha256": "SHA-256",
    "sha384": "SHA-384",
    "sha512": "SHA-512",
    "sha1": "SHA-1",
    "md5": "MD5",
}
CURVE_NAMES = {"secp256r1": "ECDSA-P256", "secp384r1": "ECDSA-P384"}
PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----\r?\n", re.S)


def load_json(*parts):
    with open(os.path.join(*parts)) as f:
        return json.load(f)


def read_bytes(*parts):
    with open(os.path.join(*parts), "rb") as f:
        return f.read()


def manifest_files(directory=CERTS):
    return load_json(directory, "manifest.json")["files"]


# --- facts of certificates and keys, as the manifest spells them ---


def oneline(name):
    """A name as X509_NAME_oneline prints it: /O=sslport/CN=..."""
    return "".join(
        "/%s=%s" % (SHORT_NAMES.get(attr.oid, attr.oid.dotted_string), attr.value)
        for rdn in name.rdns
        for attr in rdn
    )


def utc(cert, which):
    moment = getattr(cert, which + "_utc", None) or getattr(cert, which)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def key_type(key):
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RSA-%d" % key.key_size
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return CURVE_NAMES.get(key.curve.name, key.curve.name)
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "Ed25519"
    return type(key).__name__


def san_strings(cert):
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out = []
    for name in names:
        if isinstance(name, x509.DNSName):
            out.append("DNS:" + name.value)
        elif isinstance(name, x509.IPAddress):
            out.append("IP:" + str(name.value))
        else:
            out.append(repr(name))
    return out


def is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def cert_facts(cert):
    algorithm = cert.signature_hash_algorithm
    return {
        "subject": oneline(cert.subject),
        "issuer": oneline(cert.issuer),
        "sans": san_strings(cert),
        "not_before": utc(cert, "not_valid_before"),
        "not_after": utc(cert, "not_valid_after"),
        "key": key_type(cert.public_key()),
        "signature_hash": HASH_NAMES.get(algorithm.name, algorithm.name) if algorithm else "none",
        "ca": is_ca(cert),
    }


def load_certs(data, fmt):
    if fmt == "DER":
        return [x509.load_der_x509_certificate(data)]
    return [x509.load_pem_x509_certificate(block) for block in PEM_CERT.findall(data)]


def spki(key):
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


KEY_FORMATS = {
    "PKCS#8 PEM": (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8),
    "PKCS#1 PEM": (serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL),
    "PKCS#8 DER": (serialization.Encoding.DER, serialization.PrivateFormat.PKCS8),
    "PKCS#1 DER": (serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL),
}


def load_key(data, fmt):
    """The key in data, which must be exactly the encoding fmt names."""
    encoding, private_format = KEY_FORMATS[fmt]
    if encoding == serialization.Encoding.PEM:
        key = serialization.load_pem_private_key(data, password=None)
    else:
        key = serialization.load_der_private_key(data, password=None)
    again = key.private_bytes(encoding, private_format, serialization.NoEncryption())
    assert again == data, "not exactly a %s key" % fmt
    return key


# --- checks with the openssl command line ---


def openssl(args, cwd=None):
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def verify_result(directory, name):
    """The first error of the manifest's verify command, or OK."""
    rc, out = openssl(
        ["verify", "-auth_level", "1", "-CAfile", "root-ca.pem", "-untrusted", name, name],
        cwd=directory,
    )
    found = re.search(r"error \d+ at \d+ depth lookup: (.*)", out)
    if found:
        return found.group(1).strip()
    return "OK" if rc == 0 else out


def subject_hash(path):
    rc, out = openssl(["x509", "-noout", "-hash", "-in", path])
    assert rc == 0, out
    return out.strip()


# --- one check per kind of file ---


def check_certificate(directory, name, entry):
    data = read_bytes(directory, name)
    certs = load_certs(data, entry["format"])
    if entry["format"] == "PEM" and entry["kind"] == "certificate":
        assert data.count(b"-----BEGIN") == len(certs), "PEM blocks that are not certificates"
    assert [cert_facts(c) for c in certs] == entry["certificates"]
    assert verify_result(directory, name) == entry["verify"]
    if "same_as" in entry:
        other = load_certs(read_bytes(directory, entry["same_as"]), "PEM")
        assert [c.public_bytes(serialization.Encoding.DER) for c in certs] == [
            c.public_bytes(serialization.Encoding.DER) for c in other
        ]
    if name.startswith("ca-dir/"):
        assert not os.path.islink(os.path.join(directory, name)), "hashed entries are copies"
        wanted = "ca-dir/%s.0" % subject_hash(os.path.join(directory, name))
        assert name == wanted, "hashed name should be " + wanted
    return certs


def check_key(directory, name, entry, data=None, fmt=None):
    data = read_bytes(directory, name) if data is None else data
    key = load_key(data, fmt or entry["format"])
    assert key_type(key) == entry["key"]
    if "pairs_with" in entry:
        cert = load_certs(read_bytes(directory, entry["pairs_with"]), "PEM")[0]
        matches = spki(key.public_key()) == spki(cert.public_key())
        assert matches == entry["matches"], "key and %s: match is %s" % (
            entry["pairs_with"],
            matches,
        )
    return key


def check_combined(directory, name, entry):
    certs = check_certificate(directory, name, entry)
    data = read_bytes(directory, name)
    block = re.search(rb"-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----\r?\n", data, re.S)
    assert block, "no PKCS#8 PEM key in the file"
    key = check_key(directory, name, entry, data=block.group(0), fmt="PKCS#8 PEM")
    assert spki(key.public_key()) == spki(certs[0].public_key())


def check_bad(directory, name, entry):
    data = read_bytes(directory, name)
    defect = entry["defect"]
    if defect == "empty":
        assert data == b""
        return
    assert data, "a bad file other than the empty one holds something"
    if defect == "truncated PEM":
        assert data.startswith(b"-----BEGIN CERTIFICATE-----") and b"-----END" not in data
    elif defect == "no PEM":
        assert b"-----BEGIN" not in data
    else:
        raise AssertionError("unknown defect " + defect)
    with pytest.raises(ValueError):
        x509.load_pem_x509_certificate(data)


CHECKS = {
    "certificate": check_certificate,
    "private-key": check_key,
    "key-and-certificate": check_combined,
    "bad": check_bad,
}


def check_file(directory, name, entry):
    assert entry.get("purpose"), "every file states its purpose"
    CHECKS[entry["kind"]](directory, name, entry)


def listed_files(directory):
    found = set()
    for root, _dirs, files in os.walk(directory):
        for name in files:
            found.add(os.path.relpath(os.path.join(root, name), directory).replace(os.sep, "/"))
    return found - META


# --- README.md, parsed back into the manifest's shape ---

FILE_FIELDS = {
    "kind": "kind",
    "format": "format",
    "key": "key",
    "pairs with": "pairs_with",
    "matches that certificate": "matches",
    "same certificate as": "same_as",
    "defect": "defect",
    "openssl verify": "verify",
}
CERT_FIELDS = {
    "subject": "subject",
    "issuer": "issuer",
    "SANs": "sans",
    "not before": "not_before",
    "not after": "not_after",
    "key": "key",
    "signature hash": "signature_hash",
    "CA": "ca",
}
LIST_ITEM = re.compile(r"( *)- ([^:]+):(?: (.*))?")


def readme_value(field, text):
    if field == "sans":
        return [] if text == "none" else [v.strip("`") for v in text.split(", ")]
    if field in ("matches", "ca"):
        return {"yes": True, "no": False}[text]
    return text.strip("`")


def readme_entry(lines):
    entry, purpose, facts = {}, [], None
    for line in lines:
        item = LIST_ITEM.fullmatch(line)
        if not item:
            if line.strip() and not entry:
                purpose.append(line.strip())
            continue
        indent, label, text = item.groups()
        if not indent and label.startswith("certificate"):
            facts = {}
            entry.setdefault("certificates", []).append(facts)
        elif indent:
            facts[CERT_FIELDS[label]] = readme_value(CERT_FIELDS[label], text)
        else:
            entry[FILE_FIELDS[label]] = readme_value(FILE_FIELDS[label], text)
    entry["purpose"] = " ".join(purpose)
    return entry


def parse_readme(text):
    """{file name: entry} from the "### `name`" sections of README.md."""
    files, name, lines = {}, None, []
    for line in text.splitlines() + ["#"]:
        if line.startswith("#"):
            if name is not None:
                files[name] = readme_entry(lines)
            heading = re.fullmatch(r"### `(.+)`", line)
            name, lines = (heading.group(1) if heading else None), []
        elif name is not None:
            lines.append(line)
    return files


def check_readme(directory):
    text = read_bytes(directory, "README.md").decode()
    files = manifest_files(directory)
    assert parse_readme(text) == files
    mentioned = set(re.findall(r"`([a-z0-9][\w./-]*\.(?:pem|key|der|0))`", text))
    assert mentioned <= set(files), "README names files that do not exist: %s" % sorted(
        mentioned - set(files)
    )


# --- the committed set ---

COMMITTED = manifest_files()


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_committed_file_matches_manifest(name):
    check_file(CERTS, name, COMMITTED[name])


def test_every_committed_file_is_listed():
    assert listed_files(CERTS) == set(COMMITTED)


def test_readme_agrees_with_manifest():
    check_readme(CERTS)


def test_certs_stay_small():
    total = sum(os.path.getsize(os.path.join(CERTS, n)) for n in listed_files(CERTS) | META)
    assert total < 1024 * 1024


# --- a set made afresh ---


def test_mkcerts_makes_an_equivalent_set(tmp_path):
    out = tmp_path / "certs"
    proc = subprocess.run([MKCERTS, str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    files = manifest_files(str(out))
    failures = []
    for name, entry in files.items():
        try:
            check_file(str(out), name, entry)
        except AssertionError as err:
            failures.append("%s: %s" % (name, err))
    assert not failures, "\n".join(failures)
    assert listed_files(str(out)) == set(files)
    check_readme(str(out))
    assert read_bytes(str(out), "manifest.json") == read_bytes(CERTS, "manifest.json")
    assert read_bytes(str(out), "README.md") == read_bytes(CERTS, "README.md")


def test_mkcerts_refuses_a_directory_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me\n")
    proc = subprocess.run([MKCERTS, str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert sorted(os.listdir(tmp_path)) == ["precious.txt"]


# --- fixtures/hostnames.json ---

HOSTNAMES = load_json(FIXTURES, "hostnames.json")
HOSTNAME_KEYS = {"cert", "host", "match", "rule"}


def is_ip_literal(host):
    """An IP literal is a host that the strict text forms of IPv4 and IPv6 spell."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return "%" not in host


def oracle_matches(cert, host):
    option = "-checkip" if is_ip_literal(host) else "-checkhost"
    rc, out = openssl(["x509", "-noout", "-in", os.path.join(CERTS, cert), option, host])
    assert rc == 0, out
    if "does NOT match certificate" in out:
        return False
    assert "does match certificate" in out, out
    return True


def test_hostname_table_is_well_formed():
    assert len(HOSTNAMES) >= 40
    seen = set()
    for index, row in enumerate(HOSTNAMES):
        assert HOSTNAME_KEYS <= set(row) <= HOSTNAME_KEYS | {"oracle_disagrees"}, index
        assert COMMITTED.get(row["cert"], {}).get("kind") == "certificate", index
        assert isinstance(row["host"], str) and isinstance(row["match"], bool), index
        assert row["rule"].strip() and row.get("oracle_disagrees", "x").strip(), index
        assert (row["cert"], row["host"]) not in seen, "row %d repeats a case" % index
        seen.add((row["cert"], row["host"]))
    assert {True, False} == {row["match"] for row in HOSTNAMES}


def test_hostname_table_against_openssl():
    report, problems = [], []
    for index, row in enumerate(HOSTNAMES):
        openssl_says = oracle_matches(row["cert"], row["host"])
        reason = row.get("oracle_disagrees")
        case = "row %d: %s %r: table %s, openssl %s" % (
            index,
            row["cert"],
            row["host"],
            row["match"],
            openssl_says,
        )
        if openssl_says != row["match"]:
            report.append(case + ("; " + reason if reason else "; no reason recorded"))
            if not reason:
                problems.append(case + ": disagreement without oracle_disagrees")
        elif reason:
            problems.append(case + ": oracle_disagrees recorded but openssl agrees")
    print("rows where openssl disagrees with the table:")
    print("\n".join(report) or "(none)")
    assert not problems, "\n".join(problems)


# --- fixtures/bad-inputs.json ---


def is_codec_value(value):
    """A value of the RPC codec, or a symbolic context descriptor."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(is_codec_value(v) for v in value)
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((tag, inner),) = value.items()
    if tag == "bytes":
        return isinstance(inner, str) and re.fullmatch(r"(?:[0-9a-f]{2})*", inner) is not None
    if tag == "symbol":
        return isinstance(inner, str) and inner != ""
    if tag == "context":
        return inner in ("client", "server")
    return False


def test_bad_inputs_are_well_formed():
    table = load_json(FIXTURES, "bad-inputs.json")
    assert table
    for kind, spec in table.items():
        assert set(spec) <= {"description", "arguments", "refused"}, kind
        assert spec["description"].strip(), kind
        assert spec["refused"], kind
        for value in spec["refused"]:
            assert is_codec_value(value), "%s: %r" % (kind, value)
        for arg in spec.get("arguments", []):
            assert isinstance(arg["op"], str), kind
            assert (isinstance(arg.get("arg"), int)) != ("kw" in arg), "%s: %r" % (kind, arg)


def test_fixture_readme_describes_these_files():
    text = read_bytes(FIXTURES, "README.md").decode()
    for name in ("hostnames.json", "bad-inputs.json"):
        assert re.search(r"^#+ `?%s`?" % re.escape(name), text, re.M), name
