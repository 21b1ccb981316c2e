/*
 * port.c: the port type.  A port is one direction of a byte stream with
 * a table of operations; this file adds what every port shares: the
 * closed state, output buffering, reference counts and waiting.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct sslport_port *
sslport_port_new(enum sslport_direction dir, const struct sslport_port_ops *ops,
    void *state, const char *name)
{
	struct sslport_port *p;

	p = sslport_calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->name = sslport_strdup(name != NULL ? name : "port");
	if (p->name == NULL) {
		free(p);
		return NULL;
	}
	p->obj.type = SSLPORT_OBJ_PORT;
	atomic_init(&p->refs, 1);
	p->dir = dir;
	p->ops = ops;
	p->state = state;
	p->mode = SSLPORT_BUFFER_NONE;
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

struct sslport_port *
sslport_port_ref(struct sslport_port *p)
{
	if (p != NULL)
		atomic_fetch_add(&p->refs, 1);
	return p;
}

void
sslport_port_unref(struct sslport_port *p)
{
	if (p == NULL || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	if (p->ops->destroy != NULL)
		p->ops->destroy(p->state);
	pthread_mutex_destroy(&p->lock);
	free(p->buf);
	free(p->name);
	free(p);
}

void
sslport_port_free(struct sslport_port *p)
{
	if (p == NULL)
		return;
	sslport_port_close(p, NULL);
	sslport_port_unref(p);
}

enum sslport_direction
sslport_port_direction(const struct sslport_port *p)
{
	return p->dir;
}

static int
check_open(struct sslport_port *p, enum sslport_direction dir, const char *who,
    struct sslport_error *err)
{
	int closed;

	if (p == NULL || p->obj.type != SSLPORT_OBJ_PORT || p->dir != dir)
		return sslport_err_contract(err, who,
		    dir == SSLPORT_INPUT ? "input-port?" : "output-port?");
	pthread_mutex_lock(&p->lock);
	closed = p->closed;
	pthread_mutex_unlock(&p->lock);
	if (closed)
		return sslport_err(err, SSLPORT_EFAIL, who, "%s port is closed",
		    dir == SSLPORT_INPUT ? "input" : "output");
	return 0;
}

ssize_t
sslport_port_read_brk(struct sslport_port *p, void *buf, size_t n,
    struct sslport_break *brk, struct sslport_error *err)
{
	sslport_error_clear(err);
	if (check_open(p, SSLPORT_INPUT, "read-bytes", err) < 0)
		return -1;
	if (n == 0)
		return 0;
	return p->ops->read(p->state, buf, n, brk, err);
}

ssize_t
sslport_port_read(
    struct sslport_port *p, void *buf, size_t n, struct sslport_error *err)
{
	return sslport_port_read_brk(p, buf, n, NULL, err);
}

ssize_t
sslport_port_read_full(
    struct sslport_port *p, void *buf, size_t n, struct sslport_error *err)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = sslport_port_read(p, (char *)buf + got, n - got, err);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Write all of buf through the operation, without buffering. */
static int
write_all(struct sslport_port *p, const void *buf, size_t n,
    struct sslport_break *brk, struct sslport_error *err)
{
	const char *c = buf;
	ssize_t w;

