/*
 * testutil.h: what the C unit tests share.  Failures are counted and
 * printed as "FAIL: <test>: got ..., want ..."; main returns non-zero
 * when any test failed.
 */
#ifndef SSLPORT_TESTUTIL_H
#define SSLPORT_TESTUTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sslport.h"

static int test_failures;

static inline void __attribute__((format(printf, 2, 3)))
test_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL: %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	test_failures++;
}

static inline double
test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Join with a deadline (test_now's clock); non-zero if still running. */
static inline int
test_join_by(pthread_t t, double deadline)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(deadline - test_now()) + 1;
	return pthread_timedjoin_np(t, NULL, &ts);
}

/* A file of the test PKI: $SSLPORT_CERTS or certs/ at the top. */
static inline const char *
test_cert(const char *file)
{
	static char paths[8][512];
	static int next;
	const char *dir = getenv("SSLPORT_CERTS");
	char *p = paths[next++ % 8];

	snprintf(p, 512, "%s/%s", dir != NULL ? dir : "certs", file);
	return p;
}

/* A server context holding the certificate `stem`.pem and its key. */
static inline struct sslport_ctx *
test_server_ctx(enum sslport_protocol proto, const char *stem)
{
	struct sslport_key_source key = {0};
	struct sslport_error err;
	struct sslport_ctx *ctx;
	char name[128];

	ctx = sslport_make_server_context(proto, NULL, NULL, &err);
	if (ctx == NULL) {
		test_fail("server context", "%s", err.message);
		return NULL;
	}
	snprintf(name, sizeof(name), "%s.pem", stem);
	if (sslport_load_certificate_chain(ctx, test_cert(name), &err) < 0)
		goto fail;
	snprintf(name, sizeof(name), "%s.key", stem);
	key.path = test_cert(name);
	if (sslport_load_private_key(ctx, &key, 0, 0, &err) < 0)
		goto fail;
	return ctx;
fail:
	test_fail("server context", "%s", err.message);
	sslport_ctx_free(ctx);
	return NULL;
}

/* ---- Both ends of a connection over any pair of port pairs ------------ */

struct test_wrap {
	struct sslport_port *in; /* underlying */
	struct sslport_port *out;
	struct sslport_wrap_options opt;
	struct sslport_port *ssl_in; /* results */
	struct sslport_port *ssl_out;
	struct sslport_error err;
	int rv;
};

static inline void *
test_wrap_thread(void *arg)
{
	struct test_wrap *w = arg;

	w->rv = sslport_ports_to_ssl_ports(
	    w->in, w->out, &w->opt, &w->ssl_in, &w->ssl_out, &w->err);
	return NULL;
}

/* Handshake both ends at once, the server on its own thread. */
static inline int
test_handshake(struct test_wrap *client, struct test_wrap *server)
{
	pthread_t t;

	pthread_create(&t, NULL, test_wrap_thread, server);
	test_wrap_thread(client);
	pthread_join(t, NULL);
	return client->rv == 0 && server->rv == 0 ? 0 : -1;
}

/*
 * Two crossed pipes (each holding at most `limit` bytes) between a
 * client and a server in accept mode with `sctx`.
 */
static inline int
test_pipe_pair(size_t limit, struct sslport_ctx *sctx, struct test_wrap *client,
    struct test_wrap *server)
{
	struct sslport_error err;

	memset(client, 0, sizeof(*client));
	memset(server, 0, sizeof(*server));
	if (sslport_make_pipe(limit, &server->in, &client->out, &err) < 0 ||
	    sslport_make_pipe(limit, &client->in, &server->out, &err) < 0)
		return -1;
	sslport_wrap_options_init(&client->opt);
	sslport_wrap_options_init(&server->opt);
	client->opt.mode = SSLPORT_MODE_CONNECT;
	server->opt.context = sctx;
	return 0;
}

/* Free both ends: the SSL ports, then the underlying ones. */
static inline void
test_wrap_free(struct test_wrap *w)
{
	sslport_port_free(w->ssl_in);
	sslport_port_free(w->ssl_out);
	sslport_port_free(w->in);
	sslport_port_free(w->out);
	memset(w, 0, sizeof(*w));
}

#endif /* SSLPORT_TESTUTIL_H */
