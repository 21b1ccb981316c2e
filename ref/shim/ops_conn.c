/*
 * ops_conn.c: the ops of connections (spec/rpc.md; bindings.md sections
 * 1, 2, 3 and 5): connecting, listening and accepting, ports->ssl-ports,
 * what a connection knows about its peer, channel bindings; and the
 * suite's plain TCP ops (tcp.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "shim_tcp.h"

/* ---- Arguments -------------------------------------------------------- */

/* Refuses keywords other than `names` (NULL-terminated, may be NULL). */
static int
kw_allow(struct shim_req *req, json_t *kw, const char *const *names,
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

static int
plain_args(struct shim_req *req, json_t *args, json_t *kw, size_t min,
    size_t max, struct sslport_error *err)
{
	if (kw_allow(req, kw, NULL, err) < 0)
		return -1;
	return shim_argc(req, args, min, max, err);
}

/*
 * The library object (port, context or listener) behind a handle, for
 * an argument the library checks itself; NULL for anything else, which
 * the library then refuses with its own contract error.
 */
static void *
lib_object(struct shim_req *req, json_t *v)
{
	enum shim_type type = 0;
	void *obj = shim_arg_any(req, v, &type);

	if (type == SHIM_PORT || type == SHIM_CTX || type == SHIM_LISTENER)
		return obj;
	return NULL;
}

/* A protocol symbol or a context; an absent one is 'auto. */
static int
proto_or_ctx(struct shim_req *req, json_t *v, enum sslport_protocol *proto,
    struct sslport_ctx **ctx, const char *expected, struct sslport_error *err)
{
	enum shim_type type = 0;
	void *obj;

	*proto = SSLPORT_PROTO_AUTO;
	*ctx = NULL;
	if (v == NULL || sslport_protocol_from_name(shim_symbol(v), proto) == 0)
		return 0;
	obj = shim_arg_any(req, v, &type);
	if (obj != NULL && type == SHIM_CTX) {
		*ctx = obj;
		return 0;
	}
	return shim_contract(err, shim_op_name(req), expected);
}

/* #:alpn: a list of byte strings; lengths are the library's to check. */
static int
alpn_kw(struct shim_req *req, json_t *v, const struct sslport_bytes **out,
    size_t *n, struct sslport_error *err)
{
	struct sslport_bytes *list;
	size_t i;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return shim_contract(err, shim_op_name(req), "(listof bytes?)");
	list = shim_req_alloc(req, (json_array_size(v) + 1) * sizeof(*list));
	if (list == NULL)
		return shim_fail(
		    err, SSLPORT_EFAIL, shim_op_name(req), "out of memory");
	for (i = 0; i < json_array_size(v); i++)
		if (shim_arg_bytes(req, json_array_get(v, i), &list[i].data,
		        &list[i].len, "(listof bytes?)", err) < 0)
			return -1;
	*out = list;
	*n = i;
	return 0;
}

/* Two new ports as two values; the shim takes our references. */
static int
two_ports(struct shim_req *req, struct sslport_port *in,
    struct sslport_port *out, json_t **result)
{
	*result = json_pack("[o,o]", shim_handle(req, SHIM_PORT, in),
	    shim_handle(req, SHIM_PORT, out));
	shim_values(req);
	return 0;
}

/* ---- Client ----------------------------------------------------------- */

static int
connect_op(struct shim_req *req, json_t *args, json_t *kw, int brk,
    json_t **result, struct sslport_error *err)
{
	static const char *const kws[] = {"alpn", NULL};
	const struct sslport_bytes *alpn;
	struct sslport_port *in, *out;
	enum sslport_protocol proto;
	struct sslport_ctx *ctx;
	const char *host;
	long long port;
	size_t nalpn;
	int r;

	if (kw_allow(req, kw, kws, err) < 0 ||
	    shim_argc(req, args, 2, 3, err) < 0)
		return -1;
	if ((host = shim_arg_string(req, shim_arg(args, 0), "string?", err)) ==
	        NULL ||
	    shim_arg_int(req, shim_arg(args, 1), 1, 65535, &port,
	        "(integer-in 1 65535)", err) < 0)
		return -1;
	if (proto_or_ctx(req, shim_arg(args, 2), &proto, &ctx,
	        "(or/c ssl-client-context? ssl-protocol-symbol/c)", err) < 0 ||
	    alpn_kw(req, shim_kw(kw, "alpn"), &alpn, &nalpn, err) < 0)
		return -1;
	if (brk)
		r = sslport_connect_enable_break(host, (int)port, ctx, proto,
		    alpn, nalpn, shim_req_break(req), &in, &out, err);
	else
		r = sslport_connect(
		    host, (int)port, ctx, proto, alpn, nalpn, &in, &out, err);
	return r < 0 ? -1 : two_ports(req, in, out, result);
}

static int
op_connect(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	return connect_op(req, args, kw, 0, result, err);
}

static int
op_connect_enable_break(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return connect_op(req, args, kw, 1, result, err);
}

/* ---- Server ----------------------------------------------------------- */

static int
op_listen(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_listener *l;
	enum sslport_protocol proto;
	struct sslport_ctx *ctx;
	const char *host = NULL;
	long long port, backlog = 5;
	json_t *h;

	if (plain_args(req, args, kw, 1, 5, err) < 0 ||
	    shim_arg_int(req, shim_arg(args, 0), 0, 65535, &port,
	        "listen-port-number?", err) < 0)
		return -1;
	if (shim_arg(args, 1) != NULL &&
	    shim_arg_int(req, shim_arg(args, 1), 0, INT_MAX, &backlog,
	        "exact-nonnegative-integer?", err) < 0)
		return -1;
	h = shim_arg(args, 3);
	if (h != NULL && !json_is_false(h) &&
	    (host = shim_arg_string(req, h, "(or/c string? #f)", err)) == NULL)
		return -1;
	if (proto_or_ctx(req, shim_arg(args, 4), &proto, &ctx,
	        "(or/c ssl-server-context? ssl-protocol-symbol/c)", err) < 0)
		return -1;
	l = sslport_listen((int)port, (int)backlog,
	    shim_truthy(shim_arg(args, 2)), host, ctx, proto, err);
	if (l == NULL)
		return -1;
	*result = shim_handle(req, SHIM_LISTENER, l);
	return 0;
}

static int
op_close(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	if (plain_args(req, args, kw, 1, 1, err) < 0 ||
	    sslport_close(lib_object(req, shim_arg(args, 0)), err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
op_is_listener(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	if (plain_args(req, args, kw, 1, 1, err) < 0)
		return -1;
	*result =
	    shim_bool(sslport_is_listener(lib_object(req, shim_arg(args, 0))));
	return 0;
}

static int
accept_op(struct shim_req *req, json_t *args, json_t *kw, int brk,
    json_t **result, struct sslport_error *err)
{
	struct sslport_port *in, *out;
	void *l;
	int r;

	if (plain_args(req, args, kw, 1, 1, err) < 0)
		return -1;
	l = lib_object(req, shim_arg(args, 0));
	if (brk)
		r = sslport_accept_enable_break(
		    l, shim_req_break(req), &in, &out, err);
	else
		r = sslport_accept(l, &in, &out, err);
	return r < 0 ? -1 : two_ports(req, in, out, result);
}

static int
op_accept(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	return accept_op(req, args, kw, 0, result, err);
}

static int
op_accept_enable_break(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return accept_op(req, args, kw, 1, result, err);
}

static int
op_abandon_port(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	if (plain_args(req, args, kw, 1, 1, err) < 0 ||
	    sslport_abandon_port(lib_object(req, shim_arg(args, 0)), err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
op_addresses(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_addresses a;

	if (plain_args(req, args, kw, 1, 2, err) < 0 ||
	    sslport_addresses(lib_object(req, shim_arg(args, 0)), &a, err) < 0)
		return -1;
	*result = shim_addresses_values(&a, shim_truthy(shim_arg(args, 1)));
	shim_values(req);
	return 0;
}

static int
op_is_port(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	if (plain_args(req, args, kw, 1, 1, err) < 0)
		return -1;
	*result =
	    shim_bool(sslport_is_port(lib_object(req, shim_arg(args, 0))));
	return 0;
}

/* ---- ports->ssl-ports ------------------------------------------------- */

static int
mode_kw(struct shim_req *req, json_t *v, struct sslport_wrap_options *opt,
    struct sslport_error *err)
{
	const char *name = shim_symbol(v);

	if (v == NULL)
		return 0;
	if (name != NULL && strcmp(name, "accept") == 0)
		opt->mode = SSLPORT_MODE_ACCEPT;
	else if (name != NULL && strcmp(name, "connect") == 0)
		opt->mode = SSLPORT_MODE_CONNECT;
	else
		return shim_contract(
		    err, shim_op_name(req), "(or/c 'connect 'accept)");
	return 0;
}

static int
context_kws(struct shim_req *req, json_t *kw, struct sslport_wrap_options *opt,
    struct sslport_error *err)
{
	json_t *v = shim_kw(kw, "context");

	if (v != NULL &&
	    (opt->context = shim_arg_object(req, v, SHIM_CTX,
	         "(or/c ssl-client-context? ssl-server-context?)", err)) ==
	        NULL)
		return -1;
	v = shim_kw(kw, "encrypt");
	if (v != NULL &&
	    sslport_protocol_from_name(shim_symbol(v), &opt->encrypt) < 0)
		return shim_contract(
		    err, shim_op_name(req), "ssl-protocol-symbol/c");
	return 0;
}

/*
 * #:error/ssl: a procedure made by make-error-procedure.  The connection
 * calls it after this request has ended, so the shim keeps it alive
 * until it exits.
 */
static int
error_kw(struct shim_req *req, json_t *v, struct sslport_wrap_options *opt,
    struct sslport_error *err)
{
	void *token;

	if (v == NULL)
		return 0;
	opt->error_arg = shim_keep(v, SHIM_ERRPROC, &token);
	if (opt->error_arg == NULL)
		return shim_contract(err, shim_op_name(req), "procedure?");
	opt->error_fn = shim_errproc_call;
	return 0;
}

static int
hostname_kw(struct shim_req *req, json_t *v, struct sslport_wrap_options *opt,
    struct sslport_error *err)
{
	if (v == NULL || json_is_false(v))
		return 0;
	opt->hostname = shim_arg_string(req, v, "(or/c string? #f)", err);
	return opt->hostname != NULL ? 0 : -1;
}

static int
op_ports_to_ssl_ports(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	static const char *const kws[] = {"mode", "context", "encrypt",
	    "close-original?", "shutdown-on-close?", "error/ssl", "hostname",
	    "alpn", NULL};
	struct sslport_port *in, *out, *ssl_in, *ssl_out;
	struct sslport_wrap_options opt;
	enum shim_type type = 0;

	sslport_wrap_options_init(&opt);
	if (kw_allow(req, kw, kws, err) < 0 ||
	    shim_argc(req, args, 2, 2, err) < 0 ||
	    mode_kw(req, shim_kw(kw, "mode"), &opt, err) < 0 ||
	    context_kws(req, kw, &opt, err) < 0 ||
	    hostname_kw(req, shim_kw(kw, "hostname"), &opt, err) < 0 ||
	    alpn_kw(req, shim_kw(kw, "alpn"), &opt.alpn, &opt.nalpn, err) < 0)
		return -1;
	in = shim_arg_any(req, shim_arg(args, 0), &type);
	in = in != NULL && type == SHIM_PORT ? in : NULL;
	out = shim_arg_any(req, shim_arg(args, 1), &type);
	out = out != NULL && type == SHIM_PORT ? out : NULL;
	opt.close_original = shim_truthy(shim_kw(kw, "close-original?"));
	opt.shutdown_on_close = shim_truthy(shim_kw(kw, "shutdown-on-close?"));
	if (error_kw(req, shim_kw(kw, "error/ssl"), &opt, err) < 0 ||
	    sslport_ports_to_ssl_ports(in, out, &opt, &ssl_in, &ssl_out, err) <
	        0)
		return -1;
	return two_ports(req, ssl_in, ssl_out, result);
}

/* ---- The peer --------------------------------------------------------- */

/* The one SSL port argument of the peer procedures. */
static struct sslport_port *
port_only(struct shim_req *req, json_t *args, json_t *kw, size_t argc,
    struct sslport_error *err)
{
	if (plain_args(req, args, kw, argc, argc, err) < 0)
		return NULL;
	return lib_object(req, shim_arg(args, 0));
}

static int
op_protocol_version(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	enum sslport_protocol v;
	int r;

	if (plain_args(req, args, kw, 1, 1, err) < 0)
		return -1;
	r = sslport_protocol_version(
	    lib_object(req, shim_arg(args, 0)), &v, err);
	if (r < 0)
		return -1;
	*result = r > 0 ? shim_sym(sslport_protocol_name(v)) : shim_bool(0);
	return 0;
}

static int
op_peer_verified(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	int r;

	if (plain_args(req, args, kw, 1, 1, err) < 0)
		return -1;
	r = sslport_peer_verified(lib_object(req, shim_arg(args, 0)), err);
	if (r < 0)
		return -1;
	*result = shim_bool(r);
	return 0;
}

static int
op_peer_certificate_hostnames(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	char **names, **s;
	json_t *list;

	if (plain_args(req, args, kw, 1, 1, err) < 0 ||
	    sslport_peer_certificate_hostnames(
	        lib_object(req, shim_arg(args, 0)), &names, err) < 0)
		return -1;
	list = json_array();
	for (s = names; list != NULL && *s != NULL; s++)
		json_array_append_new(list, json_string(*s));
	sslport_strings_free(names);
	*result = list;
	return 0;
}

static int
op_peer_check_hostname(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	json_t *h;
	const char *name = NULL;
	int r;

	if (plain_args(req, args, kw, 2, 2, err) < 0)
		return -1;
	h = shim_arg(args, 1);
	if (json_is_string(h))
		name = json_string_value(h);
	/* A name holding NUL never matches; "" is checked the same way. */
	if (name != NULL && strlen(name) != json_string_length(h))
		name = "";
	r = sslport_peer_check_hostname(
	    lib_object(req, shim_arg(args, 0)), name, err);
	if (r < 0)
		return -1;
	*result = shim_bool(r);
	return 0;
}

typedef int (*name_fn)(
    struct sslport_port *, unsigned char **, size_t *, struct sslport_error *);

/* A byte string the library allocated, or #f. */
static int
bytes_or_false(struct shim_req *req, json_t *args, json_t *kw, name_fn fn,
    json_t **result, struct sslport_error *err)
{
	struct sslport_port *p;
	unsigned char *data;
	size_t len;
	int r;

	if ((p = port_only(req, args, kw, 1, err)) == NULL &&
	    err->kind != SSLPORT_OK)
		return -1;
	if ((r = fn(p, &data, &len, err)) < 0)
		return -1;
	*result = r > 0 ? shim_bytes(data, len) : shim_bool(0);
	free(data);
	return 0;
}

static int
op_peer_subject_name(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return bytes_or_false(
	    req, args, kw, sslport_peer_subject_name, result, err);
}

static int
op_peer_issuer_name(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return bytes_or_false(
	    req, args, kw, sslport_peer_issuer_name, result, err);
}

static int
op_get_alpn_selected(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return bytes_or_false(
	    req, args, kw, sslport_get_alpn_selected, result, err);
}

static int
op_channel_binding(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	enum sslport_binding type = (enum sslport_binding) - 1;
	struct sslport_port *p;
	unsigned char *data;
	size_t len;

	if ((p = port_only(req, args, kw, 2, err)) == NULL &&
	    err->kind != SSLPORT_OK)
		return -1;
	sslport_binding_from_name(shim_symbol(shim_arg(args, 1)), &type);
	if (sslport_channel_binding(p, type, &data, &len, err) < 0)
		return -1;
	*result = shim_bytes(data, len);
	free(data);
	return 0;
}

static int
op_default_channel_binding(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	enum sslport_binding type;
	struct sslport_port *p;
	unsigned char *data;
	size_t len;

	if ((p = port_only(req, args, kw, 1, err)) == NULL &&
	    err->kind != SSLPORT_OK)
		return -1;
	if (sslport_default_channel_binding(p, &type, &data, &len, err) < 0)
		return -1;
	*result = json_pack("[o,o]", shim_sym(sslport_binding_name(type)),
	    shim_bytes(data, len));
	free(data);
	return 0;
}

const struct shim_op shim_ops_conn[] = {
    {"ssl-connect", op_connect},
    {"ssl-connect/enable-break", op_connect_enable_break},
    {"ssl-listen", op_listen},
    {"ssl-close", op_close},
    {"ssl-listener?", op_is_listener},
    {"ssl-accept", op_accept},
    {"ssl-accept/enable-break", op_accept_enable_break},
    {"ssl-abandon-port", op_abandon_port},
    {"ssl-addresses", op_addresses},
    {"ssl-port?", op_is_port},
    {"ports->ssl-ports", op_ports_to_ssl_ports},
    {"ssl-protocol-version", op_protocol_version},
    {"ssl-peer-verified?", op_peer_verified},
    {"ssl-peer-certificate-hostnames", op_peer_certificate_hostnames},
    {"ssl-peer-check-hostname", op_peer_check_hostname},
    {"ssl-peer-subject-name", op_peer_subject_name},
    {"ssl-peer-issuer-name", op_peer_issuer_name},
    {"ssl-default-channel-binding", op_default_channel_binding},
    {"ssl-channel-binding", op_channel_binding},
    {"ssl-get-alpn-selected", op_get_alpn_selected},
    {"tcp-listen", shim_op_tcp_listen},
    {"tcp-accept", shim_op_tcp_accept},
    {"tcp-connect", shim_op_tcp_connect},
    {"tcp-addresses", shim_op_tcp_addresses},
    {"tcp-close", shim_op_tcp_close},
    {NULL, NULL},
};
