/*
 * test_context.c: contexts, what the RPC cannot reach or reaches only
 * slowly.  Protocol names and lists, making contexts, the seal on every
 * setter, key and certificate loading forms, cipher lists, verify
 * sources and their parameter, the secure context cache, argument
 * checks, and handshakes in memory (OpenSSL objects driven directly over
 * the contexts' SSL_CTX) for versions, ALPN, SNI, try-verify, DHE and
 * the keylogger.
 *
 * Run from the top of the tree (it reads certs/).  Each failure prints
 * one line: what was got and what was wanted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define CERTS "certs/"

static int failures;

#define FAIL(...)                                                              \
	do {                                                                   \
		failures++;                                                    \
		printf("FAIL: %s: ", __func__);                                \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
	} while (0)

static const char *
kind_name(enum sslport_error_kind kind)
{
	return sslport_error_kind_name(kind);
}

/* A call's result against the kind wanted (SSLPORT_OK: success). */
static void
want_kind(const char *what, int rv, const struct sslport_error *err,
    enum sslport_error_kind want)
{
	enum sslport_error_kind got = rv == 0 ? SSLPORT_OK : err->kind;

	if (got != want)
		FAIL("%s: got %s (%s), want %s", what, kind_name(got),
		    err->message, kind_name(want));
}

static struct sslport_ctx *
server_ctx(enum sslport_protocol proto)
{
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = sslport_make_server_context(proto, NULL, NULL, &err);
	if (ctx == NULL)
		printf("FAIL: server_ctx: %s\n", err.message);
	return ctx;
}

static struct sslport_ctx *
client_ctx(enum sslport_protocol proto)
{
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = sslport_make_client_context(proto, NULL, NULL, &err);
	if (ctx == NULL)
		printf("FAIL: client_ctx: %s\n", err.message);
	return ctx;
}

/* A server context holding a chain and its key. */
static struct sslport_ctx *
server_with(enum sslport_protocol proto, const char *chain, const char *key)
{
	struct sslport_key_form form = {SSLPORT_KEY_PEM, key, NULL, 0};
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = sslport_make_server_context(proto, &form, chain, &err);
	if (ctx == NULL)
		printf("FAIL: server_with %s: %s\n", chain, err.message);
	return ctx;
}

/* ---- Protocol symbols -------------------------------------------------- */

static void
test_protocol_names(void)
{
	static const struct {
		enum sslport_protocol proto;
		const char *name;
	} cases[] = {
	    {SSLPORT_PROTO_SECURE, "secure"},
	    {SSLPORT_PROTO_AUTO, "auto"},
	    {SSLPORT_PROTO_SSLV2_OR_V3, "sslv2-or-v3"},
	    {SSLPORT_PROTO_SSLV2, "sslv2"},
	    {SSLPORT_PROTO_SSLV3, "sslv3"},
	    {SSLPORT_PROTO_TLS, "tls"},
	    {SSLPORT_PROTO_TLS11, "tls11"},
	    {SSLPORT_PROTO_TLS12, "tls12"},
	    {SSLPORT_PROTO_TLS13, "tls13"},
	};
	static const char *const bad[] = {"tls14", "ssl", "", "TLS12"};
	enum sslport_protocol p;
	const char *name;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		name = sslport_protocol_name(cases[i].proto);
		if (name == NULL || strcmp(name, cases[i].name) != 0)
			FAIL("name of %d: got %s, want %s", cases[i].proto,
			    name ? name : "NULL", cases[i].name);
		if (sslport_protocol_from_name(cases[i].name, &p) != 0 ||
		    p != cases[i].proto)
			FAIL("from_name(%s): got %d, want %d", cases[i].name,
			    (int)p, cases[i].proto);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sslport_protocol_from_name(bad[i], &p) == 0)
			FAIL("from_name(\"%s\"): got 0, want -1", bad[i]);
	if (sslport_protocol_name((enum sslport_protocol)99) != NULL)
		FAIL("name of 99: got a name, want NULL");
}

static void
test_supported(void)
{
	/* OpenSSL 3 as Debian builds it: no SSL 3.0. */
	static const enum sslport_protocol want[] = {SSLPORT_PROTO_SECURE,
	    SSLPORT_PROTO_AUTO, SSLPORT_PROTO_SSLV2_OR_V3, SSLPORT_PROTO_TLS,
	    SSLPORT_PROTO_TLS11, SSLPORT_PROTO_TLS12, SSLPORT_PROTO_TLS13};
	enum sslport_protocol got[SSLPORT_PROTO_COUNT], max;
	size_t n, i, k;

	for (k = 0; k < 2; k++) {
		n = k == 0 ? sslport_supported_client_protocols(got)
		           : sslport_supported_server_protocols(got);
		if (n != sizeof(want) / sizeof(want[0])) {
			FAIL("%s list: got %zu symbols, want %zu",
			    k ? "server" : "client", n,
			    sizeof(want) / sizeof(want[0]));
			continue;
		}
		for (i = 0; i < n; i++)
			if (got[i] != want[i])
				FAIL("entry %zu: got %s, want %s", i,
				    sslport_protocol_name(got[i]),
				    sslport_protocol_name(want[i]));
	}
	if (sslport_max_client_protocol(&max) != 0 ||
	    max != SSLPORT_PROTO_TLS13)
		FAIL("max client: got %s, want tls13",
		    sslport_protocol_name(max));
	if (sslport_max_server_protocol(&max) != 0 ||
	    max != SSLPORT_PROTO_TLS13)
		FAIL("max server: got %s, want tls13",
		    sslport_protocol_name(max));
}

static void
test_make(void)
{
	static const struct {
		int proto;
		enum sslport_error_kind want;
	} cases[] = {
	    {SSLPORT_PROTO_SECURE, SSLPORT_OK},
	    {SSLPORT_PROTO_AUTO, SSLPORT_OK},
	    {SSLPORT_PROTO_SSLV2_OR_V3, SSLPORT_OK},
	    {SSLPORT_PROTO_SSLV2, SSLPORT_EUNSUPPORTED},
	    {SSLPORT_PROTO_SSLV3, SSLPORT_EUNSUPPORTED},
	    {SSLPORT_PROTO_TLS, SSLPORT_OK},
	    {SSLPORT_PROTO_TLS11, SSLPORT_OK},
	    {SSLPORT_PROTO_TLS12, SSLPORT_OK},
	    {SSLPORT_PROTO_TLS13, SSLPORT_OK},
	    {-1, SSLPORT_ECONTRACT},
	    {SSLPORT_PROTO_COUNT, SSLPORT_ECONTRACT},
	};
	struct sslport_error err;
	struct sslport_ctx *ctx;
	char what[64];
	size_t i;
	int server;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (server = 0; server < 2; server++) {
			ctx = server
			    ? sslport_make_server_context(
			          (enum sslport_protocol)cases[i].proto, NULL,
			          NULL, &err)
			    : sslport_make_client_context(
			          (enum sslport_protocol)cases[i].proto, NULL,
			          NULL, &err);
			snprintf(what, sizeof(what), "%s context, protocol %d",
			    server ? "server" : "client", cases[i].proto);
			want_kind(
			    what, ctx != NULL ? 0 : -1, &err, cases[i].want);
			if (ctx != NULL &&
			    (server ? !sslport_is_server_context(ctx) ||
			                sslport_is_client_context(ctx)
			            : !sslport_is_client_context(ctx) ||
			                sslport_is_server_context(ctx)))
				FAIL("%s: wrong predicate answers", what);
			sslport_ctx_free(ctx);
		}
	}
	if (sslport_is_client_context(NULL) || sslport_is_server_context(NULL))
		FAIL("predicates of NULL: got true, want false");
}

