/*
 * fuzzutil.h: what the libFuzzer targets share.  Inputs that the API
 * takes as a file path are written to one memfd, reached as
 * /proc/self/fd/N, so no file is left behind.
 */
#ifndef SSLPORT_FUZZUTIL_H
#define SSLPORT_FUZZUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sslport.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The path of a file holding exactly data[0..size). */
static const char *
fuzz_file(const unsigned char *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("sslport-fuzz", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	return path;
}

/*
 * Any failure must be a clean one: an error of a documented kind with a
 * message naming who failed.
 */
static void
fuzz_check_error(int rv, const struct sslport_error *err)
{
	if (rv == 0 && err->kind == SSLPORT_OK)
		return;
	if (rv == 0 || err->kind == SSLPORT_OK || err->message[0] == '\0')
		abort();
	if (err->kind != SSLPORT_EFAIL && err->kind != SSLPORT_ECONTRACT)
		abort();
}

#endif /* SSLPORT_FUZZUTIL_H */
