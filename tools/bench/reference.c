/*
 * reference.c: the benchmark workloads through the reference library,
 * its public header only.  One workload per run; the result is one JSON
 * line (bench.h).  baseline.c runs the same workloads on OpenSSL called
 * directly, with the same threads, buffers, certificates and suites.
 *
 *   reference bulk CHAIN KEY CA TOTAL WRITE
 *   reference handshake tls12|tls13 CHAIN KEY CA COUNT
 *   reference pipe CHAIN KEY CA TOTAL WRITE LIMIT
 *   reference hash sha1|md5 SIZE
 *   reference idle CHAIN KEY CA COUNT
 *
 * Both ends of every connection live in this process: a server thread
 * and the main thread as the client, over TCP on 127.0.0.1 or over two
 * in-process pipes.  The client verifies the chain and the host (the
 * certificates name 127.0.0.1).  The TLS 1.3 suite is not something the
 * API chooses: the OPENSSL_CONF file the driver sets pins it, and the
 * key-log lines show which hash the suite used.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "sslport.h"

static const char impl[] = "reference";

/* Longest TLS 1.3 traffic secret the key log showed, in bytes. */
static atomic_int secret_len;

static void
die_err(const char *what, const struct sslport_error *err)
{
	bench_die("%s: %s", what, err->message);
}

/* ---- Contexts and listeners ------------------------------------------- */

/* "CLIENT_TRAFFIC_SECRET_0 <random> <secret>": note the secret's size. */
static void
keylog(void *arg, enum sslport_log_level level, const char *topic,
    const char *message, const unsigned char *data, size_t len)
{
	static const char label[] = "CLIENT_TRAFFIC_SECRET_0 ";
	const unsigned char *sp;
	int n;

	(void)arg;
	(void)level;
	(void)topic;
	(void)message;
	if (len < sizeof(label) || memcmp(data, label, sizeof(label) - 1))
		return;
	for (sp = data + len; sp > data && sp[-1] != ' '; sp--)
		;
	n = (int)((data + len - sp) / 2);
	if (n > atomic_load(&secret_len))
		atomic_store(&secret_len, n);
}

static struct sslport_ctx *
server_context(enum sslport_protocol proto, const char *chain, const char *key)
{
	struct sslport_key_form form = {SSLPORT_KEY_PEM, key, NULL, 0};
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = sslport_make_server_context(proto, &form, chain, &err);
	if (ctx == NULL)
		die_err("server context", &err);
	return ctx;
}

/*
 * A client context that verifies the chain and the host.  With
 * `log_keys`, its key log tells which suite ran; the baseline logs no
 * keys, so only workloads that check the suite (a single handshake)
 * ask for it.
 */
static struct sslport_ctx *
client_context(enum sslport_protocol proto, const char *ca, int log_keys)
{
	struct sslport_logger *logger = NULL;
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = sslport_make_client_context(proto, NULL, NULL, &err);
	if (ctx == NULL ||
	    sslport_load_verify_root_certificates(ctx, ca, &err) < 0 ||
	    sslport_set_verify(ctx, 1, &err) < 0 ||
	    sslport_set_verify_hostname(ctx, 1, &err) < 0)
		die_err("client context", &err);
	if (!log_keys)
		return ctx;
	if ((logger = sslport_logger_new(keylog, NULL)) == NULL)
		bench_die("out of memory");
	if (sslport_set_keylogger(ctx, logger, &err) < 0)
		die_err("key logger", &err);
	sslport_logger_free(logger);
	return ctx;
}

static struct sslport_listener *
listen_local(struct sslport_ctx *ctx, int *port)
{
	struct sslport_addresses addr;
	struct sslport_listener *l;
	struct sslport_error err;

	l = sslport_listen(
	    0, 1024, 1, "127.0.0.1", ctx, SSLPORT_PROTO_AUTO, &err);
	if (l == NULL || sslport_addresses(l, &addr, &err) < 0)
		die_err("listen", &err);
	*port = addr.local_port;
	return l;
}

static void
connect_local(int port, struct sslport_ctx *ctx, struct sslport_port **in,
    struct sslport_port **out)
{
	struct sslport_error err;

	if (sslport_connect("127.0.0.1", port, ctx, SSLPORT_PROTO_AUTO, NULL, 0,
	        in, out, &err) < 0)
		die_err("connect", &err);
}

static void
close_both(struct sslport_port *in, struct sslport_port *out)
{
	sslport_port_free(in);
	sslport_port_free(out);
}