/* 'secure and 'auto contexts: versions and security level. */
static void
test_settings(void)
{
	static const struct {
		enum sslport_protocol proto;
		int server;
		long min, max;
	} cases[] = {
	    {SSLPORT_PROTO_SECURE, 0, TLS1_2_VERSION, 0},
	    {SSLPORT_PROTO_SECURE, 1, TLS1_VERSION, 0},
	    {SSLPORT_PROTO_AUTO, 0, TLS1_VERSION, 0},
	    {SSLPORT_PROTO_SSLV2_OR_V3, 1, TLS1_VERSION, 0},
	    {SSLPORT_PROTO_TLS, 0, TLS1_VERSION, TLS1_VERSION},
	    {SSLPORT_PROTO_TLS12, 1, TLS1_2_VERSION, TLS1_2_VERSION},
	    {SSLPORT_PROTO_TLS13, 0, TLS1_3_VERSION, TLS1_3_VERSION},
	};
	struct sslport_ctx *ctx;
	long min, max;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctx = cases[i].server ? server_ctx(cases[i].proto)
		                      : client_ctx(cases[i].proto);
		if (ctx == NULL)
			continue;
		min = SSL_CTX_get_min_proto_version(ctx->ssl_ctx);
		max = SSL_CTX_get_max_proto_version(ctx->ssl_ctx);
		if (min != cases[i].min || max != cases[i].max)
			FAIL("%s %s: got min %#lx max %#lx, want %#lx %#lx",
			    sslport_protocol_name(cases[i].proto),
			    cases[i].server ? "server" : "client", min, max,
			    cases[i].min, cases[i].max);
		if (SSL_CTX_get_security_level(ctx->ssl_ctx) < 2)
			FAIL("%s: security level below 2",
			    sslport_protocol_name(cases[i].proto));
		if (SSL_CTX_get_ex_data(ctx->ssl_ctx, sslport_ctx_ex_index()) !=
		    ctx)
			FAIL("ex_data of the SSL_CTX is not the context");
		sslport_ctx_free(ctx);
	}
}

/* ---- Sealing ----------------------------------------------------------- */

static int
noop_sni(void *arg, const char *hostname, struct sslport_ctx **choice,
    struct sslport_error *err)
{
	*choice = NULL;
	return 0;
}

static int
seal_set_verify(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_set_verify(c, 0, e);
}

static int
seal_try_verify(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_try_verify(c, 1, e);
}

static int
seal_verify_hostname(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_set_verify_hostname(c, 0, e);
}

static int
seal_ciphers(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_set_ciphers(c, "DEFAULT", e);
}

static int
seal_chain(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_load_certificate_chain(c, CERTS "server-rsa.pem", e);
}

static int
seal_key(struct sslport_ctx *c, struct sslport_error *e)
{
	struct sslport_key_source src = {CERTS "server-rsa.key", NULL, 0};

	return sslport_load_private_key(c, &src, 1, 0, e);
}

static int
seal_key_data(struct sslport_ctx *c, struct sslport_error *e)
{
	struct sslport_key_source src = {
	    NULL, (const unsigned char *)"junk", 4};

	return sslport_load_private_key(c, &src, 0, 0, e);
}

static int
seal_source(struct sslport_ctx *c, struct sslport_error *e)
{
	struct sslport_source src = {SSLPORT_SOURCE_FILE, CERTS "root-ca.pem"};

	return sslport_load_verify_source(c, &src, 0, e);
}

static int
seal_source_try(struct sslport_ctx *c, struct sslport_error *e)
{
	struct sslport_source src = {SSLPORT_SOURCE_WIN32_STORE, "ROOT"};

	return sslport_load_verify_source(c, &src, 1, e);
}

static int
seal_roots(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_load_verify_root_certificates(c, CERTS "root-ca.pem", e);
}

static int
seal_suggested(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_load_suggested_certificate_authorities(
	    c, CERTS "root-ca.pem", e);
}

static int
seal_alpn(struct sslport_ctx *c, struct sslport_error *e)
{
	struct sslport_bytes h2 = {(const unsigned char *)"h2", 2};

	return sslport_set_server_alpn(c, &h2, 1, 1, e);
}

static int
seal_sni(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_set_server_name_identification_callback(
	    c, noop_sni, NULL, e);
}

static int
seal_keylogger(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_set_keylogger(c, NULL, e);
}

static int
seal_default_sources(struct sslport_ctx *c, struct sslport_error *e)
{
	return sslport_load_default_verify_sources(c, e);
}

static void
test_seal(void)
{
	static const struct {
		const char *who;
		int (*fn)(struct sslport_ctx *, struct sslport_error *);
	} cases[] = {
	    {"ssl-set-verify!", seal_set_verify},
	    {"ssl-try-verify!", seal_try_verify},
	    {"ssl-set-verify-hostname!", seal_verify_hostname},
	    {"ssl-set-ciphers!", seal_ciphers},
	    {"ssl-load-certificate-chain!", seal_chain},
	    {"ssl-load-private-key!", seal_key},
	    {"ssl-load-private-key!", seal_key_data},
	    {"ssl-load-verify-source!", seal_source},
	    {"ssl-load-verify-source!", seal_source_try},
	    {"ssl-load-verify-root-certificates!", seal_roots},
	    {"ssl-load-suggested-certificate-authorities!", seal_suggested},
	    {"ssl-set-server-alpn!", seal_alpn},
	    {"ssl-set-server-name-identification-callback!", seal_sni},
	    {"ssl-set-keylogger!", seal_keylogger},
	    {"ssl-load-default-verify-sources!", seal_default_sources},
	};
	struct sslport_error err;
	struct sslport_ctx *ctx;
	char want[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctx = server_ctx(SSLPORT_PROTO_AUTO);
		if (ctx == NULL)
			continue;
		if (sslport_seal_context(ctx, &err) != 0 ||
		    sslport_seal_context(ctx, &err) != 0)
			FAIL("sealing twice: %s", err.message);
		snprintf(want, sizeof(want),
		    "%s: context is sealed; no "
		    "further changes are allowed",
		    cases[i].who);
		if (cases[i].fn(ctx, &err) == 0)
			FAIL("%s on a sealed context: got success, want "
			     "exn:fail",
			    cases[i].who);
		else if (err.kind != SSLPORT_EFAIL ||
		    strcmp(err.message, want) != 0)
			FAIL("%s: got %s \"%s\", want exn:fail \"%s\"",
			    cases[i].who, kind_name(err.kind), err.message,
			    want);
		sslport_ctx_free(ctx);
	}
}

/* With no default source to load, a sealed context is no obstacle. */
static void
test_seal_default_empty(void)
{
	struct sslport_source *saved;
	struct sslport_error err;
	struct sslport_ctx *ctx;
	size_t n;

	if (sslport_default_verify_sources(&saved, &n, &err) != 0) {
		FAIL("reading the defaults: %s", err.message);
		return;
	}
	ctx = client_ctx(SSLPORT_PROTO_AUTO);
	sslport_set_default_verify_sources(NULL, 0, &err);
	sslport_seal_context(ctx, &err);
	want_kind("load-default on sealed, no sources",
	    sslport_load_default_verify_sources(ctx, &err), &err, SSLPORT_OK);
	sslport_set_default_verify_sources(saved, n, &err);
	sslport_sources_free(saved, n);
	sslport_ctx_free(ctx);
}

/* ---- Keys and certificates --------------------------------------------- */

struct key_case {
	const char *what;
	const char *chain;     /* loaded first, when not NULL */
	const char *path;      /* key file, or NULL for data */
	const char *data_file; /* a file whose bytes are given as data */
	int rsa, asn1;
	enum sslport_error_kind want;
};

