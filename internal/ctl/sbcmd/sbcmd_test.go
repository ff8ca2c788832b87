package sbcmd

import (
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	now := time.UnixMilli(1795248000000).UTC()
	ms := func(ago time.Duration) int64 { return now.Add(-ago).UnixMilli() }
	for _, tc := range []struct {
		name      string
		l         Liveness
		deadAfter time.Duration
		state     string
		seen      int64 // ms; 0: never
	}{
		{"no Chassis_Private", Liveness{Target: 7}, 0, "down", 0},
		{"detached", Liveness{Private: true, NbCfg: 7, Target: 7, NbCfgStamp: ms(time.Second)}, 0, "down", ms(time.Second)},
		// ovn-controller: no heartbeat, nb_cfg alone decides, however old.
		{"controller up", Liveness{Private: true, Attached: true, NbCfg: 7, Target: 7, NbCfgStamp: ms(time.Hour)}, 0, "up", ms(time.Hour)},
		{"controller lagging", Liveness{Private: true, Attached: true, NbCfg: 5, Target: 7, NbCfgStamp: ms(time.Minute)}, 0, "lagging", ms(time.Minute)},
		{"controller never acked", Liveness{Private: true, Attached: true, Target: 0}, 0, "up", 0},
		// Ours: the heartbeat counts; the newest of both times is shown.
		{"fresh heartbeat", Liveness{Private: true, Attached: true, NbCfg: 7, Target: 7, NbCfgStamp: ms(time.Hour), Heartbeat: ms(5 * time.Second), Interval: 10000}, 0, "up", ms(5 * time.Second)},
		{"ack newer than heartbeat", Liveness{Private: true, Attached: true, NbCfg: 7, Target: 7, NbCfgStamp: ms(time.Second), Heartbeat: ms(9 * time.Second), Interval: 10000}, 0, "up", ms(time.Second)},
		{"stale heartbeat", Liveness{Private: true, Attached: true, NbCfg: 7, Target: 7, Heartbeat: ms(31 * time.Second), Interval: 10000}, 0, "down", ms(31 * time.Second)},
		{"exactly three intervals", Liveness{Private: true, Attached: true, NbCfg: 7, Target: 7, Heartbeat: ms(30 * time.Second), Interval: 10000}, 0, "up", ms(30 * time.Second)},
		{"longer interval published", Liveness{Private: true, Attached: true, NbCfg: 7, Target: 7, Heartbeat: ms(50 * time.Second), Interval: 20000}, 0, "up", ms(50 * time.Second)},
		{"no interval: default", Liveness{Private: true, Attached: true, NbCfg: 7, Target: 7, Heartbeat: ms(31 * time.Second)}, 0, "down", ms(31 * time.Second)},
		{"dead-after overrides", Liveness{Private: true, Attached: true, NbCfg: 7, Target: 7, Heartbeat: ms(50 * time.Second), Interval: 10000}, time.Minute, "up", ms(50 * time.Second)},
		{"dead-after stricter", Liveness{Private: true, Attached: true, NbCfg: 7, Target: 7, Heartbeat: ms(5 * time.Second), Interval: 10000}, 2 * time.Second, "down", ms(5 * time.Second)},
		{"alive but lagging", Liveness{Private: true, Attached: true, NbCfg: 6, Target: 7, Heartbeat: ms(time.Second), Interval: 10000}, 0, "lagging", ms(time.Second)},
		{"dead and lagging", Liveness{Private: true, Attached: true, NbCfg: 6, Target: 7, Heartbeat: ms(time.Hour), Interval: 10000}, 0, "down", ms(time.Hour)},
	} {
		state, seen := Classify(tc.l, now, tc.deadAfter)
		var want time.Time
		if tc.seen != 0 {
			want = time.UnixMilli(tc.seen).UTC()
		}
		if state != tc.state || !seen.Equal(want) {
			t.Errorf("%s: got %s, %v; want %s, %v", tc.name, state, seen, tc.state, want)
		}
	}
}
