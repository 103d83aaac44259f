package redisnotice_test

import (
	"context"
	"log"
	"time"

	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/redisnotice"
	"github.com/redis/go-redis/v9"
)

// Every replica watches its caching directory; whoever moves a company
// publishes. Compile-only: it needs a live Redis.
func Example() {
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}, DialTimeout: time.Second})
	defer client.Close()
	notices, err := redisnotice.New(client)
	if err != nil {
		log.Fatal(err)
	}
	defer notices.Close()

	dir, err := zone.NewStaticDirectory(map[string]zone.Zone{"42": {Name: "us01", WebBaseURL: "https://us01.example.com"}})
	if err != nil {
		log.Fatal(err)
	}
	cache, err := zone.NewCachingDirectory(dir)
	if err != nil {
		log.Fatal(err)
	}
	cancel := notices.Watch(cache)
	defer cancel()

	// After the directory moved company 42 to another zone:
	if err := notices.Publish(context.Background(), "42"); err != nil {
		log.Print(err) // caches elsewhere refresh at their TTL
	}
}
