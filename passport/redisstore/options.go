package redisstore

import (
	"errors"
	"time"

	"github.com/cellgate/cellgate/passport"
)

// Defaults, each overridable by the option named beside it.
const (
	DefaultPrefix       = "cellgate:"     // WithPrefix
	DefaultTimeout      = time.Second     // WithTimeout: one store operation
	DefaultPingInterval = 5 * time.Second // WithPingInterval: idle notice connection
)

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	prefix    string
	retention time.Duration
	now       func() time.Time
	timeout   time.Duration
	replicas  int
	waitFor   time.Duration
	ping      time.Duration
}

// newConfig applies opts over the defaults and checks the result.
func newConfig(opts []Option) (*config, error) {
	c := &config{
		prefix: DefaultPrefix, retention: passport.DefaultRetention, now: time.Now,
		timeout: DefaultTimeout, ping: DefaultPingInterval,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	switch {
	case c.prefix == "":
		return nil, errors.New("redisstore: empty key prefix")
	case c.retention < 0:
		return nil, errors.New("redisstore: negative retention")
	case c.timeout <= 0 || c.ping <= 0:
		return nil, errors.New("redisstore: timeout and ping interval must be positive")
	case c.replicas < 0 || (c.replicas > 0 && c.waitFor <= 0):
		return nil, errors.New("redisstore: wait for a positive number of replicas for a positive time")
	}
	return c, nil
}

// WithPrefix sets the prefix of every key and of the notice channel
// (default "cellgate:"), so several deployments can share one Redis.
// Stores that must see each other's revocations use the same prefix.
func WithPrefix(prefix string) Option {
	return optionFunc(func(c *config) { c.prefix = prefix })
}

// WithRetention sets how long a session is remembered after it expires
// (default passport.DefaultRetention), as passport.WithRetention does for
// the memory store: its Redis TTL is its expiry plus the retention.
func WithRetention(d time.Duration) Option {
	return optionFunc(func(c *config) { c.retention = d })
}

// WithClock sets the clock that expiry, TTLs and revocation times are
// computed from (default time.Now).
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}

// WithTimeout bounds one store operation (default one second), so a slow
// or unreachable Redis fails requests fast instead of piling them up. The
// client's ContextTimeoutEnabled must be true for go-redis to honour it on
// the socket; set DialTimeout, ReadTimeout and WriteTimeout on the client
// as well.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithWaitReplicas makes Put wait (Redis WAIT) until n replicas have the
// session, for at most timeout, and fail if fewer did: an acknowledged
// session then survives the failover of its master. Default 0: replication
// is asynchronous and a failover may lose the last writes. It needs a
// *redis.Client or *redis.ClusterClient, and timeout must be shorter than
// the client's ReadTimeout (WAIT blocks the connection meanwhile).
func WithWaitReplicas(n int, timeout time.Duration) Option {
	return optionFunc(func(c *config) { c.replicas, c.waitFor = n, timeout })
}

// WithPingInterval sets how long the notice connection may stay idle
// before it is pinged (default five seconds); a dead connection is found
// and replaced within about this time plus the client's read timeout.
func WithPingInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.ping = d })
}
