/*
 * baseline.c: the benchmark workloads on OpenSSL called directly, the
 * yardstick for reference.c.  The same arguments, threads, buffer sizes,
 * certificates and suites; linked with -lssl -lcrypto, as a plain
 * OpenSSL program is (the reference itself never is).
 *
 *   baseline bulk CHAIN KEY CA TOTAL WRITE
 *   baseline handshake tls12|tls13 CHAIN KEY CA COUNT
 *   baseline pipe CHAIN KEY CA TOTAL WRITE LIMIT
 *   baseline hash sha1|md5 SIZE
 *   baseline idle CHAIN KEY CA COUNT
 *
 * What the reference does on every connection, this does too: TCP_NODELAY,
 * no TLS 1.3 session tickets, the client verifying the chain and the
 * host, no close_notify on close.  Where the reference runs over its
 * in-process pipes, this runs over a socket pair whose send buffers are
 * set to the pipes' limit.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bench.h"

static const char impl[] = "baseline";

static void
die_ssl(const char *what)
{
	char buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	bench_die("%s: %s", what, buf);
}

/* ---- Contexts and sockets --------------------------------------------- */

static SSL_CTX *
context(int server, int version)
{
	SSL_CTX *ctx;

	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, version) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, version) != 1)
		die_ssl("context");
	return ctx;
}

