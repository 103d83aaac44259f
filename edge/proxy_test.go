package edge_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// upstreamEcho answers with what it received, one "name: value" per line.
func upstreamEcho(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		for _, line := range []string{
			"uri: " + r.RequestURI,
			"host: " + r.Host,
			"xff: " + r.Header.Get("X-Forwarded-For"),
			"xfh: " + r.Header.Get("X-Forwarded-Host"),
			"xfp: " + r.Header.Get("X-Forwarded-Proto"),
			"rid: " + r.Header.Get(edge.RequestIDHeader),
			"conn: " + r.Header.Get("X-Hop"),
			"body: " + string(body),
		} {
			io.WriteString(w, line+"\n")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func mustProxy(t *testing.T, upstream string, opts ...edge.ProxyOption) *edge.Proxy {
	t.Helper()
	p, err := edge.ProxyTo(upstream, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProxy(t *testing.T) {
	up := upstreamEcho(t)
	upHost := strings.TrimPrefix(up.URL, "http://")
	tests := []struct {
		name   string
		trust  edge.Trust
		target string
		path   string
		xff    string
		want   []string
	}{
		{
			name: "untrusted", target: up.URL + "/base", path: "/a%2Fb/c?q=1&sig=x", xff: "6.6.6.6",
			want: []string{"uri: /base/a%2Fb/c?q=1&sig=x", "host: " + upHost, "xff: 127.0.0.1",
				"xfh: front.example", "xfp: http", "conn: mine", "body: ping"},
		},
		{
			name: "trusted chain extended", trust: trustAll, target: up.URL, path: "/x", xff: "6.6.6.6",
			want: []string{"uri: /x", "xff: 6.6.6.6, 127.0.0.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			front := httptest.NewServer(must.Build(edge.RequestID())(mustProxy(t, tt.target, edge.WithTrust(tt.trust))))
			defer front.Close()
			req, _ := http.NewRequest("POST", front.URL+tt.path, strings.NewReader("ping"))
			req.Host = "front.example"
			req.Header.Set("X-Forwarded-For", tt.xff)
			// Not a standard hop-by-hop field: the token is ignored, and the
			// client's header crosses like any other (issue 22, item 5).
			req.Header.Set("Connection", "X-Hop")
			req.Header.Set("X-Hop", "mine")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, got)
			}
			want := append(tt.want, "rid: "+resp.Header.Get(edge.RequestIDHeader))
			for _, line := range want {
				if !strings.Contains(got, line+"\n") {
					t.Errorf("upstream did not see %q:\n%s", line, got)
				}
			}
		})
	}
}

func TestProxyStreamsFlushed(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, "second\n")
	}))
	defer up.Close()
	front := httptest.NewServer(mustProxy(t, up.URL))
	defer front.Close()
	defer close(release) // before the servers close

	resp, err := http.Get(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n') // arrives while the upstream still holds the response open
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk = %q, %v", line, err)
	}
	release <- struct{}{}
	if rest, _ := io.ReadAll(br); string(rest) != "second\n" {
		t.Errorf("rest = %q", rest)
	}
}

// A response whose length is known is not flushed by the proxy: its
// headers and body leave in one write when the handler returns, not in
// two (headers, then body). One without a length streams, flushed after
// every write, whatever WithFlushInterval says.
func TestProxyFlushesOnlyStreams(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			io.WriteString(w, "part")
			w.(http.Flusher).Flush() // no Content-Length: chunked
			return
		}
		io.WriteString(w, "whole") // Content-Length: 5
	}))
	defer up.Close()
	for _, tc := range []struct {
		path    string
		opts    []edge.ProxyOption
		flushed bool
	}{
		{"/whole", nil, false},
		{"/whole", []edge.ProxyOption{edge.WithFlushEveryWrite()}, true},
		{"/stream", nil, true},
		{"/stream", []edge.ProxyOption{edge.WithFlushInterval(0)}, true},
	} {
		proxy, err := edge.ProxyTo(up.URL, tc.opts...)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, tc.flushed, rec.Flushed, "%s with %d options: flushed", tc.path, len(tc.opts))
	}
}

