package redisstore

import (
	"bytes"
	"fmt"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"

	"github.com/cellgate/cellgate/passport"
	"github.com/redis/go-redis/v9"
)

// Defaults, each overridable by the option named beside it.
const (
	DefaultPrefix       = "cellgate:"     // WithKeyPrefix
	DefaultTimeout      = time.Second     // WithTimeout: one store operation
	DefaultPingInterval = 5 * time.Second // WithPingInterval: unanswered heartbeat before the notice connection is replaced
	DefaultNoticeBound  = time.Second     // WithNoticeBound: how stale the notice path may be
	DefaultNoticeMaxAge = 5 * time.Minute // WithNoticeKey: how old a signed notice may be

	// DefaultWaitTimeout is how long a write waits for its replicas
	// (WithWaitReplicas), at most half of WithTimeout and of the client's
	// ReadTimeout.
	DefaultWaitTimeout = 500 * time.Millisecond
)

// StoreOption configures New, the one constructor of this package, which
// reads every option. An invalid value, or a nil option, is an error from
// New naming the option (for example "redisstore: New: WithTimeout: -1s is
// negative"), never silently ignored. Zero, "" or nil given to an option
// means its documented default. fmt prints an option as its name
// ("WithTimeout").
type StoreOption interface{ storeOption() option }

// option is one option: its name (for errors) and what it does to the
// config.
type option struct {
	name  string
	apply func(*config) error
}

func (o option) storeOption() option { return o }

// String returns the option's name.
func (o option) String() string { return o.name }

type config struct {
	prefix    string
	retention time.Duration
	now       func() time.Time
	timeout   time.Duration
	replicas  int           // 0: the default for the client
	waitFor   time.Duration // 0: the default
	noWait    bool          // WithNoWaitReplicas
	ping      time.Duration
	notices   noticeConfig
}

// newConfig applies opts over the defaults; each option checks its value.
func newConfig(opts []StoreOption) (*config, error) {
	c := &config{
		prefix: DefaultPrefix, retention: passport.DefaultRetention, now: time.Now,
		timeout: DefaultTimeout, ping: DefaultPingInterval,
		notices: noticeConfig{bound: DefaultNoticeBound, maxAge: DefaultNoticeMaxAge},
	}
	parts := func(o StoreOption) (string, func(*config) error) {
		if o == nil {
			return "", nil
		}
		opt := o.storeOption()
		return opt.name, opt.apply
	}
	if err := optcheck.Apply(c, "redisstore", "New", opts, parts); err != nil {
		return nil, err
	}
	return c, nil
}

// WithKeyPrefix sets the prefix of every key and of the notice channel,
// so several deployments can share one Redis. Stores that must see each
// other's revocations use the same prefix. The default (also for "") is
// DefaultPrefix, "cellgate:".
func WithKeyPrefix(prefix string) StoreOption {
	return option{"WithKeyPrefix", func(c *config) error {
		if prefix != "" {
			c.prefix = prefix
		}
		return nil
	}}
}

// WithRetention sets how long a session is remembered after it expires,
// as passport.WithRetention does for the memory store: its Redis TTL is
// its expiry plus the retention. The default (also for zero) is
// passport.DefaultRetention; a negative retention is an error.
// WithoutRetention forgets a session when it expires.
func WithRetention(d time.Duration) StoreOption {
	return option{"WithRetention", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d > 0 {
			c.retention = d
		}
	})}
}

// WithoutRetention makes the Store forget a session as soon as it
// expires: its Redis TTL is its expiry.
func WithoutRetention() StoreOption {
	return option{"WithoutRetention", func(c *config) error { c.retention = 0; return nil }}
}

// WithClock sets the clock that expiry, TTLs and revocation times are
// computed from. The default (also for nil) is time.Now.
func WithClock(now func() time.Time) StoreOption {
	return option{"WithClock", func(c *config) error {
		if now == nil {
			now = time.Now
		}
		c.now = now
		return nil
	}}
}

// WithTimeout bounds one store operation, so a slow, unreachable or hung
// Redis fails requests fast instead of piling them up. The default (also
// for zero) is DefaultTimeout, one second; a negative value is an error. Get, Put and Revoke each return within it (and
// its notice within another), RevokeUser and RevokeCompany within it per
// batch of 500 sessions. The bound holds whatever the client's settings:
// without ContextTimeoutEnabled go-redis would wait out the client's
// ReadTimeout (5 s by default) on a hung Redis, so the operation is
// abandoned at the deadline instead, and its connection is released when
// the client's own ReadTimeout ends the read (at most PoolSize such calls
// linger). Set DialTimeout, ReadTimeout and WriteTimeout on the client as
// well, and ContextTimeoutEnabled, so abandoned calls end early too.
func WithTimeout(d time.Duration) StoreOption {
	return option{"WithTimeout", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d > 0 {
			c.timeout = d
		}
	})}
}

