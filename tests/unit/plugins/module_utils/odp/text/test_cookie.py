"""ovs-vswitchd cookies in userspace actions: bytes ovs-dpctl add-flow sent
to the 6.1 kernel for each spelling (read back with flow list), and the text
ovs-dpctl dump-flows printed for them."""

import pytest
from vswitch_odp.text.cookie import format_cookie

PAD = "000000000000000000000000000000000000"  # the bridge UUID (zero here) and padding
CAPTURED = [
    (
        "01000000ffff" + PAD + "70050000d204000000000000000000000000000000000000",
        "sFlow(vid=5,pcp=3,output=1234)",
    ),
    ("02000000ffff" + PAD + "000000000100000000000000000000000000000000000000", "slow_path(cfm)"),
    (
        "03000000ffff" + PAD + "2c0100000b00000016000000210000000200000001000000",
        "flow_sample(probability=300,collector_set_id=11,obs_domain_id=22,obs_point_id=33,"
        "output_port=2,ingress)",
    ),
    (
        "04000000ffff" + PAD + "030000000000000000000000000000000000000000000000",
        "ipfix(output_port=3)",
    ),
    (
        "05000000ffff" + PAD + "010001000900000011223344556677880400800000000000",
        "controller(reason=1,dont_send=1,continuation=0,recirc_id=9,"
        "rule_cookie=0x1122334455667788,controller_id=4,max_len=128)",
    ),
]
# slow_path(NAME): the reason bit ovs-dpctl set for each name.
SLOW_PATH_BITS = {
    "cfm": 0x01,
    "bfd": 0x02,
    "lacp": 0x04,
    "stp": 0x08,
    "lldp": 0x10,
    "action": 0x20,
    "match": 0x40,
}


@pytest.mark.parametrize("hexdata,text", CAPTURED)
def test_captured_cookies_print_as_ovs_dpctl(hexdata, text):
    assert format_cookie(bytes.fromhex(hexdata)) == text


@pytest.mark.parametrize("name,bit", sorted(SLOW_PATH_BITS.items()))
def test_slow_path_reasons(name, bit):
    data = bytearray(bytes.fromhex(CAPTURED[1][0]))
    data[28:32] = bit.to_bytes(4, "little")
    assert format_cookie(bytes(data)) == "slow_path(%s)" % name


def test_ports_by_name_and_unknown_reason_bits():
    assert format_cookie(bytes.fromhex(CAPTURED[3][0]), {3: "vx"}) == "ipfix(output_port=vx)"
    data = bytearray(bytes.fromhex(CAPTURED[1][0]))
    data[28:32] = (0x101).to_bytes(4, "little")
    assert format_cookie(bytes(data)) == "slow_path(cfm,0x100)"


@pytest.mark.parametrize(
    "data",
    [
        None,
        b"",
        bytes.fromhex("0102030405000000"),  # ovs-dpctl's userdata(0102030405)
        bytes.fromhex(CAPTURED[0][0])[:47],
        bytes.fromhex(CAPTURED[0][0]) + b"\0",
        bytes(48),  # type 0: unspecified
        b"\x09" + bytes(47),  # a type ovs-vswitchd does not use
    ],
)
def test_other_userdata_is_no_cookie(data):
    assert format_cookie(data) is None
