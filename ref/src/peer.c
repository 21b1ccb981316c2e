/*
 * peer.c: what a connection knows about its peer.  Verification result,
 * the names in the peer's certificate and the project's hostname rule
 * (D.hostname-match.1), subject and issuer, ALPN and protocol version.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"

/* ---- Hostname matching ------------------------------------------------ */

int
sslport_is_ip_literal(const char *hostname)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, hostname, addr) == 1 ||
	    inet_pton(AF_INET6, hostname, addr) == 1;
}

/*
 * A DNS name as RFC 1035 allows it, compared as given: not empty, at
 * most 253 bytes, labels of 1 to 63 bytes, no leading or trailing dot,
 * and no "*": a pattern is not a host name.
 */
static int
dns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0, i;

	if (len == 0 || len > 253 || name[0] == '.' || name[len - 1] == '.' ||
	    strchr(name, '*') != NULL)
		return 0;
	for (i = 0; i < len; i++) {
		if (name[i] != '.') {
			if (++label > 63)
				return 0;
			continue;
		}
		if (label == 0)
			return 0;
		label = 0;
	}
	return 1;
}

/*
 * IP literals only against iPAddress entries (RFC 2818, section 3.1);
 * DNS names by OpenSSL's default host check: one label per wildcard,
 * partial wildcards, no "*.com", the common name only without a dNSName.
 */
int
sslport_cert_matches_host(X509 *cert, const char *hostname)
{
	if (cert == NULL || hostname == NULL)
		return 0;
	if (sslport_is_ip_literal(hostname))
		return X509_check_ip_asc(cert, hostname, 0) == 1;
	if (!dns_name_ok(hostname))
		return 0;
	return X509_check_host(cert, hostname, strlen(hostname), 0, NULL) == 1;
}

/* ---- The peer's certificate ------------------------------------------- */

/* The peer's certificate (a reference), or NULL: none, or closed. */
static X509 *
peer_cert(struct sslport_conn *c)
{
	SSL *ssl = sslport_conn_lock(c);
	X509 *cert = ssl != NULL ? SSL_get1_peer_certificate(ssl) : NULL;

	sslport_conn_unlock(c);
	return cert;
}

static int
peer_verified(struct sslport_conn *c)
{
	SSL *ssl = sslport_conn_lock(c);
	X509 *cert = ssl != NULL ? SSL_get1_peer_certificate(ssl) : NULL;
	int ok = cert != NULL && SSL_get_verify_result(ssl) == X509_V_OK;

	sslport_conn_unlock(c);
	X509_free(cert);
	return ok;
}

int
sslport_peer_verified(struct sslport_port *p, struct sslport_error *err)
{
	struct sslport_conn *c;

	sslport_error_clear(err);
	c = sslport_conn_of(p, "ssl-peer-verified?", err);
	if (c == NULL)
		return -1;
	return peer_verified(c);
}

int
sslport_peer_check_hostname(
    struct sslport_port *p, const char *hostname, struct sslport_error *err)
{
	struct sslport_conn *c;
	X509 *cert;
	int ok;

	sslport_error_clear(err);
	c = sslport_conn_of(p, "ssl-peer-check-hostname", err);
	if (c == NULL)
		return -1;
	if (hostname == NULL)
		return sslport_err_contract(
		    err, "ssl-peer-check-hostname", "string?");
	cert = peer_cert(c);
	ok = sslport_cert_matches_host(cert, hostname);
	X509_free(cert);
	return ok;
}

/* ---- Names in the certificate ----------------------------------------- */

/* The bytes of an ASN.1 string read as Latin-1, in UTF-8. */
static char *
latin1_to_utf8(const ASN1_STRING *s)
{
	const unsigned char *b = ASN1_STRING_get0_data(s);
	int i, n = ASN1_STRING_length(s);
	char *out, *o;

	out = malloc(2 * (size_t)(n > 0 ? n : 0) + 1);
	if (out == NULL)
		return NULL;
	for (o = out, i = 0; i < n; i++) {
		if (b[i] < 0x80) {
			*o++ = (char)b[i];
			continue;
		}
		*o++ = (char)(0xc0 | (b[i] >> 6));
		*o++ = (char)(0x80 | (b[i] & 0x3f));
	}
	*o = '\0';
	return out;
}

/* Append a string to a NULL-terminated list; -1 when out of memory. */
static int
list_add(char ***list, size_t *n, char *s)
{
	char **grown;

	if (s == NULL)
		return -1;
	grown = realloc(*list, (*n + 2) * sizeof(*grown));
	if (grown == NULL) {
		free(s);
		return -1;
	}
	grown[(*n)++] = s;
	grown[*n] = NULL;
	*list = grown;
	return 0;
}

static int
add_dns_names(X509 *cert, char ***list, size_t *n)
{
	OPENSSL_STACK *names;
	const GENERAL_NAME *gn;
	int i, rv = 0;

	names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; names != NULL && i < OPENSSL_sk_num(names); i++) {
		gn = OPENSSL_sk_value(names, i);
		if (gn->type != GEN_DNS)
			continue;
		if ((rv = list_add(list, n, latin1_to_utf8(gn->d.dNSName))) < 0)
			break;
	}
	OPENSSL_sk_pop_free(names, (OPENSSL_sk_freefunc)GENERAL_NAME_free);
	return rv;
}

