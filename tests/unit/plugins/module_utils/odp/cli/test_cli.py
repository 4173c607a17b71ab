"""The odp command without a kernel: parsing, abbreviations, flag mapping, errors.

A fake client stands in for vswitch_odp.client.Client and records calls.
"""

import io
import shlex
from types import SimpleNamespace

import pytest
from vswitch_odp import cli, cutoff, flows
from vswitch_odp.attrs import Unknown
from vswitch_odp.client import Client
from vswitch_odp.errors import NoSuchDatapath, PermissionDenied, ValidationError
from vswitch_odp.families import FlowFamily
from vswitch_odp.text import flags as fo

ZERO_ETH = {"src": 0, "dst": 0}
PORTS = {"dp0": 0, "eth1": 1, "eth2": 2, "vx": 3}


class Vport:
    def __init__(self, datapath, name, port_no, type_="netdev", port=None):
        self.datapath, self.name, self.port_no, self.type, self.port = (
            datapath,
            name,
            port_no,
            type_,
            port,
        )


class FakeClient:
    """Records what the CLI asks of the client."""

    def __init__(self, fail=None):
        self.calls = []
        self.fail = fail
        self.flow_list = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __getattr__(self, name):
        def call(*args, **kwargs):
            if self.fail:
                raise self.fail
            # A Flow is recorded as its (key, mask, actions).
            args = tuple(
                (a.key, a.mask, a.actions)
                if isinstance(a, flows.Flow)
                else [(f.key, f.mask, f.actions) for f in a]
                if isinstance(a, list)
                else a
                for a in args
            )
            self.calls.append((name, *args, *tuple(sorted(kwargs.items()))))
            return [None] * len(args[-1]) if name == "put_flows" else None

        return call

    def vports(self, datapath):
        if datapath != "dp0":
            raise NoSuchDatapath("datapath %s does not exist" % datapath)
        return [
            Vport("dp0", name, number, "internal" if number == 0 else "netdev")
            for name, number in PORTS.items()
        ]

    def find_vport(self, name):
        return Vport("dp0", name, PORTS[name])

    def datapaths(self):
        return []

    def get_datapath(self, name):
        return SimpleNamespace(name=name, stats={"flows": len(self.flow_list)})

    def flow_replies(self, _dp):
        """``flow_list`` as the kernel's dump replies."""
        return [
            FlowFamily.attrs.encode(
                ([("ufid", f.ufid)] if f.ufid else [])
                + [("key", f.key), ("actions", f.actions)]
                + ([("mask", f.mask)] if f.mask is not None else [])
                + [("stats", {"packets": f.packets, "bytes": f.bytes})]
                + ([("used", f.used)] if f.used is not None else [])
            )
            for f in self.flow_list
        ]

    decode_flows = staticmethod(Client.decode_flows)


@pytest.fixture
def fake(monkeypatch):
    """The fake client; the host's devices are not looked at by the cut-off check."""
    client = FakeClient()

    def open_client(netns=None):
        client.netns = netns
        return client

    monkeypatch.setattr(cli, "_open_client", open_client)
    monkeypatch.setattr(cutoff, "cutoff_reason", lambda name, environ=None, netns=None: None)
    return client


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# -- abbreviations ----------------------------------------------------------


def test_exact_word_beats_longer_one():
    assert cli.resolve("list", ["list", "listen"], ()) == "list"
    assert cli.resolve("liste", ["list", "listen"], ()) == "listen"


def test_unique_prefix_resolves():
    assert cli.resolve("d", ["datapath", "vport", "flow"], ()) == "datapath"


def test_ambiguous_prefix_lists_candidates():
    with pytest.raises(cli.UsageError) as info:
        cli.resolve("li", ["add", "list", "listen"], ("datapath",))
    assert str(info.value) == 'ambiguous command "odp datapath li": list, listen'


def test_abbreviated_command_runs(fake, capsys):
    assert run(capsys, "d", "a", "dp0") == (0, "", "")
    assert fake.calls == [("create_datapath", "dp0")]


def test_ambiguous_abbreviation_is_one_line_error(fake, capsys):
    status, out, err = run(capsys, "datapath", "li", "dp0")
    assert status == cli.EXIT_USAGE and out == ""
    assert err == 'odp: ambiguous command "odp datapath li": list, listen\n'


