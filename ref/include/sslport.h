/*
 * sslport.h: TLS over byte-stream ports, on OpenSSL.
 *
 * The C reference implementation of the API that Racket's `openssl`
 * library documents (documentation version 8.15.900). Each documented
 * binding is one function, named by a mechanical rule: drop a leading
 * "ssl-", prefix "sslport_", turn "-" and "/" into "_", "->" into "_to_",
 * drop "!" and "?", and write a type predicate "x?" as sslport_is_x.
 * Functions with no documented binding are sslport_<object>_<verb>.
 *
 * Conventions for every function below:
 *  - A function that can fail takes a struct sslport_error * as its last
 *    argument (it may be NULL) and returns -1 or NULL on failure, with the
 *    error's kind and message filled in.  On success the error is cleared.
 *  - Where the documentation accepts several kinds of object (a context,
 *    a listener or a port), the argument is a `void *` naming any sslport
 *    object; a wrong kind is a contract error, never a crash.
 *  - Objects are created by a _new/_make/_connect/_accept call and
 *    released by the matching _free.  _free(NULL) does nothing.  Strings
 *    and buffers returned through pointer arguments are the caller's, to
 *    release with free(3), unless the comment says otherwise.
 *  - The library prints nothing.  Messages go to loggers.
 */
#ifndef SSLPORT_H
#define SSLPORT_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SSLPORT_DOC_VERSION "8.15.900"
#define SSLPORT_VERSION "0.1.0"

/* ---- Errors ---------------------------------------------------------- */

/* Kinds mirror the documented exceptions. */
enum sslport_error_kind {
	SSLPORT_OK = 0,
	SSLPORT_ECONTRACT, /* exn:fail:contract: a bad argument */
	SSLPORT_ENETWORK,  /* exn:fail:network: connect/accept, their ports */
	SSLPORT_EFAIL,     /* exn:fail: everything else */
	SSLPORT_EUNSUPPORTED, /* exn:fail:unsupported */
	SSLPORT_EBREAK        /* exn:break: an /enable-break call broken */
};

#define SSLPORT_ERROR_MAX 1024

struct sslport_error {
	enum sslport_error_kind kind;
	char message[SSLPORT_ERROR_MAX]; /* "who: what (reason)" */
};

void sslport_error_clear(struct sslport_error *err);
/* "exn:fail:contract" and so on; "ok" for SSLPORT_OK. Static string. */
const char *sslport_error_kind_name(enum sslport_error_kind kind);

/* ---- Logging --------------------------------------------------------- */

enum sslport_log_level {
	SSLPORT_LOG_FATAL,
	SSLPORT_LOG_ERROR,
	SSLPORT_LOG_WARNING,
	SSLPORT_LOG_INFO,
	SSLPORT_LOG_DEBUG
};

/*
 * A logger receives messages: level, topic (a symbol such as
 * "openssl-keylogger" or "sslport"), a message text, and data bytes
 * (NULL and 0 when there are none).  The callback may run on any thread,
 * concurrently; it must not call back into the object that logged.
 */
typedef void (*sslport_log_fn)(void *arg, enum sslport_log_level level,
    const char *topic, const char *message, const unsigned char *data,
    size_t len);

struct sslport_logger;

struct sslport_logger *sslport_logger_new(sslport_log_fn fn, void *arg);
void sslport_logger_free(struct sslport_logger *logger);
/* "fatal" ... "debug". Static string. */
const char *sslport_log_level_name(enum sslport_log_level level);

/*
 * The process-wide logger, for warnings (the hashing fallback, the
 * deprecated DHE/ECDHE procedures).  Messages are dropped while none is
 * set.  The library keeps its own reference; NULL unsets.
 */
void sslport_set_process_logger(struct sslport_logger *logger);

/* ---- Availability and the libraries (documented sections 0, 8, 9) ---- */

/*
 * The libraries are opened once, on first use of anything that needs
 * them, with dlopen over openssl_lib_versions.  Setting the environment
 * variable SSLPORT_HIDE_LIBSSL=1 or SSLPORT_HIDE_LIBCRYPTO=1 before that
 * makes the loader act as if that library were missing.
 */
int sslport_available(void);                /* ssl-available? */
const char *sslport_load_fail_reason(void); /* NULL when available */
void *sslport_libcrypto(void);              /* dlopen handle or NULL */
const char *sslport_libcrypto_load_fail_reason(void);
void *sslport_libssl(void);
const char *sslport_libssl_load_fail_reason(void);
/* NULL-terminated, static: the version suffixes tried, in order. */
const char *const *sslport_openssl_lib_versions(void);
/* OpenSSL's version text, or NULL when libcrypto is not loaded. */
const char *sslport_openssl_version_text(void);

