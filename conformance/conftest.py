"""The conformance suite's pytest plugin lives in conformance/harness/."""

pytest_plugins = ["harness.plugin"]
