modprobe openvswitch
ovs-dpctl add-dp x
ovs-dpctl add-flow system@x 'in_port(0),eth(),eth_type(0x0806)' 'userspace(pid=-622880905,sFlow(vid=5,pcp=3,output=1234)),userspace(pid=-622880905,userdata(0102030405))'; echo $?
ovs-dpctl add-flow system@x 'in_port(0),eth(),eth_type(0x0806),arp()' 'userspace(pid=-62,sFlow(vid=5,pcp=3,output=1234))'; echo $?
ovs-dpctl add-flow system@x 'in_port(0),eth(),eth_type(0x0806),arp(op=1)' 'userspace(pid=62,sFlow(vid=5,pcp=3,output=1234))'; echo $?
ovs-dpctl add-flow system@x 'in_port(0),eth(),eth_type(0x0806),arp(op=2)' 'userspace(pid=3672086391,sFlow(vid=5,pcp=3,output=1234))'; echo $?
ovs-dpctl dump-flows system@x
