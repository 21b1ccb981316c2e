/*
 * fuzz_keys.c: ssl-load-private-key! on arbitrary bytes.  The first byte
 * picks the form: bit 0 rsa?, bit 1 asn1? (DER), bit 2 a file path
 * rather than (data bytes) (DER as data is refused: only a path reads
 * DER), bit 3 a server context that already holds a certificate, so that
 * the key is also checked against it.  Every outcome is a loaded key or
 * a clean exn:fail.
 */
#include "fuzzutil.h"

#define FUZZ_CERT_PEM "certs/server-rsa.pem"

/*
 * Two contexts, made once and kept: a key load replaces the key before
 * it.  The certificate is read from the repository root, where make runs
 * the target.
 */
static struct sslport_ctx *
context(int with_cert)
{
	static struct sslport_ctx *ctx[2];
	struct sslport_error err;

	if (ctx[with_cert] == NULL) {
		ctx[with_cert] = sslport_make_server_context(
		    SSLPORT_PROTO_AUTO, NULL, NULL, &err);
		if (ctx[with_cert] == NULL)
			abort();
		if (with_cert &&
		    sslport_load_certificate_chain(
		        ctx[with_cert], FUZZ_CERT_PEM, &err) != 0) {
			fprintf(stderr, "fuzz_keys: %s\n", err.message);
			abort();
		}
	}
	return ctx[with_cert];
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sslport_key_source src = {NULL, NULL, 0};
	struct sslport_error err;
	struct sslport_ctx *ctx;
	int flags, rsa, asn1, rv;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	rsa = flags & 1;
	asn1 = (flags >> 1) & 1;
	if (flags & 4)
		src.path = fuzz_file(data, size);
	else {
		src.data = data;
		src.len = size;
	}
	ctx = context((flags >> 3) & 1);
	rv = sslport_load_private_key(ctx, &src, rsa, asn1, &err);
	fuzz_check_error(rv, &err);
	return 0;
}
