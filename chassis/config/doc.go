// Package config owns the chassis daemon's configuration: the values
// ovn-controller reads from the local Open_vSwitch table's external_ids
// (system-id, ovn-remote, ovn-encap-type, ovn-encap-ip, ovn-bridge,
// ovn-bridge-datapath-type, ovn-bridge-mappings) plus hcnet's `site`, merged
// with command-line overrides, defaulted and validated.
//
// It is pure: it reads neither flags, the environment nor sockets. The
// daemon (package chassis) feeds it the external_ids it monitors and the
// flag values cmd/chassis parsed.
package config
