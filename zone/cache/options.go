package cache

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// option is one option: its name (for errors) and what it does to the
// config.
type option struct {
	name  string
	apply func(*config) error
}

// CoalescerOption configures NewCoalescer.
type CoalescerOption interface{ coalescerOption() option }

// CacheOption configures NewCache.
type CacheOption interface{ cacheOption() option }

// Defaults, each overridable by the option named beside it.
const (
	DefaultMaxWaiters     = 10_000                 // WithMaxWaiters
	DefaultMaxFlights     = 10_000                 // WithMaxFlights
	DefaultFollowerBuffer = 1 << 20                // WithFollowerBuffer
	DefaultMaxLag         = 100 * time.Millisecond // WithMaxLag
	DefaultHitForMiss     = 10 * time.Second       // WithHitForMiss
	DefaultUpstreamWait   = 30 * time.Second       // WithUpstreamWait
	DefaultMaxEntries     = 10_000                 // WithMaxEntries
	DefaultMaxBytes       = 64 << 20               // WithMaxBytes
	DefaultMaxBodySize    = 1 << 20                // WithMaxBodySize
	DefaultTagHeader      = "Cache-Tag"            // WithTagHeader
	DefaultStatusName     = "cellgate"             // WithStatusName
)

type config struct {
	now        func() time.Time
	observer   Observer
	vary       []string // canonical header names the route varies on
	statusName string

	// Coalescer
	maxWaiters   int
	maxFlights   int
	followerBuf  int
	maxLag       time.Duration
	hitForMiss   time.Duration // 0: none (WithoutHitForMiss)
	upstreamWait time.Duration
	afterFunc    func(time.Duration, func()) (stop func() bool) // tests replace it

	// Cache
	maxEntries  int
	maxBytes    int64
	maxBodySize int64
	tagHeader   string
}

func defaultConfig() *config {
	return &config{
		now: time.Now, statusName: DefaultStatusName,
		maxWaiters: DefaultMaxWaiters, maxFlights: DefaultMaxFlights, followerBuf: DefaultFollowerBuffer, maxLag: DefaultMaxLag,
		hitForMiss: DefaultHitForMiss, upstreamWait: DefaultUpstreamWait,
		afterFunc:  func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },
		maxEntries: DefaultMaxEntries, maxBytes: DefaultMaxBytes, maxBodySize: DefaultMaxBodySize,
		tagHeader: DefaultTagHeader,
	}
}

// apply applies each option's part to c for the constructor ctor.
func apply[O any](c *config, ctor string, opts []O, part func(O) option) error {
	for i, o := range opts {
		if any(o) == nil {
			return fmt.Errorf("cache: %s: option %d is nil", ctor, i)
		}
		p := part(o)
		if p.apply == nil {
			return fmt.Errorf("cache: %s: option %d is a zero option value", ctor, i)
		}
		if err := p.apply(c); err != nil {
			return fmt.Errorf("cache: %s: %s: %w", ctor, p.name, err)
		}
	}
	return nil
}

func positive[T int | int64 | time.Duration](v T) error {
	if v <= 0 {
		return fmt.Errorf("%v is not positive", v)
	}
	return nil
}

// coalescerOnly is an option only NewCoalescer reads.
type coalescerOnly option

func (o coalescerOnly) coalescerOption() option { return option(o) }

// cacheOnly is an option only NewCache reads.
type cacheOnly option

func (o cacheOnly) cacheOption() option { return option(o) }

// ClockOption configures NewCoalescer and NewCache: see WithClock.
type ClockOption struct{ o option }

func (o ClockOption) coalescerOption() option { return o.o }
func (o ClockOption) cacheOption() option     { return o.o }

// WithClock sets the clock that hit-for-miss marks and cached responses
// age by (default time.Now), for tests. A nil clock is an error.
func WithClock(now func() time.Time) ClockOption {
	return ClockOption{option{"WithClock", func(c *config) error {
		if now == nil {
			return errors.New("nil clock")
		}
		c.now = now
		return nil
	}}}
}

// ObserverOption configures NewCoalescer and NewCache: see WithObserver.
type ObserverOption struct{ o option }

func (o ObserverOption) coalescerOption() option { return o.o }
func (o ObserverOption) cacheOption() option     { return o.o }

// WithObserver makes the middleware tell o of every event (Event*
// constants), for metrics. The default is no observer; a nil o is an
// error.
func WithObserver(o Observer) ObserverOption {
	return ObserverOption{option{"WithObserver", func(c *config) error {
		if o == nil {
			return errors.New("nil observer")
		}
		c.observer = o
		return nil
	}}}
}

// VaryOption configures NewCoalescer and NewCache: see WithVaryOn.
type VaryOption struct{ o option }

func (o VaryOption) coalescerOption() option { return o.o }
func (o VaryOption) cacheOption() option     { return o.o }

// WithVaryOn declares request headers the route's responses depend on
// (such as Accept-Language): requests that differ in them never share a
// flight or a cached response, whatever the response's own Vary says. By
// default there are none beyond what the key always holds (method, host,
// target, company and, for Coalescer, principal) and the response's Vary.
func WithVaryOn(headers ...string) VaryOption {
	return VaryOption{option{"WithVaryOn", func(c *config) error {
		for _, h := range headers {
			if h == "" || strings.ContainsAny(h, " \t\r\n:,") {
				return fmt.Errorf("%q is not a header name", h)
			}
			c.vary = append(c.vary, textproto.CanonicalMIMEHeaderKey(h))
		}
		return nil
	}}}
}