def test_unknown_command(fake, capsys):
    status, _out, err = run(capsys, "bridge")
    assert status == cli.EXIT_USAGE
    assert err.startswith('odp: unknown command "odp bridge"') and err.count("\n") == 1


# -- help -------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["help"],
        ["datapath", "--help"],
        ["d", "help"],
        ["vport", "add", "-h"],
        ["f", "a", "--help"],
        ["flow", "list", "dp0", "-h"],
        ["v", "a", "vx", "--help"],
    ],
)
def test_help_at_every_level(argv, fake, capsys):
    status, out, err = run(capsys, *argv)
    assert status == 0 and err == "" and out.startswith("Usage:")
    assert fake.calls == []


def test_flow_add_help_lists_flags(capsys):
    _status, out, _err = run(capsys, "flow", "add", "--help")
    for flag in (
        "--in-port=",
        "--eth-src=",
        "--tunnel-id=",
        "--set-tunnel-ttl=",
        "--output=",
        "--key=",
        "--actions=",
        "--file=",
    ):
        assert flag in out


# -- datapaths and vports ---------------------------------------------------


def test_datapath_without_words_lists(fake, capsys):
    assert run(capsys, "datapath") == (0, "", "")
    assert run(capsys, "d", "list") == (0, "", "")


def test_vport_add_defaults(fake, capsys):
    run(capsys, "vport", "add", "vxlan", "dp0", "vx")
    run(capsys, "v", "a", "gen", "dp0", "gn", "--port=7000")
    run(capsys, "v", "a", "gr", "dp0", "gr0")
    run(capsys, "v", "a", "n", "dp0", "eth1")
    assert fake.calls == [
        ("create_vport", "dp0", "vx", "vxlan", ("port", None)),
        ("create_vport", "dp0", "gn", "geneve", ("port", 7000)),
        ("create_vport", "dp0", "gr0", "gre", ("port", None)),
        ("create_vport", "dp0", "eth1", "netdev", ("port", None)),
    ]


def test_vport_add_port_value_may_follow(fake, capsys):
    run(capsys, "vport", "add", "vxlan", "--port", "4790", "dp0", "vx")
    assert fake.calls == [("create_vport", "dp0", "vx", "vxlan", ("port", 4790))]


def test_vport_add_bad_port(fake, capsys):
    status, _out, err = run(capsys, "vport", "add", "vxlan", "dp0", "vx", "--port=70000")
    assert status == cli.EXIT_USAGE and "--port" in err and "70000" in err
    assert fake.calls == []


def test_vport_delete_with_or_without_datapath(fake, capsys):
    run(capsys, "vport", "delete", "dp0", "eth1")
    run(capsys, "vport", "del", "eth1")
    assert fake.calls == [("delete_vport", "dp0", "eth1"), ("delete_vport", "dp0", "eth1")]


def test_vport_lines_are_add_form():
    assert cli.vport_line(Vport("dp0", "eth1", 1)) == "netdev dp0 eth1"
    assert cli.vport_line(Vport("dp0", "vx", 3, "vxlan", 4789)) == "vxlan dp0 vx --port=4789"


def test_missing_argument(fake, capsys):
    status, _out, err = run(capsys, "datapath", "add")
    assert status == cli.EXIT_USAGE
    assert err == "odp: odp datapath add: missing arguments; usage: odp datapath add <datapath>\n"


def test_unknown_option(fake, capsys):
    status, _out, err = run(capsys, "datapath", "add", "dp0", "--bogus")
    assert status == cli.EXIT_USAGE and "--bogus" in err


def test_library_errors_are_one_line(fake, capsys):
    fake.fail = NoSuchDatapath("datapath dpx does not exist")
    assert run(capsys, "datapath", "delete", "dpx") == (1, "", "odp: datapath dpx does not exist\n")


def test_permission_error_mentions_cap_net_admin(fake, capsys):
    fake.fail = PermissionDenied("creating datapath dp0: operation not permitted")
    status, _out, err = run(capsys, "datapath", "add", "dp0")
    assert status == 1 and "CAP_NET_ADMIN" in err and err.count("\n") == 1


