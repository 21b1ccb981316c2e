/*
 * ossl.h: OpenSSL through the loader's table of function pointers.
 *
 * Every OpenSSL function the library calls is listed in ossl_syms.def.
 * The loader fills `sslport_ossl` with dlsym; the generated header
 * ossl_redirect.h then defines each name as its table entry, so code
 * reads as ordinary OpenSSL calls, and OpenSSL's own macros (which expand
 * to calls such as SSL_CTX_ctrl) go through the table too.  Do not use
 * the typed sk_TYPE_* inline helpers: they call OPENSSL_sk_* directly and
 * the link (-z defs, no -lssl) refuses them; call OPENSSL_sk_* instead.
 */
#ifndef SSLPORT_OSSL_H
#define SSLPORT_OSSL_H

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

enum sslport_ossl_lib { SSLPORT_LIBCRYPTO, SSLPORT_LIBSSL };

struct sslport_ossl_table {
#define SSLPORT_SYM(lib, name) __typeof__(name) *name;
#include "ossl_syms.def"
#undef SSLPORT_SYM
};

extern struct sslport_ossl_table sslport_ossl;

#ifndef SSLPORT_OSSL_NO_REDIRECT
#include "ossl_redirect.h"
#endif

#endif /* SSLPORT_OSSL_H */
