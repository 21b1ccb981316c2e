/*
 * net.c: the TCP-like procedures.  ssl-connect and ssl-accept open or
 * take a TCP connection and run ports->ssl-ports over it with
 * #:close-original? on, #:shutdown-on-close? off and errors of the
 * network kind; listeners, their addresses, abandoning a port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"

/* A listener listens on each address of its host: IPv4 and IPv6. */
#define LISTENER_MAX_FDS 8

struct sslport_listener {
	struct sslport_object obj;
	pthread_mutex_t lock;
	int fds[LISTENER_MAX_FDS];
	int nfds;
	int wake[2]; /* readable once the listener is closed */
	int closed;
	int users; /* threads polling fds: they close last */
	struct sslport_ctx *ctx;
};

/* The error procedure of ssl-connect and ssl-accept ports. */
static void
network_error(
    void *arg, const char *who, const char *message, struct sslport_error *err)
{
	(void)arg;
	sslport_err(err, SSLPORT_ENETWORK, who, "%s", message);
}

static void
set_nodelay(int fd)
{
	int one = 1;

	/* TLS records are small writes; do not hold them back. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int
set_blocking(int fd, int blocking)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	flags = blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK;
	return fcntl(fd, F_SETFL, flags);
}

/* ---- Wrapping a TCP connection ---------------------------------------- */

/*
 * Run the handshake over a connected socket.  The socket is the ports'
 * and closed with them; on failure it is closed at once.
 */
static int
wrap_socket(int fd, struct sslport_wrap_options *opt, const char *who,
    struct sslport_break *brk, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err)
{
	struct sslport_port *tin, *tout;
	int rv;

	set_nodelay(fd);
	if (sslport_fd_ports(fd, fd, &tin, &tout, err) < 0) {
		close(fd);
		return -1;
	}
	opt->close_original = 1;
	opt->shutdown_on_close = 0;
	opt->error_fn = network_error;
	opt->error_arg = NULL;
	rv = sslport_conn_wrap(tin, tout, opt, who, brk, in, out, err);
	if (rv < 0) {
		sslport_port_free(tin);
		sslport_port_free(tout);
	} else {
		sslport_port_unref(tin);
		sslport_port_unref(tout);
	}
	return rv;
}

/* ---- Connecting ------------------------------------------------------- */

/* Connect one socket, waiting with the break handle.  0, or -1 with
 * errno set (or err filled for a break). */
static int
connect_one(int fd, const struct addrinfo *ai, struct sslport_break *brk,
    const char *who, struct sslport_error *err)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (set_blocking(fd, 0) < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			return -1;
		if (sslport_poll_fd(fd, POLLOUT, -1, brk, who, err) < 0)
			return -1;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
			return -1;
		if (soerr != 0) {
			errno = soerr;
			return -1;
		}
	}
	return set_blocking(fd, 1);
}

/* A connected socket to host:port, or -1 with err (network kind). */
static int
tcp_connect(const char *host, int port, struct sslport_break *brk,
    const char *who, struct sslport_error *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[16];
	int fd = -1, gai, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	if ((gai = getaddrinfo(host, service, &hints, &res)) != 0)
		return sslport_err(err, SSLPORT_ENETWORK, "tcp-connect",
		    "host not found\n  hostname: %s\n  port number: %d\n"
		    "  system error: %s; gai_err=%d",
		    host, port, gai_strerror(gai), gai);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd >= 0 && connect_one(fd, ai, brk, who, err) == 0)
			break;
		saved = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
		if (err != NULL && err->kind == SSLPORT_EBREAK)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0 && (err == NULL || err->kind != SSLPORT_EBREAK))
		sslport_err(err, SSLPORT_ENETWORK, "tcp-connect",
		    "connection failed\n  hostname: %s\n  port number: %d\n"
		    "  system error: %s; errno=%d",
		    host, port, strerror(saved), saved);
	return fd;
}

