package redisrate_test

import (
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"net/http"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/zone/ratelimit/redisrate"
	"github.com/redis/go-redis/v9"
)

// A hung Redis (SIGSTOP: connections open, nothing answered) with a client
// left at go-redis's defaults (no ContextTimeoutEnabled: the socket waits
// out ReadTimeout, 5 s, whatever the context says). Each decision still
// ends within WithTimeout and fails open, so a hung limiter costs a request
// the timeout, not the client's read timeout. The bound asserted (2.5 s)
// is far above the 100 ms timeout, so only a hang fails it, and clearly
// below the 5 s a decision took before it was bounded.
func TestHungRedisBoundedByTimeout(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()}) // defaults, on purpose
	t.Cleanup(func() { client.Close() })
	limit, err := redisrate.New(client, 100, 100, redisrate.WithKeyPrefix("t:hung:"), redisrate.WithTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h := limit(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	decided(t, h, "before the hang") // a loaded machine may miss the first 100ms
	srv.Pause()
	for i := range 3 {
		start := time.Now()
		w := as(h, "session:a")
		took := time.Since(start)
		t.Logf("decision %d with Redis hung: %v", i+1, took)
		if took > 2500*time.Millisecond {
			t.Fatalf("decision %d took %v with Redis hung, want about the 100ms timeout", i+1, took)
		}
		if w.Code != http.StatusOK || w.Header().Get("RateLimit") != "" {
			t.Fatalf("decision %d with Redis hung: %d %v, want it let through without RateLimit headers", i+1, w.Code, w.Header())
		}
	}
	srv.Resume()
	decided(t, h, "after Redis resumed")
}

// decided polls h until the limiter makes a decision (RateLimit headers),
// failing t after a deadline that only catches a hang.
func decided(t *testing.T, h http.Handler, when string) {
	t.Helper()
	testwait.Until(t, 20*time.Second, "a decision made "+when, func() bool {
		return as(h, "session:b").Header().Get("RateLimit") != ""
	})
}