static int
read_file(const char *path, unsigned char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long size;
	int rv = -1;

	*out = NULL;
	if (f == NULL)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 &&
	    (*out = malloc((size_t)size + 1)) != NULL &&
	    fread(*out, 1, (size_t)size, f) == (size_t)size) {
		*len = (size_t)size;
		rv = 0;
	}
	fclose(f);
	return rv;
}

static void
run_key_case(const struct key_case *kc)
{
	struct sslport_key_source src = {kc->path, NULL, 0};
	unsigned char *data = NULL;
	struct sslport_error err;
	struct sslport_ctx *ctx;
	int rv = 0;

	ctx = server_ctx(SSLPORT_PROTO_AUTO);
	if (ctx == NULL)
		return;
	if (kc->chain != NULL &&
	    sslport_load_certificate_chain(ctx, kc->chain, &err) != 0) {
		FAIL("%s: chain: %s", kc->what, err.message);
		goto out;
	}
	if (kc->data_file != NULL &&
	    read_file(kc->data_file, &data, &src.len) != 0) {
		FAIL("%s: cannot read %s", kc->what, kc->data_file);
		goto out;
	}
	if (kc->data_file != NULL)
		src.data = data != NULL ? data : (const unsigned char *)"";
	rv = sslport_load_private_key(ctx, &src, kc->rsa, kc->asn1, &err);
	want_kind(kc->what, rv, &err, kc->want);
	if (rv == 0 && kc->chain != NULL &&
	    SSL_CTX_check_private_key(ctx->ssl_ctx) != 1)
		FAIL("%s: the key does not match the chain", kc->what);
out:
	free(data);
	sslport_ctx_free(ctx);
}

/* A PEM file holding an EC key and then an RSA key (D.rsa-key.1). */
static int
make_ec_then_rsa(char *path, size_t size)
{
	unsigned char *ec = NULL, *rsa = NULL;
	size_t eclen, rsalen;
	FILE *f = NULL;
	int fd, rv = -1;

	snprintf(path, size, "/tmp/sslport-test-keys-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0 || (f = fdopen(fd, "wb")) == NULL)
		goto out;
	if (read_file(CERTS "server-ecdsa-p256.key", &ec, &eclen) != 0 ||
	    read_file(CERTS "server-rsa.key", &rsa, &rsalen) != 0)
		goto out;
	if (fwrite(ec, 1, eclen, f) == eclen &&
	    fwrite(rsa, 1, rsalen, f) == rsalen)
		rv = 0;
out:
	if (f != NULL)
		fclose(f);
	else if (fd >= 0)
		close(fd);
	free(ec);
	free(rsa);
	return rv;
}

static void
test_private_keys(void)
{
	static char mixed[64];
	const struct key_case cases[] = {
	    {"PKCS#8 PEM RSA key", CERTS "server-rsa.pem",
	        CERTS "server-rsa.key", NULL, 1, 0, SSLPORT_OK},
	    {"PKCS#1 PEM RSA key", CERTS "server-rsa.pem",
	        CERTS "server-rsa-pkcs1.key", NULL, 1, 0, SSLPORT_OK},
	    {"PKCS#1 DER RSA key", CERTS "server-rsa.pem",
	        CERTS "server-rsa-key.der", NULL, 1, 1, SSLPORT_OK},
	    {"PKCS#8 DER RSA key", CERTS "server-rsa.pem",
	        CERTS "server-rsa-key-pkcs8.der", NULL, 1, 1, SSLPORT_OK},
	    {"EC key, rsa? true", CERTS "server-ecdsa-p256.pem",
	        CERTS "server-ecdsa-p256.key", NULL, 1, 0, SSLPORT_EFAIL},
	    {"EC key, rsa? false", CERTS "server-ecdsa-p256.pem",
	        CERTS "server-ecdsa-p256.key", NULL, 0, 0, SSLPORT_OK},
	    {"EC DER key, rsa? true", CERTS "server-ecdsa-p256.pem",
	        CERTS "server-ecdsa-p256-key.der", NULL, 1, 1, SSLPORT_EFAIL},
	    {"EC DER key, rsa? false", CERTS "server-ecdsa-p256.pem",
	        CERTS "server-ecdsa-p256-key.der", NULL, 0, 1, SSLPORT_OK},
	    {"Ed25519 key", CERTS "server-ed25519-chain.pem",
	        CERTS "server-ed25519.key", NULL, 0, 0, SSLPORT_OK},
	    {"EC then RSA, rsa? true", CERTS "server-rsa.pem", mixed, NULL, 1,
	        0, SSLPORT_OK},
	    {"EC then RSA, rsa? false", NULL, mixed, NULL, 0, 0, SSLPORT_OK},
	    {"EC then RSA, rsa? false, RSA chain", CERTS "server-rsa.pem",
	        mixed, NULL, 0, 0, SSLPORT_EFAIL},
	    {"EC key, RSA chain", CERTS "server-rsa.pem",
	        CERTS "server-ecdsa-p256.key", NULL, 0, 0, SSLPORT_EFAIL},
	    {"combined key and certificate", CERTS "server-rsa-combined.pem",
	        CERTS "server-rsa-combined.pem", NULL, 1, 0, SSLPORT_OK},
	    {"mismatched key", CERTS "server-dns.pem",
	        CERTS "bad-mismatched.key", NULL, 0, 0, SSLPORT_EFAIL},
	    {"missing file", NULL, CERTS "no-such.key", NULL, 1, 0,
	        SSLPORT_EFAIL},
	    {"directory", NULL, CERTS "ca-dir", NULL, 1, 0, SSLPORT_EFAIL},
	    {"no PEM", NULL, CERTS "bad-no-pem.pem", NULL, 0, 0, SSLPORT_EFAIL},
	    {"empty", NULL, CERTS "bad-empty.pem", NULL, 0, 0, SSLPORT_EFAIL},
	    {"PEM as DER", NULL, CERTS "server-rsa.key", NULL, 0, 1,
	        SSLPORT_EFAIL},
	    {"data, PEM RSA key", CERTS "server-rsa.pem", NULL,
	        CERTS "server-rsa.key", 1, 0, SSLPORT_OK},
	    {"data, EC key, rsa? false", CERTS "server-ecdsa-p256.pem", NULL,
	        CERTS "server-ecdsa-p256.key", 0, 0, SSLPORT_OK},
	    {"data, asn1? true", NULL, NULL, CERTS "server-rsa-key.der", 0, 1,
	        SSLPORT_EFAIL},
	    {"data, no key", NULL, NULL, CERTS "bad-no-pem.pem", 0, 0,
	        SSLPORT_EFAIL},
	    {"data, empty", NULL, NULL, CERTS "bad-empty.pem", 0, 0,
	        SSLPORT_EFAIL},
	};
	size_t i;

	if (make_ec_then_rsa(mixed, sizeof(mixed)) != 0) {
		FAIL("cannot write %s", mixed);
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_key_case(&cases[i]);
	unlink(mixed);
}

static void
test_chains(void)
{
	static const struct {
		const char *path;
		enum sslport_error_kind want;
	} cases[] = {
	    {CERTS "server-rsa.pem", SSLPORT_OK},
	    {CERTS "server-loopback-chain.pem", SSLPORT_OK},
	    {CERTS "server-rsa-combined.pem", SSLPORT_OK},
	    {CERTS "no-such.pem", SSLPORT_EFAIL},
	    {CERTS "bad-no-pem.pem", SSLPORT_EFAIL},
	    {CERTS "bad-empty.pem", SSLPORT_EFAIL},
	    {CERTS "bad-truncated.pem", SSLPORT_EFAIL},
	};
	struct sslport_error err;
	struct sslport_ctx *ctx;
	size_t i;
	int rv;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ctx = server_ctx(SSLPORT_PROTO_AUTO);
		rv = sslport_load_certificate_chain(ctx, cases[i].path, &err);
		want_kind(cases[i].path, rv, &err, cases[i].want);
		if (rv != 0 &&
		    strncmp(err.message,
		        "ssl-load-certificate-chain!: load failed from: \"",
		        48) != 0)
			FAIL("message: got \"%s\"", err.message);
		sslport_ctx_free(ctx);
	}
}

/* The #:private-key and #:certificate-chain forms of the constructors. */
static void
test_make_with_keys(void)
{
	static const struct {
		const char *what;
		struct sslport_key_form key;
		const char *chain;
		const char *data_file;
		enum sslport_error_kind want;
	} cases[] = {
	    {"(pem path)",
	        {.kind = SSLPORT_KEY_PEM, .path = CERTS "server-rsa.key"},
	        CERTS "server-rsa.pem", NULL, SSLPORT_OK},
	    {"(der path)",
	        {.kind = SSLPORT_KEY_DER,
	            .path = CERTS "server-rsa-key-pkcs8.der"},
	        CERTS "server-rsa.pem", NULL, SSLPORT_OK},
	    {"(pem-data bytes)", {.kind = SSLPORT_KEY_PEM_DATA},
	        CERTS "server-rsa.pem", CERTS "server-rsa.key", SSLPORT_OK},
	    {"EC key in (pem path)",
	        {.kind = SSLPORT_KEY_PEM,
	            .path = CERTS "server-ecdsa-p256.key"},
	        CERTS "server-ecdsa-p256.pem", NULL, SSLPORT_OK},
	    {"missing key",
	        {.kind = SSLPORT_KEY_PEM, .path = CERTS "no-such.key"}, NULL,
	        NULL, SSLPORT_EFAIL},
	    {"missing chain",
	        {.kind = SSLPORT_KEY_PEM, .path = CERTS "server-rsa.key"},
	        CERTS "no-such.pem", NULL, SSLPORT_EFAIL},
	    {"(pem #f)", {.kind = SSLPORT_KEY_PEM}, NULL, NULL,
	        SSLPORT_ECONTRACT},
	    {"bad kind", {.kind = (enum sslport_key_kind)7, .path = "x"}, NULL,
	        NULL, SSLPORT_ECONTRACT},
	};
	struct sslport_key_form key;
	unsigned char *data = NULL;
	struct sslport_error err;
	struct sslport_ctx *ctx;
	char what[128];
	size_t i;
	int server;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		key = cases[i].key;
		if (cases[i].data_file != NULL &&
		    read_file(cases[i].data_file, &data, &key.len) == 0)
			key.data = data;
		for (server = 0; server < 2; server++) {
			ctx = (server ? sslport_make_server_context
			              : sslport_make_client_context)(
			    SSLPORT_PROTO_AUTO, &key, cases[i].chain, &err);
			snprintf(what, sizeof(what), "%s, %s", cases[i].what,
			    server ? "server" : "client");
			want_kind(
			    what, ctx != NULL ? 0 : -1, &err, cases[i].want);
			if (ctx != NULL &&
			    SSL_CTX_check_private_key(ctx->ssl_ctx) != 1)
				FAIL("%s: key and chain do not match", what);
			sslport_ctx_free(ctx);
		}
		free(data);
		data = NULL;
	}
}

