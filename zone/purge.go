package zone

// Purge names cached responses to drop (zone/cache.Cache): with Company
// alone, every response of that company; with Tag alone, every response
// the cell tagged so, of any company; with both, the company's responses
// tagged so. A Purge naming neither drops nothing.
type Purge struct {
	Company string
	Tag     string
}

// Purger is a response cache that purges reach (zone/cache.Cache);
// zone/redisnotice carries a purge to every replica's.
type Purger interface {
	// Purge drops what p names and returns how many responses it dropped.
	Purge(p Purge) int
	// PurgeAll drops everything: purges may have been missed.
	PurgeAll()
	// RequireNotices makes the cache serve stored responses only while h
	// reports its notices fresh, until cancel is called.
	RequireNotices(h NoticeHealth) (cancel func())
}
