/*
 * context.c: client and server contexts (documented sections 1, 2, 4).
 *
 * A context wraps an SSL_CTX set up as its protocol symbol says, with a
 * reference count (each connection keeps its context alive) and a seal.
 * The secure client context is made once per value of the
 * ssl-default-verify-sources parameter and cached.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The versions a protocol symbol allows: 0 no bound, -1 never supported. */
struct proto_row {
	const char *name;
	int min;
	int max;
};

/*
 * 'sslv2-or-v3 is documented as an alias of 'auto (D.sslv2-or-v3.1);
 * 'secure means 'auto for a server (S2.server-ctx.4) and TLS 1.2 and up
 * for a client (see client_min).
 */
static const struct proto_row protos[SSLPORT_PROTO_COUNT] = {
    [SSLPORT_PROTO_SECURE] = {"secure", TLS1_VERSION, 0},
    [SSLPORT_PROTO_AUTO] = {"auto", TLS1_VERSION, 0},
    [SSLPORT_PROTO_SSLV2_OR_V3] = {"sslv2-or-v3", TLS1_VERSION, 0},
    [SSLPORT_PROTO_SSLV2] = {"sslv2", -1, -1},
    [SSLPORT_PROTO_SSLV3] = {"sslv3", SSL3_VERSION, SSL3_VERSION},
    [SSLPORT_PROTO_TLS] = {"tls", TLS1_VERSION, TLS1_VERSION},
    [SSLPORT_PROTO_TLS11] = {"tls11", TLS1_1_VERSION, TLS1_1_VERSION},
    [SSLPORT_PROTO_TLS12] = {"tls12", TLS1_2_VERSION, TLS1_2_VERSION},
    [SSLPORT_PROTO_TLS13] = {"tls13", TLS1_3_VERSION, TLS1_3_VERSION},
};

/* No context runs below this OpenSSL security level. */
#define MIN_SECURITY_LEVEL 2

/* The documented cipher list of the secure client context. */
#define SECURE_CIPHERS "DEFAULT:!aNULL:!eNULL:!LOW:!EXPORT:!SSLv2"

#define PROTO_EXPECTED "ssl-protocol-symbol/c"
#define KEY_EXPECTED                                                           \
	"(or/c (list/c 'pem path-string?) (list/c 'pem-data bytes?)\n"         \
	"        (list/c 'der path-string?) #f)"

/* The cached secure client context and the sources it was made from. */
static struct {
	pthread_mutex_t lock;
	struct sslport_ctx *ctx;
	struct sslport_source *srcs;
	size_t n;
	int cleanup_registered;
} secure = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0};

static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
static int ex_index = -1;

/* ---- Protocol symbols -------------------------------------------------- */

const char *
sslport_protocol_name(enum sslport_protocol proto)
{
	if ((unsigned)proto >= SSLPORT_PROTO_COUNT)
		return NULL;
	return protos[proto].name;
}

int
sslport_protocol_from_name(const char *name, enum sslport_protocol *out)
{
	int i;

	for (i = 0; name != NULL && i < SSLPORT_PROTO_COUNT; i++) {
		if (strcmp(name, protos[i].name) == 0) {
			*out = (enum sslport_protocol)i;
			return 0;
		}
	}
	return -1;
}

/* A libssl built without SSL 3.0 (Debian's) lacks its method. */
static int
have_sslv3(void)
{
	void *h = sslport_libssl();

	return h != NULL && dlsym(h, "SSLv3_method") != NULL;
}

static int
proto_supported(enum sslport_protocol proto)
{
	if (!sslport_have_libssl() || protos[proto].min < 0)
		return 0;
	if (proto == SSLPORT_PROTO_SSLV3)
		return have_sslv3();
	return 1;
}

static size_t
supported(enum sslport_protocol *out)
{
	size_t n = 0;
	int i;

	for (i = 0; i < SSLPORT_PROTO_COUNT; i++)
		if (proto_supported((enum sslport_protocol)i))
			out[n++] = (enum sslport_protocol)i;
	return n;
}

size_t
sslport_supported_client_protocols(enum sslport_protocol *out)
{
	return supported(out);
}

size_t
sslport_supported_server_protocols(enum sslport_protocol *out)
{
	return supported(out);
}

/* The newest version symbol supported: the table lists them oldest first. */
static int
max_protocol(enum sslport_protocol *out)
{
	int i;

	for (i = SSLPORT_PROTO_COUNT - 1; i >= SSLPORT_PROTO_SSLV2; i--) {
		if (proto_supported((enum sslport_protocol)i)) {
			*out = (enum sslport_protocol)i;
			return 0;
		}
	}
	return -1;
}

int
sslport_max_client_protocol(enum sslport_protocol *out)
{
	return max_protocol(out);
}