static int
check_connect_args(const char *who, const char *hostname, int port,
    struct sslport_ctx *ctx, enum sslport_protocol proto,
    const struct sslport_bytes *alpn, size_t nalpn, struct sslport_error *err)
{
	if (hostname == NULL)
		return sslport_err_contract(err, who, "string?");
	if (port < 1 || port > 65535)
		return sslport_err_contract(err, who, "(integer-in 1 65535)");
	if (ctx != NULL ? !sslport_is_client_context(ctx)
	                : sslport_protocol_name(proto) == NULL)
		return sslport_err_contract(err, who,
		    "(or/c ssl-client-context? ssl-protocol-symbol/c)");
	if (sslport_check_alpn(alpn, nalpn, who, err) < 0)
		return -1;
	return sslport_require_ssl(who, err);
}

static int
connect_common(const char *who, const char *hostname, int port,
    struct sslport_ctx *ctx, enum sslport_protocol proto,
    const struct sslport_bytes *alpn, size_t nalpn, struct sslport_break *brk,
    struct sslport_port **in, struct sslport_port **out,
    struct sslport_error *err)
{
	struct sslport_wrap_options opt;
	int fd;

	sslport_error_clear(err);
	*in = *out = NULL;
	if (check_connect_args(
	        who, hostname, port, ctx, proto, alpn, nalpn, err) < 0)
		return -1;
	if ((fd = tcp_connect(hostname, port, brk, who, err)) < 0)
		return -1;
	sslport_wrap_options_init(&opt);
	opt.mode = SSLPORT_MODE_CONNECT;
	opt.context = ctx;
	opt.encrypt = proto;
	opt.hostname = hostname;
	opt.alpn = alpn;
	opt.nalpn = nalpn;
	return wrap_socket(fd, &opt, who, brk, in, out, err);
}

int
sslport_connect(const char *hostname, int port, struct sslport_ctx *ctx,
    enum sslport_protocol proto, const struct sslport_bytes *alpn, size_t nalpn,
    struct sslport_port **in, struct sslport_port **out,
    struct sslport_error *err)
{
	return connect_common("ssl-connect", hostname, port, ctx, proto, alpn,
	    nalpn, NULL, in, out, err);
}

int
sslport_connect_enable_break(const char *hostname, int port,
    struct sslport_ctx *ctx, enum sslport_protocol proto,
    const struct sslport_bytes *alpn, size_t nalpn, struct sslport_break *brk,
    struct sslport_port **in, struct sslport_port **out,
    struct sslport_error *err)
{
	return connect_common("ssl-connect/enable-break", hostname, port, ctx,
	    proto, alpn, nalpn, brk, in, out, err);
}

/* ---- Listening -------------------------------------------------------- */

/* IPv4 first, so that a listener's first address is the IPv4 one. */
static int
addr_rank(const struct addrinfo *ai)
{
	return ai->ai_family == AF_INET ? 0 : 1;
}

/* Bind and listen on one address; the socket, or -1 with errno. */
static int
listen_one(const struct addrinfo *ai, int port, int backlog, int reuse)
{
	struct sockaddr_storage sa;
	int fd, one = 1;

	memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
	fd = socket(
	    ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (reuse)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, ai->ai_addrlen) < 0 ||
	    listen(fd, backlog) < 0) {
		one = errno;
		close(fd);
		errno = one;
		return -1;
	}
	return fd;
}

static int
bound_port(int fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return 0;
	if (sa.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&sa)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
}

/*
 * Listen on every address of `host` (all of them for NULL), each family
 * on the same port.  Only the first address must work: another family
 * may be missing on this machine.
 */
static int
listen_all(struct sslport_listener *l, const char *host, int port, int backlog,
    int reuse, struct sslport_error *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	int gai, rank, fd, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((gai = getaddrinfo(host, "0", &hints, &res)) != 0)
		return sslport_err(err, SSLPORT_ENETWORK, "tcp-listen",
		    "host not found\n  hostname: %s\n  system error: %s; "
		    "gai_err=%d",
		    host, gai_strerror(gai), gai);
	for (rank = 0; rank < 2; rank++) {
		for (ai = res; ai != NULL && l->nfds < LISTENER_MAX_FDS;
		     ai = ai->ai_next) {
			if (addr_rank(ai) != rank)
				continue;
			fd = listen_one(ai, port, backlog, reuse);
			if (fd < 0 && l->nfds == 0) {
				saved = errno;
				goto done;
			}
			if (fd < 0)
				continue;
			l->fds[l->nfds++] = fd;
			if (port == 0)
				port = bound_port(fd);
		}
	}
done:
	freeaddrinfo(res);
	if (l->nfds > 0)
		return 0;
	return sslport_err(err, SSLPORT_ENETWORK, "tcp-listen",
	    "listen failed\n  port number: %d\n  system error: %s; errno=%d",
	    port, strerror(saved), saved);
}

