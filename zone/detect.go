package zone

import (
	"cmp"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cellgate/cellgate/edge"
)

// DetectCompany ties each request to the company it names and puts the id
// in its context (CompanyFromContext) and on its access log line.
//
// The company is read from every source at once: the public header
// (WithCompanyHeader, every spelling of its name: case folded, '_', '.' and every
// other symbol read as '-', as edge.SameHeaderName compares), the path (the
// ServeMux wildcard of WithPathWildcard, and the segment after the one
// named by WithPathSegment) and the query parameter (WithQueryParam, names
// compared as header names are). On a trusted hop (WithTrust) the
// Cellgate-Company-Id header the router set is one more source. Every source
// present must name the same valid company, so whatever a cell reads, it
// reads the company checked here:
//
//   - a path that a cell could read differently is a 400 path_ambiguous: a
//     dot segment (raw, percent-encoded or with ;parameters, in any case), an
//     encoded '/' or '\', a raw '\', a control character, a '%' left after
//     decoding, an empty segment (but a trailing '/'), more than one
//     companies segment (compared case-insensitively), or a segment with
//     runes that a common Unicode folding reads as ASCII (case folding,
//     the Turkish and Lithuanian rules, NFKC: COMPANİES, companıes,
//     ｃompanies, ‥, ℀) where that reading is a companies segment or
//     would be refused itself;
//   - a malformed id is a 400 company_invalid, two different ids a 400
//     company_conflict, and none at all a 400 company_missing unless
//     WithOptional.
//
// On success every other spelling of the public header is deleted and the
// canonical one carries the company, so nothing downstream reads another.
//
// Options (DetectOption): WithCompanyHeader, WithPathWildcard,
// WithPathSegment, WithQueryParam (each with its Without form),
// WithCompanyValidator, WithOptional, WithTrust. An invalid option is an
// error.
func DetectCompany(opts ...DetectOption) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("DetectCompany", opts, DetectOption.detectOption)
	if err != nil {
		return nil, err
	}
	d := newDetector(c)
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
			edge.AddLogAttrs(r.Context(), slog.String("company", id))
			next.ServeHTTP(w, companyKey.Attach(r, id))
		})
	}, nil
}

// ValidCompanyID is the default check of a company id: 1 to 19 decimal
// digits with no sign and no leading zero. Tenants named otherwise (UUIDs,
// slugs) pass their own check with WithCompanyValidator.
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
	headerKey string // canonical form of c.header
	missing   *edge.Problem
}

func newDetector(c *config) *detector {
	return &detector{c: c, headerKey: textproto.CanonicalMIMEHeaderKey(c.header), missing: companyMissing(c.header)}
}

// companyMissing returns ErrCompanyMissing naming header, the public header
// configured with WithCompanyHeader ("" when there is none).
func companyMissing(header string) *edge.Problem {
	switch {
	case header == "":
		return ErrCompanyMissing.WithDetail("Missing company id!")
	case textproto.CanonicalMIMEHeaderKey(header) == DefaultCompanyHeader:
		return ErrCompanyMissing
	}
	return ErrCompanyMissing.WithDetail("Missing " + header + " header!")
}