static void
test_suggested(void)
{
	struct sslport_error err;
	struct sslport_ctx *ctx = server_ctx(SSLPORT_PROTO_AUTO);

	want_kind("suggested CAs",
	    sslport_load_suggested_certificate_authorities(
	        ctx, CERTS "root-ca.pem", &err),
	    &err, SSLPORT_OK);
	want_kind("suggested CAs, missing file",
	    sslport_load_suggested_certificate_authorities(
	        ctx, CERTS "no-such.pem", &err),
	    &err, SSLPORT_EFAIL);
	want_kind("suggested CAs, a port",
	    sslport_load_suggested_certificate_authorities(&err, "x", &err),
	    &err, SSLPORT_ECONTRACT);
	sslport_ctx_free(ctx);
}

/* ---- Ciphers ----------------------------------------------------------- */

static void
test_ciphers(void)
{
	static const struct {
		const char *spec;
		enum sslport_error_kind want;
	} cases[] = {
	    {"DEFAULT", SSLPORT_OK},
	    {"ECDHE-RSA-AES128-GCM-SHA256", SSLPORT_OK},
	    {"DEFAULT:@SECLEVEL=0", SSLPORT_OK},
	    {"", SSLPORT_EFAIL},
	    {"NONE", SSLPORT_EFAIL},
	    {"junk", SSLPORT_EFAIL},
	    {"TLS_AES_128_GCM_SHA256", SSLPORT_EFAIL},
	    {NULL, SSLPORT_ECONTRACT},
	};
	struct sslport_error err;
	struct sslport_ctx *ctx = client_ctx(SSLPORT_PROTO_AUTO);
	size_t i;
	int rv;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rv = sslport_set_ciphers(ctx, cases[i].spec, &err);
		want_kind(cases[i].spec ? cases[i].spec : "NULL", rv, &err,
		    cases[i].want);
		if (rv != 0 && cases[i].want == SSLPORT_EFAIL &&
		    strcmp(err.message,
		        "ssl-set-ciphers!: setting cipher list failed") != 0)
			FAIL("message: got \"%s\"", err.message);
	}
	want_kind("ciphers on NULL", sslport_set_ciphers(NULL, "DEFAULT", &err),
	    &err, SSLPORT_ECONTRACT);
	sslport_ctx_free(ctx);
}

/* ---- Verify sources ---------------------------------------------------- */

static void
test_verify_sources(void)
{
	static const struct {
		struct sslport_source src;
		int try_;
		enum sslport_error_kind want;
	} cases[] = {
	    {{SSLPORT_SOURCE_FILE, CERTS "root-ca.pem"}, 0, SSLPORT_OK},
	    {{SSLPORT_SOURCE_DIRECTORY, CERTS "ca-dir"}, 0, SSLPORT_OK},
	    {{SSLPORT_SOURCE_FILE, CERTS "no-such.pem"}, 0, SSLPORT_EFAIL},
	    {{SSLPORT_SOURCE_FILE, CERTS "no-such.pem"}, 1, SSLPORT_OK},
	    {{SSLPORT_SOURCE_DIRECTORY, CERTS "no-such-dir"}, 0, SSLPORT_EFAIL},
	    {{SSLPORT_SOURCE_DIRECTORY, CERTS "no-such-dir"}, 1, SSLPORT_OK},
	    {{SSLPORT_SOURCE_FILE, CERTS "bad-no-pem.pem"}, 0, SSLPORT_EFAIL},
	    {{SSLPORT_SOURCE_FILE, CERTS "bad-no-pem.pem"}, 1, SSLPORT_OK},
	    {{SSLPORT_SOURCE_WIN32_STORE, "ROOT"}, 0, SSLPORT_EFAIL},
	    {{SSLPORT_SOURCE_WIN32_STORE, "ROOT"}, 1, SSLPORT_OK},
	    {{SSLPORT_SOURCE_MACOSX_KEYCHAIN, NULL}, 0, SSLPORT_EFAIL},
	    {{SSLPORT_SOURCE_MACOSX_KEYCHAIN, "/k"}, 1, SSLPORT_OK},
	    {{SSLPORT_SOURCE_FILE, NULL}, 1, SSLPORT_ECONTRACT},
	    {{(enum sslport_source_kind)9, "x"}, 1, SSLPORT_ECONTRACT},
	};
	struct sslport_error err;
	struct sslport_ctx *ctx = client_ctx(SSLPORT_PROTO_AUTO);
	char what[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "source %d %s, try %d",
		    cases[i].src.kind,
		    cases[i].src.arg ? cases[i].src.arg : "#f", cases[i].try_);
		want_kind(what,
		    sslport_load_verify_source(
		        ctx, &cases[i].src, cases[i].try_, &err),
		    &err, cases[i].want);
	}
	want_kind("roots",
	    sslport_load_verify_root_certificates(
	        ctx, CERTS "root-ca.pem", &err),
	    &err, SSLPORT_OK);
	want_kind("roots, missing",
	    sslport_load_verify_root_certificates(
	        ctx, CERTS "no-such.pem", &err),
	    &err, SSLPORT_EFAIL);
	want_kind("roots, NULL",
	    sslport_load_verify_root_certificates(
	        NULL, CERTS "root-ca.pem", &err),
	    &err, SSLPORT_ECONTRACT);
	sslport_ctx_free(ctx);
}