/* The most specific, that is the last, common name (RFC 2818, 3.1). */
static int
add_last_cn(X509 *cert, char ***list, size_t *n)
{
	X509_NAME *subject = X509_get_subject_name(cert);
	int i, last = -1;

	while ((i = X509_NAME_get_index_by_NID(
	            subject, NID_commonName, last)) >= 0)
		last = i;
	if (last < 0)
		return 0;
	return list_add(list, n,
	    latin1_to_utf8(
	        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, last))));
}

int
sslport_peer_certificate_hostnames(
    struct sslport_port *p, char ***out, struct sslport_error *err)
{
	const char *who = "ssl-peer-certificate-hostnames";
	struct sslport_conn *c;
	char **list = NULL;
	X509 *cert = NULL;
	size_t n = 0;
	int rv = -1;

	sslport_error_clear(err);
	*out = NULL;
	if ((c = sslport_conn_of(p, who, err)) == NULL)
		return -1;
	list = calloc(1, sizeof(*list));
	if (list == NULL)
		goto oom;
	cert = peer_cert(c);
	if (cert != NULL &&
	    (add_dns_names(cert, &list, &n) < 0 ||
	        (n == 0 && add_last_cn(cert, &list, &n) < 0)))
		goto oom;
	*out = list;
	list = NULL;
	rv = 0;
	goto done;
oom:
	sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
done:
	sslport_strings_free(list);
	X509_free(cert);
	return rv;
}

void
sslport_strings_free(char **strings)
{
	char **s;

	if (strings == NULL)
		return;
	for (s = strings; *s != NULL; s++)
		free(*s);
	free(strings);
}

/* ---- Subject and issuer ----------------------------------------------- */

/* OpenSSL's one-line form of the subject or issuer, or 0 for #f unless
 * the peer is verified (D.subject.1). */
static int
peer_name(struct sslport_port *p, int issuer, const char *who,
    unsigned char **out, size_t *len, struct sslport_error *err)
{
	struct sslport_conn *c;
	char buf[1024];
	X509 *cert;

	sslport_error_clear(err);
	*out = NULL;
	*len = 0;
	if ((c = sslport_conn_of(p, who, err)) == NULL)
		return -1;
	if (!peer_verified(c) || (cert = peer_cert(c)) == NULL)
		return 0;
	X509_NAME_oneline(
	    issuer ? X509_get_issuer_name(cert) : X509_get_subject_name(cert),
	    buf, sizeof(buf));
	X509_free(cert);
	*len = strlen(buf);
	if ((*out = malloc(*len + 1)) == NULL)
		return sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
	memcpy(*out, buf, *len + 1);
	return 1;
}

int
sslport_peer_subject_name(struct sslport_port *p, unsigned char **out,
    size_t *len, struct sslport_error *err)
{
	return peer_name(p, 0, "ssl-peer-subject-name", out, len, err);
}

int
sslport_peer_issuer_name(struct sslport_port *p, unsigned char **out,
    size_t *len, struct sslport_error *err)
{
	return peer_name(p, 1, "ssl-peer-issuer-name", out, len, err);
}

/* ---- ALPN and version ------------------------------------------------- */

int
sslport_get_alpn_selected(struct sslport_port *p, unsigned char **out,
    size_t *len, struct sslport_error *err)
{
	const char *who = "ssl-get-alpn-selected";
	const unsigned char *data = NULL;
	struct sslport_conn *c;
	unsigned int n = 0;
	SSL *ssl;

	sslport_error_clear(err);
	*out = NULL;
	*len = 0;
	if ((c = sslport_conn_of(p, who, err)) == NULL)
		return -1;
	ssl = sslport_conn_lock(c);
	if (ssl != NULL)
		SSL_get0_alpn_selected(ssl, &data, &n);
	if (n > 0 && (*out = malloc(n)) != NULL)
		memcpy(*out, data, n);
	sslport_conn_unlock(c);
	if (n > 0 && *out == NULL)
		return sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
	*len = n;
	return n > 0;
}

static const struct {
	int version;
	enum sslport_protocol proto;
} versions[] = {
    {TLS1_3_VERSION, SSLPORT_PROTO_TLS13},
    {TLS1_2_VERSION, SSLPORT_PROTO_TLS12},
    {TLS1_1_VERSION, SSLPORT_PROTO_TLS11},
    {TLS1_VERSION, SSLPORT_PROTO_TLS},
    {SSL3_VERSION, SSLPORT_PROTO_SSLV3},
};

/* The version the handshake negotiated; still known after closing. */
int
sslport_protocol_version(struct sslport_port *p, enum sslport_protocol *out,
    struct sslport_error *err)
{
	struct sslport_conn *c;
	size_t i;
	int version;

	sslport_error_clear(err);
	if ((c = sslport_conn_of(p, "ssl-protocol-version", err)) == NULL)
		return -1;
	sslport_conn_lock(c);
	version = c->version;
	sslport_conn_unlock(c);
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (versions[i].version == version) {
			*out = versions[i].proto;
			return 1;
		}
	}
	return 0;
}
