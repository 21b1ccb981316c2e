/*
 * fuzz_client.c: a client handshake (ports->ssl-ports in connect mode)
 * fed arbitrary server bytes.  The first byte picks the client context
 * (fuzz_handshake.h lists them: any version or TLS 1.2 only, with or
 * without verification against the test root and the hostname, a client
 * certificate, ALPN).  The seeds are what the reference's own servers
 * sent those contexts, recorded by ref/fuzz/record.c: the whole server
 * side of a handshake and its data, which replays in full.
 */
#include "fuzz_handshake.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_handshake(SSLPORT_MODE_CONNECT, data[0], data + 1, size - 1);
	return 0;
}
