/*
 * shim.h: the reference's RPC shim (spec/rpc.md).  Each request runs on
 * its own thread; an op is a function from decoded arguments to a JSON
 * result.  Ops live in tables, one file per area (ops_base.c,
 * ops_hash.c, ops_context.c, ops_conn.c), listed in shim.c.
 */
#ifndef SSLPORT_SHIM_H
#define SSLPORT_SHIM_H

#include <jansson.h>
#include <pthread.h>

#include "sslport.h"

/* What a handle names. */
enum shim_type {
	SHIM_PORT = 1,     /* struct sslport_port (any port) */
	SHIM_CTX,          /* struct sslport_ctx */
	SHIM_LISTENER,     /* struct sslport_listener */
	SHIM_TCP_LISTENER, /* struct shim_tcp_listener (plain TCP) */
	SHIM_LOGGER,       /* struct shim_logger */
	SHIM_SNI,          /* struct shim_sni */
	SHIM_ERRPROC,      /* struct shim_errproc */
	SHIM_LIBRARY       /* a dlopen handle (libssl, libcrypto) */
};

struct shim_req;

/*
 * An op fills *result (a new JSON reference, already encoded in the
 * value codec) and returns 0, or returns -1 with `err` filled.  For
 * several values, set *result to a JSON array and call shim_values(req).
 */
typedef int (*shim_op_fn)(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err);

struct shim_op {
	const char *name;
	shim_op_fn fn;
};

/* Op tables, each ending with { NULL, NULL }. */
extern const struct shim_op shim_ops_base[];
extern const struct shim_op shim_ops_hash[];
extern const struct shim_op shim_ops_context[];
extern const struct shim_op shim_ops_conn[];

/* ---- Arguments ---------------------------------------------------------- */

/* Number of positional arguments; checks a count range (contract error). */
int shim_argc(struct shim_req *req, json_t *args, size_t min, size_t max,
    struct sslport_error *err);
/* args[i] or NULL when absent. */
json_t *shim_arg(json_t *args, size_t i);
/*
 * The object behind a {"handle": ...} argument, when its type is `type`
 * (0: any type); the request holds a reference until it ends.  A wrong
 * kind is a contract error naming the op and `expected`.
 */
void *shim_arg_object(struct shim_req *req, json_t *v, enum shim_type type,
    const char *expected, struct sslport_error *err);
/* Same, also giving the type; NULL when v is not a handle (no error). */
void *shim_arg_any(struct shim_req *req, json_t *v, enum shim_type *type);
/* A string, {"bytes"} or {"symbol"} argument; NULL + contract error. */
const char *shim_arg_string(struct shim_req *req, json_t *v,
    const char *expected, struct sslport_error *err);
/* Decoded bytes (malloc'd, owned by the request); -1 + contract error. */
int shim_arg_bytes(struct shim_req *req, json_t *v, const unsigned char **out,
    size_t *len, const char *expected, struct sslport_error *err);
/* A symbol's name, or NULL (no error) when v is not a symbol. */
const char *shim_symbol(json_t *v);
/* An exact integer in [lo, hi]; -1 + contract error. */
int shim_arg_int(struct shim_req *req, json_t *v, long long lo, long long hi,
    long long *out, const char *expected, struct sslport_error *err);
/* Racket truthiness: everything but false (and an absent value) is true. */
int shim_truthy(json_t *v);
/* A keyword argument by its name without "#:", or NULL. */
json_t *shim_kw(json_t *kw, const char *name);
/* The op's name, for error messages. */
const char *shim_op_name(struct shim_req *req);
/* This request's break handle, made on first use. */
struct sslport_break *shim_req_break(struct shim_req *req);
/* Memory freed when the request ends. */
void *shim_req_alloc(struct shim_req *req, size_t n);

/* ---- Results ------------------------------------------------------------ */

json_t *shim_void(void);
json_t *shim_bool(int b);
json_t *shim_bytes(const unsigned char *data, size_t len);
json_t *shim_sym(const char *name);
json_t *shim_eof(void);
/*
 * The handle of an object, registering it on first sight: the same
 * object always gets the same handle.  The shim takes over the caller's
 * reference; when the object already has a handle, that reference is
 * dropped (the object's free function runs on it).
 */
json_t *shim_handle(struct shim_req *req, enum shim_type type, void *obj);
/* Mark *result as several values. */
void shim_values(struct shim_req *req);
/* The request's id, as sent. */
json_t *shim_req_id(struct shim_req *req);

/* ---- Errors ------------------------------------------------------------- */

/* Fill err with a kind and "who: message"; returns -1. */
int shim_fail(struct sslport_error *err, enum sslport_error_kind kind,
    const char *who, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A contract error: "who: contract violation\n  expected: ...". */
int shim_contract(
    struct sslport_error *err, const char *who, const char *expected);

/*
 * Keep the object behind a handle alive beyond the request (for the
 * procedures the shim makes).  Returns the object and a token for
 * shim_unkeep, or NULL when v is not a handle of that type.
 */
void *shim_keep(json_t *v, enum shim_type type, void **token);
void shim_unkeep(void *token);

/* The process-wide record of messages (log-messages). */
json_t *shim_log_messages(void);

/* ---- Procedures the shim makes (make-sni-callback and friends) --------- */

struct shim_logger {
	struct sslport_logger *logger;
	pthread_mutex_t lock;
	json_t *messages; /* [[level, topic, message, data], ...] */
};

struct shim_logger *shim_logger_new(void);
void shim_logger_free(struct shim_logger *sl);

struct shim_sni {
	pthread_mutex_t lock;
	json_t *pairs; /* [[hostname, answer], ...] as sent */
	size_t n;
	char **names;
	struct sslport_ctx **answers; /* a context, or NULL */
	void **tokens;                /* shim_keep tokens */
	int *raises;
	json_t *calls; /* hostnames, in call order */
};

/* The callback to give sslport_set_server_name_identification_callback. */
int shim_sni_call(void *arg, const char *hostname, struct sslport_ctx **choice,
    struct sslport_error *err);

struct shim_errproc {
	pthread_mutex_t lock;
	enum sslport_error_kind kind;
	json_t *calls; /* [[who, message], ...] */
};

/* The sslport_error_fn to give ports->ssl-ports' #:error/ssl. */
void shim_errproc_call(
    void *arg, const char *who, const char *message, struct sslport_error *err);

void shim_sni_free(struct shim_sni *sni);
void shim_errproc_free(struct shim_errproc *ep);

/* Used by ops_base.c: `release`, `break`, `exit`. */
int shim_release(json_t *v);
void shim_break_request(json_t *id);
void shim_shutdown(json_t *id) __attribute__((noreturn));

/*
 * Plain TCP listeners for the suite's own use (tcp-listen), provided with
 * the connection ops.  Weak, so the shim builds without them.
 */
int shim_tcp_listener_wait(void *l, double timeout) __attribute__((weak));
void shim_tcp_listener_close(void *l) __attribute__((weak));
void shim_tcp_listener_free(void *l) __attribute__((weak));

#endif /* SSLPORT_SHIM_H */
