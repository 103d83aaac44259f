package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// ErrRateLimited: the key sent more requests than its limit allows.
var ErrRateLimited = edge.NewProblem(http.StatusTooManyRequests, "rate_limited", "Too many requests. Please retry later.")

// New limits each key to limit requests per second with bursts of
// burst, a token bucket per key kept in an LRU of WithMaxLimiters entries.
// The key is DefaultKey unless WithKey: the company and the
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
func New(limit rate.Limit, burst int, opts ...Option) (func(http.Handler) http.Handler, error) {
	c, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if !(limit > 0) || limit == rate.Inf || math.IsInf(float64(limit), 1) || burst < 1 {
		return nil, errors.New("ratelimit: limit and burst must be positive and finite")
	}
	limiters, err := lru.New[string, *rate.Limiter](c.maxLimiters)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: %d limiters: %w", c.maxLimiters, err)
	}
	perSecond := float64(limit)
	policy := `"company";q=` + strconv.Itoa(burst) + ";w=" + ceilSeconds(float64(burst)/perSecond)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key := c.key(r)
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
			c.observe(r.Context(), allowed)
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

// DefaultKey is the key New counts r under: its company and its
// authenticated principal (edge.PrincipalFromContext), or its company and
// the address of the connection (r.RemoteAddr, never a forwarding header)
// when it is anonymous. Behind a router or an edge.Binding that address is
// the hop's, so anonymous requests of one company share one bucket there:
// limit anonymous traffic at the public edge, or pass WithKey.
func DefaultKey(r *http.Request) string {
	ctx := r.Context()
	company := zone.CompanyFromContext(ctx)
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

// Option configures New, the one constructor of this package, which reads
// every option; an invalid value is an error from New naming the option.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithClock".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

type config struct {
	now         func() time.Time
	maxLimiters int
	key         func(*http.Request) string
	observer    Observer
}

func newConfig(opts []Option) (*config, error) {
	c := &config{now: time.Now, maxLimiters: 100_000, key: DefaultKey}
	if err := optcheck.ApplyAll(c, "ratelimit", "New", opts, Option.parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithClock sets the clock buckets refill by, for tests (default time.Now).
func WithClock(now func() time.Time) Option {
	return Option{"WithClock", func(c *config) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}
}

// WithMaxLimiters bounds the buckets kept (default 100,000); the least
// recently used is dropped first.
func WithMaxLimiters(n int) Option {
	return Option{"WithMaxLimiters", optcheck.Set(n, optcheck.Positive, func(c *config, n int) { c.maxLimiters = n })}
}

// WithKey replaces DefaultKey (also the default for nil) as what New counts
// a request under. Key on something authenticated: a key taken from what
// the client sends lets anyone spend another's budget.
func WithKey(key func(*http.Request) string) Option {
	return Option{"WithKey", func(c *config) error {
		if key != nil {
			c.key = key
		}
		return nil
	}}
}
