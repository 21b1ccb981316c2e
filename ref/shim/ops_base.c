/*
 * ops_base.c: the protocol's base ops (spec/rpc.md): hello, values,
 * ports in memory, reading and writing, waiting, loggers, the procedures
 * the shim makes, break, release and exit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shim.h"

#define READ_MAX (64 * 1024 * 1024)

/* ---- Loggers ------------------------------------------------------------ */

static void
record(void *arg, enum sslport_log_level level, const char *topic,
    const char *message, const unsigned char *data, size_t len)
{
	struct shim_logger *sl = arg;
	json_t *entry;

	entry = json_pack("[o,o,s,o]", shim_sym(sslport_log_level_name(level)),
	    shim_sym(topic), message,
	    data != NULL ? shim_bytes(data, len) : json_false());
	if (entry == NULL)
		return;
	pthread_mutex_lock(&sl->lock);
	json_array_append_new(sl->messages, entry);
	pthread_mutex_unlock(&sl->lock);
}

struct shim_logger *
shim_logger_new(void)
{
	struct shim_logger *sl;

	sl = calloc(1, sizeof(*sl));
	if (sl == NULL)
		return NULL;
	sl->messages = json_array();
	sl->logger = sslport_logger_new(record, sl);
	if (sl->messages == NULL || sl->logger == NULL) {
		json_decref(sl->messages);
		sslport_logger_free(sl->logger);
		free(sl);
		return NULL;
	}
	pthread_mutex_init(&sl->lock, NULL);
	return sl;
}

/*
 * Contexts may keep the logger after the shim lets go of it; the
 * callback's argument must outlive them, so the record stays until the
 * library's last reference goes.  Here the shim drops its own.
 */
void
shim_logger_free(struct shim_logger *sl)
{
	if (sl == NULL)
		return;
	sslport_logger_free(sl->logger);
	json_decref(sl->messages);
	pthread_mutex_destroy(&sl->lock);
	free(sl);
}

/* ---- Ops ---------------------------------------------------------------- */

static int
op_hello(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	const char *ossl = sslport_openssl_version_text();

	*result = json_pack("{s:s,s:s,s:o,s:b}", "implementation",
	    "sslport-ref", "version", SSLPORT_DOC_VERSION, "openssl",
	    ossl != NULL ? json_string(ossl) : json_null(), "hide-libraries",
	    1);
	return 0;
}

static json_t *
string_or_false(const char *s)
{
	return s != NULL ? json_string(s) : json_false();
}

static json_t *
protocol_symbols(void)
{
	json_t *list = json_array();
	int i;

	for (i = 0; i < SSLPORT_PROTO_COUNT; i++)
		json_array_append_new(list, shim_sym(sslport_protocol_name(i)));
	return list;
}

static json_t *
lib_versions(void)
{
	const char *const *v;
	json_t *list = json_array();

	for (v = sslport_openssl_lib_versions(); *v != NULL; v++)
		json_array_append_new(list, json_string(*v));
	return list;
}

static json_t *
library(struct shim_req *req, void *handle)
{
	return handle != NULL ? shim_handle(req, SHIM_LIBRARY, handle)
	                      : json_false();
}

static json_t *
dh_param_bytes(void)
{
	const unsigned char *data;
	size_t len;

	data = sslport_dh4096_param_bytes(&len);
	return shim_bytes(data, len);
}

static int
op_value(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	const char *name;

	if (shim_argc(req, args, 1, 1, err) < 0 ||
	    (name = shim_arg_string(req, shim_arg(args, 0), "string?", err)) ==
	        NULL)
		return -1;
	if (strcmp(name, "ssl-available?") == 0)
		*result = shim_bool(sslport_available());
	else if (strcmp(name, "ssl-load-fail-reason") == 0)
		*result = string_or_false(sslport_load_fail_reason());
	else if (strcmp(name, "libcrypto") == 0)
		*result = library(req, sslport_libcrypto());
	else if (strcmp(name, "libcrypto-load-fail-reason") == 0)
		*result = string_or_false(sslport_libcrypto_load_fail_reason());
	else if (strcmp(name, "libssl") == 0)
		*result = library(req, sslport_libssl());
	else if (strcmp(name, "libssl-load-fail-reason") == 0)
		*result = string_or_false(sslport_libssl_load_fail_reason());
	else if (strcmp(name, "openssl-lib-versions") == 0)
		*result = lib_versions();
	else if (strcmp(name, "ssl-protocol-symbol/c") == 0)
		*result = protocol_symbols();
	else if (strcmp(name, "ssl-dh4096-param-bytes") == 0)
		*result = dh_param_bytes();
	else
		return shim_fail(
		    err, SSLPORT_ECONTRACT, "value", "no such value: %s", name);
	return 0;
}

