package edge_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// testIdle is the idle timeout of these tests: short, so they are fast.
const testIdle = 200 * time.Millisecond

// bound is how long a test waits for what must happen within a few idles.
const bound = 5 * time.Second

// idleElapsed returns a channel that is closed once idle has passed, told
// by another guard whose body never sends: tests wait on it instead of
// sleeping. It checks the clock too, so a guard that fired early cannot
// make the tests that rely on it pass.
func idleElapsed(t *testing.T, idle time.Duration) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	start := time.Now()
	h := must.Build(edge.BodyIdle(edge.WithBodyIdle(idle)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := r.Body.Read(make([]byte, 1))
		assert.ErrorIs(t, err, edge.ErrBodyTimeout)
		assert.GreaterOrEqual(t, time.Since(start), idle, "the witness timed out early")
		close(done)
	}))
	go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", pr))
	return done
}

func waitFor(t *testing.T, c <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(bound):
		t.Fatalf("%s: not within %v", what, bound)
	}
}

// readBodyOrProblem reads the whole body and answers 200, or answers the
// read error as a problem.
var readBodyOrProblem = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		edge.WriteProblem(w, r, err)
		return
	}
	io.WriteString(w, "ok")
})

// TestBodyIdleTimer: without connection deadlines (a recorder, a binding)
// a timer fails the stalled read, cancels the request and unblocks it.
func TestBodyIdleTimer(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("hello")) // 5 of 100 bytes, then nothing

	var readErr, cause error
	h := must.Build(edge.BodyIdle(edge.WithBodyIdle(testIdle)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.Copy(io.Discard, r.Body)
		cause = context.Cause(r.Context())
		edge.WriteProblem(w, r, readErr)
	}))
	req := httptest.NewRequest("POST", "/login", pr)
	req.ContentLength = 100
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.ServeHTTP(rec, req); close(done) }()
	waitFor(t, done, "stalled body released")

	assert.ErrorIs(t, readErr, edge.ErrBodyTimeout)
	assert.ErrorIs(t, cause, edge.ErrBodyTimeout)
	assert.Equal(t, http.StatusRequestTimeout, rec.Code)
	assert.Equal(t, "body_timeout", decodeProblem(t, rec.Result())["code"])
}

// TestBodyIdleTimerProgress: a body that keeps arriving, and a handler that
// stops reading for longer than idle, are never cut.
func TestBodyIdleTimerProgress(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("hello"))
		pw.Write([]byte("world"))
		pw.Close()
	}()
	var got strings.Builder
	var readErr error
	h := must.Build(edge.BodyIdle(edge.WithBodyIdle(testIdle)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 5)
		_, readErr = io.ReadFull(r.Body, buf)
		got.Write(buf)
		waitFor(t, idleElapsed(t, testIdle), "busy elsewhere")
		var n int64
		n, readErr = io.Copy(&got, r.Body)
		assert.EqualValues(t, 5, n)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", pr))
	assert.NoError(t, readErr)
	assert.Equal(t, "helloworld", got.String())
}

// rawRequest opens a connection to srv and sends a request declaring a
// 100-byte body, and the first bytes of that body.
func rawRequest(t *testing.T, addr, path, first string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"+first)
	require.NoError(t, err)
	return c
}

// TestBodyIdleConnection: on a real connection the read deadline fails the
// stalled read, the client is answered 408 body_timeout and the connection
// closed, also when the handler answered without reading the body; another
// client is served meanwhile.
func TestBodyIdleConnection(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("POST /read", readBodyOrProblem)
	mux.HandleFunc("POST /ignore", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(must.Build(edge.BodyIdle(edge.WithBodyIdle(testIdle)))(mux))
	defer srv.Close()

	for _, path := range []string{"/read", "/ignore"} {
		t.Run(path, func(t *testing.T) {
			c := rawRequest(t, srv.Listener.Addr().String(), path, "hello")
			closed := make(chan struct{})
			var resp *http.Response
			go func() {
				defer close(closed)
				br := bufio.NewReader(c)
				var err error
				resp, err = http.ReadResponse(br, nil)
				if assert.NoError(t, err) {
					io.Copy(io.Discard, resp.Body)
					_, err = br.ReadByte()
					assert.ErrorIs(t, err, io.EOF, "the server closes the connection")
				}
			}()

			other, err := http.Get(srv.URL + "/")
			require.NoError(t, err)
			assert.Equal(t, "ok", readAll(t, other.Body))

			c.SetReadDeadline(time.Now().Add(bound))
			waitFor(t, closed, "stalled connection closed")
			if path == "/read" {
				assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
			}
		})
	}
}

// TestBodyIdleConnectionBusy: the deadline runs only while a read is in
// flight: a handler that reads part of the body, works longer than idle,
// reads the rest, works again after the body ended and answers is not cut,
// and the connection carries a second request.
// A callee behind a Binding that answers without reading the body (a
// gateway's 401) makes the Binding close the caller's body while the caller
// still waits: that drain is bounded too (found by an attack on the
// topology: the router held such connections forever).
func TestBodyIdleBindingCloseUnread(t *testing.T) {
	callee := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		edge.WriteProblem(w, r, edge.NewProblem(http.StatusUnauthorized, "session_missing", ""))
	})
	proxy, err := edge.ProxyTo("http://gateway.internal", edge.WithTransport(edge.Binding(callee)))
	require.NoError(t, err)
	srv := httptest.NewServer(must.Build(edge.BodyIdle(edge.WithBodyIdle(testIdle)))(proxy))
	defer srv.Close()

	c := rawRequest(t, srv.Listener.Addr().String(), "/rest/v1.0/companies/1/x", "0123456789")
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			_, err = br.ReadByte()
		}
		assert.Error(t, err) // EOF: answered or closed, never held
	}()
	c.SetReadDeadline(time.Now().Add(bound))
	waitFor(t, closed, "stalled connection behind a binding closed")
}