/* ---- Ports ----------------------------------------------------------- */

/*
 * A port is one direction of a byte stream.  The library's own ports
 * (bytes, pipes, file descriptors, TCP, SSL) and any caller-made port
 * (through sslport_port_new and a table of operations) work alike.
 * A port may be used from several threads: one reader and one writer at
 * a time are always safe; SSL ports allow a reader and a writer at once.
 */
enum sslport_direction { SSLPORT_INPUT, SSLPORT_OUTPUT };
enum sslport_buffer_mode {
	SSLPORT_BUFFER_NONE,
	SSLPORT_BUFFER_LINE,
	SSLPORT_BUFFER_BLOCK
};

struct sslport_port;
struct sslport_break;

/*
 * Operations of a port.  `read` waits for at least one byte and returns
 * how many it stored (0 at end-of-file, -1 on error).  `write` writes at
 * least one byte and returns how many (-1 on error).  `wait` waits up to
 * `timeout` seconds (negative: forever) for input to be ready, returning
 * 1, 0 on timeout or -1.  `close` releases what the port holds, and
 * `destroy` frees `state` (both may be NULL).  `fd` gives the file
 * descriptor under the port, or -1.  `brk`, when not NULL, is a break
 * handle the operation should also wait on, failing with SSLPORT_EBREAK
 * when it triggers.
 */
struct sslport_port_ops {
	ssize_t (*read)(void *state, void *buf, size_t n,
	    struct sslport_break *brk, struct sslport_error *err);
	ssize_t (*write)(void *state, const void *buf, size_t n,
	    struct sslport_break *brk, struct sslport_error *err);
	int (*flush)(void *state, struct sslport_error *err);
	int (*wait)(void *state, double timeout, struct sslport_break *brk,
	    struct sslport_error *err);
	int (*close)(void *state, struct sslport_error *err);
	void (*destroy)(void *state);
	int (*fd)(void *state);
};

struct sslport_port *sslport_port_new(enum sslport_direction dir,
    const struct sslport_port_ops *ops, void *state, const char *name);
/* Closes the port if it is open, then drops the caller's reference. */
void sslport_port_free(struct sslport_port *p);

enum sslport_direction sslport_port_direction(const struct sslport_port *p);
/* Up to n bytes, at least one unless at end-of-file: 0 means eof. */
ssize_t sslport_port_read(
    struct sslport_port *p, void *buf, size_t n, struct sslport_error *err);
/* Reads until n bytes or eof; returns the count (0 only at eof). */
ssize_t sslport_port_read_full(
    struct sslport_port *p, void *buf, size_t n, struct sslport_error *err);
/* Writes all n bytes (buffered per the buffer mode). */
int sslport_port_write(struct sslport_port *p, const void *buf, size_t n,
    struct sslport_error *err);
int sslport_port_flush(struct sslport_port *p, struct sslport_error *err);
int sslport_port_close(struct sslport_port *p, struct sslport_error *err);
int sslport_port_is_closed(const struct sslport_port *p);
/* 1 ready, 0 timed out, -1 error.  A negative timeout waits forever. */
int sslport_port_wait(
    struct sslport_port *p, double timeout, struct sslport_error *err);
/* 1 when a read would not block (byte-ready?), 0 otherwise, -1 error. */
int sslport_port_byte_ready(struct sslport_port *p, struct sslport_error *err);
enum sslport_buffer_mode sslport_port_buffer_mode(const struct sslport_port *p);
int sslport_port_set_buffer_mode(struct sslport_port *p,
    enum sslport_buffer_mode mode, struct sslport_error *err);
/* The file descriptor under the port (through any SSL layers), or -1. */
int sslport_port_fd(struct sslport_port *p);

/* An input port over a copy of `len` bytes. */
struct sslport_port *sslport_open_input_bytes(
    const void *data, size_t len, struct sslport_error *err);
/*
 * An in-process pipe that holds at most `limit` bytes (0: no limit).
 * Writes block while it is full; reads block while it is empty and the
 * output end is open; closing the output end gives the reader eof.
 */
int sslport_make_pipe(size_t limit, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err);
/*
 * Ports over file descriptors.  The ports own the descriptors: `in_fd`
 * is shut down for reading / closed when the input port closes and
 * `out_fd` likewise when the output port closes (the same descriptor may
 * be given for both; it is closed when both are closed).
 */
int sslport_fd_ports(int in_fd, int out_fd, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err);

/* ---- Breaks ----------------------------------------------------------- */

