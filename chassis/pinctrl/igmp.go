package pinctrl

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"hcnet/chassis/ofconn"
)

// OpIGMP is the igmp action (internal/lflow's numbering): IGMP and MLD
// messages punted for multicast snooping.
const OpIGMP = 16

// Membership is one change of a port's multicast group membership, for
// the southbound IGMP_Group table (address, datapath, ports).
type Membership struct {
	Datapath uint32
	Port     uint32
	Group    netip.Addr
	Join     bool // false: the port leaves the group
}

// Memberships reads the group joins and leaves of an IGMP (v1, v2, v3)
// or MLD (v1, v2) message received on port of datapath dp. IGMPv3 and
// MLDv2 records count as joins when they exclude no source
// (MODE_IS_EXCLUDE or CHANGE_TO_EXCLUDE_MODE with no sources, or any
// ALLOW_NEW_SOURCES) and as leaves when they include none
// (MODE_IS_INCLUDE or CHANGE_TO_INCLUDE_MODE with no sources): snooping
// is per group, not per source, as in ovn-controller. Queries and
// anything else give no change.
func Memberships(pkt []byte, dp, port uint32) ([]Membership, error) {
	f, err := parseIP(pkt)
	if err != nil {
		return nil, fmt.Errorf("igmp: %w", err)
	}
	m := f.l4
	var out []Membership
	add := func(group []byte, join bool) {
		g, ok := netip.AddrFromSlice(group)
		if ok && g.IsMulticast() {
			out = append(out, Membership{Datapath: dp, Port: port, Group: g, Join: join})
		}
	}
	// records walks IGMPv3/MLDv2 group records (type, aux words, number
	// of sources, group, sources, aux data).
	records := func(b []byte, n, alen int) error {
		for i := 0; i < n; i++ {
			if len(b) < 4+alen {
				return fmt.Errorf("pinctrl: truncated group record")
			}
			typ, aux, ns := b[0], int(b[1])*4, int(binary.BigEndian.Uint16(b[2:]))
			size := 4 + alen + ns*alen + aux
			if len(b) < size {
				return fmt.Errorf("pinctrl: group record of %d bytes in %d", size, len(b))
			}
			group := b[4 : 4+alen]
			switch {
			case (typ == 2 || typ == 4) && ns == 0, typ == 5:
				add(group, true)
			case (typ == 1 || typ == 3) && ns == 0:
				add(group, false)
			}
			b = b[size:]
		}
		return nil
	}
	switch {
	case !f.v6 && f.proto == 2:
		if len(m) < 8 {
			return nil, fmt.Errorf("pinctrl: IGMP message of %d bytes", len(m))
		}
		switch m[0] {
		case 0x12, 0x16: // v1, v2 membership report
			add(m[4:8], true)
		case 0x17: // v2 leave group
			add(m[4:8], false)
		case 0x22: // v3 membership report
			return out, records(m[8:], int(binary.BigEndian.Uint16(m[6:])), 4)
		}
	case f.v6 && f.proto == protoICMPv6:
		if len(m) < 8 {
			return nil, fmt.Errorf("pinctrl: MLD message of %d bytes", len(m))
		}
		switch m[0] {
		case 131, 132: // v1 report, done
			if len(m) < 24 {
				return nil, fmt.Errorf("pinctrl: MLDv1 message of %d bytes", len(m))
			}
			add(m[8:24], m[0] == 131)
		case 143: // v2 report
			return out, records(m[8:], int(binary.BigEndian.Uint16(m[6:])), 16)
		}
	default:
		return nil, fmt.Errorf("pinctrl: igmp action on a packet that is neither IGMP nor MLD (protocol %d)", f.proto)
	}
	return out, nil
}

func handleIGMP(pi *ofconn.PacketIn) (Result, error) {
	dp, ok1 := ofconn.Uint(pi.Metadata, ofconn.FieldMetadata)
	port, ok2 := ofconn.Uint(pi.Metadata, ofconn.FieldReg(14))
	if !ok1 || !ok2 {
		return Result{}, fmt.Errorf("pinctrl: igmp without metadata or reg14 in the packet-in")
	}
	ms, err := Memberships(pi.Packet, uint32(dp), uint32(port))
	return Result{Multicast: ms}, err
}
