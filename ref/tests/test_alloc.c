/*
 * test_alloc.c: every allocation failure ends in a clean error.
 *
 * The scenario: make a server context (ECDSA certificate and key) and a
 * client context (the test root, verification and hostname checks on),
 * two in-memory pipes, then connect on one thread and accept on another
 * (ports->ssl-ports), send a message, echo it back, check it, and close.
 * It is run once for every N, with the Nth allocation failing, until a
 * run reaches no Nth allocation: first counting the allocations of the
 * set-up (on the main thread), then those of the client thread, then
 * those of the server thread.  Each run is a child process, so that a
 * crash or a hang names its N.  Each must end with the scenario done, or
 * with every error of the documented kind (exn:fail, with a message); no
 * crash, no hang, and no block allocated during the run still held after
 * everything is freed (a leak).
 *
 * Allocations are counted by replacing malloc, calloc, realloc and free
 * in this program; those called from the library (linked in) or from
 * libcrypto and libssl can fail, those of the C library's own internals
 * (thread stacks, stdio) cannot.  Under AddressSanitizer, whose
 * allocator cannot be replaced, the scenario only runs once.
 */
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_HOOKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_HOOKS 0
#endif
#endif
#ifndef ALLOC_HOOKS
#define ALLOC_HOOKS 1
#endif

#define MESSAGE_LEN 3000
#define RUN_SECONDS 15
#define MAX_FAILURES 40

enum role { ROLE_NONE, ROLE_SETUP, ROLE_CLIENT, ROLE_SERVER };

static const char *const role_names[] = {"none", "set-up", "client", "server"};

/* How one run ended: the child's exit status. */
enum outcome {
	RUN_DONE = 0,          /* scenario done; the Nth allocation failed */
	RUN_DIRTY = 1,         /* a wrong error, bad data or a leak */
	RUN_FAILED = 2,        /* a clean error */
	RUN_DONE_UNTOUCHED = 3 /* done, and there was no Nth allocation */
};

/* ---- Counting allocations ----------------------------------------------- */

static __thread enum role thread_role;
static enum role target_role;
static long fail_at;        /* the allocation to fail, from 1 */
static atomic_long counted; /* allocations of target_role */
static atomic_int armed;    /* counting and tracking on */

/* Code whose allocations count: this program, libcrypto, libssl. */
struct range {
	uintptr_t lo, hi;
};
static struct range ranges[16];
static int nranges;

#if ALLOC_HOOKS

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

/* Blocks allocated while armed and not yet freed; no allocation here. */
#define TRACK_SLOTS (1 << 18)
struct block {
	void *p;
	size_t size;
	void *caller;
};
static struct block blocks[TRACK_SLOTS];
static pthread_mutex_t track_lock = PTHREAD_MUTEX_INITIALIZER;
static long tracked;

static size_t
slot_of(void *p)
{
	return ((uintptr_t)p >> 4) * 2654435761u % TRACK_SLOTS;
}

static void
track(void *p, size_t size, void *caller)
{
	size_t i;

	pthread_mutex_lock(&track_lock);
	for (i = slot_of(p); blocks[i].p != NULL; i = (i + 1) % TRACK_SLOTS)
		;
	blocks[i].p = p;
	blocks[i].size = size;
	blocks[i].caller = caller;
	tracked++;
	pthread_mutex_unlock(&track_lock);
}

/* Linear probing: refill the hole so later entries stay reachable. */
static void
untrack(void *p)
{
	size_t i, j, home;

	pthread_mutex_lock(&track_lock);
	for (i = slot_of(p); blocks[i].p != NULL; i = (i + 1) % TRACK_SLOTS)
		if (blocks[i].p == p)
			break;
	if (blocks[i].p == NULL) {
		pthread_mutex_unlock(&track_lock);
		return;
	}
	blocks[i].p = NULL;
	tracked--;
	for (j = (i + 1) % TRACK_SLOTS; blocks[j].p != NULL;
	     j = (j + 1) % TRACK_SLOTS) {
		home = slot_of(blocks[j].p);
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			blocks[i] = blocks[j];
			blocks[j].p = NULL;
			i = j;
		}
	}
	pthread_mutex_unlock(&track_lock);
}

