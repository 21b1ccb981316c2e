/*
 * hello_server: answer one TLS client's line with a greeting.
 *
 *	hello_server CERT-CHAIN KEY
 *
 * Listens on a loopback port that the system chooses, prints "port N",
 * serves one client and exits.
 */
#include <stdio.h>
#include <string.h>

#include <sslport.h>

/* A line of at most size - 1 bytes, without its newline. */
static int
read_line(
    struct sslport_port *in, char *line, size_t size, struct sslport_error *err)
{
	size_t len = 0;
	ssize_t n = 0;
	char c;

	while (len + 1 < size && (n = sslport_port_read(in, &c, 1, err)) > 0 &&
	    c != '\n')
		line[len++] = c;
	line[len] = '\0';
	return n < 0 ? -1 : 0;
}

static int
serve(struct sslport_listener *l, struct sslport_error *err)
{
	struct sslport_port *in = NULL, *out = NULL;
	char line[200], answer[256];
	int n, rv = -1;

	if (sslport_accept(l, &in, &out, err) < 0 ||
	    read_line(in, line, sizeof(line), err) < 0)
		goto done;
	n = snprintf(answer, sizeof(answer), "%s from sslport\n", line);
	if (sslport_port_write(out, answer, (size_t)n, err) < 0 ||
	    sslport_port_close(out, err) < 0)
		goto done;
	rv = 0;
done:
	sslport_port_free(in);
	sslport_port_free(out);
	return rv;
}

static int
run(const char *chain, const char *key, struct sslport_error *err)
{
	struct sslport_key_form kf = {SSLPORT_KEY_PEM, key, NULL, 0};
	struct sslport_listener *l = NULL;
	struct sslport_ctx *ctx;
	struct sslport_addresses addr;
	int rv = -1;

	ctx = sslport_make_server_context(SSLPORT_PROTO_AUTO, &kf, chain, err);
	if (ctx == NULL)
		goto done;
	/* The listener keeps its own reference to the context. */
	l = sslport_listen(0, 5, 1, "localhost", ctx, 0, err);
	if (l == NULL || sslport_addresses(l, &addr, err) < 0)
		goto done;
	printf("port %d\n", addr.local_port);
	fflush(stdout);
	rv = serve(l, err);
done:
	sslport_listener_free(l);
	sslport_ctx_free(ctx);
	return rv;
}

int
main(int argc, char **argv)
{
	struct sslport_error err;
	int rv = 2;

	if (argc != 3) {
		fprintf(stderr, "usage: hello_server CERT-CHAIN KEY\n");
	} else if (run(argv[1], argv[2], &err) < 0) {
		fprintf(stderr, "hello_server: %s: %s\n",
		    sslport_error_kind_name(err.kind), err.message);
		rv = 1;
	} else {
		rv = 0;
	}
	return rv;
}
