/*
 * echo_server: a TLS echo server that chooses its certificate by the name
 * the client asks for (SNI) and its protocol by ALPN.
 *
 *	echo_server CERT-DIR [COUNT]
 *
 * Two server contexts are made from the test certificates in CERT-DIR:
 * one for "localhost" (server-loopback-chain.pem), which serves clients
 * that send no name or another name, and one for "dns.example.test"
 * (server-dns.pem), chosen by the name callback.  Both offer the ALPN
 * protocols "echo/1" and "http/1.1", in that order of preference; a
 * client that offers neither is served without a protocol.
 *
 * The server listens on a loopback port that the system chooses and
 * prints "port N".  For each client it prints "alpn P" (or "alpn none"),
 * then sends every line back until the client sends an empty line or
 * closes, and then closes.  It serves COUNT clients, one at a time (by
 * default, no limit); a client whose handshake fails counts too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sslport.h>

static const struct sslport_bytes protocols[] = {
    {(const unsigned char *)"echo/1", 6},
    {(const unsigned char *)"http/1.1", 8},
};

/* The name callback: `arg` is the context for dns.example.test. */
static int
choose_context(void *arg, const char *hostname, struct sslport_ctx **choice,
    struct sslport_error *err)
{
	(void)err;
	if (strcasecmp(hostname, "dns.example.test") == 0)
		*choice = arg;
	else
		*choice = NULL;
	return 0;
}

static struct sslport_ctx *
make_context(const char *dir, const char *chain, const char *key,
    struct sslport_error *err)
{
	char chain_path[1024], key_path[1024];
	struct sslport_key_form kf = {SSLPORT_KEY_PEM, key_path, NULL, 0};
	struct sslport_ctx *ctx;

	snprintf(chain_path, sizeof(chain_path), "%s/%s", dir, chain);
	snprintf(key_path, sizeof(key_path), "%s/%s", dir, key);
	ctx = sslport_make_server_context(
	    SSLPORT_PROTO_AUTO, &kf, chain_path, err);
	if (ctx != NULL &&
	    sslport_set_server_alpn(ctx, protocols, 2, 1, err) < 0) {
		sslport_ctx_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* One line, newline included, into line[]; 0 at eof. */
static ssize_t
read_line(
    struct sslport_port *in, char *line, size_t size, struct sslport_error *err)
{
	size_t len = 0;
	ssize_t n;

	do {
		n = sslport_port_read(in, line + len, 1, err);
	} while (n > 0 && line[len++] != '\n' && len < size);
	return n < 0 ? -1 : (ssize_t)len;
}

static int
is_empty_line(const char *line, ssize_t n)
{
	return (n == 1 && line[0] == '\n') ||
	    (n == 2 && line[0] == '\r' && line[1] == '\n');
}

static void
print_alpn(struct sslport_port *in)
{
	unsigned char *proto = NULL;
	size_t len = 0;

	if (sslport_get_alpn_selected(in, &proto, &len, NULL) == 1)
		printf("alpn %.*s\n", (int)len, (const char *)proto);
	else
		printf("alpn none\n");
	fflush(stdout);
	free(proto);
}

/* Echo lines until an empty one (LF or CR LF) or eof. */
static int
echo(struct sslport_port *in, struct sslport_port *out,
    struct sslport_error *err)
{
	char line[4096];
	ssize_t n;

	do {
		n = read_line(in, line, sizeof(line), err);
		if (n > 0 && sslport_port_write(out, line, (size_t)n, err) < 0)
			n = -1;
	} while (n > 0 && !is_empty_line(line, n));
	return n < 0 ? -1 : sslport_port_close(out, err);
}

static void
serve_one(struct sslport_listener *l)
{
	struct sslport_port *in = NULL, *out = NULL;
	struct sslport_error err;

	if (sslport_accept(l, &in, &out, &err) == 0) {
		print_alpn(in);
		echo(in, out, &err);
	}
	if (err.kind != SSLPORT_OK)
		fprintf(stderr, "echo_server: %s\n", err.message);
	sslport_port_free(in);
	sslport_port_free(out);
}

static int
run(const char *dir, long count, struct sslport_error *err)
{
	struct sslport_ctx *local, *named = NULL;
	struct sslport_listener *l = NULL;
	struct sslport_addresses addr;
	int rv = -1;

	local = make_context(
	    dir, "server-loopback-chain.pem", "server-loopback.key", err);
	if (local == NULL)
		goto done;
	named = make_context(dir, "server-dns.pem", "server-dns.key", err);
	if (named == NULL ||
	    sslport_set_server_name_identification_callback(
	        local, choose_context, named, err) < 0)
		goto done;
	l = sslport_listen(0, 16, 1, "localhost", local, 0, err);
	if (l == NULL || sslport_addresses(l, &addr, err) < 0)
		goto done;
	printf("port %d\n", addr.local_port);
	fflush(stdout);
	for (; count != 0; count--)
		serve_one(l);
	rv = 0;
done:
	sslport_listener_free(l);
	sslport_ctx_free(named);
	sslport_ctx_free(local);
	return rv;
}

int
main(int argc, char **argv)
{
	struct sslport_error err;
	int rv = 2;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: echo_server CERT-DIR [COUNT]\n");
	} else if (run(argv[1], argc == 3 ? atol(argv[2]) : -1, &err) < 0) {
		fprintf(stderr, "echo_server: %s: %s\n",
		    sslport_error_kind_name(err.kind), err.message);
		rv = 1;
	} else {
		rv = 0;
	}
	return rv;
}
