# Copyright: vswitch.odp contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The odp command's latency at a keystroke: shell completion and help.

Runs inside the sandbox kernel (tests/sandbox/run): a datapath with
BENCH_VPORTS internal vports (default 50), then the median wall time of
BENCH_RUNS (default 10) processes of each:

* ``python_startup``: ``python -c pass``, the floor;
* ``cli_help``: ``odp --help``;
* ``cli_complete_words``: ``odp __complete '' 'odp flow a'`` (no kernel);
* ``cli_complete_vports``: ``odp __complete '' 'odp flow add DP --in-port='``,
  a datapath lookup and a vport dump;
* ``cli_flow_file_lines_per_s``: ``odp flow add --file`` reading BENCH_LINES
  (default 20,000) lines into flows, in this process, before any is sent.

The last lines are the figures, exactly ``bench: <name> <value>``
(milliseconds, or lines per second).
"""

import os
import statistics
import subprocess
import sys
import time

from vswitch_odp import Client
from vswitch_odp.cli import commands, flow, parser

VPORTS = int(os.environ.get("BENCH_VPORTS", "50"))
LINES = int(os.environ.get("BENCH_LINES", "20000"))
RUNS = int(os.environ.get("BENCH_RUNS", "10"))
DP_NAME = "odpbenchcli"
ODP = [sys.executable, "-m", "vswitch_odp.cli"]


def median_ms(argv, expect=None):
    times = []
    for _run in range(RUNS):
        start = time.monotonic()
        out = subprocess.run(argv, stdout=subprocess.PIPE, check=True).stdout
        times.append((time.monotonic() - start) * 1000)
        if expect is not None and expect not in out:
            raise SystemExit("bench: %s did not print %r" % (" ".join(argv), expect))
    return statistics.median(times)


def file_lines_per_s(path):
    """Lines per second of a flow file read into flows, as flow add --file does."""
    with open(path, "w") as handle:
        for number in range(LINES):
            handle.write(
                "--in-port=bc0 --eth-src=02:00:00:%02x:%02x:%02x --eth-type=0x0800 "
                "--tcp-dst=80 --output=bc1\n" % (number >> 16, (number >> 8) & 255, number & 255)
            )
    args = parser.parse_command_line(
        ["flow", "add", DP_NAME, "--file=" + path], commands.COMMANDS
    ).args
    vports = {"bc0": 1, "bc1": 2}
    start = time.monotonic()
    flows = [
        flow._flow_of(items, ufid, vports)  # pylint: disable=protected-access
        for _number, items, ufid in flow.read_flow_file(path, args)
    ]
    assert len(flows) == LINES
    return LINES / (time.monotonic() - start)


def main():
    with Client() as client:
        client.create_datapath(DP_NAME)
        try:
            for number in range(VPORTS):
                client.create_vport(DP_NAME, "bc%d" % number, "internal")
            figures = [
                ("python_startup", median_ms([sys.executable, "-c", "pass"])),
                ("cli_help", median_ms([*ODP, "--help"], b"Usage:")),
                ("cli_complete_words", median_ms([*ODP, "__complete", "", "odp flow a"], b"add")),
                (
                    "cli_complete_vports",
                    median_ms(
                        [*ODP, "__complete", "", "odp flow add %s --in-port=" % DP_NAME],
                        b"bc%d" % (VPORTS - 1),
                    ),
                ),
                ("cli_flow_file_lines_per_s", file_lines_per_s(".sandbox/bench-flows")),
            ]
        finally:
            client.delete_datapath(DP_NAME)
    for name, value in figures:
        print("bench: %s %.0f" % (name, value))


if __name__ == "__main__":
    main()
