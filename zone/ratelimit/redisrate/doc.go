// Package redisrate limits requests across replicas: the rate limit of
// package ratelimit, with the same middleware shape, key
// (ratelimit.DefaultKey: the company, whose sessions share its budget, or
// an anonymous client's address prefix), headers and 429 rate_limited,
// but one budget per key shared by every process through
// Redis (single node, Sentinel or Cluster). Each decision is one Lua
// script on one key (GCRA: the key holds the theoretical arrival time of
// the next request), timed by the Redis server's clock so replicas with
// skewed clocks agree.
//
//	limit, err := redisrate.New(client, 50, 100) // 50 requests/s, bursts of 100, for every replica together
//	handler := edge.Chain(detect, gw.Middleware, limit)(cell) // detect from zone.DetectCompany()
//
// When Redis cannot answer within WithTimeout (default 100ms), the request
// is let through without RateLimit headers (fail open): a limiter outage
// must not take the edge down. The timeout bounds every decision whatever
// the client's settings, also on a hung Redis with a client that lacks
// ContextTimeoutEnabled (which alone would wait out its 5 s ReadTimeout):
// a hung limiter costs each request at most the timeout. Keys in Redis are
// "cellgate:rl:" (WithKeyPrefix) and a hash of the limiter key, so no
// company or principal is stored in the clear.
package redisrate
