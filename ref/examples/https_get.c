/*
 * https_get: fetch a page over HTTPS and print the status line.
 *
 *	https_get HOST PORT PATH [CA-FILE]
 *
 * The connection uses the secure client context: the server's certificate
 * must chain to a trusted root and name HOST.  The roots are the default
 * verify sources; CA-FILE, when given, replaces them, so that a local
 * server with a certificate of its own can be fetched from.  The client
 * offers the ALPN protocol "http/1.1".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sslport.h>

static const struct sslport_bytes http11 = {
    (const unsigned char *)"http/1.1", 8};

/* The secure context is made from the default sources as they are then. */
static int
trust_only(const char *ca_file, struct sslport_error *err)
{
	struct sslport_source src = {SSLPORT_SOURCE_FILE, ca_file};

	return sslport_set_default_verify_sources(&src, 1, err);
}

static int
send_request(struct sslport_port *out, const char *host, int port,
    const char *path, struct sslport_error *err)
{
	char req[2048];
	int n, rv = -1;

	n = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n", path,
	    host, port);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		err->kind = SSLPORT_ECONTRACT;
		snprintf(err->message, sizeof(err->message),
		    "https_get: host and path are too long");
	} else if (sslport_port_write(out, req, (size_t)n, err) == 0) {
		rv = sslport_port_flush(out, err);
	}
	return rv;
}

/* The first line of the answer, without its CR LF. */
static int
read_status(
    struct sslport_port *in, char *line, size_t size, struct sslport_error *err)
{
	size_t len = 0;
	ssize_t n = 0;
	char c;

	while (len + 1 < size && (n = sslport_port_read(in, &c, 1, err)) > 0 &&
	    c != '\n')
		line[len++] = c;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return n < 0 ? -1 : 0;
}

static int
get(const char *host, int port, const char *path, const char *ca_file,
    struct sslport_error *err)
{
	struct sslport_port *in = NULL, *out = NULL;
	char status[512];
	int rv = -1;

	if (ca_file != NULL && trust_only(ca_file, err) < 0)
		goto done;
	if (sslport_connect(host, port, NULL, SSLPORT_PROTO_SECURE, &http11, 1,
	        &in, &out, err) < 0)
		goto done;
	if (send_request(out, host, port, path, err) < 0 ||
	    read_status(in, status, sizeof(status), err) < 0)
		goto done;
	printf("%s\n", status);
	rv = 0;
done:
	sslport_port_free(in);
	sslport_port_free(out);
	return rv;
}

int
main(int argc, char **argv)
{
	struct sslport_error err;
	int rv = 2;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: https_get HOST PORT PATH [CA-FILE]\n");
	} else if (get(argv[1], atoi(argv[2]), argv[3],
	               argc == 5 ? argv[4] : NULL, &err) < 0) {
		fprintf(stderr, "https_get: %s: %s\n",
		    sslport_error_kind_name(err.kind), err.message);
		rv = 1;
	} else {
		rv = 0;
	}
	return rv;
}