static int
op_make_pipe(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *in, *out;
	long long limit = 0;
	json_t *lim;

	if (shim_argc(req, args, 0, 1, err) < 0)
		return -1;
	lim = shim_arg(args, 0);
	if (shim_truthy(lim) && !json_is_null(lim) &&
	    shim_arg_int(req, lim, 1, 1LL << 40, &limit,
	        "(or/c exact-positive-integer? #f)", err) < 0)
		return -1;
	if (sslport_make_pipe((size_t)limit, &in, &out, err) < 0)
		return -1;
	*result = json_pack("[o,o]", shim_handle(req, SHIM_PORT, in),
	    shim_handle(req, SHIM_PORT, out));
	shim_values(req);
	return 0;
}

static int
op_open_input_bytes(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	const unsigned char *data;
	struct sslport_port *p;
	size_t len;

	if (shim_argc(req, args, 1, 1, err) < 0 ||
	    shim_arg_bytes(req, shim_arg(args, 0), &data, &len, "bytes?", err) <
	        0)
		return -1;
	p = sslport_open_input_bytes(data, len, err);
	if (p == NULL)
		return -1;
	*result = shim_handle(req, SHIM_PORT, p);
	return 0;
}

/* [n, port] with a port of the given direction. */
static struct sslport_port *
count_and_port(struct shim_req *req, json_t *args, long long *n, int output,
    struct sslport_error *err)
{
	struct sslport_port *p;

	if (shim_argc(req, args, 2, 2, err) < 0 ||
	    shim_arg_int(req, shim_arg(args, 0), 0, READ_MAX, n,
	        "exact-nonnegative-integer?", err) < 0)
		return NULL;
	p = shim_arg_object(req, shim_arg(args, 1), SHIM_PORT,
	    output ? "output-port?" : "input-port?", err);
	if (p != NULL &&
	    sslport_port_direction(p) !=
	        (output ? SSLPORT_OUTPUT : SSLPORT_INPUT)) {
		shim_contract(err, shim_op_name(req),
		    output ? "output-port?" : "input-port?");
		return NULL;
	}
	return p;
}

static int
read_op(struct shim_req *req, json_t *args, json_t **result, int full,
    struct sslport_error *err)
{
	struct sslport_port *p;
	unsigned char *buf;
	long long n;
	ssize_t got;

	p = count_and_port(req, args, &n, 0, err);
	if (p == NULL)
		return -1;
	if (n == 0) {
		*result = shim_bytes(NULL, 0);
		return 0;
	}
	buf = shim_req_alloc(req, (size_t)n);
	if (buf == NULL)
		return shim_fail(
		    err, SSLPORT_EFAIL, shim_op_name(req), "out of memory");
	got = full ? sslport_port_read_full(p, buf, (size_t)n, err)
	           : sslport_port_read(p, buf, (size_t)n, err);
	if (got < 0)
		return -1;
	*result = got == 0 ? shim_eof() : shim_bytes(buf, (size_t)got);
	return 0;
}

static int
op_read_bytes(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	return read_op(req, args, result, 1, err);
}

static int
op_read_bytes_avail(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	return read_op(req, args, result, 0, err);
}

static struct sslport_port *
port_arg(struct shim_req *req, json_t *v, int dir, struct sslport_error *err)
{
	static const char *const names[] = {
	    "input-port?", "output-port?", "port?"};
	struct sslport_port *p;

	p = shim_arg_object(req, v, SHIM_PORT, names[dir], err);
	if (p != NULL && dir < 2 && (int)sslport_port_direction(p) != dir) {
		shim_contract(err, shim_op_name(req), names[dir]);
		return NULL;
	}
	return p;
}

static int
op_write_bytes(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	const unsigned char *data;
	struct sslport_port *p;
	size_t len;

	if (shim_argc(req, args, 2, 2, err) < 0 ||
	    shim_arg_bytes(req, shim_arg(args, 0), &data, &len, "bytes?", err) <
	        0)
		return -1;
	p = port_arg(req, shim_arg(args, 1), SSLPORT_OUTPUT, err);
	if (p == NULL || sslport_port_write(p, data, len, err) < 0)
		return -1;
	*result = json_integer((json_int_t)len);
	return 0;
}

