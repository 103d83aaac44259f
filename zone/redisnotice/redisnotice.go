package redisnotice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cellgate/cellgate/internal/optcheck"
	"github.com/cellgate/cellgate/internal/redissub"

	"github.com/cellgate/cellgate/zone"
	"github.com/redis/go-redis/v9"
)

// Notices publishes directory-change notices and applies those of every
// process to the caches it watches.
type Notices struct {
	c       redis.UniversalClient
	channel string
	ping    time.Duration
	bound   time.Duration
	now     func() time.Time
	key     []byte // nil: unsigned notices
	reader  *redissub.Reader
	live    atomic.Pointer[redissub.Subscriber]

	mu      sync.Mutex
	next    int
	caches  map[int]*zone.CachingDirectory
	purgers map[int]zone.Purger
	sub     *redissub.Subscriber // listening since the first Watch or WatchPurges
	closed  bool
}

// Defaults, each overridable by the option named beside it.
const (
	DefaultChannel      = "cellgate:directory" // WithChannel
	DefaultPingTimeout  = 5 * time.Second      // WithPingTimeout
	DefaultNoticeBound  = time.Second          // WithNoticeBound
	DefaultNoticeMaxAge = 10 * time.Minute     // WithNoticeKey
)

// publishTimeout bounds Publish whatever the client's timeouts.
const publishTimeout = time.Second

// minKey is the shortest key WithNoticeKey takes, as hmacsig's.
const minKey = 32

// New returns Notices on client (single node, Sentinel or Cluster). The
// client stays the caller's: Close does not close it. Options: WithChannel,
// WithPingTimeout, WithNoticeBound, WithNoticeKey, WithClock.
func New(client redis.UniversalClient, opts ...Option) (*Notices, error) {
	if client == nil {
		return nil, errors.New("redisnotice: nil client")
	}
	c := &config{channel: DefaultChannel, ping: DefaultPingTimeout, bound: DefaultNoticeBound, maxAge: DefaultNoticeMaxAge, now: time.Now}
	parts := func(o Option) (string, func(*config) error) {
		if o == nil {
			return "", nil // a nil option is refused as the zero one is
		}
		op := o.newOption()
		return op.name, op.apply
	}
	if err := optcheck.Apply(c, "redisnotice", "New", opts, parts); err != nil {
		return nil, err
	}
	var o *redissub.Opener
	if c.key != nil {
		o = redissub.NewOpener(c.key, c.channel, c.maxAge, c.now)
	}
	return &Notices{
		c: client, channel: c.channel, ping: c.ping, bound: c.bound, now: c.now, key: c.key, reader: redissub.NewReader(o),
		caches: make(map[int]*zone.CachingDirectory), purgers: make(map[int]zone.Purger),
	}, nil
}

// Publish tells every process that company's zone changed. The caches
// this Notices watches drop it at once. It waits at most a second, or
// until ctx ends, whatever the client's timeouts.
func (n *Notices) Publish(ctx context.Context, company string) error {
	if company == "" {
		return errors.New("redisnotice: publish: empty company")
	}
	n.each(func(c *zone.CachingDirectory) { c.Invalidate(company) })
	msg := company
	if n.key != nil {
		msg = redissub.Seal(n.key, n.channel, n.now(), company)
	}
	if err := redissub.Publish(ctx, n.c, n.channel, msg, publishTimeout); err != nil {
		return fmt.Errorf("redisnotice: publish %s: %w", company, err)
	}
	return nil
}

// Watch applies every notice to cache until cancel is called, and makes
// cache trust its zones only while the notices are fresh
// (zone.CachingDirectory.RequireNotices, NoticesFresh): cut off from them
// for longer than WithNoticeBound, it asks the directory on every lookup,
// so a company move reaches every replica's decisions within the bound.
// The first Watch starts the one goroutine that listens; Close stops it.
func (n *Notices) Watch(cache *zone.CachingDirectory) (cancel func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := n.next
	n.next++
	n.caches[id] = cache
	var trust func()
	if cache != nil {
		trust = cache.RequireNotices(n)
	}
	n.listenLocked()
	return func() {
		n.mu.Lock()
		delete(n.caches, id)
		n.mu.Unlock()
		if trust != nil {
			trust()
		}
	}
}

// listenLocked starts the one goroutine that listens, unless it runs or n
// is closed. The caller holds n.mu.
func (n *Notices) listenLocked() {
	if n.sub != nil || n.closed {
		return
	}
	// Every (re)subscription empties the caches: notices may have been
	// missed meanwhile.
	n.sub = redissub.Start(n.c, redissub.Config{Channel: n.channel, Heartbeat: n.bound / 4, Renew: n.ping, Now: n.now}, redissub.Handler{
		Subscribed: func() {
			n.each((*zone.CachingDirectory).InvalidateAll)
			n.eachPurger(zone.Purger.PurgeAll)
		},
		Message: n.received,
	})
	n.live.Store(n.sub)
}

