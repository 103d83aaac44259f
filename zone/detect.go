package zone

import (
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/cellgate/cellgate/edge"
)

// DetectCompany ties each request to the company it names and puts the id
// in its context (CompanyFrom) and on its access log line.
//
// On a trusted hop (WithTrust), the Cellgate-Company-Id header set by the
// router is authoritative. Otherwise internal headers are ignored and the
// company is read, in order, from the public header (WithHeader), the path
// (the ServeMux wildcard of WithPathWildcard, else the segment after
// /companies/) and the query parameter (WithQueryParam). Every source
// present must name the same valid company: a malformed id is a 400
// company_invalid, two different ids a 400 company_conflict, and none at
// all a 400 company_missing unless WithOptional.
func DetectCompany(opts ...Option) func(http.Handler) http.Handler {
	d := newDetector(newConfig(opts))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := d.detect(r)
			if err != nil {
				edge.WriteProblem(w, r, err)
				return
			}
			if id == "" {
				next.ServeHTTP(w, r)
				return
			}
			ctx := r.Context()
			edge.AddLogAttrs(ctx, slog.String("company", id))
			next.ServeHTTP(w, r.WithContext(WithCompany(ctx, id)))
		})
	}
}

// ValidCompanyID reports whether id is a company id: 1 to 19 decimal digits
// with no sign and no leading zero.
func ValidCompanyID(id string) bool {
	if len(id) == 0 || len(id) > 19 || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// detector holds what DetectCompany precomputes from its configuration.
type detector struct {
	c         *config
	headerKey string // canonical form of c.header, so lookups never canonicalise
	segment   string // "/companies/"
	missing   *edge.Problem
}

var internalCompanyKey = textproto.CanonicalMIMEHeaderKey(HeaderCompany)

func newDetector(c *config) *detector {
	d := &detector{c: c, missing: ErrCompanyMissing}
	if c.header != "" {
		d.headerKey = textproto.CanonicalMIMEHeaderKey(c.header)
		if d.headerKey != DefaultHeader {
			d.missing = edge.NewProblem(ErrCompanyMissing.Status, ErrCompanyMissing.Code, "Missing "+c.header+" header!")
		}
	} else {
		d.missing = edge.NewProblem(ErrCompanyMissing.Status, ErrCompanyMissing.Code, "Missing company id!")
	}
	if c.segment != "" {
		d.segment = "/" + c.segment + "/"
	}
	return d
}

// detect returns the company the request names, "" when it names none and
// that is allowed, or a problem.
func (d *detector) detect(r *http.Request) (string, error) {
	if vs := r.Header[internalCompanyKey]; len(vs) > 0 && d.c.trust(r) {
		if len(vs) > 1 || !d.c.validate(vs[0]) {
			return "", ErrCompanyInvalid
		}
		return vs[0], nil
	}
	var s sources
	if d.headerKey != "" {
		for _, v := range r.Header[d.headerKey] {
			s.add(d, v)
		}
	}
	if v, ok := d.fromPath(r); ok {
		s.add(d, v)
	}
	if d.c.query != "" && r.URL.RawQuery != "" {
		eachQueryValue(r.URL.RawQuery, d.c.query, func(v string) { s.add(d, v) })
	}
	switch {
	case s.err != nil:
		return "", s.err
	case s.id == "" && !d.c.optional:
		return "", d.missing
	}
	return s.id, nil
}

// sources accumulates the ids found; the first problem wins.
type sources struct {
	id  string
	err error
}

func (s *sources) add(d *detector, v string) {
	switch {
	case s.err != nil:
	case !d.c.validate(v):
		s.err = ErrCompanyInvalid
	case s.id == "":
		s.id = v
	case s.id != v:
		s.err = ErrCompanyConflict
	}
}

func (d *detector) fromPath(r *http.Request) (string, bool) {
	if d.c.wildcard != "" {
		if v := r.PathValue(d.c.wildcard); v != "" {
			return v, true
		}
	}
	if d.segment == "" {
		return "", false
	}
	p := r.URL.Path
	i := strings.Index(p, d.segment)
	if i < 0 {
		return "", false
	}
	p = p[i+len(d.segment):]
	if j := strings.IndexByte(p, '/'); j >= 0 {
		p = p[:j]
	}
	return p, p != ""
}

// eachQueryValue calls fn with every value of key in the raw query, decoded
// as url.ParseQuery would, without building the whole map. Pairs that do not
// decode are skipped, as ParseQuery skips them.
func eachQueryValue(raw, key string, fn func(string)) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(pair, "=")
		if escaped(k) {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		if k != key {
			continue
		}
		if escaped(v) {
			var err error
			if v, err = url.QueryUnescape(v); err != nil {
				continue
			}
		}
		fn(v)
	}
}

// escaped reports whether a query key or value needs unescaping; cheaper
// than strings.ContainsAny on the hot path.
func escaped(s string) bool {
	return strings.IndexByte(s, '%') >= 0 || strings.IndexByte(s, '+') >= 0
}
