"""odp meter, ct-limit, vport monitor and datapath set without a kernel:
what each command line asks of the library, its output lines, and usage
errors before anything is asked."""

import json

import pytest
from vswitch_odp import cli
from vswitch_odp.ct_limits import ZoneLimit
from vswitch_odp.meters import Meter, MeterFeatures
from vswitch_odp.vport_events import VportEvent


class Recorder:
    """A library object that records calls and answers from ``replies``."""

    def __init__(self, calls, prefix, replies):
        self._calls, self._prefix, self._replies = calls, prefix, replies

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self._calls.append((self._prefix + name, *args, *tuple(sorted(kwargs.items()))))
            return self._replies.get(name)

        return call


class Datapath:
    def __init__(self, name, ifindex, features, masks_cache_size, stats):
        self.name, self.ifindex, self.features = name, ifindex, features
        self.masks_cache_size, self.stats, self.dispatch = masks_cache_size, stats, "per-vport"


class Events:
    def __init__(self, events):
        self.events = events

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        return iter(self.events)


class FakeClient:
    def __init__(self):
        self.calls = []
        self.replies = {}
        self.events = []
        self.meters = Recorder(self.calls, "meters.", self.replies)
        self.ct_limits = Recorder(self.calls, "ct_limits.", self.replies)
        self.dps = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def set_datapath(self, *args, **kwargs):
        self.calls.append(("set_datapath", *args, *tuple(sorted(kwargs.items()))))

    def datapaths(self):
        return self.dps

    def vport_events(self, datapath=None):
        self.calls.append(("vport_events", datapath))
        return Events(self.events)


@pytest.fixture
def fake(monkeypatch):
    client = FakeClient()
    monkeypatch.setattr(cli, "_open_client", lambda netns=None: client)
    return client


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# -- meter ----------------------------------------------------------------------


def test_meter_add_bands_and_unit(fake, capsys):
    assert run(capsys, "meter", "add", "dp0", "7", "rate=2,burst=3", "--unit=pkts") == (0, "", "")
    assert run(capsys, "m", "a", "dp0", "8", "rate=1000,type=drop", "rate=5000") == (0, "", "")
    ((name, dp, meter, bands, unit), (_n, _d, _m, bands2, unit2)) = fake.calls
    assert (name, dp, meter, unit) == ("meters.set", "dp0", 7, ("unit", "pkts"))
    assert [(b.rate, b.burst, b.type) for b in bands] == [(2, 3, "drop")]
    assert [(b.rate, b.burst, b.type) for b in bands2] == [
        (1000, None, "drop"),
        (5000, None, "drop"),
    ]
    assert unit2 == ("unit", "kbps")


@pytest.mark.parametrize(
    "argv,message",
    [
        (["dp0", "1"], "missing arguments"),
        (["dp0", "x", "rate=1"], "<meter>: invalid value 'x'"),
        (["dp0", "4294967296", "rate=1"], "<meter>: invalid value '4294967296'"),
        (["dp0", "1", "burst=1"], "a band needs rate=N"),
        (["dp0", "1", "rate=1,colour=red"], "expected rate=...,burst=...,type=..."),
        (["dp0", "1", "rate=1,rate=2"], "expected rate=..."),
        (["dp0", "1", "rate=-1"], "<band> rate: invalid value '-1'"),
        (["dp0", "1", "rate=1", "--unit=bps"], "--unit: invalid value 'bps'"),
    ],
)
def test_meter_add_usage_errors_send_nothing(fake, capsys, argv, message):
    status, out, err = run(capsys, "meter", "add", *argv)
    assert status == cli.EXIT_USAGE and out == "" and fake.calls == []
    assert message in err and err.count("\n") == 1


def test_meter_list_lines_and_json(fake, capsys):
    counters = {
        "stats": {"packets": 10, "bytes": 980},
        "used": 5,
        "bands": [("band", {"stats": {"packets": 8, "bytes": 784}})],
    }
    recorded = {"unit": "pkts", "bands": [{"type": "drop", "rate": 2, "burst": 3}]}
    # Meter 3's bands are unknown (another tool set it), meter 4's recorded.
    fake.replies["list"] = [
        Meter("dp0", dict(counters, id=3)),
        Meter("dp0", dict(counters, id=4), recorded),
    ]
    assert run(capsys, "meter", "list", "dp0") == (
        0,
        "meter=3 packets=10 bytes=980 band0.packets=8 band0.bytes=784\n"
        "meter=4 unit=pkts band0=rate=2,burst=3,type=drop packets=10 bytes=980 "
        "band0.packets=8 band0.bytes=784\n",
        "",
    )
    _status, out, _err = run(capsys, "meter", "list", "dp0", "--json")
    stats = {"packets": 10, "bytes": 980, "used": 5, "band_stats": [{"packets": 8, "bytes": 784}]}
    assert json.loads(out) == [
        dict(stats, id=3, unit=None, bands=None),
        dict(stats, id=4, **recorded),
    ]


def test_meter_delete_and_features(fake, capsys):
    fake.replies["features"] = MeterFeatures(
        {"max_meters": 200000, "max_bands": 1, "bands": [("band", {"type": 1})]}
    )
    assert run(capsys, "meter", "delete", "dp0", "3") == (0, "", "")
    assert run(capsys, "meter", "features", "dp0") == (
        0,
        "max_meters=200000 max_bands=1 band_types=drop flags=kbps,pktps,burst,stats\n",
        "",
    )
    assert fake.calls == [("meters.delete", "dp0", 3), ("meters.features", "dp0")]


