// Package ofconn holds the OpenFlow 1.3 messages of the chassis's own
// controller connection to a bridge (its <bridge>.mgmt socket): hello,
// echo replies, the switch configuration that makes a service connection
// receive packet-ins, Nicira packet-in2 parsing (packet, metadata,
// userdata, continuation), packet-out and resume, and metadata helpers.
//
// It is pure encoding and parsing, tested on bytes; package chassis owns
// the socket (one goroutine reads, writes are serialised).
package ofconn
