/*
 * fuzz_handshake.h: one end of a handshake fed arbitrary bytes, and the
 * contexts both ends use.  The input is the whole of what the peer sends:
 * ports->ssl-ports reads it from a bytes port, writes its own records
 * into a pipe that nobody reads (no limit, so it never blocks), and meets
 * end-of-file when the input runs out.  Whatever the bytes, the call
 * returns: ports, or a clean exn:fail through the default error
 * procedure.  When the handshake completes, the SSL ports are used as a
 * program would: a renegotiation (server context 2), the peer's
 * certificate and names, channel bindings, ALPN, a write, reading to
 * end-of-file, and closing.
 *
 * Randomness is repeatable (fuzzrand.h), so that the seeds, which
 * ref/fuzz/record.c records from the reference talking to itself with
 * these same contexts, complete the handshake when replayed.  The
 * certificates are read from certs/: run from the repository root.
 */
#ifndef SSLPORT_FUZZ_HANDSHAKE_H
#define SSLPORT_FUZZ_HANDSHAKE_H

#include <string.h>

#include "fuzzrand.h"
#include "fuzzutil.h"

#define FUZZ_SERVER_CONTEXTS 4
#define FUZZ_CLIENT_CONTEXTS 4

static const struct sslport_bytes fuzz_alpn[] = {
    {(const unsigned char *)"h2", 2}, {(const unsigned char *)"http/1.1", 8}};

static void
fuzz_need(int rv, const char *what, const struct sslport_error *err)
{
	if (rv == 0)
		return;
	fprintf(stderr, "fuzz: %s: %s (run from the repository root)\n", what,
	    err->message);
	abort();
}

static void
fuzz_ignore_log(void *arg, enum sslport_log_level level, const char *topic,
    const char *message, const unsigned char *data, size_t len)
{
}

/* Keylogging on, so that keylog.c is reached; the lines are dropped. */
static void
fuzz_keylog(struct sslport_ctx *ctx)
{
	struct sslport_logger *logger;
	struct sslport_error err;

	logger = sslport_logger_new(fuzz_ignore_log, NULL);
	if (logger == NULL || sslport_set_keylogger(ctx, logger, &err) != 0)
		abort();
	sslport_logger_free(logger);
}

/* certs/<chain>.pem and certs/<key>.key */
static struct sslport_ctx *
fuzz_server_new(enum sslport_protocol proto, const char *chain, const char *key)
{
	struct sslport_key_form form = {SSLPORT_KEY_PEM, NULL, NULL, 0};
	struct sslport_error err;
	struct sslport_ctx *ctx;
	char chain_path[64], key_path[64];

	snprintf(chain_path, sizeof(chain_path), "certs/%s.pem", chain);
	snprintf(key_path, sizeof(key_path), "certs/%s.key", key);
	form.path = key_path;
	ctx = sslport_make_server_context(proto, &form, chain_path, &err);
	fuzz_need(ctx == NULL ? -1 : 0, chain_path, &err);
	return ctx;
}

/* Roots, ALPN, and a client certificate asked for (try) or required. */
static void
fuzz_server_asks(struct sslport_ctx *ctx, int require)
{
	struct sslport_error err;

	fuzz_need(sslport_load_verify_root_certificates(
	              ctx, "certs/root-ca.pem", &err),
	    "certs/root-ca.pem", &err);
	if (sslport_set_server_alpn(ctx, fuzz_alpn, 2, 0, &err) != 0 ||
	    (require ? sslport_set_verify(ctx, 1, &err)
	             : sslport_try_verify(ctx, 1, &err)) != 0)
		abort();
}

static struct sslport_ctx *fuzz_server_context(int which);

/*
 * The SNI callback of server context 1: "ecdsa.example" switches to
 * context 0, "refuse.example" fails the handshake, other names keep it.
 */