static int
sources_eq(const struct sslport_source *a, size_t na,
    const struct sslport_source *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (a[i].kind != b[i].kind ||
		    (a[i].arg == NULL) != (b[i].arg == NULL) ||
		    (a[i].arg != NULL && strcmp(a[i].arg, b[i].arg) != 0))
			return 0;
	return 1;
}

static void
test_default_sources(void)
{
	static const struct sslport_source set[] = {
	    {SSLPORT_SOURCE_FILE, "/a.pem"},
	    {SSLPORT_SOURCE_DIRECTORY, "/b"},
	    {SSLPORT_SOURCE_WIN32_STORE, "ROOT"},
	    {SSLPORT_SOURCE_MACOSX_KEYCHAIN, NULL},
	};
	static const struct sslport_source bad[] = {
	    {SSLPORT_SOURCE_FILE, NULL},
	};
	struct sslport_source *saved, *got;
	struct sslport_error err;
	size_t n, ngot;

	if (sslport_default_verify_sources(&saved, &n, &err) != 0) {
		FAIL("read: %s", err.message);
		return;
	}
	want_kind("set", sslport_set_default_verify_sources(set, 4, &err), &err,
	    SSLPORT_OK);
	if (sslport_default_verify_sources(&got, &ngot, &err) != 0 ||
	    !sources_eq(got, ngot, set, 4))
		FAIL("read after set: got %zu sources, want the 4 set", ngot);
	sslport_sources_free(got, ngot);
	want_kind("set bad", sslport_set_default_verify_sources(bad, 1, &err),
	    &err, SSLPORT_ECONTRACT);
	sslport_set_default_verify_sources(saved, n, &err);
	sslport_sources_free(saved, n);
}

/* ---- Handshakes in memory ---------------------------------------------- */

struct hs {
	SSL *c, *s;
	BIO *c_in, *c_out, *s_in, *s_out;
};

static void
hs_free(struct hs *h)
{
	SSL_free(h->c);
	SSL_free(h->s);
	memset(h, 0, sizeof(*h));
}

static int
hs_move(BIO *from, BIO *to)
{
	unsigned char buf[4096];
	int n, moved = 0;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0) {
		BIO_write(to, buf, n);
		moved += n;
	}
	return moved;
}

static int
hs_attach(SSL *ssl, BIO **in, BIO **out)
{
	*in = BIO_new(BIO_s_mem());
	*out = BIO_new(BIO_s_mem());
	if (*in == NULL || *out == NULL)
		return -1;
	SSL_set0_rbio(ssl, *in);
	SSL_set0_wbio(ssl, *out);
	return 0;
}

/* One handshake step and its output sent on: 1 done, 0 waits, -1 failed. */
static int
step(SSL *ssl, BIO *out, BIO *peer_in)
{
	int rv = SSL_do_handshake(ssl);

	/* Ask before moving bytes: a write to a BIO clears its retry state. */
	if (rv <= 0)
		rv = SSL_get_error(ssl, rv) == SSL_ERROR_WANT_READ ? 0 : -1;
	hs_move(out, peer_in);
	return rv;
}

/*
 * One handshake between two contexts, the client sending `sni` and the
 * ALPN list `alpn` (wire form) when given.  0 when both ends finish.
 */
static int
handshake(struct sslport_ctx *cc, struct sslport_ctx *sc, const char *sni,
    const char *alpn, struct hs *h)
{
	int i, rc = 0, rs = 0;

	memset(h, 0, sizeof(*h));
	h->c = SSL_new(cc->ssl_ctx);
	h->s = SSL_new(sc->ssl_ctx);
	if (h->c == NULL || h->s == NULL ||
	    hs_attach(h->c, &h->c_in, &h->c_out) != 0 ||
	    hs_attach(h->s, &h->s_in, &h->s_out) != 0)
		return -1;
	SSL_set_connect_state(h->c);
	SSL_set_accept_state(h->s);
	if (sni != NULL)
		SSL_set_tlsext_host_name(h->c, sni);
	if (alpn != NULL)
		SSL_set_alpn_protos(
		    h->c, (const unsigned char *)alpn, strlen(alpn));
	for (i = 0; i < 50; i++) {
		rc = step(h->c, h->c_out, h->s_in);
		rs = step(h->s, h->s_out, h->c_in);
		if (rc < 0 || rs < 0 || (rc == 1 && rs == 1))
			break;
	}
	ERR_clear_error();
	return rc == 1 && rs == 1 ? 0 : -1;
}

/* The subject of the certificate the server presented, or "". */
static void
peer_subject(SSL *ssl, char *buf, size_t size)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);

	buf[0] = '\0';
	if (cert != NULL)
		X509_NAME_oneline(X509_get_subject_name(cert), buf, (int)size);
	X509_free(cert);
}

/* ---- The secure client context ----------------------------------------- */

/* The roots are those of the sources the context was made from. */
static void
secure_handshakes(struct sslport_ctx *root_ca, struct sslport_ctx *other)
{
	static const struct {
		int other; /* use the untrusted-root context */
		const char *chain, *key;
		int ok;
	} cases[] = {
	    {0, CERTS "server-loopback-chain.pem", CERTS "server-loopback.key",
	        1},
	    {0, CERTS "server-self-signed.pem", CERTS "server-self-signed.key",
	        0},
	    {1, CERTS "server-loopback-chain.pem", CERTS "server-loopback.key",
	        0},
	};
	struct sslport_ctx *cc, *sc;
	struct hs h;
	size_t i;
	int rv;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cc = cases[i].other ? other : root_ca;
		sc = server_with(
		    SSLPORT_PROTO_AUTO, cases[i].chain, cases[i].key);
		if (cc == NULL || sc == NULL)
			FAIL("case %zu: no context", i);
		else if ((rv = handshake(cc, sc, NULL, NULL, &h)) !=
		    (cases[i].ok ? 0 : -1))
			FAIL("case %zu: got %s, want %s", i,
			    rv ? "failure" : "success",
			    cases[i].ok ? "success" : "failure");
		hs_free(&h);
		sslport_ctx_free(sc);
	}
}

