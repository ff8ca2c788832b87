//go:build !invariants

package ovsdb

// invariants enables costly self-checks (build tag "invariants").
const invariants = false

func (d *Database) checkInvariants() {}