/* What the key log tells of the suite: the hash of TLS 1.3's secrets. */
static const char *
suite_check(void)
{
	switch (atomic_load(&secret_len)) {
	case 32:
		return "SHA256";
	case 48:
		return "SHA384";
	default:
		return "unknown";
	}
}

/* ---- Moving bytes ------------------------------------------------------ */

/* The receiving end: a server thread that reads until `total`. */
struct sink {
	struct sslport_listener *listener; /* TCP: accept first */
	struct sslport_port *under_in;     /* pipes: wrap first */
	struct sslport_port *under_out;
	struct sslport_ctx *ctx;
	size_t total;
	size_t bufsize;
	double end;
	struct sslport_port *in;
	struct sslport_port *out;
	struct sslport_error err;
};

static int
sink_open(struct sink *s)
{
	struct sslport_wrap_options opt;

	if (s->listener != NULL)
		return sslport_accept(s->listener, &s->in, &s->out, &s->err);
	sslport_wrap_options_init(&opt);
	opt.mode = SSLPORT_MODE_ACCEPT;
	opt.context = s->ctx;
	return sslport_ports_to_ssl_ports(
	    s->under_in, s->under_out, &opt, &s->in, &s->out, &s->err);
}

static void *
sink_run(void *arg)
{
	struct sink *s = arg;
	unsigned char *buf = malloc(s->bufsize);
	size_t got = 0;
	ssize_t r = 1;

	bench_pin(1);
	if (buf == NULL || sink_open(s) < 0)
		goto done;
	while (got < s->total &&
	    (r = sslport_port_read(s->in, buf, s->bufsize, &s->err)) > 0)
		got += (size_t)r;
	s->end = bench_now();
	if (r == 0)
		snprintf(s->err.message, sizeof(s->err.message),
		    "eof after %zu bytes", got);
done:
	free(buf);
	return NULL;
}

/* Write `total` bytes in writes of `wsize`, then flush. */
static void
source_run(struct sslport_port *out, size_t total, size_t wsize)
{
	struct sslport_error err;
	unsigned char *buf = malloc(wsize);
	size_t sent, n;

	if (buf == NULL)
		bench_die("out of memory");
	bench_fill(buf, wsize);
	for (sent = 0; sent < total; sent += n) {
		n = total - sent < wsize ? total - sent : wsize;
		if (sslport_port_write(out, buf, n, &err) < 0)
			die_err("write", &err);
	}
	if (sslport_port_flush(out, &err) < 0)
		die_err("flush", &err);
	free(buf);
}

/* Send `total` to the sink and print the rate from the first byte on. */
static void
transfer(const char *workload, struct sslport_port *out, struct sink *s,
    pthread_t th)
{
	struct bench_result r = {workload, impl, 0, "MB/s", 0, 0, 0, NULL};
	double t0 = bench_now(), c0 = bench_cpu();

	source_run(out, s->total, s->bufsize);
	pthread_join(th, NULL);
	if (s->end == 0 || s->err.message[0] != '\0')
		bench_die("server: %s", s->err.message);
	r.seconds = s->end - t0;
	r.cpu = bench_cpu() - c0;
	r.amount = (double)s->total;
	r.rate = r.amount / r.seconds / 1e6;
	r.check = suite_check();
	bench_print(&r);
}

static int
bulk(char **argv)
{
	struct sink s = {0};
	struct sslport_port *in, *out;
	pthread_t th;
	int port;

	s.ctx = server_context(SSLPORT_PROTO_TLS13, argv[0], argv[1]);
	s.total = bench_size(argv[3]);
	s.bufsize = bench_size(argv[4]);
	if (s.total == 0 || s.bufsize == 0)
		bench_die("bulk: bad sizes");
	s.listener = listen_local(s.ctx, &port);
	pthread_create(&th, NULL, sink_run, &s);
	connect_local(
	    port, client_context(SSLPORT_PROTO_TLS13, argv[2], 1), &in, &out);
	transfer("bulk", out, &s, th);
	close_both(in, out);
	close_both(s.in, s.out);
	return 0;
}

