package redisnotice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/cellgate/cellgate/zone"
	"github.com/redis/go-redis/v9"
)

// Notices publishes directory-change notices and applies those of every
// process to the caches it watches.
type Notices struct {
	c       redis.UniversalClient
	channel string
	ping    time.Duration

	mu      sync.Mutex
	next    int
	caches  map[int]*zone.CachingDirectory
	started bool
	closed  bool
	stop    context.CancelFunc
	ps      *redis.PubSub
	done    chan struct{}
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
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.channel == "" || c.ping <= 0 {
		return nil, errors.New("redisnotice: empty channel or non-positive ping interval")
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
	if !n.started && !n.closed {
		n.started = true
		ctx, stop := context.WithCancel(context.Background())
		n.stop, n.done = stop, make(chan struct{})
		n.ps = n.c.Subscribe(ctx) // no channel yet: connects in listen
		go n.listen(ctx, n.ps)
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
	stop, done, ps := n.stop, n.done, n.ps
	n.mu.Unlock()
	if stop != nil {
		stop()
		_ = ps.Close() // ends a read in progress
		<-done
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

// listen receives notices until ctx ends; each confirmed (re)subscription
// empties every watched cache, since notices may have been missed.
func (n *Notices) listen(ctx context.Context, ps *redis.PubSub) {
	defer close(n.done)
	defer func() { _ = ps.Close() }() // the last one, if renewed
	// On failure the channel is remembered anyway: the next receive
	// connects and subscribes.
	_ = ps.Subscribe(ctx, n.channel)
	backoff := minBackoff
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, n.ping)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if pinged {
					// Not even the pong came back: the connection is
					// dead without knowing it. Start a new one.
					ps = n.renew(ctx, ps)
					pinged = false
					continue
				}
				_ = ps.Ping(ctx) // a failed write makes go-redis reconnect
				pinged = true
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff, pinged = minBackoff, false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				n.each((*zone.CachingDirectory).InvalidateAll)
			}
		case *redis.Message:
			if m.Payload != "" {
				n.each(func(c *zone.CachingDirectory) { c.Invalidate(m.Payload) })
			}
		}
	}
}

// Reconnection backoff of the listener.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	channel string
	ping    time.Duration
}

// WithChannel sets the pub/sub channel (default "cellgate:directory").
// Every process that must see a notice uses the same channel.
func WithChannel(channel string) Option {
	return optionFunc(func(c *config) { c.channel = channel })
}

// WithPingInterval sets how long the notice connection may stay idle
// before it is pinged (default five seconds), so a dead connection is
// found and replaced.
func WithPingInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.ping = d })
}

// renew replaces the subscription connection old with a new one.
func (n *Notices) renew(ctx context.Context, old *redis.PubSub) *redis.PubSub {
	_ = old.Close()
	ps := n.c.Subscribe(ctx)
	n.mu.Lock()
	n.ps = ps
	n.mu.Unlock()
	_ = ps.Subscribe(ctx, n.channel) // as in listen: remembered on failure
	return ps
}