	while (n > 0) {
		w = p->ops->write(p->state, c, n, brk, err);
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Take the buffered bytes (under the lock) and write them out. */
static int
flush_buffer(struct sslport_port *p, struct sslport_break *brk,
    struct sslport_error *err)
{
	unsigned char *buf;
	size_t len;
	int rv;

	pthread_mutex_lock(&p->lock);
	buf = p->buf;
	len = p->buflen;
	p->buf = NULL;
	p->buflen = 0;
	pthread_mutex_unlock(&p->lock);
	if (buf == NULL)
		return 0;
	rv = write_all(p, buf, len, brk, err);
	free(buf);
	return rv;
}

/* Append to the buffer; 1 when it should be flushed now. */
static int
buffer_bytes(struct sslport_port *p, const void *data, size_t n,
    struct sslport_error *err)
{
	unsigned char *nb;
	int full;

	pthread_mutex_lock(&p->lock);
	nb = realloc(p->buf, p->buflen + n);
	if (nb == NULL) {
		pthread_mutex_unlock(&p->lock);
		return sslport_err(
		    err, SSLPORT_EFAIL, "write-bytes", "out of memory");
	}
	memcpy(nb + p->buflen, data, n);
	p->buf = nb;
	p->buflen += n;
	full = p->buflen >= SSLPORT_PORT_BUFSIZE ||
	    (p->mode == SSLPORT_BUFFER_LINE && memchr(data, '\n', n) != NULL);
	pthread_mutex_unlock(&p->lock);
	return full;
}

int
sslport_port_write_brk(struct sslport_port *p, const void *buf, size_t n,
    struct sslport_break *brk, struct sslport_error *err)
{
	int r;

	sslport_error_clear(err);
	if (check_open(p, SSLPORT_OUTPUT, "write-bytes", err) < 0)
		return -1;
	if (n == 0)
		return 0;
	if (p->mode == SSLPORT_BUFFER_NONE) {
		if (flush_buffer(p, brk, err) < 0)
			return -1;
		return write_all(p, buf, n, brk, err);
	}
	r = buffer_bytes(p, buf, n, err);
	if (r < 0)
		return -1;
	return r ? flush_buffer(p, brk, err) : 0;
}

int
sslport_port_write(struct sslport_port *p, const void *buf, size_t n,
    struct sslport_error *err)
{
	return sslport_port_write_brk(p, buf, n, NULL, err);
}

int
sslport_port_flush(struct sslport_port *p, struct sslport_error *err)
{
	sslport_error_clear(err);
	if (check_open(p, SSLPORT_OUTPUT, "flush-output", err) < 0)
		return -1;
	if (flush_buffer(p, NULL, err) < 0)
		return -1;
	return p->ops->flush != NULL ? p->ops->flush(p->state, err) : 0;
}

int
sslport_port_close(struct sslport_port *p, struct sslport_error *err)
{
	int rv = 0;

	sslport_error_clear(err);
	if (p == NULL || p->obj.type != SSLPORT_OBJ_PORT)
		return sslport_err_contract(err, "close-port", "port?");
	pthread_mutex_lock(&p->lock);
	if (p->closed) {
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	pthread_mutex_unlock(&p->lock);
	if (p->dir == SSLPORT_OUTPUT && flush_buffer(p, NULL, err) < 0)
		rv = -1;
	pthread_mutex_lock(&p->lock);
	p->closed = 1;
	pthread_mutex_unlock(&p->lock);
	if (p->ops->close != NULL &&
	    p->ops->close(p->state, rv < 0 ? NULL : err) < 0)
		rv = -1;
	return rv;
}

int
sslport_port_is_closed(const struct sslport_port *p)
{
	int closed;

	pthread_mutex_lock((pthread_mutex_t *)&p->lock);
	closed = p->closed;
	pthread_mutex_unlock((pthread_mutex_t *)&p->lock);
	return closed;
}

int
sslport_port_wait_brk(struct sslport_port *p, double timeout,
    struct sslport_break *brk, struct sslport_error *err)
{
	sslport_error_clear(err);
	if (check_open(p, SSLPORT_INPUT, "sync", err) < 0)
		return -1;
	if (p->ops->wait == NULL)
		return 1;
	return p->ops->wait(p->state, timeout, brk, err);
}

int
sslport_port_wait(
    struct sslport_port *p, double timeout, struct sslport_error *err)
{
	return sslport_port_wait_brk(p, timeout, NULL, err);
}

int
sslport_port_byte_ready(struct sslport_port *p, struct sslport_error *err)
{
	return sslport_port_wait(p, 0, err);
}

enum sslport_buffer_mode
sslport_port_buffer_mode(const struct sslport_port *p)
{
	return p->mode;
}

int
sslport_port_set_buffer_mode(struct sslport_port *p,
    enum sslport_buffer_mode mode, struct sslport_error *err)
{
	sslport_error_clear(err);
	if (p == NULL || p->obj.type != SSLPORT_OBJ_PORT)
		return sslport_err_contract(
		    err, "file-stream-buffer-mode", "port?");
	if (mode != SSLPORT_BUFFER_NONE && mode != SSLPORT_BUFFER_LINE &&
	    mode != SSLPORT_BUFFER_BLOCK)
		return sslport_err_contract(err, "file-stream-buffer-mode",
		    "(or/c 'none 'line 'block)");
	if (p->dir == SSLPORT_OUTPUT && mode == SSLPORT_BUFFER_NONE &&
	    flush_buffer(p, NULL, err) < 0)
		return -1;
	pthread_mutex_lock(&p->lock);
	p->mode = mode;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int
sslport_port_fd(struct sslport_port *p)
{
	if (p == NULL || p->ops->fd == NULL)
		return -1;
	return p->ops->fd(p->state);
}

/* ---- Breaks and polling ------------------------------------------------ */

struct sslport_break *
sslport_break_new(struct sslport_error *err)
{
	struct sslport_break *brk;

	brk = sslport_calloc(1, sizeof(*brk));
	if (brk == NULL) {
		sslport_err(err, SSLPORT_EFAIL, "make-break", "out of memory");
		return NULL;
	}
	if (pipe(brk->fds) < 0) {
		sslport_err(err, SSLPORT_EFAIL, "make-break", "pipe: %s",
		    strerror(errno));
		free(brk);
		return NULL;
	}
	atomic_init(&brk->triggered, 0);
	return brk;
}

/* Async-signal-safe: one write(2) the first time. */
void
sslport_break_trigger(struct sslport_break *brk)
{
	ssize_t r;

	if (brk == NULL || atomic_exchange(&brk->triggered, 1) != 0)
		return;
	r = write(brk->fds[1], "b", 1);
	(void)r;
}

int
sslport_break_is_triggered(const struct sslport_break *brk)
{
	return brk != NULL && atomic_load(&brk->triggered);
}

void
sslport_break_free(struct sslport_break *brk)
{
	if (brk == NULL)
		return;
	close(brk->fds[0]);
	close(brk->fds[1]);
	free(brk);
}

static int
timeout_ms(double timeout)
{
	if (timeout < 0 || isnan(timeout))
		return -1;
	if (timeout > 86400.0 * 365)
		return -1;
	return (int)ceil(timeout * 1000.0);
}

int
sslport_poll_fd(int fd, short events, double timeout, struct sslport_break *brk,
    const char *who, struct sslport_error *err)
{
	struct pollfd pfd[2];
	nfds_t n = 1;
	int r;

	pfd[0].fd = fd;
	pfd[0].events = events;
	if (brk != NULL) {
		pfd[1].fd = brk->fds[0];
		pfd[1].events = POLLIN;
		n = 2;
	}
	for (;;) {
		if (sslport_break_is_triggered(brk))
			return sslport_err(
			    err, SSLPORT_EBREAK, who, "user break");
		r = poll(pfd, n, timeout_ms(timeout));
		if (r >= 0 || errno != EINTR)
			break;
	}
	if (r < 0)
		return sslport_err(
		    err, SSLPORT_EFAIL, who, "poll: %s", strerror(errno));
	if (sslport_break_is_triggered(brk))
		return sslport_err(err, SSLPORT_EBREAK, who, "user break");
	return r > 0 && pfd[0].revents != 0;
}

int
sslport_is_input_port(const void *v)
{
	const struct sslport_port *p = v;

	return p != NULL && p->obj.type == SSLPORT_OBJ_PORT &&
	    p->dir == SSLPORT_INPUT;
}

int
sslport_is_output_port(const void *v)
{
	const struct sslport_port *p = v;

	return p != NULL && p->obj.type == SSLPORT_OBJ_PORT &&
	    p->dir == SSLPORT_OUTPUT;
}
