package edge_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/syncbuf"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
)

// TestServerStalledBodies (hole 5 of issue 12): clients that send the
// headers and 5 of 100 declared body bytes, then stall, are cut off within
// a bound, whether the handler reads the body or answers without it, while
// another client is answered normally.
func TestServerStalledBodies(t *testing.T) {
	const idle = 200 * time.Millisecond
	bound := testwait.Scale(5 * time.Second) // catches a hang only
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			edge.WriteProblem(w, r, err)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /ignore", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv, err := edge.NewServer(mux, edge.WithBodyIdle(idle), edge.WithShutdownGrace(time.Second),
		edge.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Run(ctx, ln) }()
	defer func() {
		cancel()
		assert.NoError(t, <-served)
	}()
	addr := ln.Addr().String()

	const clients = 20
	var wg sync.WaitGroup
	statuses := make([]int, clients)
	for i := range clients {
		path := "/login"
		if i%2 == 1 {
			path = "/ignore"
		}
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: api\r\nContent-Length: 100\r\n\r\nhello")
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(bound)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if !assert.NoError(t, err, "client %d: no answer within %v", i, bound) {
				return
			}
			statuses[i] = resp.StatusCode
			io.Copy(io.Discard, resp.Body)
			_, err = br.ReadByte()
			assert.ErrorIs(t, err, io.EOF, "client %d: connection still open", i)
		}()
	}

	resp, err := http.Get("http://" + addr + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "ok", string(body))

	wg.Wait()
	for i, s := range statuses {
		if i%2 == 0 {
			assert.Equal(t, http.StatusRequestTimeout, s, "client %d", i)
		}
	}
}

// TestServerLimits: headers are bounded in time and size, idle connections
// in time, and there is no ReadTimeout to cut long uploads.
func TestServerLimits(t *testing.T) {
	s, err := edge.NewServer(http.NotFoundHandler(), edge.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	srv := s.HTTPServer()
	assert.Equal(t, edge.DefaultReadHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Equal(t, edge.DefaultKeepAliveTimeout, srv.IdleTimeout)
	assert.Equal(t, 64<<10, srv.MaxHeaderBytes)
	assert.Zero(t, srv.ReadTimeout, "a ReadTimeout would cut long uploads")
	assert.Zero(t, srv.WriteTimeout, "a WriteTimeout would cut long downloads")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go s.Serve(ln)
	defer srv.Close()
	req, err := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("a", edge.DefaultMaxHeaderBytes+4096))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)

	s2, err := edge.NewServer(http.NotFoundHandler(), edge.WithReadHeaderTimeout(time.Second),
		edge.WithKeepAliveTimeout(time.Minute), edge.WithMaxHeaderBytes(1<<10))
	require.NoError(t, err)
	assert.Equal(t, time.Second, s2.HTTPServer().ReadHeaderTimeout)
	assert.Equal(t, time.Minute, s2.HTTPServer().IdleTimeout)
	assert.Equal(t, 1<<10, s2.HTTPServer().MaxHeaderBytes)
}

// TestServerConnLimits: the server holds at most PerClient connections of
// one client; the next is closed at once.
func TestServerConnLimits(t *testing.T) {
	s, err := edge.NewServer(http.NotFoundHandler(), edge.WithConnLimits(edge.ConnLimits{PerClient: 2}))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go s.Serve(ln)
	defer s.HTTPServer().Close()
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err, "a connection within the limit is served")
		resp.Body.Close()
	}
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		// The server may reset the connection before connect returns:
		// refused as well.
		return
	}
	defer c.Close()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(testwait.Scale(5*time.Second))))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_, err = bufio.NewReader(c).ReadByte()
	require.Error(t, err, "the third connection of one client is served")
	var ne net.Error
	assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the third connection is left open: %v", err)
}

// When the grace runs out, Run logs each connection it cuts, closes it,
// and returns ErrGraceExpired.
func TestServerGraceExpired(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release // never answers within the grace
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var logs syncbuf.Buffer
	const grace = 200 * time.Millisecond
	srv, err := edge.NewServer(h, edge.WithShutdownGrace(grace), edge.WithServerName("api"),
		edge.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Run(ctx, ln) }()
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
	case <-time.After(testwait.Scale(5 * time.Second)): // a hang, not a measure
		t.Fatal("Run did not return after the grace")
	}
	require.ErrorIs(t, err, edge.ErrGraceExpired)
	assert.False(t, errors.Is(err, context.Canceled))
	assert.GreaterOrEqual(t, time.Since(start), grace)
	assert.Contains(t, logs.String(), "shutdown grace expired: cutting connection")
	assert.Contains(t, logs.String(), "server=api")
	assert.Contains(t, err.Error(), "1 connections cut")
	assert.Error(t, <-clientErr, "the in-flight request's connection is closed")
}

// A clean shutdown returns nil once the in-flight request is answered.
func TestServerRunClean(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv, err := edge.NewServer(h, edge.WithShutdownGrace(testwait.Scale(time.Minute)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- srv.Run(ctx, ln) }()
	body := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			body <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body <- string(b)
	}()
	<-started
	cancel()
	// The listener closes at once: a new connection is refused.
	testwait.Until(t, testwait.Scale(5*time.Second), "the listener to close", func() bool {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(release)
	assert.Equal(t, "done", <-body)
	assert.NoError(t, <-served)
}
