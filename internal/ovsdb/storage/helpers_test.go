package storage

import sm "github.com/lni/dragonboat/v4/statemachine"

func sm3(cmds ...string) []sm.Entry {
	var es []sm.Entry
	for i, c := range cmds {
		es = append(es, sm.Entry{Index: uint64(i + 1), Cmd: []byte(c)})
	}
	return es
}
