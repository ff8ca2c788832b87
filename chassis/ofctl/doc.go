// Package ofctl installs flows into a bridge through `ovs-ofctl`, in
// OpenFlow 1.5 bundles so each change is atomic: Apply sends one diff,
// Replace makes the bridge's whole table equal to a desired set (used at
// start and after a resynchronisation, so the flows of a previous run stay
// until the new set replaces them). It also maintains the Geneve option
// mapping (TLV table) and meters.
//
// It is the thin shell around package flowtable; it runs processes and
// nothing else.
package ofctl
