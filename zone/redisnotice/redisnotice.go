package redisnotice

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

	mu     sync.Mutex
	next   int
	caches map[int]*zone.CachingDirectory
	sub    *redissub.Subscriber // listening since the first Watch
	closed bool
}

// Defaults, each overridable by the option named beside it.
const (
	DefaultChannel      = "cellgate:directory" // WithChannel
	DefaultPingInterval = 5 * time.Second      // WithPingInterval
)

// New returns Notices on client (single node, Sentinel or Cluster). The
// client stays the caller's: Close does not close it. Options:
// WithChannel, WithPingInterval.
func New(client redis.UniversalClient, opts ...Option) (*Notices, error) {
	if client == nil {
		return nil, errors.New("redisnotice: nil client")
	}
	c := &config{channel: DefaultChannel, ping: DefaultPingInterval}
	if err := optcheck.ApplyAll(c, "redisnotice", "New", opts, Option.parts); err != nil {
		return nil, err
	}
	return &Notices{c: client, channel: c.channel, ping: c.ping, caches: make(map[int]*zone.CachingDirectory)}, nil
}

// Publish tells every process that company's zone changed. The caches
// this Notices watches drop it at once.
func (n *Notices) Publish(ctx context.Context, company string) error {
	if company == "" {
		return errors.New("redisnotice: publish: empty company")
	}
	n.each(func(c *zone.CachingDirectory) { c.Invalidate(company) })
	if err := n.c.Publish(ctx, n.channel, company).Err(); err != nil {
		return fmt.Errorf("redisnotice: publish %s: %w", company, err)
	}
	return nil
}

// Watch applies every notice to cache until cancel is called. The first
// Watch starts the one goroutine that listens; Close stops it.
func (n *Notices) Watch(cache *zone.CachingDirectory) (cancel func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	id := n.next
	n.next++
	n.caches[id] = cache
	if n.sub == nil && !n.closed {
		// Every (re)subscription empties the caches: notices may have
		// been missed meanwhile.
		n.sub = redissub.Start(n.c, n.channel, n.ping, redissub.Handler{
			Subscribed: func() { n.each((*zone.CachingDirectory).InvalidateAll) },
			Message: func(company string) {
				if company != "" {
					n.each(func(c *zone.CachingDirectory) { c.Invalidate(company) })
				}
			},
		})
	}
	return func() {
		n.mu.Lock()
		delete(n.caches, id)
		n.mu.Unlock()
	}
}

// Close stops listening. It does not close the client.
func (n *Notices) Close() error {
	n.mu.Lock()
	n.closed = true
	sub := n.sub
	n.mu.Unlock()
	if sub != nil {
		sub.Close()
	}
	return nil
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

// Option configures New, the one constructor of this package, which reads
// every option. An invalid value, or the zero Option, is an error from New
// naming the option (for example "redisnotice: New: WithChannel: empty
// channel"), never silently ignored.
type Option struct {
	name  string
	apply func(*config) error
}

// Name returns the option's name, such as "WithChannel".
func (o Option) Name() string { return o.name }

func (o Option) parts() (string, func(*config) error) { return o.name, o.apply }

type config struct {
	channel string
	ping    time.Duration
}

// WithChannel sets the pub/sub channel (default "cellgate:directory").
// Every process that must see a notice uses the same channel. The empty
// channel is an error.
func WithChannel(channel string) Option {
	return Option{"WithChannel", func(c *config) error {
		if channel == "" {
			return errors.New("empty channel")
		}
		c.channel = channel
		return nil
	}}
}

// WithPingInterval sets how long the notice connection may stay idle
// before it is pinged (default five seconds), so a dead connection is
// found and replaced. Zero or less is an error.
func WithPingInterval(d time.Duration) Option {
	return Option{"WithPingInterval", optcheck.Set(d, optcheck.Positive, func(c *config, d time.Duration) { c.ping = d })}
}
