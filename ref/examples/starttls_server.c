/*
 * starttls_server: talk in the clear, then upgrade the same connection to
 * TLS when the client asks, in the manner of SMTP's STARTTLS (RFC 3207),
 * so that `openssl s_client -starttls smtp` can be its client.
 *
 *	starttls_server CERT-CHAIN KEY [COUNT]
 *
 * It listens on a loopback TCP port that the system chooses and prints
 * "port N".  With each client, in the clear:
 *
 *	S: 220 sslport STARTTLS example
 *	C: EHLO name
 *	S: 250-sslport
 *	S: 250 STARTTLS
 *	C: STARTTLS
 *	S: 220 go ahead
 *
 * and then the TLS handshake on the same socket, through ports->ssl-ports
 * over the socket's ports.  Over TLS it answers "QUIT" with "221 bye" and
 * any other line L with "250 L", and closes after QUIT or at eof.  It
 * serves COUNT clients, one at a time (by default, no limit).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
	    err->message, sizeof(err->message), "starttls_server: %s", what);
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

/* A line, where eof is an error. */
static int
need_line(
    struct sslport_port *in, char *line, size_t size, struct sslport_error *err)
{
	int r = read_line(in, line, size, err);

	if (r == 0)
		r = fail(err, "the client closed the connection");
	return r < 0 ? -1 : 0;
}

/* The exchange in the clear, up to "220 go ahead". */
static int
greet(struct sslport_port *in, struct sslport_port *out,
    struct sslport_error *err)
{
	char line[512];
	int rv = -1;

	if (say(out, "220 sslport STARTTLS example", err) < 0 ||
	    need_line(in, line, sizeof(line), err) < 0)
		goto done;
	if (strncasecmp(line, "EHLO ", 5) != 0) {
		fail(err, "expected EHLO");
		goto done;
	}
	if (say(out, "250-sslport", err) < 0 ||
	    say(out, "250 STARTTLS", err) < 0 ||
	    need_line(in, line, sizeof(line), err) < 0)
		goto done;
	if (strcasecmp(line, "STARTTLS") != 0) {
		fail(err, "expected STARTTLS");
		goto done;
	}
	rv = say(out, "220 go ahead", err);
done:
	return rv;
}

/* Over TLS: answer lines until QUIT or eof. */
static int
talk(struct sslport_port *in, struct sslport_port *out,
    struct sslport_error *err)
{
	char line[512], answer[520];
	int r, quit = 0;

	do {
		r = read_line(in, line, sizeof(line), err);
		if (r > 0) {
			quit = strcasecmp(line, "QUIT") == 0;
			if (quit)
				strcpy(answer, "221 bye");
			else
				snprintf(
				    answer, sizeof(answer), "250 %s", line);
			if (say(out, answer, err) < 0)
				r = -1;
		}
	} while (r > 0 && !quit);
	return r < 0 ? -1 : 0;
}

/* The socket's ports stay ours until the SSL ports, which close them
 * (close_original), are closed. */
static int
serve(int fd, struct sslport_ctx *ctx, struct sslport_error *err)
{
	struct sslport_port *in = NULL, *out = NULL;
	struct sslport_port *ssl_in = NULL, *ssl_out = NULL;
	struct sslport_wrap_options opt;
	int rv = -1;

	if (sslport_fd_ports(fd, fd, &in, &out, err) < 0) {
		close(fd);
		goto done;
	}
	if (greet(in, out, err) < 0)
		goto done;
	sslport_wrap_options_init(&opt);
	opt.mode = SSLPORT_MODE_ACCEPT;
	opt.context = ctx;
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

/* A TCP socket listening on 127.0.0.1; its port in *port. */
static int
listen_loopback(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 &&
	    (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	        listen(fd, 16) < 0 ||
	        getsockname(fd, (struct sockaddr *)&sa, &len) < 0)) {
		close(fd);
		fd = -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static int
run(const char *chain, const char *key, long count, struct sslport_error *err)
{
	struct sslport_key_form kf = {SSLPORT_KEY_PEM, key, NULL, 0};
	struct sslport_ctx *ctx;
	int lfd = -1, fd, port, rv = -1;

	ctx = sslport_make_server_context(SSLPORT_PROTO_AUTO, &kf, chain, err);
	if (ctx == NULL)
		goto done;
	if ((lfd = listen_loopback(&port)) < 0) {
		fail(err, "cannot listen on 127.0.0.1");
		goto done;
	}
	printf("port %d\n", port);
	fflush(stdout);
	for (; count != 0; count--) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0 && serve(fd, ctx, err) < 0)
			fprintf(stderr, "starttls_server: %s\n", err->message);
	}
	rv = 0;
done:
	if (lfd >= 0)
		close(lfd);
	sslport_ctx_free(ctx);
	return rv;
}

int
main(int argc, char **argv)
{
	struct sslport_error err;
	int rv = 2;

	if (argc < 3 || argc > 4) {
		fprintf(
		    stderr, "usage: starttls_server CERT-CHAIN KEY [COUNT]\n");
	} else if (run(argv[1], argv[2], argc == 4 ? atol(argv[3]) : -1, &err) <
	    0) {
		fprintf(stderr, "starttls_server: %s: %s\n",
		    sslport_error_kind_name(err.kind), err.message);
		rv = 1;
	} else {
		rv = 0;
	}
	return rv;
}