static void
test_secure_cache(void)
{
	static const struct sslport_source a[] = {
	    {SSLPORT_SOURCE_FILE, CERTS "root-ca.pem"},
	};
	static const struct sslport_source b[] = {
	    {SSLPORT_SOURCE_FILE, CERTS "untrusted-root.pem"},
	};
	struct sslport_ctx *c1, *c2, *c3, *c4, *c5;
	struct sslport_source *saved;
	struct sslport_error err;
	size_t n;

	sslport_default_verify_sources(&saved, &n, &err);
	sslport_set_default_verify_sources(a, 1, &err);
	c1 = sslport_secure_client_context(&err);
	c2 =
	    sslport_make_client_context(SSLPORT_PROTO_SECURE, NULL, NULL, &err);
	if (c1 == NULL || c1 != c2)
		FAIL("same sources: got two contexts, want one");
	if (c1 != NULL &&
	    (!c1->sealed || !c1->verify_hostname ||
	        !sslport_is_client_context(c1)))
		FAIL("secure context: want sealed, hostname verification on");
	sslport_set_default_verify_sources(b, 1, &err);
	c3 = sslport_secure_client_context(&err);
	if (c3 == NULL || c3 == c1)
		FAIL("other sources: got the same context, want a new one");
	sslport_set_default_verify_sources(b, 1, &err);
	c4 = sslport_secure_client_context(&err);
	if (c4 != c3)
		FAIL("equal sources: got a new context, want the same");
	secure_handshakes(c1, c3);
	c5 = sslport_make_client_context(SSLPORT_PROTO_SECURE,
	    &(struct sslport_key_form){
	        .kind = SSLPORT_KEY_PEM, .path = CERTS "client.key"},
	    CERTS "client.pem", &err);
	if (c5 == NULL || c5 == c4 || !c5->sealed)
		FAIL("secure with a key: want a new sealed context (%s)",
		    err.message);
	sslport_ctx_free(c1);
	sslport_ctx_free(c2);
	sslport_ctx_free(c3);
	sslport_ctx_free(c4);
	sslport_ctx_free(c5);
	sslport_set_default_verify_sources(saved, n, &err);
	sslport_sources_free(saved, n);
}

/* ---- Argument checks --------------------------------------------------- */

static void
test_contracts(void)
{
	static const unsigned char long_name[256];
	struct sslport_bytes zero = {(const unsigned char *)"", 0};
	struct sslport_bytes big = {long_name, 256};
	struct sslport_bytes max = {long_name, 255};
	struct sslport_ctx *c = client_ctx(SSLPORT_PROTO_AUTO);
	struct sslport_ctx *s = server_ctx(SSLPORT_PROTO_AUTO);
	struct sslport_error err;
	size_t len = 99;

	want_kind("alpn, 0 bytes",
	    sslport_set_server_alpn(s, &zero, 1, 1, &err), &err,
	    SSLPORT_ECONTRACT);
	want_kind("alpn, 256 bytes",
	    sslport_set_server_alpn(s, &big, 1, 1, &err), &err,
	    SSLPORT_ECONTRACT);
	want_kind("alpn, 255 bytes",
	    sslport_set_server_alpn(s, &max, 1, 1, &err), &err, SSLPORT_OK);
	want_kind("alpn, empty list",
	    sslport_set_server_alpn(s, NULL, 0, 0, &err), &err, SSLPORT_OK);
	want_kind("alpn, client", sslport_set_server_alpn(c, &max, 1, 1, &err),
	    &err, SSLPORT_ECONTRACT);
	want_kind("sni, client",
	    sslport_set_server_name_identification_callback(
	        c, noop_sni, NULL, &err),
	    &err, SSLPORT_ECONTRACT);
	want_kind("sni, NULL fn",
	    sslport_set_server_name_identification_callback(
	        s, NULL, NULL, &err),
	    &err, SSLPORT_ECONTRACT);
	want_kind("dhe, client",
	    sslport_server_context_enable_dhe(c, NULL, 0, &err), &err,
	    SSLPORT_ECONTRACT);
	want_kind("ecdhe, client",
	    sslport_server_context_enable_ecdhe(c, "x", &err), &err,
	    SSLPORT_ECONTRACT);
	want_kind("keylogger, not a logger",
	    sslport_set_keylogger(c, (struct sslport_logger *)(void *)s, &err),
	    &err, SSLPORT_ECONTRACT);
	want_kind("verify hostname, NULL",
	    sslport_set_verify_hostname(NULL, 1, &err), &err,
	    SSLPORT_ECONTRACT);
	want_kind("set-verify, a logger", sslport_set_verify(&err, 1, &err),
	    &err, SSLPORT_ECONTRACT);
	want_kind("seal, NULL", sslport_seal_context(NULL, &err), &err,
	    SSLPORT_ECONTRACT);
	if (sslport_dh4096_param_bytes(&len) == NULL || len != 0)
		FAIL("dh4096 param bytes: got %zu bytes, want 0", len);
	sslport_ctx_free(c);
	sslport_ctx_free(s);
}

/* ---- Logging ----------------------------------------------------------- */

struct record {
	pthread_mutex_t lock;
	int count;
	int warnings;
	char lines[16][256];
};

static void
record_fn(void *arg, enum sslport_log_level level, const char *topic,
    const char *message, const unsigned char *data, size_t len)
{
	struct record *r = arg;

	pthread_mutex_lock(&r->lock);
	if (level == SSLPORT_LOG_WARNING)
		r->warnings++;
	if (level == SSLPORT_LOG_DEBUG &&
	    strcmp(topic, "openssl-keylogger") == 0 && r->count < 16 &&
	    len < sizeof(r->lines[0])) {
		memcpy(r->lines[r->count], data, len);
		r->lines[r->count][len] = '\0';
		r->count++;
	}
	pthread_mutex_unlock(&r->lock);
}

static void
test_dhe_warnings(void)
{
	struct record r = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct sslport_logger *logger = sslport_logger_new(record_fn, &r);
	struct sslport_ctx *s = server_ctx(SSLPORT_PROTO_AUTO);
	struct sslport_error err;

	sslport_set_process_logger(logger);
	want_kind("dhe", sslport_server_context_enable_dhe(s, "x", 1, &err),
	    &err, SSLPORT_OK);
	want_kind("ecdhe",
	    sslport_server_context_enable_ecdhe(s, "secp521r1", &err), &err,
	    SSLPORT_OK);
	sslport_set_process_logger(NULL);
	if (r.warnings != 2)
		FAIL("deprecation warnings: got %d, want 2", r.warnings);
	sslport_logger_free(logger);
	sslport_ctx_free(s);
}

static void
test_versions(void)
{
	static const struct {
		enum sslport_protocol client, server;
		const char *ciphers; /* both ends, or NULL */
		int want;            /* version, or 0: the handshake fails */
	} cases[] = {
	    {SSLPORT_PROTO_AUTO, SSLPORT_PROTO_AUTO, NULL, TLS1_3_VERSION},
	    {SSLPORT_PROTO_SECURE, SSLPORT_PROTO_SECURE, NULL, TLS1_3_VERSION},
	    {SSLPORT_PROTO_SSLV2_OR_V3, SSLPORT_PROTO_AUTO, NULL,
	        TLS1_3_VERSION},
	    {SSLPORT_PROTO_TLS12, SSLPORT_PROTO_AUTO, NULL, TLS1_2_VERSION},
	    {SSLPORT_PROTO_AUTO, SSLPORT_PROTO_TLS12, NULL, TLS1_2_VERSION},
	    {SSLPORT_PROTO_TLS13, SSLPORT_PROTO_TLS12, NULL, 0},
	    {SSLPORT_PROTO_TLS12, SSLPORT_PROTO_TLS13, NULL, 0},
	    {SSLPORT_PROTO_TLS, SSLPORT_PROTO_TLS, NULL, 0},
	    {SSLPORT_PROTO_TLS, SSLPORT_PROTO_TLS, "DEFAULT:@SECLEVEL=0",
	        TLS1_VERSION},
	    {SSLPORT_PROTO_TLS11, SSLPORT_PROTO_AUTO, "DEFAULT:@SECLEVEL=0",
	        TLS1_1_VERSION},
	    {SSLPORT_PROTO_TLS11, SSLPORT_PROTO_TLS12, "DEFAULT:@SECLEVEL=0",
	        0},
	    {SSLPORT_PROTO_SECURE, SSLPORT_PROTO_TLS11, "DEFAULT:@SECLEVEL=0",
	        0},
	};
	struct sslport_error err;
	struct sslport_ctx *cc, *sc;
	struct hs h;
	size_t i;
	int rv, got;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cc = client_ctx(SSLPORT_PROTO_AUTO);
		sslport_ctx_free(cc);
		/* 'secure's own context is sealed: use a copy of its rules. */
		cc = cases[i].client == SSLPORT_PROTO_SECURE
		    ? sslport_make_client_context(
		          SSLPORT_PROTO_TLS12, NULL, NULL, &err)
		    : client_ctx(cases[i].client);
		if (cases[i].client == SSLPORT_PROTO_SECURE && cc != NULL)
			SSL_CTX_set_max_proto_version(cc->ssl_ctx, 0);
		sc = server_with(cases[i].server, CERTS "server-rsa.pem",
		    CERTS "server-rsa.key");
		if (cc == NULL || sc == NULL)
			goto next;
		if (cases[i].ciphers != NULL &&
		    (sslport_set_ciphers(cc, cases[i].ciphers, &err) != 0 ||
		        sslport_set_ciphers(sc, cases[i].ciphers, &err) != 0))
			FAIL("ciphers: %s", err.message);
		rv = handshake(cc, sc, NULL, NULL, &h);
		got = rv == 0 ? SSL_version(h.c) : 0;
		if (got != cases[i].want)
			FAIL(
			    "%s client, %s server%s: got version %#x, want %#x",
			    sslport_protocol_name(cases[i].client),
			    sslport_protocol_name(cases[i].server),
			    cases[i].ciphers ? " at level 0" : "", got,
			    cases[i].want);
		hs_free(&h);
	next:
		sslport_ctx_free(cc);
		sslport_ctx_free(sc);
	}
}

