package zone

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestBaseURLHandler(t *testing.T) {
	dir := &countingDirectory{fn: func(ctx context.Context, company string) (Zone, error) {
		switch company {
		case "2":
			return us02, nil
		case "3":
			return Zone{}, ErrUnknownCompany
		}
		return Zone{}, errors.New("down")
	}}
	cache, err := NewCachingDirectory(dir, WithClock(newFakeClock().Now))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target string
		opts         []Option
		status       int
		code, body   string
		cacheControl string
	}{
		{name: "ok", target: "/rest/v1.0/company_base_url?company_id=2", status: 200,
			body: `{"zone":"us02","web_base_url":"https://us02.procore.com"}` + "\n", cacheControl: "private, max-age=60"},
		{name: "max age", target: "/rest/v1.0/company_base_url?company_id=2", opts: []Option{WithCacheMaxAge(10 * time.Second)},
			status: 200, cacheControl: "private, max-age=10"},
		{name: "unknown", target: "/rest/v1.0/company_base_url?company_id=3", status: 404, code: "company_unknown", cacheControl: "no-store"},
		{name: "down", target: "/rest/v1.0/company_base_url?company_id=4", status: 503, code: "zone_directory_unavailable", cacheControl: "no-store"},
		{name: "missing", target: "/rest/v1.0/company_base_url", status: 400, code: "company_missing", cacheControl: "no-store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			DetectCompany()(BaseURLHandler(cache, tt.opts...)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.target, nil))
			if rec.Code != tt.status || problemCode(t, rec) != tt.code {
				t.Fatalf("got %d %q, want %d %q", rec.Code, problemCode(t, rec), tt.status, tt.code)
			}
			if tt.body != "" && rec.Body.String() != tt.body {
				t.Fatalf("body %q, want %q", rec.Body, tt.body)
			}
			if got := rec.Header().Get("Cache-Control"); got != tt.cacheControl {
				t.Fatalf("Cache-Control %q, want %q", got, tt.cacheControl)
			}
		})
	}
	if got := dir.calls.Load(); got != 3 {
		t.Fatalf("directory calls = %d, want 3: the second answer for company 2 comes from the cache", got)
	}
}
