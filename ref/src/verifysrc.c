/*
 * verifysrc.c: verification sources, the trusted roots of a context
 * (documented section 4): ssl-load-verify-source!, the
 * ssl-default-verify-sources parameter, ssl-load-default-verify-sources!
 * and the deprecated ssl-load-verify-root-certificates!.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define SOURCE_EXPECTED                                                        \
	"(or/c path-string? (list/c 'directory path-string?)\n"                \
	"        (list/c 'win32-store string?)\n"                              \
	"        (list/c 'macosx-keychain (or/c #f path-string?)))"

/* The parameter; its default is computed on first use. */
static struct {
	pthread_mutex_t lock;
	int set;
	struct sslport_source *srcs;
	size_t n;
} defaults = {PTHREAD_MUTEX_INITIALIZER, 0, NULL, 0};

/* ---- Lists of sources -------------------------------------------------- */

static int
source_valid(const struct sslport_source *src)
{
	switch (src->kind) {
	case SSLPORT_SOURCE_FILE:
	case SSLPORT_SOURCE_DIRECTORY:
	case SSLPORT_SOURCE_WIN32_STORE:
		return src->arg != NULL;
	case SSLPORT_SOURCE_MACOSX_KEYCHAIN:
		return 1;
	}
	return 0;
}

void
sslport_sources_free(struct sslport_source *srcs, size_t n)
{
	size_t i;

	if (srcs == NULL)
		return;
	for (i = 0; i < n; i++)
		free((char *)srcs[i].arg);
	free(srcs);
}

/* A deep copy of n sources into *out (NULL when n is 0). */
static int
sources_copy(
    const struct sslport_source *srcs, size_t n, struct sslport_source **out)
{
	struct sslport_source *copy = NULL;
	size_t i;

	*out = NULL;
	if (n == 0)
		return 0;
	copy = sslport_calloc(n, sizeof(*copy));
	if (copy == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		copy[i].kind = srcs[i].kind;
		if (srcs[i].arg == NULL)
			continue;
		copy[i].arg = sslport_strdup(srcs[i].arg);
		if (copy[i].arg == NULL) {
			sslport_sources_free(copy, i);
			return -1;
		}
	}
	*out = copy;
	return 0;
}

/* Appends a source to a list being built (the defaults). */
static int
sources_add(struct sslport_source **srcs, size_t *n,
    enum sslport_source_kind kind, const char *arg, size_t len)
{
	struct sslport_source *grown;
	char *copy;

	copy = sslport_calloc(1, len + 1);
	if (copy == NULL)
		return -1;
	memcpy(copy, arg, len);
	grown = realloc(*srcs, (*n + 1) * sizeof(**srcs));
	if (grown == NULL) {
		free(copy);
		return -1;
	}
	grown[*n].kind = kind;
	grown[*n].arg = copy;
	*srcs = grown;
	(*n)++;
	return 0;
}

/* ---- The default sources ----------------------------------------------- */

/* The environment's choice, else OpenSSL's built-in default. */
static const char *
default_file(void)
{
	const char *v;

	if (!sslport_have_libcrypto())
		return getenv("SSL_CERT_FILE");
	v = getenv(X509_get_default_cert_file_env());
	return v != NULL ? v : X509_get_default_cert_file();
}

static const char *
default_dirs(void)
{
	const char *v;

	if (!sslport_have_libcrypto())
		return getenv("SSL_CERT_DIR");
	v = getenv(X509_get_default_cert_dir_env());
	return v != NULL ? v : X509_get_default_cert_dir();
}

/*
 * On Unix: the file named by SSL_CERT_FILE or OpenSSL's default file,
 * then each directory of SSL_CERT_DIR (split at ':') or OpenSSL's
 * default directory (S4.default-sources.2, S4.default-sources.3).
 */
static int
defaults_compute(struct sslport_source **srcs, size_t *n)
{
	const char *file, *dirs, *end;

	file = default_file();
	dirs = default_dirs();
	if (file != NULL && *file != '\0' &&
	    sources_add(srcs, n, SSLPORT_SOURCE_FILE, file, strlen(file)) != 0)
		return -1;
	for (; dirs != NULL && *dirs != '\0'; dirs = *end ? end + 1 : end) {
		end = strchr(dirs, ':');
		if (end == NULL)
			end = dirs + strlen(dirs);
		if (end > dirs &&
		    sources_add(srcs, n, SSLPORT_SOURCE_DIRECTORY, dirs,
		        end - dirs) != 0)
			return -1;
	}
	return 0;
}

int
sslport_default_verify_sources(
    struct sslport_source **out, size_t *n, struct sslport_error *err)
{
	static const char who[] = "ssl-default-verify-sources";
	int rv = -1;

	sslport_error_clear(err);
	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&defaults.lock);
	if (!defaults.set &&
	    defaults_compute(&defaults.srcs, &defaults.n) != 0) {
		sslport_sources_free(defaults.srcs, defaults.n);
		defaults.srcs = NULL;
		defaults.n = 0;
		goto out;
	}
	defaults.set = 1;
	if (sources_copy(defaults.srcs, defaults.n, out) != 0)
		goto out;
	*n = defaults.n;
	rv = 0;
out:
	pthread_mutex_unlock(&defaults.lock);
	if (rv != 0)
		sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
	return rv;
}

