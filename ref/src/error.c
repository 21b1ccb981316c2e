/*
 * error.c: the error model.  Every failure becomes a kind, mirroring the
 * documented exceptions, and a message "who: what (OpenSSL's reason)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const kind_names[] = {
    [SSLPORT_OK] = "ok",
    [SSLPORT_ECONTRACT] = "exn:fail:contract",
    [SSLPORT_ENETWORK] = "exn:fail:network",
    [SSLPORT_EFAIL] = "exn:fail",
    [SSLPORT_EUNSUPPORTED] = "exn:fail:unsupported",
    [SSLPORT_EBREAK] = "exn:break",
};

void
sslport_error_clear(struct sslport_error *err)
{
	if (err == NULL)
		return;
	err->kind = SSLPORT_OK;
	err->message[0] = '\0';
}

const char *
sslport_error_kind_name(enum sslport_error_kind kind)
{
	if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "exn:fail";
	return kind_names[kind];
}

void
sslport_error_copy(struct sslport_error *dst, const struct sslport_error *src)
{
	if (dst == NULL || src == NULL || dst == src)
		return;
	*dst = *src;
}

int
sslport_verr(struct sslport_error *err, enum sslport_error_kind kind,
    const char *who, const char *fmt, va_list ap)
{
	int n;

	if (err == NULL)
		return -1;
	err->kind = kind;
	n = snprintf(err->message, sizeof(err->message), "%s: ", who);
	if (n < 0 || (size_t)n >= sizeof(err->message))
		return -1;
	vsnprintf(err->message + n, sizeof(err->message) - n, fmt, ap);
	return -1;
}

int
sslport_err(struct sslport_error *err, enum sslport_error_kind kind,
    const char *who, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sslport_verr(err, kind, who, fmt, ap);
	va_end(ap);
	return -1;
}

int
sslport_err_contract(
    struct sslport_error *err, const char *who, const char *expected)
{
	return sslport_err(err, SSLPORT_ECONTRACT, who,
	    "contract violation\n  expected: %s", expected);
}

/*
 * OpenSSL queues errors from the outermost call inwards; the last one is
 * the most specific (the reason a handshake failed), so it is reported.
 */
void
sslport_ossl_reason(char *buf, size_t size)
{
	unsigned long e, last = 0;
	char text[256];

	buf[0] = '\0';
	if (!sslport_have_libcrypto())
		return;
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0)
		return;
	ERR_error_string_n(last, text, sizeof(text));
	snprintf(buf, size, " (%s)", text);
}

int
sslport_err_ossl(struct sslport_error *err, enum sslport_error_kind kind,
    const char *who, const char *fmt, ...)
{
	char msg[SSLPORT_ERROR_MAX];
	char reason[300];
	va_list ap;

	sslport_ossl_reason(reason, sizeof(reason));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sslport_err(err, kind, who, "%s%s", msg, reason);
}

void *
sslport_calloc(size_t n, size_t size)
{
	return calloc(n, size);
}

char *
sslport_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

/* memset that the compiler may not drop, at memset's speed. */
void
sslport_cleanse(void *p, size_t n)
{
	explicit_bzero(p, n);
}
