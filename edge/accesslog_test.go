package edge_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/internal/testrig/syncbuf"
)

// logBuffer captures JSON log lines; safe for server goroutines.
type logBuffer struct{ syncbuf.Buffer }

// lines decodes every line logged so far.
func (b *logBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// newLogger returns a logger writing JSON at every level into a buffer.
func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

func TestAccessLog(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		target   string
		body     string
		read     int64 // body bytes the handler reads; -1 all
		handler  func(w http.ResponseWriter)
		level    string
		status   float64
		path     string
		bytesIn  float64
		bytesOut float64
	}{
		{
			name: "implicit 200", method: "GET", target: "/a/b",
			handler: func(w http.ResponseWriter) { io.WriteString(w, "hello") },
			level:   "INFO", status: 200, path: "/a/b", bytesOut: 5,
		},
		{
			name: "nothing written", method: "GET", target: "/empty",
			handler: func(w http.ResponseWriter) {},
			level:   "INFO", status: 200, path: "/empty",
		},
		{
			name: "body read whole", method: "POST", target: "/upload", body: "0123456789A", read: -1,
			handler: func(w http.ResponseWriter) { w.WriteHeader(201) },
			level:   "INFO", status: 201, path: "/upload", bytesIn: 11,
		},
		{
			name: "body read in part", method: "PUT", target: "/upload", body: "0123456789A", read: 4,
			handler: func(w http.ResponseWriter) { w.WriteHeader(204) },
			level:   "INFO", status: 204, path: "/upload", bytesIn: 4,
		},
		{
			name: "client error is a warning", method: "GET", target: "/missing",
			handler: func(w http.ResponseWriter) { http.NotFound(w, nil) },
			level:   "WARN", status: 404, path: "/missing", bytesOut: 19,
		},
		{
			name: "server error is an error", method: "DELETE", target: "/x",
			handler: func(w http.ResponseWriter) { w.WriteHeader(503); io.WriteString(w, "down") },
			level:   "ERROR", status: 503, path: "/x", bytesOut: 4,
		},
		{
			name: "query never logged", method: "GET",
			target:  "/files/a.txt?sig=secret&X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKIAEXAMPLE",
			handler: func(w http.ResponseWriter) { io.WriteString(w, "ok") },
			level:   "INFO", status: 200, path: "/files/a.txt", bytesOut: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, buf := newLogger()
			h := edge.Chain(must.Build(edge.RequestID()), must.Build(edge.AccessLog(edge.WithLogger(logger))))(
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					switch {
					case tt.read < 0:
						io.Copy(io.Discard, r.Body)
					case tt.read > 0:
						io.CopyN(io.Discard, r.Body, tt.read)
					}
					tt.handler(w)
				}))
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, body))

			lines := buf.lines(t)
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1:\n%s", len(lines), buf)
			}
			l := lines[0]
			want := map[string]any{
				"level": tt.level, "msg": "request", "method": tt.method, "path": tt.path,
				"status": tt.status, "bytes_in": tt.bytesIn, "bytes_out": tt.bytesOut,
				"request_id": rec.Header().Get(edge.RequestIDHeader),
			}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("%s = %v, want %v", k, l[k], v)
				}
			}
			if _, ok := l["duration"].(float64); !ok {
				t.Errorf("duration missing: %v", l)
			}
			for _, secret := range []string{"secret", "deadbeefcafe", "AKIAEXAMPLE", "sig=", "?"} {
				if strings.Contains(buf.String(), secret) {
					t.Errorf("log leaks %q: %s", secret, buf)
				}
			}
		})
	}
}

func TestAccessLogRealServerBytes(t *testing.T) {
	logger, buf := newLogger()
	srv := httptest.NewServer(must.Build(edge.AccessLog(edge.WithLogger(logger)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		io.CopyN(w, strings.NewReader(strings.Repeat("z", 100000)), n*2) // through ReadFrom
	})))
	resp, err := http.Post(srv.URL+"/p?token=s3cr3t", "text/plain", strings.NewReader(strings.Repeat("y", 40000)))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(readAll(t, resp.Body)); got != 80000 {
		t.Fatalf("client got %d bytes, want 80000", got)
	}
	srv.Close() // waits for the handler, so the line is written
	l := buf.lines(t)
	if len(l) != 1 || l[0]["bytes_in"] != 40000.0 || l[0]["bytes_out"] != 80000.0 || l[0]["path"] != "/p" {
		t.Errorf("log = %v, want one line with bytes_in 40000, bytes_out 80000, path /p", l)
	}
	if strings.Contains(buf.String(), "s3cr3t") {
		t.Errorf("log leaks the query: %s", buf)
	}
}

func TestAddLogAttrs(t *testing.T) {
	if edge.AddLogAttrs(httptest.NewRequest("GET", "/", nil).Context(), slog.String("k", "v")) {
		t.Error("AddLogAttrs reported a collector without an access log")
	}

	logger, buf := newLogger()
	var inner func() []slog.Attr
	company := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !edge.AddLogAttrs(r.Context(), slog.String("company", "acme")) {
				t.Error("AddLogAttrs found no collector under AccessLog")
			}
			next.ServeHTTP(w, r)
		})
	}
	tracing := func(next http.Handler) http.Handler { // a second reader, like tracing
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, attrs := edge.CollectAttrs(r.Context())
			inner = attrs
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	h := edge.Chain(must.Build(edge.AccessLog(edge.WithLogger(logger))), company, tracing)(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			edge.AddLogAttrs(r.Context(), slog.String("zone", "us01"), slog.Int("shard", 3))
		}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	l := buf.lines(t)
	if len(l) != 1 {
		t.Fatalf("%d lines, want 1", len(l))
	}
	if l[0]["company"] != "acme" || l[0]["zone"] != "us01" || l[0]["shard"] != 3.0 {
		t.Errorf("log line lacks added attrs: %v", l[0])
	}
	got := inner()
	if len(got) != 3 || got[0].Key != "company" || got[1].Key != "zone" || got[2].Key != "shard" {
		t.Errorf("CollectAttrs under AccessLog saw %v, want the shared company, zone, shard", got)
	}
}