static SSL_CTX *
server_context(int version, const char *chain, const char *key)
{
	SSL_CTX *ctx = context(1, version);

	if (SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		die_ssl("server credentials");
	SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
}

static SSL_CTX *
client_context(int version, const char *ca)
{
	SSL_CTX *ctx = context(0, version);

	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		die_ssl("client roots");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static void
nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
listen_local(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		bench_die("listen failed");
	*port = ntohs(sin.sin_port);
	return fd;
}

static int
tcp_connect_local(int port)
{
	struct sockaddr_in sin;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((unsigned short)port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		bench_die("connect failed");
	nodelay(fd);
	return fd;
}

/* A client handshake over `fd`, verifying the chain and 127.0.0.1. */
static SSL *
client_over(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1") !=
	        1 ||
	    SSL_connect(ssl) != 1)
		die_ssl("connect");
	return ssl;
}

static SSL *
server_over(SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
		return NULL;
	return ssl;
}

/* Free without close_notify, as the reference closes its ports. */
static void
close_ssl(SSL *ssl, int fd)
{
	SSL_free(ssl);
	close(fd);
}

/* ---- Moving bytes ------------------------------------------------------ */

struct sink {
	int listen_fd; /* TCP: accept first; else -1 */
	int fd;
	SSL_CTX *ctx;
	size_t total;
	size_t bufsize;
	double end;
	SSL *ssl;
	const char *error;
};

static void *
sink_run(void *arg)
{
	struct sink *s = arg;
	unsigned char *buf = malloc(s->bufsize);
	size_t got = 0;
	int r = 1;

	bench_pin(1);
	if (s->listen_fd >= 0) {
		s->fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		nodelay(s->fd);
	}
	if (buf == NULL || (s->ssl = server_over(s->ctx, s->fd)) == NULL) {
		s->error = "accept failed";
		goto done;
	}
	while (
	    got < s->total && (r = SSL_read(s->ssl, buf, (int)s->bufsize)) > 0)
		got += (size_t)r;
	s->end = bench_now();
	if (r <= 0)
		s->error = "read failed";
done:
	free(buf);
	return NULL;
}

static void
source_run(SSL *ssl, size_t total, size_t wsize)
{
	unsigned char *buf = malloc(wsize);
	size_t sent, n;

	if (buf == NULL)
		bench_die("out of memory");
	bench_fill(buf, wsize);
	for (sent = 0; sent < total; sent += n) {
		n = total - sent < wsize ? total - sent : wsize;
		if (SSL_write(ssl, buf, (int)n) != (int)n)
			die_ssl("write");
	}
	free(buf);
}

static void
transfer(const char *workload, SSL *ssl, struct sink *s, pthread_t th)
{
	struct bench_result r = {workload, impl, 0, "MB/s", 0, 0, 0, NULL};
	double t0 = bench_now(), c0 = bench_cpu();

	source_run(ssl, s->total, s->bufsize);
	pthread_join(th, NULL);
	if (s->error != NULL)
		bench_die("server: %s", s->error);
	r.seconds = s->end - t0;
	r.cpu = bench_cpu() - c0;
	r.amount = (double)s->total;
	r.rate = r.amount / r.seconds / 1e6;
	r.check = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
	bench_print(&r);
}

static int
bulk(char **argv)
{
	struct sink s = {0};
	pthread_t th;
	int port, fd;
	SSL *ssl;

	s.ctx = server_context(TLS1_3_VERSION, argv[0], argv[1]);
	s.total = bench_size(argv[3]);
	s.bufsize = bench_size(argv[4]);
	if (s.total == 0 || s.bufsize == 0)
		bench_die("bulk: bad sizes");
	s.listen_fd = listen_local(&port);
	pthread_create(&th, NULL, sink_run, &s);
	fd = tcp_connect_local(port);
	ssl = client_over(client_context(TLS1_3_VERSION, argv[2]), fd);
	transfer("bulk", ssl, &s, th);
	close_ssl(ssl, fd);
	close_ssl(s.ssl, s.fd);
	return 0;
}

static int
pipe_bulk(char **argv)
{
	struct sink s = {0};
	int sv[2], i, limit = (int)bench_size(argv[5]);
	pthread_t th;
	SSL *ssl;

	s.ctx = server_context(TLS1_3_VERSION, argv[0], argv[1]);
	s.total = bench_size(argv[3]);
	s.bufsize = bench_size(argv[4]);
	if (s.total == 0 || s.bufsize == 0 || limit <= 0)
		bench_die("pipe: bad sizes");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		bench_die("socketpair failed");
	for (i = 0; i < 2; i++)
		setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &limit, sizeof(limit));
	s.listen_fd = -1;
	s.fd = sv[0];
	pthread_create(&th, NULL, sink_run, &s);
	ssl = client_over(client_context(TLS1_3_VERSION, argv[2]), sv[1]);
	transfer("pipe", ssl, &s, th);
	close_ssl(ssl, sv[1]);
	close_ssl(s.ssl, s.fd);
	return 0;
}

/* ---- Handshakes ------------------------------------------------------- */

struct acceptor {
	int listen_fd;
	SSL_CTX *ctx;
	long count;
	int keep;
	SSL **ssls;
	int *fds;
	atomic_long done;
	atomic_int failed;
};

static void *
acceptor_run(void *arg)
{
	struct acceptor *a = arg;
	SSL *ssl;
	long i;
	int fd;

	bench_pin(1);
	for (i = 0; i < a->count; i++) {
		fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		nodelay(fd);
		if (fd < 0 || (ssl = server_over(a->ctx, fd)) == NULL) {
			atomic_store(&a->failed, 1);
			break;
		}
		if (a->keep) {
			a->ssls[i] = ssl;
			a->fds[i] = fd;
		} else {
			close_ssl(ssl, fd);
		}
		atomic_store(&a->done, i + 1);
	}
	return NULL;
}

static int
parse_version(const char *s)
{
	if (s != NULL && strcmp(s, "tls12") == 0)
		return TLS1_2_VERSION;
	if (s != NULL && strcmp(s, "tls13") == 0)
		return TLS1_3_VERSION;
	bench_die("protocol: tls12 or tls13, not %s", s ? s : "none");
	return -1;
}

static int
handshake(char **argv)
{
	struct bench_result r = {
	    "handshake", impl, 0, "handshakes/s", 0, 0, 0, NULL};
	int version = parse_version(argv[0]), port, fd;
	struct acceptor a = {0};
	SSL_CTX *cctx;
	double t0, c0;
	pthread_t th;
	long i;

	a.count = bench_count(argv[4]);
	if (a.count == 0)
		bench_die("handshake: bad count");
	a.ctx = server_context(version, argv[1], argv[2]);
	a.listen_fd = listen_local(&port);
	cctx = client_context(version, argv[3]);
	pthread_create(&th, NULL, acceptor_run, &a);
	t0 = bench_now();
	c0 = bench_cpu();
	for (i = 0; i < a.count; i++) {
		fd = tcp_connect_local(port);
		close_ssl(client_over(cctx, fd), fd);
	}
	pthread_join(th, NULL);
	if (atomic_load(&a.done) != a.count)
		bench_die("accept failed");
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
		if (atomic_load(&a->failed))
			bench_die("accept failed");
		usleep(1000);
	}
}

