/*
 * fuzz_hex.c: hex-string->bytes and bytes->hex-string on arbitrary
 * input, against the contract: a string of an even number of hex digits,
 * either case, gives the bytes its pairs spell, which turn back into the
 * same text lower-cased; any other string (odd length, a character that
 * is not a hex digit, NUL included) is refused with exn:fail:contract and
 * nothing allocated.  And any bytes, turned into hex and back, are
 * themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "sslport.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The oracle's digit values: our own table, not the library's. */
static int
digit(unsigned char c)
{
	static const char lower[] = "0123456789abcdef";
	static const char upper[] = "0123456789ABCDEF";
	int i;

	for (i = 0; i < 16; i++)
		if (c == (unsigned char)lower[i] ||
		    c == (unsigned char)upper[i])
			return i;
	return -1;
}

static int
is_hex_string(const unsigned char *s, size_t n)
{
	size_t i;

	if (n % 2 != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (digit(s[i]) < 0)
			return 0;
	return 1;
}

/* The string direction: refused exactly when the contract says so. */
static void
check_string(const unsigned char *s, size_t n)
{
	struct sslport_error err;
	unsigned char *out;
	size_t len, i;
	char *hex;
	int rv;

	rv = sslport_hex_string_to_bytes((const char *)s, n, &out, &len, &err);
	if (!is_hex_string(s, n)) {
		if (rv != -1 || err.kind != SSLPORT_ECONTRACT || out != NULL ||
		    err.message[0] == '\0')
			abort();
		return;
	}
	if (rv != 0 || len != n / 2 || (len > 0 && out == NULL))
		abort();
	for (i = 0; i < len; i++)
		if (out[i] != (digit(s[2 * i]) << 4 | digit(s[2 * i + 1])))
			abort();
	hex = malloc(n + 1);
	if (hex == NULL)
		abort();
	sslport_bytes_to_hex_string(out, len, hex);
	for (i = 0; i < n; i++)
		if (digit((unsigned char)hex[i]) != digit(s[i]) ||
		    (hex[i] >= 'A' && hex[i] <= 'F'))
			abort();
	if (hex[n] != '\0')
		abort();
	free(hex);
	free(out);
}

/* The bytes direction: any bytes survive the round trip. */
static void
check_bytes(const unsigned char *b, size_t n)
{
	struct sslport_error err;
	unsigned char *out;
	size_t len;
	char *hex;

	hex = malloc(2 * n + 1);
	if (hex == NULL)
		abort();
	sslport_bytes_to_hex_string(b, n, hex);
	if (strlen(hex) != 2 * n ||
	    sslport_hex_string_to_bytes(hex, 2 * n, &out, &len, &err) != 0 ||
	    len != n || (n > 0 && memcmp(out, b, n) != 0))
		abort();
	free(out);
	free(hex);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	check_string(data, size);
	check_bytes(data, size);
	return 0;
}
