/*
 * test_duplex.c: SSL ports in both directions at once (design.md, "Full
 * duplex"; spec S3.duplex).  Each case connects a client and a server,
 * then runs four threads, a reader and a writer at each end, that move
 * `bytes` each way through pipes holding as little as one byte, or a
 * socket pair.  Every byte is checked against a pattern, and a watchdog
 * fails the case if it does not finish in time (a deadlock).
 *
 * Also: readiness with bytes buffered above an empty pipe, close_notify
 * and a bare eof, #:close-original?, and closing the output while a read
 * waits.
 */
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

#define MiB (1024 * 1024)

static unsigned char
pattern(size_t i, unsigned seed)
{
	return (unsigned char)(i * 131 + (i >> 12) * 7 + seed);
}

/* One direction's work at one end: write or read-and-check `total`. */
struct job {
	struct sslport_port *port;
	size_t total;
	size_t chunk;
	unsigned seed;
	size_t done;
	size_t bad;
	char error[SSLPORT_ERROR_MAX];
};

static void *
writer(void *arg)
{
	struct job *j = arg;
	struct sslport_error err;
	unsigned char *buf = malloc(j->chunk);
	size_t i, n;

	while (buf != NULL && j->done < j->total) {
		n = j->total - j->done < j->chunk ? j->total - j->done
		                                  : j->chunk;
		for (i = 0; i < n; i++)
			buf[i] = pattern(j->done + i, j->seed);
		if (sslport_port_write(j->port, buf, n, &err) < 0) {
			snprintf(j->error, sizeof(j->error), "%s", err.message);
			break;
		}
		j->done += n;
	}
	if (j->done == j->total && sslport_port_flush(j->port, &err) < 0)
		snprintf(j->error, sizeof(j->error), "%s", err.message);
	free(buf);
	return NULL;
}

static void *
reader(void *arg)
{
	struct job *j = arg;
	struct sslport_error err;
	unsigned char *buf = malloc(j->chunk);
	ssize_t n, i;

	while (buf != NULL && j->done < j->total) {
		n = sslport_port_read(j->port, buf, j->chunk, &err);
		if (n <= 0) {
			snprintf(j->error, sizeof(j->error), "%s",
			    n == 0 ? "eof too early" : err.message);
			break;
		}
		for (i = 0; i < n; i++)
			if (buf[i] != pattern(j->done + (size_t)i, j->seed))
				j->bad++;
		j->done += (size_t)n;
	}
	free(buf);
	return NULL;
}

enum transport { PIPES, SOCKETS };

struct duplex_case {
	const char *name;
	enum transport transport;
	size_t limit;       /* bytes a pipe holds; 0: no limit */
	size_t bytes;       /* each way */
	size_t chunk;       /* per write and read call */
	double max_seconds; /* longer means deadlock */
};

/*
 * A one-byte pipe moves about 0.2 MB/s (a thread switch per byte), so
 * that case moves 2 MiB unless SSLPORT_TEST_HEAVY is set, when it moves
 * 16 MiB like the others.
 */
static struct duplex_case duplex_cases[] = {
    {"pipes holding 1 byte", PIPES, 1, 2 * MiB, 4096, 600},
    {"pipes holding 10 bytes", PIPES, 10, 16 * MiB, 65536, 240},
    {"pipes holding 100 bytes", PIPES, 100, 16 * MiB, 1000, 240},
    {"unlimited pipes", PIPES, 0, 16 * MiB, 100000, 120},
    {"socket pair", SOCKETS, 0, 16 * MiB, 65536, 120},
    {"socket pair, small writes", SOCKETS, 0, 4 * MiB, 100, 120},
};

/* Client and server over a socket pair: each end's ports share an fd. */
static int
socket_pair(struct sslport_ctx *sctx, struct test_wrap *client,
    struct test_wrap *server)
{
	struct sslport_error err;
	int sv[2];

	memset(client, 0, sizeof(*client));
	memset(server, 0, sizeof(*server));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (sslport_fd_ports(sv[0], sv[0], &client->in, &client->out, &err) <
	        0 ||
	    sslport_fd_ports(sv[1], sv[1], &server->in, &server->out, &err) < 0)
		return -1;
	sslport_wrap_options_init(&client->opt);
	sslport_wrap_options_init(&server->opt);
	client->opt.mode = SSLPORT_MODE_CONNECT;
	server->opt.context = sctx;
	return 0;
}

