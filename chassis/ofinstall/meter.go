package ofinstall

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"hcnet/internal/openflow"
)

// ParseMeter reads a meter in ovs-ofctl syntax without meter=ID, as the
// chassis writes them: "kbps|pktps[,burst][,stats],bands=type=drop,
// rate=N[,burst_size=M] ..." (bands separated by spaces).
func ParseMeter(spec string) (flags uint16, bands []openflow.MeterBand, err error) {
	head, bandText, ok := strings.Cut(spec, "bands=")
	if !ok {
		return 0, nil, fmt.Errorf("meter %q: no bands", spec)
	}
	for _, f := range strings.Split(strings.TrimSuffix(head, ","), ",") {
		switch f {
		case "kbps":
			flags |= openflow.MeterKbps
		case "pktps":
			flags |= openflow.MeterPktps
		case "burst":
			flags |= openflow.MeterBurst
		case "stats":
			flags |= openflow.MeterStats
		case "":
		default:
			return 0, nil, fmt.Errorf("meter %q: unknown flag %q", spec, f)
		}
	}
	for _, bt := range strings.Fields(bandText) {
		var b openflow.MeterBand
		for _, kv := range strings.Split(bt, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "type":
				if v != "drop" {
					return 0, nil, fmt.Errorf("meter %q: band type %q", spec, v)
				}
			case "rate", "burst_size":
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return 0, nil, fmt.Errorf("meter %q: %s: %w", spec, k, err)
				}
				if k == "rate" {
					b.Rate = uint32(n)
				} else {
					b.Burst = uint32(n)
				}
			default:
				return 0, nil, fmt.Errorf("meter %q: unknown band field %q", spec, k)
			}
		}
		bands = append(bands, b)
	}
	if len(bands) == 0 {
		return 0, nil, fmt.Errorf("meter %q: no bands", spec)
	}
	return flags, bands, nil
}

// SetMeter adds meter id, or modifies it when the switch already has it.
func (c *Conn) SetMeter(ctx context.Context, id uint32, spec string) error {
	flags, bands, err := ParseMeter(spec)
	if err != nil {
		return err
	}
	errs, err := c.exchange(ctx, [][]byte{openflow.MeterMod(openflow.MeterAdd, flags, id, bands, c.nextXID())})
	if err != nil || len(errs) == 0 {
		return err
	}
	x := c.nextXID()
	errs, err = c.exchange(ctx, [][]byte{openflow.MeterMod(openflow.MeterModify, flags, id, bands, x)})
	if err != nil {
		return err
	}
	if e, ok := errs[x]; ok {
		return fmt.Errorf("ofinstall: meter %d (%s): %w", id, spec, e)
	}
	return nil
}
