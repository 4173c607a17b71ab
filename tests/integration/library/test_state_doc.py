"""docs/state.md as written: its YAML example, its Python examples and the
output and errors it quotes, against the real kernel."""

import contextlib
import io
import os
import re

import pytest
from conftest import run
from vswitch_odp import Client, errors
from vswitch_odp.state import formats
from vswitch_odp.state.document import parse_document
from vswitch_odp.state.links import LinkChange, apply_links
from vswitch_odp.state.plan import plan
from vswitch_odp.state.show import show

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "state.md")
with open(DOC) as handle:
    TEXT = handle.read()
EXAMPLES = re.findall(r"```python\n(.*?)```", TEXT, re.S)
(FULL_EXAMPLE,) = [
    block
    for block in re.findall(r"```yaml\n(.*?)```", TEXT, re.S)
    if block.startswith("version: 1\n")
]
# A Python example followed by "prints" and the indented output it prints.
PRINTS = re.findall(r"```python\n([^`]*)```\n\nprints\n\n((?:    [^\n]*\n)+)", TEXT, re.S)
needs_yaml = pytest.mark.skipif(
    not formats.have_yaml(),
    reason="the full example is YAML, and PyYAML is not installed in this venv",
)


def test_the_doc_has_examples():
    assert len(EXAMPLES) >= 4 and len(PRINTS) == 1


@pytest.fixture(autouse=True)
def no_doc_datapath_left(kernel):
    yield
    with Client() as odp:
        for name in ("docdp", "ovl"):
            try:
                odp.delete_datapath(name)
            except errors.NoSuchDatapath:
                pass


def execute(source):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, DOC, "exec"), {})  # pylint: disable=exec-used
    return printed.getvalue()


@pytest.mark.parametrize("source", EXAMPLES, ids=lambda s: s.splitlines()[-2].strip()[:40])
def test_example_runs(source):
    assert execute(source).strip(), "an example shows what it does"


def test_the_plan_example_prints_what_the_doc_says():
    ((source, output),) = PRINTS
    assert execute(source) == "".join(line[4:] + "\n" for line in output.splitlines())


@pytest.fixture
def tap():
    """The full example's netdev vport: an existing device, as a VM's tap is."""
    run("ip", "link", "add", "vm1-tap", "type", "veth", "peer", "name", "vm1-peer")
    yield "vm1-tap"
    run("ip", "link", "delete", "vm1-tap", check=False)


def build(client, document):
    """Make what ``document`` declares with the client's own calls."""
    for name, datapath in document.datapaths.items():
        client.create_datapath(name)
        for vport in datapath.vports.values():
            client.create_vport(
                name, vport.name, vport.type, port=vport.port, port_no=vport.port_no
            )
        links = [(name, datapath.link)] + [(v.name, v.link) for v in datapath.vports.values()]
        apply_links([LinkChange(device, None, link) for device, link in links if link])
        assert not any(client.put_flows(name, datapath.flows()))


@needs_yaml
def test_the_full_example_shows_back_to_itself(tap):
    desired = parse_document(formats.load(FULL_EXAMPLE, "docs/state.md"))
    assert tap in desired.datapaths["ovl"].vports
    with Client() as client:
        build(client, desired)
        current = show(client, ["ovl"])
        assert not plan(current, desired), plan(current, desired).lines()
        for fmt in ("yaml", "json"):
            again = parse_document(formats.load(formats.dump(current.to_dict(), fmt)))
            assert not plan(current, again)
            assert not plan(again, desired)
        shown = current.to_dict()["datapaths"]["ovl"]
        declared = desired.to_dict()["datapaths"]["ovl"]
        assert shown["vports"].keys() == declared["vports"].keys()
        for name, vport in declared["vports"].items():
            got = shown["vports"][name]
            assert dict(got, link=None) == dict(vport, link=None)
            # What the example declares of a link is what the kernel has.
            assert dict(got.get("link", {}), **vport.get("link", {})) == got.get("link", {})
        assert len(shown["flows"]) == len(declared["flows"])


@needs_yaml
def test_the_errors_the_doc_quotes():
    data = formats.load(FULL_EXAMPLE)
    data["datapaths"]["ovl"]["flows"][3]["match"]["eth"]["src"] = "02:xx"
    bad_type = formats.load(FULL_EXAMPLE)
    bad_type["datapaths"]["ovl"]["vports"]["red"]["type"] = "internl"
    udp = {
        "version": 1,
        "datapaths": {
            "ovl": {"vports": {"ovl-vxlan": {"type": "vxlan"}}},
            "edge": {"vports": {"gen": {"type": "geneve", "port": 4789}}},
        },
    }
    raised = []
    for document in (data, bad_type, udp):
        with pytest.raises(errors.ValidationError) as caught:
            parse_document(document)
        raised.append(str(caught.value))
    for text in ("version: 1\ndatapaths:\n  ovl: {}\n  ovl: {}\n", b"\x00\x01\x02"):
        with pytest.raises(errors.ValidationError) as caught:
            formats.load(text, "s.yml")
        raised.append(str(caught.value))
    quoted = re.search(r"## Errors\n.*?\n\n((?:    [^\n]*\n)+)", TEXT, re.S).group(1)
    assert raised == [line[4:] for line in quoted.splitlines()]
