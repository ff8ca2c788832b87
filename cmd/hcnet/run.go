package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"hcnet/internal/launch"
)

// runCmd is `hcnet run`: the embedded default, everything on this machine.
type runCmd struct {
	DataDir string `default:"data" help:"Directory for the databases' data, logs and sockets; kept across runs."`
	BinDir  string `default:"bin" help:"Directory holding the built daemons (make build)."`
	Address string `default:"127.0.0.1" help:"IP address the databases listen on."`
	NBPort  int    `name:"nb-port" default:"6641" help:"Northbound database TCP port."`
	SBPort  int    `name:"sb-port" default:"6642" help:"Southbound database TCP port."`
}

func (r *runCmd) Run(c *cli) error {
	log := newLogger(c.LogFormat)
	data, err := filepath.Abs(r.DataDir)
	if err != nil {
		return err
	}
	runDir := filepath.Join(data, "run")
	logDir := filepath.Join(data, "log")
	for _, d := range []string{runDir, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	bin := func(name string) (string, bool) {
		p, err := filepath.Abs(filepath.Join(r.BinDir, name))
		if err != nil {
			return "", false
		}
		_, err = os.Stat(p)
		return p, err == nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	g := &launch.Group{LogDir: logDir, Log: log}
	defer g.StopAll(5 * time.Second)

	var missing []string
	type db struct {
		name, dir, sock string
		port            int
	}
	dbs := []db{
		{"nbdb", filepath.Join(data, "nb"), filepath.Join(runDir, "nb.sock"), r.NBPort},
		{"sbdb", filepath.Join(data, "sb"), filepath.Join(runDir, "sb.sock"), r.SBPort},
	}
	started := map[string]*launch.Proc{}
	for _, d := range dbs {
		path, ok := bin(d.name)
		if !ok {
			missing = append(missing, d.name)
			continue
		}
		_ = os.Remove(d.sock)
		p, err := g.Start(d.name, nil, path,
			"--data-dir", d.dir,
			"--listen", "punix:"+d.sock,
			"--listen", "ptcp:"+strconv.Itoa(d.port)+":"+r.Address)
		if err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err = launch.WaitListening(wctx, p, "unix", d.sock)
		cancel()
		if err != nil {
			return err
		}
		started[d.name] = p
	}
	nbRemote := "unix:" + dbs[0].sock
	sbRemote := "unix:" + dbs[1].sock
	if started["nbdb"] != nil && started["sbdb"] != nil {
		if path, ok := bin("northd"); ok {
			if _, err := g.Start("northd", nil, path, "--ovnnb-db", nbRemote, "--ovnsb-db", sbRemote); err != nil {
				return err
			}
		} else {
			missing = append(missing, "northd")
		}
	}
	chassisNote := r.startChassis(ctx, g, bin, sbRemote, runDir)

	fmt.Println()
	fmt.Println("hcnet is running.")
	for _, p := range g.Procs() {
		fmt.Printf("  %-10s pid %-7d log %s\n", p.Name, p.PID(), p.Log)
	}
	if len(missing) > 0 {
		fmt.Printf("  not started (not built yet in %s): %v\n", r.BinDir, missing)
	}
	if chassisNote != "" {
		fmt.Println("  chassis:", chassisNote)
	}
	if started["nbdb"] != nil {
		fmt.Printf("\nNorthbound: tcp:%s:%d  (or %s)\n", r.Address, r.NBPort, nbRemote)
	}
	if started["sbdb"] != nil {
		fmt.Printf("Southbound: tcp:%s:%d  (or %s)\n", r.Address, r.SBPort, sbRemote)
	}
	fmt.Println("\nTry next, in another terminal:")
	fmt.Printf("  %s/nbctl --db %s ls-add sw0 && %s/nbctl --db %s show\n", r.BinDir, nbRemote, r.BinDir, nbRemote)
	fmt.Printf("  ovn-nbctl --db=%s show\n", nbRemote)
	fmt.Printf("  %s/sbctl --db %s chassis-list\n", r.BinDir, sbRemote)
	fmt.Println("  make demo")
	fmt.Println("\nhcnet: ready (Ctrl-C stops everything)")

	select {
	case <-ctx.Done():
		fmt.Println("\nhcnet: stopping")
		return nil
	case p := <-g.Died(ctx):
		return fmt.Errorf("%s exited (%v); its log is %s", p.Name, p.Err(), p.Log)
	}
}

// startChassis starts local chassis when the machine allows it and says
// why not otherwise.
func (r *runCmd) startChassis(ctx context.Context, g *launch.Group, bin func(string) (string, bool), sbRemote, runDir string) string {
	if _, ok := bin("chassis"); !ok {
		return "not started: the chassis daemon is not built yet"
	}
	if os.Geteuid() != 0 {
		return "not started: chassis namespaces need root"
	}
	if _, err := exec.LookPath("ovs-vswitchd"); err != nil {
		return "not started: Open vSwitch is missing (apt-get install openvswitch-switch)"
	}
	return "not started: chassis namespaces are not wired into `hcnet run` yet"
}

func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}
