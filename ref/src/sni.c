/*
 * sni.c: server name indication on the server side (documented section
 * 4): ssl-set-server-name-identification-callback! and the callback that
 * OpenSSL calls with the name the client sent.
 */
#include "internal.h"

#define SNI_FN_EXPECTED "(string? . -> . (or/c ssl-server-context? #f))"

static pthread_once_t held_once = PTHREAD_ONCE_INIT;
static int held_index = -1;

/* The context a connection switched to stays alive until SSL_free. */
static void
held_free(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	sslport_ctx_free(ptr);
}

static void
held_init(void)
{
	held_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, held_free);
}

/*
 * Serve the connection from `choice`.  The SSL keeps a reference to the
 * chosen context in its ex_data, dropped when the SSL is freed, so the
 * context's callbacks and the connection's look-ups stay valid.
 */
static int
switch_to(SSL *ssl, struct sslport_ctx *choice)
{
	struct sslport_ctx *old;

	if (choice->ssl_ctx == SSL_get_SSL_CTX(ssl))
		return 0;
	pthread_once(&held_once, held_init);
	if (held_index < 0)
		return -1;
	old = SSL_get_ex_data(ssl, held_index);
	if (SSL_set_ex_data(ssl, held_index, choice) != 1)
		return -1;
	sslport_ctx_ref(choice);
	if (SSL_set_SSL_CTX(ssl, choice->ssl_ctx) == NULL) {
		SSL_set_ex_data(ssl, held_index, old);
		sslport_ctx_free(choice);
		return -1;
	}
	sslport_ctx_free(old);
	return 0;
}

/*
 * Without a name from the client the callback is not consulted and the
 * original context serves (D.sni.1).  A callback that fails, or answers
 * something other than a server context, fails this handshake only
 * (D.sni.2).
 */
static int
servername_cb(SSL *ssl, int *alert, void *arg)
{
	struct sslport_ctx *ctx = arg, *choice = NULL;
	struct sslport_error err;
	const char *name;
	sslport_sni_fn fn;
	void *fn_arg;

	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	pthread_mutex_lock(&ctx->lock);
	fn = ctx->sni_fn;
	fn_arg = ctx->sni_arg;
	pthread_mutex_unlock(&ctx->lock);
	if (fn == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	sslport_error_clear(&err);
	if (fn(fn_arg, name, &choice, &err) != 0 ||
	    (choice != NULL &&
	        (!sslport_is_server_context(choice) ||
	            switch_to(ssl, choice) != 0))) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return choice != NULL ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

int
sslport_set_server_name_identification_callback(struct sslport_ctx *ctx,
    sslport_sni_fn fn, void *arg, struct sslport_error *err)
{
	static const char who[] =
	    "ssl-set-server-name-identification-callback!";
	int rv = -1;

	sslport_error_clear(err);
	if (!sslport_is_server_context(ctx))
		return sslport_err_contract(err, who, "ssl-server-context?");
	if (fn == NULL)
		return sslport_err_contract(err, who, SNI_FN_EXPECTED);
	pthread_mutex_lock(&ctx->lock);
	if (sslport_ctx_check_unsealed(ctx, who, err) != 0)
		goto out;
	ctx->sni_fn = fn;
	ctx->sni_arg = arg;
	SSL_CTX_set_tlsext_servername_callback(ctx->ssl_ctx, servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx->ssl_ctx, ctx);
	rv = 0;
out:
	pthread_mutex_unlock(&ctx->lock);
	return rv;
}