static void
check_job(const struct duplex_case *tc, const char *what, const struct job *j)
{
	if (j->error[0] != '\0')
		test_fail(tc->name, "%s: %s", what, j->error);
	else if (j->done != tc->bytes || j->bad != 0)
		test_fail(tc->name,
		    "%s: got %zu bytes, %zu wrong; want %zu, "
		    "0 wrong",
		    what, j->done, j->bad, tc->bytes);
}

static void
run_jobs(const struct duplex_case *tc, struct test_wrap *c, struct test_wrap *s)
{
	static const char *const what[4] = {"client writing", "server reading",
	    "server writing", "client reading"};
	void *(*fn[4])(void *) = {writer, reader, writer, reader};
	struct job jobs[4];
	pthread_t t[4];
	double start = test_now(), deadline = start + tc->max_seconds;
	int i;

	memset(jobs, 0, sizeof(jobs));
	jobs[0].port = c->ssl_out;
	jobs[1].port = s->ssl_in;
	jobs[2].port = s->ssl_out;
	jobs[3].port = c->ssl_in;
	for (i = 0; i < 4; i++) {
		jobs[i].total = tc->bytes;
		jobs[i].chunk = tc->chunk;
		jobs[i].seed = i < 2 ? 17 : 91;
		pthread_create(&t[i], NULL, fn[i], &jobs[i]);
	}
	for (i = 0; i < 4; i++) {
		if (test_join_by(t[i], deadline) != 0) {
			test_fail(tc->name,
			    "%s still running after %.0f s: "
			    "deadlock",
			    what[i], tc->max_seconds);
			fflush(stderr);
			_exit(1);
		}
	}
	for (i = 0; i < 4; i++)
		check_job(tc, what[i], &jobs[i]);
	printf("   %-28s %3zu MiB each way in %6.2f s\n", tc->name,
	    tc->bytes / MiB, test_now() - start);
}

static void
test_duplex(struct sslport_ctx *sctx)
{
	const struct duplex_case *tc;
	struct test_wrap c, s;
	size_t i;
	int r;

	for (i = 0; i < sizeof(duplex_cases) / sizeof(duplex_cases[0]); i++) {
		tc = &duplex_cases[i];
		r = tc->transport == PIPES
		    ? test_pipe_pair(tc->limit, sctx, &c, &s)
		    : socket_pair(sctx, &c, &s);
		if (r < 0 || test_handshake(&c, &s) < 0) {
			test_fail(tc->name, "handshake: %s | %s", c.err.message,
			    s.err.message);
		} else {
			run_jobs(tc, &c, &s);
		}
		test_wrap_free(&c);
		test_wrap_free(&s);
	}
}

/* ---- Smaller behaviours ----------------------------------------------- */

/* S3.ready.3: decrypted bytes make the port ready over an empty pipe. */
static void
test_ready_buffered(struct test_wrap *c, struct test_wrap *s)
{
	const char *name = "ready with bytes buffered";
	struct sslport_error err;
	unsigned char buf[100];
	int r;

	memset(buf, 'x', sizeof(buf));
	if (sslport_port_wait(c->ssl_in, 0, &err) != 0)
		test_fail(name, "ready before anything was sent");
	sslport_port_write(s->ssl_out, buf, sizeof(buf), &err);
	sslport_port_flush(s->ssl_out, &err);
	if (sslport_port_read(c->ssl_in, buf, 1, &err) != 1)
		test_fail(name, "read 1: %s", err.message);
	if ((r = sslport_port_wait(c->in, 0, &err)) != 0)
		test_fail(name, "underlying pipe ready: got %d, want 0", r);
	if ((r = sslport_port_wait(c->ssl_in, 0, &err)) != 1)
		test_fail(name, "SSL port ready: got %d, want 1", r);
	if (sslport_port_read_full(c->ssl_in, buf, 99, &err) != 99)
		test_fail(name, "read 99: %s", err.message);
}

struct blocked_read {
	struct sslport_port *port;
	ssize_t n;
	unsigned char byte;
};

static void *
read_one(void *arg)
{
	struct blocked_read *b = arg;
	struct sslport_error err;

	b->n = sslport_port_read(b->port, &b->byte, 1, &err);
	return NULL;
}

