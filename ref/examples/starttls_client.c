/*
 * starttls_client: the client of starttls_server.  It talks in the clear
 * until the server agrees to STARTTLS, upgrades the same connection with
 * ports->ssl-ports, checks the server's certificate against CA-FILE and
 * HOST, then says hello over TLS and prints what it hears.
 *
 *	starttls_client HOST PORT CA-FILE
 *
 * Output: "tls V" (the protocol version negotiated) and the server's
 * answers over TLS, one a line.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sslport.h>

/* A line without its CR LF; 0 at eof, 1 for a line.  Reads a byte at a
 * time, so that no byte of the TLS handshake is taken early. */
static int
read_line(
    struct sslport_port *in, char *line, size_t size, struct sslport_error *err)
{
	size_t len = 0;
	ssize_t n;
	char c = 0;

	while ((n = sslport_port_read(in, &c, 1, err)) > 0 && c != '\n')
		if (len + 1 < size)
			line[len++] = c;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return n < 0 ? -1 : (n > 0 || len > 0);
}

static int
fail(struct sslport_error *err, const char *what)
{
	err->kind = SSLPORT_EFAIL;
	snprintf(
	    err->message, sizeof(err->message), "starttls_client: %s", what);
	return -1;
}

/* A line and its CR LF in one write: a peer may read the reply to
 * STARTTLS with a single read and take what follows for TLS. */
static int
say(struct sslport_port *out, const char *line, struct sslport_error *err)
{
	char buf[600];
	int n, rv = -1;

	n = snprintf(buf, sizeof(buf), "%s\r\n", line);
	if (n < 0 || (size_t)n >= sizeof(buf))
		fail(err, "line too long");
	else if (sslport_port_write(out, buf, (size_t)n, err) == 0)
		rv = sslport_port_flush(out, err);
	return rv;
}

/* A reply whose last line starts with `code`; 1 when a line of it
 * says STARTTLS. */
static int
expect(struct sslport_port *in, const char *code, struct sslport_error *err)
{
	char line[512];
	int r, offered = 0;

	do {
		r = read_line(in, line, sizeof(line), err);
		if (r == 0)
			r = fail(err, "the server closed the connection");
		else if (r > 0 && strncmp(line, code, 3) != 0)
			r = fail(err, line);
		else if (r > 0 && strlen(line) > 4)
			offered |= strcmp(line + 4, "STARTTLS") == 0;
	} while (r > 0 && line[3] == '-');
	return r < 0 ? -1 : offered;
}

/* The exchange in the clear, up to the server's "220 go ahead". */
static int
negotiate(struct sslport_port *in, struct sslport_port *out,
    struct sslport_error *err)
{
	int offered, rv = -1;

	if (expect(in, "220", err) < 0 ||
	    say(out, "EHLO starttls_client", err) < 0 ||
	    (offered = expect(in, "250", err)) < 0)
		goto done;
	if (!offered) {
		fail(err, "the server does not offer STARTTLS");
		goto done;
	}
	if (say(out, "STARTTLS", err) < 0 || expect(in, "220", err) < 0)
		goto done;
	rv = 0;
done:
	return rv;
}

/* A client context that trusts CA-FILE alone and checks the name. */
static struct sslport_ctx *
make_context(const char *ca_file, struct sslport_error *err)
{
	struct sslport_source src = {SSLPORT_SOURCE_FILE, ca_file};
	struct sslport_ctx *ctx;

	ctx = sslport_make_client_context(SSLPORT_PROTO_AUTO, NULL, NULL, err);
	if (ctx != NULL &&
	    (sslport_load_verify_source(ctx, &src, 0, err) < 0 ||
	        sslport_set_verify(ctx, 1, err) < 0 ||
	        sslport_set_verify_hostname(ctx, 1, err) < 0 ||
	        sslport_seal_context(ctx, err) < 0)) {
		sslport_ctx_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Over TLS: print the version, say hello, quit. */
static int
talk(struct sslport_port *in, struct sslport_port *out,
    struct sslport_error *err)
{
	enum sslport_protocol version;
	char line[512];
	int r = -1;

	if (sslport_protocol_version(in, &version, err) == 1)
		printf("tls %s\n", sslport_protocol_name(version));
	if (say(out, "HELLO", err) == 0 && say(out, "QUIT", err) == 0) {
		while ((r = read_line(in, line, sizeof(line), err)) > 0)
			printf("%s\n", line);
	}
	return r;
}

static int
upgrade(int fd, const char *host, struct sslport_ctx *ctx,
    struct sslport_error *err)
{
	struct sslport_port *in = NULL, *out = NULL;
	struct sslport_port *ssl_in = NULL, *ssl_out = NULL;
	struct sslport_wrap_options opt;
	int rv = -1;

	if (sslport_fd_ports(fd, fd, &in, &out, err) < 0) {
		close(fd);
		goto done;
	}
	if (negotiate(in, out, err) < 0)
		goto done;
	sslport_wrap_options_init(&opt);
	opt.mode = SSLPORT_MODE_CONNECT;
	opt.context = ctx;
	opt.hostname = host;
	opt.close_original = 1;
	opt.shutdown_on_close = 1;
	if (sslport_ports_to_ssl_ports(in, out, &opt, &ssl_in, &ssl_out, err) <
	        0 ||
	    talk(ssl_in, ssl_out, err) < 0)
		goto done;
	rv = sslport_port_close(ssl_out, err);
done:
	sslport_port_free(ssl_in);
	sslport_port_free(ssl_out);
	sslport_port_free(in);
	sslport_port_free(out);
	return rv;
}

/* A TCP socket connected to host:port, or -1. */
static int
dial(const char *host, const char *port)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		res = NULL;
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (res != NULL)
		freeaddrinfo(res);
	return fd;
}

static int
run(const char *host, const char *port, const char *ca_file,
    struct sslport_error *err)
{
	struct sslport_ctx *ctx;
	int fd, rv = -1;

	if ((ctx = make_context(ca_file, err)) == NULL)
		goto done;
	if ((fd = dial(host, port)) < 0) {
		fail(err, "cannot connect");
		goto done;
	}
	rv = upgrade(fd, host, ctx, err);
done:
	sslport_ctx_free(ctx);
	return rv;
}

int
main(int argc, char **argv)
{
	struct sslport_error err;
	int rv = 2;

	if (argc != 4) {
		fprintf(stderr, "usage: starttls_client HOST PORT CA-FILE\n");
	} else if (run(argv[1], argv[2], argv[3], &err) < 0) {
		fprintf(stderr, "starttls_client: %s: %s\n",
		    sslport_error_kind_name(err.kind), err.message);
		rv = 1;
	} else {
		rv = 0;
	}
	return rv;
}
