/*
 * conn.h: a connection, the state behind the two SSL ports of one
 * handshake.  Shared by conn.c (the ports and the pump), net.c, peer.c
 * and binding.c.  Not installed.
 *
 * One SSL object talks to a BIO of conn.c's own, which reads and writes
 * two queues of ciphertext.  OpenSSL runs only under the connection's
 * lock; the underlying ports are read and written without it, by one
 * reading thread and one flushing thread at a time, so that a reader
 * and a writer never wait for each other (design.md, "Full duplex").
 */
#ifndef SSLPORT_CONN_H
#define SSLPORT_CONN_H

#include "internal.h"

/*
 * Ciphertext in order: read from the underlying input and not yet taken
 * by OpenSSL (`off` counts what it took), or written by OpenSSL and not
 * yet to the underlying output.
 */
struct conn_chunk {
	struct conn_chunk *next;
	size_t off;
	size_t len;
	size_t cap;
	unsigned char data[];
};

struct conn_queue {
	struct conn_chunk *head;
	struct conn_chunk *tail;
	size_t bytes; /* not yet taken */
};

struct sslport_conn {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* any state below moved on */
	int refs;               /* SSL ports not yet destroyed */
	SSL *ssl;               /* NULL once both ports are closed */
	BIO *bio;               /* owned by ssl; both ways */
	BIO_METHOD *bio_method; /* the BIO's, freed after it */
	struct sslport_ctx *ctx;
	struct sslport_port *under_in;
	struct sslport_port *under_out;
	int server;
	int close_original;
	int shutdown_on_close;
	sslport_error_fn error_fn;
	void *error_arg;
	int version; /* SSL_version after the handshake */

	/* Output: ciphertext in order, written by one thread at a time. */
	struct conn_queue out;
	int flushing;
	int flight;     /* the queue ends a handshake: send it before reading */
	int out_oom;    /* no memory for what OpenSSL wrote */
	int out_failed; /* the underlying output failed */
	struct sslport_error out_err;

	/* Input: one thread at a time reads the underlying input port. */
	int reading;
	struct conn_queue in;
	int under_eof;
	int in_failed; /* the underlying input failed */
	struct sslport_error in_err;
	unsigned char *plain; /* read during a renegotiation */
	size_t plain_len;
	size_t plain_off;

	int tls_failed;       /* a fatal TLS error, kept */
	char tls_reason[320]; /* " (error:...)" */
	int in_closed;
	int out_closed;
	int torn_down;
};

/* Lock the connection; its SSL object, or NULL once both ports closed. */
SSL *sslport_conn_lock(struct sslport_conn *c);
void sslport_conn_unlock(struct sslport_conn *c);

/*
 * The engine behind ports->ssl-ports, ssl-connect and ssl-accept: `who`
 * names the caller in handshake errors, `brk` (may be NULL) interrupts
 * the handshake.
 */
int sslport_conn_wrap(struct sslport_port *in, struct sslport_port *out,
    const struct sslport_wrap_options *opt, const char *who,
    struct sslport_break *brk, struct sslport_port **ssl_in,
    struct sslport_port **ssl_out, struct sslport_error *err);

/* Each ALPN protocol name is 1 to 255 bytes (contract error otherwise). */
int sslport_check_alpn(const struct sslport_bytes *alpn, size_t n,
    const char *who, struct sslport_error *err);

/* The project's hostname rule (peer.c): 1 when `cert` is valid for it. */
int sslport_cert_matches_host(X509 *cert, const char *hostname);
/* 1 for an IPv4 dotted quad or an IPv6 literal. */
int sslport_is_ip_literal(const char *hostname);

#endif /* SSLPORT_CONN_H */
