/*
 * ops_context.c: the context bindings (documented sections 1, 2, 4 and
 * the verification settings of section 5): making contexts, protocol
 * lists, verify sources and their parameter, keys and chains, seal,
 * ciphers, DHE, SNI, server ALPN, keylogger, set-verify!/try-verify!.
 *
 * Arguments are decoded here and checked as far as their encoding goes;
 * the library checks what it can see (a client context given where a
 * server context is needed, a sealed context) and names the binding.
 */
#include <stdlib.h>
#include <string.h>

#include "shim.h"

#define CTX_EXPECTED "(or/c ssl-client-context? ssl-server-context?)"
#define CTX_OR_LISTENER_EXPECTED                                               \
	"(or/c ssl-client-context? ssl-server-context? ssl-listener?)"
#define CLP_EXPECTED                                                           \
	"(or/c ssl-client-context? ssl-server-context? ssl-listener?\n"        \
	"        ssl-port?)"
#define PROTO_EXPECTED "ssl-protocol-symbol/c"
#define KEY_FORM_EXPECTED                                                      \
	"(or/c (list/c 'pem path-string?) (list/c 'pem-data bytes?)\n"         \
	"        (list/c 'der path-string?) #f)"
#define KEY_SOURCE_EXPECTED "(or/c path-string? (list/c 'data bytes?))"
#define SOURCE_EXPECTED                                                        \
	"(or/c path-string? (list/c 'directory path-string?)\n"                \
	"        (list/c 'win32-store string?)\n"                              \
	"        (list/c 'macosx-keychain (or/c #f path-string?)))"
#define ALPN_EXPECTED "(listof (bytes-length/c 1 255))"

/* ---- Decoding arguments ------------------------------------------------ */

/* A path string: a non-empty string without NUL characters. */
static const char *
path_value(json_t *v)
{
	const char *s = json_string_value(v);

	if (s == NULL || *s == '\0' || strlen(s) != json_string_length(v))
		return NULL;
	return s;
}

static const char *
path_arg(struct shim_req *req, json_t *v, struct sslport_error *err)
{
	const char *s = path_value(v);

	if (s == NULL)
		shim_contract(err, shim_op_name(req), "path-string?");
	return s;
}

/* Refuses keywords other than `names` (NULL-terminated). */
static int
kw_only(struct shim_req *req, json_t *kw, const char *const *names,
    struct sslport_error *err)
{
	const char *key;
	json_t *value;
	size_t i;

	if (!json_is_object(kw))
		return 0;
	json_object_foreach(kw, key, value)
	{
		for (i = 0; names != NULL && names[i] != NULL; i++)
			if (strcmp(key, names[i]) == 0)
				break;
		if (names == NULL || names[i] == NULL)
			return shim_fail(err, SSLPORT_ECONTRACT,
			    shim_op_name(req),
			    "application: procedure does "
			    "not expect an argument with given keyword\n  "
			    "given keyword: #:%s",
			    key);
	}
	return 0;
}

/* Positional argument count, and no keyword. */
static int
plain_args(struct shim_req *req, json_t *args, json_t *kw, size_t min,
    size_t max, struct sslport_error *err)
{
	if (kw_only(req, kw, NULL, err) < 0)
		return -1;
	return shim_argc(req, args, min, max, err);
}

static struct sslport_ctx *
ctx_arg(struct shim_req *req, json_t *v, struct sslport_error *err)
{
	return shim_arg_object(req, v, SHIM_CTX, CTX_EXPECTED, err);
}

/* Any handle of the given types, as the library's `void *` argument. */
static void *
object_of(struct shim_req *req, json_t *v, int allow_port, const char *expected,
    struct sslport_error *err)
{
	enum shim_type type;
	void *obj = shim_arg_any(req, v, &type);

	if (obj != NULL &&
	    (type == SHIM_CTX || type == SHIM_LISTENER ||
	        (allow_port && type == SHIM_PORT)))
		return obj;
	shim_contract(err, shim_op_name(req), expected);
	return NULL;
}

