package reference

import (
	"bufio"
	"context"
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
)

// TestServeStalledBodies closes hole 5 of issue 12: clients that send the
// headers and 5 of 100 declared body bytes, then stall, are cut off within
// a bound, whether the handler reads the body or answers without it, while
// another client is answered normally.
func TestServeStalledBodies(t *testing.T) {
	const idle = 200 * time.Millisecond
	const bound = 5 * time.Second
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
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		served <- Serve(ctx, time.Second, quiet, Listener{Name: "api", Listener: ln, Handler: mux, BodyIdle: idle})
	}()
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

// TestNewServerLimits: headers are bounded in time and size, idle
// connections in time, bodies by edge.BodyIdle.
func TestNewServerLimits(t *testing.T) {
	srv := newServer(Listener{Handler: http.NotFoundHandler()}, slog.Default())
	assert.Equal(t, ReadHeaderTimeout, srv.ReadHeaderTimeout)
	assert.Equal(t, IdleTimeout, srv.IdleTimeout)
	assert.Equal(t, 64<<10, srv.MaxHeaderBytes)
	assert.Zero(t, srv.ReadTimeout, "a ReadTimeout would cut long uploads")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	defer srv.Close()
	req, err := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("a", MaxHeaderBytes+4096))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}
