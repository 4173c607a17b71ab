"""Kernel tests of applying a state document: the round trip, re-creation,
rollback on a kernel refusal and on a failed verification, check mode, and
a re-run after a kill -9."""

import json
import os
import re
import signal
import subprocess
import sys
import uuid

import pytest
from conftest import run
from test_state import dumped_flows, ip_link, overlay
from vswitch_odp import Client, errors
from vswitch_odp.state import apply as state_apply
from vswitch_odp.state import formats
from vswitch_odp.state.apply import apply, show_owned
from vswitch_odp.state.document import parse_document
from vswitch_odp.state.show import show


def shown(client, names):
    """What `odp show NAMES --format json` prints, for byte-for-byte comparisons."""
    return formats.dump(show_owned(client, names).to_dict(), "json")


def dpctl_flows(dp):
    """`ovs-dpctl dump-flows` lines, sorted, statistics left out (the
    ports up count packets of their own)."""
    return sorted(
        re.sub(r", packets:\d+, bytes:\d+, used:[^,]+", "", line) for line in dumped_flows(dp)
    )


def built(client, dp, tag):
    """Datapath ``dp`` made by apply from the overlay document; the document."""
    document = overlay(dp, tag)
    result = apply(client, parse_document(document))
    assert result.changed and not result.check
    return document


def test_round_trip_changes_nothing_and_recreates_exactly(client, datapaths):
    dp, tag = datapaths(), uuid.uuid4().hex[:4]
    built(client, dp, tag)
    before = shown(client, [dp])
    flows_before = dpctl_flows(dp)
    ports_before = {v.name: v.port_no for v in client.vports(dp)}
    saved = {}
    for fmt in ["json"] + (["yaml"] if formats.have_yaml() else []):
        saved[fmt] = formats.dump(show(client, [dp]).to_dict(), fmt)
        again = apply(client, parse_document(formats.load(saved[fmt])))
        assert not again.changed and again.plan.summary() == "no changes"
    assert shown(client, [dp]) == before
    client.delete_datapath(dp)
    result = apply(client, parse_document(formats.load(saved["json"])))
    assert result.plan.lines()[0] == "+ datapath %s" % dp
    assert shown(client, [dp]) == before
    assert dpctl_flows(dp) == flows_before
    assert {v.name: v.port_no for v in client.vports(dp)} == ports_before
    assert ip_link("red" + tag)["mtu"] == 1450


def _changed(document, dp, tag, bad_flow=None, bad_vport=None, new_dp=None):
    """The overlay document changed everywhere: a vport removed and one added,
    a link changed, a flow removed, one modified and some added (``bad_flow``
    last), a new datapath ``new_dp``."""
    spec = document["datapaths"][dp]
    del spec["vports"]["blue" + tag]
    spec["vports"]["green" + tag] = {"type": "internal", "link": {"mtu": 1300, "up": True}}
    if bad_vport:
        spec["vports"][bad_vport] = {"type": "internal"}
    spec["vports"]["red" + tag]["link"]["mtu"] = 1400
    spec["vports"]["red" + tag]["link"]["addresses"] = ["10.78.0.1/24"]
    spec["flows"] = [dict(spec["flows"][0], actions="red" + tag)]
    spec["flows"] += [
        {"key": "in_port(green%s),eth(src=02:00:00:00:00:%02x)" % (tag, n), "actions": "red" + tag}
        for n in range(1, 50)
    ]
    if bad_flow:
        spec["flows"].append(bad_flow)
    if new_dp:
        document["datapaths"][new_dp] = {
            "vports": {"n" + tag: {"type": "geneve"}},
            "flows": [{"key": "in_port(n%s),eth()" % tag, "actions": []}],
        }
    return document


def _assert_rolled_back(client, names, before, flows_before, document, dp):
    with pytest.raises(errors.ApplyFailed) as caught:
        apply(client, parse_document(document))
    assert caught.value.restored, str(caught.value)
    assert "(verified)" in str(caught.value)
    assert shown(client, names) == before
    assert dpctl_flows(dp) == flows_before
    return caught.value


def test_rollback_on_a_flow_the_kernel_refuses_in_the_last_batch(client, datapaths):
    dp, new_dp, tag = datapaths(), datapaths(), uuid.uuid4().hex[:4]
    other = datapaths("other")
    client.create_datapath(other)
    client.create_vport(other, "o" + tag, "internal")
    document = built(client, dp, tag)
    names = [dp, new_dp]
    before, flows_before = shown(client, names), dpctl_flows(dp)
    foreign = shown(client, [other])
    bad = {
        "key": "in_port(red%s),eth(),eth_type(0x0800),ipv4(proto=6)" % tag,
        "actions": "ct(commit,helper=nosuch)",
    }
    error = _assert_rolled_back(
        client,
        names,
        before,
        flows_before,
        _changed(document, dp, tag, bad_flow=bad, new_dp=new_dp),
        dp,
    )
    assert "helper=nosuch" in str(error) and dp in str(error)
    assert isinstance(error.cause, errors.OdpError)
    assert not [d for d in client.datapaths() if d.name == new_dp]
    assert shown(client, [other]) == foreign
    # The name of another datapath's vport: refused before anything changes.
    taking = overlay(dp, tag)
    taking["datapaths"][dp]["vports"]["o" + tag] = {"type": "internal"}
    with pytest.raises(errors.ValidationError) as caught:
        apply(client, parse_document(taking))
    assert "taken by datapath %s" % other in str(caught.value)
    assert shown(client, names) == before


