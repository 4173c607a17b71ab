import subprocess
from vswitch_odp.netlink import Transport
subprocess.run(["modprobe", "openvswitch"], check=False)
r = subprocess.run(["modprobe", "psample"], capture_output=True, text=True); print("modprobe psample", r.returncode, r.stderr)
t = Transport()
for name in ("psample", "ovs_packet", "ovs_meter"):
    try:
        info = t.family(name)
        print(name, info.id, info.mcast_groups)
    except Exception as exc:
        print(name, type(exc).__name__, exc)
from vswitch_odp import Client
with Client() as c:
    c.create_datapath("ck")
    c.create_vport("ck", "p1", "internal")
    for i, n in enumerate(["cfm", "bfd", "lacp", "stp", "lldp", "action", "match"]):
        r = subprocess.run(["ovs-dpctl", "add-flow", "system@ck", "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.%d)" % (i+1), "userspace(pid=7,slow_path(%s))" % n], capture_output=True, text=True)
        print(n, r.returncode, r.stderr.strip())
    for f in c.flows("ck"):
        print(f.key["ipv4"]["src"] & 255, f.actions[0][1]["userdata"][28:32].hex())
    r = subprocess.run(["ovs-dpctl", "add-flow", "system@ck", "in_port(1),eth(),eth_type(0x0806)", "psample(group=1,cookie=0x01)"], capture_output=True, text=True)
    print("psample flow", r.returncode, r.stderr.strip())
    c.delete_datapath("ck")
