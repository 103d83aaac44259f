package zone

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cellgate/cellgate/edge"
)

// NewBaseURLHandler returns the handler that answers GET
// /rest/v1.0/company_base_url for the request's company (DetectCompany
// must run first) straight from dir, usually a CachingDirectory:
//
//	{"zone":"us02","web_base_url":"https://us02.example.com"}
//
// with Cache-Control: private, max-age=60 (WithResponseMaxAge). A zone
// already resolved by Resolve is used as is. Failures are answered as Resolve
// answers them.
//
// The scheme of an http:// web_base_url follows the request: a request
// that came over TLS, or from a hop trusted by WithTrust (none by default)
// that says X-Forwarded-Proto: https, is answered https://, so a page
// served over TLS is never sent to plain http. Anything else in the URL is
// the directory's.
//
// Options (BaseURLOption): WithResponseMaxAge, WithoutResponseCaching,
// WithRetryAfter, WithTrust, WithCompanyHeader (named by company_missing,
// and in Vary). A nil dir or an invalid option is an error.
func NewBaseURLHandler(dir Directory, opts ...BaseURLOption) (http.Handler, error) {
	c, err := newConfig("NewBaseURLHandler", opts, BaseURLOption.baseURLOption)
	if err != nil {
		return nil, err
	}
	if dir == nil {
		return nil, errors.New("zone: NewBaseURLHandler: nil Directory")
	}
	cacheControl := "no-store"
	if c.maxAge > 0 {
		cacheControl = "private, max-age=" + strconv.FormatInt(int64(c.maxAge.Seconds()), 10)
	}
	retryAfter := retryAfterSeconds(c.retryAfter)
	missing := companyMissing(c.header)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		z, ok := ZoneFromContext(ctx)
		if !ok {
			company := CompanyFromContext(ctx)
			if company == "" {
				edge.WriteProblem(w, r, missing)
				return
			}
			var err error
			if z, err = dir.Lookup(ctx, company); err != nil {
				writeLookupError(w, r, err, retryAfter)
				return
			}
		}
		if rest, ok := strings.CutPrefix(z.WebBaseURL, "http://"); ok && overTLS(r, c.trust) {
			z.WebBaseURL = "https://" + rest
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf) // no HTML escaping: an API answer
		enc.SetEscapeHTML(false)
		// The zone and its web front only: the company's residency is the
		// edge's business, not the answer's.
		if err := enc.Encode(Zone{Name: z.Name, WebBaseURL: z.WebBaseURL}); err != nil {
			edge.WriteProblem(w, r, err)
			return
		}
		body := buf.Bytes()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", cacheControl)
		if c.header != "" {
			h.Set("Vary", c.header)
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	}), nil
}

// overTLS reports whether r reached this edge over TLS: its own connection,
// or a trusted hop's single X-Forwarded-Proto: https. Another hop's header
// or an ambiguous one (several values) counts for nothing.
func overTLS(r *http.Request, trust edge.Trust) bool {
	if r.TLS != nil {
		return true
	}
	if !trust(r) {
		return false
	}
	v := r.Header.Values("X-Forwarded-Proto")
	return len(v) == 1 && strings.EqualFold(strings.TrimSpace(v[0]), "https")
}
