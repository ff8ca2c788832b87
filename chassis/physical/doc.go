// Package physical generates the chassis's physical OpenFlow flows, the
// part of the pipeline that is not compiled from logical flows
// (ovn-architecture(7), "Architectural Physical Life Cycle of a Packet"):
// table 0 classifies packets from local ports, provider networks and
// tunnels into a logical datapath and input port; tables 37–41 implement
// the logical output action (remote over tunnels, local, loopback check);
// table 64 bypasses OpenFlow loopback; table 65 turns a logical output
// port into a physical port or a patch into the peer datapath; tables 66
// and 67 hold MAC_Binding lookups.
//
// It is pure: it maps an Input (values derived from the southbound and
// local Open_vSwitch databases) to flows. The daemon builds the Input and
// installs the result through package flowtable.
package physical
