/*
 * shim.c: the reference's RPC shim.  JSON Lines on stdin and stdout
 * (spec/rpc.md); every request runs on its own thread, and responses go
 * out in whatever order the requests end, matched by id.  This file holds
 * the request loop, the handle table and the value codec; the ops are in
 * ops_*.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

/* Parts of the library still being written; removed when they land. */
#pragma weak sslport_close
#pragma weak sslport_ctx_free
#pragma weak sslport_listener_free

/* Ops tables of parts that may not be built in yet are weak. */
extern const struct shim_op shim_ops_context[] __attribute__((weak));
extern const struct shim_op shim_ops_conn[] __attribute__((weak));

/* ---- Handles ------------------------------------------------------------ */

struct entry {
	enum shim_type type;
	void *obj;
	long id;
	int refs; /* requests using it, plus one while held */
	int held; /* the shim's own reference: until `release` */
	struct entry *next;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *entries;
static long next_handle = 1;

/* ---- Requests ----------------------------------------------------------- */

#define REQ_MAX_HOLDS 16

struct shim_req {
	json_t *msg;
	json_t *id;
	const char *op;
	struct entry *holds[REQ_MAX_HOLDS];
	size_t nholds;
	void **allocs;
	size_t nallocs;
	int values;
	pthread_mutex_t lock;
	struct sslport_break *brk;
	int broken; /* break arrived before the handle was made */
	struct shim_req *next;
};

static pthread_mutex_t reqs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reqs_done = PTHREAD_COND_INITIALIZER;
static struct shim_req *reqs;
static int inflight;

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- The process logger ------------------------------------------------- */

static struct shim_logger *process_log;

static void
free_object(enum shim_type type, void *obj)
{
	switch (type) {
	case SHIM_PORT:
		sslport_port_free(obj);
		break;
	case SHIM_CTX:
		sslport_ctx_free(obj);
		break;
	case SHIM_LISTENER:
		sslport_listener_free(obj);
		break;
	case SHIM_TCP_LISTENER:
		if (shim_tcp_listener_free != NULL)
			shim_tcp_listener_free(obj);
		break;
	case SHIM_LOGGER:
		shim_logger_free(obj);
		break;
	case SHIM_SNI:
		shim_sni_free(obj);
		break;
	case SHIM_ERRPROC:
		shim_errproc_free(obj);
		break;
	case SHIM_LIBRARY:
		break;
	}
}

/* Drop one reference to an entry; the table lock is held. */
static void *
entry_put_locked(struct entry *e, enum shim_type *type)
{
	struct entry **pp;

	if (--e->refs > 0)
		return NULL;
	for (pp = &entries; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	*type = e->type;
	return e;
}

static void
entry_put(struct entry *e)
{
	enum shim_type type;
	struct entry *dead;

	pthread_mutex_lock(&table_lock);
	dead = entry_put_locked(e, &type);
	pthread_mutex_unlock(&table_lock);
	if (dead != NULL) {
		free_object(type, dead->obj);
		free(dead);
	}
}

static struct entry *
entry_find(long id)
{
	struct entry *e;

	for (e = entries; e != NULL; e = e->next)
		if (e->id == id)
			return e;
	return NULL;
}

json_t *
shim_handle(struct shim_req *req, enum shim_type type, void *obj)
{
	struct entry *e;
	char id[32];
	int dup = 0;

	(void)req;
	if (obj == NULL)
		return json_false();
	pthread_mutex_lock(&table_lock);
	for (e = entries; e != NULL; e = e->next)
		if (e->obj == obj)
			break;
	if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
		e->type = type;
		e->obj = obj;
		e->id = next_handle++;
		e->refs = 1;
		e->held = 1;
		e->next = entries;
		entries = e;
	} else if (e != NULL) {
		dup = 1;
	}
	if (e != NULL)
		snprintf(id, sizeof(id), "h%ld", e->id);
	pthread_mutex_unlock(&table_lock);
	if (e == NULL || dup)
		free_object(type, obj);
	if (e == NULL)
		return json_null();
	return json_pack("{s:s}", "handle", id);
}

static long
handle_id(json_t *v)
{
	const char *s;
	char *end;
	long id;

	if (!json_is_object(v) || json_object_size(v) != 1)
		return -1;
	s = json_string_value(json_object_get(v, "handle"));
	if (s == NULL || s[0] != 'h')
		return -1;
	id = strtol(s + 1, &end, 10);
	return *end == '\0' && id > 0 ? id : -1;
}

void *
shim_arg_any(struct shim_req *req, json_t *v, enum shim_type *type)
{
	struct entry *e;
	long id = handle_id(v);

	if (id < 0 || req->nholds == REQ_MAX_HOLDS)
		return NULL;
	pthread_mutex_lock(&table_lock);
	e = entry_find(id);
	if (e != NULL) {
		e->refs++;
		req->holds[req->nholds++] = e;
	}
	pthread_mutex_unlock(&table_lock);
	if (e == NULL)
		return NULL;
	if (type != NULL)
		*type = e->type;
	return e->obj;
}

void *
shim_arg_object(struct shim_req *req, json_t *v, enum shim_type type,
    const char *expected, struct sslport_error *err)
{
	enum shim_type got;
	void *obj = shim_arg_any(req, v, &got);

	if (obj == NULL || (type != 0 && got != type)) {
		shim_contract(err, req->op, expected);
		return NULL;
	}
	return obj;
}

/* Drop the shim's own reference to a handle (the `release` op). */
int
shim_release(json_t *v)
{
	struct entry *e;
	long id = handle_id(v);

	pthread_mutex_lock(&table_lock);
	e = id < 0 ? NULL : entry_find(id);
	if (e != NULL && e->held)
		e->held = 0;
	else
		e = NULL;
	pthread_mutex_unlock(&table_lock);
	if (e == NULL)
		return -1;
	entry_put(e);
	return 0;
}

/* ---- Arguments ---------------------------------------------------------- */

const char *
shim_op_name(struct shim_req *req)
{
	return req->op;
}

json_t *
shim_arg(json_t *args, size_t i)
{
	return json_array_get(args, i);
}

int
shim_argc(struct shim_req *req, json_t *args, size_t min, size_t max,
    struct sslport_error *err)
{
	size_t n = json_array_size(args);

