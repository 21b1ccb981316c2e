/*
 * binding.c: channel bindings (RFC 5056).  'tls-unique (RFC 5929,
 * section 3), 'tls-server-end-point (RFC 5929, section 4) and
 * 'tls-exporter (RFC 9266), and the default choice between the first
 * and the last by protocol version.
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"

#define WHO "ssl-channel-binding"

static const char *const binding_names[] = {
    [SSLPORT_BINDING_TLS_EXPORTER] = "tls-exporter",
    [SSLPORT_BINDING_TLS_UNIQUE] = "tls-unique",
    [SSLPORT_BINDING_TLS_SERVER_END_POINT] = "tls-server-end-point",
};

#define NBINDINGS (sizeof(binding_names) / sizeof(binding_names[0]))

const char *
sslport_binding_name(enum sslport_binding type)
{
	if ((unsigned)type >= NBINDINGS)
		return NULL;
	return binding_names[type];
}

int
sslport_binding_from_name(const char *name, enum sslport_binding *out)
{
	size_t i;

	for (i = 0; name != NULL && i < NBINDINGS; i++) {
		if (strcmp(name, binding_names[i]) == 0) {
			*out = (enum sslport_binding)i;
			return 0;
		}
	}
	return -1;
}

/* Hand a copy of `len` bytes to the caller. */
static int
give(const unsigned char *data, size_t len, unsigned char **out, size_t *outlen,
    struct sslport_error *err)
{
	*out = malloc(len > 0 ? len : 1);
	if (*out == NULL)
		return sslport_err(err, SSLPORT_EFAIL, WHO, "out of memory");
	memcpy(*out, data, len);
	*outlen = len;
	return 0;
}

/* The first Finished of the handshake, which both ends agree on: the
 * client's own, the server's peer's. */
static int
binding_unique(
    SSL *ssl, unsigned char **out, size_t *len, struct sslport_error *err)
{
	unsigned char buf[EVP_MAX_MD_SIZE];
	size_t n;

	if (SSL_version(ssl) >= TLS1_3_VERSION)
		return sslport_err(err, SSLPORT_EFAIL, WHO,
		    "tls-unique channel binding is undefined for TLS 1.3");
	n = SSL_is_server(ssl) ? SSL_get_peer_finished(ssl, buf, sizeof(buf))
	                       : SSL_get_finished(ssl, buf, sizeof(buf));
	if (n == 0 || n > sizeof(buf))
		return sslport_err(err, SSLPORT_EFAIL, WHO,
		    "failed to get the Finished message");
	return give(buf, n, out, len, err);
}

/*
 * RFC 9266: 32 bytes, label "EXPORTER-Channel-Binding", a zero-length
 * context (D.exporter.1).  On TLS 1.2 it needs the extended master
 * secret (RFC 9266, section 3).
 */
static int
binding_exporter(
    SSL *ssl, unsigned char **out, size_t *len, struct sslport_error *err)
{
	static const char label[] = "EXPORTER-Channel-Binding";
	unsigned char buf[32];
	int rv;

	if (SSL_version(ssl) < TLS1_3_VERSION &&
	    SSL_get_extms_support(ssl) != 1)
		return sslport_err(err, SSLPORT_EFAIL, WHO,
		    "tls-exporter channel binding undefined;\n requires TLS "
		    "1.3 or Extended Master Secret extension");
	ERR_clear_error();
	if (SSL_export_keying_material(ssl, buf, sizeof(buf), label,
	        sizeof(label) - 1, (const unsigned char *)"", 0, 1) != 1)
		return sslport_err_ossl(err, SSLPORT_EFAIL, WHO,
		    "failed getting Exported Keying Material");
	rv = give(buf, sizeof(buf), out, len, err);
	sslport_cleanse(buf, sizeof(buf));
	return rv;
}

/* RFC 5929, section 4.1: the signature's hash, but SHA-256 for MD5 and
 * SHA-1; NULL when the signature names no single hash. */
static const EVP_MD *
end_point_digest(X509 *cert)
{
	int md_nid = NID_undef;

	if (!OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, NULL))
		return NULL;
	switch (md_nid) {
	case NID_md5:
	case NID_sha1:
	case NID_sha256:
		return EVP_sha256();
	case NID_sha224:
		return EVP_sha224();
	case NID_sha384:
		return EVP_sha384();
	case NID_sha512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* A hash of the server's certificate: our own on a server port, the
 * peer's on a client port. */
static int
binding_end_point(
    SSL *ssl, unsigned char **out, size_t *len, struct sslport_error *err)
{
	unsigned char buf[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const EVP_MD *md;
	X509 *cert;
	int rv = -1;

	cert = SSL_is_server(ssl) ? SSL_get_certificate(ssl)
	                          : SSL_get1_peer_certificate(ssl);
	if (cert == NULL)
		return sslport_err(err, SSLPORT_EFAIL, WHO,
		    "failed to get server certificate");
	if ((md = end_point_digest(cert)) == NULL) {
		sslport_err(err, SSLPORT_EFAIL, WHO,
		    "unsupported digest in certificate");
		goto done;
	}
	ERR_clear_error();
	if (X509_digest(cert, md, buf, &n) != 1) {
		sslport_err_ossl(err, SSLPORT_EFAIL, WHO,
		    "failed to hash the server certificate");
		goto done;
	}
	rv = give(buf, n, out, len, err);
done:
	if (!SSL_is_server(ssl))
		X509_free(cert);
	return rv;
}

int
sslport_channel_binding(struct sslport_port *p, enum sslport_binding type,
    unsigned char **out, size_t *len, struct sslport_error *err)
{
	struct sslport_conn *c;
	SSL *ssl;
	int rv = -1;

	sslport_error_clear(err);
	*out = NULL;
	*len = 0;
	if ((c = sslport_conn_of(p, WHO, err)) == NULL)
		return -1;
	if (sslport_binding_name(type) == NULL)
		return sslport_err_contract(err, WHO,
		    "(or/c 'tls-exporter "
		    "'tls-unique 'tls-server-end-point)");
	ssl = sslport_conn_lock(c);
	if (ssl == NULL)
		sslport_err(err, SSLPORT_EFAIL, WHO,
		    "channel binding is not "
		    "available: the connection is closed");
	else if (type == SSLPORT_BINDING_TLS_UNIQUE)
		rv = binding_unique(ssl, out, len, err);
	else if (type == SSLPORT_BINDING_TLS_EXPORTER)
		rv = binding_exporter(ssl, out, len, err);
	else
		rv = binding_end_point(ssl, out, len, err);
	sslport_conn_unlock(c);
	return rv;
}

/* RFC 9266, section 3: tls-exporter from TLS 1.3 on, tls-unique before. */
int
sslport_default_channel_binding(struct sslport_port *p,
    enum sslport_binding *type, unsigned char **out, size_t *len,
    struct sslport_error *err)
{
	struct sslport_conn *c;
	int version;

	sslport_error_clear(err);
	*out = NULL;
	*len = 0;
	if ((c = sslport_conn_of(p, WHO, err)) == NULL)
		return -1;
	sslport_conn_lock(c);
	version = c->version;
	sslport_conn_unlock(c);
	*type = version >= TLS1_3_VERSION ? SSLPORT_BINDING_TLS_EXPORTER
	                                  : SSLPORT_BINDING_TLS_UNIQUE;
	return sslport_channel_binding(p, *type, out, len, err);
}
