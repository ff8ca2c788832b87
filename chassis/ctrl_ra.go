package chassis

import (
	"math/rand/v2"
	"time"

	"hcnet/chassis/pinctrl"
	"hcnet/chassis/plan"
	"hcnet/chassis/replica"
)

// Periodic router advertisements (ovn-nb(5) ipv6_ra_configs:send_periodic;
// ovn-northd copies the configuration into the router port's Port_Binding
// options ipv6_ra_*): for each such router port whose peer switch has a
// port bound here, the chassis sends the advertisement into the switch's
// pipeline for its own ports, at random intervals between the port's
// minimum and maximum (pinctrl.RAScheduler), from the controller session.

// periodicRAs returns the advertisements this chassis (Chassis UUID
// chassis) sends, by router port name. Ports whose options do not parse
// are left out and their errors returned.
func periodicRAs(sb *replica.DB, chassis string) (map[string]pinctrl.PeriodicRA, []error) {
	if chassis == "" {
		return nil, nil
	}
	var routerPorts []string // UUIDs of router ports that advertise
	for u, r := range sb.Table("Port_Binding") {
		if v, _ := replica.MapValue(r, "options", "ipv6_ra_send_periodic"); v == "true" {
			routerPorts = append(routerPorts, u)
		}
	}
	if len(routerPorts) == 0 {
		return nil, nil
	}
	byName := map[string]string{} // logical_port -> UUID
	localDP := map[string]bool{}  // datapaths with a port bound here
	for u, r := range sb.Table("Port_Binding") {
		byName[replica.Str(r, "logical_port")] = u
		if replica.Ref(r, "chassis") == chassis {
			localDP[replica.Ref(r, "datapath")] = true
		}
	}
	out := map[string]pinctrl.PeriodicRA{}
	var errs []error
	for _, u := range routerPorts {
		r := sb.Row("Port_Binding", u)
		opts := replica.Map(r, "options")
		peer := sb.Row("Port_Binding", byName[opts["peer"]])
		if peer == nil || !localDP[replica.Ref(peer, "datapath")] {
			continue
		}
		dp := sb.Row("Datapath_Binding", replica.Ref(peer, "datapath"))
		if dp == nil {
			continue
		}
		ra, ok, err := pinctrl.ParsePeriodicRA(opts)
		if err != nil {
			errs = append(errs, err)
		}
		if !ok {
			continue
		}
		ra.Datapath = uint32(replica.Int(dp, "tunnel_key"))
		ra.Port = uint32(replica.Int(peer, "tunnel_key"))
		out[replica.Str(r, "logical_port")] = ra
	}
	return out, errs
}

// raSyncLocked brings the advertisement schedule up to date with the
// southbound. d.mu is held.
func (d *daemon) raSyncLocked() {
	if d.sb == nil {
		return
	}
	want, errs := periodicRAs(d.sb, plan.ChassisUUID(d.sb, d.cfg.SystemID))
	for _, err := range errs {
		d.logOnce("periodic-ra", "periodic router advertisement not sent", "err", err)
	}
	c := &d.ctrl
	if c.ras == nil {
		if len(want) == 0 {
			return
		}
		c.ras = pinctrl.NewRAScheduler(rand.Uint32)
	}
	if c.ras.Sync(want, time.Now()) {
		c.kickTimersLocked()
	}
}
