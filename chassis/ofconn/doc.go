// Package ofconn is the chassis's own OpenFlow 1.3 connection to a bridge
// (its <bridge>.mgmt socket) for the controller path: hello, echo
// replies, the switch configuration that makes a service connection
// receive packet-ins, Nicira packet-in2 parsing (packet, metadata,
// userdata, continuation), packet-out and resume.
//
// Conn owns the socket: one goroutine reads, Send is safe from many.
// Message encoding and parsing are pure functions tested on bytes.
package ofconn
