/*
 * ops_hash.c: SHA-1, MD5 and the hex conversions (documented sections
 * 6 and 7).
 */
#include <stdlib.h>
#include <string.h>

#include "shim.h"

static struct sslport_port *
input_port(struct shim_req *req, json_t *args, struct sslport_error *err)
{
	struct sslport_port *p;

	if (shim_argc(req, args, 1, 1, err) < 0)
		return NULL;
	p = shim_arg_object(
	    req, shim_arg(args, 0), SHIM_PORT, "input-port?", err);
	if (p != NULL && sslport_port_direction(p) != SSLPORT_INPUT) {
		shim_contract(err, shim_op_name(req), "input-port?");
		return NULL;
	}
	return p;
}

static int
op_sha1(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *p = input_port(req, args, err);
	char hex[41];

	if (p == NULL || sslport_sha1(p, hex, err) < 0)
		return -1;
	*result = json_string(hex);
	return 0;
}

static int
op_sha1_bytes(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *p = input_port(req, args, err);
	unsigned char md[20];

	if (p == NULL || sslport_sha1_bytes(p, md, err) < 0)
		return -1;
	*result = shim_bytes(md, sizeof(md));
	return 0;
}

static int
op_md5(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *p = input_port(req, args, err);
	char hex[33];

	if (p == NULL || sslport_md5(p, hex, err) < 0)
		return -1;
	*result = json_string(hex);
	return 0;
}

static int
op_md5_bytes(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	struct sslport_port *p = input_port(req, args, err);
	unsigned char md[16];

	if (p == NULL || sslport_md5_bytes(p, md, err) < 0)
		return -1;
	*result = shim_bytes(md, sizeof(md));
	return 0;
}

static int
op_bytes_to_hex(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	const unsigned char *data;
	size_t len;
	char *hex;

	if (shim_argc(req, args, 1, 1, err) < 0 ||
	    shim_arg_bytes(req, shim_arg(args, 0), &data, &len, "bytes?", err) <
	        0)
		return -1;
	hex = shim_req_alloc(req, 2 * len + 1);
	if (hex == NULL)
		return shim_fail(
		    err, SSLPORT_EFAIL, "bytes->hex-string", "out of memory");
	sslport_bytes_to_hex_string(data, len, hex);
	*result = json_string(hex);
	return 0;
}

static int
op_hex_to_bytes(struct shim_req *req, json_t *args, json_t *kw, json_t **result,
    struct sslport_error *err)
{
	const char *str;
	unsigned char *b;
	size_t len;

	if (shim_argc(req, args, 1, 1, err) < 0 ||
	    (str = shim_arg_string(req, shim_arg(args, 0), "string?", err)) ==
	        NULL)
		return -1;
	if (sslport_hex_string_to_bytes(
	        str, json_string_length(shim_arg(args, 0)), &b, &len, err) < 0)
		return -1;
	*result = shim_bytes(b, len);
	free(b);
	return 0;
}

const struct shim_op shim_ops_hash[] = {{"sha1", op_sha1},
    {"sha1-bytes", op_sha1_bytes}, {"md5", op_md5}, {"md5-bytes", op_md5_bytes},
    {"bytes->hex-string", op_bytes_to_hex},
    {"hex-string->bytes", op_hex_to_bytes}, {NULL, NULL}};