static int
counts(void *caller)
{
	uintptr_t a = (uintptr_t)caller;
	int i;

	for (i = 0; i < nranges; i++)
		if (a >= ranges[i].lo && a < ranges[i].hi)
			return 1;
	return 0;
}

static int show_failing; /* print where the failing allocation is */

/* 1 when this allocation is to fail. */
static int
inject(void *caller)
{
	void *frames[32];

	if (!atomic_load(&armed) || thread_role != target_role ||
	    !counts(caller))
		return 0;
	if (atomic_fetch_add(&counted, 1) + 1 != fail_at)
		return 0;
	if (show_failing) {
		fprintf(stderr, "allocation %ld fails here:\n", fail_at);
		backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
	}
	return 1;
}

/* Track what counted code allocates while armed: it must all be freed. */
static void *
note(void *p, size_t size, void *caller)
{
	if (p != NULL && atomic_load(&armed) && counts(caller))
		track(p, size, caller);
	return p;
}

void *
malloc(size_t n)
{
	void *caller = __builtin_return_address(0);

	if (inject(caller))
		return NULL;
	return note(__libc_malloc(n), n, caller);
}

void *
calloc(size_t n, size_t size)
{
	void *caller = __builtin_return_address(0);

	if (inject(caller))
		return NULL;
	return note(__libc_calloc(n, size), n * size, caller);
}

void *
realloc(void *p, size_t n)
{
	void *caller = __builtin_return_address(0);
	void *q;

	if (inject(caller))
		return NULL;
	q = __libc_realloc(p, n);
	if (q != NULL && p != NULL)
		untrack(p);
	if (q == NULL && n == 0)
		return NULL;
	return note(q, n, caller);
}

void
free(void *p)
{
	if (p != NULL)
		untrack(p);
	__libc_free(p);
}

static int
add_range(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *name = info->dlpi_name;
	int i;

	if (!(name[0] == '\0' || strstr(name, "libcrypto") != NULL ||
	        strstr(name, "libssl") != NULL))
		return 0;
	for (i = 0; i < info->dlpi_phnum && nranges < 16; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		ranges[nranges].lo = info->dlpi_addr + ph->p_vaddr;
		ranges[nranges].hi = ranges[nranges].lo + ph->p_memsz;
		nranges++;
	}
	return 0;
}

/* Name the code that allocated each block still held. */
static void
report_leaks(const char *what)
{
	Dl_info dl;
	size_t i;
	int shown = 0;

	for (i = 0; i < TRACK_SLOTS && shown < 8; i++) {
		if (blocks[i].p == NULL)
			continue;
		if (dladdr(blocks[i].caller, &dl) == 0)
			memset(&dl, 0, sizeof(dl));
		test_fail(what,
		    "%zu bytes still held, allocated in %s "
		    "at %s+%#lx",
		    blocks[i].size, dl.dli_fname != NULL ? dl.dli_fname : "?",
		    dl.dli_sname != NULL ? dl.dli_sname : "",
		    (unsigned long)((uintptr_t)blocks[i].caller -
		        (uintptr_t)(dl.dli_sname != NULL ? dl.dli_saddr
		                                         : dl.dli_fbase)));
		shown++;
	}
}

#else /* !ALLOC_HOOKS */

static long tracked;

static int
add_range(struct dl_phdr_info *info, size_t size, void *arg)
{
	return 0;
}

static void
report_leaks(const char *what)
{
}

#endif /* ALLOC_HOOKS */

/* ---- The scenario ------------------------------------------------------- */

struct contexts {
	struct sslport_ctx *server;
	struct sslport_ctx *client;
};

