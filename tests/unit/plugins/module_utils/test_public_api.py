"""The one rule for what module_utils offers other code: the library's public
API is what docs/library.md names (everything else in it is internal), and a
module_utils file outside the library says in its header that it is private.
The typed part of that API keeps its annotations."""

import ast
import glob
import importlib
import inspect
import os
import re

import pytest
import vswitch_odp
from vswitch_odp import text, upcalls

COLLECTION = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODULE_UTILS = os.path.join(COLLECTION, "plugins", "module_utils")
PRIVATE = "Private to this collection's modules"


def public_api_section():
    with open(os.path.join(COLLECTION, "docs", "library.md")) as page:
        doc = page.read()
    return doc.split("## The public API", 1)[1].split("\n## ", 1)[0]


def named_in_docs():
    """The dotted names of the section: ``vswitch_odp.errors``, ``state.plan.plan``."""
    names = re.findall(r"`((?:vswitch_odp|state)\.[a-z_.A-Z]+)`", public_api_section())
    return sorted({n if n.startswith("vswitch_odp.") else "vswitch_odp." + n for n in names})


@pytest.mark.parametrize("dotted", named_in_docs())
def test_what_the_docs_call_public_exists(dotted):
    try:
        found = importlib.import_module(dotted)
    except ImportError:  # not a module: a name in one
        module, _dot, attr = dotted.rpartition(".")
        found = getattr(importlib.import_module(module), attr)
    assert found is not None and not dotted.rpartition(".")[2].startswith("_")


def test_the_docs_name_the_exports():
    assert set(named_in_docs()) >= {
        "vswitch_odp.errors",
        "vswitch_odp.upcalls.Listener",
        "vswitch_odp.flowplan",
    }
    for name in ("Client", "Flow"):
        assert "`%s`" % name in public_api_section() and name in vswitch_odp.__all__


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(MODULE_UTILS, "*.py"))))
def test_module_utils_outside_the_library_say_they_are_private(path):
    with open(path) as source:
        docstring = ast.get_docstring(ast.parse(source.read())) or ""
    assert PRIVATE in docstring, "%s: no %r in its header" % (path, PRIVATE)
    assert "plugins/module_utils/%s" % os.path.basename(path) in public_api_section()


def typed_callables():
    """(name, callable) of the API that must stay annotated: Client, Flow,
    the exceptions, the text syntax's entry points, Listener."""
    out = []
    for cls in (vswitch_odp.Client, vswitch_odp.Flow, upcalls.Listener):
        out += [
            ("%s.%s" % (cls.__name__, name), member)
            for name, member in vars(cls).items()
            if inspect.isfunction(member) and (not name.startswith("_") or name == "__init__")
        ]
        out += [
            ("%s.%s" % (cls.__name__, name), member.__func__)
            for name, member in vars(cls).items()
            if isinstance(member, (classmethod, staticmethod)) and not name.startswith("_")
        ]
    for name in vswitch_odp.errors.__dict__:
        value = getattr(vswitch_odp.errors, name)
        if inspect.isclass(value) and "__init__" in vars(value):
            out.append((name + ".__init__", value.__init__))
        elif inspect.isfunction(value) and not name.startswith("_"):
            out.append((name, value))
    out += [
        (name, getattr(text, name))
        for name in text.__all__
        if name.startswith(("parse_", "format_"))
    ]
    return out


@pytest.mark.parametrize(
    "name, function", typed_callables(), ids=[n for n, _f in typed_callables()]
)
def test_the_public_api_is_annotated(name, function):
    signature = inspect.signature(function)
    bare = [
        p.name
        for p in signature.parameters.values()
        if p.name not in ("self", "cls")
        and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        and p.annotation is p.empty
    ]
    assert bare == [], "%s: parameters without a type" % name
    assert signature.return_annotation is not signature.empty, "%s: no return type" % name
