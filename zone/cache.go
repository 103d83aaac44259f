package zone

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/cellgate/cellgate/internal/noticeset"
)

// CachingDirectory is a Directory in front of another one, for the hot
// path of every request:
//
//   - Bounded: zones in an LRU (WithCacheSize), unknown companies in a
//     second, smaller one (WithNegativeCacheSize) with a shorter TTL
//     (WithNegativeTTL), so a scan of random ids cannot evict real entries.
//   - Collapsed: concurrent misses for one company make one upstream call.
//     A waiter whose context ends returns at once; the shared call goes on
//     under its own timeout (WithLookupTimeout).
//   - Stale-while-revalidate: for WithStaleWhileRevalidate after the TTL
//     (WithTTL), the old zone is served and one background call refreshes it.
//   - Stale-if-error: past TTL and stale-while-revalidate, a zone younger
//     than WithStaleIfError is served at once while one background call
//     refreshes it, so a hung directory delays no request that has a stale
//     answer. After a failed refresh the next one waits WithRetryBackoff.
//
// Expiry is checked against the clock of WithClock. Invalidate drops a
// company on a directory-change notice; RequireNotices stops trusting the
// cache while those notices may be missed; Stats reads the counters.
type CachingDirectory struct {
	dir                                 Directory
	now                                 func() time.Time
	ttl, swr, maxStale, negTTL, timeout time.Duration

	zones   *lru.Cache[string, cached]
	unknown *lru.Cache[string, time.Time] // company → end of its negative entry
	group   singleflight.Group
	gen     atomic.Uint64 // bumped by Invalidate: a call started before must not store
	busy    sync.Map      // companies with a background refresh under way
	failed  sync.Map      // company → when its last background refresh failed
	backoff time.Duration
	wg      sync.WaitGroup

	hits, misses, stale, errs, refreshes atomic.Uint64
	obs                                  DirectoryObserver // nil: none

	health noticeset.Set // notice sources the cache relies on; read lock-free per lookup
}

// cached is one zone and when the directory said so.
type cached struct {
	zone    Zone
	fetched time.Time
}

// CacheStats are the counters of a CachingDirectory since it was made.
type CacheStats struct {
	Hits        uint64 // answered from a fresh entry, positive or negative
	Misses      uint64 // lookups that waited for the upstream directory
	StaleServed uint64 // stale zones served, while revalidating or on error
	Errors      uint64 // upstream calls that failed (an unknown company is no failure)
	Refreshes   uint64 // background refreshes started
}

// NewCachingDirectory returns a cache in front of dir, configured by the
// CacheOption values: WithTTL, WithStaleWhileRevalidate, WithStaleIfError,
// WithNegativeTTL, WithCacheSize, WithNegativeCacheSize, WithLookupTimeout,
// WithRetryBackoff, WithClock, WithDirectoryObserver and their Without
// forms.
func NewCachingDirectory(dir Directory, opts ...CacheOption) (*CachingDirectory, error) {
	c, err := newConfig("NewCachingDirectory", opts, CacheOption.cacheOption)
	if err != nil {
		return nil, err
	}
	if dir == nil {
		return nil, errors.New("zone: caching directory: nil directory")
	}
	zones, err := lru.New[string, cached](c.size)
	if err != nil {
		return nil, fmt.Errorf("zone: caching directory: cache size %d: %w", c.size, err)
	}
	unknown, err := lru.New[string, time.Time](c.negSize)
	if err != nil {
		return nil, fmt.Errorf("zone: caching directory: negative cache size %d: %w", c.negSize, err)
	}
	return &CachingDirectory{
		dir: dir, now: c.now,
		ttl: c.ttl, swr: c.swr, maxStale: c.maxStale, negTTL: c.negTTL, timeout: c.lookupTimeout,
		zones: zones, unknown: unknown, backoff: c.retryBackoff, obs: c.observer,
	}, nil
}

