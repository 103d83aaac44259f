package edge_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

func trustAll(*http.Request) bool { return true }

func TestRequestID(t *testing.T) {
	max := strings.Repeat("a", 64)
	tests := []struct {
		name    string
		inbound []string // nil: no header
		trust   edge.Trust
		keep    bool
	}{
		{"none, untrusted", nil, nil, false},
		{"none, trusted", nil, trustAll, false},
		{"valid but untrusted", []string{"abc-123"}, nil, false},
		{"valid and trusted", []string{"abc-123"}, trustAll, true},
		{"every allowed character", []string{"AZaz09._:-"}, trustAll, true},
		{"64 characters", []string{max}, trustAll, true},
		{"65 characters", []string{max + "a"}, trustAll, false},
		{"oversized", []string{strings.Repeat("x", 8<<10)}, trustAll, false},
		{"empty", []string{""}, trustAll, false},
		{"space", []string{"abc 123"}, trustAll, false},
		{"slash", []string{"a/b"}, trustAll, false},
		{"log injection", []string{"a\nlevel=ERROR"}, trustAll, false},
		{"non-ASCII", []string{"ïd"}, trustAll, false},
		{"quote", []string{`a"b`}, trustAll, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seenCtx, seenHeader string
			h := must.Build(edge.RequestID(edge.WithTrust(tt.trust)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seenCtx = edge.RequestIDFromContext(r.Context())
				seenHeader = r.Header.Get(edge.RequestIDHeader)
			}))
			req := httptest.NewRequest("GET", "/", nil)
			if tt.inbound != nil {
				req.Header[edge.RequestIDHeader] = tt.inbound
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if tt.keep {
				if seenCtx != tt.inbound[0] {
					t.Errorf("RequestIDFromContext = %q, want the inbound %q", seenCtx, tt.inbound[0])
				}
			} else {
				if len(seenCtx) != 22 || !edge.ValidRequestID(seenCtx) {
					t.Errorf("RequestIDFromContext = %q, want a fresh 22-character ID", seenCtx)
				}
				if tt.inbound != nil && seenCtx == tt.inbound[0] {
					t.Errorf("inbound ID %q kept", seenCtx)
				}
			}
			if got := rec.Header().Get(edge.RequestIDHeader); got != seenCtx {
				t.Errorf("response X-Request-Id = %q, want %q", got, seenCtx)
			}
			if seenHeader != seenCtx {
				t.Errorf("request X-Request-Id seen by the handler = %q, want %q", seenHeader, seenCtx)
			}
		})
	}
}

func TestNewRequestIDUnique(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		id := edge.NewRequestID()
		if len(id) != 22 || !edge.ValidRequestID(id) {
			t.Fatalf("NewRequestID = %q, want 22 valid characters", id)
		}
		if seen[id] {
			t.Fatalf("NewRequestID repeated %q", id)
		}
		seen[id] = true
	}
}

// IDs are handed out of shared batches: goroutines taking them at once
// never get one twice.
func TestNewRequestIDConcurrentUnique(t *testing.T) {
	const workers, each = 4, 500
	ids := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				ids[w] = append(ids[w], edge.NewRequestID())
			}
		})
	}
	wg.Wait()
	seen := make(map[string]bool)
	for _, l := range ids {
		for _, id := range l {
			if len(id) != 22 || !edge.ValidRequestID(id) || seen[id] {
				t.Fatalf("NewRequestID = %q: invalid or repeated", id)
			}
			seen[id] = true
		}
	}
}

func TestContextWithRequestID(t *testing.T) {
	ctx := edge.ContextWithRequestID(context.Background(), "req-1")
	if got := edge.RequestIDFromContext(ctx); got != "req-1" {
		t.Errorf("RequestIDFromContext = %q, want req-1", got)
	}
	if got := edge.RequestIDFromContext(context.Background()); got != "" {
		t.Errorf("RequestIDFromContext(empty) = %q, want empty", got)
	}
}

// echoRequestID answers with the X-Request-Id it received.
func echoRequestID(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.Header.Get(edge.RequestIDHeader)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOutbound(t *testing.T) {
	srv := echoRequestID(t)
	tests := []struct {
		name     string
		ctxID    string
		headerID string
		want     string
	}{
		{"from context", "ctx-id", "", "ctx-id"},
		{"explicit header wins", "ctx-id", "hdr-id", "hdr-id"},
		{"nothing to send", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: edge.Outbound(nil)}
			ctx := context.Background()
			if tt.ctxID != "" {
				ctx = edge.ContextWithRequestID(ctx, tt.ctxID)
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
			if tt.headerID != "" {
				req.Header.Set(edge.RequestIDHeader, tt.headerID)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, resp.Body)
			if got != tt.want {
				t.Errorf("upstream saw X-Request-Id %q, want %q", got, tt.want)
			}
			if tt.headerID == "" && req.Header.Get(edge.RequestIDHeader) != "" {
				t.Error("Outbound modified the caller's request")
			}
		})
	}
}

