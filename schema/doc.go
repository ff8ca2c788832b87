// Package schema owns the two database schemas hcnet serves: OVN_Northbound
// (ovn-nb.ovsschema) and OVN_Southbound (ovn-sb.ovsschema), table-for-table
// compatible with OVN 23.03 (NB 7.0.0, SB 20.27.0) as ovn-nb(5) and ovn-sb(5)
// document them. The Go models in schema/nb and schema/sb are generated from
// these files with libovsdb's modelgen (go generate ./schema).
//
// It imports nothing of hcnet; everything that needs a schema imports it.
package schema

//go:generate go run github.com/ovn-org/libovsdb/cmd/modelgen -extended -p nb -o nb ovn-nb.ovsschema
//go:generate go run github.com/ovn-org/libovsdb/cmd/modelgen -extended -p sb -o sb ovn-sb.ovsschema
