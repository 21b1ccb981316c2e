/*
 * loader.c: finding and binding OpenSSL at run time.
 *
 * The libraries are opened with dlopen over a list of version suffixes,
 * OpenSSL 3's first, and every symbol in ossl_syms.def is bound once into
 * `sslport_ossl`.  Nothing links against OpenSSL, so a machine without it
 * still runs the library: hashing falls back to our own code, and every
 * TLS call fails with exn:fail:unsupported and the recorded reason.
 */
#define SSLPORT_OSSL_NO_REDIRECT
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct sslport_ossl_table sslport_ossl;

struct sym {
	const char *name;
	enum sslport_ossl_lib lib;
	size_t offset;
};

#define SSLPORT_LIB_libcrypto SSLPORT_LIBCRYPTO
#define SSLPORT_LIB_libssl SSLPORT_LIBSSL

static const struct sym syms[] = {
#define SSLPORT_SYM(lib, name)                                                 \
	{#name, SSLPORT_LIB_##lib, offsetof(struct sslport_ossl_table, name)},
#include "ossl_syms.def"
#undef SSLPORT_SYM
};

/* Tried in order; OpenSSL 3 first.  Older libraries are refused. */
static const char *const lib_versions[] = {"3", "", "1.1", NULL};

#define MIN_VERSION 0x30000000L

struct lib {
	const char *name;     /* "libcrypto" */
	const char *hide_env; /* SSLPORT_HIDE_LIBCRYPTO */
	void *handle;
	char reason[512];
};

static struct lib libs[2] = {
    [SSLPORT_LIBCRYPTO] = {"libcrypto", "SSLPORT_HIDE_LIBCRYPTO", NULL, ""},
    [SSLPORT_LIBSSL] = {"libssl", "SSLPORT_HIDE_LIBSSL", NULL, ""},
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

static int
hidden(const struct lib *lib)
{
	const char *v = getenv(lib->hide_env);

	return v != NULL && strcmp(v, "1") == 0;
}

static void *
open_versions(struct lib *lib)
{
	char file[64];
	const char *const *v;
	void *h;

	for (v = lib_versions; *v != NULL; v++) {
		if (**v == '\0')
			snprintf(file, sizeof(file), "%s.so", lib->name);
		else
			snprintf(file, sizeof(file), "%s.so.%s", lib->name, *v);
		h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
		if (h != NULL)
			return h;
	}
	snprintf(lib->reason, sizeof(lib->reason),
	    "%s: could not open %s.so.3 (or another version in "
	    "openssl-lib-versions): %s",
	    lib->name, lib->name, dlerror());
	return NULL;
}

static int
bind_symbols(struct lib *lib, enum sslport_ossl_lib which)
{
	size_t i;
	void *p;

	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if (syms[i].lib != which)
			continue;
		p = dlsym(lib->handle, syms[i].name);
		if (p == NULL) {
			snprintf(lib->reason, sizeof(lib->reason),
			    "%s: symbol %s not found", lib->name, syms[i].name);
			return -1;
		}
		memcpy((char *)&sslport_ossl + syms[i].offset, &p, sizeof(p));
	}
	return 0;
}

static int
check_version(struct lib *lib)
{
	unsigned long v = sslport_ossl.OpenSSL_version_num();

	if (v >= MIN_VERSION)
		return 0;
	snprintf(lib->reason, sizeof(lib->reason),
	    "%s: OpenSSL %s is too old; 3.0 or later is required", lib->name,
	    sslport_ossl.OpenSSL_version(OPENSSL_VERSION));
	return -1;
}

static void
load_one(enum sslport_ossl_lib which)
{
	struct lib *lib = &libs[which];

	if (hidden(lib)) {
		snprintf(lib->reason, sizeof(lib->reason),
		    "%s: not loaded: hidden by %s=1", lib->name, lib->hide_env);
		return;
	}
	if (which == SSLPORT_LIBSSL && libs[SSLPORT_LIBCRYPTO].handle == NULL) {
		snprintf(lib->reason, sizeof(lib->reason),
		    "%s: not loaded: it needs libcrypto, which is not loaded",
		    lib->name);
		return;
	}
	lib->handle = open_versions(lib);
	if (lib->handle == NULL)
		return;
	if (bind_symbols(lib, which) == 0 &&
	    (which != SSLPORT_LIBCRYPTO || check_version(lib) == 0))
		return;
	dlclose(lib->handle);
	lib->handle = NULL;
}

static void
load(void)
{
	load_one(SSLPORT_LIBCRYPTO);
	load_one(SSLPORT_LIBSSL);
	if (libs[SSLPORT_LIBSSL].handle != NULL)
		sslport_ossl.OPENSSL_init_ssl(0, NULL);
}

int
sslport_ossl_init(void)
{
	pthread_once(&once, load);
	return sslport_have_libssl() ? 0 : -1;
}

int
sslport_have_libcrypto(void)
{
	pthread_once(&once, load);
	return libs[SSLPORT_LIBCRYPTO].handle != NULL;
}

int
sslport_have_libssl(void)
{
	pthread_once(&once, load);
	return libs[SSLPORT_LIBSSL].handle != NULL;
}

int
sslport_require_ssl(const char *who, struct sslport_error *err)
{
	if (sslport_have_libssl())
		return 0;
	return sslport_err(err, SSLPORT_EUNSUPPORTED, who,
	    "requested protocol not supported;\n SSL not available; check "
	    "`ssl-load-fail-reason'\n  reason: %s",
	    sslport_load_fail_reason());
}

int
sslport_available(void)
{
	return sslport_have_libssl();
}

const char *
sslport_load_fail_reason(void)
{
	if (sslport_have_libssl())
		return NULL;
	if (libs[SSLPORT_LIBCRYPTO].handle == NULL)
		return libs[SSLPORT_LIBCRYPTO].reason;
	return libs[SSLPORT_LIBSSL].reason;
}

void *
sslport_libcrypto(void)
{
	pthread_once(&once, load);
	return libs[SSLPORT_LIBCRYPTO].handle;
}

const char *
sslport_libcrypto_load_fail_reason(void)
{
	return sslport_libcrypto() != NULL ? NULL
	                                   : libs[SSLPORT_LIBCRYPTO].reason;
}

void *
sslport_libssl(void)
{
	pthread_once(&once, load);
	return libs[SSLPORT_LIBSSL].handle;
}

const char *
sslport_libssl_load_fail_reason(void)
{
	return sslport_libssl() != NULL ? NULL : libs[SSLPORT_LIBSSL].reason;
}

const char *const *
sslport_openssl_lib_versions(void)
{
	return lib_versions;
}

const char *
sslport_openssl_version_text(void)
{
	if (!sslport_have_libcrypto())
		return NULL;
	return sslport_ossl.OpenSSL_version(OPENSSL_VERSION);
}