static int
check_listen_args(int port, int backlog, struct sslport_ctx *ctx,
    enum sslport_protocol proto, struct sslport_error *err)
{
	const char *who = "ssl-listen";

	if (port < 0 || port > 65535)
		return sslport_err_contract(err, who, "listen-port-number?");
	if (backlog < 0)
		return sslport_err_contract(
		    err, who, "exact-nonnegative-integer?");
	if (ctx != NULL ? !sslport_is_server_context(ctx)
	                : sslport_protocol_name(proto) == NULL)
		return sslport_err_contract(err, who,
		    "(or/c ssl-server-context? ssl-protocol-symbol/c)");
	return sslport_require_ssl(who, err);
}

struct sslport_listener *
sslport_listen(int port, int backlog, int reuse, const char *host,
    struct sslport_ctx *ctx, enum sslport_protocol proto,
    struct sslport_error *err)
{
	struct sslport_listener *l;

	sslport_error_clear(err);
	if (check_listen_args(port, backlog, ctx, proto, err) < 0)
		return NULL;
	if ((l = sslport_calloc(1, sizeof(*l))) == NULL) {
		sslport_err(err, SSLPORT_EFAIL, "ssl-listen", "out of memory");
		return NULL;
	}
	l->obj.type = SSLPORT_OBJ_LISTENER;
	l->wake[0] = l->wake[1] = -1;
	pthread_mutex_init(&l->lock, NULL);
	/* A symbol gives a fresh context, changed through the listener. */
	l->ctx = ctx != NULL
	    ? sslport_ctx_ref(ctx)
	    : sslport_make_server_context(proto, NULL, NULL, err);
	if (l->ctx == NULL ||
	    listen_all(l, host, port, backlog, reuse, err) < 0)
		goto fail;
	if (pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		sslport_err(err, SSLPORT_EFAIL, "ssl-listen", "pipe: %s",
		    strerror(errno));
		goto fail;
	}
	return l;
fail:
	sslport_listener_free(l);
	return NULL;
}

/* Close the listening sockets once nobody polls them.  Lock held. */
static void
listener_release_fds(struct sslport_listener *l)
{
	int i;

	if (l->users > 0)
		return;
	for (i = 0; i < l->nfds; i++)
		close(l->fds[i]);
	l->nfds = 0;
}

int
sslport_close(struct sslport_listener *l, struct sslport_error *err)
{
	int i, rv = -1;
	ssize_t w;

	sslport_error_clear(err);
	if (!sslport_is_listener(l))
		return sslport_err_contract(err, "ssl-close", "ssl-listener?");
	pthread_mutex_lock(&l->lock);
	if (l->closed) {
		sslport_err(
		    err, SSLPORT_ENETWORK, "tcp-close", "listener is closed");
		goto done;
	}
	l->closed = 1;
	/* Refuse new clients now, and wake threads waiting to accept. */
	for (i = 0; i < l->nfds; i++)
		shutdown(l->fds[i], SHUT_RDWR);
	w = write(l->wake[1], "c", 1);
	(void)w;
	listener_release_fds(l);
	rv = 0;
done:
	pthread_mutex_unlock(&l->lock);
	return rv;
}

