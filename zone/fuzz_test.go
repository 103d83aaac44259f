package zone

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/must"
)

// FuzzDetectCompanyAgreesWithCells is a differential test of tenant isolation:
// whenever the edge (StripInternal, then DetectCompany) accepts a request
// as company C (or as naming none), every way a cell might read the
// forwarded request finds C or no company at all. The cells modelled: Go's
// path.Clean of the decoded path (net/http, ServeMux), nginx (decode once,
// merge slashes, resolve dot segments), a servlet container (;parameters
// dropped, then as nginx), WSGI or Rack (PATH_INFO decoded, nothing
// resolved, headers folded into HTTP_*), PHP and lighttpd (header names
// with '.' or any other punctuation folded into HTTP_*_*), a raw-path
// router, and routers that compare the companies segment under a folding:
// Go's strings.ToLower and EqualFold, Java's equalsIgnoreCase, the Turkish
// and Lithuanian locales, full case folding, and NFKC with case folding
// (NFKC_Casefold); and for the query, Go's url.ParseQuery and PHP's name
// folding.
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
		// Issue 22: segments that a folding reads as companies, and
		// header names that PHP or lighttpd fold into the company header.
		{"/rest/v1.0/COMPAN%C4%B0ES/4/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/compan%C4%B1es/4/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/companie%C5%BF/4/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/%EF%BD%83ompanies/4/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/%F0%9D%90%9Compa%E2%93%9Dies/4/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/compani%CC%87es/4/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/COMPANI%CC%87ES/4/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/compa%CD%8Fnies/4/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/x%E2%84%80ompanies/4/projects", "Procore-Company-Id", "1"},
		{"/rest/v1.0/companies/1/%E2%80%A5/%E2%80%A5/companies/4", "X", "y"},
		{"/rest/v1.0/projects", "Procore.Company.Id", "4"},
		{"/rest/v1.0/companies/1/projects", "Procore~Company~Id", "4"},
		{"/rest/v1.0/projects", "Cellgate.Company.Id", "4"},
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
		must.Build(edge.StripInternal())(mustDetect(t, WithOptional())(next)).ServeHTTP(rec, req)
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
	cleaned := path.Clean(decoded)
	readings := map[string]string{
		"go path.Clean":          afterSegment(cleaned, exact),
		"nginx merge+decode":     afterSegment(resolveDots(decoded), exact),
		"servlet ;params":        afterSegment(resolveDots(dropParams(decoded)), exact),
		"wsgi PATH_INFO":         afterSegment(decoded, exact),
		"case-insensitive":       afterSegment(path.Clean(strings.ToLower(decoded)), strings.EqualFold),
		"raw path router":        afterSegment(rawPath, strings.EqualFold),
		"url.ParseQuery":         q.Get(DefaultQueryParam),
		"php query folding":      phpQuery(r.URL.RawQuery),
		"wsgi HTTP_ header":      cgiHeader(r.Header, "HTTP_PROCORE_COMPANY_ID", wsgiName),
		"php HTTP_ header":       cgiHeader(r.Header, "HTTP_PROCORE_COMPANY_ID", phpName),
		"lighttpd HTTP_ header":  cgiHeader(r.Header, "HTTP_PROCORE_COMPANY_ID", lighttpdName),
		"canonical header":       r.Header.Get(DefaultCompanyHeader),
		"internal header":        r.Header.Get(HeaderCompany),
		"wsgi internal header":   cgiHeader(r.Header, "HTTP_CELLGATE_COMPANY_ID", wsgiName),
		"php internal header":    cgiHeader(r.Header, "HTTP_CELLGATE_COMPANY_ID", phpName),
		"lighttpd internal":      cgiHeader(r.Header, "HTTP_CELLGATE_COMPANY_ID", lighttpdName),
		"path.Clean, raw":        afterSegment(path.Clean(rawPath), strings.EqualFold),
		"decoded twice, cleaned": afterSegment(path.Clean(unescapeOr(decoded)), strings.EqualFold),
		"iis trims dots, spaces": afterSegment(resolveDots(trimSegments(decoded)), strings.EqualFold),
		// Routers that compare the companies segment under a folding.
		"go strings.ToLower":     afterSegment(cleaned, func(s, seg string) bool { return strings.ToLower(s) == seg }),
		"java equalsIgnoreCase":  afterSegment(cleaned, javaEqualsIgnoreCase),
		"turkish lower case":     afterSegment(cleaned, func(s, seg string) bool { return strings.ToLowerSpecial(unicode.TurkishCase, s) == seg }),
		"turkish upper case":     afterSegment(cleaned, upperEquals(cases.Upper(language.Turkish))),
		"turkish full lower":     afterSegment(cleaned, func(s, seg string) bool { return cases.Lower(language.Turkish).String(s) == seg }),
		"lithuanian upper case":  afterSegment(cleaned, upperEquals(cases.Upper(language.Lithuanian))),
		"lithuanian lower case":  afterSegment(cleaned, func(s, seg string) bool { return cases.Lower(language.Lithuanian).String(s) == seg }),
		"full case folding":      afterSegment(cleaned, func(s, seg string) bool { return cases.Fold().String(s) == seg }),
		"nfkc, then the path":    afterSegment(path.Clean(norm.NFKC.String(decoded)), strings.EqualFold),
		"nfkc_casefold, cleaned": afterSegment(path.Clean(nfkcCasefold(decoded)), exact),
	}
	return readings
}

