"""Shared checks for sections 6 and 7 (sha1, sha1-bytes, md5, md5-bytes).

Every digest a shim answers is compared with Python's hashlib, the
independent oracle; the RFC vectors in fixtures/hash-vectors.json are
checked against hashlib before they are used.
"""

import hashlib
import json
import random
from dataclasses import dataclass

from .codec import EOF
from .registry import ROOT

VECTORS_FILE = ROOT / "fixtures" / "hash-vectors.json"

# The random inputs are the same on every run; the seed is printed in the
# report header and in every failure message.
SEED = 20261203
RANDOM_COUNT = 200
# Sizes around the 64-byte block and its padding boundary (55/56 bytes leave
# room for the length or not), then block multiples.
EDGE_SIZES = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128]
BLOCK_MULTIPLES = [192, 256, 448, 512, 1024, 2048, 4096, 4160, 8192, 16384, 65536]
HEAVY_SIZES = [262144, 1048575, 1048576]
PIPE_LIMIT = 4096
MAX_ONE_BYTE_SIZE = 300

OPS = {
    "sha1": ("sha1", True),
    "sha1-bytes": ("sha1", False),
    "md5": ("md5", True),
    "md5-bytes": ("md5", False),
}
DIGEST_SIZE = {"sha1": 20, "md5": 16}


@dataclass
class Vector:
    id: str
    algorithm: str
    source: str
    data: bytes
    digest: str


def load_vectors(algorithm=None, path=VECTORS_FILE):
    """The RFC vectors, optionally those of one algorithm."""
    table = json.loads(path.read_text(encoding="ascii"))
    vectors = []
    for entry in table["vectors"]:
        data = entry["text"].encode("ascii") * entry["repeat"]
        vector = Vector(entry["id"], entry["algorithm"], entry["source"], data, entry["digest"])
        if algorithm is None or vector.algorithm == algorithm:
            vectors.append(vector)
    return vectors


def wrong_vectors(vectors):
    """Vectors whose recorded digest disagrees with hashlib (none, for a good file)."""
    return [
        v.id
        for v in vectors
        if hashlib.new(v.algorithm, v.data, usedforsecurity=False).hexdigest() != v.digest
    ]


def oracle(op, data):
    """What `op` must answer for `data`, computed by hashlib."""
    algorithm, as_hex = OPS[op]
    digest = hashlib.new(algorithm, data, usedforsecurity=False)
    return digest.hexdigest() if as_hex else digest.digest()


def random_inputs(seed=SEED, count=RANDOM_COUNT):
    """(label, bytes) pairs: the edge sizes, block multiples, then random sizes."""
    rng = random.Random(seed)
    sizes = EDGE_SIZES + BLOCK_MULTIPLES
    while len(sizes) < count:
        # Spread sizes over every order of magnitude up to 64 KiB.
        sizes.append(int(2 ** rng.uniform(1, 16)))
    return [("%d bytes #%d" % (size, i), rng.randbytes(size)) for (i, size) in enumerate(sizes)]


def heavy_inputs(seed=SEED):
    rng = random.Random(seed + 1)
    return [("%d bytes" % size, rng.randbytes(size)) for size in HEAVY_SIZES]


# -- reading through ports ----------------------------------------------------


def hash_from_bytes_port(shim, op, data):
    """Hash `data` read from open-input-bytes; the port must be at eof after."""
    port = shim.call("open-input-bytes", data)
    digest = shim.call(op, port)
    after = shim.call("read-bytes", 1, port)
    shim.call("release", port)
    return digest, after


def hash_through_pipe(shim, op, data, limit=PIPE_LIMIT):
    """Hash `data` while another request writes it into a pipe of `limit` bytes.

    The write and the hash overlap: with `data` longer than the limit, the
    writer can only finish because the hash reads concurrently.
    """
    (pipe_in, pipe_out) = shim.call("make-pipe", limit)
    hashing = shim.start_call(op, pipe_in)
    if data:
        written = shim.start_call("write-bytes", data, pipe_out).result()
        assert written == len(data), "write-bytes answered %r for %d bytes" % (written, len(data))
    shim.call("close-output-port", pipe_out)
    digest = hashing.result()
    after = shim.call("read-bytes", 1, pipe_in)
    shim.call("release", pipe_in)
    shim.call("release", pipe_out)
    return digest, after


# (size, bytes read before the hash): the hash covers only what is left,
# from nothing read to everything read, across a block's edges.
PARTLY_READ = [(200, 0), (200, 1), (200, 63), (200, 64), (200, 65), (200, 199), (200, 200)]
PARTLY_READ += [(70000, 4096), (70000, 65537)]


def check_partly_read(shim, op):
    """Hash bytes ports of which a first part was read; mismatch descriptions."""
    rng = random.Random(SEED + 2)
    wrong = []
    for size, skip in PARTLY_READ:
        label = "%d bytes, %d read first" % (size, skip)
        data = rng.randbytes(size)
        port = shim.call("open-input-bytes", data)
        head = shim.call("read-bytes", skip, port) if skip else b""
        digest = shim.call(op, port)
        after = shim.call("read-bytes", 1, port)
        shim.call("release", port)
        want = oracle(op, data[skip:])
        if head != data[:skip]:
            wrong.append("%s: read-bytes answered %r" % (label, head[:16]))
        if digest != want:
            wrong.append("%s: %s answered %r, hashlib says %r" % (label, op, digest, want))
        if after is not EOF:
            wrong.append("%s: after %s the port still gave %r" % (label, op, after))
    return wrong


def check_inputs(shim, op, inputs, read):
    """Run every input through `read`; return a list of mismatch descriptions."""
    wrong = []
    for label, data in inputs:
        digest, after = read(shim, op, data)
        want = oracle(op, data)
        if digest != want:
            wrong.append("%s: %s answered %r, hashlib says %r" % (label, op, digest, want))
        if after is not EOF:
            wrong.append("%s: after %s the port still gave %r" % (label, op, after))
    return wrong


def report(wrong, total, op):
    head = "%d of %d inputs wrong for %s (random seed %d):" % (len(wrong), total, op, SEED)
    return "\n  ".join([head] + wrong[:40])