/* One end: its underlying ports, its SSL ports and how it ended. */
struct end {
	enum role role;
	struct sslport_ctx *ctx;
	struct sslport_port *in, *out;
	struct sslport_port *ssl_in, *ssl_out;
	int done;
	int bad_data;
	struct sslport_error err;
	int failed; /* err holds an error */
};

static int
set_up_contexts(struct contexts *c, struct sslport_error *err)
{
	struct sslport_key_form key = {
	    SSLPORT_KEY_PEM, test_cert("server-ecdsa-p256.key"), NULL, 0};

	c->server = sslport_make_server_context(
	    SSLPORT_PROTO_AUTO, &key, test_cert("server-ecdsa-p256.pem"), err);
	if (c->server == NULL)
		return -1;
	c->client =
	    sslport_make_client_context(SSLPORT_PROTO_AUTO, NULL, NULL, err);
	if (c->client == NULL ||
	    sslport_load_verify_root_certificates(
	        c->client, test_cert("root-ca.pem"), err) < 0 ||
	    sslport_set_verify(c->client, 1, err) < 0 ||
	    sslport_set_verify_hostname(c->client, 1, err) < 0)
		return -1;
	return 0;
}

static unsigned char
message_byte(size_t i)
{
	return (unsigned char)(i * 7 + 3);
}

/* Read exactly MESSAGE_LEN bytes into buf; -1 on error or early eof. */
static int
read_message(struct end *e, unsigned char *buf)
{
	ssize_t n;

	n = sslport_port_read_full(e->ssl_in, buf, MESSAGE_LEN, &e->err);
	if (n < 0)
		e->failed = 1;
	return n == MESSAGE_LEN ? 0 : -1;
}

static int
check_message(struct end *e, const unsigned char *buf)
{
	size_t i;

	for (i = 0; i < MESSAGE_LEN; i++)
		if (buf[i] != message_byte(i))
			e->bad_data = 1;
	return e->bad_data ? -1 : 0;
}

/* The client sends the message and checks the echo; the server echoes. */
static int
exchange(struct end *e)
{
	unsigned char buf[MESSAGE_LEN];
	size_t i;

	if (e->role == ROLE_SERVER) {
		if (read_message(e, buf) < 0 || check_message(e, buf) < 0)
			return -1;
	} else {
		for (i = 0; i < MESSAGE_LEN; i++)
			buf[i] = message_byte(i);
	}
	if (sslport_port_write(e->ssl_out, buf, MESSAGE_LEN, &e->err) < 0 ||
	    sslport_port_flush(e->ssl_out, &e->err) < 0) {
		e->failed = 1;
		return -1;
	}
	if (e->role == ROLE_CLIENT)
		return read_message(e, buf) < 0 ? -1 : check_message(e, buf);
	return 0;
}

static void *
end_thread(void *arg)
{
	struct sslport_wrap_options opt;
	struct end *e = arg;
	struct sslport_error err;

	thread_role = e->role;
	sslport_wrap_options_init(&opt);
	opt.mode =
	    e->role == ROLE_CLIENT ? SSLPORT_MODE_CONNECT : SSLPORT_MODE_ACCEPT;
	opt.context = e->ctx;
	opt.hostname = e->role == ROLE_CLIENT ? "localhost" : NULL;
	opt.close_original = 1;
	opt.shutdown_on_close = 1;
	if (sslport_ports_to_ssl_ports(
	        e->in, e->out, &opt, &e->ssl_in, &e->ssl_out, &e->err) < 0)
		e->failed = 1;
	else if (exchange(e) == 0)
		e->done = 1;
	/* Closing lets the other end see eof rather than wait forever. */
	sslport_port_close(e->ssl_out, &err);
	sslport_port_close(e->ssl_in, &err);
	sslport_port_close(e->out, &err);
	sslport_port_close(e->in, &err);
	thread_role = ROLE_NONE;
	return NULL;
}

