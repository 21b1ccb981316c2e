/*
 * fuzz_certs.c: certificates from arbitrary bytes, through every loader
 * that reads them from a file.  The first byte picks the loader: the
 * certificate chain, a verify source, the verify root certificates, or
 * the suggested certificate authorities; and a context's
 * #:certificate-chain.  Each either loads or fails with a clean exn:fail.
 */
#include "fuzzutil.h"

static int
load(int which, const char *path, struct sslport_ctx *ctx,
    struct sslport_error *err)
{
	struct sslport_source src = {SSLPORT_SOURCE_FILE, path};

	switch (which) {
	case 0:
		return sslport_load_certificate_chain(ctx, path, err);
	case 1:
		return sslport_load_verify_source(ctx, &src, 0, err);
	case 2:
		return sslport_load_verify_root_certificates(ctx, path, err);
	default:
		return sslport_load_suggested_certificate_authorities(
		    ctx, path, err);
	}
}

static void
make_with_chain(const char *path)
{
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = sslport_make_server_context(SSLPORT_PROTO_AUTO, NULL, path, &err);
	fuzz_check_error(ctx == NULL ? -1 : 0, &err);
	sslport_ctx_free(ctx);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sslport_error err;
	struct sslport_ctx *ctx;
	const char *path;
	int which;

	if (size < 1)
		return 0;
	which = data[0] % 5;
	path = fuzz_file(data + 1, size - 1);
	if (which == 4) {
		make_with_chain(path);
		return 0;
	}
	ctx = sslport_make_server_context(SSLPORT_PROTO_AUTO, NULL, NULL, &err);
	if (ctx == NULL)
		abort();
	fuzz_check_error(load(which, path, ctx, &err), &err);
	sslport_ctx_free(ctx);
	return 0;
}
