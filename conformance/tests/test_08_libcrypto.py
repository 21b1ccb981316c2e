"""Section 8: libcrypto, libcrypto-load-fail-reason, openssl-lib-versions."""

import pytest

from harness import Handle
from harness.support import start_hidden


@pytest.mark.spec("S8.libcrypto.1")
def test_libcrypto_is_a_library(shim):
    library = shim.value("libcrypto")
    assert isinstance(library, Handle), "libcrypto is %r with OpenSSL installed" % (library,)


@pytest.mark.spec("S8.libcrypto.3")
def test_libcrypto_is_the_same_object_twice(shim):
    first = shim.value("libcrypto")
    assert isinstance(first, Handle), "libcrypto is %r" % (first,)
    assert shim.value("libcrypto") == first, "libcrypto is not the same object twice"


@pytest.mark.spec("S8.reason.1")
def test_libcrypto_fail_reason_is_false_when_loaded(shim):
    assert isinstance(shim.value("libcrypto"), Handle)
    reason = shim.value("libcrypto-load-fail-reason")
    assert reason is False, "libcrypto-load-fail-reason is %r" % (reason,)


@pytest.mark.spec("S8.versions.1")
def test_openssl_lib_versions_is_a_list_of_strings(shim):
    versions = shim.value("openssl-lib-versions")
    assert isinstance(versions, list) and versions, "openssl-lib-versions: %r" % (versions,)
    not_strings = [v for v in versions if not isinstance(v, str)]
    assert not not_strings, "not strings: %r" % (not_strings,)


@pytest.mark.spec("S8.versions.2")
def test_openssl_lib_versions_tries_openssl_3(shim):
    versions = shim.value("openssl-lib-versions")
    assert isinstance(versions, list), "openssl-lib-versions: %r" % (versions,)
    assert "3" in versions, "the OpenSSL 3 suffix is not tried: %r" % (versions,)


@pytest.mark.spec("S8.versions.3")
def test_openssl_lib_versions_is_stable(shim):
    first = shim.value("openssl-lib-versions")
    assert shim.value("openssl-lib-versions") == first


@pytest.mark.spec("S8.libcrypto.2", "S8.reason.1", "S8.reason.2")
def test_libcrypto_hidden(shim_factory, impl):
    shim = start_hidden(shim_factory, impl, "libcrypto")
    assert shim.value("libcrypto") is False
    reason = shim.value("libcrypto-load-fail-reason")
    assert isinstance(reason, str) and reason, "libcrypto-load-fail-reason: %r" % (reason,)
    assert "libcrypto" in reason, "the reason does not name libcrypto: %r" % (reason,)


@pytest.mark.spec("S8.libcrypto.4", "S8.reason.1")
def test_libcrypto_loaded_without_libssl(shim_factory, impl):
    shim = start_hidden(shim_factory, impl, "libssl")
    library = shim.value("libcrypto")
    assert isinstance(library, Handle), "libcrypto is %r with only libssl hidden" % (library,)
    assert shim.value("libcrypto-load-fail-reason") is False