static int
pipe_bulk(char **argv)
{
	struct sslport_port *a_in, *a_out, *b_in, *b_out, *in, *out;
	struct sslport_wrap_options opt;
	struct sslport_error err;
	struct sink s = {0};
	size_t limit = bench_size(argv[5]);
	pthread_t th;

	s.ctx = server_context(SSLPORT_PROTO_TLS13, argv[0], argv[1]);
	s.total = bench_size(argv[3]);
	s.bufsize = bench_size(argv[4]);
	if (s.total == 0 || s.bufsize == 0 || limit == 0)
		bench_die("pipe: bad sizes");
	if (sslport_make_pipe(limit, &a_in, &a_out, &err) < 0 ||
	    sslport_make_pipe(limit, &b_in, &b_out, &err) < 0)
		die_err("make-pipe", &err);
	s.under_in = a_in;
	s.under_out = b_out;
	pthread_create(&th, NULL, sink_run, &s);
	sslport_wrap_options_init(&opt);
	opt.mode = SSLPORT_MODE_CONNECT;
	opt.context = client_context(SSLPORT_PROTO_TLS13, argv[2], 1);
	opt.hostname = "127.0.0.1";
	if (sslport_ports_to_ssl_ports(b_in, a_out, &opt, &in, &out, &err) < 0)
		die_err("ports->ssl-ports", &err);
	transfer("pipe", out, &s, th);
	close_both(in, out);
	close_both(s.in, s.out);
	return 0;
}

/* ---- Handshakes ------------------------------------------------------- */

struct acceptor {
	struct sslport_listener *listener;
	long count;
	int keep; /* keep the ports open (idle) */
	struct sslport_port **ins;
	struct sslport_port **outs;
	atomic_long done;
	struct sslport_error err;
};

static void *
acceptor_run(void *arg)
{
	struct acceptor *a = arg;
	struct sslport_port *in, *out;
	long i;

	bench_pin(1);
	for (i = 0; i < a->count; i++) {
		if (sslport_accept(a->listener, &in, &out, &a->err) < 0)
			break;
		if (a->keep) {
			a->ins[i] = in;
			a->outs[i] = out;
		} else {
			close_both(in, out);
		}
		atomic_store(&a->done, i + 1);
	}
	return NULL;
}

static enum sslport_protocol
parse_proto(const char *s)
{
	enum sslport_protocol proto;

	if (s == NULL || sslport_protocol_from_name(s, &proto) < 0 ||
	    (proto != SSLPORT_PROTO_TLS12 && proto != SSLPORT_PROTO_TLS13))
		bench_die("protocol: tls12 or tls13, not %s", s ? s : "none");
	return proto;
}

static int
handshake(char **argv)
{
	struct bench_result r = {
	    "handshake", impl, 0, "handshakes/s", 0, 0, 0, NULL};
	enum sslport_protocol proto = parse_proto(argv[0]);
	struct acceptor a = {0};
	struct sslport_port *in, *out;
	struct sslport_ctx *cctx;
	double t0, c0;
	pthread_t th;
	long i;
	int port;

	a.count = bench_count(argv[4]);
	if (a.count == 0)
		bench_die("handshake: bad count");
	a.listener =
	    listen_local(server_context(proto, argv[1], argv[2]), &port);
	cctx = client_context(proto, argv[3], 0);
	pthread_create(&th, NULL, acceptor_run, &a);
	t0 = bench_now();
	c0 = bench_cpu();
	for (i = 0; i < a.count; i++) {
		connect_local(port, cctx, &in, &out);
		close_both(in, out);
	}
	pthread_join(th, NULL);
	if (atomic_load(&a.done) != a.count)
		die_err("accept", &a.err);
	r.seconds = bench_now() - t0;
	r.cpu = bench_cpu() - c0;
	r.amount = (double)a.count;
	r.rate = r.amount / r.seconds;
	r.check = argv[0];
	bench_print(&r);
	return 0;
}

/* ---- Idle connections ------------------------------------------------- */

static void
wait_accepted(struct acceptor *a, long n)
{
	while (atomic_load(&a->done) < n) {
		if (a->err.kind != SSLPORT_OK)
			die_err("accept", &a->err);
		usleep(1000);
	}
}

/*
 * The resident memory that `count` open, idle connections add, both
 * ends in this process, after one connection has warmed everything up.
 */
