"""The release's files, read once for tests/packaging (host only, no kernel)."""

import ast
import os

import pytest
import tomllib
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The license: LICENSE holds its text.
SPDX = "GPL-3.0-or-later"


def repo_path(*parts):
    return os.path.join(REPO, *parts)


def read_text(*parts):
    with open(repo_path(*parts), encoding="utf-8") as handle:
        return handle.read()


def read_yaml(*parts):
    return yaml.safe_load(read_text(*parts))


def library_version():
    """vswitch_odp.__version__, read from the source (not imported: the
    editable install could point at another checkout)."""
    tree = ast.parse(read_text("plugins", "module_utils", "odp", "__init__.py"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__version__"]:
            return ast.literal_eval(node.value)
    raise AssertionError("plugins/module_utils/odp/__init__.py has no __version__")


@pytest.fixture(scope="session")
def pyproject():
    with open(repo_path("pyproject.toml"), "rb") as handle:
        return tomllib.load(handle)


@pytest.fixture(scope="session")
def galaxy():
    return read_yaml("galaxy.yml")
