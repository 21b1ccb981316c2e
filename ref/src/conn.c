/*
 * conn.c: SSL ports.  A connection is one SSL object, a BIO of our own
 * that OpenSSL reads and writes it through, and the pump that moves the
 * ciphertext between that BIO's two queues and the underlying ports;
 * its input and output SSL ports close independently.
 *
 * The rule that makes full duplex work (design.md): OpenSSL is called
 * only under the connection's lock, and the lock is never held across a
 * read or write of an underlying port.  Ciphertext that OpenSSL writes
 * goes to an ordered queue; the first thread that finds nobody flushing
 * becomes the flusher and writes the queue out until it is empty.  The
 * first thread that needs input and finds nobody reading becomes the
 * reader, reads the underlying input once and queues it for OpenSSL.
 * Everyone else waits on the condition variable for progress.  A thread
 * waiting for the queue to drain also reads input that is already there,
 * so that two ends whose flushers both wait for the other can never
 * stall each other.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"

/* Writers wait while this much ciphertext is queued. */
#define CONN_QUEUE_MAX (64 * 1024)
/* One TLS record of plaintext per SSL_write. */
#define CONN_WRITE_MAX 16384
/* A thread waiting for output reads ahead at most this much input. */
#define CONN_READ_AHEAD (1024 * 1024)
/* How often a waiting thread looks at its break handle, in seconds. */
#define CONN_SLICE 0.05

/* What conn_tls_read answers besides a count or eof. */
#define CONN_WANT_INPUT (-2)

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- Errors ----------------------------------------------------------- */

/* Raise "who: message" through the connection's #:error/ssl procedure. */
static int
conn_vraise(sslport_error_fn fn, void *arg, const char *who,
    struct sslport_error *err, const char *fmt, va_list ap)
{
	struct sslport_error got;
	char msg[SSLPORT_ERROR_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	sslport_error_clear(&got);
	if (fn != NULL)
		fn(arg, who, msg, &got);
	if (got.kind == SSLPORT_OK)
		sslport_err(&got, SSLPORT_EFAIL, who, "%s", msg);
	sslport_error_copy(err, &got);
	return -1;
}

static int conn_raise(struct sslport_conn *c, const char *who,
    struct sslport_error *err, const char *fmt, ...) SSLPORT_PRINTF(4, 5);
static int opt_raise(const struct sslport_wrap_options *opt, const char *who,
    struct sslport_error *err, const char *fmt, ...) SSLPORT_PRINTF(4, 5);
static void conn_tls_fail(struct sslport_conn *c, const char *reason);

static int
conn_raise(struct sslport_conn *c, const char *who, struct sslport_error *err,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conn_vraise(c->error_fn, c->error_arg, who, err, fmt, ap);
	va_end(ap);
	return -1;
}

static int
opt_raise(const struct sslport_wrap_options *opt, const char *who,
    struct sslport_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conn_vraise(opt->error_fn, opt->error_arg, who, err, fmt, ap);
	va_end(ap);
	return -1;
}

/* The text of an error after its "who: " prefix. */
static const char *
strip_who(const char *message)
{
	const char *s = strstr(message, ": ");

	return s != NULL ? s + 2 : message;
}

/*
 * An underlying port failed: a break stays a break, anything else is
 * raised through the error procedure under `who`.
 */
static int
conn_raise_port(struct sslport_conn *c, const char *who, const char *what,
    const struct sslport_error *e, struct sslport_error *err)
{
	if (e->kind == SSLPORT_EBREAK)
		return sslport_err(err, SSLPORT_EBREAK, who, "user break");
	if (what != NULL)
		return conn_raise(
		    c, who, err, "%s (%s)", what, strip_who(e->message));
	return conn_raise(c, who, err, "%s", strip_who(e->message));
}

/* OpenSSL's reason as " (error:...)", and its code in *code. */
static void
tls_reason(char *buf, size_t size, unsigned long *code)
{
	*code = ERR_peek_last_error();
	sslport_ossl_reason(buf, size);
	if (buf[0] == '\0')
		snprintf(buf, size, " (unknown error)");
}

/* ---- Ciphertext queues ------------------------------------------------ */

/* The smallest chunk: the records of a handshake flight share one. */
#define CONN_CHUNK_MIN 4096

/*
 * How much one read of the underlying input asks for: half a full TLS
 * record, so that a record takes two reads, as OpenSSL's own reads of a
 * socket do.  Over loopback TCP this moved bulk data 17% faster than
 * reads of 16 KiB and 25% faster than reads of 4 KiB (make bench, 16
 * paired runs each); pipes did not mind.
 */
#define CONN_READ_SIZE 8192

static struct conn_chunk *
chunk_new(size_t cap)
{
	struct conn_chunk *ch = malloc(sizeof(*ch) + cap);

	if (ch != NULL) {
		ch->next = NULL;
		ch->off = ch->len = 0;
		ch->cap = cap;
	}
	return ch;
}

static void
queue_push(struct conn_queue *q, struct conn_chunk *ch)
{
	ch->next = NULL;
	if (q->tail != NULL)
		q->tail->next = ch;
	else
		q->head = ch;
	q->tail = ch;
	q->bytes += ch->len - ch->off;
}

/* Take the first chunk off the queue; the caller frees it. */
static struct conn_chunk *
queue_pop(struct conn_queue *q)
{
	struct conn_chunk *ch = q->head;

	if (ch == NULL)
		return NULL;
	q->head = ch->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->bytes -= ch->len - ch->off;
	return ch;
}

static void
queue_clear(struct conn_queue *q)
{
	struct conn_chunk *ch;

	while ((ch = queue_pop(q)) != NULL)
		free(ch);
}

/* Append `n` bytes, into the last chunk while it has room. */
static int
queue_append(struct conn_queue *q, const void *data, size_t n)
{
	struct conn_chunk *ch = q->tail;

	if (ch == NULL || ch->cap - ch->len < n) {
		ch = chunk_new(n > CONN_CHUNK_MIN ? n : CONN_CHUNK_MIN);
		if (ch == NULL)
			return -1;
		queue_push(q, ch);
	}
	memcpy(ch->data + ch->len, data, n);
	ch->len += n;
	q->bytes += n;
	return 0;
}

/* Move up to `n` bytes from the front of the queue into `buf`. */
static size_t
queue_take(struct conn_queue *q, void *buf, size_t n)
{
	struct conn_chunk *ch;
	size_t got = 0, k;

	while (got < n && (ch = q->head) != NULL) {
		k = ch->len - ch->off < n - got ? ch->len - ch->off : n - got;
		memcpy((unsigned char *)buf + got, ch->data + ch->off, k);
		ch->off += k;
		q->bytes -= k;
		got += k;
		if (ch->off == ch->len)
			free(queue_pop(q));
	}
	return got;
}

/* ---- The connection's BIO --------------------------------------------- */

/*
 * OpenSSL reads and writes the connection through a BIO of our own,
 * always under the lock: its writes append ciphertext to the output
 * queue, its reads take what the reading thread put in the input queue.
 * No copy of the stream sits in between, as it would in memory BIOs.
 */
static int
bio_write(BIO *b, const char *data, size_t n, size_t *written)
{
	struct sslport_conn *c = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	*written = 0;
	/* After a failed write nothing more reaches the peer. */
	if (!c->out_failed && queue_append(&c->out, data, n) < 0) {
		c->out_oom = 1;
		return 0;
	}
	*written = n;
	return 1;
}

/* Nothing to read yet is a retry; at the end of the input, eof. */
static int
bio_read(BIO *b, char *buf, size_t n, size_t *got)
{
	struct sslport_conn *c = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	*got = queue_take(&c->in, buf, n);
	if (*got > 0)
		return 1;
	if (!c->under_eof)
		BIO_set_retry_read(b);
	return 0;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct sslport_conn *c = BIO_get_data(b);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return c->under_eof && c->in.bytes == 0;
	case BIO_CTRL_PENDING:
		return (long)c->in.bytes;
	default:
		return 0;
	}
}

