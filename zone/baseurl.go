package zone

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/cellgate/cellgate/edge"
)

// BaseURLHandler answers GET /rest/v1.0/company_base_url for the request's
// company (DetectCompany must run first) straight from dir, usually a
// CachingDirectory:
//
//	{"zone":"us02","web_base_url":"https://us02.example.com"}
//
// with Cache-Control: private, max-age=60 (WithCacheMaxAge). A zone already
// resolved by Resolve is used as is. Failures are answered as Resolve
// answers them.
//
// Options: WithCacheMaxAge, WithRetryAfter, WithHeader (named by
// company_missing, and in Vary). Any other option, or an invalid value,
// panics here, at construction.
func BaseURLHandler(dir Directory, opts ...Option) http.Handler {
	if dir == nil {
		panic("zone: BaseURLHandler: nil Directory")
	}
	c := mustConfig("BaseURLHandler", opts, baseURLOptions)
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
		body, err := json.Marshal(z)
		if err != nil {
			edge.WriteProblem(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", cacheControl)
		if c.header != "" {
			h.Set("Vary", c.header)
		}
		h.Set("Content-Length", strconv.Itoa(len(body)+1))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(append(body, '\n'))
		}
	})
}