static void
end_free(struct end *e)
{
	sslport_port_free(e->ssl_in);
	sslport_port_free(e->ssl_out);
	sslport_port_free(e->in);
	sslport_port_free(e->out);
}

/* An error is clean when it is of the documented kind, with a message. */
static int
clean_error(const char *what, const struct sslport_error *err)
{
	if (err->kind == SSLPORT_EFAIL && err->message[0] != '\0')
		return 1;
	test_fail(what, "got error %s \"%s\", want exn:fail with a message",
	    sslport_error_kind_name(err->kind), err->message);
	return 0;
}

static int
ends_clean(struct end *client, struct end *server)
{
	struct end *ends[2] = {client, server};
	int i, ok = 1;

	for (i = 0; i < 2; i++) {
		if (ends[i]->bad_data) {
			test_fail(role_names[ends[i]->role],
			    "got different bytes, want the message intact");
			ok = 0;
		}
		if (ends[i]->failed &&
		    !clean_error(role_names[ends[i]->role], &ends[i]->err))
			ok = 0;
	}
	return ok;
}

/* Connect and accept over two pipes, exchange, close; 0 when done. */
static int
connection(struct contexts *c, int *clean)
{
	struct end client = {.role = ROLE_CLIENT};
	struct end server = {.role = ROLE_SERVER};
	struct sslport_error err;
	pthread_t t;
	int rv = -1;

	client.ctx = c->client;
	server.ctx = c->server;
	if (sslport_make_pipe(4096, &server.in, &client.out, &err) < 0 ||
	    sslport_make_pipe(4096, &client.in, &server.out, &err) < 0) {
		*clean = clean_error("pipes", &err);
		goto out;
	}
	if (pthread_create(&t, NULL, end_thread, &server) != 0) {
		test_fail("threads", "pthread_create failed");
		goto out;
	}
	end_thread(&client);
	pthread_join(t, NULL);
	*clean = ends_clean(&client, &server);
	if (client.done && server.done)
		rv = 0;
out:
	end_free(&client);
	end_free(&server);
	return rv;
}

static void *
scenario_thread(void *arg)
{
	struct contexts c = {NULL, NULL};
	struct sslport_error err;
	enum outcome *o = arg;
	int done = 0, clean = 1;

	thread_role = ROLE_SETUP;
	if (set_up_contexts(&c, &err) < 0)
		clean = clean_error("set-up", &err);
	else
		done = connection(&c, &clean) == 0;
	sslport_ctx_free(c.client);
	sslport_ctx_free(c.server);
	thread_role = ROLE_NONE;
	*o = !clean ? RUN_DIRTY : done ? RUN_DONE : RUN_FAILED;
	return NULL;
}

/*
 * The set-up runs on a thread of its own too: what OpenSSL keeps per
 * thread (its error queue) goes when the thread ends, and is no leak.
 */
static enum outcome
scenario(void)
{
	enum outcome o = RUN_DIRTY;
	pthread_t t;

	if (pthread_create(&t, NULL, scenario_thread, &o) != 0) {
		test_fail("threads", "pthread_create failed");
		return RUN_DIRTY;
	}
	pthread_join(t, NULL);
	return o;
}

/* ---- Runs --------------------------------------------------------------- */

/*
 * OpenSSL keeps caches (fetched methods, property queries) that a failed
 * allocation may make it refill; they are freed here, as at exit, so that
 * what stays held after this is held by nobody.
 */
static void
openssl_cleanup(void)
{
	void (*cleanup)(void);

	*(void **)&cleanup = dlsym(sslport_libcrypto(), "OPENSSL_cleanup");
	if (cleanup != NULL)
		cleanup();
}