func TestBodyIdleConnectionBusy(t *testing.T) {
	sendRest := make(chan struct{})
	var ctxErr error
	srv := httptest.NewServer(must.Build(edge.BodyIdle(edge.WithBodyIdle(testIdle)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/again" {
			io.WriteString(w, "again")
			return
		}
		buf := make([]byte, 5)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			edge.WriteProblem(w, r, err)
			return
		}
		waitFor(t, idleElapsed(t, testIdle), "busy elsewhere")
		close(sendRest) // the next read waits on the client
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			edge.WriteProblem(w, r, err)
			return
		}
		// The server now reads the connection in the background; the
		// request must live on while the handler works.
		waitFor(t, idleElapsed(t, testIdle), "busy after the body")
		ctxErr = r.Context().Err()
		io.WriteString(w, "ok")
	})))
	defer srv.Close()

	c := rawRequest(t, srv.Listener.Addr().String(), "/", "hello")
	c.SetDeadline(time.Now().Add(bound))
	waitFor(t, sendRest, "handler read the first bytes")
	_, err := io.WriteString(c, strings.Repeat("x", 95))
	require.NoError(t, err)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok", readAll(t, resp.Body))
	assert.NoError(t, ctxErr)

	_, err = io.WriteString(c, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	resp, err = http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, "again", readAll(t, resp.Body))
}

// unwrapper is a writer wrapper that, like otelhttp's, keeps Unwrap only.
type unwrapper struct{ http.ResponseWriter }

func (u unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// TestBodyIdleStepsAside: a handler that manages read deadlines itself
// (the upload handler) is not cut by the guard, even behind a wrapper.
func TestBodyIdleStepsAside(t *testing.T) {
	stalled := make(chan struct{})
	srv := httptest.NewServer(must.Build(edge.BodyIdle(edge.WithBodyIdle(testIdle)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = unwrapper{w}
		require.NoError(t, http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Minute)))
		buf := make([]byte, 5)
		_, err := io.ReadFull(r.Body, buf)
		require.NoError(t, err)
		close(stalled)
		readBodyOrProblem(w, r)
	})))
	defer srv.Close()

	c := rawRequest(t, srv.Listener.Addr().String(), "/", "hello")
	c.SetDeadline(time.Now().Add(bound))
	waitFor(t, stalled, "handler read the first bytes")
	waitFor(t, idleElapsed(t, testIdle), "stall longer than the guard's idle")
	_, err := io.WriteString(c, strings.Repeat("x", 95))
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestProxyBodyTimeout: a proxy whose client's body stalls answers 408
// body_timeout, not 502 upstream_unavailable or 499.
func TestProxyBodyTimeout(t *testing.T) {
	upstream := httptest.NewServer(readBodyOrProblem)
	defer upstream.Close()
	front := must.Build(edge.BodyIdle(edge.WithBodyIdle(testIdle)))(mustProxy(t, upstream.URL))

	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("hello"))
	req := httptest.NewRequest("POST", "/login", pr)
	req.ContentLength = 100
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { front.ServeHTTP(rec, req); close(done) }()
	waitFor(t, done, "proxy answered")

	assert.Equal(t, http.StatusRequestTimeout, rec.Code)
	assert.Equal(t, "body_timeout", decodeProblem(t, rec.Result())["code"])
	assert.False(t, errors.Is(edge.ErrBodyTimeout, edge.ErrUpstreamUnavailable))
}
