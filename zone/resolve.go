package zone

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/cellgate/cellgate/edge"
)

// Resolve looks up the zone of the request's company (set by DetectCompany)
// in dir and puts it in the context (ZoneFromContext) and on the access log line.
//
// An unknown company is a 404 company_unknown; a directory that cannot
// answer is a 503 zone_directory_unavailable with Retry-After (WithRetryAfter);
// a Directory error that wraps an *edge.Problem is answered with that
// problem (see WriteLookupError).
// A request without a company is a 400 company_missing naming the header of
// WithCompanyHeader, unless WithOptional lets it through without a zone.
//
// Options (ResolveOption): WithOptional, WithRetryAfter, WithCompanyHeader.
// A nil dir or an invalid option is an error.
func Resolve(dir Directory, opts ...ResolveOption) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("Resolve", opts, ResolveOption.resolveOption)
	if err != nil {
		return nil, err
	}
	if dir == nil {
		return nil, errors.New("zone: Resolve: nil Directory")
	}
	retryAfter := retryAfterSeconds(c.retryAfter)
	missing := companyMissing(c.header)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			company := CompanyFromContext(ctx)
			if company == "" {
				if c.optional {
					next.ServeHTTP(w, r)
					return
				}
				edge.WriteProblem(w, r, missing)
				return
			}
			z, err := dir.Lookup(ctx, company)
			if err != nil {
				writeLookupError(w, r, err, retryAfter)
				return
			}
			edge.AddLogAttrs(ctx, slog.String("zone", z.Name))
			next.ServeHTTP(w, RequestWithZone(r, z))
		})
	}, nil
}

// WriteLookupError answers a failed Directory.Lookup as Resolve does: 404
// company_unknown, 499 when the client left, the *edge.Problem the error
// wraps when a Directory refuses an answer with a problem of its own (a
// geofence residency check, a 503 residency_mismatch), else 503
// zone_directory_unavailable with a Retry-After of five seconds. Other
// middlewares that look a company up themselves (a zone's passport gateway)
// answer with it, so a client sees one set of codes.
func WriteLookupError(w http.ResponseWriter, r *http.Request, err error) {
	writeLookupError(w, r, err, retryAfterSeconds(defaultRetryAfter))
}

// writeLookupError answers a failed directory lookup.
func writeLookupError(w http.ResponseWriter, r *http.Request, err error, retryAfter string) {
	switch {
	case errors.Is(err, ErrUnknownCompany):
		edge.WriteProblem(w, r, ErrCompanyUnknown.WithCause(err))
	case r.Context().Err() != nil && errors.Is(err, context.Cause(r.Context())):
		edge.WriteProblem(w, r, edge.ErrClientClosed.WithCause(err))
	case errors.As(err, new(*edge.Problem)):
		edge.WriteProblem(w, r, err)
	default:
		w.Header().Set("Retry-After", retryAfter)
		edge.WriteProblem(w, r, ErrDirectoryUnavailable.WithCause(err))
	}
}

// retryAfterSeconds renders d as whole seconds, at least one.
func retryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}
