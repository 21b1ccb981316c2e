/*
 * test_renegotiate.c: ssl-set-verify! and ssl-try-verify! on the server's
 * port of a TLS 1.2 connection renegotiate at once (S5.verify.9,
 * S5.verify.10, S5.try-verify.9), with the reference at both ends over
 * pipes.  The client takes part in the renegotiation while it reads.
 *
 * A server context that verifies clients names its sessions, so a
 * client may offer to resume in the renegotiation.  The server must
 * still make it a full handshake that asks for a certificate (a resumed
 * one would keep what the first handshake had, and let a client without
 * a certificate through ssl-set-verify!), and a client whose flight is
 * the last of a handshake must send it even though it goes on reading.
 * A case that does not finish in time is a deadlock and stops the test.
 */
#include <pthread.h>
#include <unistd.h>

#include "testutil.h"

#define MAX_SECONDS 20.0

enum verify { NONE, TRY, SET };

static const struct reneg_case {
	const char *name;
	enum verify context; /* the server context's own verification */
	const char *client;  /* stem of the client's certificate, or NULL */
	enum verify port;    /* what the server then calls on its port */
	int ok;              /* the call returns void */
	int verified;        /* ssl-peer-verified? on the server's port */
} cases[] = {
    {"unverifying context, set, trusted", NONE, "client", SET, 1, 1},
    {"unverifying context, set, none", NONE, NULL, SET, 0, 0},
    {"trying context, set, trusted", TRY, "client", SET, 1, 1},
    {"trying context, set, none", TRY, NULL, SET, 0, 0},
    {"trying context, set, untrusted", TRY, "client-untrusted", SET, 0, 0},
    {"trying context, try, none", TRY, NULL, TRY, 1, 0},
    {"trying context, try, untrusted", TRY, "client-untrusted", TRY, 1, 0},
    {"verifying context, set, trusted", SET, "client", SET, 1, 1},
    {"verifying context, try, trusted", SET, "client", TRY, 1, 1},
};

static int
set_verification(void *clp, enum verify v, struct sslport_error *err)
{
	if (v == NONE)
		return 0;
	return (v == TRY ? sslport_try_verify : sslport_set_verify)(
	    clp, 1, err);
}

static struct sslport_ctx *
server_context(const struct reneg_case *tc)
{
	struct sslport_ctx *ctx =
	    test_server_ctx(SSLPORT_PROTO_TLS12, "server-rsa");
	struct sslport_error err;

	if (ctx == NULL)
		return NULL;
	if (sslport_load_verify_root_certificates(
	        ctx, test_cert("root-ca.pem"), &err) < 0 ||
	    set_verification(ctx, tc->context, &err) < 0) {
		test_fail(tc->name, "server context: %s", err.message);
		sslport_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

static struct sslport_ctx *
client_context(const struct reneg_case *tc)
{
	struct sslport_key_form key = {SSLPORT_KEY_PEM, NULL, NULL, 0};
	struct sslport_error err;
	struct sslport_ctx *ctx;
	char chain[128], file[128];

	snprintf(chain, sizeof(chain), "%s.pem", tc->client);
	snprintf(file, sizeof(file), "%s.key", tc->client);
	key.path = test_cert(file);
	ctx = sslport_make_client_context(SSLPORT_PROTO_TLS12,
	    tc->client ? &key : NULL, tc->client ? test_cert(chain) : NULL,
	    &err);
	if (ctx == NULL)
		test_fail(tc->name, "client context: %s", err.message);
	return ctx;
}

/* One end's part, on its own thread. */
struct part {
	const struct reneg_case *tc;
	struct test_wrap *w;
	int rv;
	int verified;
	char byte;
	struct sslport_error err;
};

/* The client reads one byte: the server's, after the renegotiation. */
static void *
client_reads(void *arg)
{
	struct part *p = arg;

	p->rv = (int)sslport_port_read(p->w->ssl_in, &p->byte, 1, &p->err);
	return NULL;
}

/* The server's call on its port, then a byte for the client, and close. */
static void *
server_calls(void *arg)
{
	struct part *p = arg;
	struct sslport_error e;

	p->rv = set_verification(p->w->ssl_in, p->tc->port, &p->err);
	p->verified = sslport_peer_verified(p->w->ssl_in, &e);
	if (p->rv == 0 &&
	    (sslport_port_write(p->w->ssl_out, "!", 1, &e) < 0 ||
	        sslport_port_flush(p->w->ssl_out, &e) < 0))
		test_fail(p->tc->name, "server write: %s", e.message);
	sslport_port_close(p->w->ssl_out, &e);
	return NULL;
}

static void
check_case(
    const struct reneg_case *tc, struct test_wrap *c, struct test_wrap *s)
{
	static const char *const who[2] = {
	    "the server's call", "the client's read"};
	struct part parts[2] = {{tc, s, 0, 0, 0, {0}}, {tc, c, 0, 0, 0, {0}}};
	double deadline = test_now() + MAX_SECONDS;
	pthread_t t[2];
	int i;

	pthread_create(&t[0], NULL, server_calls, &parts[0]);
	pthread_create(&t[1], NULL, client_reads, &parts[1]);
	for (i = 0; i < 2; i++) {
		if (test_join_by(t[i], deadline) != 0) {
			test_fail(tc->name,
			    "%s still waits after %.0f s: deadlock", who[i],
			    MAX_SECONDS);
			fflush(stderr);
			_exit(1);
		}
	}
	if ((parts[0].rv == 0) != tc->ok || parts[0].verified != tc->verified)
		test_fail(tc->name, "got %s, verified %d; want %s, verified %d",
		    parts[0].rv == 0 ? "void" : parts[0].err.message,
		    parts[0].verified, tc->ok ? "void" : "an error",
		    tc->verified);
	if (tc->ok && (parts[1].rv != 1 || parts[1].byte != '!'))
		test_fail(tc->name, "client read: got %d bytes (%s); want 1",
		    parts[1].rv, parts[1].rv < 0 ? parts[1].err.message : "");
}

int
main(void)
{
	const struct reneg_case *tc;
	struct sslport_ctx *sctx, *cctx;
	struct test_wrap c, s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tc = &cases[i];
		sctx = server_context(tc);
		cctx = client_context(tc);
		if (sctx == NULL || cctx == NULL ||
		    test_pipe_pair(0, sctx, &c, &s) < 0)
			goto next;
		c.opt.context = cctx;
		if (test_handshake(&c, &s) < 0)
			test_fail(tc->name, "handshake: %s | %s", c.err.message,
			    s.err.message);
		else
			check_case(tc, &c, &s);
		test_wrap_free(&c);
		test_wrap_free(&s);
	next:
		sslport_ctx_free(sctx);
		sslport_ctx_free(cctx);
	}
	if (test_failures == 0)
		printf("test_renegotiate: %zu cases passed\n", i);
	return test_failures != 0;
}
