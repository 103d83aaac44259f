package zone

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/cellgate/cellgate/edge"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// RateLimit limits each company (CompanyFrom) to limit requests per second
// with bursts of burst, a token bucket per company kept in an LRU of
// WithMaxLimiters entries. Requests without a company pass: limit those by
// address in front of DetectCompany.
//
// Every answer carries the IETF draft's RateLimit-Policy
// ("company";q=burst;w=seconds to refill) and RateLimit
// ("company";r=remaining;t=seconds until full) headers; a refused request
// is a 429 rate_limited with Retry-After. Time comes from WithClock.
func RateLimit(limit rate.Limit, burst int, opts ...Option) (func(http.Handler) http.Handler, error) {
	c := newConfig(opts)
	if !(limit > 0) || limit == rate.Inf || math.IsInf(float64(limit), 1) || burst < 1 {
		return nil, errors.New("zone: rate limit: limit and burst must be positive and finite")
	}
	limiters, err := lru.New[string, *rate.Limiter](c.maxLimiters)
	if err != nil {
		return nil, fmt.Errorf("zone: rate limit: %d limiters: %w", c.maxLimiters, err)
	}
	perSecond := float64(limit)
	policy := `"company";q=` + strconv.Itoa(burst) + ";w=" + ceilSeconds(float64(burst)/perSecond)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			company := CompanyFrom(r.Context())
			if company == "" {
				next.ServeHTTP(w, r)
				return
			}
			lim, ok := limiters.Get(company)
			if !ok {
				fresh := rate.NewLimiter(limit, burst)
				if prev, found, _ := limiters.PeekOrAdd(company, fresh); found {
					lim = prev // another request added one meanwhile
				} else {
					lim = fresh
				}
			}
			now := c.now()
			allowed := lim.AllowN(now, 1)
			tokens := max(lim.TokensAt(now), 0)
			h := w.Header()
			h.Set("RateLimit-Policy", policy)
			h.Set("RateLimit", `"company";r=`+strconv.Itoa(int(tokens))+";t="+ceilSeconds((float64(burst)-tokens)/perSecond))
			if !allowed {
				h.Set("Retry-After", ceilSeconds((1-tokens)/perSecond))
				edge.WriteProblem(w, r, ErrRateLimited)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// ceilSeconds renders s seconds rounded up, never below 0.
func ceilSeconds(s float64) string {
	return strconv.FormatInt(int64(math.Ceil(max(s, 0))), 10)
}