static int
fuzz_sni(void *arg, const char *hostname, struct sslport_ctx **choice,
    struct sslport_error *err)
{
	if (strcmp(hostname, "refuse.example") == 0) {
		snprintf(err->message, sizeof(err->message), "fuzz: refused");
		err->kind = SSLPORT_EFAIL;
		return -1;
	}
	if (strcmp(hostname, "ecdsa.example") == 0)
		*choice = fuzz_server_context(0);
	return 0;
}

/*
 * 0: any version, ECDSA P-256, keylogging.  1: any version, RSA, an SNI
 * callback.  2: TLS 1.2 only, RSA, ALPN, a client certificate asked for.
 * 3: any version, the loopback chain (valid for localhost under the
 * intermediate), ALPN, a client certificate required.
 */
static struct sslport_ctx *
fuzz_server_make(int which)
{
	struct sslport_error err;
	struct sslport_ctx *ctx;

	switch (which) {
	case 0:
		ctx = fuzz_server_new(SSLPORT_PROTO_AUTO, "server-ecdsa-p256",
		    "server-ecdsa-p256");
		fuzz_keylog(ctx);
		break;
	case 1:
		ctx = fuzz_server_new(
		    SSLPORT_PROTO_AUTO, "server-rsa", "server-rsa");
		if (sslport_set_server_name_identification_callback(
		        ctx, fuzz_sni, NULL, &err) != 0)
			abort();
		break;
	case 2:
		ctx = fuzz_server_new(
		    SSLPORT_PROTO_TLS12, "server-rsa", "server-rsa");
		fuzz_server_asks(ctx, 0);
		break;
	default:
		ctx = fuzz_server_new(SSLPORT_PROTO_AUTO,
		    "server-loopback-chain", "server-loopback");
		fuzz_server_asks(ctx, 1);
		break;
	}
	return ctx;
}

static struct sslport_ctx *fuzz_server_ctx[FUZZ_SERVER_CONTEXTS];

/*
 * Made before the handshake draws its first random byte: all of them,
 * since the SNI callback may switch to another during the handshake.
 * Each from the start of the stream, since what a context draws (its
 * session ticket keys) shows in the handshake.
 */
static struct sslport_ctx *
fuzz_server_context(int which)
{
	int i;

	for (i = 0; i < FUZZ_SERVER_CONTEXTS; i++) {
		if (fuzz_server_ctx[i] == NULL) {
			fuzz_rand_reset();
			fuzz_server_ctx[i] = fuzz_server_make(i);
		}
	}
	return fuzz_server_ctx[which % FUZZ_SERVER_CONTEXTS];
}

/*
 * A completed handshake can leave its session in the server context's
 * cache; the next one would then draw its session id again, and differ
 * from the recording.  So each handshake starts with an empty cache.
 */
static void
fuzz_server_forget(int which)
{
	which %= FUZZ_SERVER_CONTEXTS;
	sslport_ctx_free(fuzz_server_ctx[which]);
	fuzz_server_ctx[which] = NULL;
}

static struct sslport_ctx *
fuzz_client_new(enum sslport_protocol proto, int with_cert)
{
	struct sslport_key_form key = {
	    SSLPORT_KEY_PEM, "certs/client.key", NULL, 0};
	struct sslport_error err;
	struct sslport_ctx *ctx;

	ctx = sslport_make_client_context(proto, with_cert ? &key : NULL,
	    with_cert ? "certs/client.pem" : NULL, &err);
	fuzz_need(ctx == NULL ? -1 : 0, "certs/client.pem", &err);
	return ctx;
}

/*
 * 0: any version, no verification, keylogging.  1: TLS 1.2 only (its
 * server flight is not encrypted, so certificate and key-exchange
 * parsing is reached).  2: verification against the test root, with the
 * hostname, a client certificate, ALPN.  3: no verification, a client
 * certificate, SNI and ALPN.
 */