/* The child: one run, failing allocation `n` of `role`. */
static void
child(enum role role, long n)
{
	enum outcome o;

	alarm(RUN_SECONDS);
	test_failures = 0;
	target_role = role;
	fail_at = n;
	atomic_store(&counted, 0);
	atomic_store(&armed, 1);
	o = scenario();
	openssl_cleanup();
	atomic_store(&armed, 0);
	if (tracked != 0) {
		char what[64];

		snprintf(what, sizeof(what), "%s allocation %ld",
		    role_names[role], n);
		report_leaks(what);
		o = RUN_DIRTY;
	}
	if (o == RUN_DONE && atomic_load(&counted) < n)
		o = RUN_DONE_UNTOUCHED;
	fflush(stdout);
	fflush(stderr);
	/* Leave through exit() under valgrind (SSLPORT_ALLOC_RUN). */
	if (getenv("SSLPORT_ALLOC_RUN") != NULL)
		exit(test_failures > 0 ? RUN_DIRTY : (int)o);
	_exit(test_failures > 0 ? RUN_DIRTY : (int)o);
}

static int
run(enum role role, long n)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		child(role, n);
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		test_fail(role_names[role], "fork failed");
		return RUN_DIRTY;
	}
	if (WIFSIGNALED(status)) {
		test_fail(role_names[role],
		    "allocation %ld failing: got %s, "
		    "want a clean error",
		    n,
		    WTERMSIG(status) == SIGALRM ? "a hang"
		                                : strsignal(WTERMSIG(status)));
		return RUN_DIRTY;
	}
	if (WEXITSTATUS(status) == RUN_DIRTY)
		test_fail(role_names[role],
		    "allocation %ld failing: the run "
		    "above was not clean",
		    n);
	return WEXITSTATUS(status);
}

/* Every N for one role; the number of allocations it counted. */
static long
sweep(enum role role)
{
	long n;
	int o, failed = 0;

	for (n = 1;; n++) {
		o = run(role, n);
		if (o == RUN_FAILED)
			failed++;
		if (o == RUN_DONE_UNTOUCHED || test_failures > MAX_FAILURES)
			break;
	}
	printf("   %-8s %5ld allocations, each failed once: %d runs ended "
	       "in a clean error, %ld completed\n",
	    role_names[role], n - 1, failed, n - 1 - failed);
	return n - 1;
}

/* SSLPORT_ALLOC_RUN=<role>:<n> runs that one case in this process. */
static int
one_run(const char *spec)
{
	enum role r;
	long n;

	for (r = ROLE_SETUP; r <= ROLE_SERVER; r++) {
		size_t len = strlen(role_names[r]);

		if (strncmp(spec, role_names[r], len) == 0 && spec[len] == ':')
			break;
	}
	n = r <= ROLE_SERVER ? atol(strchr(spec, ':') + 1) : 0;
	if (n < 1) {
		fprintf(stderr,
		    "SSLPORT_ALLOC_RUN: want <role>:<n>, role "
		    "one of set-up, client, server\n");
		return 2;
	}
#if ALLOC_HOOKS
	show_failing = 1;
#endif
	child(r, n);
	return 0;
}

int
main(void)
{
	const char *only = getenv("SSLPORT_ALLOC_RUN");
	enum role r;

	/* Load OpenSSL and its one-time state before counting starts. */
	if (scenario() != RUN_DONE || scenario() != RUN_DONE) {
		test_fail("scenario", "got a failure, want it done");
		return 1;
	}
	if (!ALLOC_HOOKS) {
		printf("test_alloc: allocation failures not injected under "
		       "AddressSanitizer; the scenario ran\n");
		return test_failures != 0;
	}
	dl_iterate_phdr(add_range, NULL);
	if (nranges < 3) {
		test_fail("ranges",
		    "got %d code ranges, want this program, "
		    "libcrypto and libssl",
		    nranges);
		return 1;
	}
	if (only != NULL)
		return one_run(only);
	for (r = ROLE_SETUP; r <= ROLE_SERVER; r++)
		sweep(r);
	if (test_failures != 0)
		return 1;
	printf("test_alloc: ok\n");
	return 0;
}