// purgePrefix starts the body of a purge notice; what follows is the
// company and the tag, each query-escaped, separated by a space. A replica
// of an older version reads it as a company id that no company has.
const purgePrefix = "cache-purge "

// PublishPurge drops what p names (zone.Purge) from the response caches
// of every process (zone/cache.Cache, subscribed with WatchPurges): those
// this Notices watches at once, the others' within WithNoticeBound, or they
// stop serving stored responses. It travels on the channel of the
// directory notices, signed the same way with WithNoticeKey. It waits at
// most a second, or until ctx ends.
func (n *Notices) PublishPurge(ctx context.Context, p zone.Purge) error {
	if p.Company == "" && p.Tag == "" {
		return errors.New("redisnotice: publish purge: neither company nor tag")
	}
	n.eachPurger(func(c zone.Purger) { c.Purge(p) })
	msg := purgePrefix + url.QueryEscape(p.Company) + " " + url.QueryEscape(p.Tag)
	if n.key != nil {
		msg = redissub.Seal(n.key, n.channel, n.now(), msg)
	}
	if err := redissub.Publish(ctx, n.c, n.channel, msg, publishTimeout); err != nil {
		return fmt.Errorf("redisnotice: publish purge: %w", err)
	}
	return nil
}

// WatchPurges applies every purge notice to cache until cancel is called,
// and makes cache serve stored responses only while the notices are fresh
// (zone.Purger.RequireNotices): cut off from them for longer than
// WithNoticeBound, it forwards every request, so a purge published
// anywhere takes effect on every replica within the bound. Every
// (re)subscription empties cache: purges may have been missed meanwhile.
func (n *Notices) WatchPurges(cache zone.Purger) (cancel func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := n.next
	n.next++
	n.purgers[id] = cache
	trust := cache.RequireNotices(n)
	n.listenLocked()
	return func() {
		n.mu.Lock()
		delete(n.purgers, id)
		n.mu.Unlock()
		trust()
	}
}

// Close stops listening. It does not close the client. Caches still
// watched stop trusting their zones (NoticesFresh is false from then on):
// cancel each Watch first.
func (n *Notices) Close() error {
	n.mu.Lock()
	n.closed = true
	sub := n.sub
	n.mu.Unlock()
	if sub != nil {
		n.live.Store(nil)
		sub.Close()
	}
	return nil
}

// received applies a notice another process published, once it has
// passed the reader (verified, with WithNoticeKey).
func (n *Notices) received(payload string) {
	company, _, ok := n.reader.Read(payload)
	if !ok {
		return
	}
	if company == "" {
		n.reader.Malformed()
		return
	}
	n.reader.Delivered()
	if rest, ok := strings.CutPrefix(company, purgePrefix); ok {
		co, tag, _ := strings.Cut(rest, " ")
		var p zone.Purge
		var err1, err2 error
		p.Company, err1 = url.QueryUnescape(co)
		p.Tag, err2 = url.QueryUnescape(tag)
		if err1 == nil && err2 == nil && (p.Company != "" || p.Tag != "") {
			n.eachPurger(func(c zone.Purger) { c.Purge(p) })
		}
		return
	}
	n.each(func(c *zone.CachingDirectory) {
		c.Invalidate(company)
		if company != payload {
			// Without a key a sealed notice is read unverified; a company
			// id that merely looks sealed is dropped too: both readings.
			c.Invalidate(payload)
		}
	})
}

// NoticesFresh reports whether every notice published on the channel up
// to WithNoticeBound ago (one second by default) has been applied, as
// proven by the heartbeat on the subscription connection. It is false
// before the first Watch has subscribed, after Close, and whenever the
// subscription connection is cut, black-holed or too slow.
func (n *Notices) NoticesFresh() bool {
	sub := n.live.Load()
	if sub == nil {
		return false
	}
	at := sub.ProvenAt()
	return !at.IsZero() && n.now().Sub(at) <= n.bound
}

// NoticeStats count the notices a Notices heard, by what became of them.
type NoticeStats struct {
	Delivered uint64 // applied to the watched caches
	Unsigned  uint64 // dropped: not signed, while WithNoticeKey is set
	Forged    uint64 // dropped: the signature does not verify
	Replayed  uint64 // dropped: older than maxAge, from the future, or seen before
	Malformed uint64 // dropped: no company
}

