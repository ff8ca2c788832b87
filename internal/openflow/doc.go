// Package openflow describes OpenFlow flows independently of any
// connection and encodes them: match fields (OXM/NXM), actions including
// the Nicira extensions OVN-style pipelines need (resubmit, move,
// set_field with masks, push/pop, ct with nat and exec, ct_clear,
// dec_ttl, controller2 with userdata and pause, conjunction, clone,
// check_pkt_larger, groups, meters), rendered as ovs-ofctl text (String)
// and as OpenFlow 1.3 messages (FlowMod, GroupMod, MeterMod, PacketOut,
// bundles, NXT_RESUME) plus a decoder for NXT_PACKET_IN2.
//
// It is pure: it builds and parses byte slices; the chassis owns the
// connection. It imports nothing from hcnet. Values of any width up to
// 128 bits are U128. Fields are identified by *Field from an immutable
// table (FieldByName, MustField).
package openflow
