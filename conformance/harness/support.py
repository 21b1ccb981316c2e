"""Small helpers shared by the conformance tests."""

import pytest

from .codec import Symbol
from .shim import ShimError

PROTOCOL_SYMBOLS = [
    Symbol(name)
    for name in (
        "secure",
        "auto",
        "sslv2-or-v3",
        "sslv2",
        "sslv3",
        "tls",
        "tls11",
        "tls12",
        "tls13",
    )
]

HIDE = {"libssl": "SSLPORT_HIDE_LIBSSL", "libcrypto": "SSLPORT_HIDE_LIBCRYPTO"}


def start_hidden(shim_factory, impl, *libraries):
    """A shim started as if the named libraries were missing (skips if unsupported)."""
    env = {}
    for library in libraries:
        impl.require_hide_libraries(HIDE[library])
        env[HIDE[library]] = "1"
    return shim_factory(env=env, label="shim without %s" % " and ".join(libraries))


def expect_error(kind, shim, op, *args, **keywords):
    """Call op and insist that it raises exactly `kind`; return the ShimError."""
    with pytest.raises(ShimError) as caught:
        result = shim.call(op, *args, **keywords)
        pytest.fail("%s answered %r; wanted %s" % (op, result, kind))
    error = caught.value
    assert error.kind == kind, "%s raised %s (%s); wanted %s" % (
        op,
        error.kind,
        error.message,
        kind,
    )
    return error
