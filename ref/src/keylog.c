/*
 * keylog.c: key logging (documented section 4, ssl-set-keylogger!).
 *
 * A context carries OpenSSL's key-log callback while it has a logger, or
 * always when the environment variable SSLKEYLOGFILE was set at first
 * use.  The callback hands each NSS key-log line to the context's
 * logger, when one is set, and appends it to that file, for every
 * context, sealed ones included.  Without the callback OpenSSL does not
 * format the lines, which it does one byte at a time.  That file lets
 * anyone who reads it decrypt the traffic: it is a debugging aid that an
 * operator turns on, never on by default.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

static pthread_once_t file_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static char file_path[PATH_MAX];

static void
file_init(void)
{
	const char *path = getenv("SSLKEYLOGFILE");

	if (path != NULL && strlen(path) < sizeof(file_path))
		strcpy(file_path, path);
}

/* One line and its newline in one append, so lines never interleave. */
static void
file_append(const char *line, size_t len)
{
	struct iovec iov[2];
	int fd;

	iov[0].iov_base = (void *)line;
	iov[0].iov_len = len;
	iov[1].iov_base = "\n";
	iov[1].iov_len = 1;
	pthread_mutex_lock(&file_lock);
	fd = open(file_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		(void)!writev(fd, iov, 2);
		close(fd);
	}
	pthread_mutex_unlock(&file_lock);
}

static void
keylog_cb(const SSL *ssl, const char *line)
{
	struct sslport_logger *logger = NULL;
	struct sslport_ctx *ctx;
	size_t len = strlen(line);

	ctx = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), sslport_ctx_ex_index());
	if (ctx != NULL) {
		pthread_mutex_lock(&ctx->lock);
		logger = sslport_logger_ref(ctx->keylogger);
		pthread_mutex_unlock(&ctx->lock);
	}
	sslport_log(logger, SSLPORT_LOG_DEBUG, "openssl-keylogger",
	    "key material", (const unsigned char *)line, len);
	sslport_logger_free(logger);
	if (file_path[0] != '\0')
		file_append(line, len);
}

/* The callback while someone reads the lines.  Context lock held. */
static void
keylog_update(struct sslport_ctx *ctx)
{
	int on = ctx->keylogger != NULL || file_path[0] != '\0';

	SSL_CTX_set_keylog_callback(ctx->ssl_ctx, on ? keylog_cb : NULL);
}

void
sslport_keylog_attach(struct sslport_ctx *ctx)
{
	pthread_once(&file_once, file_init);
	keylog_update(ctx);
}

int
sslport_set_keylogger(struct sslport_ctx *ctx, struct sslport_logger *logger,
    struct sslport_error *err)
{
	static const char who[] = "ssl-set-keylogger!";
	struct sslport_logger *old = NULL;
	const struct sslport_object *o = (const void *)logger;
	int rv = -1;

	sslport_error_clear(err);
	if (sslport_ctx_of(ctx, 0, who, err) == NULL)
		return -1;
	if (o != NULL && o->type != SSLPORT_OBJ_LOGGER)
		return sslport_err_contract(err, who, "(or/c #f logger?)");
	pthread_mutex_lock(&ctx->lock);
	if (sslport_ctx_check_unsealed(ctx, who, err) == 0) {
		old = ctx->keylogger;
		ctx->keylogger = sslport_logger_ref(logger);
		keylog_update(ctx);
		rv = 0;
	}
	pthread_mutex_unlock(&ctx->lock);
	sslport_logger_free(old);
	return rv;
}