	if (n >= min && n <= max)
		return (int)n;
	return shim_fail(err, SSLPORT_ECONTRACT, req->op,
	    "arity mismatch;\n the expected number of arguments does not "
	    "match the given number\n  expected: %zu to %zu\n  given: %zu",
	    min, max, n);
}

json_t *
shim_kw(json_t *kw, const char *name)
{
	return json_is_object(kw) ? json_object_get(kw, name) : NULL;
}

int
shim_truthy(json_t *v)
{
	return v != NULL && !json_is_false(v);
}

const char *
shim_symbol(json_t *v)
{
	if (!json_is_object(v) || json_object_size(v) != 1)
		return NULL;
	return json_string_value(json_object_get(v, "symbol"));
}

const char *
shim_arg_string(struct shim_req *req, json_t *v, const char *expected,
    struct sslport_error *err)
{
	/* A string holding NUL is none that C can take: refuse it. */
	if (json_is_string(v) &&
	    strlen(json_string_value(v)) == json_string_length(v))
		return json_string_value(v);
	shim_contract(err, req->op, expected);
	return NULL;
}

void *
shim_req_alloc(struct shim_req *req, size_t n)
{
	void **grown;
	void *p;

	grown = realloc(req->allocs, (req->nallocs + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	req->allocs = grown;
	p = calloc(1, n ? n : 1);
	if (p != NULL)
		req->allocs[req->nallocs++] = p;
	return p;
}

int
shim_arg_bytes(struct shim_req *req, json_t *v, const unsigned char **out,
    size_t *len, const char *expected, struct sslport_error *err)
{
	const char *hex;
	unsigned char *b;
	unsigned char *copy;
	size_t n;

	hex = json_is_object(v) && json_object_size(v) == 1
	    ? json_string_value(json_object_get(v, "bytes"))
	    : NULL;
	/* The protocol's bytes are lower-case hex (spec/rpc.md). */
	if (hex == NULL || strpbrk(hex, "ABCDEF") != NULL ||
	    sslport_hex_string_to_bytes(hex, strlen(hex), &b, &n, NULL) < 0)
		return shim_contract(err, req->op, expected);
	copy = shim_req_alloc(req, n);
	if (copy == NULL) {
		free(b);
		return shim_fail(err, SSLPORT_EFAIL, req->op, "out of memory");
	}
	memcpy(copy, b, n);
	free(b);
	*out = copy;
	*len = n;
	return 0;
}

int
shim_arg_int(struct shim_req *req, json_t *v, long long lo, long long hi,
    long long *out, const char *expected, struct sslport_error *err)
{
	long long n;

	if (!json_is_integer(v))
		return shim_contract(err, req->op, expected);
	n = json_integer_value(v);
	if (n < lo || n > hi)
		return shim_contract(err, req->op, expected);
	*out = n;
	return 0;
}

struct sslport_break *
shim_req_break(struct shim_req *req)
{
	struct sslport_break *brk;

	pthread_mutex_lock(&req->lock);
	if (req->brk == NULL)
		req->brk = sslport_break_new(NULL);
	if (req->brk != NULL && req->broken)
		sslport_break_trigger(req->brk);
	brk = req->brk;
	pthread_mutex_unlock(&req->lock);
	return brk;
}

/* The `break` op: trigger the break handle of request `id` in flight. */
void
shim_break_request(json_t *id)
{
	struct shim_req *r;

	pthread_mutex_lock(&reqs_lock);
	for (r = reqs; r != NULL; r = r->next) {
		if (!json_equal(r->id, id))
			continue;
		pthread_mutex_lock(&r->lock);
		r->broken = 1;
		if (r->brk != NULL)
			sslport_break_trigger(r->brk);
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_unlock(&reqs_lock);
}

/* ---- Results ------------------------------------------------------------ */

json_t *
shim_void(void)
{
	return json_null();
}

json_t *
shim_bool(int b)
{
	return json_boolean(b);
}

json_t *
shim_bytes(const unsigned char *data, size_t len)
{
	char *hex;
	json_t *v;

	hex = malloc(2 * len + 1);
	if (hex == NULL)
		return NULL;
	sslport_bytes_to_hex_string(data, len, hex);
	v = json_pack("{s:s}", "bytes", hex);
	free(hex);
	return v;
}

json_t *
shim_sym(const char *name)
{
	return json_pack("{s:s}", "symbol", name);
}

json_t *
shim_eof(void)
{
	return json_pack("{s:b}", "eof", 1);
}

void
shim_values(struct shim_req *req)
{
	req->values = 1;
}

json_t *
shim_req_id(struct shim_req *req)
{
	return req->id;
}

int
shim_fail(struct sslport_error *err, enum sslport_error_kind kind,
    const char *who, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL)
		return -1;
	err->kind = kind;
	n = snprintf(err->message, sizeof(err->message), "%s: ", who);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(err->message))
		vsnprintf(err->message + n, sizeof(err->message) - n, fmt, ap);
	va_end(ap);
	return -1;
}

int
shim_contract(struct sslport_error *err, const char *who, const char *expected)
{
	return shim_fail(err, SSLPORT_ECONTRACT, who,
	    "contract violation\n  expected: %s", expected);
}

void *
shim_keep(json_t *v, enum shim_type type, void **token)
{
	struct entry *e;
	long id = handle_id(v);

	*token = NULL;
	pthread_mutex_lock(&table_lock);
	e = id < 0 ? NULL : entry_find(id);
	if (e != NULL && e->type == type)
		e->refs++;
	else
		e = NULL;
	pthread_mutex_unlock(&table_lock);
	*token = e;
	return e != NULL ? e->obj : NULL;
}

void
shim_unkeep(void *token)
{
	if (token != NULL)
		entry_put(token);
}

/* ---- Dispatch ----------------------------------------------------------- */

static const struct shim_op *
find_op(const char *name)
{
	const struct shim_op *tables[4];
	const struct shim_op *op;
	size_t i, n = 0;

	tables[n++] = shim_ops_base;
	tables[n++] = shim_ops_hash;
	if (shim_ops_context != NULL)
		tables[n++] = shim_ops_context;
	if (shim_ops_conn != NULL)
		tables[n++] = shim_ops_conn;
	for (i = 0; i < n; i++)
		for (op = tables[i]; op->name != NULL; op++)
			if (strcmp(op->name, name) == 0)
				return op;
	return NULL;
}

static void
respond(json_t *resp)
{
	char *line = json_dumps(resp, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (line == NULL)
		return;
	pthread_mutex_lock(&out_lock);
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	free(line);
}

static json_t *
error_response(json_t *id, const char *kind, const char *message)
{
	return json_pack("{s:O,s:{s:s,s:s}}", "id", id, "error", "kind", kind,
	    "message", message);
}

static json_t *
run(struct shim_req *req)
{
	const struct shim_op *op;
	struct sslport_error err;
	json_t *args, *kw, *result = NULL;
	char msg[256];

	sslport_error_clear(&err);
	args = json_object_get(req->msg, "args");
	kw = json_object_get(req->msg, "kw");
	if (args == NULL)
		args = json_array();
	else
		json_incref(args);
	op = req->op != NULL ? find_op(req->op) : NULL;
	if (op == NULL || !json_is_array(args)) {
		json_decref(args);
		snprintf(msg, sizeof(msg), "%s: not provided by this shim",
		    req->op != NULL ? req->op : "(no op)");
		return error_response(req->id, "unimplemented", msg);
	}
	if (op->fn(req, args, kw, &result, &err) < 0 || result == NULL) {
		json_decref(result);
		json_decref(args);
		if (err.kind == SSLPORT_OK)
			shim_fail(
			    &err, SSLPORT_EFAIL, req->op, "out of memory");
		return error_response(
		    req->id, sslport_error_kind_name(err.kind), err.message);
	}
	json_decref(args);
	return json_pack(
	    "{s:O,s:o}", "id", req->id, req->values ? "values" : "ok", result);
}

static void
req_free(struct shim_req *req)
{
	struct shim_req **pp;
	size_t i;

	pthread_mutex_lock(&reqs_lock);
	for (pp = &reqs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == req) {
			*pp = req->next;
			break;
		}
	}
	pthread_mutex_unlock(&reqs_lock);
	for (i = 0; i < req->nholds; i++)
		entry_put(req->holds[i]);
	for (i = 0; i < req->nallocs; i++)
		free(req->allocs[i]);
	free(req->allocs);
	sslport_break_free(req->brk);
	pthread_mutex_destroy(&req->lock);
	json_decref(req->msg);
	free(req);
	/*
	 * Counted out only now: shutting down frees the handle table once
	 * nothing is in flight, and this request held entries until above.
	 */
	pthread_mutex_lock(&reqs_lock);
	inflight--;
	pthread_cond_broadcast(&reqs_done);
	pthread_mutex_unlock(&reqs_lock);
}

static void *
req_thread(void *arg)
{
	struct shim_req *req = arg;
	json_t *resp;
	int exiting;

	exiting = req->op != NULL && strcmp(req->op, "exit") == 0;
	resp = run(req);
	if (!exiting && resp != NULL)
		respond(resp);
	json_decref(resp);
	req_free(req);
	return NULL;
}

/* A request in flight for `msg` (taken over), or NULL. */
static struct shim_req *
req_new(json_t *msg)
{
	struct shim_req *req;

	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		json_decref(msg);
		return NULL;
	}
	req->msg = msg;
	req->id = json_object_get(msg, "id");
	if (req->id == NULL)
		req->id = json_null();
	req->op = json_string_value(json_object_get(msg, "op"));
	pthread_mutex_init(&req->lock, NULL);
	pthread_mutex_lock(&reqs_lock);
	req->next = reqs;
	reqs = req;
	inflight++;
	pthread_mutex_unlock(&reqs_lock);
	return req;
}

static void
start_request(json_t *msg)
{
	struct shim_req *req;
	pthread_attr_t attr;
	pthread_t t;

	req = req_new(msg);
	if (req == NULL)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&t, &attr, req_thread, req) != 0)
		req_thread(req);
	pthread_attr_destroy(&attr);
}

