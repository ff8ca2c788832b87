package config

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// Encapsulation types a chassis can offer.
const (
	EncapGeneve = "geneve"
	EncapVXLAN  = "vxlan"
)

// Keys of Open_vSwitch:external_ids the chassis reads.
const (
	KeySystemID           = "system-id"
	KeyRemote             = "ovn-remote"
	KeyEncapType          = "ovn-encap-type"
	KeyEncapIP            = "ovn-encap-ip"
	KeyBridge             = "ovn-bridge"
	KeyBridgeDatapathType = "ovn-bridge-datapath-type"
	KeyBridgeMappings     = "ovn-bridge-mappings"
	KeySite               = "site"
	KeyCMSOptions         = "ovn-cms-options"
	KeyHostname           = "hostname"
)

// Config is what one chassis needs to run. Zero values mean "take it from
// the Open_vSwitch table, then the default".
type Config struct {
	// SystemID names the chassis (Chassis.name). No default: required.
	SystemID string
	// Remote is the southbound database, comma-separated unix:PATH and
	// tcp:IP:PORT entries. No default: required.
	Remote string
	// EncapTypes are the tunnel types offered, in preference order.
	// Default [geneve].
	EncapTypes []string
	// EncapIP is the underlay address tunnels use. Default: the address
	// of the interface holding the default route (filled by the daemon).
	EncapIP string
	// Bridge is the integration bridge. Default br-int.
	Bridge string
	// BridgeDatapathType is the integration bridge's datapath_type when
	// the chassis creates it. Default "" (OVS's default, system).
	BridgeDatapathType string
	// BridgeMappings maps physical network names to provider bridges, for
	// localnet ports ("physnet1:br-ex"). Default none.
	BridgeMappings map[string]string
	// Site is the hybrid-cloud site this chassis belongs to
	// (Chassis.external_ids:site). Default "".
	Site string
	// CMSOptions is passed to Chassis.other_config:ovn-cms-options
	// ("enable-chassis-as-gw" makes northd pick this chassis for gateway
	// ports). Default "".
	CMSOptions string
	// Hostname for Chassis.hostname. Default: the daemon's host name.
	Hostname string
}

// FromExternalIDs reads a Config from Open_vSwitch:external_ids. Malformed
// values are reported by Validate after merging, not here, so a flag can
// still override them.
func FromExternalIDs(ids map[string]string) Config {
	var c Config
	c.SystemID = strings.TrimSpace(ids[KeySystemID])
	c.Remote = strings.TrimSpace(ids[KeyRemote])
	if v := strings.TrimSpace(ids[KeyEncapType]); v != "" {
		c.EncapTypes = splitList(v)
	}
	c.EncapIP = strings.TrimSpace(ids[KeyEncapIP])
	c.Bridge = strings.TrimSpace(ids[KeyBridge])
	c.BridgeDatapathType = strings.TrimSpace(ids[KeyBridgeDatapathType])
	if v := strings.TrimSpace(ids[KeyBridgeMappings]); v != "" {
		c.BridgeMappings = ParseBridgeMappings(v)
	}
	c.Site = strings.TrimSpace(ids[KeySite])
	c.CMSOptions = strings.TrimSpace(ids[KeyCMSOptions])
	c.Hostname = strings.TrimSpace(ids[KeyHostname])
	return c
}

// Merge returns c with every non-zero field of o overriding c's.
func (c Config) Merge(o Config) Config {
	if o.SystemID != "" {
		c.SystemID = o.SystemID
	}
	if o.Remote != "" {
		c.Remote = o.Remote
	}
	if len(o.EncapTypes) > 0 {
		c.EncapTypes = append([]string(nil), o.EncapTypes...)
	}
	if o.EncapIP != "" {
		c.EncapIP = o.EncapIP
	}
	if o.Bridge != "" {
		c.Bridge = o.Bridge
	}
	if o.BridgeDatapathType != "" {
		c.BridgeDatapathType = o.BridgeDatapathType
	}
	if len(o.BridgeMappings) > 0 {
		c.BridgeMappings = make(map[string]string, len(o.BridgeMappings))
		for k, v := range o.BridgeMappings {
			c.BridgeMappings[k] = v
		}
	}
	if o.Site != "" {
		c.Site = o.Site
	}
	if o.CMSOptions != "" {
		c.CMSOptions = o.CMSOptions
	}
	if o.Hostname != "" {
		c.Hostname = o.Hostname
	}
	return c
}

// WithDefaults fills the documented defaults.
func (c Config) WithDefaults() Config {
	if len(c.EncapTypes) == 0 {
		c.EncapTypes = []string{EncapGeneve}
	}
	if c.Bridge == "" {
		c.Bridge = "br-int"
	}
	return c
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.SystemID == "" {
		return fmt.Errorf("config: system-id is empty (set Open_vSwitch external_ids:%s or --system-id)", KeySystemID)
	}
	if c.Remote == "" {
		return fmt.Errorf("config: ovn-remote is empty (set Open_vSwitch external_ids:%s or --ovn-remote)", KeyRemote)
	}
	for _, r := range strings.Split(c.Remote, ",") {
		r = strings.TrimSpace(r)
		if !strings.HasPrefix(r, "unix:") && !strings.HasPrefix(r, "tcp:") && !strings.HasPrefix(r, "ssl:") {
			return fmt.Errorf("config: ovn-remote %q: want unix:PATH or tcp:IP:PORT", r)
		}
	}
	if len(c.EncapTypes) == 0 {
		return fmt.Errorf("config: ovn-encap-type is empty")
	}
	for _, t := range c.EncapTypes {
		if t != EncapGeneve && t != EncapVXLAN {
			return fmt.Errorf("config: ovn-encap-type %q: want %s or %s", t, EncapGeneve, EncapVXLAN)
		}
	}
	if c.EncapIP != "" {
		if _, err := netip.ParseAddr(c.EncapIP); err != nil {
			return fmt.Errorf("config: ovn-encap-ip %q: %w", c.EncapIP, err)
		}
	}
	if c.Bridge == "" {
		return fmt.Errorf("config: ovn-bridge is empty")
	}
	for net, br := range c.BridgeMappings {
		if net == "" || br == "" {
			return fmt.Errorf("config: ovn-bridge-mappings entry %q:%q: want physnet:bridge", net, br)
		}
		if br == c.Bridge {
			return fmt.Errorf("config: ovn-bridge-mappings maps %q to the integration bridge %q", net, br)
		}
	}
	return nil
}

// ParseBridgeMappings parses "physnet1:br-ex,physnet2:br-p2". Entries without
// a colon are kept with an empty bridge so Validate reports them.
func ParseBridgeMappings(s string) map[string]string {
	m := map[string]string{}
	for _, e := range splitList(s) {
		net, br, _ := strings.Cut(e, ":")
		m[strings.TrimSpace(net)] = strings.TrimSpace(br)
	}
	return m
}

// FormatBridgeMappings is the inverse of ParseBridgeMappings, sorted by
// network name.
func FormatBridgeMappings(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+":"+m[k])
	}
	return strings.Join(parts, ",")
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}
