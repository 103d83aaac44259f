// Package redisnotice carries directory-change notices between replicas
// through Redis pub/sub: when a company moves to another zone, Publish
// tells every process, and each drops the company from its
// zone.CachingDirectory at once instead of serving the old zone until the
// cache TTL.
//
//	notices, err := redisnotice.New(client) // a redis.UniversalClient
//	...
//	defer notices.Close()
//	cancel := notices.Watch(cache) // cache is a *zone.CachingDirectory
//	defer cancel()
//	...
//	err = notices.Publish(ctx, "42") // after the directory moved company 42
//
// The same channel carries purges of the response caches (zone/cache):
// PublishPurge(ctx, zone.Purge{Company: "42"}) drops company 42's stored
// responses on every replica whose cache is subscribed with WatchPurges,
// and a replica cut off from the notices longer than the bound serves
// nothing stored.
//
// Pub/sub is fire-and-forget: a process that was disconnected cannot know
// which notices it missed, so whenever its subscription is (re)established
// every watched cache is emptied (InvalidateAll) and refills from the
// directory. The channel (default "cellgate:directory") is one key-less
// channel; on Cluster, PUBLISH reaches subscribers on every node.
//
// Bounded staleness: the subscription connection is pinged every quarter
// of WithNoticeBound (one second by default); each pong proves that every
// notice published before its ping has been applied (NoticesFresh). Watch
// makes the cache trust its zones only while that proof is younger than the
// bound (zone.CachingDirectory.RequireNotices): cut off from the notices,
// it asks the directory on every lookup of a cached company, so a move
// reaches every replica's decisions within the bound; the cached zone
// stands in only while the directory itself fails (WithStaleIfError).
//
// Signed notices: without a key, anyone who can PUBLISH on the Redis is
// trusted (a bare company id, as redis-cli PUBLISH cellgate:directory 42
// sends). With WithNoticeKey, Publish seals each notice as redisstore does
// (cgn1.<MAC>.<at>.<nonce>.<company>, HMAC-SHA256 over the channel, time,
// nonce and company), and unsigned, forged, too old or replayed notices are
// dropped and counted (NoticeStats).
package redisnotice
