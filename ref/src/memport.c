/*
 * memport.c: ports in memory.  An input port over a byte string, and
 * in-process pipes that hold at most `limit` bytes, so a test can squeeze
 * a TLS connection through a pipe that holds one byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* ---- Bytes --------------------------------------------------------------- */

struct bytes_state {
	unsigned char *data;
	size_t len;
	size_t pos;
	pthread_mutex_t lock;
};

static ssize_t
bytes_read(void *state, void *buf, size_t n, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct bytes_state *s = state;
	size_t k;

	(void)brk;
	(void)err;
	pthread_mutex_lock(&s->lock);
	k = s->len - s->pos < n ? s->len - s->pos : n;
	memcpy(buf, s->data + s->pos, k);
	s->pos += k;
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)k;
}

static void
bytes_destroy(void *state)
{
	struct bytes_state *s = state;

	pthread_mutex_destroy(&s->lock);
	free(s->data);
	free(s);
}

static const struct sslport_port_ops bytes_ops = {
    .read = bytes_read,
    .destroy = bytes_destroy,
};

int
sslport_bytes_port_take(
    struct sslport_port *p, const unsigned char **data, size_t *len)
{
	struct bytes_state *s = p->state;

	if (p->ops != &bytes_ops)
		return 0;
	pthread_mutex_lock(&s->lock);
	*data = s->data + s->pos;
	*len = s->len - s->pos;
	s->pos = s->len;
	pthread_mutex_unlock(&s->lock);
	return 1;
}

struct sslport_port *
sslport_open_input_bytes(
    const void *data, size_t len, struct sslport_error *err)
{
	struct bytes_state *s;
	struct sslport_port *p;

	sslport_error_clear(err);
	s = sslport_calloc(1, sizeof(*s));
	if (s == NULL || (s->data = malloc(len ? len : 1)) == NULL) {
		free(s);
		sslport_err(
		    err, SSLPORT_EFAIL, "open-input-bytes", "out of memory");
		return NULL;
	}
	if (len > 0)
		memcpy(s->data, data, len);
	s->len = len;
	pthread_mutex_init(&s->lock, NULL);
	p = sslport_port_new(SSLPORT_INPUT, &bytes_ops, s, "bytes");
	if (p == NULL) {
		bytes_destroy(s);
		sslport_err(
		    err, SSLPORT_EFAIL, "open-input-bytes", "out of memory");
	}
	return p;
}

/* ---- Pipes --------------------------------------------------------------- */

struct pipe_state {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned char *ring;
	size_t cap; /* allocated */
	size_t start;
	size_t len;
	size_t limit; /* 0: none */
	int in_closed;
	int out_closed;
	int refs;
};

