package reference

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// When the grace runs out, Serve logs each connection it cuts (through
// edge.Server, whose own tests cover the rest), closes it, and returns
// edge.ErrGraceExpired within a bound; ExitStatus maps it to
// ExitGraceExpired.
func TestServeGraceExpired(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release // never answers within the grace
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var logs lockedBuffer
	ctx, cancel := context.WithCancel(t.Context())
	const grace = 200 * time.Millisecond
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, grace, slog.New(slog.NewTextHandler(&logs, nil)), Listener{Name: "api", Listener: ln, Handler: h})
	}()
	clientErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err == nil {
			resp.Body.Close()
		}
		clientErr <- err
	}()
	<-started
	start := time.Now()
	cancel()
	select {
	case err = <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the grace")
	}
	took := time.Since(start)
	require.ErrorIs(t, err, edge.ErrGraceExpired)
	assert.False(t, errors.Is(err, context.Canceled))
	assert.GreaterOrEqual(t, took, grace)
	assert.Less(t, took, grace+2*time.Second)
	assert.Contains(t, logs.String(), "shutdown grace expired: cutting connection")
	assert.Contains(t, logs.String(), "server=api")
	assert.Contains(t, err.Error(), "1 connections cut")
	assert.Error(t, <-clientErr, "the in-flight request's connection is closed")
	assert.Equal(t, ExitGraceExpired, ExitStatus("test", err))
	assert.Equal(t, ExitFailed, ExitStatus("test", errors.New("boom")))
}
