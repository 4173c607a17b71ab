"""The state document's schema: what validates, and every error path."""

import copy

import pytest
from vswitch_odp.state.checks import DocumentError
from vswitch_odp.state.document import Datapath, Vport, assign_port_numbers, parse_document

BASE = {
    "version": 1,
    "datapaths": {
        "ovl": {
            "link": {"up": True},
            "vports": {
                "ovl-vxlan": {"type": "vxlan"},
                "red": {
                    "type": "internal",
                    "port_no": 5,
                    "link": {
                        "mac": "02:00:00:00:00:01",
                        "mtu": 1450,
                        "up": True,
                        "addresses": ["10.10.0.1/24", "fd00::1/64"],
                    },
                },
                "tap0": {"type": "netdev"},
            },
            "flows": [
                {
                    "key": "in_port(red),eth(dst=02:00:00:00:00:02)",
                    "actions": "set(tunnel(tun_id=0x2a,dst=198.18.0.2,ttl=64)),ovl-vxlan",
                },
                {
                    "match": {"in_port": "ovl-vxlan", "tunnel": {"tun_id": 42}},
                    "actions": [{"output": "red"}],
                },
                {
                    "match": {"in_port": "tap0"},
                    "actions": [
                        {"set": {"tunnel": {"tun_id": 7, "ipv6_dst": "2001:db8::2", "ttl": 64}}},
                        {"output": "ovl-vxlan"},
                    ],
                },
            ],
        },
        "edge": {"vports": {"gre0": {"type": "gre"}, "gen": {"type": "geneve", "port": 6082}}},
    },
}


def changed(path, value):
    """BASE with the item at ``path`` (a tuple of keys) set to ``value``
    (or removed when value is DELETE)."""
    doc = copy.deepcopy(BASE)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


DELETE = object()
DP = ("datapaths", "ovl")
RED = (*DP, "vports", "red")


def test_the_base_document_validates():
    document = parse_document(BASE)
    ovl = document.datapaths["ovl"]
    assert list(ovl.vports) == ["ovl-vxlan", "red", "tap0"]
    assert ovl.vports["ovl-vxlan"].port == 4789  # the default, filled in
    assert ovl.vports["red"].link["addresses"] == ["10.10.0.1/24", "fd00::1/64"]
    # Requested numbers hold; the others get the lowest free ones, in order.
    assert ovl.ports() == {"ovl": 0, "ovl-vxlan": 1, "red": 5, "tap0": 2}
    assert len(ovl.flows()) == 3
    assert document.datapaths["edge"].vports["gre0"].port is None


def test_to_dict_reads_back_to_the_same_document():
    once = parse_document(BASE).to_dict()
    assert parse_document(once).to_dict() == once
    assert once["datapaths"]["ovl"]["vports"]["ovl-vxlan"] == {"type": "vxlan", "port": 4789}
    assert list(once["datapaths"]) == ["edge", "ovl"]  # sorted


def test_empty_values_are_empty_sections():
    empty = {"vports": None, "flows": None}
    document = parse_document({"version": 1, "datapaths": {"a": None, "b": empty}})
    assert document.datapaths["a"].vports == {} and document.datapaths["a"].flows() == []
    assert parse_document({"version": 1}).datapaths == {}


def test_absent_datapath():
    document = parse_document({"version": 1, "datapaths": {"old": {"state": "absent"}}})
    assert not document.datapaths["old"].present
    assert document.to_dict()["datapaths"]["old"] == {"state": "absent"}


def test_a_mac_is_normalised():
    doc = changed((*RED, "link", "mac"), "2:0:0:0:0:AB")
    assert parse_document(doc).datapaths["ovl"].vports["red"].link["mac"] == "02:00:00:00:00:ab"


def test_addresses_without_prefix_are_hosts_and_sorted_once():
    doc = changed((*RED, "link", "addresses"), ["10.0.0.2", "10.0.0.1/24", "10.0.0.2/32"])
    link = parse_document(doc).datapaths["ovl"].vports["red"].link
    assert link["addresses"] == ["10.0.0.1/24", "10.0.0.2/32"]