static int
idle(char **argv)
{
	struct bench_result r = {
	    "idle", impl, 0, "KiB/connection", 0, 0, 0, "both ends"};
	long i, n = bench_count(argv[3]), rss0;
	struct acceptor a = {0};
	SSL_CTX *cctx;
	SSL **cssl;
	int *cfd, port;
	pthread_t th;

	if (n == 0 || bench_raise_nofile(2 * n + 64) < 0)
		bench_die("idle: bad count, or too few descriptors");
	a.count = n + 1;
	a.keep = 1;
	a.ssls = calloc((size_t)n + 1, sizeof(*a.ssls));
	a.fds = calloc((size_t)n + 1, sizeof(*a.fds));
	cssl = calloc((size_t)n + 1, sizeof(*cssl));
	cfd = calloc((size_t)n + 1, sizeof(*cfd));
	if (a.ssls == NULL || a.fds == NULL || cssl == NULL || cfd == NULL)
		bench_die("out of memory");
	a.ctx = server_context(TLS1_3_VERSION, argv[0], argv[1]);
	a.listen_fd = listen_local(&port);
	cctx = client_context(TLS1_3_VERSION, argv[2]);
	pthread_create(&th, NULL, acceptor_run, &a);
	cfd[n] = tcp_connect_local(port);
	cssl[n] = client_over(cctx, cfd[n]);
	wait_accepted(&a, 1);
	rss0 = bench_rss_kib();
	for (i = 0; i < n; i++) {
		cfd[i] = tcp_connect_local(port);
		cssl[i] = client_over(cctx, cfd[i]);
	}
	wait_accepted(&a, n + 1);
	r.rate = (double)(bench_rss_kib() - rss0) / (double)n;
	r.amount = (double)n;
	bench_print(&r);
	pthread_join(th, NULL);
	for (i = 0; i <= n; i++) {
		close_ssl(cssl[i], cfd[i]);
		close_ssl(a.ssls[i], a.fds[i]);
	}
	return 0;
}

/* ---- Hashing ---------------------------------------------------------- */

static int
hash(char **argv)
{
	struct bench_result r = {"hash", impl, 0, "MB/s", 0, 0, 0, NULL};
	size_t size = bench_size(argv[1]);
	unsigned char md[EVP_MAX_MD_SIZE], *data;
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	const EVP_MD *type = NULL;
	double t0, c0;
	int ok;

	if (argv[0] != NULL && strcmp(argv[0], "sha1") == 0)
		type = EVP_sha1();
	else if (argv[0] != NULL && strcmp(argv[0], "md5") == 0)
		type = EVP_md5();
	if (type == NULL || size == 0)
		bench_die("hash: sha1 or md5, and a size");
	if ((data = malloc(size)) == NULL)
		bench_die("out of memory");
	bench_fill(data, size);
	/* Let OpenSSL load its configuration and providers first. */
	if (EVP_Digest("warm", 4, md, &mdlen, type, NULL) != 1)
		die_ssl("digest");
	t0 = bench_now();
	c0 = bench_cpu();
	ok = EVP_Digest(data, size, md, &mdlen, type, NULL);
	r.seconds = bench_now() - t0;
	r.cpu = bench_cpu() - c0;
	if (ok != 1)
		die_ssl("digest");
	bench_hex(md, mdlen, hex);
	r.workload = argv[0];
	r.amount = (double)size;
	r.rate = r.amount / r.seconds / 1e6;
	r.check = hex;
	bench_print(&r);
	free(data);
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
	    "usage: baseline bulk|handshake|pipe|hash|idle "
	    "ARGS... (see the head of tools/bench/baseline.c)\n");
	return 2;
}
