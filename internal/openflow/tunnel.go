package openflow

import (
	"fmt"
	"strings"
)

// TLV table commands (NXT_TLV_TABLE_MOD).
const (
	TLVAdd    = 0
	TLVDelete = 1
	TLVClear  = 2
)

const (
	nxtTLVTableMod = 24
	nxastBundle    = 12
)

// TLVMap maps a Geneve option (class, type, length in bytes) to
// tun_metadata<Index>.
type TLVMap struct {
	OptClass uint16
	OptType  uint8
	OptLen   uint8
	Index    uint16
}

// GeneveOVN is the option OVN carries its logical ingress and egress port
// keys in (class 0x0102, type 0x80, 4 bytes), as tun_metadata0.
var GeneveOVN = TLVMap{OptClass: 0x0102, OptType: 0x80, OptLen: 4, Index: 0}

// String writes m as ovs-ofctl add-tlv-map does.
func (m TLVMap) String() string {
	return fmt.Sprintf("{class=%#x,type=%#x,len=%d}->tun_metadata%d", m.OptClass, m.OptType, m.OptLen, m.Index)
}

// TLVTableMod encodes an NXT_TLV_TABLE_MOD.
func TLVTableMod(command uint16, maps []TLVMap, xid uint32) []byte {
	b := header(nil, TypeExperimenter, xid)
	b = be32(b, nxVendor)
	b = be32(b, nxtTLVTableMod)
	b = be16(b, command)
	b = append(b, 0, 0, 0, 0, 0, 0)
	for _, m := range maps {
		b = be16(b, m.OptClass)
		b = append(b, m.OptType, m.OptLen)
		b = be16(b, m.Index)
		b = append(b, 0, 0)
	}
	return finish(b, 0)
}

// Bundle algorithms and hash fields of the bundle action.
const (
	BundleActiveBackup = 0
	BundleHRW          = 1

	HashEthSrc = 0
)

// BundleAction chooses one of Members (OpenFlow ports) and outputs to it:
// the bundle action of ovs-actions(7) with ofport members. Only
// active_backup over eth_src is rendered by name; others print numbers.
type BundleAction struct {
	Algorithm uint16
	Fields    uint16
	Basis     uint16
	Members   []uint16
}

func (a BundleAction) String() string {
	alg := "hrw"
	if a.Algorithm == BundleActiveBackup {
		alg = "active_backup"
	}
	fields := "eth_src"
	if a.Fields != HashEthSrc {
		fields = fmt.Sprint(a.Fields)
	}
	ms := make([]string, len(a.Members))
	for i, m := range a.Members {
		ms[i] = fmt.Sprint(m)
	}
	return fmt.Sprintf("bundle(%s,%d,%s,ofport,members:%s)", fields, a.Basis, alg, strings.Join(ms, ","))
}

func (a BundleAction) appendTo(b []byte) []byte {
	b, s := nxStart(b, nxastBundle)
	b = be16(b, a.Algorithm)
	b = be16(b, a.Fields)
	b = be16(b, a.Basis)
	b = be32(b, 0x00000002) // member type: NXM_OF_IN_PORT
	b = be16(b, uint16(len(a.Members)))
	b = be16(b, 0) // ofs_nbits
	b = be32(b, 0) // dst: none (plain bundle)
	b = append(b, 0, 0, 0, 0)
	for _, m := range a.Members {
		b = be16(b, m)
	}
	return actEnd(b, s)
}
