package northd

import (
	"maps"
	"slices"

	"hcnet/northd/engine"
	"hcnet/northd/translate"
)

// vparentChanges returns the engine changes that bring the engine's view of
// claimed virtual ports (translate.NB.VirtualParents) in line with the SB
// Port_Binding rows of type virtual: a port whose virtual_parent the
// chassis set and that is bound to a chassis is claimed through that
// parent (routers then resolve its virtual IP to the parent's MAC).
func (d *Daemon) vparentChanges() []engine.Change {
	want := map[string]*translate.VirtualParent{}
	for _, r := range d.sb.table(tPortBinding) {
		if str(r, "type") != "virtual" || ref(r, "chassis") == "" {
			continue
		}
		if ps := strSet(r, "virtual_parent"); len(ps) == 1 && ps[0] != "" {
			name := str(r, "logical_port")
			want[name] = &translate.VirtualParent{Port: name, Parent: ps[0]}
		}
	}
	have := d.eng.NB().VirtualParents
	var out []engine.Change
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if h, ok := have[k]; !ok || *h != *want[k] {
			out = append(out, engine.Change{Table: translate.VirtualParentTable, UUID: k, Row: want[k]})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[k]; !ok {
			out = append(out, engine.Change{Table: translate.VirtualParentTable, UUID: k})
		}
	}
	return out
}
