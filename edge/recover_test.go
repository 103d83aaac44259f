package edge_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

func TestRecover(t *testing.T) {
	tests := []struct {
		name  string
		value any
		panic string // logged panic value
	}{
		{"string", "boom at 10.0.0.1", "boom at 10.0.0.1"},
		{"error", errors.New("kaboom"), "kaboom"},
		{"nil", nil, "panic called with nil argument"},
		{"wrapped error", fmt.Errorf("wrap: %w", io.EOF), "wrap: EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, buf := newLogger()
			h := edge.Chain(must.Build(edge.RequestID()), must.Build(edge.Recover(edge.WithLogger(logger))))(
				http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panicky(tt.value) }))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/x?sig=secret", nil))

			resp := rec.Result()
			if resp.StatusCode != 500 {
				t.Errorf("status = %d, want 500", resp.StatusCode)
			}
			p := decodeProblem(t, resp)
			id := resp.Header.Get(edge.RequestIDHeader)
			if p["code"] != "internal_error" || p["request_id"] != id || id == "" {
				t.Errorf("problem = %v, want internal_error with request_id %q", p, id)
			}
			if strings.Contains(rec.Body.String(), "boom") || strings.Contains(rec.Body.String(), "10.0.0.1") {
				t.Errorf("panic value reached the client: %s", rec.Body)
			}

			l := buf.lines(t)
			if len(l) != 1 {
				t.Fatalf("%d log lines, want 1: %s", len(l), buf)
			}
			if l[0]["level"] != "ERROR" || l[0]["panic"] != tt.panic || l[0]["request_id"] != id || l[0]["path"] != "/x" {
				t.Errorf("log = %v", l[0])
			}
			if stack, _ := l[0]["stack"].(string); !strings.Contains(stack, "edge_test.panicky") {
				t.Errorf("stack does not show the panicking function:\n%s", stack)
			}
			if strings.Contains(buf.String(), "secret") {
				t.Error("log leaks the query")
			}
		})
	}
}

//go:noinline
func panicky(v any) { panic(v) }

func TestRecoverAbortHandler(t *testing.T) {
	tests := []struct {
		name     string
		handler  func(w http.ResponseWriter)
		logLines int
		code     int
		body     string
	}{
		{
			name:    "ErrAbortHandler keeps its meaning",
			handler: func(http.ResponseWriter) { panic(http.ErrAbortHandler) },
			code:    200, // the recorder's default: nothing was written
		},
		{
			name:    "wrapped ErrAbortHandler",
			handler: func(http.ResponseWriter) { panic(fmt.Errorf("stop: %w", http.ErrAbortHandler)) },
			code:    200,
		},
		{
			name: "panic after the header aborts",
			handler: func(w http.ResponseWriter) {
				w.WriteHeader(202)
				io.WriteString(w, "part")
				panic("late")
			},
			logLines: 1, code: 202, body: "part",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, buf := newLogger()
			h := must.Build(edge.Recover(edge.WithLogger(logger)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tt.handler(w)
			}))
			rec := httptest.NewRecorder()
			v := func() (v any) {
				defer func() { v = recover() }()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				return nil
			}()
			if err, ok := v.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
				t.Errorf("panic = %v, want http.ErrAbortHandler", v)
			}
			if rec.Code != tt.code || rec.Body.String() != tt.body {
				t.Errorf("response = %d %q, want %d %q", rec.Code, rec.Body, tt.code, tt.body)
			}
			if n := len(buf.lines(t)); n != tt.logLines {
				t.Errorf("%d log lines, want %d: %s", n, tt.logLines, buf)
			}
		})
	}
}

func TestRecoverServerLivesOn(t *testing.T) {
	logger, buf := newLogger()
	mux := http.NewServeMux()
	mux.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("/abort", func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first part")
		http.NewResponseController(w).Flush()
		panic("late")
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

	srv := httptest.NewUnstartedServer(edge.Chain(must.Build(edge.RequestID()), must.Build(edge.Recover(edge.WithLogger(logger))))(mux))
	serverLog := &logBuffer{}
	srv.Config.ErrorLog = log.New(serverLog, "", 0)
	srv.Start()
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/panic")
	if err != nil {
		t.Fatal(err)
	}
	if p := decodeProblem(t, resp); resp.StatusCode != 500 || p["code"] != "internal_error" ||
		p["request_id"] != resp.Header.Get(edge.RequestIDHeader) {
		t.Errorf("/panic: %d %v", resp.StatusCode, p)
	}
	resp.Body.Close()

	// ErrAbortHandler: the connection breaks, no 500 is sent.
	if resp, err := http.Get(srv.URL + "/abort"); err == nil {
		resp.Body.Close()
		t.Errorf("/abort answered %d, want a broken connection", resp.StatusCode)
	}

	// A panic after the header: the client sees a truncated body, not a success.
	resp, err = http.Get(srv.URL + "/late")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "first part" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("/late: %d %q %v, want 200, the first part and an unexpected EOF", resp.StatusCode, b, err)
	}

	for range 3 {
		resp, err = http.Get(srv.URL + "/ok")
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, resp.Body); resp.StatusCode != 200 || got != "ok" {
			t.Errorf("/ok after panics: %d %q", resp.StatusCode, got)
		}
	}
	srv.Close()

	if n := strings.Count(buf.String(), `"msg":"panic"`); n != 2 {
		t.Errorf("%d panic lines, want 2 (boom and late): %s", n, buf)
	}
	if s := serverLog.String(); strings.Contains(s, "boom") {
		t.Errorf("net/http saw a recovered panic: %s", s)
	}
}