/* ---- Shutting down ------------------------------------------------------ */

/* Close what could keep a request waiting, so it can end. */
static void
close_everything(void)
{
	struct entry *e;

	pthread_mutex_lock(&table_lock);
	for (e = entries; e != NULL; e = e->next) {
		if (e->type == SHIM_PORT)
			sslport_port_close(e->obj, NULL);
		else if (e->type == SHIM_LISTENER)
			sslport_close(e->obj, NULL);
		else if (e->type == SHIM_TCP_LISTENER &&
		    shim_tcp_listener_close != NULL)
			shim_tcp_listener_close(e->obj);
	}
	pthread_mutex_unlock(&table_lock);
}

static void
wait_requests(int keep, double seconds)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += (time_t)seconds;
	pthread_mutex_lock(&reqs_lock);
	while (inflight > keep)
		if (pthread_cond_timedwait(&reqs_done, &reqs_lock, &deadline) ==
		    ETIMEDOUT)
			break;
	pthread_mutex_unlock(&reqs_lock);
}

static void
free_everything(void)
{
	struct entry *e;

	for (;;) {
		pthread_mutex_lock(&table_lock);
		e = entries;
		if (e != NULL)
			entries = e->next;
		pthread_mutex_unlock(&table_lock);
		if (e == NULL)
			break;
		free_object(e->type, e->obj);
		free(e);
	}
}

