package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"hcnet/internal/jsonrpc"
)

// leaderWatchID is the monitor id of a leader-only session's _Server watch.
const leaderWatchID = `"hcnet-leader-watch"`

// watchLeader checks, as ovn-nbctl's IDL does, that the server may take
// leader-only traffic for the configured database, and keeps watching
// _Server: once the server reports that it lost leadership or its cluster,
// the session is dropped and the client moves on to another remote at once
// (instead of after a failed call or an inactivity probe).
func (c *Client) watchLeader(ctx context.Context, s *session) (bool, error) {
	req := map[string]any{"Database": []any{map[string]any{
		"columns": []string{"name", "model", "leader", "connected"},
		"where":   []any{[]any{"name", "==", c.opts.Database}},
	}}}
	var ok bool
	var perr error
	// The reply is handled on the reader goroutine, before any update2 for
	// the watch, so s.leaderWatch is set before a change can arrive.
	_, err := s.call(ctx, "monitor_cond", []any{"_Server", json.RawMessage(leaderWatchID), req}, func(r *jsonrpc.Message) {
		if r.Error != nil {
			return
		}
		st, err := decodeLeaderRows(r.Result, leaderState{})
		if err != nil {
			perr = err
			return
		}
		if !st.found {
			perr = fmt.Errorf("%s does not serve %s", s.remote, c.opts.Database)
			return
		}
		ok = st.acceptable()
		s.leaderWatch.Store(&st)
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return true, nil // no _Server (or no monitor_cond): an old standalone server
		}
		return false, err
	}
	return ok, perr
}

// leaderState is what _Server last said about the watched database.
type leaderState struct {
	found                        bool
	clustered, leader, connected bool
}

func (st leaderState) acceptable() bool { return !st.clustered || (st.leader && st.connected) }

// decodeLeaderRows folds an update2 (or monitor_cond reply) for _Server's
// Database table into st.
func decodeLeaderRows(raw json.RawMessage, st leaderState) (leaderState, error) {
	u, err := decodeUpdates2(raw)
	if err != nil {
		return st, err
	}
	for _, ru := range u["Database"] {
		if ru.Kind == Delete {
			st = leaderState{}
			continue
		}
		st.found = true
		if v, ok := ru.Row["model"].(string); ok {
			st.clustered = v == "clustered"
		}
		if v, ok := ru.Row["leader"].(bool); ok {
			st.leader = v
		}
		if v, ok := ru.Row["connected"].(bool); ok {
			st.connected = v
		}
	}
	return st, nil
}

// leaderUpdate handles an update2 of the leader watch: a server that is no
// longer an acceptable leader loses the session.
func (s *session) leaderUpdate(raw json.RawMessage) {
	prev := s.leaderWatch.Load()
	if prev == nil {
		return
	}
	st, err := decodeLeaderRows(raw, *prev)
	if err != nil {
		s.c.log.Warn("bad _Server update", "remote", s.remote.String(), "err", err)
		return
	}
	s.leaderWatch.Store(&st)
	if !st.acceptable() {
		s.kill(fmt.Errorf("%s is no longer the leader of %s", s.remote, s.c.opts.Database))
	}
}
