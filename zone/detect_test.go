package zone

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

func TestDetectCompany(t *testing.T) {
	trustAll := WithTrust(func(*http.Request) bool { return true })
	tests := []struct {
		name    string
		target  string
		header  map[string][]string
		opts    []DetectOption
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
		{name: "path segment empty", target: "/rest/v1.0/companies//x", code: "path_ambiguous"},
		{name: "path segment upper case", target: "/rest/v1.0/COMPANIES/7/x", want: "7"},
		{name: "path trailing slash", target: "/rest/v1.0/companies/7/", want: "7"},
		{name: "path segments list", target: "/rest/v1.0/companies", opts: []DetectOption{WithOptional()}, want: ""},
		// Every path a cell could read as another company.
		{name: "encoded dot-dot after company", target: "/rest/v1.0/companies/1/%2e%2e/2/projects", code: "path_ambiguous"},
		{name: "encoded dot-dot upper case", target: "/rest/v1.0/companies/1/%2E%2E/2/projects", code: "path_ambiguous"},
		{name: "half-encoded dot-dot", target: "/rest/v1.0/companies/1/.%2e/2/projects", code: "path_ambiguous"},
		{name: "dot-dot then encoded slash", target: "/rest/v1.0/companies/1/..%2F2/projects", code: "path_ambiguous"},
		{name: "encoded slash dot-dot", target: "/rest/v1.0/companies/1%2F..%2F2/projects", code: "path_ambiguous"},
		{name: "encoded backslash", target: "/rest/v1.0/companies/1/..%5c2/projects", code: "path_ambiguous"},
		{name: "raw dot segment", target: "/rest/v1.0/./companies/1", code: "path_ambiguous"},
		{name: "dot-dot with path parameter", target: "/rest/..;/companies/2/x", code: "path_ambiguous"},
		{name: "double-encoded dot-dot", target: "/rest/v1.0/companies/1/%252e%252e/2", code: "path_ambiguous"},
		{name: "encoded NUL", target: "/rest/v1.0/companies/1/%00/x", code: "path_ambiguous"},
		{name: "second companies segment", target: "/rest/v1.0/companies/1/x/companies/2/projects", code: "path_ambiguous"},
		{name: "second companies segment, same id", target: "/companies/1/companies/1", code: "path_ambiguous"},
		{name: "second companies segment, other case", target: "/companies/1/x/Companies/1", code: "path_ambiguous"},
		{name: "upper-case segment and query", target: "/rest/v1.0/Companies/2/projects?company_id=1", code: "company_conflict"},
		{name: "encoded segment name and header", target: "/rest/v1.0/%63ompanies/2/projects", header: map[string][]string{"Procore-Company-Id": {"1"}}, code: "company_conflict"},
		{name: "segment with path parameter and header", target: "/rest/v1.0/companies;v=1/2/projects", header: map[string][]string{"Procore-Company-Id": {"1"}}, code: "company_conflict"},
		{name: "encoded company id", target: "/rest/v1.0/companies/%31/projects", code: "company_invalid"},
		// Found by attack: segments that IIS or Unicode normalisers read as
		// another segment.
		{name: "trailing dot segment name", target: "/rest/v1.0/companies./2/x", header: map[string][]string{"Procore-Company-Id": {"1"}}, code: "path_ambiguous"},
		{name: "trailing space segment name", target: "/rest/v1.0/companies%20/2/x", code: "path_ambiguous"},
		{name: "parameters only", target: "/rest/v1.0/companies/1/;x/2", code: "path_ambiguous"},
		{name: "three dots", target: "/rest/v1.0/companies/1/.../2", code: "path_ambiguous"},
		{name: "zero-width space", target: "/rest/v1.0/companies%E2%80%8B/2/x", code: "path_ambiguous"},
		{name: "overlong dot-dot", target: "/rest/v1.0/companies/1/%c0%ae%c0%ae/2", code: "path_ambiguous"},
		{name: "fullwidth dots", target: "/rest/v1.0/companies/1/%EF%BC%8E%EF%BC%8E/2", code: "path_ambiguous"},
		{name: "plain unicode segment", target: "/rest/v1.0/companies/1/caf%C3%A9", want: "1"},
		// Issue 22: a segment that a folding or NFKC reads as companies
		// (or as a dot segment, or as two segments) is refused.
		{name: "dotted capital I", target: "/rest/v1.0/COMPAN%C4%B0ES/4/projects", header: map[string][]string{"Procore-Company-Id": {"1"}}, code: "path_ambiguous"},
		{name: "dotless small i", target: "/rest/v1.0/compan%C4%B1es/4/projects", header: map[string][]string{"Procore-Company-Id": {"1"}}, code: "path_ambiguous"},
		{name: "long s", target: "/rest/v1.0/companie%C5%BF/4/projects", code: "path_ambiguous"},
		{name: "fullwidth letter", target: "/rest/v1.0/%EF%BD%83ompanies/4/projects", code: "path_ambiguous"},
		{name: "mathematical and circled letters", target: "/rest/v1.0/%F0%9D%90%9Compa%E2%93%9Dies/4/projects", code: "path_ambiguous"},
		{name: "small Roman numerals", target: "/rest/v1.0/%E2%85%BDo%E2%85%BFpanies/4/projects", code: "path_ambiguous"},
		{name: "combining dot above", target: "/rest/v1.0/COMPANI%CC%87ES/4/projects", code: "path_ambiguous"},
		{name: "combining grapheme joiner", target: "/rest/v1.0/compa%CD%8Fnies/4/projects", code: "path_ambiguous"},
		{name: "variation selector", target: "/rest/v1.0/companies%EF%B8%8F/4/projects", code: "path_ambiguous"},
		{name: "a second, folded companies segment", target: "/companies/1/x/COMPAN%C4%B0ES/1", code: "path_ambiguous"},
		{name: "Kelvin sign, custom segment", target: "/tas%E2%84%AAs/4/x", opts: []DetectOption{WithPathSegment("tasks")}, code: "path_ambiguous"},
		{name: "account-of sign: a slash under NFKC", target: "/rest/v1.0/x%E2%84%80ompanies/4/projects", code: "path_ambiguous"},
		{name: "two dot leader", target: "/rest/v1.0/companies/1/%E2%80%A5/2", code: "path_ambiguous"},
		{name: "one dot leader, trailing", target: "/rest/v1.0/companies/1/x%E2%80%A4/2", code: "path_ambiguous"},
		{name: "small percent sign", target: "/rest/v1.0/companies/1/%EF%B9%AA2e%EF%B9%AA2e/2", code: "path_ambiguous"},
		{name: "small reverse solidus", target: "/rest/v1.0/companies/1/%EF%B9%A8/2", code: "path_ambiguous"},
		{name: "small semicolon, then a name", target: "/rest/v1.0/companies/1/%EF%B9%94x/2", code: "path_ambiguous"},
		{name: "folds to ASCII, not to companies", target: "/rest/v1.0/companies/1/stra%C3%9Fe/%E2%84%AA", want: "1"},
		{name: "ligature, not companies", target: "/rest/v1.0/companies/1/%EF%AC%81le", want: "1"},
		// Every spelling of the public header and query name.
		{name: "header underscore spelling", target: "/x", header: map[string][]string{"Procore_Company_Id": {"4"}}, want: "4"},
		{name: "header two spellings differ", target: "/x", header: map[string][]string{"Procore_Company_Id": {"4"}, "Procore-Company-Id": {"1"}}, code: "company_conflict"},
		{name: "header dot spelling differs", target: "/x", header: map[string][]string{"Procore.Company.Id": {"4"}, "Procore-Company-Id": {"1"}}, code: "company_conflict"},
		{name: "header tilde spelling and path", target: "/companies/1/x", header: map[string][]string{"procore~company~id": {"4"}}, code: "company_conflict"},
		{name: "header dot spelling", target: "/x", header: map[string][]string{"Procore.Company.Id": {"4"}}, want: "4"},
		{name: "trusted internal header, dot spelling too", target: "/x", opts: []DetectOption{trustAll}, header: map[string][]string{"Cellgate-Company-Id": {"99"}, "Cellgate.Company.Id": {"4"}}, code: "company_invalid"},
		{name: "header upper-case underscore and path", target: "/companies/1/x", header: map[string][]string{"PROCORE_COMPANY_ID": {"4"}}, code: "company_conflict"},
		{name: "query two spellings differ", target: "/x?company_id=1&Company_Id=2", code: "company_conflict"},
		{name: "query dash spelling", target: "/x?company-id=3", want: "3"},
		{name: "query dot spelling", target: "/x?company.id=2&company_id=1", code: "company_conflict"},
		{name: "query array spelling", target: "/x?company_id[]=2&company_id=1", code: "company_conflict"},
		{name: "query unclosed bracket", target: "/companies/1/x?company[id=2", code: "company_conflict"},
		{name: "query leading space", target: "/companies/1/x?%20company_id=2", code: "company_conflict"},
		{name: "query NUL", target: "/companies/1/x?company_id%00x=2", code: "company_conflict"},
		{name: "query", target: "/x?company_id=12", want: "12"},
		{name: "query escaped key", target: "/x?a=1&company%5Fid=13", want: "13"},
		{name: "all agree", target: "/companies/8/x?company_id=8", header: map[string][]string{"Procore-Company-Id": {"8"}}, want: "8"},
		{name: "max digits", target: "/x?company_id=9223372036854775807", want: "9223372036854775807"},
		{name: "missing", target: "/x", code: "company_missing", detail: "Missing Procore-Company-Id header!"},
		{name: "missing, custom header", target: "/x", opts: []DetectOption{WithCompanyHeader("X-Tenant")}, code: "company_missing", detail: "Missing X-Tenant header!"},
		{name: "missing, optional", target: "/x", opts: []DetectOption{WithOptional()}, want: ""},
		{name: "invalid letters", target: "/x", header: map[string][]string{"Procore-Company-Id": {"4a"}}, code: "company_invalid"},
		{name: "invalid sign", target: "/x?company_id=%2B5", code: "company_invalid"},
		{name: "invalid minus", target: "/x?company_id=-5", code: "company_invalid"},
		{name: "invalid leading zero", target: "/companies/042/x", code: "company_invalid"},
		{name: "invalid zero", target: "/x?company_id=0", code: "company_invalid"},
		{name: "invalid 20 digits", target: "/x?company_id=12345678901234567890", code: "company_invalid"},
		{name: "invalid empty header", target: "/x", header: map[string][]string{"Procore-Company-Id": {""}}, code: "company_invalid"},
		{name: "invalid even when optional", target: "/x?company_id=x", opts: []DetectOption{WithOptional()}, code: "company_invalid"},
		{name: "conflict header path", target: "/companies/2/x", header: map[string][]string{"Procore-Company-Id": {"1"}}, code: "company_conflict"},
		{name: "conflict header query", target: "/x?company_id=2", header: map[string][]string{"Procore-Company-Id": {"1"}}, code: "company_conflict"},
		{name: "conflict two headers", target: "/x", header: map[string][]string{"Procore-Company-Id": {"1", "2"}}, code: "company_conflict"},
		{name: "conflict two query values", target: "/x?company_id=1&company_id=2", code: "company_conflict"},
		{name: "custom validator", target: "/x?company_id=acme", opts: []DetectOption{WithCompanyValidator(func(s string) bool { return s == "acme" })}, want: "acme"},
		{name: "query disabled", target: "/x?company_id=3", opts: []DetectOption{WithoutQueryParam()}, code: "company_missing"},
		{name: "segment disabled", target: "/companies/3/x", opts: []DetectOption{WithoutPathSegment()}, code: "company_missing"},
		{name: "custom segment", target: "/tenants/3/x", opts: []DetectOption{WithPathSegment("tenants")}, want: "3"},
		{name: "untrusted internal header ignored", target: "/x", header: map[string][]string{"Cellgate-Company-Id": {"99"}, "Procore-Company-Id": {"1"}}, want: "1"},
		{name: "untrusted internal header alone", target: "/x", header: map[string][]string{"Cellgate-Company-Id": {"99"}}, code: "company_missing"},
		{name: "trusted internal header", target: "/x", opts: []DetectOption{trustAll}, header: map[string][]string{"Cellgate-Company-Id": {"99"}}, want: "99"},
		{name: "trusted internal header agrees", target: "/companies/99/x", opts: []DetectOption{trustAll}, header: map[string][]string{"Cellgate-Company-Id": {"99"}, "Procore-Company-Id": {"99"}}, want: "99"},
		{name: "trusted internal header disagrees", target: "/x", opts: []DetectOption{trustAll}, header: map[string][]string{"Cellgate-Company-Id": {"99"}, "Procore-Company-Id": {"1"}}, code: "company_conflict"},
		{name: "trusted internal header in two spellings", target: "/x", opts: []DetectOption{trustAll}, header: map[string][]string{"Cellgate-Company-Id": {"99"}, "Cellgate_Company_Id": {"99"}}, code: "company_invalid"},
		{name: "trusted internal header invalid", target: "/x", opts: []DetectOption{trustAll}, header: map[string][]string{"Cellgate-Company-Id": {"x"}}, code: "company_invalid"},
		{name: "trusted, no internal header", target: "/x?company_id=4", opts: []DetectOption{trustAll}, want: "4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &okHandler{}
			var h http.Handler = mustDetect(t, tt.opts...)(next)
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
			if got := CompanyFromContext(next.ctx); got != tt.want {
				t.Fatalf("CompanyFromContext = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDetectCompanyForwardsOneSpelling(t *testing.T) {
	// Whatever spelling the client used, the next hop sees only the
	// canonical header with the company that was checked.
	next := &okHandler{}
	req := httptest.NewRequest(http.MethodGet, "/companies/4/x", nil)
	req.Header["Procore_Company_Id"] = []string{"4"}
	req.Header["procore-company-id"] = []string{"4", "4"}
	req.Header["Procore.Company.Id"] = []string{"4"}
	mustDetect(t)(next).ServeHTTP(httptest.NewRecorder(), req)
	if !next.called {
		t.Fatal("next not called")
	}
	if got := next.req.Header; len(got) != 1 || len(got["Procore-Company-Id"]) != 1 || got.Get("Procore-Company-Id") != "4" {
		t.Fatalf("forwarded header %v, want only Procore-Company-Id: 4", got)
	}
}

func TestDetectCompanyLogsCompany(t *testing.T) {
	var buf strings.Builder
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	h := must.Build(edge.AccessLog(edge.WithLogger(logger)))(mustDetect(t)(&okHandler{}))
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
	gw := mustDetect(t, WithTrust(edge.TrustBinding))(next)
	client := &http.Client{Transport: edge.Binding(gw)}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://gw/x", nil)
	req.Header.Set(HeaderCompany, "555")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := CompanyFromContext(next.ctx); got != "555" {
		t.Fatalf("CompanyFromContext = %q, want 555", got)
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

// A UUID tenant passes its own check; what no hop carries unchanged does not.
func TestDetectCompanyCustomValidator(t *testing.T) {
	anything := WithCompanyValidator(func(string) bool { return true })
	const id = "3f2a8c1e-6b1d-4c2a-9e7f-0a1b2c3d4e5f"
	for target, want := range map[string]int{
		"/rest/v1.0/companies/" + id + "/projects": http.StatusNoContent,
		"/rest/v1.0/companies/a%41b/projects":      http.StatusBadRequest,
		"/rest/v1.0/companies/a~b/projects":        http.StatusNoContent,
		"/?company_id=a%20b":                       http.StatusBadRequest,
	} {
		rec := httptest.NewRecorder()
		mustDetect(t, anything)(&okHandler{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", target, rec.Code, want)
		}
	}
}
