/*
 * fuzz_handshake.h: one end of a handshake fed arbitrary bytes.  The
 * input is the whole of what the peer sends: ports->ssl-ports reads it
 * from a bytes port, writes its own records into a pipe that nobody reads
 * (no limit, so it never blocks), and meets end-of-file when the input
 * runs out.  Whatever the bytes, the call returns: ports, or a clean
 * exn:fail through the default error procedure.
 */
#ifndef SSLPORT_FUZZ_HANDSHAKE_H
#define SSLPORT_FUZZ_HANDSHAKE_H

#include "fuzzutil.h"

/* Read what the SSL input port gives, so record parsing is reached too. */
static void
fuzz_drain(struct sslport_port *in)
{
	struct sslport_error err;
	unsigned char buf[4096];
	ssize_t n;

	do
		n = sslport_port_read(in, buf, sizeof(buf), &err);
	while (n > 0);
	if (n < 0 && err.kind == SSLPORT_OK)
		abort();
}

static void
fuzz_handshake(struct sslport_ctx *ctx, enum sslport_mode mode,
    const char *hostname, const unsigned char *data, size_t size)
{
	struct sslport_port *in, *pipe_in, *out, *ssl_in, *ssl_out;
	struct sslport_wrap_options opt;
	struct sslport_error err;
	int rv;

	in = sslport_open_input_bytes(data, size, &err);
	if (in == NULL || sslport_make_pipe(0, &pipe_in, &out, &err) != 0)
		abort();
	sslport_wrap_options_init(&opt);
	opt.mode = mode;
	opt.context = ctx;
	opt.hostname = hostname;
	opt.close_original = 1;
	rv = sslport_ports_to_ssl_ports(in, out, &opt, &ssl_in, &ssl_out, &err);
	if (rv == 0) {
		fuzz_drain(ssl_in);
		sslport_port_free(ssl_in);
		sslport_port_free(ssl_out);
	} else if (err.kind != SSLPORT_EFAIL || err.message[0] == '\0') {
		abort();
	}
	sslport_port_free(in);
	sslport_port_free(out);
	sslport_port_free(pipe_in);
}

#endif /* SSLPORT_FUZZ_HANDSHAKE_H */
