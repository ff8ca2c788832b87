package northd

import (
	"slices"
	"strconv"
	"strings"

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
	tDPGroup        = "Logical_DP_Group"
	tDHCPv6Options  = "DHCPv6_Options"
	tLoadBalancer   = "Load_Balancer"
	tDNS            = "DNS"
)

var sbTables = []string{tSBGlobal, tDatapath, tPortBinding, tMulticastGroup, tLogicalFlow, tDPGroup, tAddressSet,
	tPortGroup, tHAGroup, tHAChassis, tDHCPOptions, tDHCPv6Options, tLoadBalancer, tDNS, tChassis, tChassisPrivate,
	tServiceMonitor, tBFD, tIPMulticast, tIGMPGroup}

// sbState mirrors the southbound rows with the indexes the writer needs. The
// row cache is the truth; the indexes are kept in step by update.
type sbState struct {
	rows *rowCache
	// dpOf maps a Datapath_Binding UUID to the NB key (logical switch or
	// router UUID in its external_ids); dpByKey is the reverse.
	dpOf    map[string]string
	dpByKey map[string]string
	// flowRows maps a flow's content (engine.Content) to its Logical_Flow
	// rows, normally one; flowOf describes each row.
	//
	// SB is monitored for the placement of flows only (logical_datapath,
	// logical_dp_group): the content of the rows northd inserts is known
	// from its own transactions (learn), so a first translation does not
	// read tens of thousands of rows back. Rows another writer made have
	// an unknown content until fetchFlows reads them; flowRows holds the
	// known ones.
	flowRows map[translate.Flow][]string
	flowOf   map[string]sbFlow
	// taught holds contents of rows this process inserted that the
	// monitor has not shown yet; unknown counts rows of unknown content.
	taught  map[string]translate.Flow
	unknown int
	// groupDPs holds each Logical_DP_Group's sorted datapath UUIDs;
	// groupUsers counts the Logical_Flow rows on each group.
	groupDPs   map[string][]string
	groupUsers map[string]int
	// groupKeys caches each group's datapaths as sorted NB keys (absent:
	// the group holds a datapath that is not a switch's or a router's);
	// byGroupKey maps setKey of those keys to a group. Rebuilt when
	// groups or datapaths changed (groupsDirty).
	groupKeys   map[string][]string
	byGroupKey  map[string]string
	groupsDirty bool
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
}

// sbFlow is one Logical_Flow row: its content and where it applies.
type sbFlow struct {
	content translate.Flow
	known   bool   // content is known
	dp      string // logical_datapath, or ""
	group   string // logical_dp_group, or ""
}

func newSBState(sch *ovsdb.DatabaseSchema) *sbState {
	s := &sbState{
		rows:       newRowCache(sch),
		dpOf:       map[string]string{},
		dpByKey:    map[string]string{},
		flowRows:   map[translate.Flow][]string{},
		flowOf:     map[string]sbFlow{},
		taught:     map[string]translate.Flow{},
		groupDPs:   map[string][]string{},
		groupUsers: map[string]int{},
		portByName: map[string]string{},
		portNameOf: map[string]string{},
		byDP:       map[string]map[string]map[string]bool{tPortBinding: {}, tMulticastGroup: {}, tIPMulticast: {}},
		rowDP:      map[string]string{},
		byName:     map[string]map[string]string{tPortGroup: {}, tHAGroup: {}},
		nameOf:     map[string]string{},
	}
	// Logical flows are most of SB: keep them as keys, not rows.
	s.rows.compact = map[string]bool{tLogicalFlow: true}
	s.rows.rebuild = s.flowRow
	return s
}

// flowRow rebuilds a Logical_Flow row from its compact form.
func (s *sbState) flowRow(_, uuid string) ovsdb.Row {
	f, ok := s.flowOf[uuid]
	if !ok {
		return ovsdb.Row{}
	}
	return ovsdb.Row{"logical_datapath": optRef(f.dp), "logical_dp_group": optRef(f.group)}
}

// flowContent reads a Logical_Flow row's content.
func flowContent(r ovsdb.Row) translate.Flow {
	return translate.Flow{Pipeline: str(r, "pipeline"), Table: num(r, "table_id"),
		Stage: strMap(r, "external_ids")["stage-name"], Priority: num(r, "priority"),
		Match: str(r, "match"), Actions: str(r, "actions")}
}

// learn records the content of a Logical_Flow row, from our own insert or
// from fetchFlows.
func (s *sbState) learn(u string, c translate.Flow) {
	f, ok := s.flowOf[u]
	if !ok {
		s.taught[u] = c
		return
	}
	if f.known {
		return
	}
	f.content, f.known = c, true
	s.flowOf[u] = f
	s.flowRows[c] = append(s.flowRows[c], u)
	s.unknown--
}

