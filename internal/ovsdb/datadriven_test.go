package ovsdb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"hcnet/schema"
)

func loadSchemaBytes(name string) []byte {
	switch name {
	case "nb":
		return schema.Northbound
	case "sb":
		return schema.Southbound
	}
	return nil
}

func loadSchema(t testing.TB, name string) *Schema {
	t.Helper()
	var data []byte
	switch name {
	case "nb":
		data = schema.Northbound
	case "sb":
		data = schema.Southbound
	default:
		var err error
		data, err = os.ReadFile(filepath.Join("testdata", name+".ovsschema"))
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := ParseSchema(data)
	if err != nil {
		t.Fatalf("parse schema %s: %v", name, err)
	}
	return s
}

// TestDataDriven runs the conformance scripts in testdata/txn. Commands:
//
//	schema name=<test|nb|sb>   start from an empty database of that schema
//	transact [seed=N] [expired] [locks=a,b]
//	  <JSON array of operations>
//	                           prints the reply, one element per line, then
//	                           the change set (which is committed)
//	dump [table=T]             prints every row
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/txn", func(t *testing.T, path string) {
		var db *Database
		seed := byte(0)
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "schema":
				var name string
				d.ScanArgs(t, "name", &name)
				db = NewDatabase(loadSchema(t, name))
				return ""
			case "transact":
				txn := Txn{Ops: json.RawMessage(d.Input)}
				seed++
				txn.Seed[0] = seed
				for _, a := range d.CmdArgs {
					switch a.Key {
					case "seed":
						var n int
						d.ScanArgs(t, "seed", &n)
						txn.Seed[0] = byte(n)
					case "expired":
						txn.WaitExpired = true
					case "locks":
						txn.Locks = map[string]bool{}
						for _, l := range a.Vals {
							txn.Locks[l] = true
						}
					}
				}
				res := db.Execute(txn)
				var out strings.Builder
				if res.Blocked {
					out.WriteString("blocked\n")
				} else {
					out.WriteString(formatReply(t, res.Reply))
				}
				if res.Durable {
					out.WriteString("durable\n")
				}
				res.Changes.Each(func(table string, uuid UUID, old, new Row) {
					ts := db.Schema().Tables[table]
					switch {
					case old == nil:
						fmt.Fprintf(&out, "insert %s %s\n", table, InsertRowJSON(ts, new, userColumns(ts), true))
					case new == nil:
						fmt.Fprintf(&out, "delete %s %s\n", table, uuid)
					default:
						m, _ := Update2Modify(ts, old, new, userColumns(ts))
						fmt.Fprintf(&out, "modify %s %s %s\n", table, uuid, m)
					}
				})
				db.Commit(res.Changes)
				return out.String()
			case "dump":
				var out strings.Builder
				for _, ts := range db.Schema().TableList() {
					if d.HasArg("table") {
						var tn string
						d.ScanArgs(t, "table", &tn)
						if tn != ts.Name {
							continue
						}
					}
					db.Rows(ts.Name, func(u UUID, r Row) bool {
						fmt.Fprintf(&out, "%s %s %s\n", ts.Name, u, InsertRowJSON(ts, r, userColumns(ts), true))
						return true
					})
				}
				return out.String()
			}
			t.Fatalf("unknown command %q", d.Cmd)
			return ""
		})
	})
}

// formatReply prints a reply array with one element per line.
func formatReply(t *testing.T, reply json.RawMessage) string {
	var elems []json.RawMessage
	if err := json.Unmarshal(reply, &elems); err != nil {
		t.Fatalf("reply %s is not a JSON array: %v", reply, err)
	}
	var b bytes.Buffer
	for _, e := range elems {
		b.Write(e)
		b.WriteByte('\n')
	}
	return b.String()
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// userColumns names a table's schema columns, without _uuid and _version.
func userColumns(ts *TableSchema) []string {
	var l []string
	for _, c := range ts.ColumnList() {
		l = append(l, c.Name)
	}
	return l
}