/* Waits on the condition; with a break handle, wakes to look at it. */
static int
pipe_wait_cond(struct pipe_state *s, struct sslport_break *brk,
    const struct timespec *deadline, const char *who, struct sslport_error *err)
{
	struct timespec ts;

	if (sslport_break_is_triggered(brk))
		return sslport_err(err, SSLPORT_EBREAK, who, "user break");
	if (brk == NULL && deadline == NULL) {
		pthread_cond_wait(&s->changed, &s->lock);
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50 * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (deadline != NULL &&
	    (deadline->tv_sec < ts.tv_sec ||
	        (deadline->tv_sec == ts.tv_sec &&
	            deadline->tv_nsec < ts.tv_nsec)))
		ts = *deadline;
	pthread_cond_timedwait(&s->changed, &s->lock, &ts);
	return 0;
}

static ssize_t
pipe_read(void *state, void *buf, size_t n, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct pipe_state *s = state;
	size_t k, first;

	pthread_mutex_lock(&s->lock);
	while (s->len == 0 && !s->out_closed) {
		if (pipe_wait_cond(s, brk, NULL, "read-bytes", err) < 0) {
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
	}
	/* At eof nothing is copied: the ring may not even exist. */
	k = s->len < n ? s->len : n;
	if (k > 0) {
		first = s->cap - s->start < k ? s->cap - s->start : k;
		memcpy(buf, s->ring + s->start, first);
		memcpy((char *)buf + first, s->ring, k - first);
		s->start = s->len == k ? 0 : (s->start + k) % s->cap;
		s->len -= k;
	}
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)k;
}

/* Grow the ring so that `want` more bytes fit; -1 when out of memory. */
static int
pipe_grow(struct pipe_state *s, size_t want)
{
	size_t cap = s->cap ? s->cap : 256;
	unsigned char *ring;
	size_t first;

	while (cap < s->len + want)
		cap *= 2;
	if (cap == s->cap)
		return 0;
	ring = malloc(cap);
	if (ring == NULL)
		return -1;
	first = s->cap - s->start < s->len ? s->cap - s->start : s->len;
	if (s->len > 0) {
		memcpy(ring, s->ring + s->start, first);
		memcpy(ring + first, s->ring, s->len - first);
	}
	free(s->ring);
	s->ring = ring;
	s->cap = cap;
	s->start = 0;
	return 0;
}

static size_t
pipe_room(const struct pipe_state *s, size_t n)
{
	if (s->limit == 0)
		return n;
	return s->limit - s->len < n ? s->limit - s->len : n;
}

static ssize_t
pipe_write(void *state, const void *buf, size_t n, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct pipe_state *s = state;
	size_t k, end, first;

	pthread_mutex_lock(&s->lock);
	while (!s->in_closed && pipe_room(s, n) == 0) {
		if (pipe_wait_cond(s, brk, NULL, "write-bytes", err) < 0) {
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
	}
	if (s->in_closed) {
		pthread_mutex_unlock(&s->lock);
		return sslport_err(err, SSLPORT_EFAIL, "write-bytes",
		    "error writing to stream port\n  system error: Broken "
		    "pipe; errno=%d",
		    EPIPE);
	}
	k = pipe_room(s, n);
	if (pipe_grow(s, k) < 0) {
		pthread_mutex_unlock(&s->lock);
		return sslport_err(
		    err, SSLPORT_EFAIL, "write-bytes", "out of memory");
	}
	end = (s->start + s->len) % s->cap;
	first = s->cap - end < k ? s->cap - end : k;
	memcpy(s->ring + end, buf, first);
	memcpy(s->ring, (const char *)buf + first, k - first);
	s->len += k;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return (ssize_t)k;
}

static int
pipe_wait(void *state, double timeout, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct pipe_state *s = state;
	struct timespec deadline;
	int ready;

	clock_gettime(CLOCK_REALTIME, &deadline);
	if (timeout >= 0) {
		deadline.tv_sec += (time_t)timeout;
		deadline.tv_nsec += (long)((timeout - (time_t)timeout) * 1e9);
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct timespec now;

		ready = s->len > 0 || s->out_closed;
		if (ready || timeout == 0)
			break;
		clock_gettime(CLOCK_REALTIME, &now);
		if (timeout > 0 &&
		    (now.tv_sec > deadline.tv_sec ||
		        (now.tv_sec == deadline.tv_sec &&
		            now.tv_nsec >= deadline.tv_nsec)))
			break;
		if (pipe_wait_cond(s, brk, timeout > 0 ? &deadline : NULL,
		        "sync", err) < 0) {
			pthread_mutex_unlock(&s->lock);
			return -1;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return ready;
}

static void
pipe_release(struct pipe_state *s)
{
	int last;

	pthread_mutex_lock(&s->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->lock);
	free(s->ring);
	free(s);
}

static int
pipe_close_in(void *state, struct sslport_error *err)
{
	struct pipe_state *s = state;

	(void)err;
	pthread_mutex_lock(&s->lock);
	s->in_closed = 1;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int
pipe_close_out(void *state, struct sslport_error *err)
{
	struct pipe_state *s = state;

	(void)err;
	pthread_mutex_lock(&s->lock);
	s->out_closed = 1;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void
pipe_destroy(void *state)
{
	pipe_release(state);
}

static const struct sslport_port_ops pipe_in_ops = {
    .read = pipe_read,
    .wait = pipe_wait,
    .close = pipe_close_in,
    .destroy = pipe_destroy,
};

static const struct sslport_port_ops pipe_out_ops = {
    .write = pipe_write,
    .close = pipe_close_out,
    .destroy = pipe_destroy,
};

int
sslport_make_pipe(size_t limit, struct sslport_port **in,
    struct sslport_port **out, struct sslport_error *err)
{
	struct pipe_state *s;

	sslport_error_clear(err);
	*in = *out = NULL;
	s = sslport_calloc(1, sizeof(*s));
	if (s == NULL)
		return sslport_err(
		    err, SSLPORT_EFAIL, "make-pipe", "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	s->limit = limit;
	s->refs = 2;
	*in = sslport_port_new(SSLPORT_INPUT, &pipe_in_ops, s, "pipe");
	*out = sslport_port_new(SSLPORT_OUTPUT, &pipe_out_ops, s, "pipe");
	if (*in != NULL && *out != NULL)
		return 0;
	if (*in == NULL)
		pipe_release(s);
	if (*out == NULL)
		pipe_release(s);
	sslport_port_unref(*in);
	sslport_port_unref(*out);
	*in = *out = NULL;
	return sslport_err(err, SSLPORT_EFAIL, "make-pipe", "out of memory");
}
