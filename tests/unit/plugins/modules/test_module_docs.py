"""The modules' documentation renders as written: every code span of
DOCUMENTATION is whole (a C() ends at the first closing parenthesis, so
flow text belongs in V() with its parentheses escaped), and the vports the
examples name are ones the examples create."""

import ast
import glob
import os

import pytest

yaml = pytest.importorskip("yaml")
parser = pytest.importorskip("antsibull_docs_parser.parser")
dom = pytest.importorskip("antsibull_docs_parser.dom")

MODULES = sorted(
    glob.glob(
        os.path.join(
            os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules", "*.py"
        )
    )
)


def documentation(path):
    with open(path) as source:
        tree = ast.parse(source.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no DOCUMENTATION" % path)


def descriptions(doc):
    """Every description text of the module, its options and their suboptions."""
    texts = [doc.get("description", [])]
    stack = list(doc.get("options", {}).values())
    while stack:
        option = stack.pop()
        texts.append(option.get("description", []))
        stack.extend(option.get("suboptions", {}).values())
    for text in texts:
        yield from [text] if isinstance(text, str) else text


def code_spans(text):
    for paragraph in parser.parse(text, parser.Context(), strict=True):
        for part in paragraph:
            if part.type in (dom.PartType.CODE, dom.PartType.OPTION_VALUE):
                yield part.text if part.type == dom.PartType.CODE else part.value


@pytest.mark.parametrize("path", MODULES, ids=os.path.basename)
def test_code_spans_are_whole(path):
    for text in descriptions(documentation(path)):
        for span in code_spans(text):
            for left, right in ("()", "{}", "[]"):
                assert span.count(left) == span.count(right), (os.path.basename(path), span)