// StatusNameOption configures NewCoalescer and NewCache: see WithStatusName.
type StatusNameOption struct{ o option }

func (o StatusNameOption) coalescerOption() option { return o.o }
func (o StatusNameOption) cacheOption() option     { return o.o }

// WithStatusName names this cache in the Cache-Status header (RFC 9211)
// (default "cellgate"). It must be an RFC 8941 token.
func WithStatusName(name string) StatusNameOption {
	return StatusNameOption{option{"WithStatusName", func(c *config) error {
		if !isToken(name) {
			return fmt.Errorf("%q is not a token", name)
		}
		c.statusName = name
		return nil
	}}}
}

func isToken(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z' || s[0] == '*') {
		return false
	}
	for i := 1; i < len(s); i++ {
		b := s[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte(`"(),;<=>?@[\]{}`, b) >= 0 {
			return false
		}
	}
	return true
}

// WithMaxWaiters bounds the requests that wait on one upstream request
// (default DefaultMaxWaiters); past it, requests go upstream on their own.
func WithMaxWaiters(n int) CoalescerOption {
	return coalescerOnly{"WithMaxWaiters", func(c *config) error { c.maxWaiters = n; return positive(n) }}
}

// WithMaxFlights bounds the distinct keys in flight at once (default
// DefaultMaxFlights); past it, requests of new keys go upstream on their
// own.
func WithMaxFlights(n int) CoalescerOption {
	return coalescerOnly{"WithMaxFlights", func(c *config) error { c.maxFlights = n; return positive(n) }}
}

// WithFollowerBuffer bounds, in bytes, how far each waiting request may
// fall behind the upstream response (default DefaultFollowerBuffer, 1 MiB).
// It is also how much of the response's start is kept so that requests
// arriving after the first bytes can still join. A request that far
// behind holds the upstream back, for WithMaxLag at most.
func WithFollowerBuffer(bytes int) CoalescerOption {
	return coalescerOnly{"WithFollowerBuffer", func(c *config) error { c.followerBuf = bytes; return positive(bytes) }}
}

// WithMaxLag sets how long in all one reader may hold the upstream
// response back, its buffer full, before it is cut loose to fetch on its
// own (default DefaultMaxLag, 100 ms). A reader alone is never cut loose:
// the upstream waits for it, as for any client.
func WithMaxLag(d time.Duration) CoalescerOption {
	return coalescerOnly{"WithMaxLag", func(c *config) error { c.maxLag = d; return positive(d) }}
}

// WithHitForMiss sets how long a key whose response could not be shared
// is remembered (default DefaultHitForMiss, 10 s): for that long its
// requests go upstream at once (Set-Cookie, no-store, Vary: *) or share
// only with their own principal (private or not marked shareable), so a
// burst does not queue behind a response it cannot use.
func WithHitForMiss(d time.Duration) CoalescerOption {
	return coalescerOnly{"WithHitForMiss", func(c *config) error { c.hitForMiss = d; return positive(d) }}
}

// WithoutHitForMiss remembers nothing: every burst queues behind one
// upstream request and learns again whether it can share.
func WithoutHitForMiss() CoalescerOption {
	return coalescerOnly{"WithoutHitForMiss", func(c *config) error { c.hitForMiss = 0; return nil }}
}

// WithUpstreamWait bounds the wait for the shared upstream request's
// response header (default DefaultUpstreamWait, 30 s). The upstream request
// runs on a context of its own, so that the first client leaving does not
// fail the others; this is its deadline until the header arrives, after
// which it lives while anyone still reads it.
func WithUpstreamWait(d time.Duration) CoalescerOption {
	return coalescerOnly{"WithUpstreamWait", func(c *config) error { c.upstreamWait = d; return positive(d) }}
}

// WithMaxEntries bounds the responses kept (default DefaultMaxEntries);
// the least recently used goes first.
func WithMaxEntries(n int) CacheOption {
	return cacheOnly{"WithMaxEntries", func(c *config) error { c.maxEntries = n; return positive(n) }}
}

// WithMaxBytes bounds the bytes of the responses kept, bodies and headers
// (default DefaultMaxBytes, 64 MiB); the least recently used go first.
func WithMaxBytes(n int64) CacheOption {
	return cacheOnly{"WithMaxBytes", func(c *config) error { c.maxBytes = n; return positive(n) }}
}

// WithMaxBodySize sets the largest body stored (default DefaultMaxBodySize,
// 1 MiB). A larger response streams through and is not stored; no more
// than this much of it is ever held.
func WithMaxBodySize(n int64) CacheOption {
	return cacheOnly{"WithMaxBodySize", func(c *config) error { c.maxBodySize = n; return positive(n) }}
}

// WithTagHeader names the response header in which the cell tags a
// response for Purge (default "Cache-Tag", comma-separated tags). The
// header is removed from what clients receive.
func WithTagHeader(name string) CacheOption {
	return cacheOnly{"WithTagHeader", func(c *config) error {
		if name == "" || strings.ContainsAny(name, " \t\r\n:,") {
			return fmt.Errorf("%q is not a header name", name)
		}
		c.tagHeader = http.CanonicalHeaderKey(name)
		return nil
	}}
}
