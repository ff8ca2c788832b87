package northd_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPureCoreImports keeps translate, engine and nbscript free of I/O, and
// northd apart from chassis (STYLE.md §1, §2). net/netip (pure value
// types) is allowed; net (sockets) is not.
func TestPureCoreImports(t *testing.T) {
	forbidden := map[string][]string{
		"translate": {"net", "os", "os/exec", "hcnet/internal/client", "hcnet/internal/jsonrpc", "hcnet/chassis"},
		"engine":    {"net", "os", "os/exec", "hcnet/internal/client", "hcnet/internal/jsonrpc", "hcnet/chassis"},
		"nbscript":  {"net", "os", "os/exec", "hcnet/internal/client", "hcnet/internal/jsonrpc", "hcnet/chassis"},
		".":         {"hcnet/chassis"},
	}
	for dir, bad := range forbidden {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range bad {
					if p == b || (strings.HasPrefix(p, b+"/") && p != "net/netip") {
						t.Errorf("%s imports %s", f, p)
					}
				}
			}
		}
	}
}