def test_debug_reraises(fake, capsys, monkeypatch):
    monkeypatch.setenv("ODP_DEBUG", "1")
    fake.fail = NoSuchDatapath("datapath dpx does not exist")
    with pytest.raises(NoSuchDatapath):
        cli.main(["datapath", "delete", "dpx"])


# -- flow flags -> key, mask, actions ---------------------------------------


def key_of(*options):
    """Key and mask of flags, less the wildcarded eth() every flag key gets
    (test_flags_mean_ethernet_frames checks it)."""
    key, mask = fo.key_from_options([o.lstrip("-").split("=", 1) for o in options], PORTS)
    if key["eth"] == mask["eth"] == ZERO_ETH:
        del key["eth"], mask["eth"]
    return key, mask


def test_flags_mean_ethernet_frames():
    """Without eth() an EtherType would mean a layer 3 packet, never an Ethernet frame."""
    key, mask = fo.key_from_options([("eth-type", "0x0806")], PORTS)
    assert (key, mask) == (
        {"eth": ZERO_ETH, "eth_type": 0x0806},
        {"eth": ZERO_ETH, "eth_type": 0xFFFF},
    )
    layer3 = fo.format_flow_words({"eth_type": 0x0800}, {"eth_type": 0xFFFF}, [], NAMES)
    assert layer3[0] == "--key=eth_type(0x0800)"


def test_in_port_by_vport_name():
    assert key_of("--in-port=eth1") == ({"in_port": 1}, {"in_port": 0xFFFFFFFF})


@pytest.mark.parametrize(
    "text",
    [
        "02:00:00:00:01:00:ff:ff:ff:ff:ff:00",
        "02:00:00:00:01:00&ff:ff:ff:ff:ff:00",
        "02:00:00:00:01:00/ff:ff:ff:ff:ff:00",
        "2:0:0:0:1:0:FF:FF:FF:FF:FF:0",
    ],
)
def test_mac_mask_forms(text):
    key, mask = key_of("--eth-src=" + text)
    assert key == {"eth": {"src": 0x020000000100}}
    assert mask == {"eth": {"src": 0xFFFFFFFFFF00}}


def test_mac_without_mask_is_exact():
    assert key_of("--eth-dst=02:00:00:00:00:02") == (
        {"eth": {"dst": 0x020000000002}},
        {"eth": {"dst": 0xFFFFFFFFFFFF}},
    )


@pytest.mark.parametrize(
    "text",
    ["02:00:00:00:00", "zz:00:00:00:00:01", "02:00:00:00:00:01:ff", "02:00:00:00:00:01/", ""],
)
def test_bad_mac_names_the_option(text):
    with pytest.raises(ValidationError) as info:
        key_of("--eth-src=" + text)
    assert info.value.field == "--eth-src" and info.value.value in (text, "")


def test_mac_bits_outside_mask_are_dropped():
    assert key_of("--eth-src=02:00:00:00:00:ff:ff:ff:ff:ff:ff:00")[0] == {
        "eth": {"src": 0x020000000000}
    }


def test_unknown_vport_names_the_vports():
    with pytest.raises(ValidationError) as info:
        key_of("--in-port=nope")
    assert info.value.field == "--in-port" and "eth1" in str(info.value)


def test_tunnel_key_flags_match_only_what_they_name():
    key, mask = key_of(
        "--tunnel-id=0000000000000005",
        "--tunnel-ipv4-src=192.0.2.1",
        "--tunnel-df=false",
        "--tunnel-csum=true",
        "--tunnel-tp-dst=4789",
    )
    assert key == {"tunnel": {"tun_id": 5, "src": 0xC0000201, "csum": True, "tp_dst": 4789}}
    assert mask == {
        "tunnel": {
            "tun_id": (1 << 64) - 1,
            "src": 0xFFFFFFFF,
            "df": True,
            "csum": True,
            "tp_dst": 0xFFFF,
        }
    }


@pytest.mark.parametrize("text,value", [("0000000000000005", 5), ("05", 5), ("0x1234", 0x1234)])
def test_tunnel_id_hex_bytes(text, value):
    assert key_of("--tunnel-id=" + text)[0] == {"tunnel": {"tun_id": value}}


