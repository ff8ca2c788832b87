package server

import (
	"encoding/json"
	"fmt"

	"hcnet/internal/ovsdb"
)

// ServerDBName is the name of the server's own database.
const ServerDBName = "_Server"

// serverSchema describes _Server as ovsdb-server(5) documents it: one row of
// table Database per served database.
const serverSchema = `{
  "name": "_Server",
  "version": "1.2.0",
  "tables": {
    "Database": {
      "columns": {
        "name": {"type": "string"},
        "model": {"type": {"key": {"type": "string", "enum": ["set", ["standalone", "clustered", "relay"]]}}},
        "connected": {"type": "boolean"},
        "leader": {"type": "boolean"},
        "schema": {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
        "cid": {"type": {"key": {"type": "uuid"}, "min": 0, "max": 1}},
        "sid": {"type": {"key": {"type": "uuid"}, "min": 0, "max": 1}},
        "index": {"type": {"key": {"type": "integer"}, "min": 0, "max": 1}}
      },
      "isRoot": true
    }
  }
}`

// ServerSchema returns the parsed _Server schema.
func ServerSchema() *ovsdb.Schema {
	s, err := ovsdb.ParseSchema([]byte(serverSchema))
	if err != nil {
		panic(fmt.Sprintf("server: _Server schema: %v", err))
	}
	return s
}

// dbInfo is what _Server says about one database.
type dbInfo struct {
	Name      string
	Clustered bool
	Leader    bool
	Connected bool // a clustered database knows its leader
	Schema    json.RawMessage
	CID, SID  string
	Index     uint64
}

func optional(present bool, v any) any {
	if !present {
		return []any{"set", []any{}}
	}
	return v
}

// serverRowOps returns the insert or update operation for info.
func serverRow(info dbInfo) map[string]any {
	model := "standalone"
	if info.Clustered {
		model = "clustered"
	}
	return map[string]any{
		"name":      info.Name,
		"model":     model,
		"connected": !info.Clustered || info.Connected,
		"leader":    !info.Clustered || info.Leader,
		"schema":    string(info.Schema),
		"cid":       optional(info.Clustered, []any{"uuid", info.CID}),
		"sid":       optional(info.Clustered, []any{"uuid", info.SID}),
		"index":     optional(info.Clustered, info.Index),
	}
}
