import subprocess
from vswitch_odp import Client
subprocess.run(["modprobe", "openvswitch"], check=False)
with Client() as c:
    dp = c.create_datapath("ck")
    c.create_vport("ck", "p1", "internal")
    acts = [
        "userspace(pid=7,sFlow(vid=5,pcp=3,output=1234))",
        "userspace(pid=7,slow_path(cfm))",
        "userspace(pid=7,flow_sample(probability=300,collector_set_id=11,obs_domain_id=22,obs_point_id=33,output_port=2,ingress))",
        "userspace(pid=7,ipfix(output_port=3))",
        "userspace(pid=7,controller(reason=1,dont_send=1,continuation=0,recirc_id=9,rule_cookie=0x1122334455667788,controller_id=4,max_len=128))",
        "userspace(pid=7,userdata(0102030405))",
    ]
    for i, a in enumerate(acts):
        r = subprocess.run(["ovs-dpctl", "add-flow", "system@ck", "in_port(1),eth(),eth_type(0x0800),ipv4(src=10.0.0.%d)" % (i+1), a], capture_output=True, text=True)
        print(a, r.returncode, r.stderr.strip())
    for f in c.flows("ck"):
        print(f.key.get("ipv4"), [(n, v) for n, v in f.actions])
    print(subprocess.run(["ovs-dpctl", "dump-flows", "system@ck"], capture_output=True, text=True).stdout)
    c.delete_datapath("ck")
