package edge_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

func TestStripInternal(t *testing.T) {
	inbound := http.Header{
		"Cellgate-Company-Id": {"1"},
		"cellgate-zone":       {"us01"}, // not canonical, as a raw map might hold it
		"Cellgate_Zone":       {"us02"},
		"CELLGATE_COMPANY_ID": {"2"},
		"Cellgate-":           {"bare prefix"},
		"X-Forwarded-For":     {"1.2.3.4"},
		"X-Forwarded-Host":    {"evil.example"},
		"X_Forwarded_Proto":   {"http"},
		"Forwarded":           {"for=1.2.3.4"},
		"X-Real-Ip":           {"1.2.3.4"},
		"X-Passport":          {"forged"},
		"x_passport":          {"forged"},
		"Acme-Tenant":         {"9"},
		"Acme_tenant":         {"9"},
		"Authorization":       {"Bearer client"},
		"Accept":              {"*/*"},
		"Procore-Company-Id":  {"42"},
		"Cellgatezone":        {"no dash: not the prefix"},
		"X-Cellgate-Zone":     {"prefix not at start"},
		// Spellings PHP ('.') and lighttpd (any symbol) fold into HTTP_*.
		"Cellgate.Company.Id": {"3"},
		"cellgate~zone":       {"uk01"},
		"X.Forwarded.For":     {"1.2.3.4"},
		"X-Real.Ip":           {"1.2.3.4"},
		// URL rewrite headers that IIS-era frameworks route on.
		"X-Original-Url": {"/admin"},
		"x_rewrite_url":  {"/admin"},
		"X.Original.URL": {"/admin"},
	}
	always := []string{"Accept", "Authorization", "Cellgatezone", "Procore-Company-Id", "X-Cellgate-Zone"}
	rewrite := []string{"X-Original-Url", "X.Original.URL", "x_rewrite_url"}
	tests := []struct {
		name string
		opts []edge.StripInternalOption
		want []string // headers left
	}{
		{
			name: "defaults",
			want: append([]string{"Acme-Tenant", "Acme_tenant", "X-Passport", "x_passport"}, always...),
		},
		{
			name: "extra names",
			opts: []edge.StripInternalOption{edge.WithStripHeaders("x-passport")},
			want: append([]string{"Acme-Tenant", "Acme_tenant"}, always...),
		},
		{
			name: "custom prefix",
			opts: []edge.StripInternalOption{edge.WithInternalPrefix("acme-"), edge.WithStripHeaders("X_PASSPORT")},
			want: append([]string{
				"CELLGATE_COMPANY_ID", "Cellgate-", "Cellgate-Company-Id", "Cellgate_Zone", "cellgate-zone",
				"Cellgate.Company.Id", "cellgate~zone",
			}, always...),
		},
		{
			name: "without a prefix, none is stripped by prefix, not everything",
			opts: []edge.StripInternalOption{edge.WithoutInternalPrefix()},
			want: append([]string{
				"Acme-Tenant", "Acme_tenant", "X-Passport", "x_passport",
				"CELLGATE_COMPANY_ID", "Cellgate-", "Cellgate-Company-Id", "Cellgate_Zone", "cellgate-zone",
				"Cellgate.Company.Id", "cellgate~zone",
			}, always...),
		},
		{
			name: "rewrite headers kept",
			opts: []edge.StripInternalOption{edge.WithKeepHeaders("x-original-url", "X_Rewrite_Url")},
			want: append(append([]string{"Acme-Tenant", "Acme_tenant", "X-Passport", "x_passport"}, rewrite...), always...),
		},
		{
			name: "trusted untouched",
			opts: []edge.StripInternalOption{edge.WithTrust(trustAll), edge.WithStripHeaders("X-Passport")},
			want: keys(inbound),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			h := must.Build(edge.StripInternal(tt.opts...))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = keys(r.Header)
			}))
			r := httptest.NewRequest("GET", "/", nil)
			r.Header = inbound.Clone()
			h.ServeHTTP(httptest.NewRecorder(), r)
			sort.Strings(tt.want)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("left\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestStripInternalOverTheWire(t *testing.T) {
	// What a client sends on the wire, after net/http parses it.
	var got http.Header
	srv := httptest.NewServer(must.Build(edge.StripInternal())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header["cellgate_company_id"] = []string{"7"}
	req.Header["CELLGATE-ZONE"] = []string{"us01"}
	req.Header["Procore-Company-Id"] = []string{"7"}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for name := range got {
		if n := normalize(name); n == "CELLGATE-COMPANY-ID" || n == "CELLGATE-ZONE" {
			t.Errorf("%s survived: %v", name, got)
		}
	}
	if got.Get("Procore-Company-Id") != "7" {
		t.Error("the public company header was stripped")
	}
}

// TestStripInternalMethodOverride: a method override header naming another
// method is refused, one naming the request's own method is dropped, and
// WithKeepHeaders lets the one named through; on a company-less route
// (POST /login) as on any other.
func TestStripInternalMethodOverride(t *testing.T) {
	overrides := []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "x_http_method_override", "X.Method.Override"}
	for _, target := range []string{"/login", "/rest/v1.0/companies/1/projects"} {
		for _, name := range overrides {
			for _, tt := range []struct {
				value  string
				opts   []edge.StripInternalOption
				status int
				left   bool // the header reaches next
			}{
				{value: "DELETE", status: http.StatusBadRequest},
				{value: "GET", status: http.StatusBadRequest},
				{value: "", status: http.StatusBadRequest},
				{value: "post", status: http.StatusNoContent},
				{value: " POST ", status: http.StatusNoContent},
				{value: "DELETE", opts: []edge.StripInternalOption{edge.WithKeepHeaders(name)}, status: http.StatusNoContent, left: true},
				{value: "DELETE", opts: []edge.StripInternalOption{edge.WithTrust(trustAll)}, status: http.StatusNoContent, left: true},
			} {
				var got http.Header
				h := must.Build(edge.StripInternal(tt.opts...))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					got = r.Header
					w.WriteHeader(http.StatusNoContent)
				}))
				r := httptest.NewRequest(http.MethodPost, target, nil)
				r.Header[name] = []string{tt.value}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				if rec.Code != tt.status {
					t.Errorf("%s %s: %s: %q: status %d, want %d", r.Method, target, name, tt.value, rec.Code, tt.status)
					continue
				}
				if tt.status == http.StatusBadRequest {
					if code := recorderProblemCode(t, rec); code != "method_override" || got != nil {
						t.Errorf("%s: %q: code %q, next called %v", name, tt.value, code, got != nil)
					}
					continue
				}
				if _, left := got[name]; left != tt.left {
					t.Errorf("%s %s: %s: %q reached next: %v, want %v", r.Method, target, name, tt.value, left, tt.left)
				}
			}
		}
	}
	// Keeping one override header keeps only that one.
	h := must.Build(edge.StripInternal(edge.WithKeepHeaders("X-HTTP-Method")))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	r.Header.Set("X-HTTP-Method-Override", "DELETE")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("X-HTTP-Method-Override passed with only X-HTTP-Method kept: %d", rec.Code)
	}
}

