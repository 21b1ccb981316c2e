# make bench: the reference against OpenSSL called directly, Racket's
# openssl and Python's ssl (tools/bench/run; README.md, "Benchmarks").
# The reference's program is built from the public header and the
# static library; only the baseline links -lssl -lcrypto.
#   make bench BENCH_SCALE=0.1     a quick run, a tenth of the work
#   make bench BENCH_ONLY=hash     some workloads only
#   make bench BENCH_SUITE=1       also time make check and make memcheck
#   make bench BENCH_RUNS=9 BENCH_PAIRS=2   rounds, and turns of the
#                                  reference and baseline in each

BENCH_SCALE ?= 1
BENCH_RUNS ?= 5
BENCH_PAIRS ?= 6
BENCH_ONLY ?=
BENCH_SUITE ?=
BENCH_CFLAGS = -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wshadow -pthread
BENCH_BIN = $(BUILD)/bench/reference $(BUILD)/bench/baseline

.PHONY: bench

$(BUILD)/bench/reference: tools/bench/reference.c tools/bench/bench.c \
		tools/bench/bench.h ref/include/sslport.h $(STLIB)
	@mkdir -p $(@D)
	$(CC) -Iref/include $(BENCH_CFLAGS) $(CFLAGS) -o $@ \
		tools/bench/reference.c tools/bench/bench.c $(STLIB) -ldl

$(BUILD)/bench/baseline: tools/bench/baseline.c tools/bench/bench.c \
		tools/bench/bench.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(CFLAGS) -o $@ \
		tools/bench/baseline.c tools/bench/bench.c -lssl -lcrypto

bench: deps $(BENCH_BIN)
	@tools/deps check racket
	BENCH_SCALE=$(BENCH_SCALE) BENCH_RUNS=$(BENCH_RUNS) BENCH_PAIRS=$(BENCH_PAIRS) \
		BENCH_ONLY=$(BENCH_ONLY) BENCH_SUITE=$(BENCH_SUITE) \
		BUILD=$(BUILD) tools/bench/run
