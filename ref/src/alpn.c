/*
 * alpn.c: application-layer protocol negotiation on the server side
 * (documented section 4, RFC 7301): ssl-set-server-alpn! and the
 * selection callback.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ALPN_EXPECTED                                                          \
	"(listof (and/c bytes? (lambda (b) (<= 1 (bytes-length b) 255))))"

/*
 * The server's most preferred protocol that the client also offers
 * (S4.alpn.1).  *out points into the client's list, which outlives the
 * callback, not into ours, which a setter may replace.
 */
static int
choose(const struct sslport_alpn_list *ours, const unsigned char *in,
    unsigned int inlen, const unsigned char **out, unsigned char *outlen)
{
	size_t i, j;

	for (i = 0; i < ours->len; i += 1 + ours->wire[i]) {
		for (j = 0; j < inlen && j + 1 + in[j] <= inlen;
		     j += 1 + in[j]) {
			if (in[j] == ours->wire[i] &&
			    memcmp(in + j + 1, ours->wire + i + 1, in[j]) ==
			        0) {
				*out = in + j + 1;
				*outlen = in[j];
				return 1;
			}
		}
	}
	return 0;
}

/* Not called when the client offers no ALPN: no protocol then (S4.alpn.4). */
static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	struct sslport_ctx *ctx = arg;
	int found, allow;

	pthread_mutex_lock(&ctx->lock);
	found = choose(&ctx->server_alpn, in, inlen, out, outlen);
	allow = ctx->alpn_allow_no_match;
	pthread_mutex_unlock(&ctx->lock);
	if (found)
		return SSL_TLSEXT_ERR_OK;
	/* RFC 7301 section 3.2: no overlap is a no_application_protocol
	 * alert, unless the server lets the connection go on without. */
	return allow ? SSL_TLSEXT_ERR_NOACK : SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* The list in wire form: each protocol prefixed by its length. */
static int
alpn_wire(const struct sslport_bytes *protos, size_t n,
    struct sslport_alpn_list *list, const char *who, struct sslport_error *err)
{
	size_t i, len = 0;

	list->wire = NULL;
	list->len = 0;
	for (i = 0; i < n; i++) {
		if (protos[i].len < 1 || protos[i].len > 255 ||
		    protos[i].data == NULL)
			return sslport_err_contract(err, who, ALPN_EXPECTED);
		len += 1 + protos[i].len;
	}
	list->wire = sslport_calloc(1, len + 1);
	if (list->wire == NULL)
		return sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
	for (i = 0; i < n; i++) {
		list->wire[list->len++] = (unsigned char)protos[i].len;
		memcpy(list->wire + list->len, protos[i].data, protos[i].len);
		list->len += protos[i].len;
	}
	return 0;
}

int
sslport_set_server_alpn(struct sslport_ctx *ctx,
    const struct sslport_bytes *protos, size_t n, int allow_no_match,
    struct sslport_error *err)
{
	static const char who[] = "ssl-set-server-alpn!";
	struct sslport_alpn_list list;
	int rv = -1;

	sslport_error_clear(err);
	if (!sslport_is_server_context(ctx))
		return sslport_err_contract(err, who, "ssl-server-context?");
	if (protos == NULL && n > 0)
		return sslport_err_contract(err, who, ALPN_EXPECTED);
	if (alpn_wire(protos, n, &list, who, err) != 0)
		return -1;
	pthread_mutex_lock(&ctx->lock);
	if (sslport_ctx_check_unsealed(ctx, who, err) != 0)
		goto out;
	free(ctx->server_alpn.wire);
	ctx->server_alpn = list;
	list.wire = NULL;
	ctx->alpn_allow_no_match = allow_no_match != 0;
	SSL_CTX_set_alpn_select_cb(ctx->ssl_ctx, alpn_select_cb, ctx);
	rv = 0;
out:
	pthread_mutex_unlock(&ctx->lock);
	free(list.wire);
	return rv;
}
