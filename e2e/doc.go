// Package e2e holds hcnet's end-to-end scenarios on real Open vSwitch (see
// scenarios_test.go) and the interoperability matrix: each scenario runs
// against a testbed (hcnet/e2e/testbed) whose databases, translator and
// chassis daemons are OVN's or ours, chosen per run with HCNET_E2E_COMBOS.
// The package has no non-test code beyond this file.
package e2e