/* S3.duplex.4: closing the output does not wait for a blocked read. */
static void
test_close_while_reading(struct test_wrap *c, struct test_wrap *s)
{
	const char *name = "close output while a read waits";
	struct blocked_read b = {c->ssl_in, -2, 0};
	struct sslport_error err;
	pthread_t t;
	double start;

	pthread_create(&t, NULL, read_one, &b);
	usleep(100 * 1000);
	start = test_now();
	if (sslport_port_close(c->ssl_out, &err) < 0)
		test_fail(name, "close: %s", err.message);
	if (test_now() - start > 1.0)
		test_fail(name, "close took %.1f s", test_now() - start);
	sslport_port_write(s->ssl_out, "z", 1, &err);
	sslport_port_flush(s->ssl_out, &err);
	pthread_join(t, NULL);
	if (b.n != 1 || b.byte != 'z')
		test_fail(name, "read after close: got %zd, want 1 'z'", b.n);
}

/* S3.shutdown.1: close_notify gives the peer the data, then eof. */
static void
test_shutdown(struct sslport_ctx *sctx)
{
	const char *name = "shutdown-on-close";
	struct sslport_error err;
	struct test_wrap c, s;
	char buf[16];
	ssize_t n;

	test_pipe_pair(0, sctx, &c, &s);
	c.opt.shutdown_on_close = 1;
	if (test_handshake(&c, &s) < 0) {
		test_fail(name, "handshake: %s", c.err.message);
		goto done;
	}
	sslport_port_write(c.ssl_out, "bye", 3, &err);
	if (sslport_port_close(c.ssl_out, &err) < 0)
		test_fail(name, "close: %s", err.message);
	n = sslport_port_read_full(s.ssl_in, buf, sizeof(buf), &err);
	if (n != 3 || memcmp(buf, "bye", 3) != 0)
		test_fail(name, "got %zd bytes, want \"bye\" then eof", n);
	if ((n = sslport_port_read(s.ssl_in, buf, 1, &err)) != 0)
		test_fail(name, "read after eof: got %zd, want 0", n);
done:
	test_wrap_free(&c);
	test_wrap_free(&s);
}

/* D.eof.1: the underlying input ends without close_notify: eof. */
static void
test_bare_eof(struct sslport_ctx *sctx)
{
	const char *name = "eof without close_notify";
	struct sslport_error err;
	struct test_wrap c, s;
	char buf[16];
	ssize_t n;

	test_pipe_pair(0, sctx, &c, &s);
	c.opt.close_original = 1;
	if (test_handshake(&c, &s) < 0) {
		test_fail(name, "handshake: %s", c.err.message);
		goto done;
	}
	test_ready_buffered(&c, &s);
	test_close_while_reading(&c, &s);
	sslport_port_write(s.ssl_out, "last", 4, &err);
	sslport_port_flush(s.ssl_out, &err);
	sslport_port_close(s.ssl_out, &err);
	sslport_port_close(s.out, &err);
	n = sslport_port_read_full(c.ssl_in, buf, sizeof(buf), &err);
	if (n != 4 || memcmp(buf, "last", 4) != 0)
		test_fail(name, "got %zd: %s", n, n < 0 ? err.message : "");
	if (sslport_port_wait(c.ssl_in, 0, &err) != 1)
		test_fail(name, "not ready at eof");
	/* #:close-original?: both SSL ports closed close both. */
	if (sslport_port_is_closed(c.in) || sslport_port_is_closed(c.out))
		test_fail(name, "underlying closed too early");
	sslport_port_close(c.ssl_in, &err);
	if (!sslport_port_is_closed(c.in) || !sslport_port_is_closed(c.out))
		test_fail(name, "underlying ports still open");
done:
	test_wrap_free(&c);
	test_wrap_free(&s);
}

int
main(void)
{
	struct sslport_ctx *sctx;

	if (getenv("SSLPORT_TEST_HEAVY") != NULL)
		duplex_cases[0].bytes = 16 * MiB;
	sctx = test_server_ctx(SSLPORT_PROTO_AUTO, "server-rsa");
	if (sctx == NULL)
		return 1;
	test_shutdown(sctx);
	test_bare_eof(sctx);
	test_duplex(sctx);
	sslport_ctx_free(sctx);
	if (test_failures > 0)
		fprintf(stderr, "test_duplex: %d failed\n", test_failures);
	return test_failures > 0;
}
