/*
 * fuzz_shim.c: the shim's request decoding and argument checking on
 * arbitrary input.  Each line of the input is one request, run in order
 * on this thread as the shim would run it (ref/shim/shim.c built with
 * SSLPORT_FUZZ); handles made by one line can be used by the next, and
 * all are freed when the input ends.  Each input starts afresh: handles
 * numbered from h1, an empty process log, the default verify sources
 * of the start.
 *
 * Ops that wait on the network, on a peer or on the clock, and `exit`,
 * are not run: their argument checking is reached through the suite
 * instead.  Reading, writing and hashing ports wait only on a pipe, so
 * they run while the input has made no pipe: the only ports then are
 * bytes ports, which never block.
 */
#include <stdlib.h>
#include <string.h>

#include "sslport.h"

#define FUZZ_MAX_LINES 8

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
void shim_fuzz_request(
    const char *line, size_t len, int (*allow)(const char *));
void shim_fuzz_reset(void);

static const char *const waiting_ops[] = {"exit", "sync/timeout", "ssl-connect",
    "ssl-connect/enable-break", "ssl-listen", "ssl-accept",
    "ssl-accept/enable-break", "ports->ssl-ports", "tcp-listen", "tcp-accept",
    "tcp-connect", NULL};

static const char *const port_ops[] = {"read-bytes", "read-bytes-avail",
    "write-bytes", "sha1", "sha1-bytes", "md5", "md5-bytes", NULL};

/* Whether this input has asked for a pipe. */
static int made_pipe;

static int
listed(const char *op, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(op, list[i]) == 0)
			return 1;
	return 0;
}

static int
allow(const char *op)
{
	if (strcmp(op, "make-pipe") == 0)
		made_pipe = 1;
	if (listed(op, port_ops))
		return !made_pipe;
	return !listed(op, waiting_ops);
}

/*
 * The process-wide default verify sources, as they were at the start:
 * the test root and certs/ca-dir rather than the system's store, so that
 * the inputs run the same everywhere, and quickly.
 */
static void
keep_default_sources(int restore)
{
	static struct sslport_source *srcs;
	static size_t n;
	static int kept;
	struct sslport_error err;

	if (!kept) {
		setenv("SSL_CERT_FILE", "certs/root-ca.pem", 1);
		setenv("SSL_CERT_DIR", "certs/ca-dir", 1);
		if (sslport_default_verify_sources(&srcs, &n, &err) != 0)
			abort();
		kept = 1;
	}
	if (restore && sslport_set_default_verify_sources(srcs, n, &err) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *line = (const char *)data;
	const char *end = line + size;
	const char *nl;
	int n;

	keep_default_sources(0);
	made_pipe = 0;
	for (n = 0; line < end && n < FUZZ_MAX_LINES; n++) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		shim_fuzz_request(line, (size_t)(nl - line), allow);
		line = nl + 1;
	}
	shim_fuzz_reset();
	keep_default_sources(1);
	return 0;
}