/* An absent protocol is 'auto. */
static int
proto_arg(struct shim_req *req, json_t *v, enum sslport_protocol *out,
    struct sslport_error *err)
{
	*out = SSLPORT_PROTO_AUTO;
	if (v == NULL || sslport_protocol_from_name(shim_symbol(v), out) == 0)
		return 0;
	return shim_contract(err, shim_op_name(req), PROTO_EXPECTED);
}

/* #:private-key: (pem path), (pem-data bytes), (der path) or #f. */
static int
key_form_kw(struct shim_req *req, json_t *v, struct sslport_key_form *form,
    int *given, struct sslport_error *err)
{
	const char *kind;
	json_t *arg;

	*given = 0;
	if (v == NULL || json_is_false(v))
		return 0;
	kind =
	    json_array_size(v) == 2 ? shim_symbol(json_array_get(v, 0)) : NULL;
	arg = json_array_get(v, 1);
	memset(form, 0, sizeof(*form));
	*given = 1;
	if (kind != NULL && strcmp(kind, "pem-data") == 0) {
		form->kind = SSLPORT_KEY_PEM_DATA;
		return shim_arg_bytes(
		    req, arg, &form->data, &form->len, KEY_FORM_EXPECTED, err);
	}
	form->kind = kind != NULL && strcmp(kind, "der") == 0 ? SSLPORT_KEY_DER
	                                                      : SSLPORT_KEY_PEM;
	form->path = path_value(arg);
	if (kind == NULL ||
	    (strcmp(kind, "pem") != 0 && strcmp(kind, "der") != 0) ||
	    form->path == NULL)
		return shim_contract(err, shim_op_name(req), KEY_FORM_EXPECTED);
	return 0;
}

/* #:certificate-chain: a path or #f. */
static int
chain_kw(struct shim_req *req, json_t *v, const char **chain,
    struct sslport_error *err)
{
	*chain = NULL;
	if (v == NULL || json_is_false(v))
		return 0;
	*chain = path_arg(req, v, err);
	return *chain != NULL ? 0 : -1;
}

/* ---- Verify sources as values ------------------------------------------ */

static int
source_decode(json_t *v, struct sslport_source *src)
{
	const char *kind;
	json_t *arg;

	if ((src->arg = path_value(v)) != NULL) {
		src->kind = SSLPORT_SOURCE_FILE;
		return 0;
	}
	if (json_array_size(v) != 2 ||
	    (kind = shim_symbol(json_array_get(v, 0))) == NULL)
		return -1;
	arg = json_array_get(v, 1);
	if (strcmp(kind, "directory") == 0) {
		src->kind = SSLPORT_SOURCE_DIRECTORY;
		src->arg = path_value(arg);
	} else if (strcmp(kind, "win32-store") == 0) {
		src->kind = SSLPORT_SOURCE_WIN32_STORE;
		src->arg = json_string_value(arg);
	} else if (strcmp(kind, "macosx-keychain") == 0) {
		src->kind = SSLPORT_SOURCE_MACOSX_KEYCHAIN;
		src->arg = path_value(arg);
		return src->arg != NULL || json_is_false(arg) ? 0 : -1;
	} else {
		return -1;
	}
	return src->arg != NULL ? 0 : -1;
}

static json_t *
source_encode(const struct sslport_source *src)
{
	static const char *const kinds[] = {
	    [SSLPORT_SOURCE_DIRECTORY] = "directory",
	    [SSLPORT_SOURCE_WIN32_STORE] = "win32-store",
	    [SSLPORT_SOURCE_MACOSX_KEYCHAIN] = "macosx-keychain",
	};

	if (src->kind == SSLPORT_SOURCE_FILE)
		return json_string(src->arg);
	return json_pack("[o,o]", shim_sym(kinds[src->kind]),
	    src->arg != NULL ? json_string(src->arg) : json_false());
}

/* ---- Making contexts --------------------------------------------------- */

