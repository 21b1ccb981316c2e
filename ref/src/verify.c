/*
 * verify.c: ssl-set-verify!, ssl-try-verify! and ssl-set-verify-hostname!
 * on contexts and listeners (documented section 5).  On an SSL port the
 * connection does the work (conn.c).
 */
#include "internal.h"

#define CLP_EXPECTED                                                           \
	"(or/c ssl-client-context? ssl-server-context? ssl-listener?\n"        \
	"        ssl-port?)"

/* Names the server's sessions, which OpenSSL needs to resume them when
 * client certificates are verified. */
static const unsigned char session_id_context[] = "sslport";

int
sslport_verify_accept_any(int ok, X509_STORE_CTX *store)
{
	switch (X509_STORE_CTX_get_error(store)) {
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
	case X509_V_ERR_EMAIL_MISMATCH:
		return ok;
	default:
		return 1;
	}
}

/*
 * OpenSSL's own verdict.  SSL_set_verify keeps the callback it had when
 * given NULL, so a port that moves from trying to verifying names this
 * one, or the accept-any callback inherited from its context would stay.
 */
int
sslport_verify_as_is(int ok, X509_STORE_CTX *store)
{
	return ok;
}

static int
ctx_set_verify(struct sslport_ctx *ctx, int mode, const char *who,
    struct sslport_error *err)
{
	int rv = -1;

	pthread_mutex_lock(&ctx->lock);
	if (sslport_ctx_check_unsealed(ctx, who, err) != 0)
		goto out;
	SSL_CTX_set_verify(ctx->ssl_ctx, mode,
	    mode == SSL_VERIFY_PEER ? sslport_verify_accept_any : NULL);
	if (ctx->server &&
	    SSL_CTX_set_session_id_context(ctx->ssl_ctx, session_id_context,
	        sizeof(session_id_context) - 1) != 1) {
		sslport_err_ossl(err, SSLPORT_EFAIL, who,
		    "cannot set the session id context");
		goto out;
	}
	rv = 0;
out:
	pthread_mutex_unlock(&ctx->lock);
	return rv;
}

static int
set_verify(void *clp, int mode, const char *who, struct sslport_error *err)
{
	const struct sslport_object *o = clp;
	struct sslport_conn *conn;
	struct sslport_ctx *ctx;

	sslport_error_clear(err);
	if (o != NULL && o->type == SSLPORT_OBJ_PORT) {
		conn = sslport_conn_of(clp, who, err);
		if (conn == NULL)
			return -1;
		return sslport_conn_set_verify(conn, mode, who, err);
	}
	if (o == NULL ||
	    (o->type != SSLPORT_OBJ_CTX && o->type != SSLPORT_OBJ_LISTENER))
		return sslport_err_contract(err, who, CLP_EXPECTED);
	ctx = sslport_ctx_of(clp, 1, who, err);
	if (ctx == NULL)
		return -1;
	return ctx_set_verify(ctx, mode, who, err);
}

int
sslport_set_verify(void *clp, int on, struct sslport_error *err)
{
	return set_verify(clp,
	    on ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
	       : SSL_VERIFY_NONE,
	    "ssl-set-verify!", err);
}

/* A failed verification is recorded, not fatal (D.try-verify.1). */
int
sslport_try_verify(void *clp, int on, struct sslport_error *err)
{
	return set_verify(clp, on ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	    "ssl-try-verify!", err);
}

int
sslport_set_verify_hostname(
    struct sslport_ctx *ctx, int on, struct sslport_error *err)
{
	static const char who[] = "ssl-set-verify-hostname!";
	int rv = -1;

	sslport_error_clear(err);
	if (sslport_ctx_of(ctx, 0, who, err) == NULL)
		return -1;
	pthread_mutex_lock(&ctx->lock);
	if (sslport_ctx_check_unsealed(ctx, who, err) == 0) {
		ctx->verify_hostname = on != 0;
		rv = 0;
	}
	pthread_mutex_unlock(&ctx->lock);
	return rv;
}