func (s *sbState) table(t string) map[string]ovsdb.Row { return s.rows.tables[t] }

// update applies changes to the indexes. Datapath changes are handled
// before flows so a batch that inserts both resolves.
func (s *sbState) update(chs []change) {
	for _, c := range chs {
		if c.Table != tDatapath {
			continue
		}
		s.groupsDirty = true
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
			prev, had := s.flowOf[c.UUID]
			s.unindexFlow(c.UUID)
			if c.Row == nil {
				delete(s.taught, c.UUID)
				continue
			}
			f := sbFlow{dp: ref(c.Row, "logical_datapath"), group: ref(c.Row, "logical_dp_group")}
			switch {
			case had && prev.known:
				f.content, f.known = prev.content, true
			case c.Row["match"] != nil:
				f.content, f.known = flowContent(c.Row), true
			default:
				f.content, f.known = s.taught[c.UUID]
				delete(s.taught, c.UUID)
			}
			s.flowOf[c.UUID] = f
			if f.known {
				s.flowRows[f.content] = append(s.flowRows[f.content], c.UUID)
			} else {
				s.unknown++
			}
			if f.group != "" {
				s.groupUsers[f.group]++
			}
		case tDPGroup:
			s.groupsDirty = true
			delete(s.groupDPs, c.UUID)
			if c.Row != nil {
				dps := strSet(c.Row, "datapaths")
				slices.Sort(dps)
				s.groupDPs[c.UUID] = dps
			}
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

// unindexFlow forgets a Logical_Flow row.
func (s *sbState) unindexFlow(u string) {
	f, ok := s.flowOf[u]
	if !ok {
		return
	}
	delete(s.flowOf, u)
	if f.group != "" {
		if s.groupUsers[f.group]--; s.groupUsers[f.group] <= 0 {
			delete(s.groupUsers, f.group)
		}
	}
	if !f.known {
		s.unknown--
		return
	}
	rows := s.flowRows[f.content]
	if i := slices.Index(rows, u); i >= 0 {
		rows = slices.Delete(rows, i, i+1)
	}
	if len(rows) == 0 {
		delete(s.flowRows, f.content)
	} else {
		s.flowRows[f.content] = rows
	}
}

// setKey is the map key of a sorted set of NB datapath keys.
func setKey(keys []string) string { return strings.Join(keys, "\x00") }

// refreshGroups rebuilds groupKeys and byGroupKey if groups or datapaths
// changed since.
func (s *sbState) refreshGroups() {
	if !s.groupsDirty && s.groupKeys != nil {
		return
	}
	s.groupsDirty = false
	s.groupKeys = make(map[string][]string, len(s.groupDPs))
	s.byGroupKey = make(map[string]string, len(s.groupDPs))
	for g, dps := range s.groupDPs {
		keys := make([]string, 0, len(dps))
		ours := true
		for _, u := range dps {
			k, ok := s.dpOf[u]
			if !ok {
				ours = false
				break
			}
			keys = append(keys, k)
		}
		if !ours {
			continue
		}
		slices.Sort(keys)
		s.groupKeys[g] = keys
		k := setKey(keys)
		if cur, ok := s.byGroupKey[k]; !ok || g < cur {
			s.byGroupKey[k] = g
		}
	}
}

// flowDatapaths returns the sorted NB keys of the datapaths a Logical_Flow
// row applies to (its datapath and its group's), and false if one of them
// is not a datapath of ours.
func (s *sbState) flowDatapaths(u string) ([]string, bool) {
	f, ok := s.flowOf[u]
	if !ok || !f.known {
		return nil, false
	}
	var keys []string
	if f.group != "" {
		s.refreshGroups()
		gk, ok := s.groupKeys[f.group]
		if !ok {
			return nil, false
		}
		keys = gk
	}
	if f.dp != "" {
		k, ok := s.dpOf[f.dp]
		if !ok {
			return nil, false
		}
		if len(keys) == 0 {
			return []string{k}, true
		}
		if _, found := slices.BinarySearch(keys, k); !found {
			keys = slices.Clone(keys)
			i, _ := slices.BinarySearch(keys, k)
			keys = slices.Insert(keys, i, k)
		}
	}
	return keys, true
}

// groupFor returns a group whose datapaths are exactly keys, or "".
func (s *sbState) groupFor(keys []string) string {
	s.refreshGroups()
	return s.byGroupKey[setKey(keys)]
}
