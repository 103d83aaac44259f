package redisstore_test

import (
	"log"
	"time"

	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/redis/go-redis/v9"
)

// Sessions and revocations shared by every replica: the authentication
// service reads sessions from Redis, each gateway drops the passports a
// revocation made on any replica covers. Compile-only: it needs a live
// Redis (or Cluster: list several addresses; Sentinel: set MasterName).
func Example() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:                 []string{"127.0.0.1:6379"},
		DialTimeout:           time.Second,
		ReadTimeout:           time.Second,
		WriteTimeout:          time.Second,
		PoolSize:              32,
		ContextTimeoutEnabled: true,
	})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.WithRetention(passport.DefaultRetention))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	var gw *passport.Gateway // passport.NewGateway(...) in a real service
	if gw != nil {
		cancel := gw.Watch(store) // All after a reconnect purges its cache; a stale notice path stops it trusting its cache
		defer cancel()
	}
	_ = passport.Store(store) // passport.NewAuthService(store, issuer, dir)
}
