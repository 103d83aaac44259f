package reference

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds of the examples' Redis clients (NewRedisClient): no operation waits
// on an unreachable Redis longer than RedisTimeout, and an outage cannot
// pile up more than RedisPoolSize connections per process.
const (
	RedisTimeout     = time.Second     // dial, each read, each write
	RedisPoolSize    = 32              // connections per node
	RedisPoolTimeout = 2 * time.Second // wait for a free connection
)

// NewRedisClient returns a client of the Redis at addrs, the value of the
// -redis flag of the single-service mains: one address is a single node,
// several are seed nodes of a Redis Cluster; service names the caller in
// the log. Every dial, read and write is bounded by RedisTimeout, and a
// request's context deadline is honoured (ContextTimeoutEnabled). The
// client is made even when Redis is down: it is pinged once and a failure
// is only logged, since go-redis reconnects by itself and each Redis
// package (redisstore, redisnotice) recovers when Redis is back. It is an
// error to pass no address.
func NewRedisClient(service string, addrs []string) (redis.UniversalClient, error) {
	if len(addrs) == 0 {
		return nil, errors.New("reference: redis: no address")
	}
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 addrs,
		DialTimeout:           RedisTimeout,
		ReadTimeout:           RedisTimeout,
		WriteTimeout:          RedisTimeout,
		PoolSize:              RedisPoolSize,
		PoolTimeout:           RedisPoolTimeout,
		ContextTimeoutEnabled: true,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*RedisTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		slog.Warn("redis not reachable yet; serving anyway, it reconnects by itself", "service", service, "addrs", addrs, "err", err)
	} else {
		slog.Info("redis", "service", service, "addrs", addrs, "cluster", len(addrs) > 1)
	}
	return client, nil
}
