"""Unit-test settings shared by every test module.

The tests run two ways, and import the same way in both:

* ``ansible-test units`` (tests/sanity/run --units) runs them from a copy of
  the collection under ansible_collections/vswitch/odp, with Ansible's
  collection loader;
* plain pytest (tests/run-all) runs them from the checkout, on each venv.

Modules and module_utils are imported as ``ansible_collections.vswitch.odp...``:
in a plain run, that name is mapped here onto this checkout (in memory: no
directory is made). The library is imported as ``vswitch_odp``, the name its
users import: the installed package where there is one (the venvs' editable
install, the wheel), else this checkout's plugins/module_utils/odp, loaded
under that name as the editable install does. A test imports a helper of its
directory by module name (``from kernel_interface import ...``): each test
directory is on sys.path, as plain pytest puts it there (basenames are unique).
"""

import importlib.machinery
import importlib.util
import os
import sys

import hypothesis
import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTION = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)
sys.path[1:1] = sorted(
    top
    for top, _dirs, files in os.walk(os.path.join(TESTS, "unit"))
    if any(name.startswith("test_") for name in files)
)
import fault_count  # noqa: E402 pylint: disable=wrong-import-position
from fault_count import pytest_runtest_logreport, pytest_terminal_summary  # noqa: E402,F401 pylint: disable=wrong-import-position,unused-import


def _package(name, path=None):
    """The package ``name`` in sys.modules: its submodules are found in ``path``."""
    if name not in sys.modules:
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [path] if path else []
        sys.modules[name] = importlib.util.module_from_spec(spec)
    return sys.modules[name]


def _map_the_collection():
    try:
        import ansible_collections.vswitch.odp  # noqa: F401 pylint: disable=unused-import

        return  # ansible-test's collection loader, or a collections tree on sys.path
    except ImportError:
        pass
    _package("ansible_collections").vswitch = _package("ansible_collections.vswitch")
    _package("ansible_collections.vswitch").odp = _package(
        "ansible_collections.vswitch.odp", COLLECTION
    )


def _find_the_library():
    """Whether vswitch_odp is installed (else it is loaded from the checkout)."""
    if importlib.util.find_spec("vswitch_odp") is not None:
        return True
    source = os.path.join(COLLECTION, "plugins", "module_utils", "odp")
    spec = importlib.util.spec_from_file_location(
        "vswitch_odp", os.path.join(source, "__init__.py"), submodule_search_locations=[source]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["vswitch_odp"] = module
    spec.loader.exec_module(module)
    return False


_map_the_collection()
INSTALLED = _find_the_library()

# CI must be repeatable: a property test that finds a bug does so on every run
# (hypothesis prints the failing example); developers keep exploring at random.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")


def pytest_configure(config):
    # Bad input and faults thrown at the library (issue 15): `pytest -m fault`.
    fault_count.pytest_configure(config)
    config.addinivalue_line(
        "markers",
        "installed: runs odp in a new process, which needs "
        "vswitch_odp installed in this Python (skipped otherwise)",
    )


def pytest_collection_modifyitems(items):
    if INSTALLED:
        return
    skip = pytest.mark.skip(
        reason="vswitch_odp is not installed in this Python (ansible-test "
        "units loads it from the collection): a new process cannot run odp"
    )
    for item in items:
        if item.get_closest_marker("installed"):
            item.add_marker(skip)