static int
op_flush_output(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *p;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	p = port_arg(req, shim_arg(args, 0), SSLPORT_OUTPUT, err);
	if (p == NULL || sslport_port_flush(p, err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
close_op(struct shim_req *req, json_t *args, int dir, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *p;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	p = port_arg(req, shim_arg(args, 0), dir, err);
	if (p == NULL || sslport_port_close(p, err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

static int
op_close_input(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	return close_op(req, args, SSLPORT_INPUT, result, err);
}

static int
op_close_output(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	return close_op(req, args, SSLPORT_OUTPUT, result, err);
}

static int
op_port_closed(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *p;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	p = port_arg(req, shim_arg(args, 0), 2, err);
	if (p == NULL)
		return -1;
	*result = shim_bool(sslport_port_is_closed(p));
	return 0;
}

static const char *const mode_names[] = {"none", "line", "block"};

static int
op_buffer_mode(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *p;
	const char *name;
	int i;

	if (shim_argc(req, args, 1, 2, err) < 0)
		return -1;
	p = port_arg(req, shim_arg(args, 0), 2, err);
	if (p == NULL)
		return -1;
	if (json_array_size(args) == 1) {
		*result = shim_sym(mode_names[sslport_port_buffer_mode(p)]);
		return 0;
	}
	name = shim_symbol(shim_arg(args, 1));
	for (i = 0; name != NULL && i < 3; i++)
		if (strcmp(name, mode_names[i]) == 0)
			break;
	if (name == NULL || i == 3)
		return shim_contract(
		    err, shim_op_name(req), "(or/c 'none 'line 'block)");
	if (sslport_port_set_buffer_mode(p, i, err) < 0)
		return -1;
	*result = shim_void();
	return 0;
}

/* One event's readiness within `timeout`: 1, 0, or -1 with err. */
static int
evt_wait(
    enum shim_type type, void *obj, double timeout, struct sslport_error *err)
{
	switch (type) {
	case SHIM_PORT:
		if (sslport_port_direction(obj) != SSLPORT_INPUT)
			return 1;
		return sslport_port_wait(obj, timeout, err);
	case SHIM_LISTENER:
		return sslport_listener_wait(obj, timeout, err);
	case SHIM_TCP_LISTENER:
		if (shim_tcp_listener_wait == NULL)
			return 0;
		return shim_tcp_listener_wait(obj, timeout);
	default:
		return shim_contract(err, "sync/timeout", "evt?");
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define SYNC_MAX_EVTS 16
#define SYNC_SLICE 0.01

static int
op_sync_timeout(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	enum shim_type types[SYNC_MAX_EVTS];
	void *objs[SYNC_MAX_EVTS];
	double timeout = -1, deadline, slice;
	json_t *t;
	size_t i, n;
	int r;

	if (shim_argc(req, args, 1, SYNC_MAX_EVTS + 1, err) < 0)
		return -1;
	t = shim_arg(args, 0);
	if (json_is_number(t) && json_number_value(t) >= 0)
		timeout = json_number_value(t);
	else if (!json_is_false(t))
		return shim_contract(err, "sync/timeout",
		    "(or/c #f (and/c real? (not/c negative?)))");
	n = json_array_size(args) - 1;
	for (i = 0; i < n; i++) {
		objs[i] = shim_arg_any(req, shim_arg(args, i + 1), &types[i]);
		if (objs[i] == NULL)
			return shim_contract(err, "sync/timeout", "evt?");
	}
	deadline = now() + timeout;
	if (n == 0) {
		/* No events: just the timeout (none at all would never end). */
		if (timeout < 0)
			return shim_contract(err, "sync/timeout", "evt?");
		nanosleep(&(struct timespec){(time_t)timeout,
		              (long)((timeout - (time_t)timeout) * 1e9)},
		    NULL);
		*result = json_false();
		return 0;
	}
	for (;;) {
		slice = n == 1 ? timeout : 0;
		for (i = 0; i < n; i++) {
			r = evt_wait(
			    types[i], objs[i], i == 0 ? slice : 0, err);
			if (r < 0)
				return -1;
			if (r > 0) {
				*result = json_deep_copy(shim_arg(args, i + 1));
				return 0;
			}
		}
		if (n == 1 || (timeout >= 0 && now() >= deadline))
			break;
		/* Several events: wait a slice on the first, then look again.
		 */
		r = evt_wait(types[0], objs[0], SYNC_SLICE, err);
		if (r < 0)
			return -1;
	}
	*result = json_false();
	return 0;
}

static int
op_byte_ready(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *p;
	int r;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	p = port_arg(req, shim_arg(args, 0), SSLPORT_INPUT, err);
	if (p == NULL || (r = sslport_port_byte_ready(p, err)) < 0)
		return -1;
	*result = shim_bool(r);
	return 0;
}

static int
op_make_logger(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct shim_logger *sl;

	if (shim_argc(req, args, 0, 2, err) < 0)
		return -1;
	sl = shim_logger_new();
	if (sl == NULL)
		return shim_fail(
		    err, SSLPORT_EFAIL, "make-logger", "out of memory");
	*result = shim_handle(req, SHIM_LOGGER, sl);
	return 0;
}

static int
op_logger_messages(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct shim_logger *sl;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	sl = shim_arg_object(
	    req, shim_arg(args, 0), SHIM_LOGGER, "logger?", err);
	if (sl == NULL)
		return -1;
	pthread_mutex_lock(&sl->lock);
	*result = json_deep_copy(sl->messages);
	pthread_mutex_unlock(&sl->lock);
	return 0;
}

static int
op_log_messages(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	if (shim_argc(req, args, 0, 0, err) < 0)
		return -1;
	*result = shim_log_messages();
	return 0;
}

/* ---- Procedures the shim makes ------------------------------------------ */

void
shim_sni_free(struct shim_sni *sni)
{
	size_t i;

	if (sni == NULL)
		return;
	for (i = 0; i < sni->n; i++) {
		if (sni->names != NULL)
			free(sni->names[i]);
		if (sni->tokens != NULL)
			shim_unkeep(sni->tokens[i]);
	}
	free(sni->names);
	free(sni->answers);
	free(sni->tokens);
	free(sni->raises);
	json_decref(sni->calls);
	json_decref(sni->pairs);
	pthread_mutex_destroy(&sni->lock);
	free(sni);
}

int
shim_sni_call(void *arg, const char *hostname, struct sslport_ctx **choice,
    struct sslport_error *err)
{
	struct shim_sni *sni = arg;
	size_t i;
	int rv = 0;

	*choice = NULL;
	pthread_mutex_lock(&sni->lock);
	json_array_append_new(sni->calls, json_string(hostname));
	for (i = 0; i < sni->n; i++) {
		if (strcmp(sni->names[i], hostname) != 0)
			continue;
		if (sni->raises[i])
			rv = shim_fail(err, SSLPORT_EFAIL, "sni-callback",
			    "raised for %s", hostname);
		else
			*choice = sni->answers[i];
		break;
	}
	pthread_mutex_unlock(&sni->lock);
	return rv;
}

/* One [hostname, answer] pair into slot i. */
static int
sni_pair(struct shim_req *req, struct shim_sni *sni, size_t i, json_t *pair,
    struct sslport_error *err)
{
	static const char *const expected =
	    "(listof (list/c string? (or/c ssl-server-context? #f 'raise)))";
	json_t *answer = json_array_get(pair, 1);
	const char *sym = shim_symbol(answer);
	if (json_array_size(pair) != 2 ||
	    !json_is_string(json_array_get(pair, 0)))
		return shim_contract(err, "make-sni-callback", expected);
	sni->names[i] = strdup(json_string_value(json_array_get(pair, 0)));
	if (sym != NULL && strcmp(sym, "raise") == 0) {
		sni->raises[i] = 1;
	} else if (!json_is_false(answer)) {
		sni->answers[i] = shim_keep(answer, SHIM_CTX, &sni->tokens[i]);
		if (sni->answers[i] == NULL)
			return shim_contract(
			    err, "make-sni-callback", expected);
	}
	return sni->names[i] != NULL
	    ? 0
	    : shim_fail(
	          err, SSLPORT_EFAIL, "make-sni-callback", "out of memory");
}

static int
op_make_sni_callback(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct shim_sni *sni;
	json_t *pairs;
	size_t i, n;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	pairs = shim_arg(args, 0);
	if (!json_is_array(pairs))
		return shim_contract(err, "make-sni-callback", "list?");
	n = json_array_size(pairs);
	sni = calloc(1, sizeof(*sni));
	if (sni == NULL)
		return shim_fail(
		    err, SSLPORT_EFAIL, "make-sni-callback", "out of memory");
	pthread_mutex_init(&sni->lock, NULL);
	sni->n = n;
	sni->names = calloc(n + 1, sizeof(*sni->names));
	sni->answers = calloc(n + 1, sizeof(*sni->answers));
	sni->raises = calloc(n + 1, sizeof(*sni->raises));
	sni->tokens = calloc(n + 1, sizeof(*sni->tokens));
	sni->calls = json_array();
	sni->pairs = json_incref(pairs);
	for (i = 0; i < n; i++)
		if (sni->names == NULL || sni->answers == NULL ||
		    sni->raises == NULL || sni->tokens == NULL ||
		    sni_pair(req, sni, i, json_array_get(pairs, i), err) < 0) {
			shim_sni_free(sni);
			return err->kind != SSLPORT_OK
			    ? -1
			    : shim_fail(err, SSLPORT_EFAIL, "make-sni-callback",
			          "out of memory");
		}
	*result = shim_handle(req, SHIM_SNI, sni);
	return 0;
}

void
shim_errproc_free(struct shim_errproc *ep)
{
	if (ep == NULL)
		return;
	json_decref(ep->calls);
	pthread_mutex_destroy(&ep->lock);
	free(ep);
}

void
shim_errproc_call(
    void *arg, const char *who, const char *message, struct sslport_error *err)
{
	struct shim_errproc *ep = arg;

	pthread_mutex_lock(&ep->lock);
	json_array_append_new(
	    ep->calls, json_pack("[o,s]", shim_sym(who), message));
	pthread_mutex_unlock(&ep->lock);
	shim_fail(err, ep->kind, who, "%s", message);
}

static const enum sslport_error_kind errproc_kinds[] = {
    SSLPORT_ECONTRACT, SSLPORT_ENETWORK, SSLPORT_EFAIL, SSLPORT_EUNSUPPORTED};

static int
op_make_error_procedure(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct shim_errproc *ep;
	const char *kind;
	size_t i;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	kind = json_string_value(shim_arg(args, 0));
	if (kind == NULL)
		kind = shim_symbol(shim_arg(args, 0));
	for (i = 0; kind != NULL && i < 4; i++)
		if (strcmp(kind, sslport_error_kind_name(errproc_kinds[i])) ==
		    0)
			break;
	if (kind == NULL || i == 4)
		return shim_contract(err, "make-error-procedure",
		    "(or/c \"exn:fail\" \"exn:fail:network\" ...)");
	ep = calloc(1, sizeof(*ep));
	if (ep == NULL || (ep->calls = json_array()) == NULL) {
		free(ep);
		return shim_fail(err, SSLPORT_EFAIL, "make-error-procedure",
		    "out of memory");
	}
	pthread_mutex_init(&ep->lock, NULL);
	ep->kind = errproc_kinds[i];
	*result = shim_handle(req, SHIM_ERRPROC, ep);
	return 0;
}

static int
op_procedure_calls(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	enum shim_type type;
	struct shim_errproc *ep;
	struct shim_sni *sni;
	void *obj;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	obj = shim_arg_any(req, shim_arg(args, 0), &type);
	if (obj != NULL && type == SHIM_SNI) {
		sni = obj;
		pthread_mutex_lock(&sni->lock);
		*result = json_deep_copy(sni->calls);
		pthread_mutex_unlock(&sni->lock);
		return 0;
	}
	if (obj != NULL && type == SHIM_ERRPROC) {
		ep = obj;
		pthread_mutex_lock(&ep->lock);
		*result = json_deep_copy(ep->calls);
		pthread_mutex_unlock(&ep->lock);
		return 0;
	}
	return shim_contract(err, "procedure-calls", "procedure?");
}

static int
op_break(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	shim_break_request(shim_arg(args, 0));
	*result = shim_void();
	return 0;
}

static int
op_release(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	if (shim_release(shim_arg(args, 0)) < 0)
		return shim_contract(err, "release", "handle?");
	*result = shim_void();
	return 0;
}

static int
op_exit(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	shim_shutdown(shim_req_id(req));
}

const struct shim_op shim_ops_base[] = {{"hello", op_hello},
    {"value", op_value}, {"make-pipe", op_make_pipe},
    {"open-input-bytes", op_open_input_bytes}, {"read-bytes", op_read_bytes},
    {"read-bytes-avail", op_read_bytes_avail}, {"write-bytes", op_write_bytes},
    {"flush-output", op_flush_output}, {"close-input-port", op_close_input},
    {"close-output-port", op_close_output}, {"port-closed?", op_port_closed},
    {"file-stream-buffer-mode", op_buffer_mode},
    {"sync/timeout", op_sync_timeout}, {"byte-ready?", op_byte_ready},
    {"make-logger", op_make_logger}, {"logger-messages", op_logger_messages},
    {"log-messages", op_log_messages},
    {"make-sni-callback", op_make_sni_callback},
    {"make-error-procedure", op_make_error_procedure},
    {"procedure-calls", op_procedure_calls}, {"break", op_break},
    {"release", op_release}, {"exit", op_exit}, {NULL, NULL}};
