package redisstore

import (
	"bytes"
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
	DefaultPingInterval = 5 * time.Second // WithPingInterval: unanswered heartbeat before the notice connection is replaced
	DefaultNoticeBound  = time.Second     // WithNoticeBound: how stale the notice path may be
	DefaultNoticeMaxAge = 5 * time.Minute // WithNoticeKey: how old a signed notice may be
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
	notices   noticeConfig
}

// newConfig applies opts over the defaults; each option checks its value.
func newConfig(opts []Option) (*config, error) {
	c := &config{
		prefix: DefaultPrefix, retention: passport.DefaultRetention, now: time.Now,
		timeout: DefaultTimeout, ping: DefaultPingInterval,
		notices: noticeConfig{bound: DefaultNoticeBound, maxAge: DefaultNoticeMaxAge},
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

// WithTimeout bounds one store operation (default one second), so a slow
// or unreachable Redis fails requests fast instead of piling them up; zero
// or less is an error. The client's ContextTimeoutEnabled must be true for
// go-redis to honour it on the socket; set DialTimeout, ReadTimeout and
// WriteTimeout on the client as well.
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

// WithPingInterval sets how long a heartbeat on the notice connection may
// go unanswered before the connection is taken for dead and replaced
// (default five seconds); the heartbeat itself is sent every quarter of
// WithNoticeBound. Zero or less is an error.
func WithPingInterval(d time.Duration) Option {
	return Option{"WithPingInterval", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.ping = d })}
}

// WithNoticeBound sets how stale the notice path may be before
// NoticesFresh reports false (default DefaultNoticeBound, one second; zero
// means the default; negative is an error). The Store pings its
// subscription connection every quarter of the bound; each pong proves
// that every notice published before its ping has been delivered. A
// passport.Gateway that watches the Store (Gateway.Watch) stops serving
// cached passports while the path is not fresh, so a revocation reaches
// every replica's decisions within this bound, partitioned or not.
func WithNoticeBound(d time.Duration) Option {
	return Option{"WithNoticeBound", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d == 0 {
			d = DefaultNoticeBound
		}
		c.notices.bound = d
	})}
}

// WithNoticeKey makes the Store sign every revocation notice it publishes
// with HMAC-SHA256 under key, and accept only notices signed with it that
// are at most maxAge old (either way, on its clock) and not seen before:
// anyone who can PUBLISH on the Redis can then no longer drop every
// gateway's cache with a forged notice, nor replay a captured one. Every
// Store on the channel needs the same key. maxAge zero means
// DefaultNoticeMaxAge (five minutes); it must be at least the longest a
// gateway caches a passport (passport.WithCacheTTL, one minute by default)
// plus the clock skew between hosts, since a genuine notice older than
// maxAge is dropped. Default: no key; notices are unsigned, and a Store
// trusts whoever can publish on its Redis (signed notices are read
// without being verified). A key shorter than 32 bytes, or a negative
// maxAge, is an error.
func WithNoticeKey(key []byte, maxAge time.Duration) Option {
	return Option{"WithNoticeKey", func(c *config) error {
		if len(key) < minNoticeKey {
			return fmt.Errorf("key has %d bytes, want at least %d", len(key), minNoticeKey)
		}
		if err := optcheck.NotNegative(maxAge); err != nil {
			return fmt.Errorf("maxAge: %w", err)
		}
		if maxAge == 0 {
			maxAge = DefaultNoticeMaxAge
		}
		c.notices.key, c.notices.maxAge = bytes.Clone(key), maxAge
		return nil
	}}
}