// Lookup implements Directory.
func (c *CachingDirectory) Lookup(ctx context.Context, company string) (Zone, error) {
	now := c.now()
	if e, ok := c.zones.Get(company); ok {
		if !c.noticesFresh() {
			return c.revalidate(ctx, company, e)
		}
		age := now.Sub(e.fetched)
		switch {
		case age < c.ttl:
			c.hits.Add(1)
			c.observe(ctx, LookupHit)
			return e.zone, nil
		case age < c.ttl+c.swr, age < c.maxStale:
			c.stale.Add(1)
			c.observe(ctx, LookupStale)
			c.refresh(ctx, company)
			return e.zone, nil
		}
		z, err := c.fetch(ctx, company)
		c.observeFetch(ctx, err)
		return z, err
	}
	if until, ok := c.unknown.Get(company); ok && now.Before(until) {
		c.hits.Add(1)
		c.observe(ctx, LookupNegativeHit)
		return Zone{}, unknownCompany(company)
	}
	return c.lookupUpstream(ctx, company)
}

// Invalidate forgets what the cache knows of company, for a directory-change
// notice. A lookup already under way will not store its answer.
func (c *CachingDirectory) Invalidate(company string) {
	c.gen.Add(1)
	c.group.Forget(company)
	c.zones.Remove(company)
	c.unknown.Remove(company)
}

// InvalidateAll forgets every company, for when directory-change notices
// may have been missed (their channel reconnected).
func (c *CachingDirectory) InvalidateAll() {
	c.gen.Add(1)
	c.zones.Purge()
	c.unknown.Purge()
}

// Stats returns the counters so far.
func (c *CachingDirectory) Stats() CacheStats {
	return CacheStats{
		Hits:        c.hits.Load(),
		Misses:      c.misses.Load(),
		StaleServed: c.stale.Load(),
		Errors:      c.errs.Load(),
		Refreshes:   c.refreshes.Load(),
	}
}

// fetch waits for the one shared upstream call for company, or for ctx.
func (c *CachingDirectory) fetch(ctx context.Context, company string) (Zone, error) {
	ch := c.group.DoChan(company, func() (any, error) { return c.load(ctx, company) })
	// Counted once the lookup waits on the call, so that Misses reaching n
	// means n lookups share calls under way (a test can rely on it).
	c.misses.Add(1)
	select {
	case res := <-ch:
		z, _ := res.Val.(Zone)
		return z, res.Err
	case <-ctx.Done():
		return Zone{}, context.Cause(ctx)
	}
}

// refresh starts one background revalidation of company, unless one runs
// or the last one failed less than the retry back-off ago.
func (c *CachingDirectory) refresh(ctx context.Context, company string) {
	if at, ok := c.failed.Load(company); ok && c.now().Sub(at.(time.Time)) < c.backoff {
		return
	}
	if _, running := c.busy.LoadOrStore(company, struct{}{}); running {
		return
	}
	c.refreshes.Add(1)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.busy.Delete(company)
		_, err, _ := c.group.Do(company, func() (any, error) { return c.load(ctx, company) })
		if err != nil && !errors.Is(err, ErrUnknownCompany) {
			c.failed.Store(company, c.now())
		} else {
			c.failed.Delete(company)
		}
	}()
}

// load makes the upstream call on a context of its own, so no caller's
// cancellation reaches it, and stores the answer.
func (c *CachingDirectory) load(ctx context.Context, company string) (z Zone, err error) {
	// A call that finished just before this one was started may have
	// stored the answer already.
	if e, ok := c.zones.Peek(company); ok && c.now().Sub(e.fetched) < c.ttl && c.noticesFresh() {
		return e.zone, nil
	}
	gen := c.gen.Load()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil { // a broken Directory must not take the process down
			z, err = Zone{}, fmt.Errorf("zone: directory lookup %s: panic: %v", company, v)
			c.errs.Add(1)
		}
	}()
	start := c.now()
	z, err = c.dir.Lookup(ctx, company)
	c.observeCall(ctx, start, err)
	unknown := errors.Is(err, ErrUnknownCompany)
	if err != nil && !unknown {
		c.errs.Add(1)
		return Zone{}, err
	}
	if c.gen.Load() != gen {
		return z, err // invalidated meanwhile: answer, but do not remember
	}
	now := c.now()
	if unknown {
		c.zones.Remove(company)
		c.unknown.Add(company, now.Add(c.negTTL))
		return Zone{}, err
	}
	c.unknown.Remove(company)
	c.zones.Add(company, cached{zone: z, fetched: now})
	return z, nil
}

func unknownCompany(company string) error {
	return fmt.Errorf("zone: company %s: %w", company, ErrUnknownCompany)
}
