package redisstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"

	"github.com/cellgate/cellgate/passport"
)

// Defaults, each overridable by the option named beside it.
const (
	DefaultPrefix       = "cellgate:"     // WithPrefix
	DefaultTimeout      = time.Second     // WithTimeout: one store operation
	DefaultPingInterval = 5 * time.Second // WithPingInterval: idle notice connection
)

// Option configures New, the one constructor of this package, which reads
// every option. An invalid value, or the zero Option, is an error from New
// naming the option (for example "redisstore: New: WithTimeout: 0s is not
// positive"), never silently ignored. nil given to an option that takes a
// func means the documented default.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithPrefix".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

type config struct {
	prefix    string
	retention time.Duration
	now       func() time.Time
	timeout   time.Duration
	replicas  int
	waitFor   time.Duration
	ping      time.Duration
}

// newConfig applies opts over the defaults; each option checks its value.
func newConfig(opts []Option) (*config, error) {
	c := &config{
		prefix: DefaultPrefix, retention: passport.DefaultRetention, now: time.Now,
		timeout: DefaultTimeout, ping: DefaultPingInterval,
	}
	if err := optcheck.ApplyAll(c, "redisstore", "New", opts, Option.parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithPrefix sets the prefix of every key and of the notice channel
// (default "cellgate:"), so several deployments can share one Redis.
// Stores that must see each other's revocations use the same prefix. The
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

// WithRetention sets how long a session is remembered after it expires
// (default passport.DefaultRetention), as passport.WithRetention does for
// the memory store: its Redis TTL is its expiry plus the retention. Zero
// forgets a session when it expires; a negative retention is an error.
func WithRetention(d time.Duration) Option {
	return Option{"WithRetention", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) { c.retention = d })}
}

// WithClock sets the clock that expiry, TTLs and revocation times are
// computed from. The default (or nil) is time.Now.
func WithClock(now func() time.Time) Option {
	return Option{"WithClock", func(c *config) error {
		if now == nil {
			now = time.Now
		}
		c.now = now
		return nil
	}}
}

// WithTimeout bounds one store operation (default one second), so a slow,
// unreachable or hung Redis fails requests fast instead of piling them up;
// zero or less is an error. Get, Put and Revoke each return within it (and
// its notice within another), RevokeUser and RevokeCompany within it per
// batch of 500 sessions. The bound holds whatever the client's settings:
// without ContextTimeoutEnabled go-redis would wait out the client's
// ReadTimeout (5 s by default) on a hung Redis, so the operation is
// abandoned at the deadline instead, and its connection is released when
// the client's own ReadTimeout ends the read (at most PoolSize such calls
// linger). Set DialTimeout, ReadTimeout and WriteTimeout on the client as
// well, and ContextTimeoutEnabled, so abandoned calls end early too.
func WithTimeout(d time.Duration) Option {
	return Option{"WithTimeout", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.timeout = d })}
}

// WithWaitReplicas makes Put wait (Redis WAIT) until n replicas have the
// session, for at most timeout, and fail if fewer did: an acknowledged
// session then survives the failover of its master. Default 0: replication
// is asynchronous and a failover may lose the last writes. A negative n, or
// a positive n with a timeout of zero or less, is an error. It needs a
// *redis.Client or *redis.ClusterClient (New refuses any other client), and
// timeout must be shorter than the client's ReadTimeout (WAIT blocks the
// connection meanwhile).
func WithWaitReplicas(n int, timeout time.Duration) Option {
	return Option{"WithWaitReplicas", func(c *config) error {
		if err := optcheck.NotNegative(n); err != nil {
			return fmt.Errorf("replicas: %w", err)
		}
		if n > 0 {
			if err := optcheck.Positive(timeout); err != nil {
				return fmt.Errorf("timeout: %w", err)
			}
		}
		c.replicas, c.waitFor = n, timeout
		return nil
	}}
}

// WithPingInterval sets how long the notice connection may stay idle
// before it is pinged (default five seconds); a dead connection is found
// and replaced within about this time plus the client's read timeout. Zero
// or less is an error.
func WithPingInterval(d time.Duration) Option {
	return Option{"WithPingInterval", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.ping = d })}
}
