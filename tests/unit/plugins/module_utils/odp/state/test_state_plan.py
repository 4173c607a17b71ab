"""plan(current, desired): order, ownership, replacement, purge, port numbers."""

import pytest
from test_state_document import BASE
from vswitch_odp.state import formats
from vswitch_odp.state.checks import DocumentError
from vswitch_odp.state.document import Datapath, parse_document
from vswitch_odp.state.plan import plan

UP = {"mac": "02:00:00:00:00:01", "mtu": 1500, "up": True, "addresses": []}


def doc(**datapaths):
    return parse_document({"version": 1, "datapaths": datapaths})


def shown(document):
    """``document`` as show() would give it: every vport numbered, flows as
    the kernel's Flow objects."""
    out = {}
    for name, datapath in document.datapaths.items():
        ports = datapath.ports()
        for vport in datapath.vports.values():
            vport.port_no = ports[vport.name]
        out[name] = Datapath.read(name, datapath.link, datapath.vports, datapath.flows())
    document.datapaths = out
    return document


def lines(current, desired):
    return plan(current, desired).lines()


def test_no_changes():
    base = parse_document(BASE)
    result = plan(base, base)
    assert not result and result.lines() == [] and result.summary() == "no changes"
    assert result.counts() == {"added": 0, "modified": 0, "removed": 0}
    assert not plan(shown(parse_document(BASE)), parse_document(BASE))
    again = parse_document(formats.load(formats.dump(base.to_dict(), "json")))
    assert not plan(base, again)


def test_everything_from_nothing_in_order():
    result = plan(doc(), parse_document(BASE))
    assert result.lines() == [
        "+ datapath edge",
        "+ datapath ovl",
        "+ vport edge/gre0: gre, port_no 1",
        "+ vport edge/gen: geneve, port 6082, port_no 2",
        "+ vport ovl/ovl-vxlan: vxlan, port 4789, port_no 1",
        "+ vport ovl/red: internal, port_no 5",
        "+ vport ovl/tap0: netdev, port_no 2",
        "~ link ovl/ovl: up",
        "~ link ovl/red: mac 02:00:00:00:00:01, mtu 1450, up, +10.10.0.1/24, +fd00::1/64",
        "+ flow ovl: in_port(ovl-vxlan),eth(),tunnel(tun_id=0x2a,flags(+key)), actions:red",
        "+ flow ovl: in_port(red),eth(dst=02:00:00:00:00:02), actions:set(tunnel(tun_id=0x2a,"
        "dst=198.18.0.2,ttl=64,flags(key))),ovl-vxlan",
        "+ flow ovl: in_port(tap0),eth(), actions:set(tunnel(tun_id=0x7,ipv6_dst=2001:db8::2,"
        "ttl=64,flags(key))),ovl-vxlan",
    ]
    assert result.summary() == "Plan: 10 to add, 2 to change, 0 to remove."
    assert result.ports["ovl"] == {"ovl": 0, "ovl-vxlan": 1, "red": 5, "tap0": 2}
    kinds = [change.kind for change in result.changes]
    assert kinds == ["datapath"] * 2 + ["vport"] * 5 + ["link"] * 2 + ["flows"]


def test_the_new_vports_carry_the_numbers_the_flows_use():
    result = plan(doc(), parse_document(BASE))
    numbers = {c.vport.name: c.vport.port_no for c in result.changes if c.kind == "vport"}
    (flows,) = [c for c in result.changes if c.kind == "flows"]
    in_ports = sorted(flow.key["in_port"] for flow in flows.flows.add)
    assert in_ports == sorted([numbers["red"], numbers["ovl-vxlan"], numbers["tap0"]])


def test_datapaths_not_named_are_left_alone():
    current = shown(
        doc(
            other={
                "vports": {"o1": {"type": "internal"}},
                "flows": [{"match": {"in_port": "o1"}, "actions": []}],
            },
            ovl={},
        )
    )
    assert not plan(current, doc(ovl={}))
    assert plan(current, doc()).lines() == []


