package edge_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// switchingCell is a cell stand-in that switches protocols whenever it is
// asked to (and, on /sneaky, also when it is not), then echoes every byte
// it reads: whatever follows a 101 reaches it unchecked. It records the
// Upgrade header of every request it sees.
type switchingCell struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD path upgrade=<Upgrade>"
}

func newSwitchingCell(t *testing.T) *switchingCell {
	t.Helper()
	c := &switchingCell{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := r.Header.Get("Upgrade")
		c.mu.Lock()
		c.seen = append(c.seen, r.Method+" "+r.URL.Path+" upgrade="+up)
		c.mu.Unlock()
		if up == "" && r.URL.Path != "/sneaky" {
			io.WriteString(w, "plain")
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("cell: hijack: %v", err)
			return
		}
		defer conn.Close()
		if up != "" {
			fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", up)
		} else {
			io.WriteString(brw, "HTTP/1.1 101 Switching Protocols\r\n\r\n")
		}
		brw.Flush()
		line, err := brw.ReadString('\n') // echo one line: the tunnel works
		if err != nil {
			return
		}
		io.WriteString(conn, "echo: "+line)
	}))
	t.Cleanup(c.Server.Close)
	return c
}

func (c *switchingCell) requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

// rawUpgrade sends one request over a fresh connection to front, exactly
// as written (lines joined with CRLF), and returns the response. After a
// 101 it sends "ping\n" through the tunnel and returns what came back in
// echo.
func rawUpgrade(t *testing.T, front string, lines ...string) (resp *http.Response, body, echo string) {
	t.Helper()
	return rawUpgradeBody(t, front, "", lines...)
}

// rawUpgradeBody is rawUpgrade with a request body sent after the head.
func rawUpgradeBody(t *testing.T, front, reqBody string, lines ...string) (resp *http.Response, body, echo string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(front, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second))) // catches a hang only
	_, err = io.WriteString(conn, strings.Join(lines, "\r\n")+"\r\n\r\n"+reqBody)
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err = http.ReadResponse(br, nil)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusSwitchingProtocols {
		_, err = io.WriteString(conn, "ping\n")
		require.NoError(t, err)
		echo, _ = br.ReadString('\n')
		return resp, "", echo
	}
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b), ""
}

func problemCodeOf(t *testing.T, resp *http.Response, body string) string {
	t.Helper()
	require.Equal(t, edge.ContentTypeProblem, resp.Header.Get("Content-Type"), "body: %s", body)
	var p struct{ Code string }
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	return p.Code
}

// TestProxyUpgrades closes item 4 of issue 22: an Upgrade used to be
// forwarded on any route (h2c, websocket, also on the unauthenticated
// POST /login), and after the cell's 101 every byte reached it unchecked.
// Now h2c and any other protocol are refused always, websocket only off
// the declared routes, and a refused upgrade never reaches the cell.
func TestProxyUpgrades(t *testing.T) {
	cell := newSwitchingCell(t)
	declared := func(r *http.Request) bool { return r.URL.Path == "/ws" }
	ws := []string{"Connection: keep-alive, Upgrade", "Upgrade: websocket",
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"}
	h2c := []string{"Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"}
	req := func(start string, header ...string) []string {
		return append([]string{start, "Host: api.example"}, header...)
	}

	type refusal struct {
		name  string
		opts  []edge.ProxyOption
		lines []string
		body  string
	}
	refused := []refusal{
		{"h2c on a declared route", []edge.ProxyOption{edge.WithWebSocket(declared)}, req("GET /ws HTTP/1.1", h2c...), ""},
		{"h2c without the option", nil, req("GET /x HTTP/1.1", h2c...), ""},
		{"h2c without Connection: upgrade", nil, req("GET /x HTTP/1.1", "Upgrade: h2c"), ""},
		{"websocket without the option", nil, req("GET /ws HTTP/1.1", ws...), ""},
		{"websocket on an undeclared route", []edge.ProxyOption{edge.WithWebSocket(declared)}, req("GET /x HTTP/1.1", ws...), ""},
		{"websocket on the login", []edge.ProxyOption{edge.WithWebSocket(declared)},
			req("POST /login HTTP/1.1", append([]string{"Content-Length: 0"}, ws...)...), ""},
		{"two protocols", []edge.ProxyOption{edge.WithWebSocket(declared)},
			req("GET /ws HTTP/1.1", "Connection: Upgrade", "Upgrade: websocket, h2c"), ""},
		{"two Upgrade fields", []edge.ProxyOption{edge.WithWebSocket(declared)},
			req("GET /ws HTTP/1.1", "Connection: Upgrade", "Upgrade: websocket", "Upgrade: h2c"), ""},
		{"another protocol", []edge.ProxyOption{edge.WithWebSocket(declared)},
			req("GET /ws HTTP/1.1", "Connection: Upgrade", "Upgrade: TLS/1.2"), ""},
		{"websocket by POST", []edge.ProxyOption{edge.WithWebSocket(declared)},
			req("POST /ws HTTP/1.1", append([]string{"Content-Length: 0"}, ws...)...), ""},
		{"websocket over HTTP/1.0", []edge.ProxyOption{edge.WithWebSocket(declared)}, req("GET /ws HTTP/1.0", ws...), ""},
		{"CONNECT", []edge.ProxyOption{edge.WithWebSocket(declared)}, req("CONNECT /ws HTTP/1.1"), ""},
	}
	refused = append(refused, // a handshake has no body
		refusal{"websocket with a body", []edge.ProxyOption{edge.WithWebSocket(declared)},
			req("GET /ws HTTP/1.1", append([]string{"Content-Length: 4"}, ws...)...), "ping"},
		refusal{"websocket with a chunked body", []edge.ProxyOption{edge.WithWebSocket(declared)},
			req("GET /ws HTTP/1.1", append([]string{"Transfer-Encoding: chunked"}, ws...)...), "4\r\nping\r\n0\r\n\r\n"},
	)
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := len(cell.requests())
			front := httptest.NewServer(must.Build(edge.RequestID())(mustProxy(t, cell.URL, tt.opts...)))
			defer front.Close()
			resp, body, _ := rawUpgradeBody(t, front.URL, tt.body, tt.lines...)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "body: %s", body)
			assert.Equal(t, "upgrade_refused", problemCodeOf(t, resp, body))
			assert.Empty(t, cell.requests()[before:], "the cell saw the refused request")
		})
	}

	t.Run("websocket on a declared route", func(t *testing.T) {
		before := len(cell.requests())
		front := httptest.NewServer(edge.Chain(must.Build(edge.RequestID()), must.Build(edge.AccessLog()))(mustProxy(t, cell.URL, edge.WithWebSocket(declared))))
		defer front.Close()
		resp, body, echo := rawUpgrade(t, front.URL, req("GET /ws HTTP/1.1", ws...)...)
		require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode, "body: %s", body)
		assert.Equal(t, "websocket", resp.Header.Get("Upgrade"))
		assert.Equal(t, "echo: ping\n", echo)
		assert.Equal(t, []string{"GET /ws upgrade=websocket"}, cell.requests()[before:])
	})

	t.Run("a plain request on a declared route", func(t *testing.T) {
		front := httptest.NewServer(mustProxy(t, cell.URL, edge.WithWebSocket(declared)))
		defer front.Close()
		resp, body, _ := rawUpgrade(t, front.URL, req("GET /ws HTTP/1.1")...)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "plain", body)
	})

	t.Run("a cell that switches unasked", func(t *testing.T) {
		// No tunnel opens unless the edge let an upgrade through: a 101
		// to a plain request is the cell's failure, never a tunnel.
		front := httptest.NewServer(must.Build(edge.RequestID())(mustProxy(t, cell.URL, edge.WithWebSocket(declared))))
		defer front.Close()
		resp, body, echo := rawUpgrade(t, front.URL, req("GET /sneaky HTTP/1.1")...)
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "echo: %q", echo)
		assert.Equal(t, "upstream_unavailable", problemCodeOf(t, resp, body))
	})
}

