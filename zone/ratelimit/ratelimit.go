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
// The key is DefaultKey unless WithKeyFunc: the company, whose budget all its
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
// Options (Option): WithClock, WithMaxLimiters, WithKeyFunc, WithObserver,
// WithPrincipalLimit, WithIPv4Prefix, WithIPv6Prefix, WithTrust.
func New(limit rate.Limit, burst int, opts ...Option) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("New", opts, Option.newOption)
	if err != nil {
		return nil, err
	}
	if !finite(limit) || burst < 1 {
		return nil, errors.New("ratelimit: limit and burst must be positive and finite")
	}
	switch {
	case c.key != nil && c.keyerSet:
		return nil, errors.New("ratelimit: New: WithIPv4Prefix, WithIPv6Prefix and WithTrust shape the default key; with WithKeyFunc pass them to NewKeyFunc")
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

// option is one option: its name, for errors, and what it does to the
// config.
type option struct {
	name  string
	apply func(*config) error
}

// Option configures New. An option New does not read (one of NewKeyFunc's
// only) does not compile; a nil option, the zero value of PrefixOption or
// TrustOption, or an invalid value is an error at construction naming the
// option.
type Option interface{ newOption() option }

// KeyFuncOption configures NewKeyFunc: WithIPv4Prefix, WithIPv6Prefix and
// WithTrust, which New reads too.
type KeyFuncOption interface{ keyFuncOption() option }

// newOpt is an option that only New reads.
type newOpt option

func (o newOpt) newOption() option { return option(o) }

// PrefixOption is WithIPv4Prefix's and WithIPv6Prefix's: an option of New
// and NewKeyFunc.
type PrefixOption struct{ o option }

func (o PrefixOption) newOption() option     { return o.o }
func (o PrefixOption) keyFuncOption() option { return o.o }

// TrustOption is WithTrust's: an option of New and NewKeyFunc.
type TrustOption struct{ o option }

func (o TrustOption) newOption() option     { return o.o }
func (o TrustOption) keyFuncOption() option { return o.o }

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

// DefaultMaxLimiters is how many buckets New keeps unless WithMaxLimiters.
const DefaultMaxLimiters = 100_000

// newConfig applies opts, taken apart by get, over the defaults for the
// constructor ctor.
func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{now: time.Now, maxLimiters: DefaultMaxLimiters, keyer: defaultKeyer}
	parts := func(o O) (string, func(*config) error) {
		if any(o) == nil {
			return "", nil // a nil option is refused as the zero one is
		}
		op := get(o)
		return op.name, op.apply
	}
	if err := optcheck.Apply(c, "ratelimit", ctor, opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithClock sets the clock buckets refill by, for tests (default, also for
// nil, time.Now).
func WithClock(now func() time.Time) Option {
	return newOpt{"WithClock", func(c *config) error {
		if now != nil {
			c.now = now
		}
		return nil
	}}
}

// WithMaxLimiters bounds the buckets kept (default DefaultMaxLimiters,
// also for zero; negative is an error); the least recently used is
// dropped first.
func WithMaxLimiters(n int) Option {
	return newOpt{"WithMaxLimiters", optcheck.Set(n, optcheck.NotNegative, func(c *config, n int) {
		if n == 0 {
			n = DefaultMaxLimiters
		}
		c.maxLimiters = n
	})}
}

// WithKeyFunc replaces DefaultKey (also the default for nil) as the
// function that gives the key New counts a request under; NewKeyFunc makes
// DefaultKey with other address prefixes or trust. Key on something
// authenticated: a key taken from what the client sends lets anyone spend
// another's budget, or get a new one per request.
func WithKeyFunc(key func(*http.Request) string) Option {
	return newOpt{"WithKeyFunc", func(c *config) error {
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
	return newOpt{"WithPrincipalLimit", func(c *config) error {
		switch {
		case limit == 0 && burst == 0:
		case !finite(limit) || burst < 1:
			return errors.New("limit and burst must be positive and finite, or both zero")
		}
		c.share.limit, c.share.burst = limit, burst
		return nil
	}}
}
