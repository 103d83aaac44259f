package zone

import (
	"context"
	"errors"
)

// NoticeHealth is implemented by a source of directory-change notices that
// crosses processes and can be cut off (zone/redisnotice.Notices): it says
// whether its notice path is proven alive.
type NoticeHealth interface {
	// NoticesFresh reports whether every notice published more than the
	// source's bound ago (redisnotice: WithNoticeBound, one second by
	// default) has been applied. It must be fast: a CachingDirectory asks
	// on every lookup of a cached zone.
	NoticesFresh() bool
}

// RequireNotices makes the cache trust its zones only while h reports its
// notices fresh, until cancel is called (redisnotice.Notices.Watch calls
// it). While they are not, a cached company may have moved without the
// cache hearing of it, so each lookup of a cached zone asks the directory
// (concurrent lookups of one company share one call) and serves its
// answer; only when the directory fails is the cached zone served, while
// younger than WithStaleIfError, as during any directory outage. Unknown
// companies stay cached for WithNegativeTTL: a notice never makes a known
// company unknown anywhere it matters, and the negative cache shields the
// directory from scans. RequireNotices may be called for several sources;
// the cache is trusted only while all of them are fresh.
func (c *CachingDirectory) RequireNotices(h NoticeHealth) (cancel func()) {
	return c.health.Require(h)
}

// noticesFresh reports whether every notice source the cache requires is
// fresh.
func (c *CachingDirectory) noticesFresh() bool { return c.health.Fresh() }

// revalidate answers a lookup of company, cached as e, while notices may
// have been missed: the directory's answer, or e while the directory
// fails and e is younger than WithStaleIfError.
func (c *CachingDirectory) revalidate(ctx context.Context, company string, e cached) (Zone, error) {
	z, err := c.fetch(ctx, company)
	if err != nil && !errors.Is(err, ErrUnknownCompany) && c.now().Sub(e.fetched) < c.maxStale {
		c.stale.Add(1)
		c.observe(ctx, LookupStale)
		return e.zone, nil
	}
	c.observeFetch(ctx, err)
	return z, err
}