static void
test_alpn(void)
{
	static const struct sslport_bytes h2_h11[] = {
	    {(const unsigned char *)"h2", 2},
	    {(const unsigned char *)"http/1.1", 8},
	};
	static const struct {
		const char *client; /* wire form, NULL: no ALPN */
		int allow;
		size_t nserver;
		const char *want; /* NULL: none; "!": fails */
	} cases[] = {
	    {"\x08http/1.1\x02h2", 1, 2, "h2"},
	    {"\x08http/1.1", 1, 2, "http/1.1"},
	    {"\x01x\x01y", 1, 2, NULL},
	    {"\x01x\x01y", 0, 2, "!"},
	    {NULL, 0, 2, NULL},
	    {"\x02h2", 1, 0, NULL},
	};
	const unsigned char *sel;
	unsigned int sellen;
	struct sslport_error err;
	struct sslport_ctx *cc, *sc;
	char got[300];
	struct hs h;
	size_t i;
	int rv;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cc = client_ctx(SSLPORT_PROTO_AUTO);
		sc = server_with(SSLPORT_PROTO_AUTO, CERTS "server-rsa.pem",
		    CERTS "server-rsa.key");
		if (sslport_set_server_alpn(sc, h2_h11, cases[i].nserver,
		        cases[i].allow, &err) != 0)
			FAIL("set alpn: %s", err.message);
		rv = handshake(cc, sc, NULL, cases[i].client, &h);
		sel = NULL;
		sellen = 0;
		if (rv == 0)
			SSL_get0_alpn_selected(h.c, &sel, &sellen);
		snprintf(got, sizeof(got), "%.*s", (int)sellen,
		    sel ? (const char *)sel : "");
		if (rv != 0
		        ? strcmp(cases[i].want ? cases[i].want : "", "!") != 0
		        : cases[i].want == NULL
		        ? sel != NULL
		        : strcmp(got, cases[i].want) != 0)
			FAIL("case %zu: got %s \"%s\", want \"%s\"", i,
			    rv ? "failure" : "success", got,
			    cases[i].want ? cases[i].want : "(none)");
		hs_free(&h);
		sslport_ctx_free(cc);
		sslport_ctx_free(sc);
	}
}

/* The SNI test's callback: a table of names and answers. */
struct sni_table {
	struct sslport_ctx *b;      /* answered for "b.test" */
	struct sslport_ctx *client; /* answered for "client.test" */
	int calls;
	char last[64];
};

static int
sni_fn(void *arg, const char *hostname, struct sslport_ctx **choice,
    struct sslport_error *err)
{
	struct sni_table *t = arg;

	t->calls++;
	snprintf(t->last, sizeof(t->last), "%s", hostname);
	*choice = NULL;
	if (strcmp(hostname, "b.test") == 0)
		*choice = t->b;
	else if (strcmp(hostname, "client.test") == 0)
		*choice = t->client;
	else if (strcmp(hostname, "raise.test") == 0)
		return sslport_err(err, SSLPORT_EFAIL, "sni", "raised");
	return 0;
}

static void
test_sni(void)
{
	static const struct {
		const char *sni;
		int calls;
		const char *want; /* subject served, NULL: fails */
	} cases[] = {
	    {NULL, 0, "/CN=server-rsa"},
	    {"b.test", 1, "/CN=server-ecdsa-p256"},
	    {"other.test", 1, "/CN=server-rsa"},
	    {"raise.test", 1, NULL},
	    {"client.test", 1, NULL},
	};
	struct sni_table t = {NULL, NULL, 0, ""};
	struct sslport_error err;
	struct sslport_ctx *cc, *sc;
	char subject[256];
	struct hs h;
	size_t i;
	int rv;

	t.client = client_ctx(SSLPORT_PROTO_AUTO);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cc = client_ctx(SSLPORT_PROTO_AUTO);
		sc = server_with(SSLPORT_PROTO_AUTO, CERTS "server-rsa.pem",
		    CERTS "server-rsa.key");
		t.b = server_with(SSLPORT_PROTO_AUTO,
		    CERTS "server-ecdsa-p256.pem",
		    CERTS "server-ecdsa-p256.key");
		t.calls = 0;
		if (sslport_set_server_name_identification_callback(
		        sc, sni_fn, &t, &err) != 0)
			FAIL("set sni: %s", err.message);
		rv = handshake(cc, sc, cases[i].sni, NULL, &h);
		/* The chosen context outlives its last other reference. */
		sslport_ctx_free(t.b);
		subject[0] = '\0';
		if (rv == 0)
			peer_subject(h.c, subject, sizeof(subject));
		if (cases[i].want == NULL ? rv == 0
		                          : strcmp(subject, cases[i].want) != 0)
			FAIL("sni %s: got %s \"%s\", want %s", cases[i].sni,
			    rv ? "failure" : "success", subject,
			    cases[i].want ? cases[i].want : "failure");
		if (t.calls != cases[i].calls)
			FAIL("sni %s: got %d calls, want %d", cases[i].sni,
			    t.calls, cases[i].calls);
		hs_free(&h);
		sslport_ctx_free(cc);
		sslport_ctx_free(sc);
	}
	sslport_ctx_free(t.client);
}

/* What ssl-peer-verified? answers: a certificate, and it verified. */
static int
peer_verified(SSL *ssl)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	int ok = cert != NULL && SSL_get_verify_result(ssl) == X509_V_OK;

	X509_free(cert);
	return ok;
}

