package faults

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/internal/testrig/testwait"
)

// The cell refuses, hangs or is slow to answer: the client gets 502
// upstream_unavailable at once, 504 upstream_timeout within the response
// header timeout, or the answer after the delay.
func TestCellFaults(t *testing.T) {
	for _, tc := range []struct {
		fault  mode
		status int
		code   string
		expect string
	}{
		{refused, http.StatusBadGateway, "upstream_unavailable", "502 upstream_unavailable + Retry-After at once"},
		{hung, http.StatusGatewayTimeout, "upstream_timeout", "504 upstream_timeout + Retry-After within the header timeout (" + headerTimeout.String() + ")"},
		{slow, http.StatusOK, "", "200 after the delay (150 ms, under the header timeout)"},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			checkLeaks(t)
			s := newStack(t, withHeaderTimeout(headerTimeout))
			ctx := context.Background()
			require.Equal(t, http.StatusOK, s.get(ctx, "/rest/v1.0/projects", "1").status)
			s.cell.set(tc.fault)
			a := s.get(ctx, "/rest/v1.0/projects", "1")
			assert.Equal(t, tc.status, a.status)
			assert.Equal(t, tc.code, a.code)
			switch tc.fault {
			case refused:
				assert.NotEmpty(t, a.retry)
				assert.Less(t, a.took, fastBound)
			case hung:
				assert.NotEmpty(t, a.retry)
				assert.GreaterOrEqual(t, a.took, headerTimeout)
				assert.Less(t, a.took, headerTimeout+fastBound)
			case slow:
				assert.GreaterOrEqual(t, a.took, slowDelay)
			}
			row(t, "cell "+tc.fault.String(), tc.expect, a.String())
			s.cell.set(healthy)
			assert.Equal(t, http.StatusOK, s.get(ctx, "/rest/v1.0/projects", "1").status)
		})
	}
}

// A cell whose connection resets mid-response: the client sees the status
// already sent and a body cut short, never a complete-looking one.
func TestCellResetMidResponse(t *testing.T) {
	checkLeaks(t)
	s := newStack(t)
	const declared, sent = 1 << 20, 64 << 10
	s.setCell(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(declared))
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, sent))
		http.NewResponseController(w).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			tcp.SetLinger(0) // RST, not FIN
		}
		conn.Close()
	})
	a := s.get(context.Background(), "/rest/v1.0/projects", "1")
	assert.Equal(t, http.StatusOK, a.status, "the header was already on its way")
	assert.Error(t, a.readErr, "the truncation is visible to the client")
	assert.Less(t, len(a.body), declared)
	row(t, "cell resets mid-response", "200 then a body error, fewer bytes than Content-Length",
		a.String()+", "+itoa(len(a.body))+" of "+itoa(declared)+" bytes")
}

// A slow, large body streams through router and gateway with flat memory.
func TestCellSlowLargeBody(t *testing.T) {
	checkLeaks(t)
	s := newStack(t)
	const size, chunk = 64 << 20, 256 << 10
	s.setCell(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		buf := make([]byte, chunk)
		rc := http.NewResponseController(w)
		for sent := 0; sent < size; sent += chunk {
			if _, err := w.Write(buf); err != nil {
				return
			}
			rc.Flush()
			if sent%(1<<20) == 0 {
				time.Sleep(5 * time.Millisecond) // pacing a slow producer, not waiting for a condition
			}
		}
	})
	req, err := http.NewRequest(http.MethodGet, s.front.URL+"/rest/v1.0/projects", nil)
	require.NoError(t, err)
	req.Header.Set("Procore-Company-Id", "1")
	req.Header.Set("Cookie", s.cookie)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	start := time.Now()
	resp, err := s.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 64<<10)
	var n, next int
	for {
		m, err := resp.Body.Read(buf)
		n += m
		if n >= next {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			next += 4 << 20
		}
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
	}
	took := time.Since(start)
	growth := int64(peak) - int64(base)
	assert.Equal(t, size, n)
	assert.Less(t, growth, int64(16<<20), "heap grew %d bytes for a %d-byte body", growth, size)
	row(t, "cell sends a slow 64 MiB body", "streamed, heap growth < 16 MiB",
		"200, "+itoa(n>>20)+" MiB in "+took.Round(time.Millisecond).String()+", heap growth "+itoa(int(growth>>10))+" KiB")
}

// A client that leaves mid-request: the cell's handler sees its context
// cancelled.
func TestCellClientGone(t *testing.T) {
	checkLeaks(t)
	s := newStack(t)
	started, cancelled := make(chan struct{}), make(chan struct{})
	s.setCell(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
		close(cancelled)
	})
	ctx, leave := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.front.URL+"/rest/v1.0/projects", nil)
	require.NoError(t, err)
	req.Header.Set("Procore-Company-Id", "1")
	req.Header.Set("Cookie", s.cookie)
	done := make(chan error, 1)
	go func() {
		resp, err := s.client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-started
	start := time.Now()
	leave()
	select {
	case <-cancelled:
	case <-time.After(testwait.Scale(5 * time.Second)): // the header timeout is 30 s: only a cancellation ends it sooner
		t.Fatal("the cell's handler never saw the client leave")
	}
	took := time.Since(start)
	assert.Error(t, <-done)
	row(t, "client leaves mid-request", "the cell's context is cancelled", "cancelled "+took.Round(time.Millisecond).String()+" after the client left")
}
