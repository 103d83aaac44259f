package redisrate

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/cellgate/cellgate/internal/bounded"
	"github.com/cellgate/cellgate/internal/optcheck"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/zone/ratelimit"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// gcra is the generic cell rate algorithm on KEYS[1], which holds the
// theoretical arrival time (TAT) in microseconds. ARGV[1] is the emission
// interval (1/rate) and ARGV[2] the burst tolerance (emission * burst),
// both in microseconds. It returns allowed (0/1), remaining requests,
// microseconds until a retry can succeed and until the budget is full.
const gcra = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - tolerance
if now < allow_at then
  return {0, 0, allow_at - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / emission), 0, new_tat - now}`

var script = redis.NewScript(gcra)

// Defaults, each overridable by the option named beside it.
const (
	DefaultKeyPrefix = "cellgate:rl:"         // WithKeyPrefix
	DefaultTimeout   = 100 * time.Millisecond // WithTimeout: one decision
)

// Limiter makes rate-limit decisions shared by every process on the same
// Redis and key prefix.
type Limiter struct {
	c         redis.UniversalClient
	prefix    string
	timeout   time.Duration
	emission  int64 // µs between requests at the limit
	tolerance int64 // µs of burst
	burst     int
	perSecond float64
	key       func(*http.Request) string
	obs       ratelimit.Observer // nil: none
}

// Result is one decision.
type Result struct {
	Allowed    bool          // the request may pass
	Remaining  int           // requests left in the burst
	RetryAfter time.Duration // until a refused request could pass
	ResetAfter time.Duration // until the whole burst is available again
}

// NewLimiter returns a Limiter of limit requests per second with bursts of
// burst per key; its Middleware counts a request under
// ratelimit.DefaultKey. Options (LimiterOption): WithKeyPrefix,
// WithTimeout.
func NewLimiter(client redis.UniversalClient, limit rate.Limit, burst int, opts ...LimiterOption) (*Limiter, error) {
	c, err := newConfig("NewLimiter", opts, LimiterOption.limiterOption)
	if err != nil {
		return nil, err
	}
	return newLimiter(client, limit, burst, c)
}

// New returns a middleware like ratelimit.New's, whose budget every
// replica shares: same key (ratelimit.DefaultKey unless WithKeyFunc),
// same RateLimit-Policy and RateLimit headers, same 429 rate_limited with
// Retry-After. Options (Option): WithKeyPrefix, WithTimeout, WithKeyFunc,
// WithObserver.
func New(client redis.UniversalClient, limit rate.Limit, burst int, opts ...Option) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("New", opts, Option.newOption)
	if err != nil {
		return nil, err
	}
	l, err := newLimiter(client, limit, burst, c)
	if err != nil {
		return nil, err
	}
	return l.Middleware, nil
}

// newLimiter checks the arguments of NewLimiter and New and returns the
// Limiter of c.
func newLimiter(client redis.UniversalClient, limit rate.Limit, burst int, c *config) (*Limiter, error) {
	perSecond := float64(limit)
	switch {
	case client == nil:
		return nil, errors.New("redisrate: nil client")
	case !(perSecond > 0) || math.IsInf(perSecond, 1) || burst < 1:
		return nil, errors.New("redisrate: limit and burst must be positive and finite")
	case perSecond > 1e6:
		return nil, errors.New("redisrate: limit above a million requests per second")
	}
	emission := int64(math.Round(1e6 / perSecond))
	return &Limiter{
		c: client, prefix: c.prefix, timeout: c.timeout,
		emission: emission, tolerance: emission * int64(burst),
		burst: burst, perSecond: perSecond, key: c.key, obs: c.observer,
	}, nil
}

// Allow decides one request under key. It returns within WithTimeout
// whatever the client's settings (see WithTimeout), with an error when
// Redis did not answer in time.
func (l *Limiter) Allow(ctx context.Context, key string) (Result, error) {
	sum := sha256.Sum256([]byte(key))
	keys := []string{l.prefix + base64.RawURLEncoding.EncodeToString(sum[:18])}
	vals, err := bounded.Call(ctx, l.timeout, func(ctx context.Context) ([]int64, error) {
		return script.Run(ctx, l.c, keys, l.emission, l.tolerance).Int64Slice()
	})
	if err != nil {
		return Result{}, fmt.Errorf("redisrate: decide: %w", err)
	}
	if len(vals) != 4 {
		return Result{}, errors.New("redisrate: decide: unexpected reply")
	}
	return Result{
		Allowed:    vals[0] == 1,
		Remaining:  int(vals[1]),
		RetryAfter: time.Duration(vals[2]) * time.Microsecond,
		ResetAfter: time.Duration(vals[3]) * time.Microsecond,
	}, nil
}

// Middleware limits next, counting each request under the Limiter's key:
// ratelimit.DefaultKey from NewLimiter, WithKeyFunc's from New; see New.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	policy := `"company";q=` + strconv.Itoa(l.burst) + ";w=" + ceilSeconds(float64(l.burst)/l.perSecond)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := l.Allow(r.Context(), l.key(r))
		l.observe(r.Context(), res, err)
		if err != nil {
			next.ServeHTTP(w, r) // fail open: see the package documentation
			return
		}
		h := w.Header()
		h.Set("RateLimit-Policy", policy)
		h.Set("RateLimit", `"company";r=`+strconv.Itoa(res.Remaining)+";t="+ceilSeconds(res.ResetAfter.Seconds()))
		if !res.Allowed {
			h.Set("Retry-After", ceilSeconds(res.RetryAfter.Seconds()))
			edge.WriteProblem(w, r, ratelimit.ErrRateLimited)
			return
		}
		next.ServeHTTP(w, r)
	})
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

// Option configures New. An option New does not read does not compile; a
// nil option, the zero KeyPrefixOption or TimeoutOption, or an invalid
// value is an error at construction naming constructor and option (for
// example "redisrate: New: WithTimeout: -1s is negative").
type Option interface{ newOption() option }

// LimiterOption configures NewLimiter: WithKeyPrefix and WithTimeout,
// which New reads too. WithKeyFunc and WithObserver, New's only, do not
// compile here.
type LimiterOption interface{ limiterOption() option }

// newOpt is an option that only New reads.
type newOpt option

func (o newOpt) newOption() option { return option(o) }

// KeyPrefixOption is WithKeyPrefix's: an option of New and NewLimiter.
type KeyPrefixOption struct{ o option }

func (o KeyPrefixOption) newOption() option     { return o.o }
func (o KeyPrefixOption) limiterOption() option { return o.o }

// TimeoutOption is WithTimeout's: an option of New and NewLimiter.
type TimeoutOption struct{ o option }

func (o TimeoutOption) newOption() option     { return o.o }
func (o TimeoutOption) limiterOption() option { return o.o }

type config struct {
	prefix   string
	timeout  time.Duration
	key      func(*http.Request) string
	observer ratelimit.Observer
}

// newConfig applies opts, taken apart by get, over the defaults for the
// constructor ctor.
func newConfig[O any](ctor string, opts []O, get func(O) option) (*config, error) {
	c := &config{prefix: DefaultKeyPrefix, timeout: DefaultTimeout, key: ratelimit.DefaultKey}
	parts := func(o O) (string, func(*config) error) {
		if any(o) == nil {
			return "", nil // a nil option is refused as the zero one is
		}
		op := get(o)
		return op.name, op.apply
	}
	if err := optcheck.Apply(c, "redisrate", ctor, opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithKeyPrefix sets the prefix of the limiter's Redis keys (default
// DefaultKeyPrefix, also for ""). Replicas that share a budget use the
// same prefix.
func WithKeyPrefix(prefix string) KeyPrefixOption {
	return KeyPrefixOption{option{"WithKeyPrefix", func(c *config) error {
		if prefix == "" {
			prefix = DefaultKeyPrefix
		}
		c.prefix = prefix
		return nil
	}}}
}

// WithTimeout bounds one decision (default 100ms); past it the request is
// let through (fail open). The bound holds whatever the client's settings:
// without ContextTimeoutEnabled go-redis would wait out the client's
// ReadTimeout (5 s by default) on a hung Redis, so the decision is
// abandoned at the deadline instead, and its connection is released when
// the client's own ReadTimeout ends the read (at most PoolSize such calls
// linger). Zero means the default; negative is an error.
func WithTimeout(d time.Duration) TimeoutOption {
	return TimeoutOption{option{"WithTimeout", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d == 0 {
			d = DefaultTimeout
		}
		c.timeout = d
	})}}
}

// WithKeyFunc replaces ratelimit.DefaultKey (also the default for nil) as
// the function that gives the key New counts a request under;
// ratelimit.NewKeyFunc makes DefaultKey with other address prefixes or a
// trusted hop. Key on something authenticated: a key taken from what the
// client sends lets anyone spend another's budget, or get a new one per
// request.
func WithKeyFunc(key func(*http.Request) string) Option {
	return newOpt{"WithKeyFunc", func(c *config) error {
		if key == nil {
			key = ratelimit.DefaultKey
		}
		c.key = key
		return nil
	}}
}
