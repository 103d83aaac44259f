package zone

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestNewBaseURLHandler(t *testing.T) {
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
		opts         []BaseURLOption
		status       int
		code, body   string
		cacheControl string
	}{
		{name: "ok", target: "/rest/v1.0/company_base_url?company_id=2", status: 200,
			body: `{"zone":"us02","web_base_url":"https://us02.procore.com"}` + "\n", cacheControl: "private, max-age=60"},
		{name: "max age", target: "/rest/v1.0/company_base_url?company_id=2", opts: []BaseURLOption{WithResponseMaxAge(10 * time.Second)},
			status: 200, cacheControl: "private, max-age=10"},
		{name: "unknown", target: "/rest/v1.0/company_base_url?company_id=3", status: 404, code: "company_unknown", cacheControl: "no-store"},
		{name: "down", target: "/rest/v1.0/company_base_url?company_id=4", status: 503, code: "zone_directory_unavailable", cacheControl: "no-store"},
		{name: "missing", target: "/rest/v1.0/company_base_url", status: 400, code: "company_missing", cacheControl: "no-store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mustDetect(t)(mustBaseURL(t, cache, tt.opts...)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.target, nil))
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

// TestBaseURLSchemeFollowsRequest: an http:// web_base_url is answered
// https:// to a request that came over TLS, or from a trusted hop that says
// X-Forwarded-Proto: https; the header from anyone else, or an ambiguous
// one, changes nothing.
func TestBaseURLSchemeFollowsRequest(t *testing.T) {
	plain := Zone{Name: "us01", WebBaseURL: "http://127.0.0.1:8081"}
	dir, err := NewStaticDirectory(map[string]Zone{"1": plain})
	if err != nil {
		t.Fatal(err)
	}
	fromHop := func(r *http.Request) bool { return r.RemoteAddr == "10.0.0.1:1234" }
	for _, tt := range []struct {
		name    string
		tls     bool
		remote  string
		proto   []string
		trusted bool
		want    string
	}{
		{name: "plain", want: "http://"},
		{name: "tls", tls: true, want: "https://"},
		{name: "trusted hop https", remote: "10.0.0.1:1234", proto: []string{"https"}, trusted: true, want: "https://"},
		{name: "trusted hop http", remote: "10.0.0.1:1234", proto: []string{"http"}, trusted: true, want: "http://"},
		{name: "untrusted hop https", remote: "10.0.0.9:1234", proto: []string{"https"}, trusted: true, want: "http://"},
		{name: "no trust configured", remote: "10.0.0.1:1234", proto: []string{"https"}, want: "http://"},
		{name: "ambiguous", remote: "10.0.0.1:1234", proto: []string{"https", "http"}, trusted: true, want: "http://"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var opts []BaseURLOption
			if tt.trusted {
				opts = append(opts, WithTrust(fromHop))
			}
			h := mustBaseURL(t, dir, opts...)
			r := httptest.NewRequest(http.MethodGet, "/rest/v1.0/company_base_url", nil)
			r = r.WithContext(ContextWithCompany(r.Context(), "1"))
			if tt.tls {
				r = httptest.NewRequest(http.MethodGet, "https://api.example/rest/v1.0/company_base_url", nil)
				r = r.WithContext(ContextWithCompany(r.Context(), "1"))
			}
			if tt.remote != "" {
				r.RemoteAddr = tt.remote
			}
			for _, p := range tt.proto {
				r.Header.Add("X-Forwarded-Proto", p)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			want := `{"zone":"us01","web_base_url":"` + tt.want + `127.0.0.1:8081"}` + "\n"
			if w.Code != http.StatusOK || w.Body.String() != want {
				t.Errorf("%d %q, want 200 %q", w.Code, w.Body.String(), want)
			}
			if got := w.Header().Get("Content-Length"); got != strconv.Itoa(len(want)) {
				t.Errorf("Content-Length %s, want %d", got, len(want))
			}
		})
	}
}
