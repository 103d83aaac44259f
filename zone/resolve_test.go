package zone

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

func TestResolve(t *testing.T) {
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		switch company {
		case "1":
			return us01, nil
		case "2":
			return Zone{}, ErrUnknownCompany
		}
		return Zone{}, errors.New("directory down")
	}}
	tests := []struct {
		name       string
		company    string
		opts       []ResolveOption
		code       string
		status     int
		retryAfter string
	}{
		{name: "known", company: "1", status: http.StatusNoContent},
		{name: "unknown", company: "2", code: "company_unknown", status: http.StatusNotFound},
		{name: "directory down", company: "3", code: "zone_directory_unavailable", status: http.StatusServiceUnavailable, retryAfter: "5"},
		{name: "directory down, retry after", company: "3", opts: []ResolveOption{WithRetryAfter(1500 * time.Millisecond)}, code: "zone_directory_unavailable", status: 503, retryAfter: "2"},
		{name: "no company", code: "company_missing", status: http.StatusBadRequest},
		{name: "no company, optional", opts: []ResolveOption{WithOptional()}, status: http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &okHandler{}
			req := httptest.NewRequest(http.MethodGet, "/x", nil)
			if tt.company != "" {
				req = req.WithContext(ContextWithCompany(req.Context(), tt.company))
			}
			rec := httptest.NewRecorder()
			mustResolve(t, dir, tt.opts...)(next).ServeHTTP(rec, req)
			if rec.Code != tt.status || problemCode(t, rec) != tt.code {
				t.Fatalf("got %d %q, want %d %q", rec.Code, problemCode(t, rec), tt.status, tt.code)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retryAfter {
				t.Fatalf("Retry-After = %q, want %q", got, tt.retryAfter)
			}
			if tt.code != "" {
				return
			}
			z, ok := ZoneFromContext(next.ctx)
			if tt.company == "1" && (!ok || z != us01) {
				t.Fatalf("From = %v, %v", z, ok)
			}
			if tt.company == "" && ok {
				t.Fatal("zone set without a company")
			}
		})
	}
}

func TestResolveClientGone(t *testing.T) {
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		<-ctx.Done()
		return Zone{}, ctx.Err()
	}}
	ctx, cancel := context.WithCancel(ContextWithCompany(context.Background(), "1"))
	cancel()
	rec := httptest.NewRecorder()
	mustResolve(t, dir)(&okHandler{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	if got := problemCode(t, rec); got != "client_closed_request" {
		t.Fatalf("code %q, want client_closed_request", got)
	}
}

func TestResolveLogsZone(t *testing.T) {
	dir, _ := NewStaticDirectory(map[string]Zone{"1": us01})
	for name, mw := range map[string]func(http.Handler) http.Handler{
		"resolve": mustResolve(t, dir),
	} {
		var buf strings.Builder
		next := &okHandler{}
		h := must.Build(edge.AccessLog(edge.WithLogger(slog.New(slog.NewTextHandler(&buf, nil)))))(mustDetect(t)(mw(next)))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/companies/1/x", nil))
		if !strings.Contains(buf.String(), "zone=us01") || !strings.Contains(buf.String(), "company=1") {
			t.Errorf("%s: log line %q lacks company and zone", name, buf.String())
		}
		if z, ok := ZoneFromContext(next.ctx); !ok || z != us01 {
			t.Errorf("%s: From = %v, %v", name, z, ok)
		}
	}
}

// company_missing names the header the client should have sent.
func TestCompanyMissingNamesConfiguredHeader(t *testing.T) {
	dir, _ := NewStaticDirectory(map[string]Zone{"42": us01})
	for name, h := range map[string]http.Handler{
		"DetectCompany":     mustDetect(t, WithCompanyHeader("X-Tenant"))(&okHandler{}),
		"Resolve":           mustResolve(t, dir, WithCompanyHeader("X-Tenant"))(&okHandler{}),
		"NewBaseURLHandler": mustBaseURL(t, dir, WithCompanyHeader("X-Tenant")),
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if problemCode(t, rec) != "company_missing" || !strings.Contains(rec.Body.String(), "Missing X-Tenant header!") {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body.String())
		}
	}
}
