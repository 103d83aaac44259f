package experiment

import (
	"errors"
	"net/http"

	"github.com/cellgate/cellgate/edge"
)

// ErrHeaderInvalid answers a request whose Header holds no valid
// variants, or comes in more than one spelling or value. passport's
// Gateway always sets one valid value, and edge.StripInternal removes
// clients' copies, so only a misconfigured hop causes it.
var ErrHeaderInvalid = edge.NewProblem(http.StatusBadRequest, "experiments_invalid",
	"The request's experiment variants are malformed.")

// Middleware puts the request's variants, read from Header, into its
// context (VariantsFromContext) and counts one exposure for each variant
// of an experiment of the Set (Exposures, WithObserver). Variants of other
// experiments pass on uncounted.
//
// Mount it behind passport's Gateway middleware, which sets Header from
// the passport it injects (assigned and signed by the issuer, see
// passport.WithVariants), on the routes whose exposures count: the
// variants a later stage sees are then exactly those the cell reads from
// the passport. In front of the Gateway it would see what a trusted hop
// sent, or nothing.
func (s *Set) Middleware(next http.Handler) http.Handler {
	if s == nil { // a constructor's error ignored: refuse, never serve unchecked
		return edge.ProblemHandler(edge.ErrInternal.WithCause(errors.New("experiment: Middleware of a nil Set (did NewSet fail?)")))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values, spellings := edge.HeaderValues(r.Header, Header)
		if len(values) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if spellings > 1 || len(values) > 1 {
			edge.WriteProblem(w, r, ErrHeaderInvalid.WithCause(errors.New("experiment: header in several spellings or values")))
			return
		}
		v, err := ParseVariants(values[0])
		if err != nil {
			edge.WriteProblem(w, r, ErrHeaderInvalid.WithCause(err))
			return
		}
		ctx := r.Context()
		s.count(ctx, v)
		next.ServeHTTP(w, r.WithContext(ContextWithVariants(ctx, v)))
	})
}