func TestRequestIDEndToEnd(t *testing.T) {
	// The ID assigned at the edge reaches an upstream through Outbound.
	upstream := echoRequestID(t)
	client := &http.Client{Transport: edge.Outbound(nil)}
	front := httptest.NewServer(must.Build(edge.RequestID())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", upstream.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer resp.Body.Close()
		w.Write([]byte(readAll(t, resp.Body)))
	})))
	defer front.Close()

	req, _ := http.NewRequest("GET", front.URL, nil)
	req.Header.Set(edge.RequestIDHeader, "forged-by-client")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, resp.Body)
	echoed := resp.Header.Get(edge.RequestIDHeader)
	if got == "forged-by-client" || got == "" {
		t.Errorf("upstream saw %q, want the edge's own ID", got)
	}
	if got != echoed {
		t.Errorf("upstream saw %q, client was told %q", got, echoed)
	}
}

// readAll reads and closes body. Tests only: library code streams.
func readAll(t testing.TB, body io.ReadCloser) string {
	t.Helper()
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Errorf("reading body: %v", err)
	}
	return string(b)
}

// TestRequestIDSpellings closes hole 4 of issue 12: a spelling of
// X-Request-Id other than the canonical one is neither believed nor passed
// on, and an ambiguous inbound ID (two spellings, or two values) is refused
// even from a trusted hop.
func TestRequestIDSpellings(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		trust  edge.Trust
		keep   string // the inbound ID kept, or "" for a fresh one
	}{
		{"underscore spelling, untrusted", http.Header{"X_Request_Id": {"forged"}}, nil, ""},
		{"lower-case underscore spelling, untrusted", http.Header{"x_request_id": {"forged"}}, nil, ""},
		{"canonical and underscore spellings, untrusted", http.Header{
			"X-Request-Id": {"abc"}, "X_Request_Id": {"forged"}}, nil, ""},
		{"two spellings, trusted", http.Header{
			"X-Request-Id": {"abc"}, "X_Request_Id": {"forged"}}, trustAll, ""},
		{"two spellings with one value, trusted", http.Header{
			"X-Request-Id": {"abc"}, "x-request-id": {"abc"}}, trustAll, ""},
		{"two values, trusted", http.Header{"X-Request-Id": {"abc", "def"}}, trustAll, ""},
		{"one non-canonical spelling, trusted", http.Header{"X_Request_Id": {"abc"}}, trustAll, "abc"},
		{"one canonical spelling, trusted", http.Header{"X-Request-Id": {"abc"}}, trustAll, "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen http.Header
			var ctxID string
			h := must.Build(edge.RequestID(edge.WithTrust(tt.trust)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = r.Header.Clone()
				ctxID = edge.RequestIDFromContext(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header = tt.header.Clone()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if tt.keep != "" {
				assert.Equal(t, tt.keep, ctxID)
			} else {
				assert.Len(t, ctxID, 22, "want a fresh ID")
			}
			values, spellings := edge.HeaderValues(seen, edge.RequestIDHeader)
			assert.Equal(t, 1, spellings, "the handler sees one spelling: %v", seen)
			assert.Equal(t, []string{ctxID}, values)
			assert.Equal(t, []string{ctxID}, seen[edge.RequestIDHeader], "the canonical header carries the ID")
			assert.Equal(t, []string{ctxID}, rec.Header().Values(edge.RequestIDHeader))
		})
	}
}

// TestRequestIDTrustsBinding: an ID crosses a Binding without WithTrust, so
// every hop of one request in one process logs the same ID; the same
// request over the network is not believed.
func TestRequestIDTrustsBinding(t *testing.T) {
	var inner string
	callee := must.Build(edge.RequestID())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner = edge.RequestIDFromContext(r.Context())
	}))
	req, err := http.NewRequestWithContext(edge.ContextWithRequestID(t.Context(), "outer-id"), "GET", "http://callee/x", nil)
	require.NoError(t, err)
	resp, err := edge.Binding(callee).RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "outer-id", inner)
	assert.Equal(t, []string{"outer-id"}, resp.Header.Values(edge.RequestIDHeader))

	direct := httptest.NewRequest("GET", "/x", nil)
	direct.Header.Set(edge.RequestIDHeader, "outer-id")
	callee.ServeHTTP(httptest.NewRecorder(), direct)
	assert.NotEqual(t, "outer-id", inner, "an ID from the network is not trusted by default")
}