// TestStripInternalMethodParameter: a _method query parameter naming
// another method is refused on untrusted requests, in every spelling a
// framework reads as _method.
func TestStripInternalMethodParameter(t *testing.T) {
	for _, tt := range []struct {
		query   string
		refused bool
	}{
		{"_method=DELETE", true},
		{"a=1&_method=put", true},
		{"a=1;_method=PUT", true},
		{"_METHOD=PUT", true},
		{".method=PUT", true},
		{"%5Fmethod=PUT", true},
		{"%20_method=PUT", true},
		{"_method[]=DELETE", true},
		{"_method=%zz", true},
		{"_method=", true},
		{"_method=POST", false},
		{"_method=post&a=b", false},
		{"method=DELETE", false},
		{"x_method=DELETE", false},
		{"a=_method%3DDELETE", false},
		{"", false},
	} {
		for _, target := range []string{"/login", "/rest/v1.0/companies/1/projects"} {
			called := false
			h := must.Build(edge.StripInternal())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
			r := httptest.NewRequest(http.MethodPost, target+"?"+tt.query, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if called == tt.refused {
				t.Errorf("POST %s?%s: next called %v, want %v", target, tt.query, called, !tt.refused)
			}
			if tt.refused && recorderProblemCode(t, rec) != "method_override" {
				t.Errorf("POST %s?%s: %d %s", target, tt.query, rec.Code, rec.Body)
			}
		}
	}
	// A trusted hop's query is its own business.
	called := false
	h := must.Build(edge.StripInternal(edge.WithTrust(trustAll)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/login?_method=DELETE", nil))
	if !called {
		t.Error("a trusted request with _method was refused")
	}
}

// TestStripInternalMethodCase: a standard method in another case ("get")
// would miss the edge's method-exact routes and run as the standard method
// in a cell that upper-cases it; it is refused on untrusted requests, over
// the wire as net/http parses it.
func TestStripInternalMethodCase(t *testing.T) {
	var seen []string
	h := must.Build(edge.StripInternal())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method)
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, tt := range []struct {
		method  string
		refused bool
	}{
		{"get", true}, {"Get", true}, {"post", true}, {"pUT", true}, {"delete", true}, {"patch", true},
		{"options", true}, {"trace", true}, {"head", true},
		{"GET", false}, {"POST", false}, {"DELETE", false}, {"PROPFIND", false}, {"propfind", false},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+"/rest/v1.0/projects/7/rfis", nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var p struct{ Code string }
		if tt.refused && tt.method != "head" {
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Errorf("%s: %v", tt.method, err)
			}
		}
		resp.Body.Close()
		switch {
		case tt.refused && (resp.StatusCode != http.StatusBadRequest || tt.method != "head" && p.Code != "method_override"):
			t.Errorf("%s: %d %q, want 400 method_override", tt.method, resp.StatusCode, p.Code)
		case !tt.refused && resp.StatusCode != http.StatusNoContent:
			t.Errorf("%s: %d, want it passed", tt.method, resp.StatusCode)
		}
	}
	if want := []string{"GET", "POST", "DELETE", "PROPFIND", "propfind"}; !slices.Equal(seen, want) {
		t.Errorf("next saw %q, want %q", seen, want)
	}
	// A trusted hop's method is its own business.
	called := false
	h = must.Build(edge.StripInternal(edge.WithTrust(trustAll)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("get", "/x", nil))
	if !called {
		t.Error("a trusted request with method get was refused")
	}
}

func recorderProblemCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var p struct{ Code string }
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("no problem body: %s", rec.Body)
	}
	return p.Code
}

