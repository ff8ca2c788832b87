package northd

import (
	"strconv"

	"github.com/ovn-org/libovsdb/ovsdb"

	"hcnet/northd/translate"
)

// SB table names.
const (
	tSBGlobal       = "SB_Global"
	tDatapath       = "Datapath_Binding"
	tPortBinding    = "Port_Binding"
	tMulticastGroup = "Multicast_Group"
	tLogicalFlow    = "Logical_Flow"
	tAddressSet     = "Address_Set"
	tPortGroup      = "Port_Group"
	tHAGroup        = "HA_Chassis_Group"
	tHAChassis      = "HA_Chassis"
	tDHCPOptions    = "DHCP_Options"
	tChassis        = "Chassis"
	tChassisPrivate = "Chassis_Private"
)

var sbTables = []string{tSBGlobal, tDatapath, tPortBinding, tMulticastGroup, tLogicalFlow, tAddressSet,
	tPortGroup, tHAGroup, tHAChassis, tDHCPOptions, tChassis, tChassisPrivate}

// sbState mirrors the southbound rows with the indexes the writer needs. The
// row cache is the truth; the indexes are kept in step by update.
type sbState struct {
	rows *rowCache
	// dpOf maps a Datapath_Binding UUID to the NB key (logical switch or
	// router UUID in its external_ids); dpByKey is the reverse.
	dpOf    map[string]string
	dpByKey map[string]string
	// flows maps NB datapath key → flow → Logical_Flow UUID.
	flows map[string]map[translate.Flow]string
	// flowKey remembers each flow row's key for deletion.
	flowKey map[string]translate.Flow
	// strayFlows are Logical_Flow rows northd does not recognise.
	strayFlows map[string]bool
	// portByName maps logical_port → Port_Binding UUID.
	portByName map[string]string
	portNameOf map[string]string
	// byDP indexes Port_Binding and Multicast_Group rows by datapath
	// UUID; rowDP remembers each row's datapath.
	byDP  map[string]map[string]map[string]bool // table → datapath → rows
	rowDP map[string]string
	// byName indexes Port_Group and HA_Chassis_Group rows by name.
	byName map[string]map[string]string // table → name → row
	nameOf map[string]string
	// flowDP is each known flow's logical_datapath UUID.
	flowDP map[string]string
}

func newSBState(sch *ovsdb.DatabaseSchema) *sbState {
	s := &sbState{
		rows:       newRowCache(sch),
		dpOf:       map[string]string{},
		dpByKey:    map[string]string{},
		flows:      map[string]map[translate.Flow]string{},
		flowKey:    map[string]translate.Flow{},
		strayFlows: map[string]bool{},
		portByName: map[string]string{},
		portNameOf: map[string]string{},
		byDP:       map[string]map[string]map[string]bool{tPortBinding: {}, tMulticastGroup: {}},
		rowDP:      map[string]string{},
		byName:     map[string]map[string]string{tPortGroup: {}, tHAGroup: {}},
		nameOf:     map[string]string{},
		flowDP:     map[string]string{},
	}
	// Logical flows are most of SB: keep them as keys, not rows.
	s.rows.compact = map[string]bool{tLogicalFlow: true}
	s.rows.rebuild = s.flowRow
	return s
}

// flowRow rebuilds a Logical_Flow row from its compact form.
func (s *sbState) flowRow(_, uuid string) ovsdb.Row {
	f, ok := s.flowKey[uuid]
	if !ok {
		return ovsdb.Row{}
	}
	return ovsdb.Row{
		"logical_datapath": ovsdb.OvsSet{GoSet: []any{ovsdb.UUID{GoUUID: s.flowDP[uuid]}}},
		"pipeline":         f.Pipeline, "table_id": float64(f.Table), "priority": float64(f.Priority),
		"match": f.Match, "actions": f.Actions,
		"external_ids": ovsdb.OvsMap{GoMap: map[any]any{"stage-name": f.Stage}},
	}
}

func (s *sbState) table(t string) map[string]ovsdb.Row { return s.rows.tables[t] }

