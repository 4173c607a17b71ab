"""What listings keep and show: FlowFilter, the streamed dump's checks, and
flow add --file's progress line."""

import io
from types import SimpleNamespace

import pytest
from vswitch_odp.cli.progress import Progress, format_duration, format_progress
from vswitch_odp.client import Client
from vswitch_odp.errors import ValidationError
from vswitch_odp.families import FlowFamily
from vswitch_odp.flowfilter import FlowFilter, port_number
from vswitch_odp.flows import Flow
from vswitch_odp.flowstream import CHUNK, StreamedDump

EXACT = {"in_port": 0xFFFFFFFF, "eth": {"src": 0xFFFFFFFFFFFF, "dst": 0}}


def flow(port, src=1, mask=None):
    return Flow({"in_port": port, "eth": {"src": src, "dst": 0}}, mask or EXACT, [("output", 2)])


# -- FlowFilter ---------------------------------------------------------------------


def test_in_port_keeps_that_port_and_wildcards():
    keep = FlowFilter(in_port=1)
    # The kernel dumps a wildcarded in_port as in_port(0) under 0xffff0000.
    wild = flow(0, mask={"in_port": 0xFFFF0000, "eth": EXACT["eth"]})
    assert [keep.matches(f) for f in (flow(1), flow(2), wild)] == [True, False, True]
    assert keep.matches(Flow({"eth": {"src": 1, "dst": 0}}, None, []))  # no in_port: any


def test_key_substring_is_of_the_printed_key_with_names():
    keep = FlowFilter(key_contains="in_port(va),eth(src=00:00:00:00:00:05", port_names={1: "va"})
    assert [
        keep.matches(flow(1, src=5)),
        keep.matches(flow(1, src=6)),
        keep.matches(flow(2, src=5)),
    ] == [True, False, False]


def test_both_tests_must_pass():
    keep = FlowFilter(in_port=2, key_contains="src=00:00:00:00:00:05")
    assert [keep.matches(flow(2, 5)), keep.matches(flow(1, 5)), keep.matches(flow(2, 6))] == [
        True,
        False,
        False,
    ]
    assert FlowFilter().keeps_all and not keep.keeps_all


@pytest.mark.parametrize("value", [-1, 1 << 32, "1", True])
def test_a_bad_port_is_refused_naming_it(value):
    with pytest.raises(ValidationError, match="in_port: invalid value"):
        FlowFilter(in_port=value)


def test_port_number_by_name_or_number():
    assert port_number("va", {"va": 3}) == 3
    assert port_number("7", {"va": 3}) == 7 and port_number(9, {}) == 9
    with pytest.raises(
        ValidationError,
        match=r"--in-port: invalid value 'vb': no such vport "
        r"\(the datapath has va\)",
    ):
        port_number("vb", {"va": 3}, "--in-port")


# -- StreamedDump ----------------------------------------------------------------------


class Dumps:
    """One scripted dump: ``replies`` (flows, repeats allowed), the flow
    count before and after it."""

    def __init__(self, replies, before, after):
        self.replies, self.counts = replies, [before, after]

    def get_datapath(self, name):
        return SimpleNamespace(name=name, stats={"flows": self.counts.pop(0)})

    def flow_replies(self, _dp):
        return iter(
            [
                FlowFamily.attrs.encode([("key", f.key), ("mask", f.mask), ("actions", f.actions)])
                for f in self.replies
            ]
        )

    decode_flows = staticmethod(Client.decode_flows)


def test_a_quiet_table_streams_consistent():
    table = [flow(1 + n % 2, src=n) for n in range(CHUNK * 2 + 3)]
    dump = StreamedDump(Dumps(table, len(table), len(table)), "dp0", FlowFilter(in_port=2))
    got = list(dump)
    assert [f.key["eth"]["src"] for f in got] == [n for n in range(len(table)) if n % 2]
    assert (dump.seen, dump.matched, dump.duplicates, dump.consistent) == (
        len(table),
        len(got),
        0,
        True,
    )


def test_a_repeated_flow_is_dropped_and_the_dump_unproven():
    table = [flow(1, src=n) for n in range(3)]
    dump = StreamedDump(Dumps(table + table[1:2], 3, 3), "dp0")
    assert [f.key["eth"]["src"] for f in dump] == [0, 1, 2]
    assert (dump.duplicates, dump.consistent) == (1, False)


def test_a_count_that_moved_is_unproven():
    table = [flow(1, src=n) for n in range(3)]
    dump = StreamedDump(Dumps(table, 3, 4), "dp0")
    assert len(list(dump)) == 3 and dump.consistent is False


def test_a_chunk_of_repeats_does_not_end_the_dump():
    table = [flow(1, src=n) for n in range(2)]
    replies = table + [table[0]] * CHUNK + [flow(1, src=9)]
    dump = StreamedDump(Dumps(replies, 3, 3), "dp0")
    assert [f.key["eth"]["src"] for f in dump] == [0, 1, 9]


# -- the progress line ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,text",
    [
        ((0, 0.0), "0 flows sent"),
        ((1, 0.0, 10, 100), "1 flow sent"),
        ((12000, 2.0), "12,000 flows sent, 6,000 flows/s"),
        ((12000, 2.0, 250, 1000), "12,000 flows sent, 6,000 flows/s, 0:06 left"),
        ((5, 1.0, 0, 1000), "5 flows sent, 5 flows/s"),
    ],
)
def test_format_progress(args, text):
    assert format_progress(*args) == text


@pytest.mark.parametrize(
    "seconds,text", [(0.2, "0:01"), (5.0, "0:05"), (759.5, "12:40"), (3723, "1:02:03")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_progress_redraws_in_place_at_most_twice_a_second():
    times = iter([100.0, 100.1, 100.6, 100.7, 101.0])
    out = io.StringIO()
    progress = Progress(out, 1000, clock=lambda: next(times))
    progress.update(10, 100)  # 0.1 s: too soon
    progress.update(60, 600)  # 0.6 s: drawn
    progress.update(70, 700)  # 0.1 s after: too soon
    progress.finish(100, 1000)
    assert out.getvalue() == (
        "\r60 flows sent, 100 flows/s, 0:01 left\x1b[K\r100 flows sent, 100 flows/s\x1b[K\n"
    )


def test_a_quick_file_leaves_no_progress():
    out = io.StringIO()
    progress = Progress(out, 10, clock=iter([0.0, 0.1, 0.2]).__next__)
    progress.update(1, 5)
    progress.finish(2, 10)
    assert out.getvalue() == ""
