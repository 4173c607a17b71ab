"""Unit-test settings shared by every test module."""

import os

import hypothesis

# CI must be repeatable: a property test that finds a bug does so on every run
# (hypothesis prints the failing example); developers keep exploring at random.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")
