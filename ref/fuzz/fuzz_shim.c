/*
 * fuzz_shim.c: the shim's request decoding and argument checking on
 * arbitrary input.  Each line of the input is one request, run in order
 * on this thread as the shim would run it (ref/shim/shim.c built with
 * SSLPORT_FUZZ); handles made by one line can be used by the next, and
 * all are freed when the input ends.  Ops that wait on the network, on a
 * peer or on the clock, and `exit`, are not run: their argument checking
 * is reached through the suite instead.
 */
#include <string.h>

#include "sslport.h"

#define FUZZ_MAX_LINES 8

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
void shim_fuzz_request(
    const char *line, size_t len, int (*allow)(const char *));
void shim_fuzz_reset(void);

static const char *const waiting_ops[] = {"exit", "read-bytes",
    "read-bytes-avail", "write-bytes", "sync/timeout", "sha1", "sha1-bytes",
    "md5", "md5-bytes", "ssl-connect", "ssl-connect/enable-break", "ssl-listen",
    "ssl-accept", "ssl-accept/enable-break", "ports->ssl-ports", "tcp-listen",
    "tcp-accept", "tcp-connect", NULL};

static int
allow(const char *op)
{
	size_t i;

	for (i = 0; waiting_ops[i] != NULL; i++)
		if (strcmp(op, waiting_ops[i]) == 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *line = (const char *)data;
	const char *end = line + size;
	const char *nl;
	int n;

	for (n = 0; line < end && n < FUZZ_MAX_LINES; n++) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (nl == NULL)
			nl = end;
		shim_fuzz_request(line, (size_t)(nl - line), allow);
		line = nl + 1;
	}
	shim_fuzz_reset();
	return 0;
}
