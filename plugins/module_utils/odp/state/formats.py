# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A state document as text: JSON always, YAML with PyYAML.

PyYAML is optional: ansible-core depends on it, Debian ships it as
python3-yaml, but a managed host or the ``odp`` zipapp may lack it, and
JSON (which is also YAML) needs nothing. A key given twice is an error in
both, not the last one winning silently. It is imported on first use: a
JSON document (the role's, the boot-time apply's) never pays for it.
"""

from __future__ import annotations

import json
from typing import Any

from .checks import DocumentError

FORMATS = ("yaml", "json")
YAML_HINT = (
    "YAML needs PyYAML: 'apt install python3-yaml' (Debian, Ubuntu) or "
    "'pip install pyyaml'; JSON works without it"
)
# Long flow keys stay on one line each.
YAML_WIDTH = 1 << 16

_LOADED: dict[str, Any] = {}  # "yaml": the module (None: missing), "loader"


def _yaml() -> Any:
    if "yaml" not in _LOADED:
        try:
            import yaml  # pylint: disable=import-outside-toplevel
        except ImportError:  # pragma: no cover - exercised by the venv without PyYAML
            yaml = None
        _LOADED["yaml"] = yaml
    return _LOADED["yaml"]


def have_yaml() -> bool:
    return _yaml() is not None


def load(text: str | bytes, source: str = "document") -> Any:
    """The data of a YAML or JSON document (``source`` names it in errors)."""
    if isinstance(text, bytes):
        if b"\0" in text:
            raise DocumentError(source, "binary data", "not a text file")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(source, "byte %d" % exc.start, "not UTF-8 text")
    if "\0" in text:
        raise DocumentError(source, "binary data", "not a text file")
    if not text.strip():
        raise DocumentError(source, text, "empty: a state document has version and datapaths")
    if text.lstrip().startswith(("{", "[")) or _yaml() is None:
        try:
            return json.loads(text, object_pairs_hook=_unique_pairs)
        except _TwiceGiven as exc:
            raise DocumentError(source, exc.key, "given twice in one mapping")
        except json.JSONDecodeError as exc:
            if _yaml() is None:
                raise DocumentError(
                    source,
                    "line %d, column %d" % (exc.lineno, exc.colno),
                    "not JSON (%s); %s" % (exc.msg, YAML_HINT),
                )
            # Not JSON, but it may be YAML: {version: 1, ...}
    yaml = _yaml()
    try:
        return yaml.load(text, Loader=_loader(yaml))  # nosec B506 - a SafeLoader
    except _TwiceGiven as exc:
        raise DocumentError(source, exc.key, "given twice in one mapping (%s)" % exc.where)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = "line %d, column %d" % (mark.line + 1, mark.column + 1) if mark else "?"
        problem = getattr(exc, "problem", None) or str(exc)
        raise DocumentError(source, where, "not YAML (%s)" % problem)


def dump(data: Any, fmt: str = "yaml") -> str:
    """``data`` (a :meth:`Document.to_dict`) as YAML or JSON text, keys in
    the order given."""
    if fmt == "json":
        return json.dumps(data, indent=2) + "\n"
    if fmt != "yaml":
        raise DocumentError("format", fmt, "must be yaml or json")
    yaml = _yaml()
    if yaml is None:
        raise DocumentError("format", fmt, YAML_HINT)
    return yaml.dump(
        data,
        Dumper=_dumper(yaml),
        sort_keys=False,
        default_flow_style=False,
        width=YAML_WIDTH,
        allow_unicode=True,
    )


class _TwiceGiven(Exception):
    def __init__(self, key, where=None):
        Exception.__init__(self, key)
        self.key = key
        self.where = where


def _unique_pairs(items):
    out = {}
    for key, value in items:
        if key in out:
            raise _TwiceGiven(key)
        out[key] = value
    return out


def _dumper(yaml) -> Any:
    """libyaml's emitter when PyYAML has it: ten times faster."""
    return getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _loader(yaml) -> Any:
    """The safe loader (libyaml's parser when PyYAML has it: ten times
    faster), refusing a key given twice in one mapping."""
    if "loader" not in _LOADED:
        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class UniqueKeyLoader(base):  # type: ignore[misc,valid-type]  # pylint: disable=too-many-ancestors
            def construct_mapping(self, node, deep=False):
                seen = set()
                for key_node, _value_node in node.value:
                    key = self.construct_object(key_node, deep=deep)
                    if key in seen:
                        mark = key_node.start_mark
                        raise _TwiceGiven(
                            key, "line %d, column %d" % (mark.line + 1, mark.column + 1)
                        )
                    seen.add(key)
                return base.construct_mapping(self, node, deep=deep)

        _LOADED["loader"] = UniqueKeyLoader
    return _LOADED["loader"]
