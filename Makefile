# hcnet — build, test, run, bench. See README.md.
GO        ?= go
BIN       ?= bin
DATA      ?= data
# Tests run with a generous per-package timeout; CI's whole run stays well under 60 minutes.
TESTFLAGS ?= -count=1 -timeout 30m
# The pure, deterministic packages also run under the race detector with the
# costly self-checks of the invariants build tag (STYLE.md §8). Timing-bound
# tests (failover windows, e2e) run once, without -race.
RACEPKGS  ?= ./internal/ovsdb ./internal/lflow ./internal/openflow ./internal/jsonrpc \
	./internal/client ./internal/ctl/... ./internal/metrics ./northd/translate ./northd/engine \
	./chassis/plan ./chassis/physical ./chassis/flowtable ./chassis/lflows ./chassis/pinctrl
BENCHTIME ?= 1x

.PHONY: all build test unit e2e run demo bench deps generate vet fmt clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

generate:
	$(GO) generate ./...

vet:
	$(GO) vet ./...

# deps installs what the tests need when it is missing (Debian packages).
deps:
	@scripts/deps.sh

# test runs every test: unit, conformance, interoperability with OVN's tools
# and, as root, the end-to-end scenarios on real Open vSwitch.
test: deps
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) -race -tags invariants $(RACEPKGS)
	$(GO) test $(TESTFLAGS) ./...

# unit runs the tests that need neither root nor Open vSwitch.
unit:
	HCNET_SKIP_OVS=1 $(GO) test $(TESTFLAGS) -short ./...

e2e: deps
	$(GO) test $(TESTFLAGS) -v ./e2e/...

# run starts the embedded default: single-replica nbdb and sbdb, northd and,
# as root with Open vSwitch, local chassis in network namespaces.
run: build
	$(BIN)/hcnet run --data-dir $(DATA) --bin-dir $(BIN)

# demo runs on the system `make run` keeps running (in another terminal);
# it does not rebuild, since the running daemons use bin/.
demo:
	@test -x $(BIN)/hcnet || { echo "make demo: $(BIN)/hcnet is missing; start the system with make run first" >&2; exit 1; }
	$(BIN)/hcnet demo --data-dir $(DATA)

# bench runs the Go benchmarks and the side-by-side harness against OVN's
# components (see README.md, "Benchmarks").
bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

fmt:
	gofmt -l -w .

clean:
	rm -rf $(BIN)

# e2e-matrix runs the end-to-end scenarios for every combination of OVN's
# and hcnet's components (databases, translator, chassis) and writes the
# scenario x combination table into e2e/README.md (owner: e2e).
e2e-matrix: deps
	HCNET_E2E_COMBOS=all HCNET_E2E_MATRIX_OUT=$(CURDIR)/e2e/README.md $(GO) test -count=1 -timeout 90m -v -run '^TestScenarios_Root$$' ./e2e/