ERRORS = [
    # (document, path, words of the reason)
    (["a", "list"], "document", "mapping with version"),
    ("version: 1", "document", "mapping with version"),
    (changed(("version",), DELETE), "version", "add version: 1"),
    (changed(("version",), 2), "version", "version 1 documents"),
    (changed(("version",), True), "version", "version 1 documents"),
    (changed(("version",), "1"), "version", "version 1 documents"),
    (changed(("datapath",), {}), "datapath", "did you mean 'datapaths'"),
    (changed(("datapaths",), ["ovl"]), "datapaths", "mapping of datapath names"),
    (changed(("datapaths", "bad/name"), {}), "datapaths.bad/name", "without '/'"),
    (
        changed(("datapaths", "sixteen-chars-xx"), {}),
        "datapaths.sixteen-chars-xx",
        "1 to 15 characters",
    ),
    (changed(DP, ["vports"]), "datapaths.ovl", "mapping of settings"),
    (changed((*DP, "vport"), {}), "datapaths.ovl.vport", "did you mean 'vports'"),
    (changed((*DP, "state"), "gone"), "datapaths.ovl.state", "present, absent"),
    (changed((*DP, "state"), "absent"), "datapaths.ovl.link", "declares nothing else"),
    (
        changed((*DP, "link"), {"mtu": 1450, "speed": 10}),
        "datapaths.ovl.link.speed",
        "unknown setting",
    ),
    (changed((*DP, "link", "up"), "yes"), "datapaths.ovl.link.up", "true or false"),
    (changed((*DP, "vports"), ["red"]), "datapaths.ovl.vports", "mapping of vport names"),
    (
        changed((*DP, "vports", "a:b"), {"type": "internal"}),
        "datapaths.ovl.vports.a:b",
        "without '/', ':'",
    ),
    (changed(RED, "internal"), "datapaths.ovl.vports.red", "mapping of settings"),
    (changed((*RED, "type"), DELETE), "datapaths.ovl.vports.red.type", "required"),
    (
        changed((*RED, "type"), "internl"),
        "datapaths.ovl.vports.red.type",
        "did you mean 'internal'",
    ),
    (changed((*RED, "typ"), "internal"), "datapaths.ovl.vports.red.typ", "did you mean 'type'"),
    (changed((*RED, "port"), 4789), "datapaths.ovl.vports.red.port", "only vxlan and geneve"),
    (
        changed((*DP, "vports", "ovl-vxlan", "port"), 0),
        "datapaths.ovl.vports.ovl-vxlan.port",
        "UDP port is an integer from 1 to 65535",
    ),
    (
        changed((*DP, "vports", "ovl-vxlan", "port"), "4789"),
        "datapaths.ovl.vports.ovl-vxlan.port",
        "integer",
    ),
    (changed((*RED, "port_no"), 0), "datapaths.ovl.vports.red.port_no", "local port"),
    (changed((*RED, "port_no"), 65535), "datapaths.ovl.vports.red.port_no", "1 to 65534"),
    (changed((*RED, "port_no"), 5.0), "datapaths.ovl.vports.red.port_no", "integer"),
    (
        changed((*DP, "vports", "tap0", "link"), {"up": True}),
        "datapaths.ovl.vports.tap0.link",
        "internal vports only",
    ),
    (
        changed((*RED, "link", "mac"), "02:xx:00:00:00:01"),
        "datapaths.ovl.vports.red.link.mac",
        "expected a MAC address",
    ),
    (
        changed((*RED, "link", "mac"), 9783936001),
        "datapaths.ovl.vports.red.link.mac",
        "quote it in YAML",
    ),
    (
        changed((*RED, "link", "mac"), "01:00:5e:00:00:01"),
        "datapaths.ovl.vports.red.link.mac",
        "multicast",
    ),
    (
        changed((*RED, "link", "mac"), "00:00:00:00:00:00"),
        "datapaths.ovl.vports.red.link.mac",
        "zero MAC",
    ),
    (changed((*RED, "link", "mtu"), 67), "datapaths.ovl.vports.red.link.mtu", "68 to 65535"),
    (changed((*RED, "link", "mtu"), True), "datapaths.ovl.vports.red.link.mtu", "integer"),
    (
        changed((*RED, "link", "addresses"), "10.0.0.1/24"),
        "datapaths.ovl.vports.red.link.addresses",
        "list of addresses",
    ),
    (
        changed((*RED, "link", "addresses"), ["10.0.0.1/24", "10.0.0.300/24"]),
        "datapaths.ovl.vports.red.link.addresses[1]",
        "CIDR form",
    ),
    (
        changed((*RED, "link", "addresses"), [17]),
        "datapaths.ovl.vports.red.link.addresses[0]",
        "CIDR form",
    ),
    (
        changed((*RED, "link", "addresses"), ["fe80::1/64"]),
        "datapaths.ovl.vports.red.link.addresses[0]",
        "link-local",
    ),
    # Uniqueness: names are the host's devices, numbers a datapath's, UDP ports the host's.
    # The later one is reported, naming the earlier one (document order).
    (
        changed(("datapaths", "edge", "vports", "red"), {"type": "internal"}),
        "datapaths.edge.vports.red",
        "already vport red of datapath ovl",
    ),
    (
        changed((*DP, "vports", "edge"), {"type": "internal"}),
        "datapaths.ovl.vports.edge",
        "datapath edge (its local port)",
    ),
    (
        changed((*DP, "vports", "ovl"), {"type": "internal"}),
        "datapaths.ovl.vports.ovl",
        "datapath ovl (its local port)",
    ),
    (
        changed((*DP, "vports", "tap0", "port_no"), 5),
        "datapaths.ovl.vports.tap0.port_no",
        "also the number of vport red",
    ),
    (
        changed(("datapaths", "edge", "vports", "gen", "port"), 4789),
        "datapaths.edge.vports.gen.port",
        "taken by vxlan vport ovl-vxlan of datapath ovl",
    ),
    (
        changed((*DP, "vports", "gre1"), {"type": "gre"}),
        "datapaths.edge.vports.gre0.type",
        "one GRE vport (one metadata-mode GRE device per network namespace); vport gre1 of "
        "datapath ovl is one",
    ),
    # Flows, checked by the odp_flow module's code.
    (changed((*DP, "flows"), {"key": "in_port(red)"}), "datapaths.ovl.flows", "list of flows"),
    (changed((*DP, "flows", 1), "in_port(red)"), "datapaths.ovl.flows[1]", "mapping"),
    (
        changed((*DP, "flows", 1, "acts"), []),
        "datapaths.ovl.flows[1].acts",
        "did you mean 'actions'",
    ),
    (
        changed((*DP, "flows", 1, "key"), "in_port(red)"),
        "datapaths.ovl.flows[1].key",
        "match or key, not both",
    ),
    (
        changed((*DP, "flows", 1), {"actions": []}),
        "datapaths.ovl.flows[1]",
        "needs match (a mapping) or key",
    ),
    (changed((*DP, "flows", 2, "actions"), DELETE), "datapaths.ovl.flows[2].actions", "required"),
    (
        changed((*DP, "flows", 1, "match"), {"eth": {"src": "02:xx"}}),
        "datapaths.ovl.flows[1].match.eth.src",
        "expected a MAC address",
    ),
    (
        changed((*DP, "flows", 0, "key"), "in_port(blue),eth()"),
        "datapaths.ovl.flows[0].key.in_port",
        "no such vport",
    ),
    (
        changed((*DP, "flows", 1, "actions"), [{"output": "gre0"}]),
        "datapaths.ovl.flows[1].actions[0]",
        "no such vport",
    ),
    (
        changed((*DP, "flows", 1, "actions"), 3.5),
        "datapaths.ovl.flows[1].actions",
        "list or ovs-dpctl text",
    ),
    (
        changed(
            (*DP, "flows", 2), {"key": "in_port(red),eth(dst=02:00:00:00:00:02)", "actions": "drop"}
        ),
        "datapaths.ovl.flows[2]",
        "flows[0] has the same match with other actions",
    ),
]


