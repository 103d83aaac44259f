package zone

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

func TestDetectCompany(t *testing.T) {
	trustAll := WithTrust(func(*http.Request) bool { return true })
	tests := []struct {
		name    string
		target  string
		header  map[string][]string
		opts    []Option
		pattern string // ServeMux pattern; "" serves the middleware directly
		want    string // company in context
		code    string // problem code
		detail  string // substring of the problem body
	}{
		{name: "header", target: "/x", header: map[string][]string{"Procore-Company-Id": {"42"}}, want: "42"},
		{name: "header lower case", target: "/x", header: map[string][]string{"procore-company-id": {"42"}}, want: "42"},
		{name: "wildcard", target: "/rest/v2.1/companies/77/projects", pattern: "/rest/v2.1/companies/{companyId}/projects", want: "77"},
		{name: "path segment", target: "/rest/v1.0/companies/9007199254740993/users", want: "9007199254740993"},
		{name: "path segment at end", target: "/rest/v1.0/companies/5", want: "5"},
		{name: "path segment empty", target: "/rest/v1.0/companies//x", code: "company_missing"},
		{name: "query", target: "/x?company_id=12", want: "12"},
		{name: "query escaped key", target: "/x?a=1&company%5Fid=13", want: "13"},
		{name: "all agree", target: "/companies/8/x?company_id=8", header: map[string][]string{"Procore-Company-Id": {"8"}}, want: "8"},
		{name: "max digits", target: "/x?company_id=9223372036854775807", want: "9223372036854775807"},
		{name: "missing", target: "/x", code: "company_missing", detail: "Missing Procore-Company-Id header!"},
		{name: "missing, custom header", target: "/x", opts: []Option{WithHeader("X-Tenant")}, code: "company_missing", detail: "Missing X-Tenant header!"},
		{name: "missing, optional", target: "/x", opts: []Option{WithOptional()}, want: ""},
		{name: "invalid letters", target: "/x", header: map[string][]string{"Procore-Company-Id": {"4a"}}, code: "company_invalid"},
		{name: "invalid sign", target: "/x?company_id=%2B5", code: "company_invalid"},
		{name: "invalid minus", target: "/x?company_id=-5", code: "company_invalid"},
		{name: "invalid leading zero", target: "/companies/042/x", code: "company_invalid"},
		{name: "invalid zero", target: "/x?company_id=0", code: "company_invalid"},
		{name: "invalid 20 digits", target: "/x?company_id=12345678901234567890", code: "company_invalid"},
		{name: "invalid empty header", target: "/x", header: map[string][]string{"Procore-Company-Id": {""}}, code: "company_invalid"},
		{name: "invalid even when optional", target: "/x?company_id=x", opts: []Option{WithOptional()}, code: "company_invalid"},
		{name: "conflict header path", target: "/companies/2/x", header: map[string][]string{"Procore-Company-Id": {"1"}}, code: "company_conflict"},
		{name: "conflict header query", target: "/x?company_id=2", header: map[string][]string{"Procore-Company-Id": {"1"}}, code: "company_conflict"},
		{name: "conflict two headers", target: "/x", header: map[string][]string{"Procore-Company-Id": {"1", "2"}}, code: "company_conflict"},
		{name: "conflict two query values", target: "/x?company_id=1&company_id=2", code: "company_conflict"},
		{name: "custom validator", target: "/x?company_id=acme", opts: []Option{WithValidator(func(s string) bool { return s == "acme" })}, want: "acme"},
		{name: "query disabled", target: "/x?company_id=3", opts: []Option{WithQueryParam("")}, code: "company_missing"},
		{name: "segment disabled", target: "/companies/3/x", opts: []Option{WithPathSegment("")}, code: "company_missing"},
		{name: "custom segment", target: "/tenants/3/x", opts: []Option{WithPathSegment("tenants")}, want: "3"},
		{name: "untrusted internal header ignored", target: "/x", header: map[string][]string{"Cellgate-Company-Id": {"99"}, "Procore-Company-Id": {"1"}}, want: "1"},
		{name: "untrusted internal header alone", target: "/x", header: map[string][]string{"Cellgate-Company-Id": {"99"}}, code: "company_missing"},
		{name: "trusted internal header wins", target: "/x", opts: []Option{trustAll}, header: map[string][]string{"Cellgate-Company-Id": {"99"}, "Procore-Company-Id": {"1"}}, want: "99"},
		{name: "trusted internal header invalid", target: "/x", opts: []Option{trustAll}, header: map[string][]string{"Cellgate-Company-Id": {"x"}}, code: "company_invalid"},
		{name: "trusted, no internal header", target: "/x?company_id=4", opts: []Option{trustAll}, want: "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &okHandler{}
			var h http.Handler = DetectCompany(tt.opts...)(next)
			if tt.pattern != "" {
				mux := http.NewServeMux()
				mux.Handle(tt.pattern, h)
				h = mux
			}
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			for k, vs := range tt.header {
				req.Header[k] = vs // as sent, without canonicalising
				if k != http.CanonicalHeaderKey(k) {
					delete(req.Header, k)
					for _, v := range vs {
						req.Header.Add(k, v)
					}
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := problemCode(t, rec); got != tt.code {
				t.Fatalf("problem code = %q, want %q (body %s)", got, tt.code, rec.Body)
			}
			if tt.code != "" {
				if rec.Code != http.StatusBadRequest || next.called {
					t.Fatalf("status %d, next called %v; want 400 and not called", rec.Code, next.called)
				}
				if !strings.Contains(rec.Body.String(), tt.detail) {
					t.Fatalf("body %s lacks %q", rec.Body, tt.detail)
				}
				return
			}
			if !next.called {
				t.Fatal("next not called")
			}
			if got := CompanyFrom(next.ctx); got != tt.want {
				t.Fatalf("CompanyFrom = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDetectCompanyLogsCompany(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	h := edge.AccessLog(edge.WithLogger(logger))(DetectCompany()(&okHandler{}))
	req := httptest.NewRequest(http.MethodGet, "/x?company_id=31&signature=secret", nil)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !strings.Contains(buf.String(), "company=31") {
		t.Fatalf("log line %q lacks company=31", buf.String())
	}
	if strings.Contains(buf.String(), "secret") {
		t.Fatalf("log line %q leaks the query", buf.String())
	}
}

func TestDetectCompanyThroughBinding(t *testing.T) {
	// A gateway behind a binding believes the router's internal header.
	next := &okHandler{}
	gw := DetectCompany(WithTrust(edge.TrustBinding))(next)
	client := &http.Client{Transport: edge.Binding(gw)}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://gw/x", nil)
	req.Header.Set(HeaderCompany, "555")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := CompanyFrom(next.ctx); got != "555" {
		t.Fatalf("CompanyFrom = %q, want 555", got)
	}
	// The same header from a client is not believed.
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	r.Header.Set(HeaderCompany, "555")
	gw.ServeHTTP(rec, r)
	if got := problemCode(t, rec); got != "company_missing" {
		t.Fatalf("untrusted: code %q, want company_missing", got)
	}
}

func TestValidCompanyID(t *testing.T) {
	for id, want := range map[string]bool{
		"1": true, "10": true, "1234567890123456789": true,
		"": false, "0": false, "01": false, "+1": false, "-1": false, " 1": false, "1 ": false,
		"12345678901234567890": false, "１": false, "1e3": false,
	} {
		if got := ValidCompanyID(id); got != want {
			t.Errorf("ValidCompanyID(%q) = %v, want %v", id, got, want)
		}
	}
}