// update applies changes to the indexes. Datapath changes are handled
// before flows so a batch that inserts both resolves.
func (s *sbState) update(chs []change) {
	for _, c := range chs {
		if c.Table != tDatapath {
			continue
		}
		if old, ok := s.dpOf[c.UUID]; ok {
			delete(s.dpByKey, old)
			delete(s.dpOf, c.UUID)
		}
		if c.Row != nil {
			ext := strMap(c.Row, "external_ids")
			key := ext["logical-switch"]
			if key == "" {
				key = ext["logical-router"]
			}
			if key != "" {
				s.dpOf[c.UUID] = key
				s.dpByKey[key] = c.UUID
			}
		}
	}
	for _, c := range chs {
		if idx := s.byDP[c.Table]; idx != nil {
			if dp, ok := s.rowDP[c.UUID]; ok {
				delete(idx[dp], c.UUID)
				delete(s.rowDP, c.UUID)
			}
			if c.Row != nil {
				dp := ref(c.Row, "datapath")
				if idx[dp] == nil {
					idx[dp] = map[string]bool{}
				}
				idx[dp][c.UUID] = true
				s.rowDP[c.UUID] = dp
			}
		}
		if idx := s.byName[c.Table]; idx != nil {
			if name, ok := s.nameOf[c.UUID]; ok {
				if idx[name] == c.UUID {
					delete(idx, name)
				}
				delete(s.nameOf, c.UUID)
			}
			if c.Row != nil {
				name := str(c.Row, "name")
				idx[name] = c.UUID
				s.nameOf[c.UUID] = name
			}
		}
		switch c.Table {
		case tLogicalFlow:
			if f, ok := s.flowKey[c.UUID]; ok {
				if m := s.flows[f.Datapath]; m != nil && m[f] == c.UUID {
					delete(m, f)
				}
				delete(s.flowKey, c.UUID)
				delete(s.flowDP, c.UUID)
			}
			delete(s.strayFlows, c.UUID)
			if c.Row == nil {
				continue
			}
			key, ok := s.dpOf[ref(c.Row, "logical_datapath")]
			if !ok {
				s.strayFlows[c.UUID] = true
				continue
			}
			f := translate.Flow{
				Datapath: key, Pipeline: str(c.Row, "pipeline"), Table: num(c.Row, "table_id"),
				Stage: strMap(c.Row, "external_ids")["stage-name"], Priority: num(c.Row, "priority"),
				Match: str(c.Row, "match"), Actions: str(c.Row, "actions"),
			}
			m := s.flows[key]
			if m == nil {
				m = map[translate.Flow]string{}
				s.flows[key] = m
			}
			if _, dup := m[f]; dup {
				s.strayFlows[c.UUID] = true
				continue
			}
			m[f] = c.UUID
			s.flowKey[c.UUID] = f
			s.flowDP[c.UUID] = ref(c.Row, "logical_datapath")
		case tPortBinding:
			if name, ok := s.portNameOf[c.UUID]; ok {
				if s.portByName[name] == c.UUID {
					delete(s.portByName, name)
				}
				delete(s.portNameOf, c.UUID)
			}
			if c.Row != nil {
				name := str(c.Row, "logical_port")
				s.portByName[name] = c.UUID
				s.portNameOf[c.UUID] = name
			}
		}
	}
}

// keys returns the tunnel keys SB holds, for the engine's first computation.
func (s *sbState) keys() translate.Keys {
	k := translate.Keys{Datapaths: map[string]int{}, Ports: map[string]int{}}
	for u, r := range s.table(tDatapath) {
		if key, ok := s.dpOf[u]; ok {
			k.Datapaths[key] = num(r, "tunnel_key")
		}
	}
	for _, r := range s.table(tPortBinding) {
		k.Ports[str(r, "logical_port")] = num(r, "tunnel_key")
	}
	return k
}

// chassisByName maps Chassis.name to its UUID.
func (s *sbState) chassisByName() map[string]string {
	out := map[string]string{}
	for u, r := range s.table(tChassis) {
		out[str(r, "name")] = u
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// rowsOf returns the UUIDs of table's rows (Port_Binding, Multicast_Group)
// on a datapath.
func (s *sbState) rowsOf(table, dp string) map[string]bool { return s.byDP[table][dp] }
