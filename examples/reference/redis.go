package reference

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/cellgate/cellgate/zone/redisnotice"
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

// RedisStoreOptions returns the redisstore options of a service that
// writes sessions and revocations to the Redis at addrs (the -redis and
// -redis-replicas flags of sessionstorage): each write waits until
// replicas replicas of its master have it (redisstore.WithWaitReplicas,
// within half of RedisTimeout) and fails otherwise, so a revocation
// answered with 204 survives the loss of any one Redis node. A negative
// replicas means one with a Cluster (several addresses) and none with a
// single node, which has no replica to fail over to; zero waits for none.
func RedisStoreOptions(addrs []string, replicas int) []redisstore.StoreOption {
	if replicas < 0 {
		replicas = 0
		if len(addrs) > 1 {
			replicas = 1
		}
	}
	if replicas == 0 {
		return []redisstore.StoreOption{redisstore.WithNoWaitReplicas()}
	}
	return []redisstore.StoreOption{redisstore.WithWaitReplicas(replicas, RedisTimeout/2)}
}

// NoticesKeyName is the purpose of the optional key that signs the
// revocation and directory-change notices on Redis: the file notices.key of
// the key directory, or CELLGATE_NOTICES_KEY.
const NoticesKeyName = "notices"

// NoticeKey returns the notices key of dir when one is set (KeyEnv, else
// KeyFile), or nil. Unlike the other keys it is not generated when
// missing: with it, every service on the Redis signs its notices and drops
// unsigned, forged and replayed ones (redisstore.WithNoticeKey,
// redisnotice.WithNoticeKey), so a bare redis-cli PUBLISH of a directory
// notice no longer works. Without it, whoever can publish on the Redis is
// trusted.
func NoticeKey(dir string) ([]byte, error) {
	if os.Getenv(KeyEnv(NoticesKeyName)) == "" {
		if _, err := os.Stat(KeyFile(dir, NoticesKeyName)); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return LoadKey(dir, NoticesKeyName)
}

// StoreNoticeOptions returns the redisstore options for the notices key
// (NoticeKey): none when key is nil.
func StoreNoticeOptions(key []byte) []redisstore.StoreOption {
	if key == nil {
		return nil
	}
	return []redisstore.StoreOption{redisstore.WithNoticeKey(key, 0)}
}

// DirectoryNoticeOptions returns the redisnotice options for the notices
// key (NoticeKey): none when key is nil.
func DirectoryNoticeOptions(key []byte) []redisnotice.Option {
	if key == nil {
		return nil
	}
	return []redisnotice.Option{redisnotice.WithNoticeKey(key, 0)}
}