// WithWaitReplicas makes every write the Store acknowledges (Put, and
// every revocation: Revoke, RevokeUser, RevokeCompany) wait (Redis WAIT,
// on the connection that wrote) until n replicas of its master have it,
// for at most timeout, and fail with ErrNotReplicated if fewer did. An
// acknowledged write is then on n+1 nodes: it survives the loss of any
// one node whenever the replica promoted is one that has it, which is
// certain when n is every replica of each master (the reference topology:
// one), and likely otherwise (a Cluster promotes the replica with most of
// the master's writes first).
//
// The default depends on the client. A Cluster client
// (*redis.ClusterClient) or a Sentinel client (redis.NewFailoverClient)
// serves a deployment built to fail over to replicas, and a revocation
// that a failover can undo is a revoked session that works again: such
// clients wait for one replica, within DefaultWaitTimeout (at most half of
// WithTimeout and of the client's ReadTimeout). A single node (any other
// *redis.Client) has no failover to survive and does not wait. Zero n or
// zero timeout means its default; WithNoWaitReplicas turns waiting off.
//
// While a master has fewer replicas than n (one lagging, down, or just
// promoted to replace a dead master, with no replica until the old one
// returns), the writes to its keys fail: the caller is told so (the
// session storage API answers 503 and the caller retries) instead of being
// told a revocation happened that a failover could undo. To keep revoking
// through the loss of a node, run two replicas per master and wait for
// one. A negative n or timeout is an error, as is a timeout not shorter
// than WithTimeout or than the client's ReadTimeout (WAIT holds the
// connection meanwhile). Waiting needs a *redis.Client or
// *redis.ClusterClient: New refuses a positive n with any other client
// (a Ring, which never waits).
func WithWaitReplicas(n int, timeout time.Duration) StoreOption {
	return option{"WithWaitReplicas", func(c *config) error {
		if err := optcheck.NotNegative(n); err != nil {
			return fmt.Errorf("replicas: %w", err)
		}
		if err := optcheck.NotNegative(timeout); err != nil {
			return fmt.Errorf("timeout: %w", err)
		}
		c.replicas, c.waitFor, c.noWait = n, timeout, false
		return nil
	}}
}

// WithNoWaitReplicas acknowledges writes as soon as their master has
// them, without waiting for any replica (see WithWaitReplicas): for a
// Cluster without replicas, or when losing the last writes to a failover
// is acceptable. A revocation may then be undone by a failover, and the
// revoked session work again, until it expires.
func WithNoWaitReplicas() StoreOption {
	return option{"WithNoWaitReplicas", func(c *config) error {
		c.replicas, c.waitFor, c.noWait = 0, 0, true
		return nil
	}}
}

// WithPingInterval sets how long a heartbeat on the notice connection may
// go unanswered before the connection is taken for dead and replaced; the
// heartbeat itself is sent every quarter of WithNoticeBound. The default
// (also for zero) is DefaultPingInterval, five seconds; a negative value
// is an error.
func WithPingInterval(d time.Duration) StoreOption {
	return option{"WithPingInterval", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d > 0 {
			c.ping = d
		}
	})}
}

// WithNoticeBound sets how stale the notice path may be before
// NoticesFresh reports false (default DefaultNoticeBound, one second; zero
// means the default; negative is an error). The Store pings its
// subscription connection every quarter of the bound; each pong proves
// that every notice published before its ping has been delivered. A
// passport.Gateway that watches the Store (Gateway.Watch) stops serving
// cached passports while the path is not fresh, so a revocation reaches
// every replica's decisions within this bound, partitioned or not.
func WithNoticeBound(d time.Duration) StoreOption {
	return option{"WithNoticeBound", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
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
func WithNoticeKey(key []byte, maxAge time.Duration) StoreOption {
	return option{"WithNoticeKey", func(c *config) error {
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

// waitReplicas settles how many replicas, and how long, a write waits for
// on client (see WithWaitReplicas), and checks what was asked.
func (c *config) waitReplicas(client redis.UniversalClient) error {
	var readTimeout time.Duration
	failover := false
	switch cl := client.(type) {
	case *redis.ClusterClient:
		readTimeout, failover = cl.Options().ReadTimeout, true
	case *redis.Client:
		// redis.NewFailoverClient (Sentinel) names its address so.
		readTimeout, failover = cl.Options().ReadTimeout, cl.Options().Addr == "FailoverClient"
	default:
		if c.replicas > 0 {
			return fmt.Errorf("needs a *redis.Client or *redis.ClusterClient, not %T", client)
		}
		c.replicas = 0
		return nil
	}
	switch {
	case c.noWait:
		return nil
	case c.replicas == 0 && !failover:
		return nil
	case c.replicas == 0:
		c.replicas = 1
	}
	if c.waitFor == 0 {
		c.waitFor = min(DefaultWaitTimeout, c.timeout/2)
		if readTimeout > 0 {
			c.waitFor = min(c.waitFor, readTimeout/2)
		}
		return nil
	}
	if c.waitFor >= c.timeout {
		return fmt.Errorf("timeout %v is not shorter than WithTimeout's %v", c.waitFor, c.timeout)
	}
	if readTimeout > 0 && c.waitFor >= readTimeout {
		return fmt.Errorf("timeout %v is not shorter than the client's ReadTimeout %v", c.waitFor, readTimeout)
	}
	return nil
}
