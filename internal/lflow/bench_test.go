package lflow

import (
	"fmt"
	"hcnet/internal/openflow"
	"strings"
	"testing"
	"time"
)

// BenchmarkCompileCorpus compiles every logical flow instance of
// testdata/corpus.json (real ovn-northd output) per iteration and reports
// logical flows per second and OpenFlow flows per logical flow.
//
//	go test ./internal/lflow -run XXX -bench CompileCorpus -benchmem
func BenchmarkCompileCorpus(b *testing.B) {
	c := loadCorpus(b)
	ins := c.instances()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var lflows, ofs int
	for i := 0; i < b.N; i++ {
		for _, in := range ins {
			flows, err := Compile(in.lf, in.env)
			if err != nil {
				continue
			}
			lflows++
			ofs += len(flows)
		}
	}
	el := time.Since(start)
	b.ReportMetric(float64(lflows)/el.Seconds(), "lflows/s")
	b.ReportMetric(float64(ofs)/float64(max(lflows, 1)), "ofs/lflow")
	b.ReportMetric(float64(el.Nanoseconds())/float64(max(lflows, 1)), "ns/lflow")
}

// BenchmarkParseCorpus parses match and actions of every corpus flow; the
// ratio to BenchmarkCompileCorpus shows what normalisation and encoding
// cost on top of parsing.
func BenchmarkParseCorpus(b *testing.B) {
	c := loadCorpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	n := 0
	for i := 0; i < b.N; i++ {
		for _, f := range c.Flows {
			ParseExpr(f.Match)
			ParseActions(f.Actions)
			n++
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "lflows/s")
}

// BenchmarkEncodeCorpus encodes the compiled corpus as FLOW_MODs.
func BenchmarkEncodeCorpus(b *testing.B) {
	c := loadCorpus(b)
	var all []flowT
	for _, in := range c.instances() {
		flows, err := Compile(in.lf, in.env)
		if err == nil {
			all = append(all, flows...)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	bytes := 0
	for i := 0; i < b.N; i++ {
		for _, f := range all {
			bytes += len(f.Marshal(0, 1))
		}
	}
	b.ReportMetric(float64(len(all)*b.N)/time.Since(start).Seconds(), "flowmods/s")
	b.ReportMetric(float64(bytes)/float64(max(len(all)*b.N, 1)), "bytes/flowmod")
}

type flowT = openflow.Flow

// BenchmarkLargeAddressSet compiles a match on a 4000-address set, plain
// (4000 flows) and as a three-way conjunction with a port group and ports.
func BenchmarkLargeAddressSet(b *testing.B) {
	var addrs []string
	for i := 0; i < 4000; i++ {
		addrs = append(addrs, fmt.Sprintf("10.%d.%d.%d", i/65536, (i/256)%256, i%256))
	}
	env := testEnv()
	env.AddressSet = func(string) ([]string, bool) { return addrs, true }
	for _, m := range []string{"ip4.src == $big && tcp", "outport == @pg1 && ip4.src == $big && tcp.dst == {80, 443}"} {
		b.Run(fmt.Sprintf("%d-dims", strings.Count(m, "&&")+1), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Compile(LogicalFlow{Pipeline: "ingress", Match: m, Actions: "next;"}, env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