def test_rollback_on_a_vport_named_like_an_existing_netdev(client, datapaths):
    dp, tag = datapaths(), uuid.uuid4().hex[:4]
    document = built(client, dp, tag)
    taken = "busy" + tag
    run("ip", "link", "add", taken, "type", "dummy")
    try:
        before, flows_before = shown(client, [dp]), dpctl_flows(dp)
        error = _assert_rolled_back(
            client, [dp], before, flows_before, _changed(document, dp, tag, bad_vport=taken), dp
        )
        assert "vport %s/%s" % (dp, taken) in str(error)
        assert run("ip", "link", "show", taken).returncode == 0
    finally:
        run("ip", "link", "delete", taken, check=False)


def test_a_failure_found_only_at_verification_rolls_back(client, datapaths, monkeypatch):
    dp, tag = datapaths(), uuid.uuid4().hex[:4]
    document = built(client, dp, tag)
    before, flows_before = shown(client, [dp]), dpctl_flows(dp)
    real = state_apply.execute
    calls = []

    def sabotaged(odp, changes):
        real(odp, changes)
        if not calls:  # the apply's, not the rollback's
            run("ip", "link", "set", "dev", "red" + tag, "mtu", "1280")
        calls.append(changes)

    monkeypatch.setattr(state_apply, "execute", sabotaged)
    error = _assert_rolled_back(client, [dp], before, flows_before, _changed(document, dp, tag), dp)
    assert "read back differs" in str(error) and "mtu 1280 -> 1400" in str(error)
    assert len(calls) == 2


def test_check_mode_changes_nothing_and_predicts_the_result(client, datapaths):
    dp, tag = datapaths(), uuid.uuid4().hex[:4]
    document = built(client, dp, tag)
    before = shown(client, [dp])
    desired = parse_document(_changed(document, dp, tag))
    predicted = apply(client, desired, check=True)
    assert predicted.changed and predicted.check
    assert shown(client, [dp]) == before
    assert formats.dump(predicted.before.to_dict(), "json") == before
    result = apply(client, desired)
    assert result.plan.lines() == predicted.plan.lines()
    # What check mode predicts is what the kernel has, but for what it cannot
    # know before the vport exists: the MAC and addresses of a new device.
    after = result.after.to_dict()["datapaths"][dp]
    guess = predicted.after.to_dict()["datapaths"][dp]
    assert after["flows"] == guess["flows"]
    assert after["vports"]["red" + tag] == guess["vports"]["red" + tag]
    assert dict(after["vports"]["green" + tag]["link"], mac=None, addresses=None) == dict(
        guess["vports"]["green" + tag]["link"], mac=None, addresses=None
    )
    assert not apply(client, desired, check=True).changed


def test_a_rerun_after_kill_9_mid_apply_converges(client, datapaths, tmp_path):
    dp, other = datapaths(), datapaths("other")
    client.create_datapath(other)
    foreign = shown(client, [other])
    document = {
        "version": 1,
        "datapaths": {
            dp: {
                "vports": {"k" + dp[-4:]: {"type": "internal"}},
                "flows": [
                    {
                        "key": "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.%d.%d.%d)"
                        % (n >> 16, (n >> 8) & 255, n & 255),
                        "actions": "drop",
                    }
                    for n in range(8000)
                ],
            }
        },
    }
    path = tmp_path / "big.json"
    path.write_text(json.dumps(document))
    # The apply is killed (SIGKILL, by itself: at a known point) once half
    # of its flows are sent, after the datapath and its vport were made.
    code = (
        "import os, signal, sys\nfrom vswitch_odp import Client\n"
        "from vswitch_odp.flowplan import FlowPlan\n"
        "from vswitch_odp.state import apply as state_apply, formats\n"
        "from vswitch_odp.state.document import parse_document\n"
        "real = state_apply.apply_plan\n"
        "def half(client, dp, plan, *journal):\n"
        "    real(client, dp, FlowPlan(add=plan.add[:len(plan.add) // 2]), *journal)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "state_apply.apply_plan = half\n"
        "doc = parse_document(formats.load(open(sys.argv[1]).read()))\n"
        "with Client() as odp:\n    state_apply.apply(odp, doc)\n"
    )
    child = subprocess.run([sys.executable, "-c", code, str(path)], check=False)
    assert child.returncode == -signal.SIGKILL
    assert len(client.flows(dp)) == 4000
    result = apply(client, parse_document(document))
    assert result.plan.counts() == {"added": 4000, "modified": 0, "removed": 0}
    assert len(client.flows(dp)) == 8000
    assert not apply(client, parse_document(document)).changed
    assert shown(client, [other]) == foreign