static int
make_context(struct shim_req *req, json_t *args, json_t *kw, int server,
    json_t **result, struct sslport_error *err)
{
	static const char *const kws[] = {
	    "private-key", "certificate-chain", NULL};
	struct sslport_key_form form;
	enum sslport_protocol proto;
	struct sslport_ctx *ctx;
	const char *chain;
	int has_key;

	if (kw_only(req, kw, kws, err) < 0 ||
	    shim_argc(req, args, 0, 1, err) < 0 ||
	    proto_arg(req, shim_arg(args, 0), &proto, err) < 0 ||
	    key_form_kw(req, shim_kw(kw, "private-key"), &form, &has_key, err) <
	        0 ||
	    chain_kw(req, shim_kw(kw, "certificate-chain"), &chain, err) < 0)
		return -1;
	ctx = server ? sslport_make_server_context(
	                   proto, has_key ? &form : NULL, chain, err)
	             : sslport_make_client_context(
	                   proto, has_key ? &form : NULL, chain, err);
	if (ctx == NULL)
		return -1;
	*result = shim_handle(req, SHIM_CTX, ctx);
	return 0;
}

static int
op_make_client_context(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return make_context(req, args, kw, 0, result, err);
}

static int
op_make_server_context(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return make_context(req, args, kw, 1, result, err);
}

static int
op_secure_client_context(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct sslport_ctx *ctx;

	if (plain_args(req, args, kw, 0, 0, err) < 0)
		return -1;
	ctx = sslport_secure_client_context(err);
	if (ctx == NULL)
		return -1;
	*result = shim_handle(req, SHIM_CTX, ctx);
	return 0;
}

/* A predicate on any value: what is not a context handle answers #f. */
static int
context_predicate(struct shim_req *req, json_t *args, json_t *kw,
    int (*pred)(const void *), json_t **result, struct sslport_error *err)
{
	enum shim_type type;
	void *obj;

	if (plain_args(req, args, kw, 1, 1, err) < 0)
		return -1;
	obj = shim_arg_any(req, shim_arg(args, 0), &type);
	*result = shim_bool(obj != NULL && type == SHIM_CTX && pred(obj));
	return 0;
}

static int
op_is_client_context(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return context_predicate(
	    req, args, kw, sslport_is_client_context, result, err);
}

static int
op_is_server_context(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return context_predicate(
	    req, args, kw, sslport_is_server_context, result, err);
}

/* ---- Protocol lists ---------------------------------------------------- */

static int
protocols(struct shim_req *req, json_t *args, json_t *kw,
    size_t (*list)(enum sslport_protocol *), json_t **result,
    struct sslport_error *err)
{
	enum sslport_protocol protos[SSLPORT_PROTO_COUNT];
	size_t i, n;

	if (plain_args(req, args, kw, 0, 0, err) < 0)
		return -1;
	n = list(protos);
	*result = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(
		    *result, shim_sym(sslport_protocol_name(protos[i])));
	return 0;
}

static int
op_supported_client_protocols(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return protocols(
	    req, args, kw, sslport_supported_client_protocols, result, err);
}

static int
op_supported_server_protocols(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return protocols(
	    req, args, kw, sslport_supported_server_protocols, result, err);
}

static int
max_protocol(struct shim_req *req, json_t *args, json_t *kw,
    int (*max)(enum sslport_protocol *), json_t **result,
    struct sslport_error *err)
{
	enum sslport_protocol proto;

	if (plain_args(req, args, kw, 0, 0, err) < 0)
		return -1;
	*result = max(&proto) == 0 ? shim_sym(sslport_protocol_name(proto))
	                           : json_false();
	return 0;
}

static int
op_max_client_protocol(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return max_protocol(
	    req, args, kw, sslport_max_client_protocol, result, err);
}

static int
op_max_server_protocol(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return max_protocol(
	    req, args, kw, sslport_max_server_protocol, result, err);
}

/* ---- Verify sources ---------------------------------------------------- */

