/*
 * keys.c: a context's own identity (documented section 4): certificate
 * chain, private key, the authorities suggested to clients, and the
 * deprecated Diffie-Hellman procedures.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define CTX_OR_LISTENER_KEY_EXPECTED "(or/c path-string? (list/c 'data bytes?))"

/* A key file, read whole so that its bytes can be wiped afterwards. */
struct key_bytes {
	unsigned char *data;
	size_t len;
};

static int
load_failed(const char *path, const char *who, struct sslport_error *err)
{
	char from[PATH_MAX + 2];

	snprintf(from, sizeof(from), "\"%s\"", path);
	return sslport_err_load(err, who, from);
}

/* ---- Certificate chain ------------------------------------------------- */

int
sslport_load_certificate_chain(
    void *ctx_or_listener, const char *path, struct sslport_error *err)
{
	static const char who[] = "ssl-load-certificate-chain!";
	struct sslport_ctx *ctx;
	int rv = -1;

	sslport_error_clear(err);
	ctx = sslport_ctx_of(ctx_or_listener, 1, who, err);
	if (ctx == NULL)
		return -1;
	if (path == NULL)
		return sslport_err_contract(err, who, "path-string?");
	pthread_mutex_lock(&ctx->lock);
	if (sslport_ctx_check_unsealed(ctx, who, err) != 0)
		goto out;
	/* Replaces the certificate and any chain loaded before. */
	if (SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, path) != 1) {
		load_failed(path, who, err);
		goto out;
	}
	rv = 0;
out:
	pthread_mutex_unlock(&ctx->lock);
	return rv;
}

/* ---- Private key ------------------------------------------------------- */

static void
key_bytes_wipe(struct key_bytes *kb)
{
	if (kb->data != NULL)
		sslport_cleanse(kb->data, kb->len);
	free(kb->data);
	kb->data = NULL;
	kb->len = 0;
}

static int
read_all(int fd, size_t size, struct key_bytes *kb)
{
	ssize_t got;

	kb->data = sslport_calloc(1, size + 1);
	if (kb->data == NULL)
		return -1;
	while (kb->len < size) {
		got = read(fd, kb->data + kb->len, size - kb->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		kb->len += (size_t)got;
	}
	return 0;
}

static int
read_key_file(const char *path, struct key_bytes *kb, const char *who,
    struct sslport_error *err)
{
	struct stat st;
	int fd, rv = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode) || st.st_size > INT_MAX) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
		goto out;
	}
	rv = read_all(fd, (size_t)st.st_size, kb);
out:
	if (rv != 0) {
		sslport_err(err, SSLPORT_EFAIL, who,
		    "load failed from: \"%s\" (%s)", path, strerror(errno));
		key_bytes_wipe(kb);
	}
	if (fd >= 0)
		close(fd);
	return rv;
}

/* Encrypted keys are not supported: never ask a terminal for a phrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return -1;
}

static int
is_rsa(EVP_PKEY *pkey)
{
	return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
}

/*
 * The first key in PEM text, or with `rsa` the first RSA key, keys of
 * other types being skipped (D.rsa-key.1).  *seen counts the keys read.
 */
static EVP_PKEY *
read_pem_key(BIO *bio, int rsa, int *seen)
{
	EVP_PKEY *pkey;

	while ((pkey = PEM_read_bio_PrivateKey(
	            bio, NULL, no_passphrase, NULL)) != NULL) {
		(*seen)++;
		if (!rsa || is_rsa(pkey))
			return pkey;
		EVP_PKEY_free(pkey);
	}
	return NULL;
}

static EVP_PKEY *
read_der_key(BIO *bio, int rsa, int *seen)
{
	EVP_PKEY *pkey = d2i_PrivateKey_bio(bio, NULL);

	if (pkey == NULL)
		return NULL;
	(*seen)++;
	if (!rsa || is_rsa(pkey))
		return pkey;
	EVP_PKEY_free(pkey);
	return NULL;
}

/* `from` names the source in messages: a quoted path, or "data". */
static EVP_PKEY *
parse_key(const struct key_bytes *kb, int rsa, int asn1, const char *from,
    const char *who, struct sslport_error *err)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	int seen = 0;

	bio = BIO_new_mem_buf(kb->data, (int)kb->len);
	if (bio != NULL)
		pkey = asn1 ? read_der_key(bio, rsa, &seen)
		            : read_pem_key(bio, rsa, &seen);
	BIO_free(bio);
	if (pkey != NULL) {
		ERR_clear_error();
	} else if (seen > 0) {
		ERR_clear_error();
		sslport_err(err, SSLPORT_EFAIL, who,
		    "load failed from: %s (no RSA private key found)", from);
	} else {
		sslport_err_load(err, who, from);
	}
	return pkey;
}

static int
check_key_source(const struct sslport_key_source *src, int asn1,
    const char *who, struct sslport_error *err)
{
	if (src == NULL || (src->path == NULL && src->data == NULL) ||
	    (src->data != NULL && src->len > INT_MAX))
		return sslport_err_contract(
		    err, who, CTX_OR_LISTENER_KEY_EXPECTED);
	if (src->path == NULL && asn1)
		return sslport_err(err, SSLPORT_EFAIL, who,
		    "loading ASN.1 from bytes data is not supported;\n"
		    " load the key from a file path instead");
	return 0;
}

