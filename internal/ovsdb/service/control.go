package service

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"hcnet/internal/ovsdb/storage"
)

// The control socket takes one JSON request per line and answers one JSON
// line each: {"cmd":"status"} and {"cmd":"add","id":4,"address":"h:p"},
// "add-non-voting", "remove" (id), "transfer" (id), "snapshot".

// ControlRequest is one control command.
type ControlRequest struct {
	Cmd     string `json:"cmd"`
	ID      uint64 `json:"id,omitempty"`
	Address string `json:"address,omitempty"`
}

// ControlReply is the answer to a ControlRequest.
type ControlReply struct {
	Error  string          `json:"error,omitempty"`
	Status *storage.Status `json:"status,omitempty"`
	Index  uint64          `json:"index,omitempty"`
}

type control struct {
	ln     net.Listener
	wg     sync.WaitGroup
	ctx    context.Context // canceled on close: commands under way give up
	cancel context.CancelFunc

	mu    sync.Mutex // guards conns
	conns map[net.Conn]struct{}
}

func (s *Service) startControl(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path) // stale socket of an earlier run
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("service: control socket: %w", err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	s.ctl = &control{ln: ln, ctx: cctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	s.ctl.wg.Add(1)
	go func() {
		defer s.ctl.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.ctl.mu.Lock()
			s.ctl.conns[nc] = struct{}{}
			s.ctl.mu.Unlock()
			s.ctl.wg.Add(1)
			go func() {
				defer s.ctl.wg.Done()
				s.serveControl(nc)
				s.ctl.mu.Lock()
				delete(s.ctl.conns, nc)
				s.ctl.mu.Unlock()
			}()
		}
	}()
	return nil
}

func (c *control) close() {
	c.cancel()
	c.ln.Close()
	c.mu.Lock()
	for nc := range c.conns {
		nc.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
}

func (s *Service) serveControl(nc net.Conn) {
	defer nc.Close()
	sc := bufio.NewScanner(nc)
	enc := json.NewEncoder(nc)
	for sc.Scan() {
		var req ControlRequest
		var rep ControlReply
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			rep.Error = fmt.Sprintf("bad request: %v", err)
		} else {
			ctx, cancel := context.WithTimeout(s.ctl.ctx, 30*time.Second)
			rep = s.Control(ctx, req)
			cancel()
		}
		if err := enc.Encode(rep); err != nil {
			return
		}
	}
}

// Control runs one control command.
func (s *Service) Control(ctx context.Context, req ControlRequest) ControlReply {
	sh := s.db.Shard()
	var err error
	var rep ControlReply
	switch req.Cmd {
	case "status":
		var st storage.Status
		st, err = sh.Status(ctx)
		rep.Status = &st
	case "add", "add-non-voting":
		if req.ID == 0 || req.Address == "" {
			err = errors.New(req.Cmd + " needs a replica id and a Raft address")
		} else if req.Cmd == "add" {
			err = sh.AddReplica(ctx, req.ID, req.Address)
		} else {
			err = sh.AddNonVoting(ctx, req.ID, req.Address)
		}
	case "remove":
		if req.ID == 0 {
			err = errors.New("remove needs a replica id")
		} else {
			err = sh.RemoveReplica(ctx, req.ID)
		}
	case "transfer":
		if req.ID == 0 {
			err = errors.New("transfer needs a replica id")
		} else {
			err = sh.TransferLeader(ctx, req.ID)
		}
	case "snapshot":
		rep.Index, err = sh.Snapshot(ctx)
	default:
		err = fmt.Errorf("unknown command %q (want status, add, add-non-voting, remove, transfer, snapshot)", req.Cmd)
	}
	if err != nil {
		rep.Error = err.Error()
		if id, _, ok := sh.LeaderInfo(); ok && id != sh.ReplicaID() && req.Cmd != "status" {
			rep.Error += fmt.Sprintf(" (this is replica %d; the leader is %d)", sh.ReplicaID(), id)
		}
	}
	s.log.Info("control", "cmd", req.Cmd, "id", req.ID, "address", req.Address, "err", rep.Error)
	return rep
}

// ControlCall sends one request to the control socket at path.
func ControlCall(ctx context.Context, path string, req ControlRequest) (ControlReply, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return ControlReply{}, fmt.Errorf("control socket %s: %w", path, err)
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	b, _ := json.Marshal(req)
	if _, err := nc.Write(append(b, '\n')); err != nil {
		return ControlReply{}, fmt.Errorf("control socket %s: %w", path, err)
	}
	var rep ControlReply
	if err := json.NewDecoder(bufio.NewReader(nc)).Decode(&rep); err != nil {
		return ControlReply{}, fmt.Errorf("control socket %s: reply: %w", path, err)
	}
	if rep.Error != "" {
		return rep, fmt.Errorf("%s: %s", req.Cmd, rep.Error)
	}
	return rep, nil
}
