// Package redisstore is a passport.Store on Redis, for many gateway and
// authentication replicas that share sessions and revocations. It takes a
// redis.UniversalClient, so a single node, Sentinel and Cluster all work.
//
//	client := redis.NewUniversalClient(&redis.UniversalOptions{
//		Addrs:                 []string{"redis:6379"}, // several: Cluster; with MasterName: Sentinel
//		DialTimeout:           time.Second,
//		ReadTimeout:           time.Second,
//		WriteTimeout:          time.Second,
//		PoolSize:              32, // bounded: an outage cannot pile connections up
//		ContextTimeoutEnabled: true,
//	})
//	store, err := redisstore.New(client)
//	...
//	defer store.Close()
//	cancel := store.Subscribe(gw.Revoked) // revocations from every replica
//	auth, err := passport.NewAuthService(store, issuer, dir)
//
// It needs Redis 6.2 or later (SET … GET, ZRANGE … BYSCORE LIMIT).
//
// # Keys
//
// With the default prefix "cellgate:":
//
//	cellgate:session:<TokenKey>   hash: d (session JSON), id, u (user), r (revoked, Unix ns); TTL = expiry + retention
//	cellgate:sid:<session id>     string: the TokenKey; same TTL
//	cellgate:user:<user>          sorted set: TokenKeys scored by when each is forgotten (Unix ms)
//	cellgate:company:<company>    sorted set: the same, per company the session may act for
//	cellgate:revocations          pub/sub channel of revocation notices (JSON)
//
// Sessions sit under the same TokenKey (SHA-256 of the token) as in the
// memory store; no token is stored, and errors name session IDs, never keys.
//
// # Cluster
//
// Every command and every Lua script touches exactly one key, so no
// operation can span two hash slots, whichever slots the keys fall in. The
// price is that an operation over several keys is a sequence, not a
// transaction; the order makes it safe:
//
//   - Put writes the index entries (id pointer, user and company sets)
//     first and the session last, so any revocation that begins after the
//     session became readable finds it.
//   - Revoke reads the id pointer, then runs a script on the session that
//     marks it revoked only if it still is the session meant (same id, or
//     user, or one of its companies), keeping its TTL.
//   - RevokeUser and RevokeCompany page through the index set and revoke
//     each session with that script, pipelined (go-redis splits a pipeline
//     by node). A session stored while one runs may escape it, as if it had
//     been stored just after; one stored before it began never does.
//
// Index sets cannot share a slot with every session they list, so they do
// not try: their members carry the expiry of their session as score; each
// Put trims members already forgotten and moves the set's own expiry to its
// last member's. An index never outgrows the live sessions it lists.
//
// # Notices
//
// A revocation is delivered at once to the subscribers of the Store that
// made it and published on the channel to every other Store (one
// connection and one goroutine per Store, started by the first Subscribe).
// Pub/sub is fire-and-forget: after the subscription is re-established
// (Redis restarted, a failover, a network cut) the subscriber cannot know
// what it missed, so subscribers get a passport.Revocation with All set,
// which makes passport.Gateway.Revoked drop its whole cache.
//
// # Outages
//
// When Redis is down, Get fails within WithTimeout (and the client's dial
// and read timeouts); the authentication service answers 503
// session_store_unavailable with Retry-After, which a gateway passes on to
// the client as it is (fail closed: an outage never signs a user out), and
// gateways keep serving the passports they have cached until those expire. Nothing queues: the pool
// is the client's (PoolSize, PoolTimeout) and each operation has a
// deadline. When Redis is back, operations succeed again (within about a
// second: after PoolSize failed dials, go-redis fails fast and probes the
// server once a second) and the notice subscription reconnects by itself
// and purges (All). Redis replication is
// asynchronous: use WithWaitReplicas for sessions that must survive the
// failover of their master.
package redisstore
