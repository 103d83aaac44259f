package zone

import (
	"context"
	"errors"
	"time"
)

// The results a DirectoryObserver is told of, one per Lookup of a
// CachingDirectory.
const (
	LookupHit         = "hit"          // a fresh zone from the cache
	LookupNegativeHit = "negative_hit" // a fresh "unknown company" from the cache
	LookupMiss        = "miss"         // answered by the upstream directory (a zone or unknown)
	LookupStale       = "stale"        // a stale zone, while revalidating or because the directory failed
	LookupError       = "error"        // the directory failed and nothing stale could stand in
)

// DirectoryObserver is told what a CachingDirectory does, for metrics. Its
// methods take only standard types, so a package that may not import zone
// implements it: tracing.Instruments does, with OpenTelemetry instruments,
// because zone itself imports no OpenTelemetry (see DESIGN.md). Methods are
// called on the request path and must be fast and not block.
type DirectoryObserver interface {
	// DirectoryLookup is told the result of one Lookup: LookupHit,
	// LookupNegativeHit, LookupMiss, LookupStale or LookupError.
	DirectoryLookup(ctx context.Context, result string)
	// DirectoryCall is told how long one call of the upstream directory
	// took and whether it failed (an unknown company is no failure).
	DirectoryCall(ctx context.Context, d time.Duration, failed bool)
}

// WithDirectoryObserver makes a CachingDirectory tell o about every lookup
// and every upstream call (NewCachingDirectory). The default (or nil) is no
// observer; then observing costs one comparison with nil.
func WithDirectoryObserver(o DirectoryObserver) CacheOption {
	return cacheOpt{"WithDirectoryObserver", func(c *config) error { c.observer = o; return nil }}
}

// Len returns how many companies the cache holds, known and unknown, for
// an entries gauge (tracing.Instruments.ObserveDirectoryEntries).
func (c *CachingDirectory) Len() int { return c.zones.Len() + c.unknown.Len() }

func (c *CachingDirectory) observe(ctx context.Context, result string) {
	if c.obs != nil {
		c.obs.DirectoryLookup(ctx, result)
	}
}

// observeFetch tells the observer how a lookup that waited for the
// upstream directory ended.
func (c *CachingDirectory) observeFetch(ctx context.Context, err error) {
	if c.obs == nil {
		return
	}
	if err != nil && !errors.Is(err, ErrUnknownCompany) {
		c.obs.DirectoryLookup(ctx, LookupError)
		return
	}
	c.obs.DirectoryLookup(ctx, LookupMiss)
}

// lookupUpstream is fetch, observed.
func (c *CachingDirectory) lookupUpstream(ctx context.Context, company string) (Zone, error) {
	z, err := c.fetch(ctx, company)
	c.observeFetch(ctx, err)
	return z, err
}

func (c *CachingDirectory) observeCall(ctx context.Context, start time.Time, err error) {
	if c.obs != nil {
		c.obs.DirectoryCall(ctx, c.now().Sub(start), err != nil && !errors.Is(err, ErrUnknownCompany))
	}
}