static int
idle(char **argv)
{
	struct bench_result r = {
	    "idle", impl, 0, "KiB/connection", 0, 0, 0, "both ends"};
	struct sslport_port **cin, **cout;
	struct acceptor a = {0};
	struct sslport_ctx *cctx;
	long i, n = bench_count(argv[3]), rss0;
	pthread_t th;
	int port;

	if (n == 0 || bench_raise_nofile(2 * n + 64) < 0)
		bench_die("idle: bad count, or too few descriptors");
	a.count = n + 1;
	a.keep = 1;
	a.ins = calloc((size_t)n + 1, sizeof(*a.ins));
	a.outs = calloc((size_t)n + 1, sizeof(*a.outs));
	cin = calloc((size_t)n + 1, sizeof(*cin));
	cout = calloc((size_t)n + 1, sizeof(*cout));
	if (a.ins == NULL || a.outs == NULL || cin == NULL || cout == NULL)
		bench_die("out of memory");
	a.listener = listen_local(
	    server_context(SSLPORT_PROTO_TLS13, argv[0], argv[1]), &port);
	cctx = client_context(SSLPORT_PROTO_TLS13, argv[2], 0);
	pthread_create(&th, NULL, acceptor_run, &a);
	connect_local(port, cctx, &cin[n], &cout[n]);
	wait_accepted(&a, 1);
	rss0 = bench_rss_kib();
	for (i = 0; i < n; i++)
		connect_local(port, cctx, &cin[i], &cout[i]);
	wait_accepted(&a, n + 1);
	r.rate = (double)(bench_rss_kib() - rss0) / (double)n;
	r.amount = (double)n;
	bench_print(&r);
	pthread_join(th, NULL);
	for (i = 0; i <= n; i++) {
		close_both(cin[i], cout[i]);
		close_both(a.ins[i], a.outs[i]);
	}
	return 0;
}

/* ---- Hashing ---------------------------------------------------------- */

/* Load the libraries before the clock starts, as the baseline does. */
static void
warm_up(int sha1)
{
	unsigned char md[20];
	struct sslport_error err;
	struct sslport_port *in;

	in = sslport_open_input_bytes("warm", 4, &err);
	if (in == NULL ||
	    (sha1 ? sslport_sha1_bytes(in, md, &err)
	          : sslport_md5_bytes(in, md, &err)) < 0)
		die_err("warm-up", &err);
	sslport_port_free(in);
}

static int
hash(char **argv)
{
	struct bench_result r = {"hash", impl, 0, "MB/s", 0, 0, 0, NULL};
	size_t size = bench_size(argv[1]);
	unsigned char md[20], *data;
	struct sslport_error err;
	struct sslport_port *in;
	char hex[41];
	int sha1, rv;
	double t0, c0;

	sha1 = argv[0] != NULL && strcmp(argv[0], "sha1") == 0;
	if ((!sha1 && (argv[0] == NULL || strcmp(argv[0], "md5") != 0)) ||
	    size == 0)
		bench_die("hash: sha1 or md5, and a size");
	if ((data = malloc(size)) == NULL)
		bench_die("out of memory");
	bench_fill(data, size);
	if ((in = sslport_open_input_bytes(data, size, &err)) == NULL)
		die_err("open-input-bytes", &err);
	free(data);
	warm_up(sha1);
	t0 = bench_now();
	c0 = bench_cpu();
	rv = sha1 ? sslport_sha1_bytes(in, md, &err)
	          : sslport_md5_bytes(in, md, &err);
	r.seconds = bench_now() - t0;
	r.cpu = bench_cpu() - c0;
	if (rv < 0)
		die_err(argv[0], &err);
	bench_hex(md, sha1 ? 20 : 16, hex);
	r.workload = sha1 ? "sha1" : "md5";
	r.impl = getenv("SSLPORT_HIDE_LIBCRYPTO") != NULL ? "fallback" : impl;
	r.amount = (double)size;
	r.rate = r.amount / r.seconds / 1e6;
	r.check = hex;
	bench_print(&r);
	sslport_port_free(in);
	return 0;
}

/* ---- main ------------------------------------------------------------- */

static const struct {
	const char *name;
	int nargs;
	int (*run)(char **argv);
} workloads[] = {
    {"bulk", 5, bulk},
    {"handshake", 5, handshake},
    {"pipe", 6, pipe_bulk},
    {"hash", 2, hash},
    {"idle", 4, idle},
};

int
main(int argc, char **argv)
{
	size_t i;

	bench_pin(0);
	for (i = 0; argc > 1 && i < sizeof(workloads) / sizeof(*workloads); i++)
		if (strcmp(argv[1], workloads[i].name) == 0 &&
		    argc - 2 == workloads[i].nargs)
			return workloads[i].run(argv + 2);
	fprintf(stderr,
	    "usage: reference bulk|handshake|pipe|hash|idle "
	    "ARGS... (see the head of tools/bench/reference.c)\n");
	return 2;
}
