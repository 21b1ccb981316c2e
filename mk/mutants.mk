# make mutants: the mutation run (tools/mutants/run).  Each
# tools/mutants/NN-name.patch plants one small fault in a copy of the
# reference, built and tested under $(BUILD)/mutants/<name>/; every mutant
# must fail some conformance test.  The unmutated copy must pass first.
#   make mutants MUTANTS=07-alpn-client-order,12   some mutants only
#   make mutants PYTEST_ARGS='-m "not heavy"'      a lighter suite
# The table goes to the terminal, the details to $(BUILD)/mutants/report.json.

MUTANTS ?=

.PHONY: mutants

mutants: export MUTANTS := $(MUTANTS)
mutants: export JOBS := $(JOBS)
mutants: export BUILD := $(BUILD)
mutants: export PYTHON := $(PYTHON)
mutants: export PYTEST_ARGS := $(PYTEST_ARGS)

mutants: deps
	@tools/deps check mutants
	tools/mutants/run
