package replica

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// entry is one proposed transaction.
type entry struct {
	ID          [16]byte // de-duplication id, random per proposal
	Seed        [16]byte // new-row UUIDs derive from it
	WaitExpired bool
	Locks       []string // locks the session holds, sorted
	Ops         json.RawMessage
}

const entryVersion = 1

func (e *entry) encode() []byte {
	b := make([]byte, 0, 64+len(e.Ops))
	b = append(b, entryVersion)
	b = append(b, e.ID[:]...)
	b = append(b, e.Seed[:]...)
	var flags byte
	if e.WaitExpired {
		flags |= 1
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(e.Locks)))
	for _, l := range e.Locks {
		b = binary.AppendUvarint(b, uint64(len(l)))
		b = append(b, l...)
	}
	return append(b, e.Ops...)
}

func decodeEntry(b []byte) (*entry, error) {
	if len(b) < 34 || b[0] != entryVersion {
		return nil, fmt.Errorf("replica: entry of %d bytes, version %v", len(b), b[:min(1, len(b))])
	}
	e := &entry{}
	copy(e.ID[:], b[1:17])
	copy(e.Seed[:], b[17:33])
	e.WaitExpired = b[33]&1 != 0
	b = b[34:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errors.New("replica: entry: bad lock count")
	}
	b = b[k:]
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, errors.New("replica: entry: bad lock")
		}
		e.Locks = append(e.Locks, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	e.Ops = b
	return e, nil
}

func sortedLocks(m map[string]bool) []string {
	var l []string
	for k, v := range m {
		if v {
			l = append(l, k)
		}
	}
	sort.Strings(l)
	return l
}

// result encoding: one flag byte (bit 0: blocked), then the reply.
func encodeResult(blocked bool, reply []byte) []byte {
	b := make([]byte, 0, 1+len(reply))
	if blocked {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return append(b, reply...)
}

func decodeResult(b []byte) (blocked bool, reply json.RawMessage, err error) {
	if len(b) == 0 {
		return false, nil, errors.New("replica: empty result")
	}
	return b[0]&1 != 0, json.RawMessage(b[1:]), nil
}
