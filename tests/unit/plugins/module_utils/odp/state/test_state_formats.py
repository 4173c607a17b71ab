"""State documents as YAML and JSON text: round trips and clean errors."""

import importlib
import json

import pytest
from test_state_document import BASE
from vswitch_odp.state import formats
from vswitch_odp.state.checks import DocumentError
from vswitch_odp.state.document import parse_document

needs_yaml = pytest.mark.skipif(
    not formats.have_yaml(),
    reason="PyYAML is not installed in this venv (the JSON path is tested instead)",
)


@pytest.mark.parametrize("fmt", ["json", pytest.param("yaml", marks=needs_yaml)])
def test_round_trip(fmt):
    normal = parse_document(BASE).to_dict()
    text = formats.dump(normal, fmt)
    assert parse_document(formats.load(text, "s." + fmt)).to_dict() == normal
    assert formats.dump(parse_document(formats.load(text)).to_dict(), fmt) == text


@needs_yaml
def test_yaml_is_written_as_people_write_it():
    text = formats.dump(parse_document(BASE).to_dict(), "yaml")
    assert text.startswith("version: 1\ndatapaths:\n")
    assert "\n    - key: in_port(red),eth(dst=02:00:00:00:00:02)\n" in text
    # Long flows stay on one line; a MAC that YAML 1.1 would read as a number is quoted.
    assert all(len(line) < 200 for line in text.splitlines())
    doc = parse_document(BASE).to_dict()
    doc["datapaths"]["ovl"]["vports"]["red"]["link"]["mac"] = "12:34:56:00:00:01"
    assert "mac: '12:34:56:00:00:01'" in formats.dump(doc, "yaml")


@needs_yaml
def test_libyaml_and_pure_python_yaml_agree(monkeypatch):
    """formats uses libyaml when PyYAML has it; the text must not depend on it."""
    data = parse_document(BASE).to_dict()
    fast = formats.dump(data, "yaml")
    monkeypatch.setattr(formats, "_dumper", lambda module: module.SafeDumper)
    assert formats.dump(data, "yaml") == fast


@needs_yaml
def test_yaml_reads_json_and_yaml_flow_style():
    assert formats.load('{"version": 1}') == {"version": 1}
    assert formats.load("{version: 1, datapaths: {}}") == {"version": 1, "datapaths": {}}


def test_json_is_json():
    text = formats.dump(parse_document(BASE).to_dict(), "json")
    assert json.loads(text)["datapaths"]["ovl"]["vports"]["ovl-vxlan"]["port"] == 4789


@pytest.mark.parametrize(
    "text, value, reason",
    [
        (b"\x7fELF\x02\x01\x01\x00\x00", "binary data", "not a text file"),
        (b"version: 1\n\xff\xfe", "byte 11", "not UTF-8 text"),
        ("", "", "empty"),
        ("  \n", "  \n", "empty"),
        ('{"version": 1, "version": 2}', "version", "given twice"),
        ('{"version": 1, ', None, "not "),
    ],
)
def test_bad_text(text, value, reason):
    with pytest.raises(DocumentError) as caught:
        formats.load(text, "s.yml")
    assert caught.value.field == "s.yml"
    if value is not None:
        assert caught.value.value == value
    assert reason in caught.value.reason


@needs_yaml
@pytest.mark.parametrize(
    "text, value, reason",
    [
        ("version: 1\ndatapaths: [\n", "line 3, column 1", "not YAML"),
        (
            "version: 1\ndatapaths:\n  ovl: {}\n  ovl: {}\n",
            "ovl",
            "given twice in one mapping (line 4, column 3)",
        ),
        ("a: !!python/object:os.system ls\n", "line 1, column 4", "not YAML"),
    ],
)
def test_bad_yaml(text, value, reason):
    with pytest.raises(DocumentError) as caught:
        formats.load(text, "s.yml")
    assert (caught.value.field, caught.value.value) == ("s.yml", value)
    assert reason in caught.value.reason


@needs_yaml
def test_unquoted_mac_reads_as_a_number_and_is_refused():
    data = formats.load("version: 1\ndatapaths:\n  ovl:\n    link: {mac: 12:34:56:00:00:01}\n")
    with pytest.raises(DocumentError) as caught:
        parse_document(data)
    assert caught.value.field == "datapaths.ovl.link.mac"
    assert "quote it" in caught.value.reason


def test_unknown_format():
    with pytest.raises(DocumentError) as caught:
        formats.dump({}, "toml")
    assert caught.value.field == "format"


@pytest.fixture
def without_yaml(monkeypatch):
    """formats as it is on a host without PyYAML."""
    import builtins  # pylint: disable=import-outside-toplevel

    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "yaml" or name.startswith("yaml."):
            raise ImportError("No module named 'yaml'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    # PyYAML is imported on first use: refused throughout the test.
    yield importlib.reload(formats)
    monkeypatch.undo()
    importlib.reload(formats)


def test_without_pyyaml_json_works_and_yaml_says_what_to_install(without_yaml):
    assert not without_yaml.have_yaml()
    normal = parse_document(BASE).to_dict()
    text = without_yaml.dump(normal, "json")
    assert parse_document(without_yaml.load(text)).to_dict() == normal
    with pytest.raises(DocumentError) as caught:
        without_yaml.dump(normal, "yaml")
    assert "python3-yaml" in caught.value.reason
    with pytest.raises(DocumentError) as caught:
        without_yaml.load("version: 1\n", "s.yml")
    assert caught.value.value == "line 1, column 1"
    assert "not JSON" in caught.value.reason and "python3-yaml" in caught.value.reason


def test_a_json_document_is_read_without_importing_pyyaml(monkeypatch):
    import builtins  # pylint: disable=import-outside-toplevel

    real_import = builtins.__import__
    imported = []

    def recording(name, *args, **kwargs):
        imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", recording)
    try:
        module = importlib.reload(formats)
        assert module.load('{"version": 1}') == {"version": 1}
        assert "yaml" not in imported
    finally:
        monkeypatch.undo()
        importlib.reload(formats)
