/*
 * fuzzrand.h: OpenSSL's randomness and clock made repeatable, for the
 * handshake targets.  A handshake replays only if the end under test picks the
 * same randoms, key shares and signature nonces as when its peer's bytes
 * were recorded (ref/fuzz/record.c); then the peer's Finished verifies
 * and its encrypted records decrypt, and the fuzzer reaches what follows
 * the first flight.
 *
 * Each thread draws from its own stream, which fuzz_rand_reset restarts:
 * a thread's draws depend only on what that thread asked for since, so
 * a recording with both ends in one process (one thread each) and a
 * replay of one end agree.  The method goes in through libcrypto's
 * RAND_set_rand_method, found with dlsym in the library the reference
 * opened, since nothing links OpenSSL.  For fuzzing only: these bytes
 * are not random.
 */
#ifndef SSLPORT_FUZZRAND_H
#define SSLPORT_FUZZRAND_H

#define OPENSSL_SUPPRESS_DEPRECATED
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <openssl/rand.h>

#include "sslport.h"

static __thread uint64_t fuzz_rand_state;

/* Restart this thread's stream. */
static void
fuzz_rand_reset(void)
{
	fuzz_rand_state = 0x5eed5eed5eed5eedULL;
}

/* splitmix64: every state gives a well-mixed word. */
static uint64_t
fuzz_rand_next(void)
{
	uint64_t z = (fuzz_rand_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int
fuzz_rand_bytes(unsigned char *buf, int num)
{
	uint64_t w = 0;
	int i;

	for (i = 0; i < num; i++) {
		if (i % 8 == 0)
			w = fuzz_rand_next();
		buf[i] = (unsigned char)(w >> (8 * (i % 8)));
	}
	return 1;
}

static int
fuzz_rand_seed(const void *buf, int num)
{
	return 1;
}

static int
fuzz_rand_add(const void *buf, int num, double entropy)
{
	return 1;
}

static int
fuzz_rand_status(void)
{
	return 1;
}

static const RAND_METHOD fuzz_rand_method = {fuzz_rand_seed, fuzz_rand_bytes,
    NULL, fuzz_rand_add, fuzz_rand_bytes, fuzz_rand_status};

/*
 * The clock, stopped at 2025-01-01 00:00:00 UTC, when the test
 * certificates are valid.  A TLS 1.2 server's session ticket holds the
 * time and its Finished covers the ticket, and a renegotiation's hellos
 * carry both ends' Finished (RFC 5746): without this, a renegotiation
 * replays only in the second it was recorded.  Defined in the program,
 * it overrides the C library's time() for OpenSSL too.
 */
time_t
time(time_t *t)
{
	const time_t now = 1735689600;

	if (t != NULL)
		*t = now;
	return now;
}

/* Once, before any handshake; aborts if libcrypto cannot be reached. */
static void
fuzz_rand_install(void)
{
	int (*set)(const RAND_METHOD *);
	void *lib = sslport_libcrypto();

	if (lib == NULL) {
		fprintf(stderr, "fuzzrand: %s\n",
		    sslport_libcrypto_load_fail_reason());
		abort();
	}
	*(void **)&set = dlsym(lib, "RAND_set_rand_method");
	if (set == NULL || set(&fuzz_rand_method) != 1) {
		fprintf(stderr, "fuzzrand: RAND_set_rand_method failed\n");
		abort();
	}
	fuzz_rand_reset();
}

#endif /* SSLPORT_FUZZRAND_H */
