package cache

import "context"

// The events an Observer is told of.
const (
	// EventCoalesced: a request was answered with another's upstream
	// response instead of its own.
	EventCoalesced = "coalesced"
	// EventReleased: a waiting request could not use the shared response
	// (not shareable with it, Set-Cookie, no-store, Vary) and went upstream
	// on its own.
	EventReleased = "released"
	// EventCutLoose: a waiting request fell further behind than
	// WithFollowerBuffer while another kept up, and fetched on its own.
	EventCutLoose = "cut_loose"
	// EventLeaderReelected: the shared upstream request failed before its
	// first byte and a waiting request sent its own for the others.
	EventLeaderReelected = "leader_reelected"
	// EventHitForMiss: a request went upstream on its own, or shared only
	// with its principal, because its key was recently found not
	// shareable.
	EventHitForMiss = "hit_for_miss"
	// EventHit: the cache answered from a fresh stored response.
	EventHit = "hit"
	// EventMiss: the cache had no usable response and forwarded.
	EventMiss = "miss"
	// EventStale: the cache answered from a stale response, while
	// revalidating (stale-while-revalidate) or because the upstream failed
	// (stale-if-error).
	EventStale = "stale"
	// EventStored: the cache stored a response.
	EventStored = "stored"
	// EventPurged: one stored response was dropped by a purge.
	EventPurged = "purged"
)

// Observer is told of the events of Coalescer and Cache, for metrics. Its
// method takes only standard types, so tracing.Instruments can implement it
// while this package imports no OpenTelemetry. It is called on the request
// path, must be fast and not block, and is never told a key, company,
// principal or path.
type Observer interface {
	// CacheEvent is told one of the Event* constants.
	CacheEvent(ctx context.Context, event string)
}

func (c *config) observe(ctx context.Context, event string) {
	if c.observer != nil {
		c.observer.CacheEvent(ctx, event)
	}
}
