package launch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Proc is a daemon started by a Group.
type Proc struct {
	Name string
	Log  string // path of its log file (stdout and stderr)
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// PID returns the process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited is closed when the process has exited.
func (p *Proc) Exited() <-chan struct{} { return p.done }

// Err returns how the process ended, once Exited is closed.
func (p *Proc) Err() error { return p.err }

// Group starts processes and stops them all, in reverse order of start.
type Group struct {
	LogDir string
	Log    *slog.Logger

	mu    sync.Mutex // guards procs and exits
	procs []*Proc
	exits chan *Proc
}

// Exits delivers every started process once it has exited (also those
// StopAll stops), at most 64 undelivered at a time.
func (g *Group) Exits() <-chan *Proc {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.exitsLocked()
}

func (g *Group) exitsLocked() chan *Proc {
	if g.exits == nil {
		g.exits = make(chan *Proc, 64)
	}
	return g.exits
}

// Start runs argv with its output in LogDir/<name>.log. Extra environment
// entries are added to the process's environment.
func (g *Group) Start(name string, env []string, argv ...string) (*Proc, error) {
	if err := os.MkdirAll(g.LogDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(g.LogDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	// Own process group: a Ctrl-C on the terminal reaches only the
	// launcher, which then stops its children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	g.mu.Lock()
	g.procs = append(g.procs, p)
	exits := g.exitsLocked()
	g.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
		select {
		case exits <- p:
		default:
		}
	}()
	if g.Log != nil {
		g.Log.Info("started", "name", name, "pid", p.PID(), "log", logPath)
	}
	return p, nil
}

// Procs returns the processes started so far.
func (g *Group) Procs() []*Proc {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*Proc(nil), g.procs...)
}

// StopAll sends SIGTERM to every process, newest first, and SIGKILL to
// those still running after grace.
func (g *Group) StopAll(grace time.Duration) {
	procs := g.Procs()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		select {
		case <-p.done:
			continue
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if g.Log != nil {
			g.Log.Info("stopped", "name", p.Name, "pid", p.PID())
		}
	}
}

// WaitListening waits until a connection to network/address succeeds, the
// process exits, or ctx ends.
func WaitListening(ctx context.Context, p *Proc, network, address string) error {
	for {
		c, err := net.DialTimeout(network, address, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before listening on %s: %v (see %s)", p.Name, address, p.err, p.Log)
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("%s not listening on %s", p.Name, address), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// HasExited reports whether the process has exited.
func (p *Proc) HasExited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
