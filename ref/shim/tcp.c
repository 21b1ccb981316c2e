/*
 * tcp.c: plain TCP for the suite (spec/rpc.md, "Plain TCP").  The suite
 * plays raw peers with these (a server that answers with bytes that are
 * not TLS, a relay that watches or alters records) and wraps their ports
 * with ports->ssl-ports.  The ports are the library's file-descriptor
 * ports, so ssl-addresses finds the socket under an SSL port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim_tcp.h"

struct shim_tcp_listener {
	pthread_mutex_t lock;
	int fd;
	int wake[2]; /* readable once closed */
	int closed;
	int users; /* threads polling fd: the last closes it */
};

/* ---- Listeners -------------------------------------------------------- */

static void
release_fd(struct shim_tcp_listener *l)
{
	if (l->users == 0 && l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
}

/* Close once; 0, or -1 when it was closed already. */
static int
listener_close(struct shim_tcp_listener *l)
{
	ssize_t w;
	int rv = -1;

	pthread_mutex_lock(&l->lock);
	if (!l->closed) {
		l->closed = 1;
		shutdown(l->fd, SHUT_RDWR);
		w = write(l->wake[1], "c", 1);
		(void)w;
		release_fd(l);
		rv = 0;
	}
	pthread_mutex_unlock(&l->lock);
	return rv;
}

void
shim_tcp_listener_close(void *l)
{
	listener_close(l);
}

void
shim_tcp_listener_free(void *arg)
{
	struct shim_tcp_listener *l = arg;

	if (l == NULL)
		return;
	listener_close(l);
	pthread_mutex_lock(&l->lock);
	l->users = 0;
	release_fd(l);
	pthread_mutex_unlock(&l->lock);
	close(l->wake[0]);
	close(l->wake[1]);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* Poll the socket and the wake pipe: 1 when either is readable. */
static int
listener_poll(
    struct shim_tcp_listener *l, double timeout, struct sslport_break *brk)
{
	struct pollfd pfd[2];
	int fd, r, ms = timeout < 0 ? -1 : (int)(timeout * 1000.0 + 0.5);

	pthread_mutex_lock(&l->lock);
	if (l->closed) {
		pthread_mutex_unlock(&l->lock);
		return 1;
	}
	l->users++;
	fd = l->fd;
	pthread_mutex_unlock(&l->lock);
	pfd[0].fd = fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = l->wake[0];
	pfd[1].events = POLLIN;
	r = sslport_break_is_triggered(brk) ? 1 : poll(pfd, 2, ms);
	pthread_mutex_lock(&l->lock);
	l->users--;
	if (l->closed)
		release_fd(l);
	pthread_mutex_unlock(&l->lock);
	return r > 0;
}

int
shim_tcp_listener_wait(void *l, double timeout)
{
	return listener_poll(l, timeout, NULL);
}

static int
listen_socket(const char *host, int port, int backlog, int reuse,
    struct sslport_error *err)
{
	struct addrinfo hints, *res = NULL, *ai, *pick = NULL;
	char service[16];
	int fd = -1, one = 1, gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(service, sizeof(service), "%d", port);
	if ((gai = getaddrinfo(host, service, &hints, &res)) != 0)
		return shim_fail(err, SSLPORT_ENETWORK, "tcp-listen",
		    "host not found\n  system error: %s", gai_strerror(gai));
	for (ai = res; ai != NULL && pick == NULL; ai = ai->ai_next)
		if (ai->ai_family == AF_INET)
			pick = ai;
	if (pick == NULL)
		pick = res;
	fd = socket(pick->ai_family,
	    pick->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && reuse)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, pick->ai_addr, pick->ai_addrlen) < 0 ||
	    listen(fd, backlog) < 0) {
		shim_fail(err, SSLPORT_ENETWORK, "tcp-listen",
		    "listen failed"
		    "\n  port number: %d\n  system error: %s; errno=%d",
		    port, strerror(errno), errno);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int
shim_op_tcp_listen(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct shim_tcp_listener *l;
	const char *host = NULL;
	long long port, backlog = 4;
	json_t *h;
	int fd;

	if (shim_argc(req, args, 1, 4, err) < 0 ||
	    shim_arg_int(req, shim_arg(args, 0), 0, 65535, &port,
	        "listen-port-number?", err) < 0)
		return -1;
	if (shim_arg(args, 1) != NULL &&
	    shim_arg_int(req, shim_arg(args, 1), 0, INT_MAX, &backlog,
	        "exact-nonnegative-integer?", err) < 0)
		return -1;
	h = shim_arg(args, 3);
	if (h != NULL && !json_is_false(h) &&
	    (host = shim_arg_string(req, h, "(or/c string? #f)", err)) == NULL)
		return -1;
	fd = listen_socket(
	    host, (int)port, (int)backlog, shim_truthy(shim_arg(args, 2)), err);
	if (fd < 0)
		return -1;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(l);
		close(fd);
		return shim_fail(
		    err, SSLPORT_EFAIL, "tcp-listen", "out of resources");
	}
	pthread_mutex_init(&l->lock, NULL);
	l->fd = fd;
	*result = shim_handle(req, SHIM_TCP_LISTENER, l);
	return 0;
}

/* ---- Connections ------------------------------------------------------ */

/* Ports over a connected socket, as two values. */
static int
socket_values(
    struct shim_req *req, int fd, json_t **result, struct sslport_error *err)
{
	struct sslport_port *in, *out;
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sslport_fd_ports(fd, fd, &in, &out, err) < 0) {
		close(fd);
		return -1;
	}
	*result = json_pack("[o,o]", shim_handle(req, SHIM_PORT, in),
	    shim_handle(req, SHIM_PORT, out));
	shim_values(req);
	return 0;
}