/*
 * The `exit` op and end of input: close and free everything the shim
 * holds, so that a leak check at exit sees only real leaks.
 */
void
shim_shutdown(json_t *id)
{
	json_t *resp;
	int pending;

	/* At end of input, let what is running finish first. */
	if (id == NULL)
		wait_requests(0, 2.0);
	close_everything();
	wait_requests(id != NULL ? 1 : 0, 5.0);
	pthread_mutex_lock(&reqs_lock);
	pending = inflight - (id != NULL ? 1 : 0);
	pthread_mutex_unlock(&reqs_lock);
	if (pending == 0)
		free_everything();
	sslport_set_process_logger(NULL);
	shim_logger_free(process_log);
	process_log = NULL;
	if (id != NULL) {
		resp = json_pack("{s:O,s:n}", "id", id, "ok");
		respond(resp);
		json_decref(resp);
	}
	fflush(stdout);
	_exit(0);
}

json_t *
shim_log_messages(void)
{
	json_t *copy;

	pthread_mutex_lock(&process_log->lock);
	copy = json_deep_copy(process_log->messages);
	pthread_mutex_unlock(&process_log->lock);
	return copy;
}

#ifdef SSLPORT_FUZZ
/*
 * For ref/fuzz/fuzz_shim.c: decode one request line and run it on this
 * thread, as the loop below would, when `allow` accepts its op; the
 * answer is encoded and dropped.
 */
