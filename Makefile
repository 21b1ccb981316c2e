# sslport: build the reference, run the conformance suite.
#   make            the library (shared and static) and its shim
#   make check      the conformance suite against IMPL (default: ref)
#   make test       everything: C unit tests, the suite, its self-checks
# See README.md for the rest.

BUILD ?= build
IMPL ?= ref
JOBS ?= 2
PREFIX ?= /usr/local
DESTDIR ?=

# Debian's own interpreter has pytest; another python3 may come first on
# PATH, so look for the first one that can import pytest.
PYTHON ?= $(shell for p in /usr/bin/python3 python3; do \
	$$p -c 'import pytest' >/dev/null 2>&1 && { echo $$p; break; }; done)

CC ?= cc
SAN ?=
OPT ?= -O2
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -Wshadow \
	-Wno-unused-parameter -fPIC -pthread $(SAN)
CPPFLAGS_BASE = -Iref/include -Iref/src -I$(BUILD)/gen
LDFLAGS_BASE = -pthread $(SAN)

SOVERSION = 0
LIB_SRC = $(wildcard ref/src/*.c)
LIB_OBJ = $(LIB_SRC:ref/src/%.c=$(BUILD)/obj/%.o)
SHIM_SRC = $(wildcard ref/shim/*.c)
SHIM_OBJ = $(SHIM_SRC:ref/shim/%.c=$(BUILD)/obj/shim/%.o)
TEST_SRC = $(wildcard ref/tests/test_*.c)
TEST_BIN = $(TEST_SRC:ref/tests/%.c=$(BUILD)/tests/%)

SHLIB = $(BUILD)/lib/libsslport.so.$(SOVERSION)
STLIB = $(BUILD)/lib/libsslport.a
SHIM = $(BUILD)/bin/sslport-shim
REDIRECT = $(BUILD)/gen/ossl_redirect.h

.PHONY: all lib shim check test unit selftest coverage deps certs lint \
	memcheck asan fuzz clean FORCE

all: lib shim

lib: $(SHLIB) $(STLIB)
shim: $(SHIM)

$(REDIRECT): ref/src/ossl_syms.def
	@mkdir -p $(@D)
	sed -n 's/^SSLPORT_SYM([a-z]*, *\([A-Za-z0-9_]*\))$$/#define \1 (sslport_ossl.\1)/p' $< > $@

$(BUILD)/obj/%.o: ref/src/%.c ref/src/*.h ref/include/sslport.h $(REDIRECT)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_BASE) $(CFLAGS_BASE) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/shim/%.o: ref/shim/%.c ref/shim/*.h ref/include/sslport.h
	@mkdir -p $(@D)
	$(CC) -Iref/include -Iref/shim $(CFLAGS_BASE) $(CFLAGS) -c -o $@ $<

# -z defs: any OpenSSL symbol reached without the loader fails the link.
$(SHLIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libsslport.so.$(SOVERSION) -Wl,-z,defs \
		$(LDFLAGS_BASE) $(LDFLAGS) -o $@ $^ -ldl
	ln -sf libsslport.so.$(SOVERSION) $(BUILD)/lib/libsslport.so

$(STLIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(SHIM): $(SHIM_OBJ) $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $(SHIM_OBJ) $(STLIB) \
		-ljansson -ldl

$(BUILD)/tests/%: ref/tests/%.c ref/tests/*.h $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_BASE) -Iref/tests $(CFLAGS_BASE) $(CFLAGS) \
		$(LDFLAGS_BASE) -o $@ $< $(STLIB) -ldl

deps:
	@tools/deps check

certs:
	tools/mkcerts certs

SUITE = $(PYTHON) -m pytest -c conformance/pytest.ini

check: deps all
	$(SUITE) conformance/tests --impl="$(IMPL)" -n $(JOBS) $(PYTEST_ARGS)

# UNIT_HEAVY=1: the largest cases too (16 MiB over one-byte pipes).
UNIT_HEAVY ?=
UNIT_ENV = $(if $(UNIT_HEAVY),SSLPORT_TEST_HEAVY=1)

unit: deps $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; $(UNIT_ENV) $$t; done

selftest: deps all
	$(SUITE) conformance/selftest -n $(JOBS) $(PYTEST_ARGS)

coverage: deps
	$(PYTHON) tools/spec-coverage

test: deps all unit coverage selftest check

lint:
	clang-format --dry-run --Werror ref/include/*.h ref/src/*.[ch] \
		ref/shim/*.[ch] ref/tests/*.[ch]

# memcheck: the suite with the shim under valgrind.  Any error, or memory
# definitely or indirectly lost, makes the shim exit 97, which fails the test
# it served with valgrind's report attached.  Valgrind slows the shim some
# twentyfold, so the harness stretches its waits (SSLPORT_TIMEOUT_SCALE) and
# tests marked heavy are left out.
MEMCHECK_SCALE ?= 10
VALGRIND = valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=97 --show-leak-kinds=definite,indirect \
	--num-callers=40 --suppressions=$(CURDIR)/tools/valgrind.supp --quiet
MEMCHECK_IMPL = $(if $(filter ref,$(IMPL)),$(SHIM),$(IMPL))
MEMCHECK_NAME = $(if $(filter ref,$(IMPL)),ref,custom)

memcheck: deps all
	@tools/deps check memcheck
	@heavy=$$($(SUITE) conformance/tests -m heavy --collect-only -q \
		--impl="$(MEMCHECK_IMPL)" -p no:cacheprovider 2>/dev/null \
		| grep '::' || true); \
	echo "memcheck: leaving out $$(echo "$$heavy" | grep -c '::')" \
		"tests marked heavy (too slow under valgrind):"; \
	echo "$$heavy" | sed 's/^/  /'
	SSLPORT_TIMEOUT_SCALE=$(MEMCHECK_SCALE) $(SUITE) conformance/tests \
		-m "not heavy" -n $(JOBS) -o timeout=$$((60 * $(MEMCHECK_SCALE))) \
		--impl="$(VALGRIND) $(MEMCHECK_IMPL)" --impl-name=$(MEMCHECK_NAME) \
		--results-dir=$(BUILD)/results/$(MEMCHECK_NAME)-memcheck \
		$(PYTEST_ARGS)

# asan: the reference, its shim and the C tests built with AddressSanitizer
# and UndefinedBehaviorSanitizer (build/asan; gcc's, whose runtime the
# shared library can link under -z defs, unlike clang's); any report
# stops the program that made it, which fails its C test or the test the
# shim served.  The C tests also check for leaks at exit.
ASAN_SCALE ?= 3
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
ASAN_TESTS = $(TEST_BIN:$(BUILD)/%=build/asan/%)
ASAN_ENV = ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
	UBSAN_OPTIONS=print_stacktrace=1

asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan CC=gcc OPT=-O1 \
		SAN="$(ASAN_FLAGS)" all $(ASAN_TESTS)
	@set -e; for t in $(ASAN_TESTS); do \
		echo "== $$t"; $(ASAN_ENV) $$t; done
	$(ASAN_ENV) SSLPORT_TIMEOUT_SCALE=$(ASAN_SCALE) $(SUITE) conformance/tests \
		-n $(JOBS) -o timeout=$$((60 * $(ASAN_SCALE))) \
		--impl=build/asan/bin/sslport-shim --impl-name=ref \
		--results-dir=build/asan/results/ref $(PYTEST_ARGS)

# Fuzzing with libFuzzer: each ref/fuzz/fuzz_<name>.c runs for
# FUZZ_SECONDS on its corpus fixtures/corpus/<name>/ (a copy, so that new
# inputs stay under build/).  FUZZ_TARGETS picks some by name, FUZZ_ARGS
# adds libFuzzer flags (FUZZ_ARGS=-runs=1000000 stops each target after
# that many executions, if that comes before FUZZ_SECONDS); a crash
# stops the run, its input kept in build/fuzz/artifacts/<name>/ and the
# whole output in build/fuzz/<name>.log.
FUZZ_SECONDS ?= 60
FUZZ_SRC = $(wildcard ref/fuzz/fuzz_*.c)
FUZZ_TARGETS ?= $(FUZZ_SRC:ref/fuzz/fuzz_%.c=%)
FUZZ_BIN = $(FUZZ_TARGETS:%=build/fuzz/bin/fuzz_%)
FUZZ_LIB = build/fuzz/lib/libsslport.a
FUZZ_CC = clang -Iref/include -Iref/src -Ibuild/fuzz/gen -std=c11 \
	-D_GNU_SOURCE -O1 -g -fsanitize=address,undefined,fuzzer -pthread

# The library is rebuilt by a make of its own (BUILD=build/fuzz); the
# targets relink only when it changed.
ifneq ($(BUILD),build/fuzz)
$(FUZZ_LIB): FORCE
	@tools/deps check fuzz
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT=-O1 \
		SAN="-fsanitize=address,undefined,fuzzer-no-link" $@
endif

# The shim's request decoding: shim.c without its main().
build/fuzz/bin/fuzz_shim: ref/fuzz/fuzz_shim.c $(SHIM_SRC) ref/shim/*.h \
		$(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) -DSSLPORT_FUZZ -Iref/shim -o $@ $< $(SHIM_SRC) \
		$(FUZZ_LIB) -ljansson -ldl

build/fuzz/bin/fuzz_%: ref/fuzz/fuzz_%.c ref/fuzz/*.h $(FUZZ_LIB)
	@mkdir -p $(@D)
	$(FUZZ_CC) -o $@ $< $(FUZZ_LIB) -ldl

fuzz: $(FUZZ_BIN)
	@set -e; for n in $(FUZZ_TARGETS); do \
		mkdir -p build/fuzz/corpus/$$n build/fuzz/artifacts/$$n; \
		cp -r fixtures/corpus/$$n/. build/fuzz/corpus/$$n/ 2>/dev/null || true; \
		echo "== fuzz_$$n ($(FUZZ_SECONDS) s)"; \
		status=0; build/fuzz/bin/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) \
			-timeout=20 -print_final_stats=1 $(FUZZ_ARGS) \
			-artifact_prefix=build/fuzz/artifacts/$$n/ \
			build/fuzz/corpus/$$n >build/fuzz/$$n.log 2>&1 || status=$$?; \
		grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|^artifact|Test unit written' \
			build/fuzz/$$n.log || true; \
		if [ $$status != 0 ]; then \
			echo "fuzz_$$n failed (status $$status): build/fuzz/$$n.log"; \
			exit 1; \
		fi; \
	done

FORCE:

clean:
	rm -rf $(BUILD)

include mk/install.mk
include mk/man.mk
include mk/examples.mk
include mk/report.mk
include mk/bench.mk
include mk/mutants.mk
include mk/fuzz.mk