/* A break handle, triggered from any thread or a signal handler. */
struct sslport_break *sslport_break_new(struct sslport_error *err);
void sslport_break_trigger(struct sslport_break *brk);
int sslport_break_is_triggered(const struct sslport_break *brk);
void sslport_break_free(struct sslport_break *brk);

/* ---- Protocol symbols ------------------------------------------------- */

enum sslport_protocol {
	SSLPORT_PROTO_SECURE,
	SSLPORT_PROTO_AUTO,
	SSLPORT_PROTO_SSLV2_OR_V3,
	SSLPORT_PROTO_SSLV2,
	SSLPORT_PROTO_SSLV3,
	SSLPORT_PROTO_TLS,
	SSLPORT_PROTO_TLS11,
	SSLPORT_PROTO_TLS12,
	SSLPORT_PROTO_TLS13
};
#define SSLPORT_PROTO_COUNT 9

/* "secure", "auto", ... "tls13"; NULL for a value out of range. */
const char *sslport_protocol_name(enum sslport_protocol proto);
/* 0 and *out set for a known symbol name, -1 otherwise. */
int sslport_protocol_from_name(const char *name, enum sslport_protocol *out);
/* Fills out[] (room for SSLPORT_PROTO_COUNT) and returns the count. */
size_t sslport_supported_client_protocols(enum sslport_protocol *out);
size_t sslport_supported_server_protocols(enum sslport_protocol *out);
/* 0 and *out set, or -1 when no protocol is supported (SSL missing). */
int sslport_max_client_protocol(enum sslport_protocol *out);
int sslport_max_server_protocol(enum sslport_protocol *out);

/* ---- Contexts (documented sections 1, 2, 4) ---------------------------- */

struct sslport_ctx;

enum sslport_key_kind {
	SSLPORT_KEY_PEM,      /* (pem path) */
	SSLPORT_KEY_PEM_DATA, /* (pem-data bytes) */
	SSLPORT_KEY_DER       /* (der path) */
};

struct sslport_key_form {
	enum sslport_key_kind kind;
	const char *path;          /* PEM, DER */
	const unsigned char *data; /* PEM_DATA */
	size_t len;
};

/*
 * New contexts.  `key` and `chain` may be NULL.  A 'secure client context
 * without key and chain is the cached secure context (a new reference to
 * it); with them, a new sealed secure context holding them.
 */
struct sslport_ctx *sslport_make_client_context(enum sslport_protocol proto,
    const struct sslport_key_form *key, const char *chain,
    struct sslport_error *err);
struct sslport_ctx *sslport_make_server_context(enum sslport_protocol proto,
    const struct sslport_key_form *key, const char *chain,
    struct sslport_error *err);
/* The cached secure client context, a new reference. */
struct sslport_ctx *sslport_secure_client_context(struct sslport_error *err);
/* Drops a reference; connections keep their context alive. */
void sslport_ctx_free(struct sslport_ctx *ctx);

/* Predicates take any sslport object, or NULL. */
int sslport_is_client_context(const void *v);
int sslport_is_server_context(const void *v);
int sslport_is_listener(const void *v);
int sslport_is_port(const void *v); /* ssl-port?: SSL ports only */

enum sslport_source_kind {
	SSLPORT_SOURCE_FILE,
	SSLPORT_SOURCE_DIRECTORY,
	SSLPORT_SOURCE_WIN32_STORE,
	SSLPORT_SOURCE_MACOSX_KEYCHAIN
};

struct sslport_source {
	enum sslport_source_kind kind;
	const char *arg; /* path or store name; NULL: keychain #f */
};

int sslport_load_verify_source(struct sslport_ctx *ctx,
    const struct sslport_source *src, int try_, struct sslport_error *err);
/*
 * The ssl-default-verify-sources parameter.  The getter gives a copy in
 * *out (release with sslport_sources_free) and its length in *n.
 */
int sslport_default_verify_sources(
    struct sslport_source **out, size_t *n, struct sslport_error *err);
int sslport_set_default_verify_sources(
    const struct sslport_source *srcs, size_t n, struct sslport_error *err);
void sslport_sources_free(struct sslport_source *srcs, size_t n);
int sslport_load_default_verify_sources(
    struct sslport_ctx *ctx, struct sslport_error *err);

/* `ctx_or_listener`: a context or a listener (the listener's context). */
int sslport_load_verify_root_certificates(
    void *ctx_or_listener, const char *path, struct sslport_error *err);
int sslport_set_ciphers(
    struct sslport_ctx *ctx, const char *spec, struct sslport_error *err);
int sslport_seal_context(struct sslport_ctx *ctx, struct sslport_error *err);
int sslport_load_certificate_chain(
    void *ctx_or_listener, const char *path, struct sslport_error *err);

