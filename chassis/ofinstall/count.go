package ofinstall

import (
	"context"
	"encoding/binary"
	"fmt"

	"hcnet/internal/openflow"
)

// OpenFlow 1.3 multipart numbers used by FlowCount.
const (
	typeMultipartRequest = 18
	typeMultipartReply   = 19
	multipartAggregate   = 2
)

// aggregateRequest encodes an OFPMP_AGGREGATE request over every table
// for the flows whose cookie is cookie (exact, all 64 bits).
func aggregateRequest(cookie uint64, xid uint32) []byte {
	b := make([]byte, 0, 64)
	b = append(b, openflow.Version13, typeMultipartRequest, 0, 0)
	b = binary.BigEndian.AppendUint32(b, xid)
	b = binary.BigEndian.AppendUint16(b, multipartAggregate)
	b = append(b, 0, 0, 0, 0, 0, 0)           // flags, pad
	b = append(b, openflow.TableAll, 0, 0, 0) // table_id, pad
	b = binary.BigEndian.AppendUint32(b, openflow.PortAny)
	b = binary.BigEndian.AppendUint32(b, openflow.GroupAny)
	b = append(b, 0, 0, 0, 0) // pad
	b = binary.BigEndian.AppendUint64(b, cookie)
	b = binary.BigEndian.AppendUint64(b, ^uint64(0))  // cookie_mask
	b = append(b, 0, 1, 0, 4, 0, 0, 0, 0)             // empty OXM match, padded
	binary.BigEndian.PutUint16(b[2:], uint16(len(b))) // length
	return b
}

// parseAggregateReply returns the flow_count of an OFPMP_AGGREGATE reply.
func parseAggregateReply(msg []byte) (uint32, bool) {
	if len(msg) < 16+20 || msg[1] != typeMultipartReply || binary.BigEndian.Uint16(msg[8:]) != multipartAggregate {
		return 0, false
	}
	return binary.BigEndian.Uint32(msg[16+16:]), true
}

// FlowCount returns how many flows the switch holds with this cookie
// (the installed generation), in every table.
func (c *Conn) FlowCount(ctx context.Context, cookie uint64) (int, error) {
	x := c.nextXID()
	n, found := 0, false
	errs, err := c.exchangeWith(ctx, [][]byte{aggregateRequest(cookie, x)}, func(msg []byte) {
		if binary.BigEndian.Uint32(msg[4:]) != x {
			return
		}
		if v, ok := parseAggregateReply(msg); ok {
			n, found = int(v), true
		}
	})
	if err != nil {
		return 0, err
	}
	if e, ok := errs[x]; ok {
		return 0, fmt.Errorf("ofinstall: flow count from %s: %w", c.target, e)
	}
	if !found {
		return 0, fmt.Errorf("ofinstall: flow count from %s: no aggregate reply", c.target)
	}
	return n, nil
}
