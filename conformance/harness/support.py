"""Small helpers shared by the conformance tests."""

import pytest

from .codec import Symbol
from .shim import ShimError
from .tls import HANDSHAKE_TIMEOUT

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
    return _require_kind(caught.value, kind, op)


def _require_kind(error, kind, what):
    assert error.kind == kind, "%s raised %s (%s); wanted %s" % (
        what,
        error.kind,
        error.message,
        kind,
    )
    return error


# Requests in flight (Futures from shim.start_call).


def outcome_of(future, timeout=HANDSHAKE_TIMEOUT):
    """(result, None) once the request answers, or (None, the ShimError)."""
    try:
        return future.result(timeout), None
    except ShimError as error:
        return None, error


def still_waiting(future, message):
    """Fail with `message` if the request has already answered."""
    if future.done():
        result, error = outcome_of(future, 0)
        pytest.fail("%s: %r" % (message, error or result))


def expect_failure(future, kind, what):
    """Wait for the request and insist that it raised exactly `kind`."""
    result, error = outcome_of(future)
    assert error is not None, "%s answered %r; wanted %s" % (what, result, kind)
    return _require_kind(error, kind, what)
