package lflow

import (
	"strings"

	"hcnet/internal/openflow"
)

// Env holds the lookups a compilation needs from its caller. Every field
// may be nil; a nil lookup finds nothing.
type Env struct {
	// Port maps a logical port or multicast group name (Port_Binding
	// logical_port, Multicast_Group name) of the flow's datapath to its
	// tunnel key. Comparisons with unknown names are false, and flows that
	// set outport to an unknown name are not produced.
	Port func(name string) (tunnelKey uint32, ok bool)
	// AddressSet returns the addresses of Address_Set $name.
	AddressSet func(name string) ([]string, bool)
	// PortGroup returns the logical port names of Port_Group @name.
	PortGroup func(name string) ([]string, bool)
	// IsLocal reports whether a logical port is resident on this chassis
	// (is_chassis_resident()).
	IsLocal func(port string) bool
	// TunnelPort returns the OpenFlow port of the tunnel towards the
	// chassis where a remote logical port resides: fwd_group(liveness=
	// true) buckets watch it. When nil, remote children get a bucket that
	// watches nothing.
	TunnelPort func(port string) (ofport uint32, ok bool)
	// Meter returns the OpenFlow meter id for a meter name (log(meter=),
	// set_meter, controller meters).
	Meter func(name string) (uint32, bool)
	// Group returns an OpenFlow group id for a group description (used by
	// ct_lb/ct_lb_mark with several backends and select()). The caller
	// must install the group; equal descriptions should get equal ids.
	Group func(g openflow.GroupDesc) uint32
	// DHCPOption returns the code and type of a DHCPv4 option name from
	// the DHCP_Options table ("offerip", "router", ...). DHCPv6Option the
	// same for DHCPv6_Options. When nil, OVN's built-in options are used.
	DHCPOption   func(name string) (code uint8, typ string, ok bool)
	DHCPv6Option func(name string) (code uint16, typ string, ok bool)
	// Templates are this chassis's template variables
	// (Chassis_Template_Var variables): ^NAME in a flow's match or
	// actions is replaced by its value before parsing; an undefined
	// ^NAME is left in place and fails to parse, as in ovn-controller.
	Templates map[string]string
	// ConjIDBase is added to the conjunction ids a flow uses (0, 1, ...);
	// callers give each logical flow its own range. Zero: use the low 24
	// bits of the flow's cookie shifted left by 4.
	ConjIDBase uint32
}

// ExpandTemplates replaces each ^NAME outside string literals in s by
// vars[NAME] (Chassis_Template_Var, OVN 23.03). Names are identifier
// characters; undefined names stay as written.
func ExpandTemplates(s string, vars map[string]string) string {
	if !strings.Contains(s, "^") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				j = len(s) - 1
			}
			b.WriteString(s[i : j+1])
			i = j
		case c == '^' && i+1 < len(s) && isIDStart(s[i+1]):
			j := i + 1
			for j < len(s) && (isIDChar(s[j]) && s[j] != '.') {
				j++
			}
			if v, ok := vars[s[i+1:j]]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i:j])
			}
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
