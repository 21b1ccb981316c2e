# make examples: the programs in ref/examples/, each one file, built into
# $(BUILD)/examples/ against the static library, as a user would build
# them: the public header and the archive, nothing else.

EXAMPLE_SRC = $(wildcard ref/examples/*.c)
EXAMPLE_BIN = $(EXAMPLE_SRC:ref/examples/%.c=$(BUILD)/examples/%)

.PHONY: examples

examples: $(EXAMPLE_BIN)

$(BUILD)/examples/%: ref/examples/%.c ref/include/sslport.h $(STLIB)
	@mkdir -p $(@D)
	$(CC) -Iref/include -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra \
		$(SAN) $(CFLAGS) $(LDFLAGS_BASE) $(LDFLAGS) -o $@ $< $(STLIB) -ldl

# The self-tests of the library as users get it (conformance/selftest/:
# install, manual pages, examples, SSLKEYLOGFILE) need mandoc and tshark.
.PHONY: deps-library
selftest: deps-library
deps-library:
	@tools/deps check docs capture
