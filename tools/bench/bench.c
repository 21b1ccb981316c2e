/*
 * bench.c: clocks, memory, arguments and output for the benchmark
 * programs (bench.h).
 */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

long
bench_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

int
bench_raise_nofile(long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur >= (rlim_t)n)
		return 0;
	if (rl.rlim_max < (rlim_t)n)
		return -1;
	rl.rlim_cur = (rlim_t)n;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

size_t
bench_size(const char *s)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	v = strtoull(s, &end, 10);
	if (strcmp(end, "K") == 0)
		v <<= 10;
	else if (strcmp(end, "M") == 0)
		v <<= 20;
	else if (strcmp(end, "G") == 0)
		v <<= 30;
	else if (*end != '\0')
		return 0;
	return (size_t)v;
}

long
bench_count(const char *s)
{
	char *end;
	long v;

	if (s == NULL)
		return 0;
	v = strtol(s, &end, 10);
	return *end == '\0' && v > 0 ? v : 0;
}

void
bench_fill(unsigned char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 131 + (i >> 12) * 7);
}

void
bench_hex(const unsigned char *md, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[2 * len] = '\0';
}

void
bench_die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void
bench_print(const struct bench_result *r)
{
	printf("{\"workload\": \"%s\", \"impl\": \"%s\", \"rate\": %.6g, "
	       "\"unit\": \"%s\", \"seconds\": %.6f, \"cpu\": %.6f, "
	       "\"amount\": %.0f, \"check\": \"%s\"}\n",
	    r->workload, r->impl, r->rate, r->unit, r->seconds, r->cpu,
	    r->amount, r->check != NULL ? r->check : "");
	fflush(stdout);
}

/* The CPUs the process may use, as they were before any thread was
 * pinned (main pins itself first, before it starts a thread). */
static int
allowed_cpus(cpu_set_t *set)
{
	static cpu_set_t allowed;
	static int n = -1;

	if (n < 0)
		n = sched_getaffinity(0, sizeof(allowed), &allowed) < 0
		    ? 0
		    : CPU_COUNT(&allowed);
	*set = allowed;
	return n;
}

void
bench_pin(int cpu)
{
	cpu_set_t allowed, one;
	int i, n = allowed_cpus(&allowed), want;

	if (n < 2)
		return;
	want = cpu % n;
	for (i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, &allowed) || want-- > 0)
			continue;
		CPU_ZERO(&one);
		CPU_SET(i, &one);
		pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
		return;
	}
}
