/*
 * record.c: the seeds of the handshake targets, recorded from the
 * reference talking to itself.
 *
 *	record DIR
 *
 * For each pair of contexts in `pairs`, a client and a server made as
 * fuzz_handshake.h makes them run ports->ssl-ports over two pipes, a
 * thread each, with the repeatable randomness of fuzzrand.h.  The server
 * (context 2 after renegotiating) sends a line and closes; the client
 * reads to end-of-file, answers a line and closes; the server reads to
 * end-of-file.  What the client wrote becomes DIR/server/<name>, behind
 * the byte that picks the server context, and what the server wrote
 * DIR/client/<name>, behind the client context's byte.  Replayed, the
 * end under test draws the same randoms, so the handshake completes and
 * the data decrypts.  Run from the repository root (certs/).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "fuzz_handshake.h"

/* An output port that copies what it writes into `buf`. */
struct tee {
	struct sslport_port *pipe;
	unsigned char *buf;
	size_t len, cap;
};

static ssize_t
tee_write(void *state, const void *data, size_t n, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct tee *t = state;
	unsigned char *b;

	if (t->len + n > t->cap) {
		t->cap = 2 * (t->len + n);
		b = realloc(t->buf, t->cap);
		if (b == NULL)
			abort();
		t->buf = b;
	}
	memcpy(t->buf + t->len, data, n);
	t->len += n;
	if (sslport_port_write(t->pipe, data, n, err) < 0 ||
	    sslport_port_flush(t->pipe, err) < 0)
		return -1;
	return (ssize_t)n;
}

static int
tee_close(void *state, struct sslport_error *err)
{
	return sslport_port_close(((struct tee *)state)->pipe, err);
}

static const struct sslport_port_ops tee_ops = {
    .write = tee_write, .close = tee_close};

/* One end of a recorded connection. */
struct end {
	enum sslport_mode mode;
	int which;
	struct sslport_port *in;
	struct tee tee;
	int ok;
};

/* Read to end-of-file. */
static int
drain(struct sslport_port *ssl_in, struct sslport_error *err)
{
	char buf[256];
	ssize_t n;

	while ((n = sslport_port_read(ssl_in, buf, sizeof(buf), err)) > 0)
		;
	return n < 0 ? -1 : 0;
}

static int
say(struct sslport_port *ssl_out, const char *line, struct sslport_error *err)
{
	if (sslport_port_write(ssl_out, line, strlen(line), err) < 0 ||
	    sslport_port_close(ssl_out, err) < 0)
		return -1;
	return 0;
}

/*
 * The server speaks first, so that the client is reading when a
 * renegotiation starts; the client answers once the server has closed.
 */
static int
talk(const struct sslport_wrap_options *opt, struct sslport_port *ssl_in,
    struct sslport_port *ssl_out, struct sslport_error *err)
{
	if (opt->mode == SSLPORT_MODE_CONNECT) {
		if (drain(ssl_in, err) < 0)
			return -1;
		return say(ssl_out, "hello from the client\n", err);
	}
	if (fuzz_server_renegotiates(opt, ssl_in, err) < 0 ||
	    say(ssl_out, "hello from the server\n", err) < 0)
		return -1;
	return drain(ssl_in, err);
}

static void *
run_end(void *arg)
{
	struct end *e = arg;
	struct sslport_port *ssl_in = NULL, *ssl_out = NULL, *out;
	struct sslport_wrap_options opt;
	struct sslport_error err;
	int client = e->mode == SSLPORT_MODE_CONNECT;

	fuzz_options(e->mode, e->which, &opt);
	out = sslport_port_new(SSLPORT_OUTPUT, &tee_ops, &e->tee, "tee");
	if (out == NULL)
		abort();
	fuzz_rand_reset();
	if (sslport_ports_to_ssl_ports(
	        e->in, out, &opt, &ssl_in, &ssl_out, &err) < 0 ||
	    talk(&opt, ssl_in, ssl_out, &err) < 0)
		fprintf(stderr, "record: %s: %s\n",
		    client ? "client" : "server", err.message);
	else
		e->ok = 1;
	sslport_port_free(ssl_in);
	sslport_port_free(ssl_out);
	sslport_port_free(out);
	return NULL;
}

static void
write_seed(const char *dir, const char *side, const char *name, int which,
    const struct tee *t)
{
	char path[512];
	unsigned char b = (unsigned char)which;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, side, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(&b, 1, 1, f) != 1 ||
	    fwrite(t->buf, 1, t->len, f) != t->len || fclose(f) != 0) {
		fprintf(stderr, "record: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static int
record(const char *dir, int server, int client, const char *name)
{
	struct end ends[2] = {{SSLPORT_MODE_ACCEPT, server, NULL, {0}, 0},
	    {SSLPORT_MODE_CONNECT, client, NULL, {0}, 0}};
	struct sslport_error err;
	pthread_t th[2];
	int i, rv = -1;

	/* As each replay does: an empty session cache. */
	fuzz_server_forget(server);
	fuzz_server_context(server);
	/* ends[0] reads what ends[1] writes, and the other way round. */
	if (sslport_make_pipe(0, &ends[0].in, &ends[1].tee.pipe, &err) < 0 ||
	    sslport_make_pipe(0, &ends[1].in, &ends[0].tee.pipe, &err) < 0)
		abort();
	for (i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, run_end, &ends[i]) != 0)
			abort();
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (ends[0].ok && ends[1].ok) {
		write_seed(dir, "server", name, server, &ends[1].tee);
		write_seed(dir, "client", name, client, &ends[0].tee);
		printf("record: %s: %zu bytes from the client, %zu from the "
		       "server\n",
		    name, ends[1].tee.len, ends[0].tee.len);
		rv = 0;
	}
	for (i = 0; i < 2; i++) {
		sslport_port_free(ends[i].in);
		sslport_port_free(ends[i].tee.pipe);
		free(ends[i].tee.buf);
	}
	return rv;
}

/* Server context, client context (fuzz_handshake.h), seed name. */
static const struct pair {
	int server, client;
	const char *name;
} pairs[] = {
    {0, 0, "tls13-ecdsa"},
    {0, 1, "tls12-ecdsa"},
    {1, 0, "tls13-rsa"},
    {1, 1, "tls12-rsa"},
    {1, 3, "tls13-rsa-sni"},
    {2, 0, "tls12-alpn-no-client-cert"},
    {2, 3, "tls12-alpn-client-cert"},
    {3, 2, "tls13-verified-client-cert"},
};

int
main(int argc, char **argv)
{
	size_t i;
	int rv = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: record DIR\n");
		return 2;
	}
	fuzz_rand_install();
	fuzz_server_context(0);
	fuzz_client_context(0);
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (record(argv[1], pairs[i].server, pairs[i].client,
		        pairs[i].name) < 0)
			rv = 1;
	return rv;
}
