package zone

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"

	"github.com/cellgate/cellgate/edge"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// RateLimit limits each key to limit requests per second with bursts of
// burst, a token bucket per key kept in an LRU of WithMaxLimiters entries.
// The key is DefaultRateKey unless WithRateKey: the company and the
// authenticated principal, or the client's address when anonymous. So a
// client that merely names another tenant's company drains only its own
// bucket, never the tenant's.
//
// Put it after the stage that authenticates (passport's gateway
// middleware), where the principal is known and the company has been
// checked against the session; in front of it every request is anonymous
// and limited per client address.
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
			key := c.rateKey(r)
			lim, ok := limiters.Get(key)
			if !ok {
				fresh := rate.NewLimiter(limit, burst)
				if prev, found, _ := limiters.PeekOrAdd(key, fresh); found {
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

// DefaultRateKey is the key RateLimit counts r under: its company and its
// authenticated principal (edge.PrincipalFromContext), or its company and
// the address of the connection (r.RemoteAddr, never a forwarding header)
// when it is anonymous.
func DefaultRateKey(r *http.Request) string {
	ctx := r.Context()
	company := CompanyFrom(ctx)
	if p := edge.PrincipalFromContext(ctx); p != "" {
		return company + "|" + p
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return company + "|addr:" + host
}

// ceilSeconds renders s seconds rounded up, never below 0.
func ceilSeconds(s float64) string {
	return strconv.FormatInt(int64(math.Ceil(max(s, 0))), 10)
}
