// Command chassis is the host and gateway daemon, in place of
// ovn-controller: it reads its configuration from the local Open_vSwitch
// database's external_ids (flags override them), registers the chassis in
// the southbound database, binds local ports, builds tunnels and installs
// OpenFlow flows in the integration bridge.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"hcnet/chassis"
	"hcnet/chassis/config"
	"hcnet/internal/metrics"
)

type cli struct {
	OVSDB              string        `name:"ovs-db" help:"Local Open_vSwitch database (default unix:$OVS_RUNDIR/db.sock)."`
	OVSRundir          string        `name:"ovs-rundir" help:"Directory of the bridges' <bridge>.mgmt OpenFlow sockets (default $OVS_RUNDIR, else /var/run/openvswitch)."`
	SystemID           string        `name:"system-id" help:"Chassis name (overrides external_ids:system-id)."`
	OVNRemote          string        `name:"ovn-remote" help:"Southbound database remotes, unix:PATH or tcp:IP:PORT, comma-separated (overrides external_ids:ovn-remote)."`
	EncapType          []string      `name:"encap-type" help:"Tunnel types in preference order: geneve, vxlan (overrides external_ids:ovn-encap-type)."`
	EncapIP            string        `name:"encap-ip" help:"Underlay IP of tunnels (overrides external_ids:ovn-encap-ip)."`
	Bridge             string        `name:"bridge" help:"Integration bridge (overrides external_ids:ovn-bridge; default br-int)."`
	BridgeDatapathType string        `name:"bridge-datapath-type" help:"Datapath type of a created integration bridge (overrides external_ids:ovn-bridge-datapath-type)."`
	BridgeMappings     string        `name:"bridge-mappings" help:"physnet:bridge,... for localnet ports (overrides external_ids:ovn-bridge-mappings)."`
	Site               string        `name:"site" help:"Site of this chassis (overrides external_ids:site)."`
	KeepRegistration   bool          `name:"keep-registration" aliases:"restart" help:"On SIGINT too, keep the Chassis row and port bindings (SIGTERM always keeps them, for a restart)."`
	BFDMinRx           int           `name:"bfd-min-rx" default:"100" help:"BFD min_rx on gateway tunnels, ms."`
	BFDMinTx           int           `name:"bfd-min-tx" default:"100" help:"BFD min_tx on gateway tunnels, ms."`
	FullMesh           bool          `name:"full-mesh" env:"HCNET_CHASSIS_FULL_MESH" help:"Tunnels to every chassis, not only to those of this site and those of other sites sharing a local datapath."`
	Resync             time.Duration `name:"resync" default:"30s" help:"Interval of the check that the switch holds the installed flows (replaced when it does not)."`
	HeartbeatInterval  time.Duration `name:"heartbeat-interval" default:"10s" help:"Interval of the liveness heartbeat written to Chassis_Private external_ids:hcnet-heartbeat (sbctl chassis-list); 0 disables."`
	LogFormat          string        `name:"log-format" default:"text" enum:"text,json" help:"Log format: text or json."`
	CPUProfile         string        `name:"cpu-profile" env:"HCNET_CHASSIS_CPUPROFILE" help:"Write a CPU profile to this file until exit (%d: the process id)."`
	MemProfile         string        `name:"mem-profile" env:"HCNET_CHASSIS_MEMPROFILE" help:"Write a heap profile to this file as the daemon stops (%d: the process id)."`
	LogLevel           string        `name:"log-level" default:"info" enum:"debug,info,warn,error" env:"HCNET_CHASSIS_LOG_LEVEL" help:"Log level."`
	PerDatapathFlows   bool          `name:"per-datapath-flows" env:"HCNET_CHASSIS_PER_DATAPATH_FLOWS" help:"One OpenFlow flow per local datapath for logical flows of datapath groups, as ovn-controller installs them, instead of one flow for copies every local datapath shares."`
	OfctlFlows         bool          `name:"ofctl-flows" env:"HCNET_CHASSIS_OFCTL_FLOWS" help:"Install flows by running ovs-ofctl --bundle instead of over the chassis' own OpenFlow connection (debugging fallback)."`
	TracePortUp        bool          `name:"trace-port-up" env:"HCNET_CHASSIS_TRACE_PORT_UP" help:"Log each newly plugged port's way up (interface seen, claim sent/acknowledged, flows sent/acknowledged), for measuring."`
	MetricsAddr        string        `name:"metrics-addr" help:"Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9103); empty: off."`
}

func main() {
	var c cli
	kong.Parse(&c, kong.Name("chassis"), kong.Description("Run the hcnet chassis daemon (host or gateway)."))
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	hopts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, hopts)
	if c.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, hopts)
	}
	log := slog.New(h)

	if c.CPUProfile != "" {
		path := c.CPUProfile
		if strings.Contains(path, "%d") { // one file per daemon
			path = fmt.Sprintf(path, os.Getpid())
		}
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "chassis:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "chassis:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	rundir := os.Getenv("OVS_RUNDIR")
	if rundir == "" {
		rundir = "/var/run/openvswitch"
	}
	if c.OVSRundir == "" {
		c.OVSRundir = rundir
	}
	if c.OVSDB == "" {
		c.OVSDB = "unix:" + rundir + "/db.sock"
	}
	over := config.Config{
		SystemID: c.SystemID, Remote: c.OVNRemote, EncapTypes: c.EncapType, EncapIP: c.EncapIP,
		Bridge: c.Bridge, BridgeDatapathType: c.BridgeDatapathType, Site: c.Site,
	}
	if c.BridgeMappings != "" {
		over.BridgeMappings = config.ParseBridgeMappings(c.BridgeMappings)
	}
	// SIGINT is a clean exit: the chassis unregisters unless
	// --keep-registration. SIGTERM is a stop for a restart, as with
	// ovn-controller: registration, bindings and flows stay.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var terminated atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		terminated.Store(s == syscall.SIGTERM)
		log.Info("signal", "signal", s.String())
		stop()
	}()
	var m *chassis.Metrics
	if c.MetricsAddr != "" {
		reg := metrics.NewRegistry()
		m = chassis.NewMetrics(reg)
		ln, err := metrics.Listen(c.MetricsAddr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "chassis:", err)
			os.Exit(1)
		}
		go func() {
			if err := metrics.ServeListener(ctx, ln, reg, log); err != nil {
				log.Error("metrics server", "err", err)
			}
		}()
	}
	if strings.Contains(c.MemProfile, "%d") {
		c.MemProfile = fmt.Sprintf(c.MemProfile, os.Getpid())
	}
	if c.MemProfile != "" {
		runtime.MemProfileRate = 4 << 10 // fine-grained: the heap is many small objects
	}
	heartbeat := c.HeartbeatInterval
	if heartbeat <= 0 {
		heartbeat = -1 // off; zero would mean the default in chassis.Options
	}
	err := chassis.Run(ctx, chassis.Options{
		HeartbeatInterval: heartbeat,
		OVSDB:             c.OVSDB, OVSRundir: c.OVSRundir, Override: over, KeepRegistration: c.KeepRegistration,
		KeepOnExit: func() bool { return c.KeepRegistration || terminated.Load() },
		FullMesh:   c.FullMesh, OfctlFlows: c.OfctlFlows, PerDatapathFlows: c.PerDatapathFlows,
		BFDMinRx: c.BFDMinRx, BFDMinTx: c.BFDMinTx, Resync: c.Resync, Logger: log, Metrics: m, HeapProfile: c.MemProfile,
		TracePortUp: c.TracePortUp,
	})
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "chassis:", err)
		os.Exit(1)
	}
}