// detect returns the company the request names, "" when it names none and
// that is allowed, or a problem.
func (d *detector) detect(r *http.Request) (string, error) {
	var s sources
	if d.c.trust(r) {
		if vs, n := edge.HeaderValues(r.Header, HeaderCompany); n > 0 {
			if n > 1 || len(vs) > 1 || !d.c.validID(vs[0]) {
				return "", ErrCompanyInvalid
			}
			s.add(d, vs[0])
		}
	}
	header := 0
	if d.c.header != "" {
		var vs []string
		vs, header = edge.HeaderValues(r.Header, d.c.header)
		for _, v := range vs {
			s.add(d, v)
		}
	}
	if err := d.fromPath(r, &s); err != nil {
		return "", err
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
	if header > 1 || header == 1 && len(r.Header[d.headerKey]) != 1 {
		// One spelling with one value reaches the next hop: the canonical one.
		edge.DeleteHeader(r.Header, d.c.header)
		r.Header[d.headerKey] = []string{s.id}
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
	case !d.c.validID(v):
		s.err = ErrCompanyInvalid
	case s.id == "":
		s.id = v
	case s.id != v:
		s.err = ErrCompanyConflict
	}
}

// fromPath adds the company the path names to s, or returns
// ErrPathAmbiguous for a path that a cell could read another way.
func (d *detector) fromPath(r *http.Request, s *sources) error {
	if d.c.wildcard != "" {
		if v := r.PathValue(d.c.wildcard); v != "" {
			s.add(d, v)
		}
	}
	id, found, ok := companyInPath(r.URL.EscapedPath(), d.c.segment)
	if !ok {
		return ErrPathAmbiguous
	}
	if found {
		s.add(d, id)
	}
	return nil
}

// companyInPath reads the raw (still escaped) path p the way the most
// liberal cell would, and refuses it (ok false) where cells could disagree:
// see DetectCompany. It returns the raw segment after the one equal to
// segment, if any; a raw id with escapes in it is no valid id, so a cell
// that decodes and one that does not cannot read two different companies.
func companyInPath(p, segment string) (id string, found, ok bool) {
	if p == "" || p == "*" {
		return "", false, true
	}
	if p[0] != '/' || strings.IndexByte(p, '\\') >= 0 {
		return "", false, false
	}
	afterCompanies := false
	for rest := p[1:]; ; {
		seg, tail, more := strings.Cut(rest, "/")
		if seg == "" {
			if more {
				return "", false, false // an empty segment: "//"
			}
			break // a trailing slash, or the root
		}
		name, folded, good := decodeSegment(seg)
		if !good {
			return "", false, false
		}
		if afterCompanies {
			id, found, afterCompanies = seg, true, false
		}
		if segment != "" && strings.EqualFold(name, segment) {
			if folded || found || afterCompanies {
				// A companies segment spelled with runes that only some
				// cells fold (COMPANİES), or a second one.
				return "", false, false
			}
			afterCompanies = true
		}
		if !more {
			break
		}
		rest = tail
	}
	return id, found, true
}

// decodeSegment returns one raw path segment decoded and without its
// ;parameters (which Tomcat and other servlet containers drop), and whether
// it is unambiguous: no dot segment, no '/' or '\' or control character
// once decoded, and no '%' left for a second decoding. A segment with runes
// that a common folding reads as ASCII is held to the same rules as that
// reading (asciiSkeleton), and returned as read, with folded true.
func decodeSegment(seg string) (name string, folded, ok bool) {
	name = seg
	if strings.IndexByte(seg, '%') >= 0 {
		var err error
		if name, err = url.PathUnescape(seg); err != nil {
			return "", false, false
		}
		if !plainBytes(name) {
			return "", false, false
		}
	}
	name, ok = plainName(name)
	if !ok {
		return "", false, false
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			if !plainUnicode(name) {
				return "", false, false
			}
			// A cell that normalises or folds before it routes reads
			// the skeleton: "a/c" in ℀, ".." in ‥, "companies" in
			// COMPANİES. Hold that reading to the rules too.
			skeleton, changed := asciiSkeleton(name)
			if !changed {
				return name, false, true
			}
			if !plainBytes(skeleton) {
				return "", false, false
			}
			skeleton, ok = plainName(skeleton)
			return skeleton, true, ok
		}
	}
	return name, false, true
}

// plainBytes reports whether a decoded segment holds no '/', '\', '%' or
// control character.
func plainBytes(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '/' || c == '\\' || c == '%' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// plainName returns a decoded segment without its ;parameters, and whether
// it is no dot segment, empty segment or name that IIS trims.
func plainName(name string) (string, bool) {
	if i := strings.IndexByte(name, ';'); i >= 0 {
		name = name[:i]
	}
	if name == "" || name == "." || name == ".." {
		return "", false // ";x" is an empty segment to a servlet container
	}
	// IIS and .NET trim trailing dots and spaces ("companies." is
	// "companies", "..." is ".."); Unicode normalisers fold fullwidth
	// forms and drop invisible characters.
	if last := name[len(name)-1]; last == '.' || last == ' ' {
		return "", false
	}
	return name, true
}

// plainUnicode reports whether s is valid UTF-8 without the runes that
// normalisers fold or drop: format characters (zero-width), separators
// other than ASCII space, and the fullwidth and halfwidth forms.
func plainUnicode(s string) bool {
	if !utf8.ValidString(s) {
		return false // overlong encodings of '.' and '/' among them
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cf, unicode.Z) || r >= 0xFF00 && r <= 0xFFEF {
			return false
		}
	}
	return true
}

