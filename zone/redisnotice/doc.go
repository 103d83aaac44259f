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
// Pub/sub is fire-and-forget: a process that was disconnected cannot know
// which notices it missed, so whenever its subscription is (re)established
// every watched cache is emptied (InvalidateAll) and refills from the
// directory. The channel (default "cellgate:directory") is one key-less
// channel; on Cluster, PUBLISH reaches subscribers on every node.
package redisnotice
