/*
 * fuzz_hex.c: hex-string->bytes on arbitrary input.  Whatever it is given,
 * it either refuses with a contract error or answers bytes that turn back
 * into the same text, lower-cased.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sslport.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sslport_error err;
	unsigned char *out;
	char *hex;
	size_t len, i;

	if (sslport_hex_string_to_bytes((const char *)data, size, &out, &len,
	    &err) < 0) {
		if (err.kind != SSLPORT_ECONTRACT)
			abort();
		return 0;
	}
	if (len * 2 != size)
		abort();
	hex = malloc(size + 1);
	if (hex == NULL)
		abort();
	sslport_bytes_to_hex_string(out, len, hex);
	for (i = 0; i < size; i++)
		if (hex[i] != tolower(data[i]))
			abort();
	free(hex);
	free(out);
	return 0;
}