func TestCollectAttrs(t *testing.T) {
	ctx, attrs := edge.CollectAttrs(httptest.NewRequest("GET", "/", nil).Context())
	if !edge.AddLogAttrs(ctx, slog.String("a", "1")) {
		t.Fatal("AddLogAttrs found no collector from CollectAttrs")
	}
	ctx2, attrs2 := edge.CollectAttrs(ctx)
	if ctx2 != ctx {
		t.Error("CollectAttrs wrapped a context that already had a collector")
	}
	edge.AddLogAttrs(ctx2, slog.String("b", "2"))
	snap := attrs()
	if len(snap) != 2 || len(attrs2()) != 2 {
		t.Fatalf("snapshots = %v / %v, want two attrs in both", snap, attrs2())
	}
	snap[0] = slog.String("mutated", "x")
	if attrs()[0].Key != "a" {
		t.Error("a snapshot aliases the collector")
	}
}

func TestAccessLogConcurrentAttrs(t *testing.T) {
	logger, buf := newLogger()
	h := must.Build(edge.AccessLog(edge.WithLogger(logger)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() { edge.AddLogAttrs(r.Context(), slog.Bool(string(rune('a'+i)), true)) })
		}
		wg.Wait()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if n := strings.Count(buf.String(), `":true`); n != 8 {
		t.Errorf("%d attrs logged, want 8", n)
	}
}

func TestAccessLogDisabledLevel(t *testing.T) {
	b := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h := must.Build(edge.AccessLog(edge.WithLogger(logger)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bad" {
			w.WriteHeader(400)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/bad", nil))
	l := b.lines(t)
	if len(l) != 1 || l[0]["path"] != "/bad" {
		t.Errorf("logged %v, want only the 400", l)
	}
}

func TestAccessLogAborted(t *testing.T) {
	logger, buf := newLogger()
	mux := http.NewServeMux()
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "part")
		http.NewResponseController(w).Flush()
		panic("late") // Recover turns it into http.ErrAbortHandler
	})
	mux.HandleFunc("/abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	srv := httptest.NewUnstartedServer(edge.Chain(
		must.Build(edge.AccessLog(edge.WithLogger(logger))), must.Build(edge.Recover(edge.WithLogger(slog.New(slog.DiscardHandler)))))(mux))
	srv.Config.ErrorLog = discardLog()
	srv.Start()

	resp, err := http.Get(srv.URL + "/late")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("the late panic did not abort the response")
	}
	resp.Body.Close()
	if resp, err := http.Get(srv.URL + "/abort"); err == nil {
		resp.Body.Close()
		t.Error("the abort was answered")
	}
	srv.Close()

	want := map[string]float64{"/late": 200, "/abort": 0}
	l := buf.lines(t)
	if len(l) != 2 {
		t.Fatalf("%d lines, want 2: %s", len(l), buf)
	}
	for _, line := range l {
		path, _ := line["path"].(string)
		if line["aborted"] != true || line["level"] != "ERROR" || line["status"] != want[path] {
			t.Errorf("%s: %v, want aborted at ERROR with status %v", path, line, want[path])
		}
	}
}

// TestAccessLogService: WithService names the writer in every line, so two
// hops' lines for one request can be told apart; without it no service
// attribute is written.
func TestAccessLogService(t *testing.T) {
	logger, buf := newLogger()
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	must.Build(edge.AccessLog(edge.WithLogger(logger), edge.WithService("gateway-us01")))(ok).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	must.Build(edge.AccessLog(edge.WithLogger(logger)))(ok).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	l := buf.lines(t)
	if len(l) != 2 {
		t.Fatalf("%d lines, want 2", len(l))
	}
	if l[0]["service"] != "gateway-us01" {
		t.Errorf("line with WithService: service = %v, want gateway-us01", l[0]["service"])
	}
	if _, ok := l[1]["service"]; ok {
		t.Errorf("line without WithService has a service: %v", l[1])
	}
}

// TestAddLogAttrsReplaces: a key added twice (the gateway and Require in one
// process both name the session) appears once, with the later value, in the
// log line and to CollectAttrs.
func TestAddLogAttrsReplaces(t *testing.T) {
	logger, buf := newLogger()
	var collected func() []slog.Attr
	h := must.Build(edge.AccessLog(edge.WithLogger(logger)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, collected = edge.CollectAttrs(r.Context())
		edge.AddLogAttrs(r.Context(), slog.String("session_id", "s1"), slog.String("user", "alice"))
		edge.AddLogAttrs(r.Context(), slog.String("zone", "us01"))
		edge.AddLogAttrs(r.Context(), slog.String("session_id", "s2"), slog.String("user", "alice"))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	line := buf.String()
	for _, key := range []string{`"session_id":`, `"user":`, `"zone":`} {
		if n := strings.Count(line, key); n != 1 {
			t.Errorf("%s appears %d times in %s, want once", key, n, line)
		}
	}
	if !strings.Contains(line, `"session_id":"s2"`) {
		t.Errorf("the later value did not win: %s", line)
	}
	if got := collected(); len(got) != 3 {
		t.Errorf("CollectAttrs saw %v, want session_id, user, zone once each", got)
	}
}