int
sslport_set_default_verify_sources(
    const struct sslport_source *srcs, size_t n, struct sslport_error *err)
{
	static const char who[] = "ssl-default-verify-sources";
	struct sslport_source *copy, *old;
	size_t i, oldn;

	sslport_error_clear(err);
	for (i = 0; i < n; i++)
		if (!source_valid(&srcs[i]))
			return sslport_err_contract(
			    err, who, "(listof " SOURCE_EXPECTED ")");
	if (sources_copy(srcs, n, &copy) != 0)
		return sslport_err(err, SSLPORT_EFAIL, who, "out of memory");
	pthread_mutex_lock(&defaults.lock);
	old = defaults.srcs;
	oldn = defaults.n;
	defaults.srcs = copy;
	defaults.n = n;
	defaults.set = 1;
	pthread_mutex_unlock(&defaults.lock);
	sslport_sources_free(old, oldn);
	return 0;
}

/* ---- Loading ----------------------------------------------------------- */

static int
load_failed(const char *path, const char *who, struct sslport_error *err)
{
	char from[PATH_MAX + 2];

	snprintf(from, sizeof(from), "\"%s\"", path);
	return sslport_err_load(err, who, from);
}

/*
 * OpenSSL records a directory without looking at it (its certificates
 * are read when a chain needs them), so a missing one is caught here
 * (S4.verify-source.7).
 */
static int
load_directory(struct sslport_ctx *ctx, const char *dir, const char *who,
    struct sslport_error *err)
{
	struct stat st;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return sslport_err(err, SSLPORT_EFAIL, who,
		    "load failed from: (directory \"%s\") (not a directory)",
		    dir);
	if (SSL_CTX_load_verify_locations(ctx->ssl_ctx, NULL, dir) != 1)
		return load_failed(dir, who, err);
	return 0;
}

static int
load_one(struct sslport_ctx *ctx, const struct sslport_source *src,
    const char *who, struct sslport_error *err)
{
	switch (src->kind) {
	case SSLPORT_SOURCE_FILE:
		if (SSL_CTX_load_verify_locations(
		        ctx->ssl_ctx, src->arg, NULL) != 1)
			return load_failed(src->arg, who, err);
		return 0;
	case SSLPORT_SOURCE_DIRECTORY:
		return load_directory(ctx, src->arg, who, err);
	case SSLPORT_SOURCE_WIN32_STORE:
		return sslport_err(err, SSLPORT_EFAIL, who,
		    "(win32-store \"%s\"): Windows certificate stores are not "
		    "supported on this platform",
		    src->arg);
	case SSLPORT_SOURCE_MACOSX_KEYCHAIN:
		return sslport_err(err, SSLPORT_EFAIL, who,
		    "(macosx-keychain %s%s%s): macOS keychains are not "
		    "supported on this platform",
		    src->arg ? "\"" : "", src->arg ? src->arg : "#f",
		    src->arg ? "\"" : "");
	}
	return sslport_err_contract(err, who, SOURCE_EXPECTED);
}

/*
 * Loads one source into a context whose lock is held.  With `try_` a
 * load failure is ignored; a sealed context is refused all the same.
 */
static int
load_locked(struct sslport_ctx *ctx, const struct sslport_source *src, int try_,
    const char *who, struct sslport_error *err)
{
	if (sslport_ctx_check_unsealed(ctx, who, err) != 0)
		return -1;
	if (load_one(ctx, src, who, err) == 0)
		return 0;
	if (!try_)
		return -1;
	ERR_clear_error();
	sslport_error_clear(err);
	return 0;
}

int
sslport_load_verify_source(struct sslport_ctx *ctx,
    const struct sslport_source *src, int try_, struct sslport_error *err)
{
	static const char who[] = "ssl-load-verify-source!";
	int rv;

	sslport_error_clear(err);
	if (sslport_ctx_of(ctx, 0, who, err) == NULL)
		return -1;
	if (src == NULL || !source_valid(src))
		return sslport_err_contract(err, who, SOURCE_EXPECTED);
	pthread_mutex_lock(&ctx->lock);
	rv = load_locked(ctx, src, try_, who, err);
	pthread_mutex_unlock(&ctx->lock);
	return rv;
}

/* Failures are ignored; the seal is not, when there is anything to load. */
int
sslport_load_default_verify_sources(
    struct sslport_ctx *ctx, struct sslport_error *err)
{
	static const char who[] = "ssl-load-default-verify-sources!";
	struct sslport_source *srcs = NULL;
	size_t i, n = 0;
	int rv = -1;

	sslport_error_clear(err);
	if (sslport_ctx_of(ctx, 0, who, err) == NULL ||
	    sslport_default_verify_sources(&srcs, &n, err) != 0)
		return -1;
	pthread_mutex_lock(&ctx->lock);
	for (i = 0; i < n; i++)
		if (load_locked(ctx, &srcs[i], 1, who, err) != 0)
			goto out;
	rv = 0;
out:
	pthread_mutex_unlock(&ctx->lock);
	sslport_sources_free(srcs, n);
	return rv;
}

int
sslport_load_verify_root_certificates(
    void *ctx_or_listener, const char *path, struct sslport_error *err)
{
	static const char who[] = "ssl-load-verify-root-certificates!";
	struct sslport_source src = {SSLPORT_SOURCE_FILE, path};
	struct sslport_ctx *ctx;
	int rv;

	sslport_error_clear(err);
	ctx = sslport_ctx_of(ctx_or_listener, 1, who, err);
	if (ctx == NULL)
		return -1;
	if (path == NULL)
		return sslport_err_contract(err, who, "path-string?");
	pthread_mutex_lock(&ctx->lock);
	rv = load_locked(ctx, &src, 0, who, err);
	pthread_mutex_unlock(&ctx->lock);
	return rv;
}
