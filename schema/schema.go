package schema

import (
	_ "embed"
)

// Northbound is the OVN_Northbound schema, as JSON (RFC 7047 §3.2).
//
//go:embed ovn-nb.ovsschema
var Northbound []byte

// Southbound is the OVN_Southbound schema, as JSON (RFC 7047 §3.2).
//
//go:embed ovn-sb.ovsschema
var Southbound []byte

// Database names, as they appear on the wire.
const (
	NorthboundName = "OVN_Northbound"
	SouthboundName = "OVN_Southbound"
)
