// Package ofinstall installs the chassis' flows over its own OpenFlow 1.3
// connection to the integration bridge (<bridge>.mgmt), without spawning
// ovs-ofctl: the Geneve TLV mapping, flow changes in atomic ONF bundles,
// and full replacement (delete everything, add the new generation) in one
// atomic bundle, so packets see the old table or the new, never a mix;
// and meters (add, else modify).
//
// Every request carries its own xid and a barrier ends each exchange;
// an error the switch sends for a flow-mod is returned as a RejectedError
// naming that flow (a bundle refused at commit applies nothing). A
// bundle's open, flow-mods and commit go out in one write answered by one
// barrier: one round trip. The package does I/O; the flows come from chassis/flowtable.
package ofinstall
