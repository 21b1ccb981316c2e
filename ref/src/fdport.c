/*
 * fdport.c: ports over file descriptors, sockets above all.  Closing the
 * output port of a socket shuts its sending side down, so the peer reads
 * end-of-file while this side can still read; the descriptor itself is
 * closed when both ports are.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

struct fd_state {
	pthread_mutex_t lock;
	int in_fd;
	int out_fd;
	int in_open;
	int out_open;
	int refs;
};

static int
sys_err(struct sslport_error *err, const char *who, const char *what)
{
	return sslport_err(err, SSLPORT_EFAIL, who,
	    "error %s stream port\n  system error: %s; errno=%d", what,
	    strerror(errno), errno);
}

static ssize_t
fd_read(void *state, void *buf, size_t n, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct fd_state *s = state;
	ssize_t r;

	for (;;) {
		if (brk != NULL &&
		    sslport_poll_fd(
		        s->in_fd, POLLIN, -1, brk, "read-bytes", err) < 0)
			return -1;
		r = read(s->in_fd, buf, n);
		if (r >= 0)
			return r;
		if (errno == ECONNRESET)
			return sslport_err(err, SSLPORT_EFAIL, "read-bytes",
			    "error reading from stream port\n  system error: "
			    "Connection reset by peer; errno=%d",
			    errno);
		if (errno != EINTR && errno != EAGAIN)
			return sys_err(err, "read-bytes", "reading from");
		if (errno == EAGAIN &&
		    sslport_poll_fd(
		        s->in_fd, POLLIN, -1, brk, "read-bytes", err) < 0)
			return -1;
	}
}

static ssize_t
fd_write(void *state, const void *buf, size_t n, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct fd_state *s = state;
	ssize_t w;

	for (;;) {
		if (brk != NULL &&
		    sslport_poll_fd(
		        s->out_fd, POLLOUT, -1, brk, "write-bytes", err) < 0)
			return -1;
		w = send(s->out_fd, buf, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(s->out_fd, buf, n);
		if (w >= 0)
			return w;
		if (errno != EINTR && errno != EAGAIN)
			return sys_err(err, "write-bytes", "writing to");
		if (errno == EAGAIN &&
		    sslport_poll_fd(
		        s->out_fd, POLLOUT, -1, brk, "write-bytes", err) < 0)
			return -1;
	}
}

static int
fd_wait(void *state, double timeout, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct fd_state *s = state;

	return sslport_poll_fd(s->in_fd, POLLIN, timeout, brk, "sync", err);
}

static void
fd_release(struct fd_state *s)
{
	int last;

	pthread_mutex_lock(&s->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Close what is no longer used; the lock is held. */
static void
fd_close_locked(struct fd_state *s, int closing_out)
{
	if (s->in_fd == s->out_fd) {
		if (s->in_open || s->out_open) {
			if (closing_out)
				shutdown(s->out_fd, SHUT_WR);
			return;
		}
		close(s->in_fd);
		return;
	}
	close(closing_out ? s->out_fd : s->in_fd);
}

static int
fd_close_in(void *state, struct sslport_error *err)
{
	struct fd_state *s = state;

	(void)err;
	pthread_mutex_lock(&s->lock);
	s->in_open = 0;
	fd_close_locked(s, 0);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int
fd_close_out(void *state, struct sslport_error *err)
{
	struct fd_state *s = state;

	(void)err;
	pthread_mutex_lock(&s->lock);
	s->out_open = 0;
	fd_close_locked(s, 1);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void
fd_destroy(void *state)
{
	fd_release(state);
}

static int
fd_in_fd(void *state)
{
	return ((struct fd_state *)state)->in_fd;
}

static int
fd_out_fd(void *state)
{
	return ((struct fd_state *)state)->out_fd;
}

static const struct sslport_port_ops fd_in_ops = {
    .read = fd_read,
    .wait = fd_wait,
    .close = fd_close_in,
    .destroy = fd_destroy,
    .fd = fd_in_fd,
};

static const struct sslport_port_ops fd_out_ops = {
    .write = fd_write,
    .close = fd_close_out,
    .destroy = fd_destroy,
    .fd = fd_out_fd,
};

int
sslport_fd_ports(int in_fd, int out_fd, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err)
{
	struct fd_state *s;

	sslport_error_clear(err);
	*in = *out = NULL;
	s = sslport_calloc(1, sizeof(*s));
	if (s == NULL)
		return sslport_err(
		    err, SSLPORT_EFAIL, "fd-ports", "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->in_open = s->out_open = 1;
	s->refs = 2;
	*in = sslport_port_new(SSLPORT_INPUT, &fd_in_ops, s, "fd");
	*out = sslport_port_new(SSLPORT_OUTPUT, &fd_out_ops, s, "fd");
	if (*in != NULL && *out != NULL)
		return 0;
	if (*in == NULL)
		fd_release(s);
	if (*out == NULL)
		fd_release(s);
	sslport_port_unref(*in);
	sslport_port_unref(*out);
	*in = *out = NULL;
	return sslport_err(err, SSLPORT_EFAIL, "fd-ports", "out of memory");
}