@pytest.mark.parametrize("document, path, reason", ERRORS, ids=[e[1] for e in ERRORS])
def test_errors_name_the_path_and_the_value(document, path, reason):
    with pytest.raises(DocumentError) as caught:
        parse_document(document)
    assert caught.value.field == path
    assert reason in caught.value.reason
    assert str(caught.value).startswith(path + ": invalid value ")


def test_long_values_are_shown_briefly():
    flows = [{"actions": []}] * 3 + [{"key": "x" * 500, "actions": []}]
    with pytest.raises(DocumentError) as caught:
        parse_document(changed((*DP, "vports"), flows))
    assert "invalid value a list of 4 items: " in str(caught.value)
    with pytest.raises(DocumentError) as caught:
        parse_document(changed((*DP, "flows", 0, "key"), "in_port(" + "x" * 500))
    assert len(str(caught.value)) < 300


def test_an_absent_datapath_frees_its_name_for_a_vport():
    document = parse_document(changed(("datapaths", "edge"), {"state": "absent"}))
    assert not document.datapaths["edge"].present
    doc = changed(("datapaths", "edge"), {"state": "absent"})
    doc["datapaths"]["ovl"]["vports"]["edge"] = {"type": "internal"}
    assert "edge" in parse_document(doc).datapaths["ovl"].vports


def test_port_numbers_fill_the_gaps_in_order():
    vports = [
        Vport("a", "internal"),
        Vport("b", "internal", port_no=2),
        Vport("c", "internal"),
        Vport("d", "internal"),
    ]
    assert assign_port_numbers(vports, taken=[3]) == {"a": 1, "b": 2, "c": 4, "d": 5}


def test_no_port_number_left():
    vports = [Vport("a", "internal")]
    with pytest.raises(DocumentError) as caught:
        assign_port_numbers(vports, range(1, 65535), "datapaths.x.vports")
    assert caught.value.field == "datapaths.x.vports.a.port_no"


def test_flows_are_parsed_once_per_port_numbering():
    ovl = parse_document(BASE).datapaths["ovl"]
    first = ovl.flows()
    assert ovl.flows() is first
    renumbered = dict(ovl.ports(), red=9)
    flows = ovl.flows(renumbered)
    assert flows is not first
    assert flows[0].key["in_port"] == 9


def test_a_datapath_read_prints_its_flows_only_when_asked():
    ovl = parse_document(BASE).datapaths["ovl"]
    read = Datapath.read("ovl", None, ovl.vports, ovl.flows())
    assert read._entries is None  # pylint: disable=protected-access
    entries = read.entries()
    assert entries == sorted(entries, key=lambda e: (e["key"], e["actions"]))
    assert all(set(entry) == {"key", "actions"} for entry in entries)
    assert any(entry["key"].startswith("in_port(tap0),") for entry in entries)  # names
    again = Datapath("ovl", True, None, ovl.vports, entries)

    def flows(datapath):
        return sorted(repr((f.identity(), f.actions)) for f in datapath.flows())

    assert flows(again) == flows(read)
