package redisrate_test

import (
	"log"
	"net/http"

	"github.com/cellgate/cellgate/zone/ratelimit/redisrate"
	"github.com/redis/go-redis/v9"
)

// Fifty requests a second in bursts of a hundred per company (shared by
// its sessions; anonymous clients per address, IPv6 per /64), for all
// replicas together. Compile-only: it needs a live Redis.
func Example() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
	defer client.Close()
	limit, err := redisrate.New(client, 50, 100)
	if err != nil {
		log.Fatal(err)
	}
	_ = limit(http.NotFoundHandler()) // edge.Chain(detect, gw.Middleware, limit)(cell)
}
