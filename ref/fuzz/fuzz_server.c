/*
 * fuzz_server.c: a server handshake (ports->ssl-ports in accept mode) fed
 * arbitrary client bytes.  The first byte picks the server context: any
 * version with an ECDSA or an RSA certificate, or TLS 1.2 only, with
 * ALPN and client certificates requested, so that more of the
 * handshake's branches are reached.  The seeds are ClientHellos.
 */
#include "fuzz_handshake.h"

#define NCONTEXTS 3

static struct sslport_ctx *
server_context(enum sslport_protocol proto, const char *chain,
    const char *key)
{
	struct sslport_key_form form = {SSLPORT_KEY_PEM, key, NULL, 0};
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = sslport_make_server_context(proto, &form, chain, &err);
	if (ctx == NULL)
		abort();
	return ctx;
}

static struct sslport_ctx *
requesting_context(void)
{
	static const struct sslport_bytes alpn[] = {
	    {(const unsigned char *)"h2", 2},
	    {(const unsigned char *)"http/1.1", 8}};
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = server_context(SSLPORT_PROTO_TLS12, "certs/server-rsa.pem",
	    "certs/server-rsa.key");
	if (sslport_set_server_alpn(ctx, alpn, 2, 0, &err) != 0 ||
	    sslport_load_verify_root_certificates(ctx, "certs/root-ca.pem",
	        &err) != 0 ||
	    sslport_try_verify(ctx, 1, &err) != 0)
		abort();
	return ctx;
}

/* Made once and kept: run from the repository root, for certs/. */
static struct sslport_ctx *
context(int which)
{
	static struct sslport_ctx *ctx[NCONTEXTS];

	if (ctx[0] == NULL) {
		ctx[0] = server_context(SSLPORT_PROTO_AUTO,
		    "certs/server-ecdsa-p256.pem", "certs/server-ecdsa-p256.key");
		ctx[1] = server_context(SSLPORT_PROTO_AUTO,
		    "certs/server-rsa.pem", "certs/server-rsa.key");
		ctx[2] = requesting_context();
	}
	return ctx[which % NCONTEXTS];
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_handshake(
	    context(data[0]), SSLPORT_MODE_ACCEPT, NULL, data + 1, size - 1);
	return 0;
}
