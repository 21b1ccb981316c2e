/*
 * fuzz_client.c: a client handshake (ports->ssl-ports in connect mode)
 * fed arbitrary server bytes.  The first byte picks the client context:
 * any version without verification, TLS 1.2 only (its server flight is
 * not encrypted, so certificate and key-exchange parsing is reached), or
 * verification against the test root with a hostname, ALPN offered.  The
 * seeds are server flights answering a ClientHello.
 */
#include "fuzz_handshake.h"

#define NCONTEXTS 3

static struct sslport_ctx *
client_context(enum sslport_protocol proto)
{
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = sslport_make_client_context(proto, NULL, NULL, &err);
	if (ctx == NULL)
		abort();
	return ctx;
}

static struct sslport_ctx *
verifying_context(void)
{
	struct sslport_ctx *ctx = client_context(SSLPORT_PROTO_AUTO);
	struct sslport_error err;

	if (sslport_load_verify_root_certificates(ctx, "certs/root-ca.pem",
	        &err) != 0 ||
	    sslport_set_verify(ctx, 1, &err) != 0 ||
	    sslport_set_verify_hostname(ctx, 1, &err) != 0)
		abort();
	return ctx;
}

static struct sslport_ctx *
context(int which)
{
	static struct sslport_ctx *ctx[NCONTEXTS];

	if (ctx[0] == NULL) {
		ctx[0] = client_context(SSLPORT_PROTO_AUTO);
		ctx[1] = client_context(SSLPORT_PROTO_TLS12);
		ctx[2] = verifying_context();
	}
	return ctx[which % NCONTEXTS];
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	int which;

	if (size < 1)
		return 0;
	which = data[0] % NCONTEXTS;
	fuzz_handshake(context(which), SSLPORT_MODE_CONNECT,
	    which == 2 ? "localhost" : NULL, data + 1, size - 1);
	return 0;
}