/* ssl-try-verify! lets an untrusted peer through, recorded as such. */
static void
test_try_verify(void)
{
	static const struct {
		const char *what;
		int server_side;  /* verification at the server */
		int try_;         /* try-verify, else set-verify */
		const char *peer; /* the verified peer's cert and key */
		const char *peer_key;
		int ok;       /* the handshake completes */
		int verified; /* X509_V_OK at the verifier */
	} cases[] = {
	    {"client try, untrusted server", 0, 1,
	        CERTS "server-self-signed.pem", CERTS "server-self-signed.key",
	        1, 0},
	    {"client try, expired server", 0, 1, CERTS "server-expired.pem",
	        CERTS "server-expired.key", 1, 0},
	    {"client try, trusted server", 0, 1, CERTS "server-rsa.pem",
	        CERTS "server-rsa.key", 1, 1},
	    {"client set, untrusted server", 0, 0,
	        CERTS "server-self-signed.pem", CERTS "server-self-signed.key",
	        0, 0},
	    {"server try, untrusted client", 1, 1, CERTS "client-untrusted.pem",
	        CERTS "client-untrusted.key", 1, 0},
	    {"server try, trusted client", 1, 1, CERTS "client.pem",
	        CERTS "client.key", 1, 1},
	    {"server try, no client certificate", 1, 1, NULL, NULL, 1, 0},
	    {"server set, untrusted client", 1, 0, CERTS "client-untrusted.pem",
	        CERTS "client-untrusted.key", 0, 0},
	    {"server set, no client certificate", 1, 0, NULL, NULL, 0, 0},
	};
	struct sslport_key_form key = {.kind = SSLPORT_KEY_PEM};
	struct sslport_ctx *cc, *sc, *verifier;
	struct sslport_error err;
	struct hs h;
	size_t i;
	int rv, verified;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		key.path = cases[i].peer_key;
		if (cases[i].server_side) {
			cc = sslport_make_client_context(SSLPORT_PROTO_AUTO,
			    cases[i].peer ? &key : NULL, cases[i].peer, &err);
			sc = server_with(SSLPORT_PROTO_AUTO,
			    CERTS "server-rsa.pem", CERTS "server-rsa.key");
		} else {
			cc = client_ctx(SSLPORT_PROTO_AUTO);
			sc = server_with(SSLPORT_PROTO_AUTO, cases[i].peer,
			    cases[i].peer_key);
		}
		verifier = cases[i].server_side ? sc : cc;
		if (cc == NULL || sc == NULL ||
		    sslport_load_verify_root_certificates(
		        verifier, CERTS "root-ca.pem", &err) != 0 ||
		    (cases[i].try_ ? sslport_try_verify : sslport_set_verify)(
		        verifier, 1, &err) != 0) {
			FAIL("%s: setting up: %s", cases[i].what, err.message);
			goto next;
		}
		rv = handshake(cc, sc, NULL, NULL, &h);
		/* TLS 1.3: the client finishes before the server judges it. */
		if (rv == 0 && cases[i].server_side)
			SSL_read(h.s, &err, 1);
		verified =
		    rv == 0 && peer_verified(cases[i].server_side ? h.s : h.c);
		if ((rv == 0) != cases[i].ok ||
		    (rv == 0 && verified != cases[i].verified))
			FAIL("%s: got %s, verified %d; want %s, verified %d",
			    cases[i].what, rv ? "failure" : "success", verified,
			    cases[i].ok ? "success" : "failure",
			    cases[i].verified);
		hs_free(&h);
	next:
		sslport_ctx_free(cc);
		sslport_ctx_free(sc);
	}
}

/* DHE works without ssl-server-context-enable-dhe! (D.dhe.1). */
static void
test_dhe(void)
{
	struct sslport_ctx *cc = client_ctx(SSLPORT_PROTO_TLS12);
	struct sslport_ctx *sc = server_with(
	    SSLPORT_PROTO_AUTO, CERTS "server-rsa.pem", CERTS "server-rsa.key");
	struct sslport_error err;
	struct hs h;

	if (sslport_set_ciphers(cc, "DHE-RSA-AES128-GCM-SHA256", &err) != 0)
		FAIL("ciphers: %s", err.message);
	if (handshake(cc, sc, NULL, NULL, &h) != 0)
		FAIL("DHE-only client: got failure, want success");
	hs_free(&h);
	sslport_ctx_free(cc);
	sslport_ctx_free(sc);
}

static int
has_label(const struct record *r, const char *label)
{
	size_t n = strlen(label);
	int i, count = 0;

	for (i = 0; i < r->count; i++)
		if (strncmp(r->lines[i], label, n) == 0 &&
		    r->lines[i][n] == ' ')
			count++;
	return count;
}

/*
 * OpenSSL formats key-log lines only for a context with the callback:
 * one whose lines nobody reads (no keylogger, no SSLKEYLOGFILE) must not
 * have it, or every handshake pays for the formatting.
 */
static void
want_keylog_callback(const char *what, struct sslport_ctx *ctx, int want)
{
	int got = SSL_CTX_get_keylog_callback(ctx->ssl_ctx) != NULL;

	if (getenv("SSLKEYLOGFILE") == NULL && got != want)
		FAIL("%s: key-log callback %s, want %s", what,
		    got ? "set" : "unset", want ? "set" : "unset");
}

static void
test_keylogger(void)
{
	static const char *const tls13[] = {
	    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	    "CLIENT_TRAFFIC_SECRET_0",
	    "SERVER_TRAFFIC_SECRET_0",
	};
	struct record r = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct sslport_logger *logger = sslport_logger_new(record_fn, &r);
	struct sslport_ctx *cc, *sc;
	struct sslport_error err;
	struct hs h;
	size_t i;

	cc = client_ctx(SSLPORT_PROTO_AUTO);
	sc = server_with(
	    SSLPORT_PROTO_AUTO, CERTS "server-rsa.pem", CERTS "server-rsa.key");
	want_kind("set keylogger", sslport_set_keylogger(sc, logger, &err),
	    &err, SSLPORT_OK);
	want_keylog_callback("client, no keylogger", cc, 0);
	want_keylog_callback("server, keylogger", sc, 1);
	handshake(cc, sc, NULL, NULL, &h);
	hs_free(&h);
	for (i = 0; i < sizeof(tls13) / sizeof(tls13[0]); i++)
		if (has_label(&r, tls13[i]) != 1)
			FAIL("TLS 1.3: %s logged %d times, want once", tls13[i],
			    has_label(&r, tls13[i]));
	if (r.count > 0 && strlen(r.lines[0]) < 64 + 64)
		FAIL("line too short: \"%s\"", r.lines[0]);
	sslport_ctx_free(cc);
	cc = client_ctx(SSLPORT_PROTO_TLS12);
	r.count = 0;
	handshake(cc, sc, NULL, NULL, &h);
	hs_free(&h);
	if (r.count != 1 || has_label(&r, "CLIENT_RANDOM") != 1 ||
	    strlen(r.lines[0]) != 13 + 1 + 64 + 1 + 96)
		FAIL("TLS 1.2: got %d lines (\"%s\"), want one CLIENT_RANDOM",
		    r.count, r.count ? r.lines[0] : "");
	want_kind("unset keylogger", sslport_set_keylogger(sc, NULL, &err),
	    &err, SSLPORT_OK);
	want_keylog_callback("server, keylogger #f", sc, 0);
	r.count = 0;
	handshake(cc, sc, NULL, NULL, &h);
	hs_free(&h);
	if (r.count != 0)
		FAIL("after #f: got %d lines, want 0", r.count);
	sslport_logger_free(logger);
	sslport_ctx_free(cc);
	sslport_ctx_free(sc);
}

int
main(void)
{
	if (!sslport_available()) {
		printf("SKIP: OpenSSL is not available (%s)\n",
		    sslport_load_fail_reason());
		return 0;
	}
	test_protocol_names();
	test_supported();
	test_make();
	test_settings();
	test_seal();
	test_seal_default_empty();
	test_private_keys();
	test_chains();
	test_make_with_keys();
	test_suggested();
	test_ciphers();
	test_verify_sources();
	test_default_sources();
	test_secure_cache();
	test_contracts();
	test_dhe_warnings();
	test_versions();
	test_alpn();
	test_sni();
	test_try_verify();
	test_dhe();
	test_keylogger();
	if (failures > 0) {
		printf("test_context: %d failures\n", failures);
		return 1;
	}
	printf("test_context: ok\n");
	return 0;
}
