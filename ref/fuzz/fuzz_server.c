/*
 * fuzz_server.c: a server handshake (ports->ssl-ports in accept mode) fed
 * arbitrary client bytes.  The first byte picks the server context
 * (fuzz_handshake.h lists them: ECDSA or RSA certificates, an SNI
 * callback, TLS 1.2 only, ALPN, a client certificate asked for or
 * required).  The seeds are what the reference's own clients sent those
 * contexts, recorded by ref/fuzz/record.c: ClientHello, and then the
 * client's second flight and its data, which replay in full.
 */
#include "fuzz_handshake.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_handshake(SSLPORT_MODE_ACCEPT, data[0], data + 1, size - 1);
	return 0;
}
