package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/examples/reference"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
)

// pacedReader yields its bytes in chunks, one per tick: a client that
// uploads at a modest pace.
type pacedReader struct {
	r    *bytes.Reader
	tick time.Duration
}

func (p *pacedReader) Read(b []byte) (int, error) {
	<-time.After(p.tick) // pacing the client, not waiting for a condition
	return p.r.Read(b[:min(len(b), 64<<10)])
}

// Graceful shutdown under load: requests and uploads in flight when the
// signal comes finish within the grace, new connections are refused at
// once, and Serve returns nil within the grace. When the grace runs out,
// Serve returns ErrGraceExpired (exit status 3) within a bound.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	checkLeaks(t)
	s := newStack(t)
	st := newStorageStack(t)
	var started atomic.Int64
	s.setCell(func(w http.ResponseWriter, r *http.Request) {
		started.Add(1)
		<-time.After(headerTimeout / 2) // the cell's work, under the header timeout
		io.WriteString(w, "done")
	})
	api, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	storage, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	const grace = 5 * time.Second
	served := make(chan error, 1)
	go func() {
		served <- reference.Serve(ctx, grace, quiet(),
			reference.Listener{Name: "api", Listener: api, Handler: s.router},
			reference.Listener{Name: "storage", Listener: storage, Handler: st.handler})
	}()

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	const requests, uploads = 20, 5
	body := bytes.Repeat([]byte("u"), 1<<20)
	statuses := make([]int, requests+uploads)
	var wg sync.WaitGroup
	for i := range requests + uploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var req *http.Request
			if i < requests {
				req, _ = http.NewRequest(http.MethodGet, "http://"+api.Addr().String()+"/rest/v1.0/projects", nil)
				req.Header.Set("Procore-Company-Id", "1")
				req.Header.Set("Cookie", s.cookie)
			} else {
				req, _ = http.NewRequest(http.MethodPut, uploadURL("http://"+storage.Addr().String(), fmt.Sprintf("drain-%d", i)),
					&pacedReader{r: bytes.NewReader(body), tick: 20 * time.Millisecond})
				req.ContentLength = int64(len(body))
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	eventually(t, 10*time.Second, "every request and upload in flight", func() bool {
		return started.Load() == requests && st.fusCalls.Load() == uploads
	})
	start := time.Now()
	stop() // the signal
	eventually(t, time.Second, "new connections refused", func() bool {
		c, err := net.Dial("tcp", api.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	refusedAfter := time.Since(start)
	wg.Wait()
	var serveErr error
	select {
	case serveErr = <-served:
	case <-time.After(grace + 2*time.Second):
		t.Fatal("Serve did not return within the grace")
	}
	exit := time.Since(start)
	assert.NoError(t, serveErr)
	ok := 0
	for i, code := range statuses {
		if assert.Equal(t, http.StatusOK, code, "request %d", i) {
			ok++
		}
	}
	for i := requests; i < requests+uploads; i++ {
		assert.Equal(t, shaOf(body), st.stored(t, fmt.Sprintf("drain-%d", i)))
	}
	assert.Less(t, exit, grace)
	row(t, "graceful shutdown with 20 requests and 5 uploads in flight", "all finish, new connections refused, Serve returns nil within the grace (5 s)",
		fmt.Sprintf("%d/%d × 200, refused after %v, Serve returned %v after %v", ok, requests+uploads, refusedAfter.Round(time.Millisecond), serveErr, exit.Round(time.Millisecond)))
}

// When in-flight requests outlast the grace, Serve cuts them and returns
// ErrGraceExpired within a bound; the mains exit 3 after it.
func TestGracefulShutdownGraceExpires(t *testing.T) {
	checkLeaks(t)
	s := newStack(t)
	s.cell.set(hung)
	// A header timeout longer than the grace, so the request is still in
	// flight when the grace ends.
	api, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	const grace = 100 * time.Millisecond
	served := make(chan error, 1)
	go func() {
		served <- reference.Serve(ctx, grace, quiet(), reference.Listener{Name: "api", Listener: api, Handler: s.router})
	}()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+api.Addr().String()+"/rest/v1.0/projects", nil)
		req.Header.Set("Procore-Company-Id", "1")
		req.Header.Set("Cookie", s.cookie)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	eventually(t, 5*time.Second, "the request reached the cell", func() bool { return s.cell.calls.Load() == 1 })
	start := time.Now()
	stop()
	var serveErr error
	select {
	case serveErr = <-served:
	case <-time.After(testwait.Scale(10 * time.Second)):
		t.Fatal("Serve did not return after the grace")
	}
	took := time.Since(start)
	assert.True(t, errors.Is(serveErr, edge.ErrGraceExpired), "%v", serveErr)
	// The hung request would hold Serve for the header timeout (30 s):
	// returning well before it is returning at the grace.
	assert.Less(t, took, grace+testwait.Scale(5*time.Second))
	clientErr := <-done
	assert.Error(t, clientErr, "the cut request's connection is closed")
	status := reference.ExitStatus("faults", serveErr)
	assert.Equal(t, reference.ExitGraceExpired, status)
	row(t, "shutdown grace (100 ms) runs out with a request hung on the cell", "ErrGraceExpired within the bound, connection cut, exit status 3",
		fmt.Sprintf("Serve returned after %v: %v; client: %v; exit status %d", took.Round(time.Millisecond), serveErr, clientErr, status))
}
