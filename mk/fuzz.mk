# make fuzz-replay: every file of fixtures/corpus/<name>/ once through
# ref/fuzz/fuzz_<name>.c, without libFuzzer; part of make test.  Each
# target's entry point is linked with ref/fuzz/replay.c, a main() that
# feeds it files, and built with gcc's AddressSanitizer and UBSan against
# a library built the same way (build/fuzz-replay), so an input that once
# crashed, leaked or failed a target's checks fails the run, with only
# the build packages installed.  make lint also checks ref/fuzz/.

REPLAY = build/fuzz-replay
REPLAY_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
REPLAY_LIB = $(REPLAY)/lib/libsslport.a
REPLAY_NAMES = $(FUZZ_SRC:ref/fuzz/fuzz_%.c=%)
REPLAY_BIN = $(REPLAY_NAMES:%=$(REPLAY)/bin/fuzz_%)
REPLAY_CC = gcc -Iref/include -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra \
	-Wno-unused-parameter -Wno-unused-function -pthread $(REPLAY_SAN)
REPLAY_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1

.PHONY: fuzz-replay lint-fuzz

test: fuzz-replay
lint: lint-fuzz

lint-fuzz:
	clang-format --dry-run --Werror ref/fuzz/*.[ch]

ifneq ($(BUILD),$(REPLAY))
$(REPLAY_LIB): FORCE
	@$(MAKE) --no-print-directory BUILD=$(REPLAY) CC=gcc OPT=-O1 \
		SAN="$(REPLAY_SAN)" $@
endif

$(REPLAY)/bin/fuzz_shim: ref/fuzz/fuzz_shim.c ref/fuzz/replay.c \
		$(SHIM_SRC) ref/shim/*.h $(REPLAY_LIB)
	@mkdir -p $(@D)
	$(REPLAY_CC) -DSSLPORT_FUZZ -Iref/shim -o $@ ref/fuzz/fuzz_shim.c \
		ref/fuzz/replay.c $(SHIM_SRC) $(REPLAY_LIB) -ljansson -ldl

$(REPLAY)/bin/fuzz_%: ref/fuzz/fuzz_%.c ref/fuzz/replay.c ref/fuzz/*.h \
		$(REPLAY_LIB)
	@mkdir -p $(@D)
	$(REPLAY_CC) -o $@ $< ref/fuzz/replay.c $(REPLAY_LIB) -ldl

fuzz-replay: deps $(REPLAY_BIN)
	@set -e; for n in $(REPLAY_NAMES); do \
		$(REPLAY_ENV) $(REPLAY)/bin/fuzz_$$n fixtures/corpus/$$n; done
