package edge_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
)

// A cell that never answers is a 504 upstream_timeout within the response
// header timeout; a cell that answered at once may stream its body for
// longer than that timeout.
func TestProxyResponseHeaderTimeout(t *testing.T) {
	release := make(chan struct{})
	cell := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			io.WriteString(w, "a")
			w.(http.Flusher).Flush()
		}
		select { // hang until released or the proxy gives up
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "b")
	}))
	defer cell.Close()
	defer close(release)

	const limit = 200 * time.Millisecond
	front := httptest.NewServer(mustProxy(t, cell.URL, edge.WithResponseHeaderTimeout(limit)))
	defer front.Close()

	start := time.Now()
	resp, err := http.Get(front.URL + "/hung")
	require.NoError(t, err)
	var p struct{ Code string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	resp.Body.Close()
	took := time.Since(start)
	assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
	assert.Equal(t, "upstream_timeout", p.Code)
	assert.NotEmpty(t, resp.Header.Get("Retry-After"))
	assert.GreaterOrEqual(t, took, limit)
	assert.Less(t, took, limit+2*time.Second)

	// The header came at once: the body is not cut by the header timeout.
	resp, err = http.Get(front.URL + "/slow-body")
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 1)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	<-time.After(3 * limit) // outlive the header timeout: nothing to poll for
	release <- struct{}{}
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "b", string(rest))
}

// An upgraded connection (101 Switching Protocols) still passes through the
// proxy: the header timeout leaves the connection body as it is.
func TestProxyResponseHeaderTimeoutUpgrade(t *testing.T) {
	cell := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString(line)
		brw.Flush()
	}))
	defer cell.Close()
	front := httptest.NewServer(mustProxy(t, cell.URL, edge.WithResponseHeaderTimeout(time.Second),
		edge.WithWebSocket(func(*http.Request) bool { return true })))
	defer front.Close()

	req, err := http.NewRequest(http.MethodGet, front.URL+"/ws", nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	rw, ok := resp.Body.(io.ReadWriteCloser)
	require.True(t, ok)
	_, err = io.WriteString(rw, "ping\n")
	require.NoError(t, err)
	buf := make([]byte, 5)
	_, err = io.ReadFull(rw, buf)
	require.NoError(t, err)
	assert.Equal(t, "ping\n", string(buf))
}

// unwrapping is a RoundTripper that wraps another, as tracing.Transport
// does, and says so.
type unwrapping struct{ base http.RoundTripper }

func (u unwrapping) RoundTrip(r *http.Request) (*http.Response, error) { return u.base.RoundTrip(r) }
func (u unwrapping) Unwrap() http.RoundTripper                         { return u.base }

// A caller's own transport, whatever wraps it, gets the timeout too: the
// proxy answers a hung upstream 504
// within its timeout: through the transport's own ResponseHeaderTimeout
// when that is within the proxy's, through a timer otherwise.
func TestProxyResponseHeaderTimeoutWrappedTransport(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	cell := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second): // a proxy that did not time out gets a 200 here
		}
	}))
	defer cell.Close()
	const limit = 200 * time.Millisecond
	for _, tt := range []struct {
		name string
		rt   http.RoundTripper
	}{
		{"own transport without a timeout", &http.Transport{}},
		{"wrapped transport with a shorter timeout", unwrapping{&http.Transport{ResponseHeaderTimeout: limit / 2}}},
		{"wrapped transport with a longer timeout", unwrapping{&http.Transport{ResponseHeaderTimeout: time.Hour}}},
		{"wrapped transport without a timeout", unwrapping{unwrapping{&http.Transport{}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := edge.ProxyTo(cell.URL, edge.WithResponseHeaderTimeout(limit), edge.WithTransport(tt.rt))
			require.NoError(t, err)
			front := httptest.NewServer(p)
			defer front.Close()
			start := time.Now()
			resp, err := http.Get(front.URL + "/hung")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode)
			assert.Less(t, time.Since(start), limit+2*time.Second)
		})
	}
}
