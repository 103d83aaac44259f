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
	DefaultPrefix  = "cellgate:rl:"         // WithPrefix
	DefaultTimeout = 100 * time.Millisecond // WithTimeout: one decision
)

// Limiter makes rate-limit decisions shared by every process on the same
// Redis and prefix.
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
// ratelimit.DefaultKey. Options: WithPrefix, WithTimeout.
func NewLimiter(client redis.UniversalClient, limit rate.Limit, burst int, opts ...Option) (*Limiter, error) {
	c, err := newConfig("NewLimiter", opts, "WithPrefix", "WithTimeout")
	if err != nil {
		return nil, err
	}
	return newLimiter(client, limit, burst, c)
}

// New returns a middleware like ratelimit.New's, whose budget every
// replica shares: same key (ratelimit.DefaultKey unless WithKey), same
// RateLimit-Policy and RateLimit headers, same 429 rate_limited with
// Retry-After. Options: WithPrefix, WithTimeout, WithKey, WithObserver.
func New(client redis.UniversalClient, limit rate.Limit, burst int, opts ...Option) (func(http.Handler) http.Handler, error) {
	c, err := newConfig("New", opts, "WithPrefix", "WithTimeout", "WithKey", "WithObserver")
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
// ratelimit.DefaultKey from NewLimiter, WithKey's from New; see New.
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

// Option configures New and NewLimiter. Each constructor's doc lists the
// options it reads: an option given to a constructor that does not read it
// (WithKey to NewLimiter), an invalid value or the zero Option is an error
// at construction naming constructor and option (for example "redisrate:
// NewLimiter does not take option WithKey"), never silently ignored.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithPrefix".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

type config struct {
	prefix   string
	timeout  time.Duration
	key      func(*http.Request) string
	observer ratelimit.Observer
}

// newConfig applies opts over the defaults for the constructor ctor, which
// reads only the options named in reads.
func newConfig(ctor string, opts []Option, reads ...string) (*config, error) {
	c := &config{prefix: DefaultPrefix, timeout: DefaultTimeout, key: ratelimit.DefaultKey}
	if err := optcheck.Apply(c, "redisrate", ctor, opts, reads, Option.parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithPrefix sets the prefix of the limiter's keys (default
// "cellgate:rl:"). Replicas that share a budget use the same prefix. The
// empty prefix is an error.
func WithPrefix(prefix string) Option {
	return Option{"WithPrefix", func(c *config) error {
		if prefix == "" {
			return errors.New("empty key prefix")
		}
		c.prefix = prefix
		return nil
	}}
}

// WithTimeout bounds one decision (default 100ms); past it the request is
// let through (fail open). The bound holds whatever the client's settings:
// without ContextTimeoutEnabled go-redis would wait out the client's
// ReadTimeout (5 s by default) on a hung Redis, so the decision is
// abandoned at the deadline instead, and its connection is released when
// the client's own ReadTimeout ends the read (at most PoolSize such calls
// linger). Zero or less is an error.
func WithTimeout(d time.Duration) Option {
	return Option{"WithTimeout", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.timeout = d })}
}

// WithKey replaces ratelimit.DefaultKey (also the default for nil) as what
// New counts a request under; ratelimit.NewKey makes DefaultKey with other
// address prefixes or a trusted hop. Key on something authenticated: a key
// taken from what the client sends lets anyone spend another's budget, or
// get a new one per request.
func WithKey(key func(*http.Request) string) Option {
	return Option{"WithKey", func(c *config) error {
		if key == nil {
			key = ratelimit.DefaultKey
		}
		c.key = key
		return nil
	}}
}