/* A key from a file (`path`) or from PEM bytes (`data`, when not NULL). */
struct sslport_key_source {
	const char *path;
	const unsigned char *data;
	size_t len;
};

int sslport_load_private_key(void *ctx_or_listener,
    const struct sslport_key_source *src, int rsa, int asn1,
    struct sslport_error *err);
int sslport_load_suggested_certificate_authorities(
    void *ctx_or_listener, const char *path, struct sslport_error *err);
/* Deprecated: no effect but a warning on the process logger. */
int sslport_server_context_enable_dhe(struct sslport_ctx *ctx,
    const void *param, size_t len, struct sslport_error *err);
int sslport_server_context_enable_ecdhe(
    struct sslport_ctx *ctx, const char *curve, struct sslport_error *err);
/* The empty byte string: *len is set to 0. */
const unsigned char *sslport_dh4096_param_bytes(size_t *len);

/*
 * An SNI callback: given the name the client sent, store a server context
 * in *choice (a borrowed pointer; NULL keeps the original context) and
 * return 0, or return -1 with `err` filled to refuse the handshake.  It is
 * not called when the client sends no name.
 */
typedef int (*sslport_sni_fn)(void *arg, const char *hostname,
    struct sslport_ctx **choice, struct sslport_error *err);

int sslport_set_server_name_identification_callback(struct sslport_ctx *ctx,
    sslport_sni_fn fn, void *arg, struct sslport_error *err);

/* A byte string: one ALPN protocol name, 1 to 255 bytes. */
struct sslport_bytes {
	const unsigned char *data;
	size_t len;
};

int sslport_set_server_alpn(struct sslport_ctx *ctx,
    const struct sslport_bytes *protos, size_t n, int allow_no_match,
    struct sslport_error *err);
/* NULL stops key logging.  The context keeps its own reference. */
int sslport_set_keylogger(struct sslport_ctx *ctx,
    struct sslport_logger *logger, struct sslport_error *err);

/* ---- Client and server (documented sections 1, 2) ---------------------- */

/*
 * The client uses `ctx` when it is not NULL, otherwise a context made
 * from `proto`.  On success *in and *out are the caller's.
 */
int sslport_connect(const char *hostname, int port, struct sslport_ctx *ctx,
    enum sslport_protocol proto, const struct sslport_bytes *alpn, size_t nalpn,
    struct sslport_port **in, struct sslport_port **out,
    struct sslport_error *err);
/* As sslport_connect; a trigger of `brk` while waiting fails with
 * SSLPORT_EBREAK, and then no connection is made. */
int sslport_connect_enable_break(const char *hostname, int port,
    struct sslport_ctx *ctx, enum sslport_protocol proto,
    const struct sslport_bytes *alpn, size_t nalpn, struct sslport_break *brk,
    struct sslport_port **in, struct sslport_port **out,
    struct sslport_error *err);

struct sslport_listener;

/* `host` may be NULL (all addresses); port 0 lets the system choose. */
struct sslport_listener *sslport_listen(int port, int backlog, int reuse,
    const char *host, struct sslport_ctx *ctx, enum sslport_protocol proto,
    struct sslport_error *err);
/* ssl-close: stops listening; a second close is an error. */
int sslport_close(struct sslport_listener *l, struct sslport_error *err);
void sslport_listener_free(struct sslport_listener *l);
/* The listener's context (borrowed, valid while the listener lives). */
struct sslport_ctx *sslport_listener_context(struct sslport_listener *l);
/* 1 when a connection is waiting, 0 on timeout, -1 on error. */
int sslport_listener_wait(
    struct sslport_listener *l, double timeout, struct sslport_error *err);
int sslport_accept(struct sslport_listener *l, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err);
int sslport_accept_enable_break(struct sslport_listener *l,
    struct sslport_break *brk, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err);
/* Closes the port without sending a shutdown (close_notify). */
int sslport_abandon_port(struct sslport_port *p, struct sslport_error *err);

struct sslport_addresses {
	char local_host[64];
	int local_port;
	char remote_host[64];
	int remote_port;
};

/* An SSL port over TCP, or a listener (remote: "0.0.0.0", 0). */
int sslport_addresses(void *port_or_listener, struct sslport_addresses *out,
    struct sslport_error *err);

/* ---- Wrapping ports (documented section 3) ----------------------------- */

enum sslport_mode { SSLPORT_MODE_ACCEPT, SSLPORT_MODE_CONNECT };

/*
 * The #:error/ssl procedure: given who failed and the formatted message,
 * fill `err` (its kind decides the exception).  The default fills
 * SSLPORT_EFAIL.
 */
