// Package openflow describes OpenFlow flows independently of any
// connection and encodes them for OpenFlow 1.3 with the Nicira extensions
// OVN-style pipelines need.
//
//   - Flow (table, priority, cookie, Match, Actions): String is ovs-ofctl
//     add-flow text, Marshal an OFPT_FLOW_MOD (OXM/NXM match, meter and
//     apply-actions instructions).
//   - Match fields: an immutable table of OXM/NXM fields (FieldByName,
//     MustField) with widths, masks and ovs-ofctl formats; values up to
//     128 bits are U128.
//   - Actions: output, output:reg, resubmit, set_field (masked loads as
//     NXAST_REG_LOAD/LOAD2), move, push/pop, dec_ttl, ct (zone, nat, exec),
//     ct_clear, controller2 (userdata, pause, meter), conjunction, clone,
//     group, meter, check_pkt_larger, set_queue, learn, sample, bundle
//     (active_backup over ofport members).
//   - Tunnels: tun_metadata0 (the 4-byte Geneve option OVN maps with
//     NXT_TLV_TABLE_MOD, TLVTableMod and GeneveOVN).
//   - Messages: GroupMod, MeterMod, PacketOut/PacketOutRaw, Barrier,
//     SetConfig, SetPacketInFormat, ONF bundles (open, add, commit,
//     discard), NXT_RESUME; DecodePacketIn2 and DecodeOXMs decode what the
//     switch sends and never panic on bad input.
//
// Every encoding is checked against a real ovs-vswitchd: flows installed
// as ovs-ofctl text and as our binary messages dump identically, and a
// paused packet-in resumes (tests named TestRoot*, which need root).
//
// The package is pure: it builds and parses byte slices; the chassis owns
// the connection. It imports nothing from hcnet. ovstest, a test helper,
// runs a private switch.
package openflow