void
sslport_listener_free(struct sslport_listener *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->closed = 1;
	l->users = 0;
	listener_release_fds(l);
	pthread_mutex_unlock(&l->lock);
	if (l->wake[0] >= 0)
		close(l->wake[0]);
	if (l->wake[1] >= 0)
		close(l->wake[1]);
	sslport_ctx_free(l->ctx);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

struct sslport_ctx *
sslport_listener_context(struct sslport_listener *l)
{
	return l != NULL ? l->ctx : NULL;
}

int
sslport_is_listener(const void *v)
{
	const struct sslport_object *o = v;

	return o != NULL && o->type == SSLPORT_OBJ_LISTENER;
}

/* ---- Accepting -------------------------------------------------------- */

/* Poll the listening sockets (and the wake pipe and break handle). */
static int
listener_poll(struct sslport_listener *l, struct pollfd *pfd, int nfds,
    double timeout, struct sslport_break *brk)
{
	int i, n = nfds, ms = timeout < 0 ? -1 : (int)(timeout * 1000.0 + .5);

	for (i = 0; i < nfds; i++) {
		pfd[i].fd = l->fds[i];
		pfd[i].events = POLLIN;
	}
	pfd[n].fd = l->wake[0];
	pfd[n++].events = POLLIN;
	if (brk != NULL) {
		pfd[n].fd = brk->fds[0];
		pfd[n++].events = POLLIN;
	}
	if (sslport_break_is_triggered(brk))
		return 1;
	return poll(pfd, (nfds_t)n, ms);
}

/* Begin polling: the fds stay open until we are done.  -1 if closed. */
static int
listener_enter(struct sslport_listener *l, int *nfds)
{
	int closed;

	pthread_mutex_lock(&l->lock);
	closed = l->closed;
	if (!closed)
		l->users++;
	*nfds = l->nfds;
	pthread_mutex_unlock(&l->lock);
	return closed ? -1 : 0;
}

static void
listener_leave(struct sslport_listener *l)
{
	pthread_mutex_lock(&l->lock);
	l->users--;
	if (l->closed)
		listener_release_fds(l);
	pthread_mutex_unlock(&l->lock);
}

/* Take one waiting connection, if any: the socket, or -1. */
static int
listener_take(struct sslport_listener *l, const struct pollfd *pfd, int nfds)
{
	int i, fd;

	for (i = 0; i < nfds; i++) {
		if (pfd[i].revents == 0)
			continue;
		fd = accept4(l->fds[i], NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/*
 * Wait for a client and take its TCP connection.  A break while waiting
 * fails with the break kind and takes no connection (S2.accept.8).
 */
static int
listener_accept_fd(struct sslport_listener *l, struct sslport_break *brk,
    const char *who, struct sslport_error *err)
{
	struct pollfd pfd[LISTENER_MAX_FDS + 2];
	int nfds, fd = -1;

	if (listener_enter(l, &nfds) < 0)
		return sslport_err(
		    err, SSLPORT_ENETWORK, "tcp-accept", "listener is closed");
	for (;;) {
		if (listener_poll(l, pfd, nfds, -1, brk) < 0 &&
		    errno != EINTR) {
			sslport_err(err, SSLPORT_ENETWORK, who, "poll: %s",
			    strerror(errno));
			break;
		}
		if (sslport_break_is_triggered(brk)) {
			sslport_err(err, SSLPORT_EBREAK, who, "user break");
			break;
		}
		pthread_mutex_lock(&l->lock);
		if (!l->closed)
			fd = listener_take(l, pfd, nfds);
		else
			sslport_err(err, SSLPORT_ENETWORK, "tcp-accept",
			    "listener is closed");
		pthread_mutex_unlock(&l->lock);
		if (fd >= 0 || err->kind != SSLPORT_OK)
			break;
	}
	listener_leave(l);
	return fd;
}

static int
accept_common(struct sslport_listener *l, const char *who,
    struct sslport_break *brk, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err)
{
	struct sslport_error local;
	struct sslport_wrap_options opt;
	int fd;

	if (err == NULL)
		err = &local;
	sslport_error_clear(err);
	*in = *out = NULL;
	if (!sslport_is_listener(l))
		return sslport_err_contract(err, who, "ssl-listener?");
	if (sslport_require_ssl(who, err) < 0)
		return -1;
	if ((fd = listener_accept_fd(l, brk, who, err)) < 0)
		return -1;
	sslport_wrap_options_init(&opt);
	opt.mode = SSLPORT_MODE_ACCEPT;
	opt.context = l->ctx;
	return wrap_socket(fd, &opt, who, brk, in, out, err);
}

int
sslport_accept(struct sslport_listener *l, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err)
{
	return accept_common(l, "ssl-accept", NULL, in, out, err);
}

int
sslport_accept_enable_break(struct sslport_listener *l,
    struct sslport_break *brk, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err)
{
	return accept_common(l, "ssl-accept/enable-break", brk, in, out, err);
}

int
sslport_listener_wait(
    struct sslport_listener *l, double timeout, struct sslport_error *err)
{
	struct pollfd pfd[LISTENER_MAX_FDS + 2];
	int i, nfds, r;

	sslport_error_clear(err);
	if (!sslport_is_listener(l))
		return sslport_err_contract(err, "sync", "ssl-listener?");
	/* A closed listener is ready: accepting would not wait. */
	if (listener_enter(l, &nfds) < 0)
		return 1;
	r = listener_poll(l, pfd, nfds, timeout, NULL);
	listener_leave(l);
	if (r < 0)
		return errno == EINTR ? 0
		                      : sslport_err(err, SSLPORT_EFAIL, "sync",
		                            "poll: %s", strerror(errno));
	for (i = 0; i <= nfds && r > 0; i++)
		if (pfd[i].revents != 0)
			return 1;
	return 0;
}

/* ---- Ports ------------------------------------------------------------ */

int
sslport_is_port(const void *v)
{
	const struct sslport_port *p = v;

	return p != NULL && p->obj.type == SSLPORT_OBJ_PORT && p->conn != NULL;
}

/* ssl-abandon-port: as closing, but the output never sends close_notify. */
int
sslport_abandon_port(struct sslport_port *p, struct sslport_error *err)
{
	struct sslport_conn *c;

	sslport_error_clear(err);
	if ((c = sslport_conn_of(p, "ssl-abandon-port", err)) == NULL)
		return -1;
	if (p->dir == SSLPORT_OUTPUT) {
		sslport_conn_lock(c);
		c->shutdown_on_close = 0;
		sslport_conn_unlock(c);
	}
	return sslport_port_close(p, err);
}

/* ---- Addresses -------------------------------------------------------- */

static int
format_addr(
    const struct sockaddr_storage *sa, char *host, size_t size, int *port)
{
	const struct sockaddr_in *v4 = (const void *)sa;
	const struct sockaddr_in6 *v6 = (const void *)sa;

	if (sa->ss_family == AF_INET) {
		*port = ntohs(v4->sin_port);
		return inet_ntop(AF_INET, &v4->sin_addr, host, size) ? 0 : -1;
	}
	if (sa->ss_family == AF_INET6) {
		*port = ntohs(v6->sin6_port);
		return inet_ntop(AF_INET6, &v6->sin6_addr, host, size) ? 0 : -1;
	}
	return -1;
}

static int
socket_addresses(int fd, int peer, struct sslport_addresses *out)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	memset(&sa, 0, sizeof(sa));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    format_addr(&sa, out->local_host, sizeof(out->local_host),
	        &out->local_port) < 0)
		return -1;
	if (!peer) {
		snprintf(out->remote_host, sizeof(out->remote_host), "0.0.0.0");
		out->remote_port = 0;
		return 0;
	}
	len = sizeof(sa);
	if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	return format_addr(
	    &sa, out->remote_host, sizeof(out->remote_host), &out->remote_port);
}

static int
listener_addresses(struct sslport_listener *l, struct sslport_addresses *out,
    struct sslport_error *err)
{
	int r = -1;

	pthread_mutex_lock(&l->lock);
	if (!l->closed && l->nfds > 0)
		r = socket_addresses(l->fds[0], 0, out);
	pthread_mutex_unlock(&l->lock);
	if (r < 0)
		return sslport_err(err, SSLPORT_ENETWORK, "ssl-addresses",
		    "listener is closed");
	return 0;
}

int
sslport_addresses(void *port_or_listener, struct sslport_addresses *out,
    struct sslport_error *err)
{
	struct sslport_conn *c;
	int fd;

	sslport_error_clear(err);
	memset(out, 0, sizeof(*out));
	if (sslport_is_listener(port_or_listener))
		return listener_addresses(port_or_listener, out, err);
	if (!sslport_is_port(port_or_listener))
		return sslport_err_contract(
		    err, "ssl-addresses", "(or/c ssl-port? ssl-listener?)");
	c = ((struct sslport_port *)port_or_listener)->conn;
	fd = sslport_port_fd(c->under_in);
	if (fd < 0)
		fd = sslport_port_fd(c->under_out);
	if (fd < 0 || socket_addresses(fd, 1, out) < 0)
		return sslport_err(err, SSLPORT_EFAIL, "ssl-addresses",
		    "not connected to TCP port");
	return 0;
}