// refusedAddr returns an address where nothing listens.
func refusedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestProxyUpstreamErrors(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer slow.Close()
	defer close(hang)
	slowHost := strings.TrimPrefix(slow.URL, "http://")
	refused := refusedAddr(t)

	quick := edge.NewTransport()
	quick.ResponseHeaderTimeout = 20 * time.Millisecond
	deadline := func(next http.Handler) http.Handler { // a route with a deadline
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 20*time.Millisecond)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	none := func(h http.Handler) http.Handler { return h }

	tests := []struct {
		name     string
		upstream string
		mw       func(http.Handler) http.Handler
		opts     []edge.ProxyOption
		status   int
		code     string
	}{
		{"refused", "http://" + refused, none, nil, 502, "upstream_unavailable"},
		{"response header timeout", slow.URL, none, []edge.ProxyOption{edge.WithTransport(quick)}, 504, "upstream_timeout"},
		{"request deadline", slow.URL, deadline, nil, 504, "upstream_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, buf := newLogger()
			p := mustProxy(t, tt.upstream, append(tt.opts, edge.WithLogger(logger))...)
			front := httptest.NewServer(edge.Chain(must.Build(edge.RequestID()), must.Build(edge.AccessLog(edge.WithLogger(logger))), tt.mw)(p))
			defer front.Close()

			resp, err := http.Get(front.URL + "/x?sig=secret")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			resp.Body = io.NopCloser(strings.NewReader(string(body)))
			prob := decodeProblem(t, resp)
			if prob["code"] != tt.code || prob["request_id"] != resp.Header.Get(edge.RequestIDHeader) {
				t.Errorf("problem = %v, want %s with the request ID", prob, tt.code)
			}
			for _, leak := range []string{refused, slowHost, "127.0.0.1", "dial", "secret"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("body leaks %q: %s", leak, body)
				}
			}
			front.Close() // flushes the access log line
			l := buf.lines(t)
			if len(l) != 1 || l[0]["problem"] != tt.code || l[0]["error"] == nil {
				t.Errorf("log = %v, want one line with the problem and its cause", l)
			}
			if strings.Contains(buf.String(), "secret") {
				t.Errorf("log leaks the query: %s", buf)
			}
		})
	}
}

func TestProxyClientGone(t *testing.T) {
	t.Run("before the answer", func(t *testing.T) {
		// The client leaves; the problem is only logged (nginx's 499).
		arrived := make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			<-r.Context().Done()
		}))
		defer up.Close()
		logger, buf := newLogger()
		h := must.Build(edge.AccessLog(edge.WithLogger(logger)))(mustProxy(t, up.URL))
		ctx, cancel := context.WithCancel(context.Background())
		r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
		go func() { <-arrived; cancel() }()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if l := buf.lines(t); len(l) != 1 || l[0]["problem"] != "client_closed_request" || l[0]["status"] != 499.0 {
			t.Errorf("log = %v, want client_closed_request", l)
		}
		if p := decodeProblem(t, rec.Result()); p["title"] != "Client Closed Request" {
			t.Errorf("problem = %v", p)
		}
	})

	t.Run("mid-stream", func(t *testing.T) {
		upDone := make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer close(upDone)
			io.WriteString(w, "first\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done() // released only when the proxy hangs up
		}))
		defer up.Close()
		front := httptest.NewServer(mustProxy(t, up.URL))
		defer front.Close()
		client := &http.Client{Transport: &http.Transport{}}
		before := runtime.NumGoroutine()

		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", front.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || line != "first\n" {
			t.Fatalf("first chunk = %q, %v", line, err)
		}
		cancel()
		resp.Body.Close()
		wait(t, upDone, "the upstream handler to see the client leave")
		client.CloseIdleConnections()
		settleGoroutines(t, before)
	})
}

func TestProxyTarget(t *testing.T) {
	up := upstreamEcho(t)
	upURL, _ := url.Parse(up.URL)
	tests := []struct {
		name   string
		target func(*http.Request) (*url.URL, error)
		status int
		code   string
	}{
		{"chosen per request", func(r *http.Request) (*url.URL, error) {
			if r.Header.Get("Zone") != "us01" {
				return nil, edge.NewProblem(421, "zone_unknown", "No such zone.")
			}
			return upURL, nil
		}, 200, ""},
		{"problem", func(*http.Request) (*url.URL, error) {
			return nil, edge.NewProblem(404, "company_unknown", "No such company.").WithCause(errors.New("db row 7"))
		}, 404, "company_unknown"},
		{"plain error", func(*http.Request) (*url.URL, error) { return nil, errors.New("directory 10.0.0.9 down") }, 500, "internal_error"},
		{"no URL", func(*http.Request) (*url.URL, error) { return nil, nil }, 502, "upstream_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := edge.NewProxy(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			logger, buf := newLogger()
			rec := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Zone", "us01")
			must.Build(edge.AccessLog(edge.WithLogger(logger)))(p).ServeHTTP(rec, r)
			if l := buf.lines(t); tt.code != "" && l[0]["problem"] != tt.code {
				t.Errorf("log = %v, want problem %s", l, tt.code)
			}
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.code != "" {
				if p := decodeProblem(t, rec.Result()); p["code"] != tt.code {
					t.Errorf("code = %v, want %s", p["code"], tt.code)
				}
			}
			if b := rec.Body.String(); strings.Contains(b, "db row") || strings.Contains(b, "10.0.0.9") {
				t.Errorf("cause leaked: %s", b)
			}
		})
	}
}

func TestNewProxyInvalid(t *testing.T) {
	if _, err := edge.NewProxy(nil); err == nil {
		t.Error("NewProxy(nil) accepted")
	}
	for _, u := range []string{"", "/relative", "ftp://host/", "http://", "http://[::1", "//host/x"} {
		if _, err := edge.ProxyTo(u); err == nil {
			t.Errorf("ProxyTo(%q) accepted", u)
		}
	}
	_, err := edge.ProxyTo("ftp://user:hunter2@host/")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("ProxyTo error %v: want an error without the password", err)
	}
}

