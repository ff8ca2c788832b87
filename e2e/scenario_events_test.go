package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Controller events (ovn-sb(5) Controller_Event): with NB_Global
// options:controller_event=true, a connection to a load balancer VIP
// without backends (options:event=true) makes the chassis report an
// empty_lb_backends event.

func init() {
	extraScenarios = append(extraScenarios, scenario{"controller-event-empty-lb", testControllerEvent})
}

const (
	evVIP  = "10.0.77.20"
	evPort = 5811
)

// testControllerEvent: vmhc connects to a VIP of lb-ev, which has no
// backends; the southbound gets a Controller_Event empty_lb_backends row
// naming the VIP, the protocol and the load balancer, from vmhc's
// chassis.
func testControllerEvent(t *testing.T, s *suite) {
	_, _, client := healthNet(t, s)
	vip := fmt.Sprintf("%s:%d", evVIP, evPort)
	nbctl(t, s, "set", "NB_Global", ".", "options:controller_event=true")
	nbctl(t, s, "--if-exists", "lb-del", "lb-ev")
	t.Cleanup(func() {
		_, _ = s.tb.NBCtl("--if-exists", "lb-del", "lb-ev")
		_, _ = s.tb.NBCtl("remove", "NB_Global", ".", "options", "controller_event")
		_, _ = s.tb.SBCtl("--all", "destroy", "Controller_Event")
	})
	lb := nbctl(t, s, "create", "Load_Balancer", "name=lb-ev", "protocol=tcp", fmt.Sprintf(`vips:"%s"=""`, vip), "options:event=true")
	nbctl(t, s, "ls-lb-add", "ls-hc", "lb-ev")
	nbctl(t, s, "--wait=hv", "sync")
	deadline := time.Now().Add(30 * time.Second)
	for {
		// Each attempt is one SYN the pipeline punts as an event.
		_, _, _ = askTCP(client, "", vip, 300*time.Millisecond)
		out, err := s.tb.SBCtl("--bare", "--columns=event_type,event_info,chassis", "list", "Controller_Event")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "empty_lb_backends") {
			for _, want := range []string{"vip=" + `"` + vip + `"`, "protocol=tcp", "load_balancer=" + `"` + lb + `"`} {
				if !strings.Contains(out, want) && !strings.Contains(out, strings.ReplaceAll(want, `"`, "")) {
					t.Fatalf("Controller_Event %q lacks %s", out, want)
				}
			}
			ch, _ := s.tb.SBCtl("--bare", "--columns=_uuid", "find", "Chassis", "name="+client.Chassis.Name)
			if !strings.Contains(out, strings.TrimSpace(ch)) {
				t.Fatalf("Controller_Event %q is not from %s (%s)", out, client.Chassis.Name, strings.TrimSpace(ch))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no empty_lb_backends Controller_Event within 30 s of connecting to %s (rows: %q)", vip, out)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
