// Package sbcmd holds the commands of sbctl, the OVN_Southbound CLI for
// operators: "show" (chassis with their site, encapsulations, bound ports
// and gateway duties), "chassis-list" with liveness, "lflow-list", the
// binding helpers of ovn-sbctl(8) and the generic database commands.
//
// It is pure command logic over a ctl.Txn; the connection belongs to the
// caller (cmd/sbctl).
package sbcmd
