// Package pinctrl is the chassis's controller path: it turns a packet-in
// whose userdata carries one of internal/lflow's controller opcodes into
// what the switch or the southbound must receive.
//
//   - Generated packets, sent back through the pipeline as a packet-out
//     running the flow's nested actions after the packet-in's metadata is
//     restored: ARP request (arp), IPv6 neighbour solicitation and
//     advertisement (nd_ns, nd_na, nd_na_router), ICMPv4/ICMPv6
//     destination unreachable carrying the original datagram (icmp4,
//     icmp4_error, icmp6, icmp6_error), TCP reset (tcp_reset), SCTP ABORT
//     (sctp_abort), and reject, which picks one of the last three with the
//     addresses already swapped.
//   - Paused packets, resumed (NXT_RESUME) with the action's result bit set
//     when a reply was built, unchanged with the bit clear otherwise:
//     DHCPv4 (put_dhcp_opts), DHCPv6 (put_dhcpv6_opts), router
//     advertisement answering a solicitation (put_nd_ra_opts), DNS A/AAAA/PTR
//     answers from the southbound DNS table (dns_lookup), and the MTU of
//     icmp4.frag_mtu/icmp6.frag_mtu written into an ICMP error.
//   - Packets waiting for a neighbour (arp, nd_ns) returned as Held, for
//     the chassis's Buffer, which releases them with the neighbour's MAC
//     when it is learned (re-entering at the output tables, as
//     ovn-controller does), or drops them after BufferTimeout.
//   - Load balancer health checks: Probe builds the TCP SYN or UDP probe
//     of a Service_Monitor (sent to the backend's port on this chassis),
//     handle_svc_check answers come back as Result.Svc (online or
//     offline), and Reset closes the half-open TCP connection.
//     HealthChecks is the schedule and the success/failure state machine
//     (interval, timeout, success_count, failure_count), with time
//     passed in; the chassis sends its probes and writes
//     Service_Monitor.status.
//   - Periodic router advertisements (PeriodicRA from a router port's
//     ipv6_ra_* options, into its peer switch for local ports only) and
//     their schedule (RAScheduler: random between min and max interval);
//     the frame equals ovn-controller's (TestRootRepliesMatchOVNController).
//   - BFD (RFC 5880, RFC 5881): control packets built and parsed
//     (BFDControl; BFDFrame and BFDPacketOut send one into the router
//     pipeline from the port, as ovn-controller does, and the frame equals
//     ovn-controller's, TestRootBFDMatchesOVNController), handle_bfd_msg
//     packet-ins returned as Result.BFD, and BFDSessions: the state
//     machine, detection timeout, jittered transmit schedule, poll/final
//     and admin_down of the southbound BFD rows the chassis runs, with time
//     passed in; the chassis sends and writes BFD.status.
//   - Gratuitous ARPs and RARPs (Announcement: the frame and the
//     packet-out through a localnet port; the frame equals
//     ovn-controller's, TestRootGARPMatchesOVNController) and their
//     schedule (Announcer: at once, then 1, 2, 4 and 8 s later).
//   - Decisions for the chassis to carry out, returned in the Result:
//     learned neighbours (put_arp, put_nd) as a MACBinding, learned MACs
//     (put_fdb) as an FDBEntry, virtual port claims (bind_vport) as a
//     VirtualBinding, ACL log lines (log) as a LogEntry, controller events
//     (trigger_event) as an Event, multicast group joins and leaves read
//     from IGMP and MLD reports (igmp) as Memberships.
//
// The replies are checked against ovn-controller's for the same requests
// (TestRootRepliesMatchOVNController: DHCPv4, DHCPv6, RA, DNS, NA, ICMP
// errors, reject, health check probes and resets): equal, except where we
// follow the RFCs and
// ovn-controller does not (domain_search labels; tcp_reset of a segment
// carrying an ACK takes its sequence number from that ACK, RFC 793; DHCPv6
// RENEW, REBIND, CONFIRM, RELEASE and DECLINE are answered, RFC 8415).
//
// Packet building and the decision are pure: HandleWith takes the
// packet-in and the southbound state it may need (Input: the DNS table)
// and returns the messages to send. Package chassis owns the OpenFlow
// connection, the southbound reads and writes.
package pinctrl