// asciiRun is an entry of asciiRuns (foldtable.go).
type asciiRun struct {
	lo rune
	to string
}

// asciiReading returns the ASCII string, in lower case, that some common
// folding reads the rune r above ASCII as, if any: Unicode simple and full
// case mapping and folding (Go's strings.ToLower and EqualFold, Java's
// equalsIgnoreCase, the Turkish, Azerbaijani and Lithuanian rules), and
// NFKC and NFKD normalisation (fullwidth and mathematical letters,
// ligatures, ‥ as ".."). The table, foldtable.go, holds only readings made
// of what a portable segment name holds and of '/', '\', '%', ';' and ' ';
// TestASCIIFoldTable derives it from golang.org/x/text.
func asciiReading(r rune) (string, bool) {
	i, found := slices.BinarySearchFunc(asciiRuns[:], r, func(e asciiRun, r rune) int { return cmp.Compare(e.lo, r) })
	if !found {
		i--
	}
	if i >= 0 {
		if k := int(r - asciiRuns[i].lo); k < len(asciiRuns[i].to) && asciiRuns[i].to[k] != 0 {
			return asciiRuns[i].to[k : k+1], true
		}
	}
	w, ok := asciiWords[r]
	return w, ok
}

// asciiSkeleton returns s as the most liberal normalising cell reads it:
// every rune with an ASCII reading (asciiReading) replaced by it, and the
// marks that a folding drops removed (U+0307 COMBINING DOT ABOVE, which the
// Lithuanian upper case and the Turkish lower case drop after i and I, and
// the default-ignorable variation selectors and fillers that NFKC_Casefold
// removes); and whether anything changed.
func asciiSkeleton(s string) (string, bool) {
	var b []byte
	for i, r := range s {
		w, ok := asciiReading(r)
		if !ok && (r == 0x0307 || unicode.In(r, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)) {
			w, ok = "", true
		}
		switch {
		case ok && b == nil:
			b = append(make([]byte, 0, len(s)), s[:i]...)
			b = append(b, w...)
		case ok:
			b = append(b, w...)
		case b != nil:
			b = utf8.AppendRune(b, r)
		}
	}
	if b == nil {
		return s, false
	}
	return string(b), true
}

// eachQueryValue calls fn with every value of key in the raw query, decoded
// as url.ParseQuery would, without building the whole map. Keys are
// compared as header names are (case folded, '_', '.' and every other
// symbol read as '-'), and ' ' counts as '-' too, because PHP folds it into
// '_'; a key followed by brackets (company_id[]=…, as Rails and PHP read
// arrays) counts as well.
// Pairs that do not decode are skipped, as ParseQuery skips them.
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
		if !sameQueryName(k, key) {
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

// sameQueryName reports whether the query key k names the parameter key,
// read the way the most liberal cell reads it: PHP drops leading spaces,
// stops at a NUL, reads "name[…]" as the array name and turns '.', ' ' and
// an unclosed '[' into '_'.
func sameQueryName(k, key string) bool {
	k = strings.TrimLeft(k, " ")
	if i := strings.IndexByte(k, 0); i >= 0 {
		k = k[:i]
	}
	if i := strings.IndexByte(k, '['); i >= 0 {
		if strings.IndexByte(k[i:], ']') >= 0 {
			k = k[:i]
		} else {
			k = k[:i] + "_" + k[i+1:]
		}
	}
	if strings.ContainsAny(k, ". [") {
		k = strings.NewReplacer(".", "_", " ", "_", "[", "_").Replace(k)
	}
	return edge.SameHeaderName(k, key)
}

// escaped reports whether a query key or value needs unescaping; cheaper
// than strings.ContainsAny on the hot path.
func escaped(s string) bool {
	return strings.IndexByte(s, '%') >= 0 || strings.IndexByte(s, '+') >= 0
}
