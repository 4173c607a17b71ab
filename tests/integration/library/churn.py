"""Flow table churn for the dump tests and `make bench`: stable flows, and a
process that keeps adding and deleting other flows.

    python churn.py DATAPATH PORT     # churns until killed

Stable flows match Ethernet sources 02:00:00:xx:xx:xx, churning ones
06:00:00:xx:xx:xx, so the two never collide.
"""

import signal
import subprocess
import sys
import time

from vswitch_odp import Client, Flow

STABLE = 0x020000000000
CHURNING = 0x060000000000
MASK = {"in_port": 0xFFFFFFFF, "eth": {"src": 0xFFFFFFFFFFFF, "dst": 0}}
BATCH = 200  # churning flows added, then deleted, per round


def flow(src, port):
    return Flow({"in_port": port, "eth": {"src": src, "dst": 0}}, MASK, [("output", port)])


def stable_flows(count, port):
    return [flow(STABLE + i, port) for i in range(count)]


def install_stable(client, dp, count, port, chunk=10000):
    """Install the ``count`` stable flows, a chunk at a time (memory)."""
    for start_at in range(0, count, chunk):
        batch = [flow(STABLE + i, port) for i in range(start_at, min(count, start_at + chunk))]
        assert client.put_flows(dp, batch).count(None) == len(batch)


def stable_index(f):
    """The number of a stable flow (its source's low bits); None for others."""
    src = f.key["eth"]["src"]
    return src - STABLE if STABLE <= src < CHURNING else None


def start(datapath, port):
    """Start the churning process; returns it once it has churned a round."""
    proc = subprocess.Popen(
        [sys.executable, __file__, datapath, str(port)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline() == "churning\n"
    return proc


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def main(datapath, port):
    port = int(port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Client() as client:
        dp = client.get_datapath(datapath)
        base, first = 0, True
        while True:
            # Sources cycle through 2**24, so the hash buckets keep moving.
            batch = [flow(CHURNING + (base + i) % (1 << 24), port) for i in range(BATCH)]
            base += BATCH
            client.put_flows(dp, batch)
            client.delete_flows(dp, batch[: BATCH // 2])
            client.delete_flows(dp, batch[BATCH // 2 :])
            if first:
                print("churning", flush=True)
                first = False
            time.sleep(0)


if __name__ == "__main__":
    main(*sys.argv[1:])