def test_an_owned_datapath_ends_up_exactly_as_declared():
    current = shown(
        doc(
            ovl={
                "vports": {
                    "a": {"type": "internal"},
                    "b": {"type": "netdev"},
                    "c": {"type": "vxlan"},
                },
                "flows": [
                    {"match": {"in_port": "a"}, "actions": [{"output": "b"}]},
                    {"match": {"in_port": "b"}, "actions": [{"output": "a"}]},
                    {"match": {"in_port": "c"}, "actions": [{"output": "a"}]},
                ],
            }
        )
    )
    desired = doc(
        ovl={
            "vports": {"a": {"type": "internal"}},
            "flows": [{"match": {"in_port": "a"}, "actions": []}],
        }
    )
    result = plan(current, desired)
    # Flows go before the vports they use; the local port stays. A datapath's
    # flows are removed, modified, then added, as the flow engine sends them.
    assert result.lines() == [
        "- flow ovl: in_port(b),eth(), actions:a",
        "- flow ovl: in_port(c),eth(), actions:a",
        "~ flow ovl: in_port(a),eth(), actions:b -> drop",
        "- vport ovl/b: netdev, port_no 2",
        "- vport ovl/c: vxlan, port 4789, port_no 3",
    ]
    assert result.summary() == "Plan: 0 to add, 1 to change, 4 to remove."


def test_a_modified_flow_keeps_the_installed_key_and_ufid():
    current = shown(
        doc(
            ovl={
                "vports": {"a": {"type": "internal"}},
                "flows": [{"match": {"in_port": "a"}, "actions": []}],
            }
        )
    )
    installed = current.datapaths["ovl"].flows()[0]
    installed.ufid = b"u" * 16
    result = plan(
        current,
        doc(
            ovl={
                "vports": {"a": {"type": "internal"}},
                "flows": [{"key": "in_port(a),eth()", "actions": "a"}],
            }
        ),
    )
    (change,) = result.changes
    (modified,) = change.flows.modify
    assert modified.ufid == b"u" * 16 and modified.key == installed.key
    assert modified.actions == [("output", 1)]


def test_flows_are_removed_before_the_flows_they_cover_are_added():
    # The kernel refuses to create in_port(a),eth(dst=...) while in_port(a),eth()
    # exists (EEXIST): the old flow must go first.
    current = shown(
        doc(
            ovl={
                "vports": {"a": {"type": "internal"}},
                "flows": [{"match": {"in_port": "a"}, "actions": []}],
            }
        )
    )
    desired = doc(
        ovl={
            "vports": {"a": {"type": "internal"}},
            "flows": [
                {"match": {"in_port": "a", "eth": {"dst": "02:00:00:00:00:02"}}, "actions": []}
            ],
        }
    )
    assert lines(current, desired) == [
        "- flow ovl: in_port(a),eth(), actions:drop",
        "+ flow ovl: in_port(a),eth(dst=02:00:00:00:00:02), actions:drop",
    ]
    (change,) = plan(current, desired).changes
    assert change.counts() == (1, 0, 1)


def test_removed_datapath_last():
    current = shown(
        doc(
            old={
                "vports": {"x": {"type": "internal"}},
                "flows": [{"match": {"in_port": "x"}, "actions": []}],
            },
            ovl={"vports": {"y": {"type": "internal"}}},
        )
    )
    result = plan(current, doc(old={"state": "absent"}, ovl={}))
    assert result.lines() == [
        "- vport ovl/y: internal, port_no 1",
        "- datapath old (with its 1 vport and 1 flow)",
    ]
    assert not plan(doc(), doc(old={"state": "absent"}))


def test_replacement_is_shown_as_such_and_keeps_the_number():
    current = shown(
        doc(
            ovl={
                "vports": {"a": {"type": "internal"}, "vx": {"type": "vxlan"}},
                "flows": [{"match": {"in_port": "a"}, "actions": []}],
            }
        )
    )
    desired = doc(
        ovl={
            "vports": {"a": {"type": "geneve"}, "vx": {"type": "vxlan", "port": 4790}},
            "flows": [{"match": {"in_port": "a"}, "actions": []}],
        }
    )
    assert lines(current, desired) == [
        "- vport ovl/a: internal, port_no 1 (replaced: type internal -> geneve)",
        "- vport ovl/vx: vxlan, port 4789, port_no 2 (replaced: port 4789 -> 4790)",
        "+ vport ovl/a: geneve, port 6081, port_no 1 (replacement)",
        "+ vport ovl/vx: vxlan, port 4790, port_no 2 (replacement)",
    ]  # the flow on port 1 is still right: no flow change
    assert plan(current, desired).summary() == "Plan: 2 to add, 0 to change, 2 to remove."


