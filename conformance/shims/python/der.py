"""Just enough DER and PEM for the Python shim.

Python's `ssl` module hands out a peer's certificate as DER bytes and says
little about it, so the shim reads what the API needs itself: the subject
and issuer names (OpenSSL's one-line form), the common names, the subject
alternative names, and the signature algorithm (for tls-server-end-point).
It also sorts private keys by type for ssl-load-private-key!.
"""

import base64
import binascii
import re


class DerError(ValueError):
    """The bytes are not the DER structure that was expected."""


SEQUENCE = 0x30
SET = 0x31
INTEGER = 0x02
OCTET_STRING = 0x04
OID = 0x06


def element(data, at):
    """(tag, start, end) of the element at `at`: its content is data[start:end]."""
    if at + 2 > len(data):
        raise DerError("truncated element")
    tag = data[at]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used here")
    length = data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise DerError("element runs past the end")
    return tag, start, end


def children(data, start, end):
    """The elements inside data[start:end], as (tag, start, end)."""
    items = []
    at = start
    while at < end:
        tag, content_start, content_end = element(data, at)
        items.append((tag, content_start, content_end))
        at = content_end
    if at != end:
        raise DerError("elements overrun their container")
    return items


def oid_text(content):
    """The dotted text of an OBJECT IDENTIFIER's content bytes."""
    if not content:
        raise DerError("empty OID")
    numbers = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    first = numbers[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(n) for n in head + numbers[1:])


# -- certificates ---------------------------------------------------------------------


class Certificate:
    """The fields of an X.509 certificate the shim uses."""

    def __init__(self, der):
        self.der = bytes(der)
        data = self.der
        tag, start, end = element(data, 0)
        if tag != SEQUENCE:
            raise DerError("a certificate is a SEQUENCE")
        parts = children(data, start, end)
        if len(parts) != 3 or parts[0][0] != SEQUENCE or parts[1][0] != SEQUENCE:
            raise DerError("a certificate has three parts")
        self.signature_oid = _algorithm(data, parts[1])
        tbs = children(data, parts[0][1], parts[0][2])
        if tbs and tbs[0][0] == 0xA0:  # [0] EXPLICIT version
            tbs = tbs[1:]
        if len(tbs) < 6:
            raise DerError("tbsCertificate is too short")
        self.issuer = _name(data, tbs[2])
        self.subject = _name(data, tbs[4])
        self.dns_names = []
        self.ip_addresses = []
        self.has_san = False
        for tag, s, e in tbs[6:]:
            if tag == 0xA3:  # [3] EXPLICIT extensions
                self._extensions(data, s, e)

    def _extensions(self, data, start, end):
        (tag, s, e) = element(data, start)
        if tag != SEQUENCE:
            raise DerError("extensions are a SEQUENCE")
        for tag, es, ee in children(data, s, e):
            fields = children(data, es, ee)
            if not fields or fields[0][0] != OID:
                raise DerError("an extension starts with an OID")
            if oid_text(data[fields[0][1] : fields[0][2]]) != "2.5.29.17":
                continue
            value = fields[-1]
            if value[0] != OCTET_STRING:
                raise DerError("an extension's value is an OCTET STRING")
            self.has_san = True
            self._alt_names(data[value[1] : value[2]])

    def _alt_names(self, san):
        tag, start, end = element(san, 0)
        if tag != SEQUENCE:
            raise DerError("subjectAltName is a SEQUENCE")
        for tag, s, e in children(san, start, end):
            if tag == 0x82:  # [2] dNSName, an IA5String
                self.dns_names.append(san[s:e].decode("latin-1"))
            elif tag == 0x87:  # [7] iPAddress, 4 or 16 octets
                self.ip_addresses.append(bytes(san[s:e]))

    def common_names(self):
        return [_text(tag, value) for (oid, tag, value) in self.subject if oid == "2.5.4.3"]


def _algorithm(data, part):
    fields = children(data, part[1], part[2])
    if not fields or fields[0][0] != OID:
        raise DerError("an AlgorithmIdentifier starts with an OID")
    return oid_text(data[fields[0][1] : fields[0][2]])


def _name(data, part):
    """A Name as a list of (oid, string tag, value bytes), in encoded order."""
    tag, start, end = part
    if tag != SEQUENCE:
        raise DerError("a Name is a SEQUENCE")
    entries = []
    for rdn_tag, rs, re_ in children(data, start, end):
        if rdn_tag != SET:
            raise DerError("a relative distinguished name is a SET")
        for ava_tag, avs, ave in children(data, rs, re_):
            fields = children(data, avs, ave)
            if ava_tag != SEQUENCE or len(fields) != 2 or fields[0][0] != OID:
                raise DerError("an attribute is a SEQUENCE of an OID and a value")
            oid = oid_text(data[fields[0][1] : fields[0][2]])
            entries.append((oid, fields[1][0], bytes(data[fields[1][1] : fields[1][2]])))
    return entries


