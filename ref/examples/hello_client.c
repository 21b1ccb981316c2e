/*
 * hello_client: say hello to a TLS server and print its answer.
 *
 *	hello_client HOST PORT
 *
 * The 'secure protocol gives the library's secure client context: the
 * server's certificate must chain to a trusted root (SSL_CERT_FILE and
 * SSL_CERT_DIR choose the roots) and name HOST.
 */
#include <stdio.h>
#include <stdlib.h>

#include <sslport.h>

static int
hello(const char *host, int port, struct sslport_error *err)
{
	struct sslport_port *in = NULL, *out = NULL;
	char answer[256];
	ssize_t n;
	int rv = -1;

	if (sslport_connect(host, port, NULL, SSLPORT_PROTO_SECURE, NULL, 0,
	        &in, &out, err) < 0)
		goto done;
	if (sslport_port_write(out, "hello\n", 6, err) < 0 ||
	    sslport_port_flush(out, err) < 0)
		goto done;
	/* The server answers one line and closes. */
	n = sslport_port_read_full(in, answer, sizeof(answer) - 1, err);
	if (n < 0)
		goto done;
	answer[n] = '\0';
	fputs(answer, stdout);
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

	if (argc != 3) {
		fprintf(stderr, "usage: hello_client HOST PORT\n");
	} else if (hello(argv[1], atoi(argv[2]), &err) < 0) {
		fprintf(stderr, "hello_client: %s: %s\n",
		    sslport_error_kind_name(err.kind), err.message);
		rv = 1;
	} else {
		rv = 0;
	}
	return rv;
}
