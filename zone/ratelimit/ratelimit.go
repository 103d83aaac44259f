package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"

	"github.com/cellgate/cellgate/edge"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// ErrRateLimited: the key sent more requests than its limit allows.
var ErrRateLimited = edge.NewProblem(http.StatusTooManyRequests, "rate_limited", "Too many requests. Please retry later.")

// New limits each key to limit requests per second with bursts of
// burst, a token bucket per key kept in an LRU of WithMaxLimiters entries.
// The key is DefaultKey unless WithKey: the company, whose budget all its
// authenticated principals share, or the client's address (by prefix)
// when anonymous, whatever company the request names. So a client that
// merely names another tenant's company drains only its own bucket, never
// the tenant's, and no client gains budget by opening more sessions,
// naming other companies or moving within its /64.
// WithPrincipalLimit gives each principal its own smaller bucket inside
// its company's, so one user cannot spend all of it.
//
// Put it after the stage that authenticates (passport's gateway
// middleware), where the principal is known and the company has been
// checked against the session; in front of it every request is anonymous
// and limited per client address.
//
// Every answer carries the IETF draft's RateLimit-Policy
// ("company";q=burst;w=seconds to refill) and RateLimit
// ("company";r=remaining;t=seconds until full) headers, with a second
// "principal" item where a WithPrincipalLimit share applied; a refused
// request is a 429 rate_limited with Retry-After. Time comes from
// WithClock.
//
// Options: WithClock, WithMaxLimiters, WithKey, WithObserver,
// WithPrincipalLimit, WithIPv4Prefix, WithIPv6Prefix, WithTrust.
func New(limit rate.Limit, burst int, opts ...Option) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("New", opts, newOptions)
	if err != nil {
		return nil, err
	}
	if !finite(limit) || burst < 1 {
		return nil, errors.New("ratelimit: limit and burst must be positive and finite")
	}
	switch {
	case c.key != nil && c.keyerSet:
		return nil, errors.New("ratelimit: New: WithIPv4Prefix, WithIPv6Prefix and WithTrust shape the default key; with WithKey pass them to NewKey")
	case c.key == nil:
		c.key = c.keyer.key
	}
	if c.share.burst > 0 && (c.share.limit > limit || c.share.burst > burst) {
		return nil, fmt.Errorf("ratelimit: New: WithPrincipalLimit(%v, %d) is above the company's (%v, %d)",
			c.share.limit, c.share.burst, limit, burst)
	}
	limiters, err := lru.New[string, *rate.Limiter](c.maxLimiters)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: %d limiters: %w", c.maxLimiters, err)
	}
	company := newBucket("company", limit, burst)
	share := newBucket("principal", c.share.limit, c.share.burst)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			now := c.now()
			lim := company.limiter(limiters, c.key(r))
			var own *rate.Limiter // the principal's share, if it has one
			if c.share.burst > 0 {
				if k := principalKey(r); k != "" {
					own = share.limiter(limiters, k)
				}
			}
			// The principal's share is taken first and given back when
			// the company's budget refuses, so neither bucket pays for a
			// request the other refused.
			allowed, refusedBy := true, company
			if own != nil {
				res := own.ReserveN(now, 1)
				if allowed = res.OK() && res.DelayFrom(now) == 0; !allowed {
					res.CancelAt(now)
					refusedBy = share
				} else if allowed = lim.AllowN(now, 1); !allowed {
					res.CancelAt(now)
				}
			} else {
				allowed = lim.AllowN(now, 1)
			}
			c.observe(r.Context(), allowed)
			h := w.Header()
			policy, state := company.headers(lim, now)
			if own != nil {
				p, s := share.headers(own, now)
				policy, state = policy+", "+p, state+", "+s
			}
			h.Set("RateLimit-Policy", policy)
			h.Set("RateLimit", state)
			if !allowed {
				l := lim
				if refusedBy == share {
					l = own
				}
				h.Set("Retry-After", ceilSeconds((1-max(l.TokensAt(now), 0))/refusedBy.perSecond))
				edge.WriteProblem(w, r, ErrRateLimited)
				return
			}
			next.ServeHTTP(w, r)
		})
	}, nil
}

