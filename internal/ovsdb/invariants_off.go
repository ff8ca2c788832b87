//go:build !invariants

package ovsdb

// invariants makes Commit verify the database after every change set
// (build tag "invariants"; see checkInvariants).
const invariants = false
