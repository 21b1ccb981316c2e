/*
 * internal.h: what the library's files share.  Not installed.
 */
#ifndef SSLPORT_INTERNAL_H
#define SSLPORT_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "sslport.h"
#include "ossl.h"

#define SSLPORT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- Objects --------------------------------------------------------- */

/* Every public object starts with this, so a `void *` can be checked. */
enum sslport_object_type {
	SSLPORT_OBJ_CTX = 0x5c7c7801,
	SSLPORT_OBJ_LISTENER,
	SSLPORT_OBJ_PORT,
	SSLPORT_OBJ_LOGGER
};

struct sslport_object {
	enum sslport_object_type type;
};

/* ---- Errors ----------------------------------------------------------- */

/* Fill `err` (when not NULL) with a kind and "who: message". Returns -1. */
int sslport_err(struct sslport_error *err, enum sslport_error_kind kind,
    const char *who, const char *fmt, ...) SSLPORT_PRINTF(4, 5);
int sslport_verr(struct sslport_error *err, enum sslport_error_kind kind,
    const char *who, const char *fmt, va_list ap);
/* A contract error in Racket's shape: "who: contract violation\n
 * expected: <expected>". */
int sslport_err_contract(
    struct sslport_error *err, const char *who, const char *expected);
/*
 * Takes OpenSSL's error queue (clearing it) and formats its most specific
 * entry as " (error:...)" into buf; "" when the queue is empty.
 */
void sslport_ossl_reason(char *buf, size_t size);
/* sslport_err with OpenSSL's reason appended to the message. */
int sslport_err_ossl(struct sslport_error *err, enum sslport_error_kind kind,
    const char *who, const char *fmt, ...) SSLPORT_PRINTF(4, 5);
/* Copy `src` into `dst` (either may be NULL). */
void sslport_error_copy(
    struct sslport_error *dst, const struct sslport_error *src);

/* ---- Logging ---------------------------------------------------------- */

struct sslport_logger {
	struct sslport_object obj;
	atomic_int refs;
	sslport_log_fn fn;
	void *arg;
};

struct sslport_logger *sslport_logger_ref(struct sslport_logger *logger);
void sslport_log(struct sslport_logger *logger, enum sslport_log_level level,
    const char *topic, const char *message, const unsigned char *data,
    size_t len);
/* A warning to the process logger, topic "sslport". */
void sslport_warn(const char *fmt, ...) SSLPORT_PRINTF(1, 2);

/* ---- Loader ----------------------------------------------------------- */

/* Loads the libraries once.  0 when libssl and libcrypto are there. */
int sslport_ossl_init(void);
/* 1 when libcrypto's symbols can be used (libssl's may still be missing). */
int sslport_have_libcrypto(void);
int sslport_have_libssl(void);
/* Fails with exn:fail:unsupported, naming `who`, unless SSL is there. */
int sslport_require_ssl(const char *who, struct sslport_error *err);

/* ---- Memory ----------------------------------------------------------- */

void *sslport_calloc(size_t n, size_t size);
char *sslport_strdup(const char *s);
void sslport_cleanse(void *p, size_t n);

/* ---- Breaks ----------------------------------------------------------- */

struct sslport_break {
	int fds[2]; /* a pipe: readable once triggered */
	atomic_int triggered;
};

/* ---- Ports ------------------------------------------------------------ */

struct sslport_port {
	struct sslport_object obj;
	atomic_int refs;
	enum sslport_direction dir;
	const struct sslport_port_ops *ops;
	void *state;
	char *name;
	pthread_mutex_t lock; /* closed, buffer; not held in I/O */
	int closed;
	enum sslport_buffer_mode mode;
	unsigned char *buf; /* output buffer, mode LINE/BLOCK */
	size_t buflen;
	/* Set for the two ports of an SSL connection. */
	struct sslport_conn *conn;
};

#define SSLPORT_PORT_BUFSIZE 4096