def test_odp_show_and_apply_round_trip(client, datapaths, tmp_path):
    from test_cli import odp  # pylint: disable=import-outside-toplevel

    dp, tag = datapaths(), uuid.uuid4().hex[:4]
    document = overlay(dp, tag)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(document))
    out, _err = odp("apply", path, "--check", status=3)
    assert out.splitlines()[0] == "+ datapath %s" % dp
    assert out.splitlines()[-1].startswith("Plan: ")
    assert dp not in [d.name for d in client.datapaths()]
    out, _err = odp("apply", path, status=3)
    assert out.splitlines()[-1] == "Plan: 8 to add, 2 to change, 0 to remove."
    saved, _err = odp("show", dp, "--format", "json")
    assert saved == shown(client, [dp])
    assert odp("apply", "-", stdin=saved) == ("no changes\n", "")
    # odp show > s.yml; odp datapath delete; odp apply s.yml: exactly as before.
    flows_before = dpctl_flows(dp)
    odp("datapath", "delete", dp)
    odp("apply", "-", stdin=saved, status=3)
    assert odp("show", dp, "--format=json")[0] == saved
    assert dpctl_flows(dp) == flows_before
    changed = _changed(json.loads(json.dumps(document)), dp, "" + tag)
    path.write_text(json.dumps(changed))
    out, _err = odp("apply", path, "--diff", status=3)
    assert "-    blue%s:" % tag in out or '-      "blue%s": {' % tag in out
    assert "- vport %s/blue%s: internal, port_no 9" % (dp, tag) in out.splitlines()
    bad = dict(changed)
    bad["datapaths"][dp]["flows"].append(
        {
            "key": "in_port(1),eth(),eth_type(0x0800),ipv4(proto=6)",
            "actions": "ct(commit,helper=nosuch)",
        }
    )
    path.write_text(json.dumps(bad))
    before = odp("show", dp, "--format=json")[0]
    _out, err = odp("apply", path, status=4)
    assert "helper=nosuch" in err and "(verified)" in err
    assert odp("show", dp, "--format=json")[0] == before
    _out, err = odp("apply", tmp_path / "nosuch.yml", status=1)
    assert "cannot read state document" in err


DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "state.md")
with open(DOC) as _handle:
    DOC_TEXT = _handle.read()


def test_the_apply_example_prints_what_its_comments_say(client):
    (source,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", DOC_TEXT, re.S)
        if "ApplyFailed" in block
    ]
    printed = subprocess.run(
        [sys.executable, "-c", source], check=True, text=True, stdout=subprocess.PIPE
    ).stdout.splitlines()
    comments = [
        line.split("# ", 1)[1].strip()
        for line in source.splitlines()
        if "print(" in line and "# " in line
    ]
    # "True: the flow is as before" prints True.
    assert printed[:3] == [comments[0], comments[1], comments[2].split(":")[0]]
    assert "helper=nosuch" in printed[3] and "(verified)" in printed[3]
    assert "docdp" not in [dp.name for dp in client.datapaths()]


def test_the_odp_commands_of_the_doc(client, tmp_path, monkeypatch):
    from test_cli import odp  # pylint: disable=import-outside-toplevel

    (block,) = re.findall(r"```sh\n(.*?)```", DOC_TEXT, re.S)
    monkeypatch.chdir(tmp_path)
    try:
        for line in block.splitlines():
            command, _hash, comment = line.partition("#")
            words = command.split()
            status = re.search(r"exit status (\d)", comment)
            target = None
            if ">" in words:
                words, target = words[: words.index(">")], words[-1]
            out, _err = odp(*words[1:], status=int(status.group(1)) if status else 0)
            if target:
                (tmp_path / target).write_text(out)
        assert "docp1" in odp("show", "docdp")[0]
    finally:
        try:
            client.delete_datapath("docdp")
        except errors.NoSuchDatapath:
            pass


def test_netdev_vports_are_checked_on_the_host_before_anything_changes(netns, kernel):
    netns = netns("odpst")
    run("ip", "-n", netns, "link", "add", "up0", "type", "dummy")
    run("ip", "-n", netns, "link", "set", "up0", "up")
    run("ip", "-n", netns, "route", "add", "default", "dev", "up0")
    document = {
        "version": 1,
        "datapaths": {
            "hostdp": {"vports": {"up0": {"type": "netdev"}, "hp1": {"type": "internal"}}}
        },
    }
    with Client(netns=netns) as odp:
        with pytest.raises(errors.ValidationError) as caught:
            apply(odp, parse_document(document))
        assert caught.value.field == "datapaths.hostdp.vports.up0"
        assert "default route" in str(caught.value) and "force" in str(caught.value)
        missing = json.loads(json.dumps(document).replace('"up0"', '"nosuch0"'))
        with pytest.raises(errors.ValidationError) as caught:
            apply(odp, parse_document(missing))
        assert "there is no device nosuch0" in str(caught.value)
        assert odp.datapaths() == []
        assert apply(odp, parse_document(document), force=True).changed
        assert [v.name for v in odp.vports("hostdp")] == ["hostdp", "up0", "hp1"]
        odp.delete_datapath("hostdp")
