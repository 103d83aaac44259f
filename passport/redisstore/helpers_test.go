package redisstore_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/passport"
	"github.com/cellgate/cellgate/passport/redisstore"
	"github.com/redis/go-redis/v9"
)

// clientOptions are the timeouts the package documentation recommends.
func clientOptions(addrs ...string) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs:                 addrs,
		DialTimeout:           200 * time.Millisecond,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		PoolSize:              16,
		PoolTimeout:           500 * time.Millisecond,
		ContextTimeoutEnabled: true,
		MaxRetries:            1,
	}
}

// newClient returns a client of the single node s, closed when t ends.
func newClient(t testing.TB, s interface{ Addr() string }) redis.UniversalClient {
	c := redis.NewClient(clientOptions(s.Addr()).Simple())
	t.Cleanup(func() { c.Close() })
	return c
}

// newClusterClient returns a Cluster client of c, closed when t ends.
func newClusterClient(t testing.TB, c *redistest.Cluster) *redis.ClusterClient {
	o := clientOptions(c.Addrs()...).Cluster()
	o.MaxRedirects = 8
	cc := redis.NewClusterClient(o)
	t.Cleanup(func() { cc.Close() })
	return cc
}

// newPatientClusterClient is newClusterClient with a read timeout long
// enough for a generous WAIT (WithWaitReplicas below 3s): on a loaded
// machine a replica may take a while to acknowledge, and a test that is
// not about a lagging replica must not fail for it.
func newPatientClusterClient(t testing.TB, c *redistest.Cluster) *redis.ClusterClient {
	o := clientOptions(c.Addrs()...).Cluster()
	o.MaxRedirects = 8
	o.DialTimeout = testwait.Scale(2 * time.Second)
	o.ReadTimeout = testwait.Scale(5 * time.Second)
	o.WriteTimeout = testwait.Scale(5 * time.Second)
	o.PoolTimeout = testwait.Scale(5 * time.Second)
	cc := redis.NewClusterClient(o)
	t.Cleanup(func() { cc.Close() })
	return cc
}

// patient are the store options of tests on replicated Redis that are not
// about a lagging replica: a replica on a loaded machine has two seconds
// to acknowledge a write, and an operation ten (both scaled, testwait).
func patient() []redisstore.StoreOption {
	return []redisstore.StoreOption{redisstore.WithWaitReplicas(1, testwait.Scale(2*time.Second)), redisstore.WithTimeout(testwait.Scale(10 * time.Second))}
}

// newStore returns a Store on client with a prefix of its own, closed
// when t ends.
func newStore(t testing.TB, client redis.UniversalClient, opts ...redisstore.StoreOption) *redisstore.Store {
	t.Helper()
	opts = append([]redisstore.StoreOption{redisstore.WithKeyPrefix("t:" + passport.NewSessionID() + ":")}, opts...)
	st, err := redisstore.New(client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// quiet drops go-redis's own log lines (dial failures during the outage
// tests are expected).
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}