@pytest.mark.parametrize(
    "old, new, reason",
    [
        ("netdev", "internal", "detaching it leaves its device"),
        ("internal", "netdev", "removing it deletes its device"),
        ("vxlan", "netdev", "removing it deletes its device"),
    ],
)
def test_a_netdev_vport_cannot_be_replaced_by_another_type(old, new, reason):
    current = shown(doc(ovl={"vports": {"a": {"type": old}}}))
    with pytest.raises(DocumentError) as caught:
        plan(current, doc(ovl={"vports": {"a": {"type": new}}}))
    assert caught.value.field == "datapaths.ovl.vports.a.type" and caught.value.value == new
    assert reason in caught.value.reason


def test_a_netdev_vport_can_be_renumbered():
    current = shown(doc(ovl={"vports": {"a": {"type": "netdev"}}}))
    assert lines(current, doc(ovl={"vports": {"a": {"type": "netdev", "port_no": 4}}})) == [
        "- vport ovl/a: netdev, port_no 1 (replaced: port_no 1 -> 4)",
        "+ vport ovl/a: netdev, port_no 4 (replacement)",
    ]


def test_renumbering_and_swapping():
    current = shown(
        doc(
            ovl={
                "vports": {"a": {"type": "internal"}, "b": {"type": "internal"}},
                "flows": [{"match": {"in_port": "a"}, "actions": []}],
            }
        )
    )
    desired = doc(
        ovl={
            "vports": {
                "a": {"type": "internal", "port_no": 2},
                "b": {"type": "internal", "port_no": 1},
            },
            "flows": [{"match": {"in_port": "a"}, "actions": []}],
        }
    )
    result = plan(current, desired)
    # Both removals come first: each number is free when its new holder is made.
    assert result.lines() == [
        "- vport ovl/a: internal, port_no 1 (replaced: port_no 1 -> 2)",
        "- vport ovl/b: internal, port_no 2 (replaced: port_no 2 -> 1)",
        "+ vport ovl/a: internal, port_no 2 (replacement)",
        "+ vport ovl/b: internal, port_no 1 (replacement)",
        "- flow ovl: in_port(a),eth(), actions:drop",  # a's flow on port 1, as it was
        "+ flow ovl: in_port(a),eth(), actions:drop",
    ]


def test_a_vport_displaced_from_its_number_gets_a_free_one():
    current = shown(doc(ovl={"vports": {"a": {"type": "internal"}, "b": {"type": "internal"}}}))
    desired = doc(
        ovl={"vports": {"a": {"type": "internal"}, "c": {"type": "internal", "port_no": 1}}}
    )
    assert lines(current, desired) == [
        "- vport ovl/a: internal, port_no 1 (replaced: port_no 1 is asked for by vport c)",
        "+ vport ovl/a: internal, port_no 3 (replacement)",
        "+ vport ovl/c: internal, port_no 1",
        "- vport ovl/b: internal, port_no 2",
    ]


def test_new_vports_never_take_the_number_of_one_removed_later():
    current = shown(doc(ovl={"vports": {"a": {"type": "internal"}, "b": {"type": "internal"}}}))
    desired = doc(ovl={"vports": {"b": {"type": "internal"}, "c": {"type": "internal"}}})
    assert lines(current, desired) == [
        "+ vport ovl/c: internal, port_no 3",
        "- vport ovl/a: internal, port_no 1",
    ]


