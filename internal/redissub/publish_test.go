package redissub

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/redis/go-redis/v9"
)

// A client with go-redis's defaults (ContextTimeoutEnabled off: a 3s read
// timeout on the socket, whatever the context) publishing to a server that
// stopped answering: Publish returns on its own timeout, not the client's.
func TestPublishBoundedWhateverTheClient(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewProxy(t, srv.Addr())
	c := redis.NewClient(&redis.Options{Addr: proxy.Addr(), PoolSize: 1})
	t.Cleanup(func() { c.Close() })
	if err := Publish(context.Background(), c, "ch", "m", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	proxy.Freeze() // the pooled connection: nothing comes back
	start := time.Now()
	err := Publish(context.Background(), c, "ch", "m", 100*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish to a hung server: %v, want context.DeadlineExceeded", err)
	}
	t.Logf("Publish to a hung server returned in %v (the client alone waits its 3s read timeout)", time.Since(start))
}