void
shim_fuzz_request(const char *line, size_t len, int (*allow)(const char *))
{
	struct shim_req *req;
	json_t *msg, *resp;

	if (process_log == NULL) {
		process_log = shim_logger_new();
		sslport_set_process_logger(process_log->logger);
	}
	msg = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return;
	}
	req = req_new(msg);
	if (req == NULL)
		return;
	if (req->op == NULL || allow(req->op)) {
		resp = run(req);
		free(json_dumps(resp, JSON_COMPACT | JSON_ENSURE_ASCII));
		json_decref(resp);
	}
	req_free(req);
}

/*
 * Each input starts as a new shim would: handles numbered from h1 again
 * (so that a seed's handles name what it made) and an empty process log.
 */
void
shim_fuzz_reset(void)
{
	free_everything();
	pthread_mutex_lock(&table_lock);
	next_handle = 1;
	pthread_mutex_unlock(&table_lock);
	sslport_set_process_logger(NULL);
	shim_logger_free(process_log);
	process_log = NULL;
}

#else

int
main(void)
{
	char *line = NULL;
	size_t cap = 0;
	json_error_t jerr;
	json_t *msg, *resp;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	process_log = shim_logger_new();
	if (process_log == NULL)
		return 1;
	sslport_set_process_logger(process_log->logger);
	while (getline(&line, &cap, stdin) >= 0) {
		msg = json_loads(line, JSON_ALLOW_NUL, &jerr);
		if (!json_is_object(msg)) {
			resp = error_response(json_null(), "exn:fail:contract",
			    "shim: request is not a JSON object");
			respond(resp);
			json_decref(resp);
			json_decref(msg);
			continue;
		}
		start_request(msg);
	}
	free(line);
	shim_shutdown(NULL);
	return 0;
}

#endif /* SSLPORT_FUZZ */
