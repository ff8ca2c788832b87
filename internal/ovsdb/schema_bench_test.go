package ovsdb

import (
	"testing"

	"hcnet/schema"
)

func BenchmarkParseSchemaNB(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := ParseSchema(schema.Northbound); err != nil {
			b.Fatal(err)
		}
	}
}
