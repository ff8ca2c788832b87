package testbed

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"
)

// Probes are ICMP echo requests sent from a VM at a fixed interval by the
// test itself (a raw socket opened inside the VM's namespace), so a loss
// window is measured on the send times of the probes that were answered,
// whatever the scheduler does to a ping process on a loaded machine.

// ProbeRun is a probe series running in the background.
type ProbeRun struct {
	Interval time.Duration
	done     chan struct{}
	stats    PingStats
	err      error
}

// StartPings sends echo requests to dst every interval for duration in the
// background; Wait returns the result, with Times holding the send times
// of the answered requests.
func (vm *VM) StartPings(dst string, interval, duration time.Duration) *ProbeRun {
	r := &ProbeRun{Interval: interval, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.stats, r.err = vm.probe(dst, interval, duration)
	}()
	return r
}

// Wait waits for the series to end.
func (r *ProbeRun) Wait() (PingStats, error) {
	<-r.done
	return r.stats, r.err
}

func (vm *VM) probe(dst string, interval, duration time.Duration) (PingStats, error) {
	ip := net.ParseIP(dst).To4()
	if ip == nil {
		return PingStats{}, fmt.Errorf("probe from %s: %q is not an IPv4 address", vm.Spec.Name, dst)
	}
	var conn *net.IPConn
	if err := inNamespace(vm.NS, func() error {
		c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
		if err != nil {
			return err
		}
		conn = c.(*net.IPConn)
		return nil
	}); err != nil {
		return PingStats{}, fmt.Errorf("probe from %s: raw icmp socket: %w", vm.where(), err)
	}
	defer conn.Close()
	var idb [2]byte
	_, _ = rand.Read(idb[:])
	id := binary.BigEndian.Uint16(idb[:])

	var mu sync.Mutex // guards sent and answered
	sent := map[int]time.Time{}
	answered := map[int]bool{}
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		buf := make([]byte, 1500)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			b := buf[:n]
			if len(b) >= 20 && b[0]>>4 == 4 { // IPv4 header present
				b = b[int(b[0]&0x0f)*4:]
			}
			if len(b) < 8 || b[0] != 0 || binary.BigEndian.Uint16(b[4:]) != id {
				continue
			}
			seq := int(binary.BigEndian.Uint16(b[6:]))
			mu.Lock()
			if _, ok := sent[seq]; ok {
				answered[seq] = true
			}
			mu.Unlock()
		}
	}()

	start := time.Now()
	tick := time.NewTicker(interval)
	seq := 0
	var sendErr error
	for time.Since(start) < duration && seq < 65535 {
		seq++
		now := time.Now()
		mu.Lock()
		sent[seq] = now
		mu.Unlock()
		if _, err := conn.WriteTo(echoRequest(id, uint16(seq)), &net.IPAddr{IP: ip}); err != nil && sendErr == nil {
			sendErr = err // e.g. no route for a moment: counts as lost
		}
		<-tick.C
	}
	tick.Stop()
	// Late replies: give the last probes a second.
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	<-recvDone

	mu.Lock()
	defer mu.Unlock()
	st := PingStats{Transmitted: seq}
	for q := range answered {
		st.Seqs = append(st.Seqs, q)
	}
	sort.Ints(st.Seqs)
	st.Received = len(st.Seqs)
	for _, q := range st.Seqs {
		st.Times = append(st.Times, sent[q])
	}
	if st.Received == 0 && sendErr != nil {
		return st, fmt.Errorf("probe from %s to %s: nothing answered; first send error: %w", vm.where(), dst, sendErr)
	}
	return st, nil
}

// echoRequest builds an ICMP echo request with a 56-byte payload.
func echoRequest(id, seq uint16) []byte {
	b := make([]byte, 8+56)
	b[0] = 8 // echo request
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	for i := 8; i < len(b); i++ {
		b[i] = byte(i)
	}
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
