"""Section 9: libssl and libssl-load-fail-reason."""

import pytest

from harness import Handle
from harness.support import start_hidden


@pytest.mark.spec("S9.libssl.1")
def test_libssl_is_a_library(shim):
    library = shim.value("libssl")
    assert isinstance(library, Handle), "libssl is %r with OpenSSL installed" % (library,)


@pytest.mark.spec("S9.libssl.4")
def test_libssl_is_the_same_object_twice(shim):
    first = shim.value("libssl")
    assert isinstance(first, Handle), "libssl is %r" % (first,)
    assert shim.value("libssl") == first, "libssl is not the same object twice"


@pytest.mark.spec("S9.reason.1")
def test_libssl_fail_reason_is_false_when_loaded(shim):
    assert isinstance(shim.value("libssl"), Handle)
    reason = shim.value("libssl-load-fail-reason")
    assert reason is False, "libssl-load-fail-reason is %r" % (reason,)


@pytest.mark.spec("S9.libssl.2", "S9.reason.1", "S9.reason.2")
def test_libssl_hidden(shim_factory, impl):
    shim = start_hidden(shim_factory, impl, "libssl")
    assert shim.value("libssl") is False
    reason = shim.value("libssl-load-fail-reason")
    assert isinstance(reason, str) and reason, "libssl-load-fail-reason: %r" % (reason,)
    assert "libssl" in reason, "the reason does not name libssl: %r" % (reason,)


@pytest.mark.spec("S9.libssl.3", "S9.reason.1", "S9.reason.3")
def test_libcrypto_hidden(shim_factory, impl):
    shim = start_hidden(shim_factory, impl, "libcrypto")
    assert shim.value("libssl") is False, "libssl is loaded without libcrypto"
    reason = shim.value("libssl-load-fail-reason")
    assert isinstance(reason, str) and reason, "libssl-load-fail-reason: %r" % (reason,)
    assert "libcrypto" in reason, "the reason does not name libcrypto: %r" % (reason,)