/* The key's bytes: the caller's data, or a copy of the file's. */
static int
key_source_bytes(const struct sslport_key_source *src, struct key_bytes *kb,
    const char *who, struct sslport_error *err)
{
	if (src->path != NULL)
		return read_key_file(src->path, kb, who, err);
	kb->data = sslport_calloc(1, src->len + 1);
	if (kb->data == NULL)
		return sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
	memcpy(kb->data, src->data, src->len);
	kb->len = src->len;
	return 0;
}

/*
 * Sets the key.  OpenSSL compares a key only with a loaded certificate of
 * the same type; a key of another type would sit unused beside the
 * chain, so the key must belong to the current certificate (S4.key.10).
 */
static int
use_key(struct sslport_ctx *ctx, EVP_PKEY *pkey, const char *from,
    const char *who, struct sslport_error *err)
{
	X509 *cert = SSL_CTX_get0_certificate(ctx->ssl_ctx);

	if (cert != NULL && X509_check_private_key(cert, pkey) != 1)
		return sslport_err_load(err, who, from);
	if (SSL_CTX_use_PrivateKey(ctx->ssl_ctx, pkey) != 1)
		return sslport_err_load(err, who, from);
	return 0;
}

int
sslport_load_private_key(void *ctx_or_listener,
    const struct sslport_key_source *src, int rsa, int asn1,
    struct sslport_error *err)
{
	static const char who[] = "ssl-load-private-key!";
	struct key_bytes kb = {NULL, 0};
	struct sslport_ctx *ctx;
	EVP_PKEY *pkey = NULL;
	char from[PATH_MAX + 8];
	int rv = -1;

	sslport_error_clear(err);
	ctx = sslport_ctx_of(ctx_or_listener, 1, who, err);
	if (ctx == NULL || check_key_source(src, asn1, who, err) != 0)
		return -1;
	if (src->path != NULL)
		snprintf(from, sizeof(from), "\"%s\"", src->path);
	else
		snprintf(from, sizeof(from), "data");
	pthread_mutex_lock(&ctx->lock);
	if (sslport_ctx_check_unsealed(ctx, who, err) != 0 ||
	    key_source_bytes(src, &kb, who, err) != 0)
		goto out;
	pkey = parse_key(&kb, rsa, asn1, from, who, err);
	if (pkey == NULL || use_key(ctx, pkey, from, who, err) != 0)
		goto out;
	rv = 0;
out:
	pthread_mutex_unlock(&ctx->lock);
	EVP_PKEY_free(pkey);
	key_bytes_wipe(&kb);
	return rv;
}

/* ---- Suggested certificate authorities --------------------------------- */

/* The names a server lists in its CertificateRequest; not trust. */
int
sslport_load_suggested_certificate_authorities(
    void *ctx_or_listener, const char *path, struct sslport_error *err)
{
	static const char who[] = "ssl-load-suggested-certificate-authorities!";
	STACK_OF(X509_NAME) * names;
	struct sslport_ctx *ctx;
	int rv = -1;

	sslport_error_clear(err);
	ctx = sslport_ctx_of(ctx_or_listener, 1, who, err);
	if (ctx == NULL)
		return -1;
	if (path == NULL)
		return sslport_err_contract(err, who, "path-string?");
	pthread_mutex_lock(&ctx->lock);
	if (sslport_ctx_check_unsealed(ctx, who, err) != 0)
		goto out;
	names = SSL_load_client_CA_file(path);
	if (names == NULL) {
		load_failed(path, who, err);
		goto out;
	}
	SSL_CTX_set_client_CA_list(ctx->ssl_ctx, names);
	rv = 0;
out:
	pthread_mutex_unlock(&ctx->lock);
	return rv;
}

/* ---- Deprecated Diffie-Hellman procedures (D.dhe.1) -------------------- */

/*
 * DHE groups are chosen by OpenSSL on every server context (context.c)
 * and ECDHE needs nothing, so these only warn.
 */
static int
deprecated(struct sslport_ctx *ctx, const char *who, struct sslport_error *err)
{
	sslport_error_clear(err);
	if (!sslport_is_server_context(ctx))
		return sslport_err_contract(err, who, "ssl-server-context?");
	sslport_warn("%s: deprecated; it has no effect, since ephemeral "
	             "key exchange is enabled by default",
	    who);
	return 0;
}

int
sslport_server_context_enable_dhe(struct sslport_ctx *ctx, const void *param,
    size_t len, struct sslport_error *err)
{
	return deprecated(ctx, "ssl-server-context-enable-dhe!", err);
}

int
sslport_server_context_enable_ecdhe(
    struct sslport_ctx *ctx, const char *curve, struct sslport_error *err)
{
	return deprecated(ctx, "ssl-server-context-enable-ecdhe!", err);
}

const unsigned char *
sslport_dh4096_param_bytes(size_t *len)
{
	static const unsigned char empty[1];

	if (len != NULL)
		*len = 0;
	return empty;
}