static int
op_load_verify_source(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	static const char *const kws[] = {"try?", NULL};
	struct sslport_source src;
	struct sslport_ctx *ctx;

	if (kw_only(req, kw, kws, err) < 0 ||
	    shim_argc(req, args, 2, 2, err) < 0 ||
	    (ctx = ctx_arg(req, shim_arg(args, 0), err)) == NULL)
		return -1;
	if (source_decode(shim_arg(args, 1), &src) != 0)
		return shim_contract(err, shim_op_name(req), SOURCE_EXPECTED);
	if (sslport_load_verify_source(
	        ctx, &src, shim_truthy(shim_kw(kw, "try?")), err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
read_default_sources(json_t **result, struct sslport_error *err)
{
	struct sslport_source *srcs;
	size_t i, n;

	if (sslport_default_verify_sources(&srcs, &n, err) < 0)
		return -1;
	*result = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(*result, source_encode(&srcs[i]));
	sslport_sources_free(srcs, n);
	return 0;
}

static int
set_default_sources(
    struct shim_req *req, json_t *list, struct sslport_error *err)
{
	struct sslport_source *srcs;
	size_t i, n = json_array_size(list);

	srcs = shim_req_alloc(req, (n + 1) * sizeof(*srcs));
	if (srcs == NULL)
		return shim_fail(
		    err, SSLPORT_EFAIL, shim_op_name(req), "out of memory");
	for (i = 0; i < n; i++)
		if (source_decode(json_array_get(list, i), &srcs[i]) != 0)
			break;
	if (!json_is_array(list) || i < n)
		return shim_contract(
		    err, shim_op_name(req), "(listof " SOURCE_EXPECTED ")");
	return sslport_set_default_verify_sources(srcs, n, err);
}

/* A parameter: no argument reads it, one sets it for the whole shim. */
static int
op_default_verify_sources(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	int n = plain_args(req, args, kw, 0, 1, err);

	if (n < 0)
		return -1;
	if (n == 0)
		return read_default_sources(result, err);
	if (set_default_sources(req, shim_arg(args, 0), err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
op_load_default_verify_sources(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct sslport_ctx *ctx;

	if (plain_args(req, args, kw, 1, 1, err) < 0 ||
	    (ctx = ctx_arg(req, shim_arg(args, 0), err)) == NULL ||
	    sslport_load_default_verify_sources(ctx, err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

/* ---- Loading from a path into a context or listener -------------------- */

typedef int (*path_loader)(void *, const char *, struct sslport_error *);

static int
load_path(struct shim_req *req, json_t *args, json_t *kw, path_loader load,
    json_t **result, struct sslport_error *err)
{
	const char *path;
	void *obj;

	if (plain_args(req, args, kw, 2, 2, err) < 0 ||
	    (obj = object_of(req, shim_arg(args, 0), 0,
	         CTX_OR_LISTENER_EXPECTED, err)) == NULL ||
	    (path = path_arg(req, shim_arg(args, 1), err)) == NULL ||
	    load(obj, path, err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
op_load_verify_root_certificates(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return load_path(
	    req, args, kw, sslport_load_verify_root_certificates, result, err);
}

static int
op_load_certificate_chain(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return load_path(
	    req, args, kw, sslport_load_certificate_chain, result, err);
}

static int
op_load_suggested_cas(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return load_path(req, args, kw,
	    sslport_load_suggested_certificate_authorities, result, err);
}

/* A path, or (data bytes). */
static int
key_source_arg(struct shim_req *req, json_t *v, struct sslport_key_source *src,
    struct sslport_error *err)
{
	const char *kind;

	memset(src, 0, sizeof(*src));
	if ((src->path = path_value(v)) != NULL)
		return 0;
	kind =
	    json_array_size(v) == 2 ? shim_symbol(json_array_get(v, 0)) : NULL;
	if (kind == NULL || strcmp(kind, "data") != 0)
		return shim_contract(
		    err, shim_op_name(req), KEY_SOURCE_EXPECTED);
	return shim_arg_bytes(req, json_array_get(v, 1), &src->data, &src->len,
	    KEY_SOURCE_EXPECTED, err);
}

static int
op_load_private_key(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct sslport_key_source src;
	json_t *rsa, *asn1;
	void *obj;
	int n;

	if ((n = plain_args(req, args, kw, 2, 4, err)) < 0 ||
	    (obj = object_of(req, shim_arg(args, 0), 0,
	         CTX_OR_LISTENER_EXPECTED, err)) == NULL ||
	    key_source_arg(req, shim_arg(args, 1), &src, err) < 0)
		return -1;
	rsa = shim_arg(args, 2);
	asn1 = shim_arg(args, 3);
	if (sslport_load_private_key(obj, &src, rsa == NULL || shim_truthy(rsa),
	        shim_truthy(asn1), err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

/* ---- Seal and ciphers -------------------------------------------------- */

static int
op_seal_context(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_ctx *ctx;

	if (plain_args(req, args, kw, 1, 1, err) < 0 ||
	    (ctx = ctx_arg(req, shim_arg(args, 0), err)) == NULL ||
	    sslport_seal_context(ctx, err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
op_set_ciphers(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_ctx *ctx;
	const char *spec;

	if (plain_args(req, args, kw, 2, 2, err) < 0 ||
	    (ctx = ctx_arg(req, shim_arg(args, 0), err)) == NULL ||
	    (spec = shim_arg_string(req, shim_arg(args, 1), "string?", err)) ==
	        NULL ||
	    sslport_set_ciphers(ctx, spec, err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

/* ---- Deprecated DHE and ECDHE ------------------------------------------ */

static int
op_enable_dhe(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	const unsigned char *data = NULL;
	struct sslport_ctx *ctx;
	size_t len = 0;
	json_t *param;

	if (plain_args(req, args, kw, 1, 2, err) < 0 ||
	    (ctx = shim_arg_object(req, shim_arg(args, 0), SHIM_CTX,
	         "ssl-server-context?", err)) == NULL)
		return -1;
	param = shim_arg(args, 1);
	if (param != NULL && path_value(param) == NULL &&
	    shim_arg_bytes(
	        req, param, &data, &len, "(or/c path-string? bytes?)", err) < 0)
		return -1;
	if (sslport_server_context_enable_dhe(ctx,
	        param == NULL      ? NULL
	            : data != NULL ? (const void *)data
	                           : path_value(param),
	        len, err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
op_enable_ecdhe(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_ctx *ctx;
	const char *curve = NULL;

	if (plain_args(req, args, kw, 1, 2, err) < 0 ||
	    (ctx = shim_arg_object(req, shim_arg(args, 0), SHIM_CTX,
	         "ssl-server-context?", err)) == NULL)
		return -1;
	if (shim_arg(args, 1) != NULL &&
	    (curve = shim_symbol(shim_arg(args, 1))) == NULL)
		return shim_contract(err, shim_op_name(req), "symbol?");
	if (sslport_server_context_enable_ecdhe(ctx, curve, err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

/* ---- SNI, ALPN, keylogger ---------------------------------------------- */

/*
 * The context keeps the callback's state until the shim exits, even if
 * its handle is released: a handshake may still call it.
 */
static int
op_set_sni_callback(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct sslport_ctx *ctx;
	struct shim_sni *sni;
	void *token;

	if (plain_args(req, args, kw, 2, 2, err) < 0 ||
	    (ctx = shim_arg_object(req, shim_arg(args, 0), SHIM_CTX,
	         "ssl-server-context?", err)) == NULL)
		return -1;
	sni = shim_keep(shim_arg(args, 1), SHIM_SNI, &token);
	if (sni == NULL)
		return shim_contract(err, shim_op_name(req),
		    "(string? . -> . (or/c ssl-server-context? #f))");
	if (sslport_set_server_name_identification_callback(
	        ctx, shim_sni_call, sni, err) < 0) {
		shim_unkeep(token);
		return -1;
	}
	*result = shim_void();
	return 0;
}

static int
alpn_list(struct shim_req *req, json_t *v, struct sslport_bytes **out,
    size_t *n, struct sslport_error *err)
{
	size_t i;

	*n = json_array_size(v);
	*out = shim_req_alloc(req, (*n + 1) * sizeof(**out));
	if (!json_is_array(v) || *out == NULL)
		return shim_contract(err, shim_op_name(req), ALPN_EXPECTED);
	for (i = 0; i < *n; i++)
		if (shim_arg_bytes(req, json_array_get(v, i), &(*out)[i].data,
		        &(*out)[i].len, ALPN_EXPECTED, err) < 0)
			return -1;
	return 0;
}

static int
op_set_server_alpn(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct sslport_bytes *protos;
	struct sslport_ctx *ctx;
	json_t *allow;
	size_t n;

	if (plain_args(req, args, kw, 2, 3, err) < 0 ||
	    (ctx = shim_arg_object(req, shim_arg(args, 0), SHIM_CTX,
	         "ssl-server-context?", err)) == NULL ||
	    alpn_list(req, shim_arg(args, 1), &protos, &n, err) < 0)
		return -1;
	allow = shim_arg(args, 2);
	if (allow != NULL && !json_is_boolean(allow))
		return shim_contract(err, shim_op_name(req), "boolean?");
	if (sslport_set_server_alpn(
	        ctx, protos, n, allow == NULL || json_is_true(allow), err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

/* As with SNI, the logger outlives a release of its handle. */
static int
op_set_keylogger(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct shim_logger *sl = NULL;
	struct sslport_ctx *ctx;
	void *token = NULL;
	json_t *v;

	if (plain_args(req, args, kw, 2, 2, err) < 0 ||
	    (ctx = ctx_arg(req, shim_arg(args, 0), err)) == NULL)
		return -1;
	v = shim_arg(args, 1);
	if (!json_is_false(v) &&
	    (sl = shim_keep(v, SHIM_LOGGER, &token)) == NULL)
		return shim_contract(
		    err, shim_op_name(req), "(or/c #f logger?)");
	if (sslport_set_keylogger(ctx, sl != NULL ? sl->logger : NULL, err) <
	    0) {
		shim_unkeep(token);
		return -1;
	}
	*result = shim_void();
	return 0;
}

/* ---- Verification settings --------------------------------------------- */

static int
verify_setting(struct shim_req *req, json_t *args, json_t *kw,
    int (*set)(void *, int, struct sslport_error *), json_t **result,
    struct sslport_error *err)
{
	void *obj;

	if (plain_args(req, args, kw, 2, 2, err) < 0 ||
	    (obj = object_of(req, shim_arg(args, 0), 1, CLP_EXPECTED, err)) ==
	        NULL ||
	    set(obj, shim_truthy(shim_arg(args, 1)), err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
op_set_verify(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	return verify_setting(req, args, kw, sslport_set_verify, result, err);
}

static int
op_try_verify(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	return verify_setting(req, args, kw, sslport_try_verify, result, err);
}

static int
op_set_verify_hostname(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct sslport_ctx *ctx;

	if (plain_args(req, args, kw, 2, 2, err) < 0 ||
	    (ctx = ctx_arg(req, shim_arg(args, 0), err)) == NULL ||
	    sslport_set_verify_hostname(
	        ctx, shim_truthy(shim_arg(args, 1)), err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

const struct shim_op shim_ops_context[] = {
    {"ssl-make-client-context", op_make_client_context},
    {"ssl-make-server-context", op_make_server_context},
    {"ssl-secure-client-context", op_secure_client_context},
    {"ssl-client-context?", op_is_client_context},
    {"ssl-server-context?", op_is_server_context},
    {"supported-client-protocols", op_supported_client_protocols},
    {"supported-server-protocols", op_supported_server_protocols},
    {"ssl-max-client-protocol", op_max_client_protocol},
    {"ssl-max-server-protocol", op_max_server_protocol},
    {"ssl-load-verify-source!", op_load_verify_source},
    {"ssl-default-verify-sources", op_default_verify_sources},
    {"ssl-load-default-verify-sources!", op_load_default_verify_sources},
    {"ssl-load-verify-root-certificates!", op_load_verify_root_certificates},
    {"ssl-set-ciphers!", op_set_ciphers},
    {"ssl-seal-context!", op_seal_context},
    {"ssl-load-certificate-chain!", op_load_certificate_chain},
    {"ssl-load-private-key!", op_load_private_key},
    {"ssl-load-suggested-certificate-authorities!", op_load_suggested_cas},
    {"ssl-server-context-enable-dhe!", op_enable_dhe},
    {"ssl-server-context-enable-ecdhe!", op_enable_ecdhe},
    {"ssl-set-server-name-identification-callback!", op_set_sni_callback},
    {"ssl-set-server-alpn!", op_set_server_alpn},
    {"ssl-set-keylogger!", op_set_keylogger},
    {"ssl-set-verify!", op_set_verify}, {"ssl-try-verify!", op_try_verify},
    {"ssl-set-verify-hostname!", op_set_verify_hostname}, {NULL, NULL}};