@pytest.mark.parametrize(
    "option",
    [
        "--tunnel-id=00000000000000000",
        "--tunnel-id=xyz",
        "--tunnel-df=maybe",
        "--tunnel-ttl=256",
        "--tunnel-ipv4-dst=10.0.0.300",
        "--ipv4-src=::1",
    ],
)
def test_bad_values_name_the_option(option):
    with pytest.raises(ValidationError) as info:
        key_of(option)
    assert info.value.field == option.split("=")[0]


def test_ipv4_prefix_and_mask():
    assert key_of("--ipv4-dst=10.1.0.0/16")[1]["ipv4"] == {"dst": 0xFFFF0000}
    assert key_of("--ipv4-dst=10.1.0.0/255.255.0.0")[1]["ipv4"] == {"dst": 0xFFFF0000}


def test_layer4_implies_protocol_and_ethertype():
    key, mask = key_of("--tcp-dst=80", "--ipv4-dst=10.0.0.0/8")
    assert key == {"tcp": {"dst": 80}, "ipv4": {"dst": 0x0A000000, "proto": 6}, "eth_type": 0x0800}
    assert mask == {
        "tcp": {"dst": 0xFFFF},
        "ipv4": {"dst": 0xFF000000, "proto": 0xFF},
        "eth_type": 0xFFFF,
    }
    assert key_of("--udp-src=53", "--ipv6-dst=::1")[0]["ipv6"]["proto"] == 17
    assert key_of("--ipv4-proto=17", "--eth-type=0x0800", "--ipv4-ttl=1")[0] == {
        "ipv4": {"proto": 17, "ttl": 1},
        "eth_type": 0x0800,
    }


def test_dumped_set_tunnel_lists_as_flags():
    tunnel = {"tun_id": 5, "dst": 0x0A000071, "ttl": 64}
    words = fo.format_flow_words(
        {"in_port": 1, "eth": ZERO_ETH},
        {"in_port": 0xFFFFFFFF, "eth": ZERO_ETH},
        [("set", {"tunnel": tunnel}), ("output", 3)],
        NAMES,
    )
    assert words == [
        "--in-port=eth1",
        "--set-tunnel-id=0000000000000005",
        "--set-tunnel-ipv4-dst=10.0.0.113",
        "--set-tunnel-ttl=64",
        "--output=vx",
    ]


def test_seed_example_actions():
    actions = fo.actions_from_options(
        [
            ("set-tunnel-ipv4-src", "10.0.0.112"),
            ("set-tunnel-ipv4-dst", "10.0.0.113"),
            ("set-tunnel-ttl", "64"),
        ],
        ["vx"],
        PORTS,
    )
    assert actions == [
        ("set", {"tunnel": {"src": 0x0A000070, "dst": 0x0A000071, "ttl": 64}}),
        ("output", 3),
    ]


def test_output_list():
    assert fo.actions_from_options([], ["eth1,eth2", "vx"], PORTS) == [
        ("output", 1),
        ("output", 2),
        ("output", 3),
    ]


def test_set_tunnel_takes_no_mask():
    with pytest.raises(ValidationError, match="no mask"):
        fo.actions_from_options([("set-tunnel-ipv4-dst", "10.0.0.1/24")], [], PORTS)


def test_seed_example_through_main(fake, capsys):
    status, _out, err = run(
        capsys,
        "flow",
        "add",
        "dp0",
        "--in-port=eth1",
        "--set-tunnel-ipv4-src=10.0.0.112",
        "--set-tunnel-ipv4-dst=10.0.0.113",
        "--set-tunnel-ttl=64",
        "--output=vx",
    )
    assert (status, err) == (0, "")
    assert fake.calls == [
        (
            "put_flow",
            "dp0",
            (
                {"eth": ZERO_ETH, "in_port": 1},
                {"eth": ZERO_ETH, "in_port": 0xFFFFFFFF},
                [
                    ("set", {"tunnel": {"src": 0x0A000070, "dst": 0x0A000071, "ttl": 64}}),
                    ("output", 3),
                ],
            ),
        )
    ]


def test_flow_delete_refuses_actions(fake, capsys):
    status, _out, err = run(capsys, "flow", "delete", "dp0", "--in-port=eth1", "--output=eth2")
    assert status == 1 and "--output" in err and fake.calls == []