// afterSegment returns the segment after the first segment of p that match
// says is the companies segment.
func afterSegment(p string, match func(s, segment string) bool) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if match(s, DefaultSegment) && i+1 < len(segs) {
			return segs[i+1]
		}
	}
	return ""
}

func exact(s, segment string) bool { return s == segment }

// javaEqualsIgnoreCase is Java's String.equalsIgnoreCase: char by char,
// equal, or equal in upper case, or equal in the lower case of the upper
// case (Character.toUpperCase and toLowerCase are the simple mappings).
func javaEqualsIgnoreCase(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) != len(rb) {
		return false
	}
	for i := range ra {
		x, y := ra[i], rb[i]
		if x != y && unicode.ToUpper(x) != unicode.ToUpper(y) &&
			unicode.ToLower(unicode.ToUpper(x)) != unicode.ToLower(unicode.ToUpper(y)) {
			return false
		}
	}
	return true
}

// upperEquals compares in the full upper case of a locale.
func upperEquals(c cases.Caser) func(s, segment string) bool {
	return func(s, segment string) bool { return c.String(s) == strings.ToUpper(segment) }
}

// nfkcCasefold approximates Unicode's NFKC_Casefold: default-ignorable code
// points removed, then NFKC, full case folding and NFKC again.
func nfkcCasefold(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) {
			return -1
		}
		return r
	}, s)
	return norm.NFKC.String(cases.Fold().String(norm.NFKC.String(s)))
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

// cgiHeader folds every header name as a CGI gateway does (fold) and
// returns the last value under key.
func cgiHeader(h http.Header, key string, fold func(string) string) string {
	var got string
	for k, vs := range h {
		if "HTTP_"+fold(k) == key && len(vs) > 0 {
			got = vs[len(vs)-1]
		}
	}
	return got
}

// wsgiName is the CGI name of a header as WSGI servers and Rack make it.
func wsgiName(k string) string { return strings.ToUpper(strings.ReplaceAll(k, "-", "_")) }

// phpName is wsgiName, then PHP's variable-name folding of '.' and ' '.
func phpName(k string) string {
	return strings.NewReplacer(".", "_", " ", "_").Replace(wsgiName(k))
}

// lighttpdName is the CGI name of a header as lighttpd (and Apache httpd
// 2.2) makes it: every byte but a letter or digit becomes '_'.
func lighttpdName(k string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return unicode.ToUpper(r)
		}
		return '_'
	}, k)
}
