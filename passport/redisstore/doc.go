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
//	cancel := gw.Watch(store) // revocations from every replica, within a second even under partition
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
//	cellgate:revocations          pub/sub channel of revocation notices (JSON; sealed with WithNoticeKey)
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
//     user, or one of its companies), keeping its TTL, and (see Failover)
//     waits for a replica to have the mark.
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
// Bounded staleness: the subscriber pings its subscription connection every
// quarter of WithNoticeBound (one second by default), whatever its traffic.
// Redis answers a PING on a subscribed connection on that same connection,
// after every message published before it, so each pong proves that every
// revocation published before its ping has been delivered; NoticesFresh
// (passport.NoticeHealth) reports whether that proof is younger than the
// bound. A passport.Gateway that watches the Store (Gateway.Watch) trusts
// its cache only while it is: a replica cut off from Redis, or behind a
// black-holed connection that still looks open, asks the authentication
// service for every request once the bound has passed (and refuses when
// that fails), so a revocation acknowledged on any replica is refused on
// every replica within the bound plus one authentication call. The ping
// is chosen over a heartbeat published by every Store: it proves the very
// connection the notices come through, costs one round trip per replica
// instead of a publish fanned out to every subscriber, and needs no list
// of who should be publishing (a missing heartbeat cannot tell a dead
// publisher from a dead path). On Cluster it proves the path from the node
// the subscription reads; notices published on other nodes reach it over
// the cluster bus.
//
// Signed notices: anyone who can PUBLISH on the Redis can send a notice.
// Without a key a Store trusts them (the trust boundary is the Redis
// itself): a forged company revocation drops every gateway's cache, so
// each session mints once more (a received All is always dropped: no Store
// publishes one). With WithNoticeKey every notice is sealed as
//
//	cgn1.<MAC>.<at>.<nonce>.<notice JSON>
//
// where MAC is the unpadded base64url HMAC-SHA256, under the shared key, of
// "cellgate notice v1", the channel, at (Unix ns), the nonce (16 random
// bytes, hex) and the JSON, each followed by a zero byte but the last.
// Receivers compare MACs in constant time and drop, and count
// (NoticeStats), unsigned notices, bad MACs, and notices stamped more than
// the key's maxAge (five minutes by default) from their clock or seen
// before (a captured notice replayed). maxAge must outlast the gateways'
// cache TTL plus clock skew: a genuine notice older than that is dropped,
// which is harmless only once every passport it could concern has left the
// caches.
//
// # Outages
//
// When Redis is down or hung, every operation fails within WithTimeout
// (default one second), whatever the client's timeouts and even without
// ContextTimeoutEnabled; the authentication service answers 503
// session_store_unavailable with Retry-After, which a gateway passes on to
// the client as it is (fail closed: an outage never signs a user out).
// Gateways that watch the Store (Gateway.Watch) serve the passports they
// have cached for at most WithNoticeBound, then refuse like the
// authentication service (nobody can be told of a revocation meanwhile);
// gateways merely subscribed (Subscribe) keep serving them until those
// expire. Nothing queues: the pool
// is the client's (PoolSize, PoolTimeout) and each operation has a
// deadline. When Redis is back, operations succeed again (within about a
// second: after PoolSize failed dials, go-redis fails fast and probes the
// server once a second) and the notice subscription reconnects by itself
// and purges (All).
//
// # Failover
//
// Redis replication is asynchronous: a master that dies takes with it the
// writes its replicas had not received, and a revocation lost so is a
// revoked session that works again once a replica takes over. So every
// write the Store acknowledges (Put, and every revocation: Revoke,
// RevokeUser, RevokeCompany) first waits (Redis WAIT, on the connection
// that wrote, for at most WithWaitReplicas' timeout) until a replica of
// its master has it, and fails with ErrNotReplicated if none did. The
// caller is told the revocation failed (the session storage API answers
// 503 session_store_unavailable, and the caller retries) rather than that
// it happened; it is announced all the same, since the master has the
// mark and caches had better drop what it covers at once. This is the
// default with a Cluster or Sentinel client: one replica, within
// DefaultWaitTimeout (500ms, at most half of WithTimeout and of the
// client's ReadTimeout). A single node, with no replica to fail over to,
// does not wait.
//
// The guarantee: a revocation acknowledged survives the loss of any one
// Redis node (a master killed, its replica promoted), whenever the replica
// promoted is one that had acknowledged it: always with one replica per
// master (the reference 3+3 Cluster, a Sentinel pair) or when waiting for
// every replica; with more replicas than it waits for, a Cluster promotes
// the replica with most of the master's writes first, which has it unless
// that one is lost too. Losing a master and the replicas that acknowledged
// together is more than one node, and not covered.
//
// The price: a replication round trip per write, and writes to a master
// with no replica in step fail, so a replica lagging by more than the
// wait fails revocations rather than risking them; with one replica per
// master, writes to the sessions of a master that died fail from its death
// until a replica serves beside its successor (the old master restarted,
// or a new node). Run two replicas per master to keep revoking through the
// loss of a node. WithNoWaitReplicas turns waiting off (a Cluster without
// replicas).
package redisstore