func keys(h http.Header) []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func normalize(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c == '_':
			b[i] = '-'
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// WithForwardedBy keeps the X-Forwarded-For of a named hop (a CDN), in its
// canonical spelling only, so a location policy or a rate limit behind
// StripInternal reads the client's address rather than the CDN's; from any
// other sender, and in any other spelling, it is still deleted.
func TestStripInternalForwardedBy(t *testing.T) {
	cdn, err := edge.TrustNetworks("127.0.0.2/32")
	if err != nil {
		t.Fatal(err)
	}
	strip := must.Build(edge.StripInternal(edge.WithForwardedBy(cdn)))
	for _, tc := range []struct {
		remote   string
		wantXFF  []string
		wantAddr string
	}{
		{"127.0.0.2:4000", []string{"203.0.113.9"}, "203.0.113.9"}, // the CDN's: the client's address
		{"127.0.0.1:4000", nil, "127.0.0.1"},                       // a client's own: deleted
	} {
		var got http.Header
		var addr string
		h := strip(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got = r.Header.Clone()
			a, _ := edge.ClientAddr(r, cdn)
			addr = a.String()
		}))
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		folded := strings.ReplaceAll("X-Forwarded-For", "-", "_") // a client's, passed on by the CDN
		for name, v := range map[string]string{
			"X-Forwarded-For": "203.0.113.9",
			folded:            "198.51.100.1",
			"Cellgate-Zone":   "us02",
		} {
			r.Header[name] = []string{v} // as sent, not canonicalised
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if !slices.Equal(got["X-Forwarded-For"], tc.wantXFF) {
			t.Errorf("from %s: X-Forwarded-For %q, want %q", tc.remote, got["X-Forwarded-For"], tc.wantXFF)
		}
		if _, found := got[folded]; found || got["Cellgate-Zone"] != nil {
			t.Errorf("from %s: a client's header passed: %v", tc.remote, got)
		}
		if addr != tc.wantAddr {
			t.Errorf("from %s: ClientAddr %s, want %s", tc.remote, addr, tc.wantAddr)
		}
	}
}