// NoticeStats returns the counters so far.
func (n *Notices) NoticeStats() NoticeStats {
	c := n.reader.Counts()
	return NoticeStats{Delivered: c.Delivered, Unsigned: c.Unsigned, Forged: c.Forged, Replayed: c.Replayed, Malformed: c.Malformed}
}

func (n *Notices) each(fn func(*zone.CachingDirectory)) {
	n.mu.Lock()
	caches := make([]*zone.CachingDirectory, 0, len(n.caches))
	for _, c := range n.caches {
		caches = append(caches, c)
	}
	n.mu.Unlock()
	for _, c := range caches {
		if c != nil {
			fn(c)
		}
	}
}

// eachPurger calls fn for every watched response cache.
func (n *Notices) eachPurger(fn func(zone.Purger)) {
	n.mu.Lock()
	purgers := make([]zone.Purger, 0, len(n.purgers))
	for _, p := range n.purgers {
		purgers = append(purgers, p)
	}
	n.mu.Unlock()
	for _, p := range purgers {
		fn(p)
	}
}

// option is one option: its name, for errors, and what it does to the
// config.
type option struct {
	name  string
	apply func(*config) error
}

// Option configures New, the one constructor of this package, which reads
// every option; another package's option (zone.WithClock) does not
// compile. A nil option or an invalid value is an error from New naming
// the option (for example "redisnotice: New: WithNoticeKey: key has 16
// bytes, want at least 32"), never silently ignored.
type Option interface{ newOption() option }

// opt is an Option.
type opt option

func (o opt) newOption() option { return option(o) }

type config struct {
	channel string
	ping    time.Duration
	bound   time.Duration
	key     []byte
	maxAge  time.Duration
	now     func() time.Time
}

// WithClock sets the clock that notice times and the notice bound are
// read from. The default (or nil) is time.Now.
func WithClock(now func() time.Time) Option {
	return opt{"WithClock", func(c *config) error {
		if now == nil {
			now = time.Now
		}
		c.now = now
		return nil
	}}
}

// WithChannel sets the pub/sub channel (default DefaultChannel, also for
// ""). Every process that must see a notice uses the same channel.
func WithChannel(channel string) Option {
	return opt{"WithChannel", func(c *config) error {
		if channel == "" {
			channel = DefaultChannel
		}
		c.channel = channel
		return nil
	}}
}

// WithPingTimeout sets how long a heartbeat on the notice connection may
// go unanswered before the connection is taken for dead and replaced
// (default DefaultPingTimeout, five seconds, also for zero; negative is an
// error); the heartbeat itself is sent every quarter of WithNoticeBound.
func WithPingTimeout(d time.Duration) Option {
	return opt{"WithPingTimeout", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d == 0 {
			d = DefaultPingTimeout
		}
		c.ping = d
	})}
}

// WithNoticeBound sets how stale the notice path may be before
// NoticesFresh reports false (default DefaultNoticeBound, one second; zero
// means the default; negative is an error). The subscription connection
// is pinged every quarter of the bound; each pong proves that every
// notice published before its ping has been applied.
func WithNoticeBound(d time.Duration) Option {
	return opt{"WithNoticeBound", optcheck.Set(d, optcheck.NotNegative, func(c *config, d time.Duration) {
		if d == 0 {
			d = DefaultNoticeBound
		}
		c.bound = d
	})}
}

// WithNoticeKey makes Publish sign every notice with HMAC-SHA256 under key,
// and the watched caches accept only notices signed with it that are at
// most maxAge old (either way) and not seen before: anyone who can PUBLISH
// on the Redis can then no longer empty the caches with forged notices,
// nor replay a captured one. Every process on the channel needs the same
// key; redis-cli PUBLISH of a bare company id is then dropped. maxAge zero
// means DefaultNoticeMaxAge (ten minutes); it must be at least the longest
// a watched cache serves an entry while the directory answers (zone.WithTTL
// plus zone.WithStaleWhileRevalidate, six minutes by default)
// plus the clock skew between hosts, since a genuine notice older than
// maxAge is dropped. Default: no key; notices are unsigned and whoever can
// publish on the Redis is trusted (signed notices are read without being
// verified). A key shorter than 32 bytes, or a negative maxAge, is an
// error.
func WithNoticeKey(key []byte, maxAge time.Duration) Option {
	return opt{"WithNoticeKey", func(c *config) error {
		if len(key) < minKey {
			return fmt.Errorf("key has %d bytes, want at least %d", len(key), minKey)
		}
		if err := optcheck.NotNegative(maxAge); err != nil {
			return fmt.Errorf("maxAge: %w", err)
		}
		if maxAge == 0 {
			maxAge = DefaultNoticeMaxAge
		}
		c.key, c.maxAge = bytes.Clone(key), maxAge
		return nil
	}}
}
