package edge_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
)

func ok(context.Context) error { return nil }

// blocks waits for its context: a dependency that never answers.
func blocks(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

func TestHealthLive(t *testing.T) {
	h, err := edge.NewHealth([]edge.Check{{Name: "db", Run: blocks}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.Live().ServeHTTP(rec, httptest.NewRequest("GET", "/livez", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` ||
		rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("live: %d %q %q (liveness must not run checks)", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

func TestHealthReady(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	fail := func(context.Context) error { return errors.New("dial 10.0.0.5:6379: refused") }
	tests := []struct {
		name   string
		checks []edge.Check
		status int
		want   map[string]string // check name → status
	}{
		{"no checks", nil, 200, map[string]string{}},
		{"all ok", []edge.Check{{Name: "db", Run: ok}, {Name: "cache", Run: ok}}, 200,
			map[string]string{"db": "ok", "cache": "ok"}},
		{"one fails", []edge.Check{{Name: "db", Run: ok}, {Name: "cache", Run: fail}}, 503,
			map[string]string{"db": "ok", "cache": "fail"}},
		{"one times out", []edge.Check{{Name: "db", Run: ok}, {Name: "slow", Timeout: time.Millisecond, Run: blocks}}, 503,
			map[string]string{"db": "ok", "slow": "timeout"}},
		{"ignores its context", []edge.Check{{Name: "stuck", Timeout: time.Millisecond, Run: func(context.Context) error {
			<-release // not before the test ends; Ready must answer first
			return nil
		}}}, 503, map[string]string{"stuck": "timeout"}},
		{"panics", []edge.Check{{Name: "bad", Run: func(context.Context) error { panic("x") }}}, 503,
			map[string]string{"bad": "fail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, buf := newLogger()
			h, err := edge.NewHealth(tt.checks, edge.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.Ready().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Error("readiness answer is cacheable")
			}
			var rep edge.Report
			if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			wantStatus := "ok"
			if tt.status != 200 {
				wantStatus = "fail"
			}
			got := make(map[string]string)
			for name, res := range rep.Checks {
				got[name] = res.Status
			}
			if rep.Status != wantStatus || len(got) != len(tt.want) {
				t.Errorf("report = %+v, want status %s and %v", rep, wantStatus, tt.want)
			}
			for name, st := range tt.want {
				if got[name] != st {
					t.Errorf("check %s = %q, want %q", name, got[name], st)
				}
			}
			if strings.Contains(rec.Body.String(), "10.0.0.5") {
				t.Error("a check's error reached the response")
			}
			if tt.status == 503 && !strings.Contains(buf.String(), `"msg":"readiness check failed"`) {
				t.Errorf("failure not logged: %s", buf)
			}
		})
	}
}

func TestHealthDefaultTimeout(t *testing.T) {
	h, err := edge.NewHealth([]edge.Check{{Name: "slow", Run: blocks}}, edge.WithCheckTimeout(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if rep := h.Run(context.Background()); rep.Checks["slow"].Status != "timeout" {
		t.Errorf("report = %+v, want slow timed out by the default timeout", rep)
	}
}

func TestNewHealthInvalid(t *testing.T) {
	tests := []struct {
		name   string
		checks []edge.Check
	}{
		{"empty name", []edge.Check{{Name: "", Run: ok}}},
		{"duplicate", []edge.Check{{Name: "db", Run: ok}, {Name: "db", Run: ok}}},
		{"no Run", []edge.Check{{Name: "db"}}},
	}
	for _, tt := range tests {
		if h, err := edge.NewHealth(tt.checks); err == nil || h != nil {
			t.Errorf("%s: NewHealth = %v, %v; want an error", tt.name, h, err)
		}
	}
}
