"""The examples of docs/library.md run as written, against the real kernel."""

import contextlib
import io
import os
import re

import pytest

from vswitch_odp import Client, errors

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "library.md")
with open(DOC) as handle:
    EXAMPLES = re.findall(r"```python\n(.*?)```", handle.read(), re.S)


def test_the_doc_has_examples():
    assert len(EXAMPLES) >= 5


@pytest.fixture(autouse=True)
def no_doc_datapath_left():
    """The examples make datapath docdp; a failing one must not break the next."""
    yield
    with Client() as odp:
        try:
            odp.delete_datapath("docdp")
        except errors.NoSuchDatapath:
            pass


@pytest.mark.parametrize("source", EXAMPLES, ids=lambda s: s.splitlines()[-2].strip()[:40])
def test_example_runs(source):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, DOC, "exec"), {})  # pylint: disable=exec-used
    assert printed.getvalue().strip(), "an example shows what it does"