struct sslport_port *sslport_port_ref(struct sslport_port *p);
/* 1 when `v` is a port of the library's of that direction. */
int sslport_is_input_port(const void *v);
int sslport_is_output_port(const void *v);
/* Drops a reference without closing; frees at zero. */
void sslport_port_unref(struct sslport_port *p);
/* Read / write through a port with a break handle (may be NULL). */
ssize_t sslport_port_read_brk(struct sslport_port *p, void *buf, size_t n,
    struct sslport_break *brk, struct sslport_error *err);
int sslport_port_write_brk(struct sslport_port *p, const void *buf, size_t n,
    struct sslport_break *brk, struct sslport_error *err);
int sslport_port_wait_brk(struct sslport_port *p, double timeout,
    struct sslport_break *brk, struct sslport_error *err);

/*
 * Takes every unread byte of a port made by sslport_open_input_bytes at
 * once, without a copy: *data stays valid while the port lives.  0 (and
 * nothing taken) for any other port.
 */
int sslport_bytes_port_take(
    struct sslport_port *p, const unsigned char **data, size_t *len);

/* Poll one fd for `events` with a break handle; 1 ready, 0 timeout. */
int sslport_poll_fd(int fd, short events, double timeout,
    struct sslport_break *brk, const char *who, struct sslport_error *err);

/* ---- Contexts --------------------------------------------------------- */

struct sslport_alpn_list {
	unsigned char *wire; /* length-prefixed, as on the wire */
	size_t len;
};

struct sslport_ctx {
	struct sslport_object obj;
	atomic_int refs;
	int server; /* 1 server, 0 client */
	enum sslport_protocol proto;
	SSL_CTX *ssl_ctx;
	pthread_mutex_t lock; /* the fields below */
	int sealed;
	int verify_hostname;
	struct sslport_alpn_list server_alpn;
	int alpn_allow_no_match;
	sslport_sni_fn sni_fn;
	void *sni_arg;
	struct sslport_logger *keylogger;
};

struct sslport_ctx *sslport_ctx_ref(struct sslport_ctx *ctx);
/* Resolve a `void *` argument naming a context or a listener. */
struct sslport_ctx *sslport_ctx_of(void *ctx_or_listener, int allow_listener,
    const char *who, struct sslport_error *err);
/* Fails with "context is sealed" when it is. Lock held by the caller. */
int sslport_ctx_check_unsealed(
    struct sslport_ctx *ctx, const char *who, struct sslport_error *err);
/* The ex_data index under which an SSL_CTX keeps its sslport_ctx. */
int sslport_ctx_ex_index(void);
/*
 * The verify callback of ssl-try-verify!: it lets the handshake go on
 * whatever the chain's fault (SSL_get_verify_result keeps the fault, so
 * ssl-peer-verified? answers #f), except a host, IP or email mismatch,
 * which still fails (D.try-verify.2).  Give it with SSL_VERIFY_PEER.
 */
int sslport_verify_accept_any(int ok, X509_STORE_CTX *store);
/* OpenSSL's own verdict, for SSL_set_verify, which ignores NULL. */
int sslport_verify_as_is(int ok, X509_STORE_CTX *store);
/* A new context's key-log callback (keylog.c), when it needs one. */
void sslport_keylog_attach(struct sslport_ctx *ctx);
/*
 * "<who>: load failed from: <from> (<reason>)", exn:fail, with the first
 * error OpenSSL queued (clearing the queue); `from` is a quoted path.
 */
int sslport_err_load(
    struct sslport_error *err, const char *who, const char *from);

/* ---- Connections ------------------------------------------------------ */

/* The state shared by the two SSL ports of one connection: see conn.c. */
struct sslport_conn;

/* The SSL port's connection, or a contract error naming `who`. */
struct sslport_conn *sslport_conn_of(
    struct sslport_port *p, const char *who, struct sslport_error *err);
/*
 * ssl-set-verify! / ssl-try-verify! on a live connection: set the SSL
 * object's verify mode (OpenSSL's SSL_VERIFY_* bits) and renegotiate
 * where the protocol allows (spec S5.verify).  Implemented in conn.c.
 */
int sslport_conn_set_verify(struct sslport_conn *conn, int mode,
    const char *who, struct sslport_error *err);

#endif /* SSLPORT_INTERNAL_H */
