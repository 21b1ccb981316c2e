/*
 * hash.c: SHA-1 and MD5 of everything a port gives until end-of-file,
 * with libcrypto's digests, or our own when libcrypto is missing (then a
 * warning goes to the process logger, once).  Also the hex conversions.
 */
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "internal.h"

#define HASH_CHUNK 65536

enum algo { ALGO_SHA1, ALGO_MD5 };

struct fallback {
	enum algo algo;
	union {
		struct sslport_sha1 sha1;
		struct sslport_md5 md5;
	} u;
};

static atomic_int warned;

static void
warn_fallback(void)
{
	if (atomic_exchange(&warned, 1) == 0)
		sslport_warn("libcrypto could not be loaded (%s); SHA-1 and "
		             "MD5 use the built-in implementation",
		    sslport_libcrypto_load_fail_reason());
}

static void
fallback_init(struct fallback *f, enum algo algo)
{
	f->algo = algo;
	if (algo == ALGO_SHA1)
		sslport_sha1_init(&f->u.sha1);
	else
		sslport_md5_init(&f->u.md5);
}

static void
fallback_update(struct fallback *f, const void *data, size_t n)
{
	if (f->algo == ALGO_SHA1)
		sslport_sha1_update(&f->u.sha1, data, n);
	else
		sslport_md5_update(&f->u.md5, data, n);
}

static void
fallback_final(struct fallback *f, unsigned char *out)
{
	if (f->algo == ALGO_SHA1)
		sslport_sha1_final(&f->u.sha1, out);
	else
		sslport_md5_final(&f->u.md5, out);
}

static int
digest_update(EVP_MD_CTX *ctx, struct fallback *fb, const void *data, size_t n,
    const char *who, struct sslport_error *err)
{
	if (fb != NULL)
		fallback_update(fb, data, n);
	else if (EVP_DigestUpdate(ctx, data, n) != 1)
		return sslport_err_ossl(
		    err, SSLPORT_EFAIL, who, "digest update failed");
	return 0;
}

/*
 * Feed the port to `ctx` (libcrypto) or `fb` (ours) until eof.  The
 * bytes of a bytes port are hashed where they are; what any other port
 * gives goes through a buffer.
 */
static int
digest_port(struct sslport_port *in, EVP_MD_CTX *ctx, struct fallback *fb,
    const char *who, struct sslport_error *err)
{
	const unsigned char *data;
	unsigned char *buf;
	size_t len;
	ssize_t r;
	int rv = -1;

	if (!sslport_port_is_closed(in) &&
	    sslport_bytes_port_take(in, &data, &len) &&
	    digest_update(ctx, fb, data, len, who, err) < 0)
		return -1;
	buf = malloc(HASH_CHUNK);
	if (buf == NULL)
		return sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
	while ((r = sslport_port_read(in, buf, HASH_CHUNK, err)) > 0)
		if (digest_update(ctx, fb, buf, (size_t)r, who, err) < 0)
			goto done;
	if (r == 0)
		rv = 0;
done:
	free(buf);
	return rv;
}

static int
hash_ossl(struct sslport_port *in, enum algo algo, unsigned char *out,
    const char *who, struct sslport_error *err)
{
	EVP_MD_CTX *ctx;
	int rv = -1;

	ctx = EVP_MD_CTX_new();
	if (ctx == NULL)
		return sslport_err_ossl(
		    err, SSLPORT_EFAIL, who, "out of memory");
	if (EVP_DigestInit_ex(
	        ctx, algo == ALGO_SHA1 ? EVP_sha1() : EVP_md5(), NULL) != 1) {
		sslport_err_ossl(err, SSLPORT_EFAIL, who, "digest init failed");
		goto done;
	}
	if (digest_port(in, ctx, NULL, who, err) < 0)
		goto done;
	if (EVP_DigestFinal_ex(ctx, out, NULL) != 1) {
		sslport_err_ossl(err, SSLPORT_EFAIL, who, "digest failed");
		goto done;
	}
	rv = 0;
done:
	EVP_MD_CTX_free(ctx);
	return rv;
}

static int
hash_port(struct sslport_port *in, enum algo algo, unsigned char *out,
    const char *who, struct sslport_error *err)
{
	struct fallback fb;

	sslport_error_clear(err);
	if (!sslport_is_input_port(in))
		return sslport_err_contract(err, who, "input-port?");
	if (sslport_have_libcrypto())
		return hash_ossl(in, algo, out, who, err);
	warn_fallback();
	fallback_init(&fb, algo);
	if (digest_port(in, NULL, &fb, who, err) < 0)
		return -1;
	fallback_final(&fb, out);
	return 0;
}

int
sslport_sha1_bytes(
    struct sslport_port *in, unsigned char out[20], struct sslport_error *err)
{
	return hash_port(in, ALGO_SHA1, out, "sha1-bytes", err);
}

int
sslport_md5_bytes(
    struct sslport_port *in, unsigned char out[16], struct sslport_error *err)
{
	return hash_port(in, ALGO_MD5, out, "md5-bytes", err);
}

int
sslport_sha1(struct sslport_port *in, char out[41], struct sslport_error *err)
{
	unsigned char md[20];

	if (hash_port(in, ALGO_SHA1, md, "sha1", err) < 0)
		return -1;
	sslport_bytes_to_hex_string(md, sizeof(md), out);
	return 0;
}

int
sslport_md5(struct sslport_port *in, char out[33], struct sslport_error *err)
{
	unsigned char md[16];

	if (hash_port(in, ALGO_MD5, md, "md5", err) < 0)
		return -1;
	sslport_bytes_to_hex_string(md, sizeof(md), out);
	return 0;
}

void
sslport_bytes_to_hex_string(const unsigned char *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sslport_hex_string_to_bytes(const char *str, size_t slen, unsigned char **out,
    size_t *len, struct sslport_error *err)
{
	unsigned char *b;
	size_t i;
	int hi, lo;

	sslport_error_clear(err);
	*out = NULL;
	*len = 0;
	if (str == NULL || slen % 2 != 0)
		goto bad;
	b = malloc(slen / 2 + 1);
	if (b == NULL)
		return sslport_err(
		    err, SSLPORT_EFAIL, "hex-string->bytes", "out of memory");
	for (i = 0; i < slen; i += 2) {
		hi = hex_value(str[i]);
		lo = hex_value(str[i + 1]);
		if (hi < 0 || lo < 0) {
			free(b);
			goto bad;
		}
		b[i / 2] = (unsigned char)(hi << 4 | lo);
	}
	*out = b;
	*len = slen / 2;
	return 0;
bad:
	return sslport_err_contract(err, "hex-string->bytes",
	    "(and/c string? #px\"^([[:xdigit:]]{2})*$\")");
}