# -- ct-limit -------------------------------------------------------------------


def test_ct_limit_set_show_delete(fake, capsys):
    fake.replies["get"] = [ZoneLimit(None, 50), ZoneLimit(5, 2, 1)]
    assert run(capsys, "ct-limit", "set", "--default=50", "5=2", "6=0") == (0, "", "")
    assert run(capsys, "ct-limit", "show") == (
        0,
        "zone=default limit=50\nzone=5 limit=2 count=1\n",
        "",
    )
    assert run(capsys, "ct-limit", "show", "5")[0] == 0
    assert run(capsys, "ct-limit", "delete", "5", "--default") == (0, "", "")
    assert fake.calls == [
        ("ct_limits.set", ("default", 50), ("zones", {5: 2, 6: 0})),
        ("ct_limits.get", None),
        ("ct_limits.get", [5]),
        ("ct_limits.delete", [5], ("default", True)),
    ]
    _status, out, _err = run(capsys, "ct-limit", "show", "--json")
    assert json.loads(out) == [
        {"zone": None, "limit": 50, "count": 0},
        {"zone": 5, "limit": 2, "count": 1},
    ]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["set"], "give --default=N and/or ZONE=LIMIT"),
        (["set", "5"], "expected ZONE=LIMIT"),
        (["set", "65536=1"], "<zone>: invalid value '65536'"),
        (["set", "5=x"], "zone 5 limit: invalid value 'x'"),
        (["set", "--default=-1"], "--default: invalid value '-1'"),
        (["delete"], "give zones and/or --default"),
        (["show", "zone1"], "<zone>: invalid value 'zone1'"),
    ],
)
def test_ct_limit_usage_errors_send_nothing(fake, capsys, argv, message):
    status, out, err = run(capsys, "ct-limit", *argv)
    assert status == cli.EXIT_USAGE and out == "" and fake.calls == []
    assert message in err and err.count("\n") == 1


# -- datapath set and --stats -----------------------------------------------------


def test_datapath_set(fake, capsys):
    assert run(
        capsys,
        "datapath",
        "set",
        "dp0",
        "--user-features=unaligned,vport_pids",
        "--masks-cache-size=256",
    ) == (0, "", "")
    assert run(capsys, "d", "s", "dp0", "--user-features=none") == (0, "", "")
    assert run(capsys, "d", "s", "dp0", "--masks-cache-size", "0") == (0, "", "")
    assert fake.calls == [
        (
            "set_datapath",
            "dp0",
            ("features", ["unaligned", "vport_pids"]),
            ("masks_cache_size", 256),
        ),
        ("set_datapath", "dp0", ("features", []), ("masks_cache_size", None)),
        ("set_datapath", "dp0", ("features", None), ("masks_cache_size", 0)),
    ]


@pytest.mark.parametrize(
    "argv,message",
    [
        ([], "give --user-features and/or --masks-cache-size"),
        (["--masks-cache-size=big"], "--masks-cache-size: invalid value 'big'"),
        (["--masks-cache-size=8192"], "--masks-cache-size: invalid value '8192'"),
    ],
)
def test_datapath_set_usage_errors(fake, capsys, argv, message):
    status, _out, err = run(capsys, "datapath", "set", "dp0", *argv)
    assert status == cli.EXIT_USAGE and fake.calls == [] and message in err


def test_datapath_list_stats_shows_settings(fake, capsys):
    stats = {
        "hit": 1,
        "missed": 2,
        "lost": 0,
        "flows": 3,
        "masks": 1,
        "mask_hit": 4,
        "cache_hit": 0,
    }
    fake.dps = [Datapath("dp0", 7, ["unaligned"], 256, stats), Datapath("old", 8, [], None, stats)]
    assert run(capsys, "datapath") == (0, "7: dp0\n8: old\n", "")
    _status, out, _err = run(capsys, "datapath", "list", "--stats")
    assert out.splitlines() == [
        "7: dp0 user-features=unaligned masks-cache-size=256 cache_hit=0 flows=3 hit=1 "
        "lost=0 mask_hit=4 masks=1 missed=2",
        "8: old user-features=none cache_hit=0 flows=3 hit=1 lost=0 mask_hit=4 masks=1 missed=2",
    ]
    (first, _second) = json.loads(run(capsys, "datapath", "--json")[1])
    assert first["masks_cache_size"] == 256 and first["features"] == ["unaligned"]


# -- vport monitor ----------------------------------------------------------------


def test_vport_monitor_lines(fake, capsys):
    fake.events = [
        VportEvent("created", "dp0", 7, "eth1", "netdev", 1, 99),
        VportEvent("overflow"),
        VportEvent("datapath_deleted", "dp0", 7, "dp0", "internal", 0, 99),
    ]
    status, out, err = run(capsys, "vport", "monitor", "dp0")
    assert status == 0 and fake.calls == [("vport_events", "dp0")]
    assert out.splitlines() == [
        "created dp0 eth1 type=netdev port_no=1",
        "overflow",
        "datapath_deleted dp0 dp0 type=internal port_no=0",
    ]
    assert err == "odp: monitoring vport events of datapath dp0\n"
    assert run(capsys, "vport", "mon")[2] == "odp: monitoring vport events of every datapath\n"