def test_a_number_asked_for_frees_it_first():
    current = shown(doc(ovl={"vports": {"a": {"type": "internal"}}}))
    desired = doc(ovl={"vports": {"c": {"type": "internal", "port_no": 1}}})
    assert lines(current, desired) == [
        "- vport ovl/a: internal, port_no 1",
        "+ vport ovl/c: internal, port_no 1",
    ]


def test_a_vport_moving_between_owned_datapaths():
    current = shown(doc(one={"vports": {"x": {"type": "internal"}}}, two={}))
    desired = doc(one={}, two={"vports": {"x": {"type": "internal"}}})
    assert lines(current, desired) == [
        "- vport one/x: internal, port_no 1",
        "+ vport two/x: internal, port_no 1",
    ]


def test_a_udp_port_moving_to_a_renamed_vport():
    current = shown(doc(ovl={"vports": {"vx1": {"type": "vxlan"}}}))
    desired = doc(ovl={"vports": {"vx2": {"type": "vxlan"}}})
    assert lines(current, desired) == [
        "- vport ovl/vx1: vxlan, port 4789, port_no 1",
        "+ vport ovl/vx2: vxlan, port 4789, port_no 2",
    ]


def test_a_datapath_removed_for_its_name():
    current = shown(doc(old={"vports": {"x": {"type": "internal"}}}))
    desired = doc(old={"state": "absent"}, new={"vports": {"old": {"type": "internal"}}})
    assert lines(current, desired) == [
        "- datapath old (with its 1 vport and 0 flows)",
        "+ datapath new",
        "+ vport new/old: internal, port_no 1",
    ]


def test_links_compare_only_what_is_declared():
    current = shown(doc(ovl={"link": UP, "vports": {"p": {"type": "internal", "link": UP}}}))
    assert not plan(current, doc(ovl={"vports": {"p": {"type": "internal", "link": {"up": True}}}}))
    desired = doc(
        ovl={
            "link": {"mtu": 9000},
            "vports": {"p": {"type": "internal", "link": {"addresses": ["10.0.0.1/24"]}}},
        }
    )
    assert lines(current, desired) == [
        "~ link ovl/ovl: mtu 1500 -> 9000",
        "~ link ovl/p: +10.0.0.1/24",
    ]


def test_a_replaced_internal_port_gets_all_its_link_settings():
    current = shown(doc(ovl={"vports": {"p": {"type": "internal", "link": UP}}}))
    desired = doc(ovl={"vports": {"p": {"type": "internal", "port_no": 7, "link": UP}}})
    assert lines(current, desired)[-1] == "~ link ovl/p: mac 02:00:00:00:00:01, mtu 1500, up"


@pytest.mark.parametrize(
    "desired, path, reason",
    [
        (
            {"ovl": {"vports": {"o1": {"type": "internal"}}}},
            "datapaths.ovl.vports.o1",
            "the name is taken by datapath other",
        ),
        (
            {"ovl": {"vports": {"other": {"type": "internal"}}}},
            "datapaths.ovl.vports.other",
            "the name is taken by datapath other",
        ),
        ({"o1": {}}, "datapaths.o1", "the name is taken by datapath other"),
        (
            {"ovl": {"vports": {"g": {"type": "geneve"}}}},
            "datapaths.ovl.vports.g.port",
            "the UDP port is taken by datapath other, which this document does not own",
        ),
        (
            {"ovl": {"vports": {"g": {"type": "gre"}}}},
            "datapaths.ovl.vports.g.type",
            "the GRE device (one per host) is taken by datapath other",
        ),
    ],
)
def test_what_unowned_datapaths_hold_is_refused(desired, path, reason):
    current = shown(doc(other={"vports": {"o1": {"type": "geneve"}, "o2": {"type": "gre"}}}))
    with pytest.raises(DocumentError) as caught:
        plan(current, doc(**desired))
    assert caught.value.field == path and reason in caught.value.reason


def test_owned_datapaths_names_can_be_reused_once_removed():
    current = shown(doc(other={"vports": {"o1": {"type": "geneve"}}}))
    result = plan(
        current, doc(other={"state": "absent"}, ovl={"vports": {"o1": {"type": "geneve"}}})
    )
    assert result.lines()[0] == "- datapath other (with its 1 vport and 0 flows)"