/*
 * The connection's BIO method and the BIO.  A method of its own, freed
 * with the connection, so that the library keeps no global OpenSSL
 * object alive between connections.
 */
static int
conn_new_bio(struct sslport_conn *c)
{
	BIO_METHOD *m;

	m = BIO_meth_new(
	    BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sslport port");
	if (m == NULL || BIO_meth_set_write_ex(m, bio_write) != 1 ||
	    BIO_meth_set_read_ex(m, bio_read) != 1 ||
	    BIO_meth_set_ctrl(m, bio_ctrl) != 1) {
		BIO_meth_free(m);
		return -1;
	}
	c->bio_method = m;
	if ((c->bio = BIO_new(m)) == NULL)
		return -1;
	BIO_set_data(c->bio, c);
	BIO_set_init(c->bio, 1);
	return 0;
}

/*
 * Whether OpenSSL's output reached the queue.  Without memory for it the
 * connection fails: a record left behind would never be sent, and the
 * peer would wait for it forever.  Lock held.
 */
static int
conn_take_output(struct sslport_conn *c)
{
	if (!c->out_oom)
		return 0;
	conn_tls_fail(c, " (out of memory)");
	return -1;
}

static void
conn_discard_output(struct sslport_conn *c)
{
	queue_clear(&c->out);
	c->flight = 0;
}

static void
conn_out_fail(struct sslport_conn *c, const struct sslport_error *e)
{
	if (!c->out_failed) {
		c->out_failed = 1;
		c->out_err = *e;
	}
	conn_discard_output(c);
}

/* Write one chunk without the lock; the chunk is ours alone. */
static int
conn_write_chunk(struct sslport_conn *c, struct conn_chunk *ch,
    struct sslport_break *brk, struct sslport_error *e)
{
	int r;

	pthread_mutex_unlock(&c->lock);
	r = sslport_port_write_brk(c->under_out, ch->data, ch->len, brk, e);
	free(ch);
	pthread_mutex_lock(&c->lock);
	return r;
}

static int
conn_flush_under(struct sslport_conn *c, struct sslport_error *e)
{
	int r;

	pthread_mutex_unlock(&c->lock);
	r = sslport_port_flush(c->under_out, e);
	pthread_mutex_lock(&c->lock);
	return r;
}

/*
 * As the flushing thread, write the queue until it is empty, then flush
 * the underlying output port.  Lock held; the flag is cleared under it,
 * so a chunk queued meanwhile is never stranded.  On failure the error
 * is kept for every later write.
 */
static int
conn_drain(struct sslport_conn *c, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct sslport_error e;
	struct conn_chunk *ch;
	int rv = -1;

	c->flushing = 1;
	while ((ch = queue_pop(&c->out)) != NULL) {
		pthread_cond_broadcast(&c->changed);
		if (conn_write_chunk(c, ch, brk, &e) < 0)
			goto fail;
	}
	c->flight = 0;
	if (conn_flush_under(c, &e) < 0)
		goto fail;
	rv = 0;
	goto done;
fail:
	conn_out_fail(c, &e);
	sslport_error_copy(err, &e);
done:
	c->flushing = 0;
	pthread_cond_broadcast(&c->changed);
	return rv;
}

/* Send what is queued unless another thread is already sending it. */
static int
conn_kick(struct sslport_conn *c, struct sslport_break *brk,
    struct sslport_error *err)
{
	if (c->flushing || c->out.head == NULL)
		return 0;
	return conn_drain(c, brk, err);
}

/* ---- Input ------------------------------------------------------------ */

/*
 * Give what was read to OpenSSL: `ch` goes to the input queue, or marks
 * the end of the input when nothing was read.
 */
static void
conn_feed(struct sslport_conn *c, struct conn_chunk *ch)
{
	if (c->ssl == NULL || ch->len == 0) {
		if (ch->len == 0)
			c->under_eof = 1;
		free(ch);
		return;
	}
	queue_push(&c->in, ch);
}

/*
 * As the reading thread, wait up to `timeout` seconds (negative: no
 * limit, and no wait before the read) for the underlying input, read it
 * once and give it to OpenSSL.  Lock held.  Returns 1 after a read, 0
 * when the wait timed out, -1 with err on a break or a failure (kept).
 */
static int
conn_pull(struct sslport_conn *c, double timeout, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct sslport_error e;
	struct conn_chunk *ch;
	ssize_t n = 0;
	int r = 1;

	c->reading = 1;
	pthread_mutex_unlock(&c->lock);
	if (timeout >= 0)
		r = sslport_port_wait_brk(c->under_in, timeout, brk, &e);
	ch = r > 0 ? chunk_new(CONN_READ_SIZE) : NULL;
	if (r > 0 && ch == NULL)
		n = sslport_err(
		    &e, SSLPORT_EFAIL, "read-bytes", "out of memory");
	else if (r > 0)
		n = sslport_port_read_brk(
		    c->under_in, ch->data, ch->cap, brk, &e);
	pthread_mutex_lock(&c->lock);
	c->reading = 0;
	pthread_cond_broadcast(&c->changed);
	if (r < 0 || n < 0) {
		free(ch);
		if (e.kind != SSLPORT_EBREAK && !c->in_failed) {
			c->in_failed = 1;
			c->in_err = e;
		}
		sslport_error_copy(err, &e);
		return -1;
	}
	if (ch != NULL) {
		ch->len = (size_t)n;
		conn_feed(c, ch);
	}
	return r > 0;
}

/*
 * Wait on the condition variable, until `deadline` (monotonic seconds,
 * negative: none).  With a break handle, wake every slice to look at it.
 */
static int
conn_cond_wait(struct sslport_conn *c, double deadline,
    struct sslport_break *brk, struct sslport_error *err)
{
	struct timespec ts;
	double until;

	if (sslport_break_is_triggered(brk))
		return sslport_err(err, SSLPORT_EBREAK, "sync", "user break");
	if (brk == NULL && deadline < 0) {
		pthread_cond_wait(&c->changed, &c->lock);
		return 0;
	}
	until = now_mono() + CONN_SLICE;
	if (brk == NULL || (deadline >= 0 && deadline < until))
		until = deadline;
	ts.tv_sec = (time_t)until;
	ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
	pthread_cond_timedwait(&c->changed, &c->lock, &ts);
	return 0;
}

/*
 * Whether queued output must go out before this thread waits for input:
 * only while a handshake or renegotiation runs, or when the read that
 * ended one left our last flight (a resumed renegotiation ends with the
 * client's Finished), since the peer waits for it.  Other output (a TLS
 * 1.3 server's session tickets, key update answers, alerts) goes with
 * the next write, flush or close: a reader blocked on sending it could
 * stall two ends that each write before they read.
 */
static int
conn_must_send(struct sslport_conn *c)
{
	return !c->flushing && c->out.head != NULL && c->ssl != NULL &&
	    (c->flight || SSL_in_init(c->ssl));
}

/*
 * OpenSSL wants input: send our flight first if the peer waits for it,
 * then read the underlying input, or wait for the thread that does.
 * Lock held.
 */
static int
conn_await_input(struct sslport_conn *c, struct sslport_break *brk,
    struct sslport_error *err)
{
	if (c->in_failed) {
		sslport_error_copy(err, &c->in_err);
		return -1;
	}
	if (conn_must_send(c))
		return conn_drain(c, brk, err);
	if (!c->reading)
		return conn_pull(c, -1, brk, err) < 0 ? -1 : 0;
	return conn_cond_wait(c, -1, brk, err);
}

/*
 * Wait for the queue to drain: flush it, or, while another thread
 * flushes, read input that is already there (the peer may be waiting
 * for us to read before it can read what we send).  Lock held.
 */
static int
conn_await_output(struct sslport_conn *c, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct sslport_error e;

	if (!c->flushing)
		return conn_drain(c, brk, err);
	if (c->reading || c->under_eof || c->in_failed || c->ssl == NULL ||
	    c->in.bytes >= CONN_READ_AHEAD)
		return conn_cond_wait(c, -1, brk, err);
	if (conn_pull(c, CONN_SLICE, brk, &e) < 0 && e.kind == SSLPORT_EBREAK) {
		sslport_error_copy(err, &e);
		return -1;
	}
	return 0;
}

/* ---- TLS reads and writes --------------------------------------------- */

/*
 * SSL_get_error needs an empty error queue.  It nearly always is (each
 * failure takes what it queued), and looking costs less than clearing.
 */
static void
clear_errors(void)
{
	if (ERR_peek_error() != 0)
		ERR_clear_error();
}

static void
conn_tls_fail(struct sslport_conn *c, const char *reason)
{
	if (c->tls_failed)
		return;
	c->tls_failed = 1;
	snprintf(c->tls_reason, sizeof(c->tls_reason), "%s", reason);
}

/*
 * One SSL_read (or SSL_peek) under the lock: a count, 0 at eof,
 * CONN_WANT_INPUT, or -1 after a TLS failure (kept on the connection).
 */
static int
conn_tls_read(struct sslport_conn *c, void *buf, size_t n, int peek)
{
	char reason[320];
	unsigned long code;
	int r, e, len = n > INT_MAX ? INT_MAX : (int)n;
	int in_init = SSL_in_init(c->ssl);

	clear_errors();
	r = peek ? SSL_peek(c->ssl, buf, len) : SSL_read(c->ssl, buf, len);
	e = SSL_get_error(c->ssl, r);
	if (r <= 0 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_ZERO_RETURN)
		tls_reason(reason, sizeof(reason), &code);
	if (conn_take_output(c) < 0)
		return -1;
	if (in_init && c->out.head != NULL)
		c->flight = 1;
	if (r > 0)
		return r;
	if (e == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (e == SSL_ERROR_WANT_READ)
		return c->under_eof ? 0 : CONN_WANT_INPUT;
	/* Without close_notify the peer's end is an eof too (D.eof.1). */
	if (e == SSL_ERROR_SYSCALL && c->under_eof)
		return 0;
	conn_tls_fail(c, reason);
	return -1;
}

/* Take bytes left by a renegotiation first. */
static size_t
conn_take_plain(struct sslport_conn *c, void *buf, size_t n)
{
	size_t k = c->plain_len - c->plain_off;

	if (k > n)
		k = n;
	memcpy(buf, c->plain + c->plain_off, k);
	c->plain_off += k;
	if (c->plain_off == c->plain_len) {
		sslport_cleanse(c->plain, c->plain_len);
		free(c->plain);
		c->plain = NULL;
		c->plain_len = c->plain_off = 0;
	}
	return k;
}

/* The read operation, lock held: at least one byte, or 0 at eof. */
static ssize_t
conn_read_locked(struct sslport_conn *c, void *buf, size_t n,
    struct sslport_break *brk, struct sslport_error *err)
{
	struct sslport_error e;
	int r;

	for (;;) {
		if (c->plain != NULL)
			return (ssize_t)conn_take_plain(c, buf, n);
		if (c->ssl == NULL)
			return sslport_err(err, SSLPORT_EFAIL, "read-bytes",
			    "input port is closed");
		if (c->tls_failed)
			return conn_raise(c, "read-bytes", err,
			    "SSL read failed%s", c->tls_reason);
		r = conn_tls_read(c, buf, n, 0);
		if (r != CONN_WANT_INPUT)
			break;
		if (conn_await_input(c, brk, &e) < 0)
			return conn_raise_port(c, "read-bytes", NULL, &e, err);
	}
	/* A renegotiation's flight goes out now; a failure to send it is
	 * the next write's to report. */
	if (conn_must_send(c))
		conn_drain(c, brk, &e);
	if (r < 0)
		return conn_raise(
		    c, "read-bytes", err, "SSL read failed%s", c->tls_reason);
	return r;
}

static ssize_t
conn_read_op(void *state, void *buf, size_t n, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct sslport_conn *c = state;
	ssize_t r;

	pthread_mutex_lock(&c->lock);
	r = conn_read_locked(c, buf, n, brk, err);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* One SSL_write of at most one record: a count, or CONN_WANT_INPUT. */
static int
conn_tls_write(struct sslport_conn *c, const void *buf, size_t n)
{
	char reason[320];
	unsigned long code;
	int r, e;

	clear_errors();
	r = SSL_write(
	    c->ssl, buf, n > CONN_WRITE_MAX ? CONN_WRITE_MAX : (int)n);
	e = SSL_get_error(c->ssl, r);
	if (r <= 0 && e != SSL_ERROR_WANT_READ)
		tls_reason(reason, sizeof(reason), &code);
	if (conn_take_output(c) < 0)
		return -1;
	if (r > 0)
		return r;
	if (e == SSL_ERROR_WANT_READ && !c->under_eof)
		return CONN_WANT_INPUT;
	if (e == SSL_ERROR_WANT_READ)
		snprintf(
		    reason, sizeof(reason), " (input terminated prematurely)");
	conn_tls_fail(c, reason);
	return -1;
}

/* Check that the connection can still take output.  Lock held. */
static int
conn_check_writable(struct sslport_conn *c, struct sslport_error *err)
{
	if (c->ssl == NULL)
		return sslport_err(
		    err, SSLPORT_EFAIL, "write-bytes", "output port is closed");
	if (c->tls_failed)
		return conn_raise(
		    c, "write-bytes", err, "SSL write failed%s", c->tls_reason);
	if (c->out_failed)
		return conn_raise_port(
		    c, "write-bytes", NULL, &c->out_err, err);
	return 0;
}

static ssize_t
conn_write_locked(struct sslport_conn *c, const void *buf, size_t n,
    struct sslport_break *brk, struct sslport_error *err)
{
	struct sslport_error e;
	int r;

	for (;;) {
		if (conn_check_writable(c, err) < 0)
			return -1;
		if (c->out.bytes >= CONN_QUEUE_MAX) {
			if (conn_await_output(c, brk, &e) < 0 &&
			    e.kind == SSLPORT_EBREAK)
				return conn_raise_port(
				    c, "write-bytes", NULL, &e, err);
			continue;
		}
		r = conn_tls_write(c, buf, n);
		if (r != CONN_WANT_INPUT)
			break;
		if (conn_await_input(c, brk, &e) < 0)
			return conn_raise_port(c, "write-bytes", NULL, &e, err);
	}
	if (r < 0)
		return conn_raise(
		    c, "write-bytes", err, "SSL write failed%s", c->tls_reason);
	if (conn_kick(c, brk, &e) < 0)
		return conn_raise_port(c, "write-bytes", NULL, &e, err);
	return r;
}

static ssize_t
conn_write_op(void *state, const void *buf, size_t n, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct sslport_conn *c = state;
	ssize_t r;

	pthread_mutex_lock(&c->lock);
	r = conn_write_locked(c, buf, n, brk, err);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Wait until everything queued has been written.  Lock held. */
static int
conn_flush_locked(
    struct sslport_conn *c, const char *who, struct sslport_error *err)
{
	struct sslport_error e;

	while (!c->out_failed && (c->out.head != NULL || c->flushing))
		conn_await_output(c, NULL, &e);
	if (c->out_failed)
		return conn_raise_port(c, who, NULL, &c->out_err, err);
	return 0;
}

static int
conn_flush_op(void *state, struct sslport_error *err)
{
	struct sslport_conn *c = state;
	int r;

	pthread_mutex_lock(&c->lock);
	r = conn_flush_locked(c, "flush-output", err);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* ---- Readiness -------------------------------------------------------- */

/*
 * 1 when a read would not wait: plaintext is buffered, or eof or an
 * error is there to report.  0 when OpenSSL needs more input.
 */
static int
conn_ready_locked(struct sslport_conn *c)
{
	unsigned char byte;

	if (c->plain != NULL || c->ssl == NULL || c->tls_failed || c->in_failed)
		return 1;
	if (SSL_pending(c->ssl) > 0)
		return 1;
	/* A whole record may wait in the BIO: let OpenSSL look. */
	return conn_tls_read(c, &byte, 1, 1) != CONN_WANT_INPUT;
}

static int
conn_wait_locked(struct sslport_conn *c, double timeout,
    struct sslport_break *brk, struct sslport_error *err)
{
	struct sslport_error e;
	double deadline = timeout >= 0 ? now_mono() + timeout : -1;
	double left = -1;

	for (;;) {
		if (conn_ready_locked(c))
			return 1;
		if (deadline >= 0 && (left = deadline - now_mono()) <= 0)
			return 0;
		if (conn_must_send(c))
			conn_drain(c, brk, &e);
		else if (!c->reading &&
		    conn_pull(c, deadline >= 0 ? left : -1, brk, &e) < 0 &&
		    e.kind == SSLPORT_EBREAK)
			return sslport_err(
			    err, SSLPORT_EBREAK, "sync", "user break");
		else if (c->reading &&
		    conn_cond_wait(c, deadline, brk, err) < 0)
			return -1;
	}
}

static int
conn_wait_op(void *state, double timeout, struct sslport_break *brk,
    struct sslport_error *err)
{
	struct sslport_conn *c = state;
	int r;

	pthread_mutex_lock(&c->lock);
	r = conn_wait_locked(c, timeout, brk, err);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* ---- Closing ---------------------------------------------------------- */

/*
 * Both SSL ports are closed: free the SSL object and, with
 * #:close-original?, close the underlying ports.  Lock held (released
 * while closing them).
 */
static void
conn_teardown(struct sslport_conn *c)
{
	if (c->torn_down)
		return;
	c->torn_down = 1;
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->bio = NULL;
	conn_discard_output(c);
	queue_clear(&c->in);
	if (c->plain != NULL) {
		sslport_cleanse(c->plain, c->plain_len);
		free(c->plain);
		c->plain = NULL;
	}
	pthread_cond_broadcast(&c->changed);
	if (!c->close_original)
		return;
	pthread_mutex_unlock(&c->lock);
	sslport_port_close(c->under_in, NULL);
	sslport_port_close(c->under_out, NULL);
	pthread_mutex_lock(&c->lock);
}

static int
conn_close_in_op(void *state, struct sslport_error *err)
{
	struct sslport_conn *c = state;

	pthread_mutex_lock(&c->lock);
	c->in_closed = 1;
	if (c->out_closed)
		conn_teardown(c);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* With #:shutdown-on-close?, queue close_notify (not waiting for the
 * peer's: the input port may stay open).  Lock held. */
static void
conn_send_close_notify(struct sslport_conn *c)
{
	if (c->ssl == NULL || !c->shutdown_on_close || c->tls_failed)
		return;
	ERR_clear_error();
	SSL_shutdown(c->ssl);
	ERR_clear_error();
	conn_take_output(c);
}

static int
conn_close_out_op(void *state, struct sslport_error *err)
{
	struct sslport_conn *c = state;
	struct sslport_error e;
	int rv = 0;

	/*
	 * Send what is queued; when another thread is sending already, it
	 * sends the rest, and closing does not wait on it (the peer may
	 * not be reading).
	 */
	pthread_mutex_lock(&c->lock);
	conn_send_close_notify(c);
	if (conn_kick(c, NULL, &e) < 0)
		rv = conn_raise_port(c, "close-output-port", NULL, &e, err);
	c->out_closed = 1;
	if (c->in_closed)
		conn_teardown(c);
	pthread_mutex_unlock(&c->lock);
	return rv;
}

static void
conn_free(struct sslport_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	conn_discard_output(c);
	if (c->plain != NULL) {
		sslport_cleanse(c->plain, c->plain_len);
		free(c->plain);
	}
	queue_clear(&c->in);
	BIO_meth_free(c->bio_method);
	sslport_port_unref(c->under_in);
	sslport_port_unref(c->under_out);
	sslport_ctx_free(c->ctx);
	pthread_cond_destroy(&c->changed);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* A port's last reference is gone; a port never closed counts as
 * closed now. */
static void
conn_release(struct sslport_conn *c, int input)
{
	int last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	if (input)
		c->in_closed = 1;
	else
		c->out_closed = 1;
	if (c->in_closed && c->out_closed)
		conn_teardown(c);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (last)
		conn_free(c);
}

static void
conn_destroy_in(void *state)
{
	conn_release(state, 1);
}

static void
conn_destroy_out(void *state)
{
	conn_release(state, 0);
}

static int
conn_in_fd(void *state)
{
	return sslport_port_fd(((struct sslport_conn *)state)->under_in);
}

static int
conn_out_fd(void *state)
{
	return sslport_port_fd(((struct sslport_conn *)state)->under_out);
}

static const struct sslport_port_ops conn_in_ops = {
    .read = conn_read_op,
    .wait = conn_wait_op,
    .close = conn_close_in_op,
    .destroy = conn_destroy_in,
    .fd = conn_in_fd,
};

static const struct sslport_port_ops conn_out_ops = {
    .write = conn_write_op,
    .flush = conn_flush_op,
    .close = conn_close_out_op,
    .destroy = conn_destroy_out,
    .fd = conn_out_fd,
};

/* ---- Making a connection ---------------------------------------------- */

int
sslport_check_alpn(const struct sslport_bytes *alpn, size_t n, const char *who,
    struct sslport_error *err)
{
	size_t i;

	if (n > 0 && alpn == NULL)
		return sslport_err_contract(
		    err, who, "(listof alpn-protocol-bytes/c)");
	for (i = 0; i < n; i++)
		if (alpn[i].len < 1 || alpn[i].len > 255 ||
		    alpn[i].data == NULL)
			return sslport_err_contract(
			    err, who, "(listof alpn-protocol-bytes/c)");
	return 0;
}

static int
check_wrap_args(struct sslport_port *in, struct sslport_port *out,
    const struct sslport_wrap_options *opt, const char *who,
    struct sslport_error *err)
{
	const struct sslport_object *ctx = (const void *)opt->context;

	if (!sslport_is_input_port(in))
		return sslport_err_contract(err, who, "input-port?");
	if (!sslport_is_output_port(out))
		return sslport_err_contract(err, who, "output-port?");
	if (opt->mode != SSLPORT_MODE_ACCEPT &&
	    opt->mode != SSLPORT_MODE_CONNECT)
		return sslport_err_contract(
		    err, who, "(or/c 'connect 'accept)");
	if (ctx != NULL && ctx->type != SSLPORT_OBJ_CTX)
		return sslport_err_contract(
		    err, who, "(or/c ssl-client-context? ssl-server-context?)");
	if (sslport_protocol_name(opt->encrypt) == NULL)
		return sslport_err_contract(err, who, "ssl-protocol-symbol/c");
	return sslport_check_alpn(opt->alpn, opt->nalpn, who, err);
}

/* The context: #:context wins over #:encrypt.  A new reference. */
static struct sslport_ctx *
wrap_context(const struct sslport_wrap_options *opt, struct sslport_error *err)
{
	if (opt->context != NULL)
		return sslport_ctx_ref(opt->context);
	if (opt->mode == SSLPORT_MODE_CONNECT)
		return sslport_make_client_context(
		    opt->encrypt, NULL, NULL, err);
	return sslport_make_server_context(opt->encrypt, NULL, NULL, err);
}

/* Refusals that come before any byte is written. */
static int
check_wrap_context(struct sslport_ctx *ctx,
    const struct sslport_wrap_options *opt, const char *who,
    struct sslport_error *err)
{
	int accept = opt->mode == SSLPORT_MODE_ACCEPT;
	int verify_hostname;

	if (accept != ctx->server)
		return sslport_err(err, SSLPORT_EFAIL, who,
		    "'%s mode requires a %s context, given: %s",
		    accept ? "accept" : "connect", accept ? "server" : "client",
		    ctx->server ? "#<ssl-server-context>"
		                : "#<ssl-client-context>");
	if (accept && opt->nalpn > 0)
		return sslport_err(err, SSLPORT_EFAIL, who,
		    "#:alpn argument is supported only in connect mode;\n"
		    " for accept mode, use `ssl-set-server-alpn!`");
	pthread_mutex_lock(&ctx->lock);
	verify_hostname = ctx->verify_hostname;
	pthread_mutex_unlock(&ctx->lock);
	if (verify_hostname && opt->hostname == NULL)
		return opt_raise(opt, who, err,
		    "%s failed (hostname not "
		    "provided for verification)",
		    accept ? "accept" : "connect");
	return 0;
}

/* The client's ALPN list, length-prefixed as on the wire (RFC 7301). */
static int
conn_set_alpn(struct sslport_conn *c, const struct sslport_wrap_options *opt,
    const char *who, struct sslport_error *err)
{
	unsigned char *wire;
	size_t i, len = 0, off = 0;
	int rv = -1;

	for (i = 0; i < opt->nalpn; i++)
		len += 1 + opt->alpn[i].len;
	wire = malloc(len);
	if (wire == NULL)
		return sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
	for (i = 0; i < opt->nalpn; i++) {
		wire[off++] = (unsigned char)opt->alpn[i].len;
		memcpy(wire + off, opt->alpn[i].data, opt->alpn[i].len);
		off += opt->alpn[i].len;
	}
	if (SSL_set_alpn_protos(c->ssl, wire, (unsigned int)len) != 0) {
		sslport_err(err, SSLPORT_EFAIL, who,
		    "failed setting ALPN protocol list");
		goto done;
	}
	rv = 0;
done:
	free(wire);
	return rv;
}

/* SNI names the host, but never an IP literal (RFC 6066, section 3). */
static void
conn_set_sni(struct sslport_conn *c, const char *hostname)
{
	if (hostname == NULL || sslport_is_ip_literal(hostname))
		return;
	/* A name OpenSSL refuses (over 255 bytes) is simply not sent. */
	if (SSL_set_tlsext_host_name(c->ssl, hostname) != 1)
		ERR_clear_error();
}

static int
conn_new_ssl(struct sslport_conn *c, const struct sslport_wrap_options *opt,
    const char *who, struct sslport_error *err)
{
	ERR_clear_error();
	c->ssl = SSL_new(c->ctx->ssl_ctx);
	if (c->ssl == NULL)
		return sslport_err_ossl(
		    err, SSLPORT_EFAIL, who, "failed to make a connection");
	if (conn_new_bio(c) < 0)
		return sslport_err_ossl(
		    err, SSLPORT_EFAIL, who, "failed to make a connection");
	/* One BIO both ways: SSL_set_bio takes its one reference. */
	SSL_set_bio(c->ssl, c->bio, c->bio);
	if (c->server) {
		/*
		 * No TLS 1.3 session tickets: the library resumes no
		 * sessions, and tickets are sent after the client is done
		 * with its handshake, where nothing makes it read them: the
		 * server would wait on them, or leave them to be written
		 * by a later close that is meant to write nothing.
		 */
		SSL_set_num_tickets(c->ssl, 0);
		SSL_set_accept_state(c->ssl);
		return 0;
	}
	SSL_set_connect_state(c->ssl);
	conn_set_sni(c, opt->hostname);
	return opt->nalpn > 0 ? conn_set_alpn(c, opt, who, err) : 0;
}

static struct sslport_conn *
conn_new(struct sslport_ctx *ctx, struct sslport_port *in,
    struct sslport_port *out, const struct sslport_wrap_options *opt,
    const char *who, struct sslport_error *err)
{
	struct sslport_conn *c;
	pthread_condattr_t attr;

	c = sslport_calloc(1, sizeof(*c));
	if (c == NULL) {
		sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->changed, &attr);
	pthread_condattr_destroy(&attr);
	c->ctx = sslport_ctx_ref(ctx);
	c->under_in = sslport_port_ref(in);
	c->under_out = sslport_port_ref(out);
	c->server = opt->mode == SSLPORT_MODE_ACCEPT;
	c->close_original = opt->close_original != 0;
	c->shutdown_on_close = opt->shutdown_on_close != 0;
	c->error_fn = opt->error_fn;
	c->error_arg = opt->error_arg;
	if (conn_new_ssl(c, opt, who, err) < 0) {
		conn_free(c);
		return NULL;
	}
	return c;
}

/* Whether a failed handshake failed because the input ended. */
static int
conn_premature(struct sslport_conn *c, int e, unsigned long code)
{
	if (!c->under_eof)
		return 0;
	return e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN ||
	    e == SSL_ERROR_WANT_READ ||
	    ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

/*
 * One step of a handshake: 1 done, 0 go on, -1 failed (the error
 * raised as "<what> (<reason>)").  Lock held.
 */
static int
conn_handshake_step(struct sslport_conn *c, const char *who, const char *what,
    struct sslport_break *brk, struct sslport_error *err)
{
	struct sslport_error e;
	char reason[320];
	unsigned long code = 0;
	int r, ecode;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	ecode = SSL_get_error(c->ssl, r);
	if (r != 1 && ecode != SSL_ERROR_WANT_READ)
		tls_reason(reason, sizeof(reason), &code);
	if (conn_take_output(c) < 0)
		return conn_raise(c, who, err, "%s%s", what, c->tls_reason);
	if (r == 1)
		return 1;
	if (ecode == SSL_ERROR_WANT_READ && !c->under_eof) {
		if (conn_await_input(c, brk, &e) < 0)
			return conn_raise_port(c, who, what, &e, err);
		return 0;
	}
	/* Let the peer hear the alert, if there is one. */
	conn_kick(c, brk, &e);
	if (conn_premature(c, ecode, code))
		return conn_raise(c, who, err,
		    "%s (input terminated "
		    "prematurely)",
		    what);
	return conn_raise(c, who, err, "%s%s", what, reason);
}

/* Run the handshake to its end and send its last flight. */
static int
conn_handshake(struct sslport_conn *c, const char *who,
    struct sslport_break *brk, struct sslport_error *err)
{
	const char *what = c->server ? "accept failed" : "connect failed";
	struct sslport_error e;
	int r;

	pthread_mutex_lock(&c->lock);
	while ((r = conn_handshake_step(c, who, what, brk, err)) == 0)
		;
	/* The last flight goes out now: the peer's handshake waits for it. */
	if (r > 0 && conn_kick(c, brk, &e) < 0)
		r = conn_raise_port(c, who, what, &e, err);
	if (r > 0)
		c->version = SSL_version(c->ssl);
	pthread_mutex_unlock(&c->lock);
	return r > 0 ? 0 : -1;
}

/*
 * Hostname verification, independent of certificate verification
 * (D.try-verify.2): a peer without a certificate, or whose certificate
 * does not name the host, is refused.
 */
static int
conn_check_hostname(struct sslport_conn *c,
    const struct sslport_wrap_options *opt, const char *who,
    struct sslport_error *err)
{
	X509 *cert;
	int on, ok;

	pthread_mutex_lock(&c->ctx->lock);
	on = c->ctx->verify_hostname;
	pthread_mutex_unlock(&c->ctx->lock);
	if (!on)
		return 0;
	cert = SSL_get1_peer_certificate(c->ssl);
	ok = cert != NULL && sslport_cert_matches_host(cert, opt->hostname);
	X509_free(cert);
	if (ok)
		return 0;
	return conn_raise(c, who, err,
	    "%s failed (certificate not valid for "
	    "hostname)",
	    c->server ? "accept" : "connect");
}

static int
conn_make_ports(struct sslport_conn *c, struct sslport_port **ssl_in,
    struct sslport_port **ssl_out, const char *who, struct sslport_error *err)
{
	struct sslport_port *in, *out;

	in = sslport_port_new(SSLPORT_INPUT, &conn_in_ops, c, "ssl");
	out = sslport_port_new(SSLPORT_OUTPUT, &conn_out_ops, c, "ssl");
	if (in == NULL || out == NULL) {
		/* Not yet the connection's: let them go without it. */
		if (in != NULL)
			in->state = NULL;
		if (out != NULL)
			out->state = NULL;
		sslport_port_unref(in);
		sslport_port_unref(out);
		return sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
	}
	in->conn = out->conn = c;
	c->refs = 2;
	*ssl_in = in;
	*ssl_out = out;
	return 0;
}

int
sslport_conn_wrap(struct sslport_port *in, struct sslport_port *out,
    const struct sslport_wrap_options *opt, const char *who,
    struct sslport_break *brk, struct sslport_port **ssl_in,
    struct sslport_port **ssl_out, struct sslport_error *err)
{
	struct sslport_conn *c = NULL;
	struct sslport_ctx *ctx = NULL;
	int rv = -1;

	sslport_error_clear(err);
	*ssl_in = *ssl_out = NULL;
	if (check_wrap_args(in, out, opt, who, err) < 0 ||
	    sslport_require_ssl(who, err) < 0)
		goto done;
	if ((ctx = wrap_context(opt, err)) == NULL ||
	    check_wrap_context(ctx, opt, who, err) < 0)
		goto done;
	if ((c = conn_new(ctx, in, out, opt, who, err)) == NULL)
		goto done;
	if (conn_handshake(c, who, brk, err) < 0 ||
	    conn_check_hostname(c, opt, who, err) < 0 ||
	    conn_make_ports(c, ssl_in, ssl_out, who, err) < 0)
		goto done;
	c = NULL;
	rv = 0;
done:
	conn_free(c);
	sslport_ctx_free(ctx);
	return rv;
}

/* ---- The public face -------------------------------------------------- */

void
sslport_wrap_options_init(struct sslport_wrap_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->mode = SSLPORT_MODE_ACCEPT;
	opt->encrypt = SSLPORT_PROTO_AUTO;
}

int
sslport_ports_to_ssl_ports(struct sslport_port *in, struct sslport_port *out,
    const struct sslport_wrap_options *opt, struct sslport_port **ssl_in,
    struct sslport_port **ssl_out, struct sslport_error *err)
{
	struct sslport_wrap_options defaults;

	if (opt == NULL) {
		sslport_wrap_options_init(&defaults);
		opt = &defaults;
	}
	return sslport_conn_wrap(
	    in, out, opt, "ports->ssl-ports", NULL, ssl_in, ssl_out, err);
}

struct sslport_conn *
sslport_conn_of(
    struct sslport_port *p, const char *who, struct sslport_error *err)
{
	if (!sslport_is_port(p)) {
		sslport_err_contract(err, who, "ssl-port?");
		return NULL;
	}
	return p->conn;
}

SSL *
sslport_conn_lock(struct sslport_conn *c)
{
	pthread_mutex_lock(&c->lock);
	return c->ssl;
}

void
sslport_conn_unlock(struct sslport_conn *c)
{
	pthread_mutex_unlock(&c->lock);
}

/* ---- Verification on a live connection -------------------------------- */

/* Keep application data that arrives during a renegotiation.  Lock held;
 * answers as conn_tls_read. */
static int
conn_read_aside(struct sslport_conn *c)
{
	unsigned char buf[4096];
	unsigned char *grown;
	int r;

	r = conn_tls_read(c, buf, sizeof(buf), 0);
	if (r <= 0)
		return r;
	grown = realloc(c->plain, c->plain_len + (size_t)r);
	if (grown == NULL) {
		conn_tls_fail(c, " (out of memory)");
		r = -1;
	} else {
		memcpy(grown + c->plain_len, buf, (size_t)r);
		c->plain = grown;
		c->plain_len += (size_t)r;
	}
	sslport_cleanse(buf, sizeof(buf));
	return r;
}

/*
 * One step of a server's renegotiation: 1 done, 0 go on, -1 failed.
 * The client's new handshake arrives as records that SSL_read
 * processes, so the server reads (keeping any data) until it is over.
 * Lock held.
 */
static int
conn_renegotiate_step(
    struct sslport_conn *c, const char *who, struct sslport_error *err)
{
	struct sslport_error e;
	char reason[320];
	unsigned long code;
	int r, ecode;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	ecode = SSL_get_error(c->ssl, r);
	if (r != 1 && ecode != SSL_ERROR_WANT_READ)
		tls_reason(reason, sizeof(reason), &code);
	if (conn_take_output(c) < 0)
		return sslport_err(
		    err, SSLPORT_EFAIL, who, "failed%s", c->tls_reason);
	/* Our flight first (a HelloRequest is no handshake state of its
	 * own, so conn_await_input would not send it). */
	if (conn_kick(c, NULL, &e) < 0)
		return conn_raise_port(c, who, "failed", &e, err);
	if (r == 1 && !SSL_renegotiate_pending(c->ssl))
		return 1;
	if (r == 1)
		r = conn_read_aside(c);
	else if (ecode == SSL_ERROR_WANT_READ)
		r = c->under_eof ? 0 : CONN_WANT_INPUT;
	else
		conn_tls_fail(c, reason);
	if (r == CONN_WANT_INPUT && conn_await_input(c, NULL, &e) < 0)
		return conn_raise_port(c, who, "failed", &e, err);
	if (r == 0)
		conn_tls_fail(c, " (input terminated prematurely)");
	if (c->tls_failed) {
		conn_kick(c, NULL, &e);
		return sslport_err(
		    err, SSLPORT_EFAIL, who, "failed%s", c->tls_reason);
	}
	return 0;
}

static int
conn_renegotiate(
    struct sslport_conn *c, const char *who, struct sslport_error *err)
{
	static const unsigned char sid_ctx[] = "sslport";
	struct sslport_error e;
	int r;

	/* A server that verifies clients must name its sessions'
	 * context, as contexts do when verification is set on them.  A
	 * named session could be resumed, and a resumed handshake asks for
	 * no certificate: this one must be a full handshake. */
	ERR_clear_error();
	SSL_set_options(c->ssl, SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
	if (SSL_set_session_id_context(c->ssl, sid_ctx, sizeof(sid_ctx) - 1) !=
	        1 ||
	    SSL_renegotiate(c->ssl) != 1)
		return sslport_err_ossl(err, SSLPORT_EFAIL, who, "failed");
	while ((r = conn_renegotiate_step(c, who, err)) == 0)
		;
	if (r > 0 && conn_kick(c, NULL, &e) < 0)
		return conn_raise_port(c, who, "failed", &e, err);
	return r > 0 ? 0 : -1;
}

/* Whether the peer presented a certificate that verified.  Lock held. */
static int
conn_peer_verified(struct sslport_conn *c)
{
	X509 *cert = SSL_get1_peer_certificate(c->ssl);
	int ok = cert != NULL && SSL_get_verify_result(c->ssl) == X509_V_OK;

	X509_free(cert);
	return ok;
}

/*
 * ssl-set-verify! / ssl-try-verify! on an SSL port.  A TLS 1.2 server
 * renegotiates at once (S5.verify.9).  Where that is not possible (a
 * client, which OpenSSL 3 servers refuse to renegotiate with, or TLS
 * 1.3, which has no renegotiation), the handshake already done decides:
 * with verification required, a peer not verified then is an error.
 */
int
sslport_conn_set_verify(struct sslport_conn *c, int mode, const char *who,
    struct sslport_error *err)
{
	int rv = -1;

	sslport_error_clear(err);
	pthread_mutex_lock(&c->lock);
	if (c->ssl == NULL) {
		sslport_err(err, SSLPORT_EFAIL, who, "port is closed");
		goto done;
	}
	SSL_set_verify(c->ssl, mode,
	    mode == SSL_VERIFY_PEER ? sslport_verify_accept_any
	                            : sslport_verify_as_is);
	if (mode == SSL_VERIFY_NONE)
		rv = 0;
	else if (c->server && c->version <= TLS1_2_VERSION)
		rv = conn_renegotiate(c, who, err);
	else if ((mode & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) &&
	    !conn_peer_verified(c))
		sslport_err(err, SSLPORT_EFAIL, who,
		    "failed (peer certificate not verified)");
	else
		rv = 0;
done:
	pthread_mutex_unlock(&c->lock);
	return rv;
}
