package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"hcnet/northd/engine"
	"hcnet/northd/nbscript"
	"hcnet/northd/translate"
)

// bigScript is 1,000 switches × 10 ports and 50 routers × 20 ports, each
// router port on its own switch.
func bigScript(switches, ports, routers, rports int) string {
	var b strings.Builder
	for i := 0; i < switches; i++ {
		fmt.Fprintf(&b, "ls ls%d\n", i)
		for j := 0; j < ports; j++ {
			fmt.Fprintf(&b, "lsp ls%d ls%d-p%d addresses=\"0a:00:%02x:%02x:00:%02x 10.%d.%d.%d\"\n", i, i, j, i/256, i%256, j+10, i/256, i%256, j+10)
		}
	}
	sw := 0
	for r := 0; r < routers; r++ {
		fmt.Fprintf(&b, "lr lr%d\n", r)
		for k := 0; k < rports && sw < switches; k, sw = k+1, sw+1 {
			fmt.Fprintf(&b, "lrp lr%d lr%d-ls%d 0a:ff:%02x:%02x:00:01 10.%d.%d.1/24\n", r, r, sw, sw/256, sw%256, sw/256, sw%256)
			fmt.Fprintf(&b, "link ls%d lr%d-ls%d\n", sw, r, sw)
		}
	}
	return b.String()
}

// BenchmarkApplyOnePort measures the engine alone: one port added to a
// switch of the big NB (pure computation, no I/O).
func BenchmarkApplyOnePort(b *testing.B) {
	n := translate.NewNB()
	if err := nbscript.Run(n, bigScript(1000, 10, 50, 20)); err != nil {
		b.Fatal(err)
	}
	e := engine.New(translate.CloneNB(n), translate.Keys{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		next := translate.CloneNB(n)
		if err := nbscript.Apply(next, fmt.Sprintf("lsp ls0 new%d addresses=\"0a:01:00:00:%02x:%02x 10.0.0.%d\"", i, i/256, i%256, 100+i%100)); err != nil {
			b.Fatal(err)
		}
		ch := engine.Changes(n, next)
		n = next
		if _, err := e.Apply(ch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullTranslate is the from-scratch computation of the big NB.
func BenchmarkFullTranslate(b *testing.B) {
	n := translate.NewNB()
	if err := nbscript.Run(n, bigScript(1000, 10, 50, 20)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		translate.Translate(n, translate.Keys{})
	}
}