static struct sslport_ctx *
fuzz_client_context(int which)
{
	static struct sslport_ctx *ctx[FUZZ_CLIENT_CONTEXTS];
	struct sslport_error err;

	if (ctx[0] == NULL) {
		fuzz_rand_reset();
		ctx[0] = fuzz_client_new(SSLPORT_PROTO_AUTO, 0);
		fuzz_keylog(ctx[0]);
		ctx[1] = fuzz_client_new(SSLPORT_PROTO_TLS12, 0);
		ctx[2] = fuzz_client_new(SSLPORT_PROTO_AUTO, 1);
		fuzz_need(sslport_load_verify_root_certificates(
		              ctx[2], "certs/root-ca.pem", &err),
		    "certs/root-ca.pem", &err);
		if (sslport_set_verify(ctx[2], 1, &err) != 0 ||
		    sslport_set_verify_hostname(ctx[2], 1, &err) != 0)
			abort();
		ctx[3] = fuzz_client_new(SSLPORT_PROTO_AUTO, 1);
	}
	return ctx[which % FUZZ_CLIENT_CONTEXTS];
}

/* The options of one end: a server context, or a client context. */
static void
fuzz_options(
    enum sslport_mode mode, int which, struct sslport_wrap_options *opt)
{
	sslport_wrap_options_init(opt);
	opt->mode = mode;
	opt->close_original = 1;
	opt->shutdown_on_close = 1;
	if (mode == SSLPORT_MODE_ACCEPT) {
		opt->context = fuzz_server_context(which);
		return;
	}
	which %= FUZZ_CLIENT_CONTEXTS;
	opt->context = fuzz_client_context(which);
	if (which >= 2) {
		opt->hostname = "localhost";
		opt->alpn = fuzz_alpn;
		opt->nalpn = which == 2 ? 2 : 1;
	}
}

/* An answer of -1 must carry an error of some kind, with a message. */
static void
fuzz_check_answer(int rv, const struct sslport_error *err)
{
	if (rv < 0 && (err->kind == SSLPORT_OK || err->message[0] == '\0'))
		abort();
}

/* What a program asks an SSL port about its peer. */
static void
fuzz_ask_peer(struct sslport_port *in, const char *hostname)
{
	enum sslport_protocol version;
	enum sslport_binding type;
	struct sslport_error err;
	unsigned char *b;
	char **names;
	size_t len;
	int rv, t;

	fuzz_check_answer(sslport_peer_verified(in, &err), &err);
	rv = sslport_peer_certificate_hostnames(in, &names, &err);
	fuzz_check_answer(rv, &err);
	if (rv >= 0)
		sslport_strings_free(names);
	fuzz_check_answer(sslport_peer_check_hostname(
	                      in, hostname ? hostname : "localhost", &err),
	    &err);
	b = NULL;
	fuzz_check_answer(sslport_peer_subject_name(in, &b, &len, &err), &err);
	free(b);
	b = NULL;
	fuzz_check_answer(sslport_peer_issuer_name(in, &b, &len, &err), &err);
	free(b);
	for (t = SSLPORT_BINDING_TLS_EXPORTER;
	     t <= SSLPORT_BINDING_TLS_SERVER_END_POINT; t++) {
		b = NULL;
		fuzz_check_answer(sslport_channel_binding(in,
		                      (enum sslport_binding)t, &b, &len, &err),
		    &err);
		free(b);
	}
	b = NULL;
	fuzz_check_answer(
	    sslport_default_channel_binding(in, &type, &b, &len, &err), &err);
	free(b);
	b = NULL;
	fuzz_check_answer(sslport_get_alpn_selected(in, &b, &len, &err), &err);
	free(b);
	fuzz_check_answer(sslport_protocol_version(in, &version, &err), &err);
}

/*
 * With SSLPORT_FUZZ_VERBOSE=1 in the environment, say how far each input
 * got: a seed that no longer completes its handshake (after an OpenSSL
 * update, say) is due to be recorded again.
 */
