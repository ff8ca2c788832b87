package flowtable

import (
	"maps"
	"slices"
	"sort"
)

// Desired is a Table kept across rounds: each round the caller Sets every
// owner's flows, then Finish merges. Owners whose flows are unchanged
// cost a comparison; only the keys of changed, new or vanished owners are
// merged again. Finish's result equals Table.Flows over the same owners.
type Desired struct {
	owners    map[string][]Flow
	keys      map[string][]string // owner -> its flows' keys
	keyOwners map[string][]string // key -> owners wanting it (usually one)
	merged    map[string]Flow
	conflicts map[string][]string // key -> conflicts
	round     map[string]bool     // owners Set since the last Finish
	dirty     map[string]struct{}
	// last is the copy Finish returned since the table last changed (nil
	// when none); changed whether the last Finish merged anything.
	last          map[string]Flow
	finished      bool
	lastConflicts []string
	changed       bool
	changedKeys   []string
}

// NewDesired returns an empty Desired.
func NewDesired() *Desired {
	return &Desired{owners: map[string][]Flow{}, keys: map[string][]string{}, keyOwners: map[string][]string{},
		merged: map[string]Flow{}, conflicts: map[string][]string{}, round: map[string]bool{}, dirty: map[string]struct{}{}}
}

func sameFlows(a, b []Flow) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) > 0 && &a[0] == &b[0] {
		return true // the same cached slice (callers never modify flows in place)
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.Table != y.Table || x.Priority != y.Priority || x.Match != y.Match || x.Actions != y.Actions || x.OF != y.OF {
			return false
		}
	}
	return true
}

// Set records the flows of one owner for this round.
func (d *Desired) Set(owner string, flows []Flow) {
	if len(flows) == 0 {
		return
	}
	d.round[owner] = true
	if old, ok := d.owners[owner]; ok && sameFlows(old, flows) {
		return
	}
	d.drop(owner)
	d.owners[owner] = flows
	ks := make([]string, len(flows))
	for i, f := range flows {
		k := f.Key()
		ks[i] = k
		if os := d.keyOwners[k]; !slices.Contains(os, owner) {
			d.keyOwners[k] = append(os, owner)
		}
		d.dirty[k] = struct{}{}
	}
	d.keys[owner] = ks
}

func (d *Desired) drop(owner string) {
	for _, k := range d.keys[owner] {
		if os := slices.DeleteFunc(d.keyOwners[k], func(o string) bool { return o == owner }); len(os) == 0 {
			delete(d.keyOwners, k)
		} else {
			d.keyOwners[k] = os
		}
		d.dirty[k] = struct{}{}
	}
	delete(d.keys, owner)
	delete(d.owners, owner)
}

// Finish forgets the owners not Set since the last Finish, merges the
// keys that changed, and returns the desired flows (a map the caller
// must not modify) and every conflict (as Table.Flows does).
func (d *Desired) Finish() (map[string]Flow, []string) { return d.finish(true) }

// FinishView is Finish returning the table's own map instead of a copy:
// it changes with the next Finish or FinishView, so the caller reads it
// at once and keeps nothing of it but flows (Aggregator.Update does).
func (d *Desired) FinishView() (map[string]Flow, []string) { return d.finish(false) }

func (d *Desired) finish(clone bool) (map[string]Flow, []string) {
	for o := range d.owners {
		if !d.round[o] {
			d.drop(o)
		}
	}
	clear(d.round)
	d.changed = len(d.dirty) > 0 || !d.finished
	d.finished = true
	d.changedKeys = d.changedKeys[:0]
	if d.changed {
		for k := range d.dirty {
			d.mergeKey(k)
			d.changedKeys = append(d.changedKeys, k)
		}
		clear(d.dirty)
		var conflicts []string
		for _, c := range d.conflicts {
			conflicts = append(conflicts, c...)
		}
		sort.Strings(conflicts)
		d.last, d.lastConflicts = nil, conflicts
	}
	if !clone {
		return d.merged, d.lastConflicts
	}
	if d.last == nil {
		d.last = maps.Clone(d.merged)
	}
	return d.last, d.lastConflicts
}

// Changed reports whether the last Finish (or FinishView) returned a
// different table than the one before. Callers must treat returned maps as read-only: an
// unchanged round returns the same map again.
func (d *Desired) Changed() bool { return d.changed }

// ChangedKeys are the keys the last Finish merged again (added, removed
// or possibly modified); valid until the next Finish.
func (d *Desired) ChangedKeys() []string { return d.changedKeys }

// mergeKey recomputes one key as Table.Flows would: owners in sorted
// order, conjunctions combined, otherwise the first owner wins.
func (d *Desired) mergeKey(k string) {
	delete(d.conflicts, k)
	os := d.keyOwners[k]
	if len(os) == 0 {
		delete(d.merged, k)
		return
	}
	names := slices.Clone(os)
	sort.Strings(names)
	t := Table{owners: make(map[string][]Flow, len(names))}
	for _, o := range names {
		for i, f := range d.owners[o] {
			if d.keys[o][i] == k {
				t.owners[o] = append(t.owners[o], f)
			}
		}
	}
	fs, conflicts := t.Flows()
	d.merged[k] = fs[k]
	if len(conflicts) > 0 {
		d.conflicts[k] = conflicts
	}
}