func TestNewTransport(t *testing.T) {
	tr := edge.NewTransport()
	if tr.Proxy != nil || tr.MaxIdleConnsPerHost < 64 || tr.ResponseHeaderTimeout <= 0 ||
		tr.TLSHandshakeTimeout <= 0 || tr.IdleConnTimeout <= 0 || !tr.ForceAttemptHTTP2 {
		t.Errorf("transport = %+v", tr)
	}
	if edge.NewTransport() == tr {
		t.Error("NewTransport shares one transport")
	}
}

// TestRequestIDAcrossHops closes hole 11 of issue 12: a response that
// crossed router → binding → gateway → proxy → cell carries X-Request-Id
// once, and it is the ID every hop saw.
func TestRequestIDAcrossHops(t *testing.T) {
	seen := map[string]string{}
	var mu sync.Mutex
	saw := func(hop string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen[hop] = edge.RequestIDFromContext(r.Context())
				mu.Unlock()
				next.ServeHTTP(w, r)
			})
		}
	}
	loopback, err := edge.TrustNetworks("127.0.0.0/8", "::1/128")
	require.NoError(t, err)

	cell := httptest.NewServer(edge.Chain(must.Build(edge.RequestID(edge.WithTrust(loopback))), saw("cell"))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "cell") })))
	t.Cleanup(cell.Close)
	toCell := mustProxy(t, cell.URL)
	gateway := edge.Chain(must.Build(edge.RequestID()), saw("gateway"))(toCell)
	toGateway, err := edge.ProxyTo("http://gateway.internal", edge.WithTransport(edge.Binding(gateway)))
	require.NoError(t, err)
	router := httptest.NewServer(edge.Chain(must.Build(edge.RequestID()), saw("router"))(toGateway))
	t.Cleanup(router.Close)

	req, err := http.NewRequest("GET", router.URL+"/x", nil)
	require.NoError(t, err)
	req.Header.Set(edge.RequestIDHeader, "forged-by-client")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	assert.Equal(t, "cell", readAll(t, resp.Body))

	ids := resp.Header.Values(edge.RequestIDHeader)
	require.Len(t, ids, 1, "X-Request-Id in the response: %v", ids)
	assert.NotEqual(t, "forged-by-client", ids[0])
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, map[string]string{"router": ids[0], "gateway": ids[0], "cell": ids[0]}, seen)
}

// TestProxyConnectionTokens closes item 5 of issue 22: a client used to
// delete, by naming them in its Connection header, the headers the edge
// had set for the cell (the checked company and zone, the passport), as
// httputil removes every header the Connection header names. Now only the
// standard hop-by-hop fields go; other tokens are ignored, so the cell
// gets what it would have got without them.
func TestProxyConnectionTokens(t *testing.T) {
	got := make(chan http.Header, 1)
	cell := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}))
	defer cell.Close()
	// The edge's middlewares set these before the proxy: a gateway's
	// checked company and zone, and the passport.
	set := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Set("Cellgate-Company-Id", "1")
			r.Header.Set("Cellgate-Zone", "us01")
			r.Header.Set("Authorization", "Bearer passport")
			next.ServeHTTP(w, r)
		})
	}
	front := httptest.NewServer(edge.Chain(must.Build(edge.RequestID()), must.Build(edge.StripInternal()), set)(mustProxy(t, cell.URL)))
	defer front.Close()

	for _, tt := range []struct {
		connection string
		header     map[string]string // sent by the client besides Connection
		want       map[string]string // at the cell; "" means absent
	}{
		{connection: "Cellgate-Company-Id, Cellgate-Zone",
			want: map[string]string{"Cellgate-Company-Id": "1", "Cellgate-Zone": "us01", "Authorization": "Bearer passport"}},
		{connection: "Authorization", want: map[string]string{"Authorization": "Bearer passport"}},
		{connection: "keep-alive, X-Request-Id, cellgate-zone, AUTHORIZATION",
			want: map[string]string{"Cellgate-Zone": "us01", "Authorization": "Bearer passport", "X-Request-Id": "*"}},
		{connection: "X-Forwarded-For, X-Forwarded-Proto, Forwarded",
			want: map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "Forwarded": ""}},
		// The standard hop-by-hop fields still stop here; a client's own
		// header named in Connection crosses like any other it sends.
		{connection: "Keep-Alive, TE, X-Hop", header: map[string]string{"Keep-Alive": "timeout=5", "Te": "gzip", "X-Hop": "mine"},
			want: map[string]string{"Keep-Alive": "", "Te": "", "Connection": "", "X-Hop": "mine", "Cellgate-Zone": "us01"}},
	} {
		req, err := http.NewRequest(http.MethodGet, front.URL+"/x", nil)
		require.NoError(t, err)
		req.Header.Set("Connection", tt.connection)
		for k, v := range tt.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		readAll(t, resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, tt.connection)
		h := <-got
		for name, want := range tt.want {
			switch want {
			case "*":
				assert.NotEmpty(t, h.Get(name), "Connection: %s: %s", tt.connection, name)
			default:
				assert.Equal(t, want, h.Get(name), "Connection: %s: %s", tt.connection, name)
			}
		}
	}
}
