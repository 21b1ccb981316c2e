"""Section 0: ssl-available?, ssl-load-fail-reason, and TLS calls while unavailable.

Tests that hide a library need a shim whose hello says hide-libraries is
true; for the others they are skipped.
"""

import pytest

from harness import Handle, ShimError, Symbol
from harness.support import PROTOCOL_SYMBOLS, expect_error, start_hidden

HIDDEN_CASES = [("libssl",), ("libcrypto",), ("libssl", "libcrypto")]
HIDDEN_IDS = ["no-libssl", "no-libcrypto", "neither"]


@pytest.mark.spec("S0.available.1", "S0.available.2", "S0.available.3")
def test_ssl_available_with_openssl_present(shim):
    available = shim.value("ssl-available?")
    assert available is True, "ssl-available? is %r with OpenSSL installed" % (available,)
    assert isinstance(shim.value("libssl"), Handle)


@pytest.mark.spec("S0.reason.1")
def test_load_fail_reason_is_false_when_available(shim):
    assert shim.value("ssl-available?") is True
    reason = shim.value("ssl-load-fail-reason")
    assert reason is False, "ssl-load-fail-reason is %r while SSL is available" % (reason,)


@pytest.mark.spec("S0.available.1", "S0.available.3", "S0.available.4")
@pytest.mark.parametrize("hidden", HIDDEN_CASES, ids=HIDDEN_IDS)
def test_ssl_unavailable_with_a_library_hidden(shim_factory, impl, hidden):
    shim = start_hidden(shim_factory, impl, *hidden)
    available = shim.value("ssl-available?")
    assert available is False, "ssl-available? is %r without %s" % (available, hidden)
    assert shim.value("libssl") is False, "ssl-available? is #f, so libssl must be #f"


@pytest.mark.spec("S0.reason.2", "S0.reason.3")
def test_load_fail_reason_names_libssl(shim_factory, impl):
    shim = start_hidden(shim_factory, impl, "libssl")
    reason = shim.value("ssl-load-fail-reason")
    assert isinstance(reason, str) and reason, "reason is %r" % (reason,)
    assert "libssl" in reason, "the reason does not name libssl: %r" % (reason,)


@pytest.mark.spec("S0.reason.2", "S0.reason.3")
@pytest.mark.parametrize("hidden", HIDDEN_CASES[1:], ids=HIDDEN_IDS[1:])
def test_load_fail_reason_names_libcrypto(shim_factory, impl, hidden):
    shim = start_hidden(shim_factory, impl, *hidden)
    reason = shim.value("ssl-load-fail-reason")
    assert isinstance(reason, str) and reason, "reason is %r" % (reason,)
    assert "libcrypto" in reason, "the reason does not name libcrypto: %r" % (reason,)


@pytest.mark.spec("S0.unavailable.1")
@pytest.mark.parametrize("hidden", HIDDEN_CASES[:2], ids=HIDDEN_IDS[:2])
def test_make_client_context_unsupported(shim_factory, impl, hidden):
    shim = start_hidden(shim_factory, impl, *hidden)
    expect_error("exn:fail:unsupported", shim, "ssl-make-client-context")
    for protocol in PROTOCOL_SYMBOLS:
        expect_error("exn:fail:unsupported", shim, "ssl-make-client-context", protocol)


@pytest.mark.spec("S0.unavailable.1")
@pytest.mark.parametrize("hidden", HIDDEN_CASES[:2], ids=HIDDEN_IDS[:2])
def test_make_server_context_unsupported(shim_factory, impl, hidden):
    shim = start_hidden(shim_factory, impl, *hidden)
    expect_error("exn:fail:unsupported", shim, "ssl-make-server-context")
    for protocol in PROTOCOL_SYMBOLS:
        expect_error("exn:fail:unsupported", shim, "ssl-make-server-context", protocol)


@pytest.mark.spec("S0.unavailable.1")
def test_secure_client_context_unsupported(shim_factory, impl):
    shim = start_hidden(shim_factory, impl, "libssl")
    expect_error("exn:fail:unsupported", shim, "ssl-secure-client-context")


@pytest.mark.spec("S0.unavailable.2")
def test_connect_unsupported_even_with_a_listener(shim_factory, impl):
    shim = start_hidden(shim_factory, impl, "libssl")
    listener = shim.call("tcp-listen", 0, 5, True, "127.0.0.1")
    try:
        addresses = shim.call("tcp-addresses", listener, True)
        port = addresses[1]
        assert isinstance(port, int) and 0 < port < 65536, "tcp-addresses: %r" % (addresses,)
        expect_error("exn:fail:unsupported", shim, "ssl-connect", "127.0.0.1", port)
    finally:
        shim.call("tcp-close", listener)


@pytest.mark.spec("S0.unavailable.3")
def test_listen_unsupported(shim_factory, impl):
    shim = start_hidden(shim_factory, impl, "libssl")
    try:
        listener = shim.call("ssl-listen", 0, 5, True, "127.0.0.1")
    except ShimError as e:
        assert e.kind == "exn:fail:unsupported", "ssl-listen raised %s: %s" % (e.kind, e.message)
    else:
        shim.call("ssl-close", listener)
        pytest.fail("ssl-listen answered a listener while SSL is unavailable")


@pytest.mark.spec("S0.unavailable.4")
@pytest.mark.parametrize("mode", ["connect", "accept"])
def test_ports_to_ssl_ports_unsupported(shim_factory, impl, mode):
    shim = start_hidden(shim_factory, impl, "libssl")
    (their_in, our_out) = shim.call("make-pipe", False)
    (our_in, their_out) = shim.call("make-pipe", False)
    expect_error(
        "exn:fail:unsupported", shim, "ports->ssl-ports", our_in, our_out, mode=Symbol(mode)
    )
    written = shim.call("sync/timeout", 0, their_in)
    assert written is False, "ports->ssl-ports wrote to the output port before refusing"


@pytest.mark.spec("S0.unavailable.5")
def test_predicates_answer_while_unavailable(shim_factory, impl):
    shim = start_hidden(shim_factory, impl, "libssl")
    (pipe_in, pipe_out) = shim.call("make-pipe", False)
    predicates = ["ssl-client-context?", "ssl-server-context?", "ssl-listener?", "ssl-port?"]
    for predicate in predicates:
        for value in ["a string", 42, pipe_in, pipe_out]:
            answer = shim.call(predicate, value)
            assert answer is False, "%s of %r answered %r" % (predicate, value, answer)