static void
fuzz_say(const char *what, const struct sslport_error *err)
{
	static int verbose = -1;
	const char *v;

	if (verbose < 0) {
		v = getenv("SSLPORT_FUZZ_VERBOSE");
		verbose = v != NULL && strcmp(v, "1") == 0;
	}
	if (verbose)
		fprintf(stderr, "fuzz: %s%s%s\n", what, err ? ": " : "",
		    err ? err->message : "");
}

/* Read what the SSL input port gives, so record parsing is reached too. */
static void
fuzz_drain(struct sslport_port *in)
{
	struct sslport_error err;
	unsigned char buf[4096];
	ssize_t n;
	size_t total = 0;
	char what[64];

	while ((n = sslport_port_read(in, buf, sizeof(buf), &err)) > 0)
		total += (size_t)n;
	fuzz_check_answer((int)n, &err);
	snprintf(what, sizeof(what), "handshake done, %zu bytes read", total);
	fuzz_say(what, n < 0 ? &err : NULL);
}

/*
 * What the server of context 2 does first once connected, here and in
 * the recordings: ssl-try-verify! on its port, which on TLS 1.2
 * renegotiates to ask for the client's certificate again (S5.verify.9).
 */
static int
fuzz_server_renegotiates(const struct sslport_wrap_options *opt,
    struct sslport_port *ssl_in, struct sslport_error *err)
{
	if (opt->mode != SSLPORT_MODE_ACCEPT ||
	    opt->context != fuzz_server_context(2))
		return 0;
	return sslport_try_verify(ssl_in, 1, err);
}

static void
fuzz_use(struct sslport_port *ssl_in, struct sslport_port *ssl_out,
    const struct sslport_wrap_options *opt)
{
	struct sslport_error err;

	fuzz_check_answer(fuzz_server_renegotiates(opt, ssl_in, &err), &err);
	fuzz_ask_peer(ssl_in, opt->hostname);
	if (sslport_port_write(ssl_out, "ping\n", 5, &err) == 0)
		fuzz_check_answer(sslport_port_flush(ssl_out, &err), &err);
	else
		fuzz_check_answer(-1, &err);
	fuzz_drain(ssl_in);
	fuzz_check_answer(sslport_port_close(ssl_out, &err), &err);
	fuzz_check_answer(sslport_port_close(ssl_in, &err), &err);
}

/* One end, `which` its context, fed data[0..size) as the peer's bytes. */
static void
fuzz_handshake(
    enum sslport_mode mode, int which, const unsigned char *data, size_t size)
{
	static int installed;
	struct sslport_port *in, *pipe_in, *out, *ssl_in, *ssl_out;
	struct sslport_wrap_options opt;
	struct sslport_error err;
	int rv;

	if (!installed) {
		fuzz_rand_install();
		installed = 1;
	}
	fuzz_options(mode, which, &opt);
	in = sslport_open_input_bytes(data, size, &err);
	if (in == NULL || sslport_make_pipe(0, &pipe_in, &out, &err) != 0)
		abort();
	/* After the contexts are made: the handshake draws from the start. */
	fuzz_rand_reset();
	rv = sslport_ports_to_ssl_ports(in, out, &opt, &ssl_in, &ssl_out, &err);
	if (rv == 0) {
		fuzz_use(ssl_in, ssl_out, &opt);
		sslport_port_free(ssl_in);
		sslport_port_free(ssl_out);
		if (mode == SSLPORT_MODE_ACCEPT)
			fuzz_server_forget(which);
	} else if (err.kind != SSLPORT_EFAIL || err.message[0] == '\0') {
		abort();
	} else {
		fuzz_say("handshake failed", &err);
	}
	sslport_port_free(in);
	sslport_port_free(out);
	sslport_port_free(pipe_in);
}

#endif /* SSLPORT_FUZZ_HANDSHAKE_H */
