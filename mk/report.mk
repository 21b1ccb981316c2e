# make report: the suite on every implementation, then one page comparing
# them (build/report/index.html and summary.md), checked in headless
# Chromium with a screenshot (build/report/screenshot.png).

REPORT_IMPLS ?= ref python racket

report: deps all
	@tools/deps check report racket
	@for i in $(REPORT_IMPLS); do \
		echo "== suite on $$i"; \
		$(SUITE) conformance/tests --impl=$$i -n $(JOBS) -q \
			--results-dir=$(BUILD)/results/$$i $(PYTEST_ARGS) | tail -3; \
	done
	$(PYTHON) tools/report --out $(BUILD)/report \
		$(addprefix $(BUILD)/results/,$(REPORT_IMPLS))
	SSLPORT_REPORT_DIR=$(BUILD)/report $(SUITE) conformance/reporttest -q

.PHONY: report
