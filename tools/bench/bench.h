/*
 * bench.h: what the two benchmark programs share, the reference's
 * (reference.c) and the plain OpenSSL one (baseline.c): clocks, memory,
 * the data pattern, arguments and the one JSON line each run prints.
 * Neither program links the other's library through this file.
 */
#ifndef SSLPORT_BENCH_H
#define SSLPORT_BENCH_H

#include <stddef.h>

/* Seconds on the monotonic clock. */
double bench_now(void);
/* Seconds of CPU the whole process has used (all threads, user + sys). */
double bench_cpu(void);
/* The resident set of the process, in KiB, or -1. */
long bench_rss_kib(void);
/* Let the process open at least `n` descriptors; 0, or -1. */
int bench_raise_nofile(long n);

/* "123", "16K", "1M", "1G" (powers of 1024); 0 for anything else. */
size_t bench_size(const char *s);
/* A positive count, or 0. */
long bench_count(const char *s);
/* Fill `buf` with the pattern both programs send and hash. */
void bench_fill(unsigned char *buf, size_t n);
/* Lower-case hex of `len` bytes into `out` (room for 2*len+1). */
void bench_hex(const unsigned char *md, size_t len, char *out);

/*
 * Keep the calling thread on CPU `cpu` (modulo the CPUs there are).  The
 * client runs on CPU 0 and the server on CPU 1 in both programs, so that
 * the two ends never share a CPU or move between runs.
 */
void bench_pin(int cpu);

/* Exit 1 with "bench: <message>" on stderr. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A run's result, printed as one JSON line on stdout.  `rate` is in
 * `unit` (bigger is better, except for "KiB/connection"); `check` names
 * what the run checked (the negotiated suite, a digest).
 */
struct bench_result {
	const char *workload;
	const char *impl;
	double rate;
	const char *unit;
	double seconds;
	double cpu;
	double amount;
	const char *check;
};

void bench_print(const struct bench_result *r);

#endif /* SSLPORT_BENCH_H */