def test_key_text_and_key_flags_do_not_mix(fake, capsys):
    status, _out, err = run(
        capsys, "flow", "add", "dp0", "--key=in_port(1),eth()", "--eth-src=02:00:00:00:00:01"
    )
    assert status == 1 and "--key" in err and "--eth-src" in err


def test_bad_mac_through_main_sends_nothing(fake, capsys):
    status, out, err = run(
        capsys, "flow", "add", "dp0", "--eth-src=02:00:00:00:00:0g", "--output=eth2"
    )
    assert status == 1 and out == "" and fake.calls == []
    assert err.startswith("odp: --eth-src: invalid value '02:00:00:00:00:0g'")


def test_missing_datapath_through_main(fake, capsys):
    status, _out, err = run(capsys, "flow", "add", "dpx", "--in-port=eth1")
    assert (status, err) == (1, "odp: datapath dpx does not exist\n")


# -- flows -> options, and back ---------------------------------------------

NAMES = {number: name for name, number in PORTS.items()}

ROUND_TRIP = [
    ({"in_port": 1, "eth": {"src": 0, "dst": 0}}, [("output", 2)]),
    (
        {"in_port": 1, "eth": {"src": 0x020000000001, "dst": 0}},
        [
            ("set", {"tunnel": {"tun_id": 5, "src": 0x0A000070, "dst": 0x0A000071, "ttl": 64}}),
            ("output", 3),
            ("output", 2),
        ],
    ),
    (
        {"in_port": 3, "eth": {"src": 0, "dst": 0}, "tunnel": {"tun_id": 7, "dst": 0x0A000071}},
        [("output", 1)],
    ),
    ({"in_port": 1, "eth": {"src": 0, "dst": 0}}, []),
]


def _normalized(key, mask):
    return flows.normalize(*flows.complete_key(key, mask))


@pytest.mark.parametrize("key,actions", ROUND_TRIP)
def test_flags_round_trip(key, actions):
    key, mask = flows.complete_key(key)
    words = fo.format_flow_words(*flows.normalize(key, mask), actions=actions, port_names=NAMES)
    back_key, back_mask, back_actions = fo.flow_from_options(
        [w[2:].split("=", 1) for w in words], PORTS
    )
    assert _normalized(back_key, back_mask) == flows.normalize(key, mask)
    assert back_actions == actions


def test_masked_mac_prints_twelve_groups():
    words = fo.format_flow_words(
        {"eth": {"src": 0x020000000000, "dst": 0}},
        {"eth": {"src": 0xFFFFFFFFFF00, "dst": 0}},
        [("output", 1)],
        NAMES,
    )
    assert words == ["--eth-src=02:00:00:00:00:00:ff:ff:ff:ff:ff:00", "--output=eth1"]


def test_partially_masked_tunnel_df_false_prints():
    words = fo.format_flow_words(
        {"eth": ZERO_ETH, "tunnel": {"dst": 1}},
        {"eth": ZERO_ETH, "tunnel": {"dst": 0xFFFFFFFF, "df": True}},
        [("output", 1)],
        NAMES,
    )
    assert words == ["--tunnel-ipv4-dst=0.0.0.1", "--tunnel-df=false", "--output=eth1"]


def test_other_attributes_fall_back_to_dpctl_text():
    key = {"in_port": 1, "eth": {"src": 0, "dst": 0}, "key40": Unknown(40, b"\x01\x02")}
    actions = [("output", 1), ("pop_vlan", True)]
    words = fo.format_flow_words(key, None, actions, NAMES)
    assert words[0].startswith("--key=") and words[1].startswith("--actions=")
    back = fo.flow_from_options([w[2:].split("=", 1) for w in words], PORTS)
    assert flows.normalize(*back[:2]) == flows.normalize(key) and back[2] == actions


def test_flow_list_quotes_for_the_shell(fake, capsys):
    fake.flow_list = [
        flows.Flow(
            {"in_port": 1, "eth": {"src": 0, "dst": 0}, "key40": Unknown(40, b"\x01\x02")},
            None,
            [("output", 2)],
        )
    ]
    _status, out, _err = run(capsys, "flow", "list", "dp0")
    words = shlex.split(out)
    assert words[0].startswith("--key=") and "key40(" in words[0] and len(words) == 2


