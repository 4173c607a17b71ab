"""The examples of docs/library.md and of the package's README (PyPI's page)
run as written, against the real kernel."""

import contextlib
import io
import os
import re

import pytest
from vswitch_odp import Client, errors

REPO = os.path.join(os.path.dirname(__file__), "..", "..", "..")
DOC = os.path.join(REPO, "docs", "library.md")
PACKAGE_README = os.path.join(REPO, "README-pypi.md")


def python_examples(path):
    with open(path) as handle:
        return [
            (path, source) for source in re.findall(r"```python\n(.*?)```", handle.read(), re.S)
        ]


EXAMPLES = python_examples(DOC) + python_examples(PACKAGE_README)


def test_the_docs_have_examples():
    paths = [example[0] for example in EXAMPLES]
    assert paths.count(DOC) >= 5
    assert PACKAGE_README in paths


@pytest.fixture(autouse=True)
def no_doc_datapath_left():
    """The examples make datapath docdp; a failing one must not break the next."""
    yield
    with Client() as odp:
        try:
            odp.delete_datapath("docdp")
        except errors.NoSuchDatapath:
            pass


@pytest.mark.parametrize(
    "path, source",
    EXAMPLES,
    ids=[
        os.path.basename(path) + ":" + source.splitlines()[-2].strip()[:40]
        for path, source in EXAMPLES
    ],
)
def test_example_runs(path, source):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, path, "exec"), {})  # pylint: disable=exec-used
    assert printed.getvalue().strip(), "an example shows what it does"