// bucket is one kind of token bucket: its name in the RateLimit headers,
// its rate and its burst.
type bucket struct {
	name      string
	limit     rate.Limit
	burst     int
	perSecond float64
	policy    string
}

func newBucket(name string, limit rate.Limit, burst int) *bucket {
	b := &bucket{name: name, limit: limit, burst: burst, perSecond: float64(limit)}
	if burst > 0 {
		b.policy = `"` + name + `";q=` + strconv.Itoa(burst) + ";w=" + ceilSeconds(float64(burst)/b.perSecond)
	}
	return b
}

// limiter returns key's limiter from limiters, adding a full one if it has none.
func (b *bucket) limiter(limiters *lru.Cache[string, *rate.Limiter], key string) *rate.Limiter {
	if lim, ok := limiters.Get(key); ok {
		return lim
	}
	fresh := rate.NewLimiter(b.limit, b.burst)
	if prev, found, _ := limiters.PeekOrAdd(key, fresh); found {
		return prev // another request added one meanwhile
	}
	return fresh
}

// headers returns b's RateLimit-Policy and RateLimit items for lim at now.
func (b *bucket) headers(lim *rate.Limiter, now time.Time) (policy, state string) {
	tokens := max(lim.TokensAt(now), 0)
	return b.policy, `"` + b.name + `";r=` + strconv.Itoa(int(tokens)) + ";t=" + ceilSeconds((float64(b.burst)-tokens)/b.perSecond)
}

func finite(limit rate.Limit) bool {
	return limit > 0 && limit != rate.Inf && !math.IsInf(float64(limit), 1)
}

// ceilSeconds renders s seconds rounded up, never below 0.
func ceilSeconds(s float64) string {
	return strconv.FormatInt(int64(math.Ceil(max(s, 0))), 10)
}

// Option configures New and NewKey. Each constructor's doc lists the
// options it reads: an option given to a constructor that does not read it
// (WithClock to NewKey), an invalid value or the zero Option is an error at
// construction naming constructor and option, never silently ignored.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithClock".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

// The options each constructor reads.
var (
	keyOptions = []string{"WithIPv4Prefix", "WithIPv6Prefix", "WithTrust"}
	newOptions = append([]string{"WithClock", "WithMaxLimiters", "WithKey", "WithObserver", "WithPrincipalLimit"}, keyOptions...)
)

type config struct {
	now         func() time.Time
	maxLimiters int
	key         func(*http.Request) string // nil: keyer's
	keyer       keyer
	keyerSet    bool // an option of keyOptions was given
	share       struct {
		limit rate.Limit
		burst int // 0: no share
	}
	observer Observer
}

// newConfig applies opts over the defaults for the constructor ctor,
// which reads only the options named in reads.
func newConfig(ctor string, opts []Option, reads []string) (*config, error) {
	c := &config{now: time.Now, maxLimiters: 100_000, keyer: defaultKeyer}
	if err := optcheck.Apply(c, "ratelimit", ctor, opts, reads, Option.parts); err != nil {
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
// a request under; NewKey makes DefaultKey with other address prefixes or
// trust. Key on something authenticated: a key taken from what the client
// sends lets anyone spend another's budget, or get a new one per request.
func WithKey(key func(*http.Request) string) Option {
	return Option{"WithKey", func(c *config) error {
		c.key = key
		return nil
	}}
}

// WithPrincipalLimit gives every authenticated principal of a company its
// own bucket of limit requests per second with bursts of burst inside the
// company's: a request passes only when both have a token, so one user
// (or one leaked session) spends at most this share of the company's
// budget. For a share of a tenth, pass a tenth of New's limit and burst.
// Requests without a principal or without a company have no share. By
// default (and for zero limit and burst) there is none; a limit or burst
// above New's, or one of the two zero, is an error.
func WithPrincipalLimit(limit rate.Limit, burst int) Option {
	return Option{"WithPrincipalLimit", func(c *config) error {
		switch {
		case limit == 0 && burst == 0:
		case !finite(limit) || burst < 1:
			return errors.New("limit and burst must be positive and finite, or both zero")
		}
		c.share.limit, c.share.burst = limit, burst
		return nil
	}}
}
