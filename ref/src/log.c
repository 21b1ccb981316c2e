/*
 * log.c: loggers.  The library prints nothing; it hands messages to
 * loggers, and process-wide warnings to the logger the application set.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static pthread_mutex_t process_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sslport_logger *process_logger;

static const char *const level_names[] = {
    [SSLPORT_LOG_FATAL] = "fatal",
    [SSLPORT_LOG_ERROR] = "error",
    [SSLPORT_LOG_WARNING] = "warning",
    [SSLPORT_LOG_INFO] = "info",
    [SSLPORT_LOG_DEBUG] = "debug",
};

const char *
sslport_log_level_name(enum sslport_log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "debug";
	return level_names[level];
}

struct sslport_logger *
sslport_logger_new(sslport_log_fn fn, void *arg)
{
	struct sslport_logger *logger;

	logger = sslport_calloc(1, sizeof(*logger));
	if (logger == NULL)
		return NULL;
	logger->obj.type = SSLPORT_OBJ_LOGGER;
	atomic_init(&logger->refs, 1);
	logger->fn = fn;
	logger->arg = arg;
	return logger;
}

struct sslport_logger *
sslport_logger_ref(struct sslport_logger *logger)
{
	if (logger != NULL)
		atomic_fetch_add(&logger->refs, 1);
	return logger;
}

void
sslport_logger_free(struct sslport_logger *logger)
{
	if (logger == NULL)
		return;
	if (atomic_fetch_sub(&logger->refs, 1) == 1)
		free(logger);
}

void
sslport_log(struct sslport_logger *logger, enum sslport_log_level level,
    const char *topic, const char *message, const unsigned char *data,
    size_t len)
{
	if (logger != NULL && logger->fn != NULL)
		logger->fn(logger->arg, level, topic, message, data, len);
}

void
sslport_set_process_logger(struct sslport_logger *logger)
{
	struct sslport_logger *old;

	sslport_logger_ref(logger);
	pthread_mutex_lock(&process_lock);
	old = process_logger;
	process_logger = logger;
	pthread_mutex_unlock(&process_lock);
	sslport_logger_free(old);
}

void
sslport_warn(const char *fmt, ...)
{
	struct sslport_logger *logger;
	char msg[512];
	va_list ap;

	pthread_mutex_lock(&process_lock);
	logger = sslport_logger_ref(process_logger);
	pthread_mutex_unlock(&process_lock);
	if (logger == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sslport_log(logger, SSLPORT_LOG_WARNING, "sslport", msg, NULL, 0);
	sslport_logger_free(logger);
}
