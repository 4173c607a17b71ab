"""Counts the outcomes of tests marked ``fault`` (issue 15: bad input,
kernel refusals at every batch position, concurrent writers).

The conftests of tests/unit and tests/integration/library import the hooks
below. Each pytest run prints ``fault injection: N passed, M failed``; with
``ODP_FAULT_COUNTS`` set to a file, it also appends ``N M`` there, and
tests/run-all prints the sum over every run (host and sandbox).
"""

import os

import pytest

ENV = "ODP_FAULT_COUNTS"
_outcomes = {}  # nodeid -> "passed" / "failed" / "skipped"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "fault: bad input or a fault that must be handled "
        "cleanly (counted: fault injection: N passed, M failed)",
    )


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report):
    if "fault" not in report.keywords:
        return
    if report.failed:
        _outcomes[report.nodeid] = "failed"
    elif report.skipped:
        _outcomes.setdefault(report.nodeid, "skipped")
    elif report.when == "call":
        _outcomes.setdefault(report.nodeid, "passed")


def counts():
    values = list(_outcomes.values())
    return values.count("passed"), values.count("failed")


def pytest_terminal_summary(terminalreporter):
    passed, failed = counts()
    if not passed and not failed:
        return
    terminalreporter.write_line("fault injection: %d passed, %d failed" % (passed, failed))
    path = os.environ.get(ENV)
    if path:
        with open(path, "a") as record:
            record.write("%d %d\n" % (passed, failed))