// TestProxyUpgradeThroughBinding: a Binding cannot switch protocols (its
// response body cannot be written), so even a declared upgrade to a bound
// handler that answers 101 opens no tunnel: the caller gets a problem.
func TestProxyUpgradeThroughBinding(t *testing.T) {
	bound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", r.Header.Get("Upgrade"))
		w.WriteHeader(http.StatusSwitchingProtocols)
		io.WriteString(w, "tunnel")
	})
	p := mustProxy(t, "http://cell.internal", edge.WithTransport(edge.Binding(bound)),
		edge.WithWebSocket(func(*http.Request) bool { return true }))
	front := httptest.NewServer(p)
	defer front.Close()
	resp, body, echo := rawUpgrade(t, front.URL, "GET /ws HTTP/1.1", "Host: api.example",
		"Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13")
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode, "echo: %q", echo)
	assert.Equal(t, "upstream_unavailable", problemCodeOf(t, resp, body))
}

func TestIsUpgrade(t *testing.T) {
	tests := []struct {
		name   string
		method string
		header http.Header
		want   bool
	}{
		{"plain", "GET", http.Header{"Connection": {"keep-alive"}}, false},
		{"websocket", "GET", http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, true},
		{"Upgrade alone", "GET", http.Header{"Upgrade": {"h2c"}}, true},
		{"empty Upgrade", "GET", http.Header{"Upgrade": {""}}, true},
		{"non-canonical spelling", "GET", http.Header{"upgrade": {"websocket"}}, true},
		{"Connection: upgrade alone", "GET", http.Header{"Connection": {"upgrade"}}, false},
		{"CONNECT", "CONNECT", http.Header{}, true},
		{"extended CONNECT", "CONNECT", http.Header{":protocol": {"websocket"}}, true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/x", nil)
		r.Header = tt.header
		assert.Equal(t, tt.want, edge.IsUpgrade(r), tt.name)
	}
}

// A proxy that relays WebSocket handshakes on one declared route. Put it
// behind the passport gateway, and declare only routes that need a
// passport: the proxy cannot check who asks. Every other protocol switch is
// refused before it reaches the cell.
func ExampleWithWebSocket() {
	live := func(r *http.Request) bool { return r.URL.Path == "/rest/v1.0/live" }
	cell, err := edge.ProxyTo("http://cell.internal", edge.WithWebSocket(live))
	if err != nil {
		panic(err)
	}
	for _, tc := range []struct{ path, protocol string }{
		{"/rest/v1.0/live", "h2c"},
		{"/rest/v1.0/projects", "websocket"},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.path, nil)
		r.Header.Set("Connection", "Upgrade")
		r.Header.Set("Upgrade", tc.protocol)
		w := httptest.NewRecorder()
		cell.ServeHTTP(w, r)
		var p struct{ Code string }
		json.Unmarshal(w.Body.Bytes(), &p)
		fmt.Println(tc.protocol, "on", tc.path+":", w.Code, p.Code)
	}
	// Output:
	// h2c on /rest/v1.0/live: 400 upgrade_refused
	// websocket on /rest/v1.0/projects: 400 upgrade_refused
}
