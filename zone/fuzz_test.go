package zone

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"

	"github.com/cellgate/cellgate/edge"
)

// FuzzDetectCompanyAgreesWithCells is a differential test of tenant isolation:
// whenever DetectCompany accepts a request as company C (or as naming
// none), every way a cell might read the forwarded request finds C or no
// company at all. The cells modelled: Go's path.Clean of the decoded path
// (net/http, ServeMux), nginx (decode once, merge slashes, resolve dot
// segments), a servlet container (;parameters dropped, then as nginx), WSGI
// or Rack (PATH_INFO decoded, nothing resolved, headers folded into
// HTTP_*), a case-insensitive router, and a raw-path router; and for the
// query, Go's url.ParseQuery and PHP's name folding.
func FuzzDetectCompanyAgreesWithCells(f *testing.F) {
	for _, seed := range []struct{ target, name, value string }{
		{"/rest/v1.0/companies/1/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/me", "Accept", "*/*"},
		{"/rest/v1.0/companies/1/%2e%2e/2/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/companies/1/..%2F2/projects", "X", "y"},
		{"/rest/v1.0/companies/1%2F..%2F2/projects", "X", "y"},
		{"/rest/v1.0/companies/%2F2/projects", "X", "y"},
		{"/rest/v1.0/companies/1/x/companies/2/projects", "X", "y"},
		{"/rest/v1.0/Companies/2/projects?company_id=1", "X", "y"},
		{"/rest/v1.0/projects?company_id=1&Company-Id=2", "X", "y"},
		{"/rest/v1.0/projects", "Procore_Company_Id", "4"},
		{"/rest/..;/companies/2/x", "Procore-Company-Id", "1"},
		{"/rest/v1.0/companies;a=b/2/x", "Procore-Company-Id", "1"},
		{"/rest/v1.0//companies/2", "X", "y"},
		{"/a/%252e%252e/companies/3", "X", "y"},
		{"/companies/2/?company_id[]=3", "X", "y"},
		{"/x?company.id=3", "X", "y"},
		{"/%63ompanies/5/x", "procore-company-id", "5"},
		{"/rest/v1.0/companies./2/x", "Procore-Company-Id", "1"},
		{"/rest/v1.0/companies/1/.../2", "X", "y"},
		{"/companies/1/x?company[id=2", "X", "y"},
	} {
		f.Add(seed.target, seed.name, seed.value)
	}
	f.Fuzz(func(t *testing.T, target, name, value string) {
		if !edge.ValidHeaderName(name) || strings.ContainsAny(value, "\r\n\x00") || strings.ContainsAny(target, " \r\n\x00") {
			return
		}
		raw := "GET " + target + " HTTP/1.1\r\nHost: cell.internal\r\n" + name + ": " + value + "\r\n\r\n"
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil || req.URL.Path == "" || req.URL.Path[0] != '/' {
			return // net/http refuses it before any handler runs
		}
		next := &okHandler{}
		rec := httptest.NewRecorder()
		DetectCompany(WithOptional())(next).ServeHTTP(rec, req)
		if !next.called {
			return // refused: nothing reaches a cell
		}
		company := CompanyFromContext(next.ctx)
		for cell, got := range cellReadings(next.req) {
			if got != "" && got != company {
				t.Fatalf("%s reads company %q from %q (header %s: %q) where the edge accepted %q", cell, got, target, name, value, company)
			}
		}
	})
}

// cellReadings returns what each modelled cell reads as the company of r.
func cellReadings(r *http.Request) map[string]string {
	decoded := r.URL.Path // decoded once, %2F included
	rawPath := r.URL.EscapedPath()
	q, _ := url.ParseQuery(r.URL.RawQuery)
	readings := map[string]string{
		"go path.Clean":          afterSegment(path.Clean(decoded), false),
		"nginx merge+decode":     afterSegment(resolveDots(decoded), false),
		"servlet ;params":        afterSegment(resolveDots(dropParams(decoded)), false),
		"wsgi PATH_INFO":         afterSegment(decoded, false),
		"case-insensitive":       afterSegment(path.Clean(strings.ToLower(decoded)), true),
		"raw path router":        afterSegment(rawPath, true),
		"url.ParseQuery":         q.Get(DefaultQueryParam),
		"php query folding":      phpQuery(r.URL.RawQuery),
		"wsgi HTTP_ header":      wsgiHeader(r.Header, "HTTP_PROCORE_COMPANY_ID"),
		"canonical header":       r.Header.Get(DefaultHeader),
		"internal header":        r.Header.Get(HeaderCompany),
		"wsgi internal header":   wsgiHeader(r.Header, "HTTP_CELLGATE_COMPANY_ID"),
		"path.Clean, raw":        afterSegment(path.Clean(rawPath), true),
		"decoded twice, cleaned": afterSegment(path.Clean(unescapeOr(decoded)), true),
		"iis trims dots, spaces": afterSegment(resolveDots(trimSegments(decoded)), true),
	}
	return readings
}

// afterSegment returns the segment after the first "companies" segment of p.
func afterSegment(p string, fold bool) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if (s == DefaultSegment || fold && strings.EqualFold(s, DefaultSegment)) && i+1 < len(segs) {
			return segs[i+1]
		}
	}
	return ""
}

// resolveDots merges slashes and resolves dot segments as nginx does with
// merge_slashes on, keeping a trailing slash.
func resolveDots(p string) string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// trimSegments trims trailing dots and spaces off every segment, as IIS
// does.
func trimSegments(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if t := strings.TrimRight(s, ". "); t != "" || s == "" {
			segs[i] = t
		} else {
			segs[i] = ".."[:min(len(s), 2)]
		}
	}
	return strings.Join(segs, "/")
}

func dropParams(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if j := strings.IndexByte(s, ';'); j >= 0 {
			segs[i] = s[:j]
		}
	}
	return strings.Join(segs, "/")
}

func unescapeOr(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// phpQuery reads company_id as PHP does: '.', ' ' and '[' in names become
// '_' (and "name[]" an array whose first element counts), and the last
// value wins.
func phpQuery(raw string) string {
	var got string
	for _, pair := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		k = strings.TrimLeft(k, " ")
		k, _, _ = strings.Cut(k, "\x00")
		if i := strings.IndexByte(k, '['); i >= 0 && strings.IndexByte(k[i:], ']') >= 0 {
			k = k[:i]
		}
		k = strings.NewReplacer(".", "_", " ", "_", "[", "_").Replace(k)
		if k == DefaultQueryParam {
			got = v
		}
	}
	return got
}

// wsgiHeader folds every header name as CGI does and returns the last value
// under key.
func wsgiHeader(h http.Header, key string) string {
	var got string
	for k, vs := range h {
		if "HTTP_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_")) == key && len(vs) > 0 {
			got = vs[len(vs)-1]
		}
	}
	return got
}
