"""Unit-test settings shared by every test module."""

import os

import hypothesis

# CI must be repeatable: a property test that finds a bug does so on every run
# (hypothesis prints the failing example); developers keep exploring at random.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")


def pytest_configure(config):
    # Bad input and faults thrown at the library (issue 15): `pytest -m fault`.
    config.addinivalue_line("markers", "fault: bad input that must be refused cleanly")