int
sslport_max_server_protocol(enum sslport_protocol *out)
{
	return max_protocol(out);
}

/* ---- Objects ----------------------------------------------------------- */

static void
ex_index_init(void)
{
	ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int
sslport_ctx_ex_index(void)
{
	pthread_once(&ex_once, ex_index_init);
	return ex_index;
}

struct sslport_ctx *
sslport_ctx_ref(struct sslport_ctx *ctx)
{
	if (ctx != NULL)
		atomic_fetch_add(&ctx->refs, 1);
	return ctx;
}

void
sslport_ctx_free(struct sslport_ctx *ctx)
{
	if (ctx == NULL || atomic_fetch_sub(&ctx->refs, 1) != 1)
		return;
	if (ctx->ssl_ctx != NULL) {
		SSL_CTX_set_ex_data(ctx->ssl_ctx, sslport_ctx_ex_index(), NULL);
		SSL_CTX_free(ctx->ssl_ctx);
	}
	free(ctx->server_alpn.wire);
	sslport_logger_free(ctx->keylogger);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

static int
is_ctx(const void *v)
{
	const struct sslport_object *o = v;

	return o != NULL && o->type == SSLPORT_OBJ_CTX;
}

int
sslport_is_client_context(const void *v)
{
	return is_ctx(v) && !((const struct sslport_ctx *)v)->server;
}

int
sslport_is_server_context(const void *v)
{
	return is_ctx(v) && ((const struct sslport_ctx *)v)->server;
}

struct sslport_ctx *
sslport_ctx_of(void *ctx_or_listener, int allow_listener, const char *who,
    struct sslport_error *err)
{
	const struct sslport_object *o = ctx_or_listener;
	struct sslport_ctx *ctx = NULL;

	if (is_ctx(o))
		ctx = ctx_or_listener;
	else if (allow_listener && o != NULL && o->type == SSLPORT_OBJ_LISTENER)
		ctx = sslport_listener_context(ctx_or_listener);
	if (ctx != NULL)
		return ctx;
	sslport_err_contract(err, who,
	    allow_listener
	        ? "(or/c ssl-client-context? ssl-server-context? ssl-listener?)"
	        : "(or/c ssl-client-context? ssl-server-context?)");
	return NULL;
}

int
sslport_ctx_check_unsealed(
    struct sslport_ctx *ctx, const char *who, struct sslport_error *err)
{
	if (!ctx->sealed)
		return 0;
	return sslport_err(err, SSLPORT_EFAIL, who,
	    "context is sealed; no further changes are allowed");
}

/*
 * When a file fails to load, OpenSSL queues the cause first (the system's
 * reason for a missing file, the PEM reader's for a file without PEM) and
 * then the layers that gave up because of it, so the first entry is the
 * one worth reporting.
 */
int
sslport_err_load(struct sslport_error *err, const char *who, const char *from)
{
	unsigned long e = ERR_get_error();
	char reason[256];

	if (e == 0)
		return sslport_err(
		    err, SSLPORT_EFAIL, who, "load failed from: %s", from);
	ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return sslport_err(
	    err, SSLPORT_EFAIL, who, "load failed from: %s (%s)", from, reason);
}

/* ---- Making contexts --------------------------------------------------- */

static int
client_min(const struct sslport_ctx *ctx)
{
	if (!ctx->server && ctx->proto == SSLPORT_PROTO_SECURE)
		return TLS1_2_VERSION;
	return protos[ctx->proto].min;
}

/*
 * Every context: the protocol's versions, a security level of at least
 * MIN_SECURITY_LEVEL, partial writes (the pump writes what it can), eof
 * without close_notify read as eof (D.eof.1), and, on servers,
 * Diffie-Hellman groups chosen by OpenSSL so that DHE works (D.dhe.1).
 */
static int
configure(struct sslport_ctx *ctx, const char *who, struct sslport_error *err)
{
	SSL_CTX *sc = ctx->ssl_ctx;
	int level = SSL_CTX_get_security_level(sc);

	SSL_CTX_set_security_level(
	    sc, level > MIN_SECURITY_LEVEL ? level : MIN_SECURITY_LEVEL);
	SSL_CTX_set_mode(sc,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(sc, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (ctx->server)
		SSL_CTX_set_dh_auto(sc, 1);
	if (SSL_CTX_set_ex_data(sc, sslport_ctx_ex_index(), ctx) != 1 ||
	    SSL_CTX_set_min_proto_version(sc, client_min(ctx)) != 1 ||
	    SSL_CTX_set_max_proto_version(sc, protos[ctx->proto].max) != 1)
		return sslport_err_ossl(
		    err, SSLPORT_EFAIL, who, "cannot set up the context");
	sslport_keylog_attach(ctx);
	return 0;
}

static struct sslport_ctx *
ctx_new(int server, enum sslport_protocol proto, const char *who,
    struct sslport_error *err)
{
	struct sslport_ctx *ctx;

	ctx = sslport_calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
		return NULL;
	}
	ctx->obj.type = SSLPORT_OBJ_CTX;
	atomic_init(&ctx->refs, 1);
	ctx->server = server;
	ctx->proto = proto;
	ctx->alpn_allow_no_match = 1;
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->ssl_ctx =
	    SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx->ssl_ctx == NULL)
		sslport_err_ossl(
		    err, SSLPORT_EFAIL, who, "cannot make a context");
	if (ctx->ssl_ctx == NULL || configure(ctx, who, err) != 0) {
		sslport_ctx_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

static int
check_proto(
    enum sslport_protocol proto, const char *who, struct sslport_error *err)
{
	if ((unsigned)proto >= SSLPORT_PROTO_COUNT)
		return sslport_err_contract(err, who, PROTO_EXPECTED);
	if (sslport_require_ssl(who, err) != 0)
		return -1;
	if (proto_supported(proto))
		return 0;
	return sslport_err(err, SSLPORT_EUNSUPPORTED, who,
	    "requested protocol not supported\n  requested: '%s",
	    protos[proto].name);
}

static int
check_key_form(const struct sslport_key_form *key, const char *who,
    struct sslport_error *err)
{
	if (key == NULL)
		return 0;
	switch (key->kind) {
	case SSLPORT_KEY_PEM:
	case SSLPORT_KEY_DER:
		if (key->path != NULL)
			return 0;
		break;
	case SSLPORT_KEY_PEM_DATA:
		if (key->data != NULL || key->len == 0)
			return 0;
		break;
	}
	return sslport_err_contract(err, who, KEY_EXPECTED);
}

/* #:certificate-chain, then #:private-key, which takes any key type. */
static int
load_credentials(struct sslport_ctx *ctx, const struct sslport_key_form *key,
    const char *chain, struct sslport_error *err)
{
	struct sslport_key_source src = {NULL, NULL, 0};

	if (chain != NULL &&
	    sslport_load_certificate_chain(ctx, chain, err) != 0)
		return -1;
	if (key == NULL)
		return 0;
	if (key->kind == SSLPORT_KEY_PEM_DATA) {
		src.data =
		    key->data != NULL ? key->data : (const unsigned char *)"";
		src.len = key->len;
	} else {
		src.path = key->path;
	}
	return sslport_load_private_key(
	    ctx, &src, 0, key->kind == SSLPORT_KEY_DER, err);
}

/*
 * What the documentation says ssl-secure-client-context amounts to: the
 * default roots (failures ignored), certificate and hostname
 * verification, no weak ciphers, sealed.
 */
static int
secure_settings(struct sslport_ctx *ctx, const struct sslport_source *srcs,
    size_t n, struct sslport_error *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)sslport_load_verify_source(ctx, &srcs[i], 1, NULL);
	if (sslport_set_verify(ctx, 1, err) != 0 ||
	    sslport_set_verify_hostname(ctx, 1, err) != 0 ||
	    sslport_set_ciphers(ctx, SECURE_CIPHERS, err) != 0)
		return -1;
	return sslport_seal_context(ctx, err);
}

static struct sslport_ctx *
make_secure(const struct sslport_key_form *key, const char *chain,
    const struct sslport_source *srcs, size_t n, const char *who,
    struct sslport_error *err)
{
	struct sslport_ctx *ctx;

	ctx = ctx_new(0, SSLPORT_PROTO_SECURE, who, err);
	if (ctx == NULL)
		return NULL;
	if (load_credentials(ctx, key, chain, err) != 0 ||
	    secure_settings(ctx, srcs, n, err) != 0) {
		sslport_ctx_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* A fresh sealed secure context holding credentials (D.secure-key.1). */
static struct sslport_ctx *
make_secure_with(const struct sslport_key_form *key, const char *chain,
    const char *who, struct sslport_error *err)
{
	struct sslport_source *srcs = NULL;
	struct sslport_ctx *ctx = NULL;
	size_t n = 0;

	if (sslport_default_verify_sources(&srcs, &n, err) == 0)
		ctx = make_secure(key, chain, srcs, n, who, err);
	sslport_sources_free(srcs, n);
	return ctx;
}

static struct sslport_ctx *
make_context(int server, enum sslport_protocol proto,
    const struct sslport_key_form *key, const char *chain, const char *who,
    struct sslport_error *err)
{
	struct sslport_ctx *ctx = NULL;

	sslport_error_clear(err);
	if (check_proto(proto, who, err) != 0 ||
	    check_key_form(key, who, err) != 0)
		goto out;
	if (!server && proto == SSLPORT_PROTO_SECURE) {
		if (key == NULL && chain == NULL)
			ctx = sslport_secure_client_context(err);
		else
			ctx = make_secure_with(key, chain, who, err);
		goto out;
	}
	ctx = ctx_new(server, proto, who, err);
	if (ctx != NULL && load_credentials(ctx, key, chain, err) != 0) {
		sslport_ctx_free(ctx);
		ctx = NULL;
	}
out:
	return ctx;
}

struct sslport_ctx *
sslport_make_client_context(enum sslport_protocol proto,
    const struct sslport_key_form *key, const char *chain,
    struct sslport_error *err)
{
	return make_context(
	    0, proto, key, chain, "ssl-make-client-context", err);
}

struct sslport_ctx *
sslport_make_server_context(enum sslport_protocol proto,
    const struct sslport_key_form *key, const char *chain,
    struct sslport_error *err)
{
	return make_context(
	    1, proto, key, chain, "ssl-make-server-context", err);
}

/* ---- The secure client context ----------------------------------------- */

static int
sources_equal(const struct sslport_source *a, size_t na,
    const struct sslport_source *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		if (a[i].kind != b[i].kind)
			return 0;
		if (a[i].arg == NULL || b[i].arg == NULL) {
			if (a[i].arg != b[i].arg)
				return 0;
		} else if (strcmp(a[i].arg, b[i].arg) != 0) {
			return 0;
		}
	}
	return 1;
}

/*
 * Release the cache's reference at exit, so that a leak check sees only
 * real leaks.  Registered after OpenSSL's own exit handler, so it runs
 * before OpenSSL cleans up.
 */
static void
secure_cache_cleanup(void)
{
	pthread_mutex_lock(&secure.lock);
	sslport_ctx_free(secure.ctx);
	sslport_sources_free(secure.srcs, secure.n);
	secure.ctx = NULL;
	secure.srcs = NULL;
	secure.n = 0;
	pthread_mutex_unlock(&secure.lock);
}

/* Takes over `srcs`; the secure lock is held. */
static void
secure_cache_put(struct sslport_ctx *ctx, struct sslport_source *srcs, size_t n)
{
	sslport_ctx_free(secure.ctx);
	sslport_sources_free(secure.srcs, secure.n);
	secure.ctx = sslport_ctx_ref(ctx);
	secure.srcs = srcs;
	secure.n = n;
	if (!secure.cleanup_registered)
		secure.cleanup_registered = atexit(secure_cache_cleanup) == 0;
}

struct sslport_ctx *
sslport_secure_client_context(struct sslport_error *err)
{
	static const char who[] = "ssl-secure-client-context";
	struct sslport_source *srcs = NULL;
	struct sslport_ctx *ctx = NULL;
	size_t n = 0;

	sslport_error_clear(err);
	if (sslport_require_ssl(who, err) != 0 ||
	    sslport_default_verify_sources(&srcs, &n, err) != 0)
		goto out;
	pthread_mutex_lock(&secure.lock);
	if (secure.ctx != NULL &&
	    sources_equal(secure.srcs, secure.n, srcs, n)) {
		ctx = sslport_ctx_ref(secure.ctx);
	} else {
		ctx = make_secure(NULL, NULL, srcs, n, who, err);
		if (ctx != NULL) {
			secure_cache_put(ctx, srcs, n);
			srcs = NULL;
		}
	}
	pthread_mutex_unlock(&secure.lock);
out:
	sslport_sources_free(srcs, n);
	return ctx;
}

/* ---- Seal and ciphers -------------------------------------------------- */

int
sslport_seal_context(struct sslport_ctx *ctx, struct sslport_error *err)
{
	sslport_error_clear(err);
	if (sslport_ctx_of(ctx, 0, "ssl-seal-context!", err) == NULL)
		return -1;
	pthread_mutex_lock(&ctx->lock);
	ctx->sealed = 1;
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

/*
 * The list governs TLS 1.2 and older only; OpenSSL fails it when it
 * leaves no such suite, which covers "", garbage and TLS 1.3 names.
 */
int
sslport_set_ciphers(
    struct sslport_ctx *ctx, const char *spec, struct sslport_error *err)
{
	static const char who[] = "ssl-set-ciphers!";
	int rv = -1;

	sslport_error_clear(err);
	if (sslport_ctx_of(ctx, 0, who, err) == NULL)
		return -1;
	if (spec == NULL)
		return sslport_err_contract(err, who, "string?");
	pthread_mutex_lock(&ctx->lock);
	if (sslport_ctx_check_unsealed(ctx, who, err) != 0)
		goto out;
	if (SSL_CTX_set_cipher_list(ctx->ssl_ctx, spec) != 1) {
		ERR_clear_error();
		sslport_err(
		    err, SSLPORT_EFAIL, who, "setting cipher list failed");
		goto out;
	}
	rv = 0;
out:
	pthread_mutex_unlock(&ctx->lock);
	return rv;
}