def _text(tag, value):
    """A directory string as text."""
    if tag == 0x1E:  # BMPString
        return value.decode("utf-16-be", "replace")
    if tag == 0x1C:  # UniversalString
        return value.decode("utf-32-be", "replace")
    if tag == 0x0C:  # UTF8String
        return value.decode("utf-8", "replace")
    return value.decode("latin-1")


# The short names OpenSSL prints for the attribute types of a name.
SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.13": "description",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.41": "name",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
}


def oneline(entries):
    """A name in OpenSSL's one-line form (`-nameopt compat`): /C=XX/O=Org/CN=name."""
    out = []
    for oid, tag, value in entries:
        text = []
        for byte in value:
            if byte in (0x2F, 0x2B):  # '/' and '+' are escaped
                text.append("\\" + chr(byte))
            elif byte < 0x20 or byte > 0x7E:
                text.append("\\x%02X" % byte)
            else:
                text.append(chr(byte))
        out.append("/%s=%s" % (SHORT_NAMES.get(oid, oid), "".join(text)))
    return "".join(out).encode("latin-1")


# Signature algorithms and the hash each names (RFC 5929 section 4.1 picks the
# hash of tls-server-end-point from it); None: no single hash function.
SIGNATURE_HASHES = {
    "1.2.840.113549.1.1.4": "md5",  # md5WithRSAEncryption
    "1.2.840.113549.1.1.5": "sha1",  # sha1WithRSAEncryption
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.10045.4.1": "sha1",  # ecdsa-with-SHA1
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
    "1.2.840.10040.4.3": "sha1",  # dsa-with-sha1
    "2.16.840.1.101.3.4.3.1": "sha224",  # dsa-with-sha224
    "2.16.840.1.101.3.4.3.2": "sha256",  # dsa-with-sha256
    "1.3.101.112": None,  # Ed25519
    "1.3.101.113": None,  # Ed448
}


def end_point_hash(certificate):
    """The hash name RFC 5929 section 4.1 uses for this certificate, or None."""
    name = SIGNATURE_HASHES.get(certificate.signature_oid)
    if name in ("md5", "sha1"):
        return "sha256"
    return name


# -- PEM ---------------------------------------------------------------------------------

PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
CERTIFICATE_LABELS = (b"CERTIFICATE", b"TRUSTED CERTIFICATE", b"X509 CERTIFICATE")


def pem_blocks(text):
    """[(label, der)] for each well-formed PEM block of `text` (bytes)."""
    blocks = []
    for match in PEM_BLOCK.finditer(text):
        body = b"".join(line.strip() for line in match.group(2).splitlines() if b":" not in line)
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            continue
        if der:
            blocks.append((match.group(1), der))
    return blocks


def pem(label, der):
    """A PEM block of `der` under `label` (text)."""
    body = base64.encodebytes(der).decode("ascii").replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(lines), label)


def certificates(text):
    """The DER of each certificate in PEM text, in order."""
    return [der for label, der in pem_blocks(text) if label in CERTIFICATE_LABELS]


# -- private keys ------------------------------------------------------------------------

RSA_OID = "1.2.840.113549.1.1.1"


def key_kind(der):
    """The form and type of a DER private key: (form, is_rsa); raises DerError if none.

    form is "pkcs8" (PrivateKeyInfo, RFC 5958), "rsa" (PKCS#1 RSAPrivateKey),
    or "ec" (SEC 1 ECPrivateKey).
    """
    tag, start, end = element(der, 0)
    if tag != SEQUENCE or end != len(der):
        raise DerError("a private key is one SEQUENCE")
    fields = children(der, start, end)
    if len(fields) >= 3 and fields[0][0] == INTEGER and fields[1][0] == SEQUENCE:
        algorithm = children(der, fields[1][1], fields[1][2])
        if algorithm and algorithm[0][0] == OID and fields[2][0] == OCTET_STRING:
            oid = oid_text(der[algorithm[0][1] : algorithm[0][2]])
            return "pkcs8", oid == RSA_OID
    if len(fields) >= 9 and all(f[0] == INTEGER for f in fields[:9]):
        return "rsa", True
    if len(fields) >= 2 and fields[0][0] == INTEGER and fields[1][0] == OCTET_STRING:
        return "ec", False
    raise DerError("not a private key")


KEY_LABELS = {"pkcs8": "PRIVATE KEY", "rsa": "RSA PRIVATE KEY", "ec": "EC PRIVATE KEY"}


def pem_key(der):
    """A DER private key as PEM text under the label its form has."""
    form, _ = key_kind(der)
    return pem(KEY_LABELS[form], der)


def pem_keys(text):
    """[(pem text, is_rsa)] for each private key in PEM `text`, in order."""
    keys = []
    for label, der in pem_blocks(text):
        if not label.endswith(b"PRIVATE KEY") or label == b"ENCRYPTED PRIVATE KEY":
            continue
        try:
            form, is_rsa = key_kind(der)
        except DerError:
            continue
        if label == b"RSA PRIVATE KEY" and form != "rsa":
            continue
        keys.append((pem(KEY_LABELS[form], der), is_rsa))
    return keys