def test_file_lines(fake, capsys, tmp_path, monkeypatch):
    path = tmp_path / "flows"
    path.write_text(
        "--in-port=eth1 --output=eth2  # packets:3 bytes:294 used:never\n"
        "\n# a comment\n"
        "--in-port=eth2 --output=eth1\n"
    )
    assert run(capsys, "flow", "add", "dp0", "--file=%s" % path) == (0, "", "")
    assert fake.calls == [
        (
            "put_flows",
            "dp0",
            [
                (
                    {"eth": ZERO_ETH, "in_port": 1},
                    {"eth": ZERO_ETH, "in_port": 0xFFFFFFFF},
                    [("output", 2)],
                ),
                (
                    {"eth": ZERO_ETH, "in_port": 2},
                    {"eth": ZERO_ETH, "in_port": 0xFFFFFFFF},
                    [("output", 1)],
                ),
            ],
        )
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("--in-port=vx --output=eth1\n"))
    assert run(capsys, "f", "a", "dp0", "--file", "-")[0] == 0


def test_file_line_errors_name_the_line(fake, capsys, tmp_path):
    """A line refused before it is sent stops the file: the lines before it
    are applied (and said so), nothing from it on is sent."""
    path = tmp_path / "flows"
    path.write_text(
        "--in-port=eth1 --output=eth2\n--in-port=eth1 --bogus=1\n--in-port=eth2 --output=eth1\n"
    )
    status, _out, err = run(capsys, "flow", "add", "dp0", "--file=%s" % path)
    assert status == cli.EXIT_USAGE and ("%s:2:" % path) in err
    assert "the 1 flow before it was applied, none from that line on" in err
    assert fake.calls == [
        (
            "put_flows",
            "dp0",
            [
                (
                    {"eth": ZERO_ETH, "in_port": 1},
                    {"eth": ZERO_ETH, "in_port": 0xFFFFFFFF},
                    [("output", 2)],
                )
            ],
        )
    ]


def test_file_sent_in_batches(fake, capsys, tmp_path):
    path = tmp_path / "flows"
    path.write_text(
        "".join(
            "--in-port=eth1 --eth-src=02:00:00:00:%02x:%02x --output=eth2\n" % (n >> 8, n & 255)
            for n in range(cli.flow.BATCH + 5)
        )
    )
    assert run(capsys, "flow", "add", "dp0", "--file=%s" % path) == (0, "", "")
    assert [len(call[2]) for call in fake.calls] == [cli.flow.BATCH, 5]


def test_file_duplicate_key_after_a_batch(fake, capsys, tmp_path):
    path = tmp_path / "flows"
    lines = [
        "--in-port=eth1 --eth-src=02:00:00:00:%02x:%02x --output=eth2\n" % (n >> 8, n & 255)
        for n in range(cli.flow.BATCH + 1)
    ]
    path.write_text("".join(lines) + lines[3])
    status, _out, err = run(capsys, "flow", "add", "dp0", "--file=%s" % path)
    assert status == 1
    assert (
        "flows:%d: the same flow key as line 4; stopped there: the %d flows before it were "
        "applied" % (cli.flow.BATCH + 2, cli.flow.BATCH + 1) in err
    )
    assert sum(len(call[2]) for call in fake.calls) == cli.flow.BATCH + 1


def test_flow_list_lines_and_stats(fake, capsys):
    fake.flow_list = [
        flows.Flow(
            {"in_port": 1, "eth": {"src": 0, "dst": 0}},
            {"in_port": 0xFFFFFFFF, "eth": {"src": 0, "dst": 0}},
            [("output", 2)],
            packets=3,
            bytes=294,
            used=None,
        )
    ]
    assert run(capsys, "flow", "list", "dp0") == (0, "--in-port=eth1 --output=eth2\n", "")
    _status, out, _err = run(capsys, "flow", "list", "dp0", "--stats")
    assert out == "--in-port=eth1 --output=eth2  # packets:3 bytes:294 used:never\n"
    assert shlex.split(out, comments=True) == ["--in-port=eth1", "--output=eth2"]
