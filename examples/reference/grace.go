package reference

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrGraceExpired is returned (wrapped) by [Serve] when in-flight requests
// were still running when the grace ran out: their connections were cut and
// each was logged at WARN. The process shut down nonetheless; the mains
// exit with [ExitGraceExpired] after it.
var ErrGraceExpired = errors.New("shutdown grace expired; in-flight connections were cut")

// Exit statuses of the service mains (see [ExitStatus]).
const (
	ExitFailed       = 1 // the service could not start, or a server failed
	ExitGraceExpired = 3 // stopped on a signal, but the grace ran out and connections were cut
)

// ExitStatus reports how a main ends after its serve function returned err
// (never nil): a grace that ran out is a WARN naming what was cut and
// [ExitGraceExpired], anything else an ERROR and [ExitFailed]. service
// names the main in the log line.
func ExitStatus(service string, err error) int {
	if errors.Is(err, ErrGraceExpired) {
		slog.Warn(service+" stopped, but the shutdown grace ran out: in-flight requests were cut (see the lines above)", "err", err)
		return ExitGraceExpired
	}
	slog.Error(service, "err", err)
	return ExitFailed
}

// connTracker follows the connections of one server, so that when the
// grace runs out the log says which ones were cut.
type connTracker struct {
	host  string
	mu    sync.Mutex
	conns map[net.Conn]connInfo
}

// connInfo is what is known of one tracked connection.
type connInfo struct {
	state http.ConnState
	since time.Time // when it entered state
}

func newConnTracker(host string) *connTracker {
	return &connTracker{host: host, conns: map[net.Conn]connInfo{}}
}

// track is the server's ConnState hook.
func (t *connTracker) track(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s {
	case http.StateClosed, http.StateHijacked:
		delete(t.conns, c)
	default:
		t.conns[c] = connInfo{state: s, since: time.Now()}
	}
}

// logCut logs every connection still open, which Close is about to cut,
// and returns how many there were.
func (t *connTracker) logCut(logger *slog.Logger) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, info := range t.conns {
		logger.Warn("shutdown grace expired: cutting connection", "host", t.host,
			"remote", c.RemoteAddr().String(), "state", info.state.String(),
			"in_state_for", time.Since(info.since).Round(time.Millisecond))
	}
	return len(t.conns)
}
