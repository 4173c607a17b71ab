"""Unit-test settings shared by every test module."""

import os
import sys

import hypothesis

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import fault_count  # noqa: E402 pylint: disable=wrong-import-position
from fault_count import (  # noqa: E402,F401 pylint: disable=wrong-import-position,unused-import
    pytest_runtest_logreport, pytest_terminal_summary)

# CI must be repeatable: a property test that finds a bug does so on every run
# (hypothesis prints the failing example); developers keep exploring at random.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")


def pytest_configure(config):
    # Bad input and faults thrown at the library (issue 15): `pytest -m fault`.
    fault_count.pytest_configure(config)