typedef void (*sslport_error_fn)(
    void *arg, const char *who, const char *message, struct sslport_error *err);

struct sslport_wrap_options {
	enum sslport_mode mode;        /* default ACCEPT */
	struct sslport_ctx *context;   /* default NULL */
	enum sslport_protocol encrypt; /* default AUTO */
	int close_original;            /* default 0 */
	int shutdown_on_close;         /* default 0 */
	sslport_error_fn error_fn;     /* default NULL: exn:fail */
	void *error_arg;
	const char *hostname;             /* default NULL */
	const struct sslport_bytes *alpn; /* default NULL, 0 */
	size_t nalpn;
};

/* Sets every field to its documented default. */
void sslport_wrap_options_init(struct sslport_wrap_options *opt);
/*
 * ports->ssl-ports.  The SSL ports take their own references to `in` and
 * `out`; the caller keeps (and frees) its own.
 */
int sslport_ports_to_ssl_ports(struct sslport_port *in,
    struct sslport_port *out, const struct sslport_wrap_options *opt,
    struct sslport_port **ssl_in, struct sslport_port **ssl_out,
    struct sslport_error *err);

/* ---- Peer verification (documented section 5) -------------------------- */

/* `clp`: a context, a listener or an SSL port. */
int sslport_set_verify(void *clp, int on, struct sslport_error *err);
int sslport_try_verify(void *clp, int on, struct sslport_error *err);
int sslport_set_verify_hostname(
    struct sslport_ctx *ctx, int on, struct sslport_error *err);

/* 1 verified, 0 not, -1 error. */
int sslport_peer_verified(struct sslport_port *p, struct sslport_error *err);
/* A NULL-terminated array of strings in *out; free with
 * sslport_strings_free. */
int sslport_peer_certificate_hostnames(
    struct sslport_port *p, char ***out, struct sslport_error *err);
void sslport_strings_free(char **strings);
/* 1 valid for hostname, 0 not, -1 error. */
int sslport_peer_check_hostname(
    struct sslport_port *p, const char *hostname, struct sslport_error *err);
/* 1 with *out (malloc'd) and *len set, 0 for #f, -1 error. */
int sslport_peer_subject_name(struct sslport_port *p, unsigned char **out,
    size_t *len, struct sslport_error *err);
int sslport_peer_issuer_name(struct sslport_port *p, unsigned char **out,
    size_t *len, struct sslport_error *err);

enum sslport_binding {
	SSLPORT_BINDING_TLS_EXPORTER,
	SSLPORT_BINDING_TLS_UNIQUE,
	SSLPORT_BINDING_TLS_SERVER_END_POINT
};

/* "tls-exporter" ...; NULL out of range. */
const char *sslport_binding_name(enum sslport_binding type);
int sslport_binding_from_name(const char *name, enum sslport_binding *out);
int sslport_channel_binding(struct sslport_port *p, enum sslport_binding type,
    unsigned char **out, size_t *len, struct sslport_error *err);
int sslport_default_channel_binding(struct sslport_port *p,
    enum sslport_binding *type, unsigned char **out, size_t *len,
    struct sslport_error *err);
/* 1 with *out (malloc'd) and *len set, 0 when none was selected. */
int sslport_get_alpn_selected(struct sslport_port *p, unsigned char **out,
    size_t *len, struct sslport_error *err);
/* 1 with *out set, 0 when unknown (#f), -1 error. */
int sslport_protocol_version(struct sslport_port *p, enum sslport_protocol *out,
    struct sslport_error *err);

/* ---- Hashing (documented sections 6, 7) -------------------------------- */

/* Read `in` to eof and hash it.  `out` has 20 (SHA-1) or 16 (MD5) bytes;
 * the hex forms write 41 or 33 bytes with the terminating NUL. */
int sslport_sha1_bytes(
    struct sslport_port *in, unsigned char out[20], struct sslport_error *err);
int sslport_sha1(
    struct sslport_port *in, char out[41], struct sslport_error *err);
int sslport_md5_bytes(
    struct sslport_port *in, unsigned char out[16], struct sslport_error *err);
int sslport_md5(
    struct sslport_port *in, char out[33], struct sslport_error *err);
/* Lower-case hex of `len` bytes into `out` (room for 2*len+1). */
void sslport_bytes_to_hex_string(
    const unsigned char *data, size_t len, char *out);
/* Pairs of hex digits, either case, into *out (malloc'd) and *len. */
int sslport_hex_string_to_bytes(const char *str, size_t slen,
    unsigned char **out, size_t *len, struct sslport_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SSLPORT_H */