/* Take a waiting connection: the socket, 0 for none yet, -1 closed. */
static int
listener_take(struct shim_tcp_listener *l)
{
	int fd = -1;

	pthread_mutex_lock(&l->lock);
	if (!l->closed)
		fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
	else
		errno = EBADF;
	pthread_mutex_unlock(&l->lock);
	if (fd < 0 && errno != EBADF)
		return 0;
	return fd;
}

int
shim_op_tcp_accept(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct shim_tcp_listener *l;
	int fd = 0;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	l = shim_arg_object(
	    req, shim_arg(args, 0), SHIM_TCP_LISTENER, "tcp-listener?", err);
	if (l == NULL)
		return -1;
	while (fd == 0) {
		listener_poll(l, -1, NULL);
		fd = listener_take(l);
	}
	if (fd < 0)
		return shim_fail(
		    err, SSLPORT_ENETWORK, "tcp-accept", "listener is closed");
	return socket_values(req, fd, result, err);
}

static int
connect_socket(const char *host, int port, struct sslport_error *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[16];
	int fd = -1, gai, saved = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof(service), "%d", port);
	if ((gai = getaddrinfo(host, service, &hints, &res)) != 0)
		return shim_fail(err, SSLPORT_ENETWORK, "tcp-connect",
		    "host not found\n  hostname: %s\n  system error: %s", host,
		    gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		shim_fail(err, SSLPORT_ENETWORK, "tcp-connect",
		    "connection "
		    "failed\n  hostname: %s\n  port number: %d\n  system "
		    "error: %s; errno=%d",
		    host, port, strerror(saved), saved);
	return fd;
}

int
shim_op_tcp_connect(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	const char *host;
	long long port;
	int fd;

	if (shim_argc(req, args, 2, 2, err) < 0 ||
	    (host = shim_arg_string(req, shim_arg(args, 0), "string?", err)) ==
	        NULL ||
	    shim_arg_int(req, shim_arg(args, 1), 1, 65535, &port,
	        "(integer-in 1 65535)", err) < 0)
		return -1;
	if ((fd = connect_socket(host, (int)port, err)) < 0)
		return -1;
	return socket_values(req, fd, result, err);
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
fd_addresses(int fd, int peer, struct sslport_addresses *a)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	memset(a, 0, sizeof(*a));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    format_addr(
	        &sa, a->local_host, sizeof(a->local_host), &a->local_port) < 0)
		return -1;
	if (!peer) {
		snprintf(a->remote_host, sizeof(a->remote_host), "0.0.0.0");
		return 0;
	}
	len = sizeof(sa);
	if (getpeername(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	return format_addr(
	    &sa, a->remote_host, sizeof(a->remote_host), &a->remote_port);
}

json_t *
shim_addresses_values(const struct sslport_addresses *a, int numbers)
{
	if (!numbers)
		return json_pack("[s,s]", a->local_host, a->remote_host);
	return json_pack("[s,i,s,i]", a->local_host, a->local_port,
	    a->remote_host, a->remote_port);
}

int
shim_op_tcp_addresses(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct shim_tcp_listener *l;
	struct sslport_addresses a;
	enum shim_type type;
	void *obj;
	int r = -1;

	if (shim_argc(req, args, 1, 2, err) < 0)
		return -1;
	obj = shim_arg_any(req, shim_arg(args, 0), &type);
	if (obj != NULL && type == SHIM_PORT) {
		r = fd_addresses(sslport_port_fd(obj), 1, &a);
	} else if (obj != NULL && type == SHIM_TCP_LISTENER) {
		l = obj;
		pthread_mutex_lock(&l->lock);
		r = l->closed ? -1 : fd_addresses(l->fd, 0, &a);
		pthread_mutex_unlock(&l->lock);
	} else {
		return shim_contract(
		    err, "tcp-addresses", "(or/c tcp-port? tcp-listener?)");
	}
	if (r < 0)
		return shim_fail(err, SSLPORT_ENETWORK, "tcp-addresses",
		    "could not get address\n  system error: %s",
		    strerror(errno));
	*result = shim_addresses_values(&a, shim_truthy(shim_arg(args, 1)));
	shim_values(req);
	return 0;
}

int
shim_op_tcp_close(struct shim_req *req, json_t *args, json_t *kw,
    json_t **result, struct sslport_error *err)
{
	struct shim_tcp_listener *l;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return -1;
	l = shim_arg_object(
	    req, shim_arg(args, 0), SHIM_TCP_LISTENER, "tcp-listener?", err);
	if (l == NULL)
		return -1;
	if (listener_close(l) < 0)
		return shim_fail(
		    err, SSLPORT_ENETWORK, "tcp-close", "listener is closed");
	*result = shim_void();
	return 0;
}
