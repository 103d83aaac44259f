package redisnotice_test

import (
	"context"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/redistest"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/redisnotice"
	"github.com/redis/go-redis/v9"
)

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	os.Exit(m.Run())
}

// movable is a directory whose companies can be moved behind the cache's back.
type movable struct {
	mu    sync.Mutex
	zones map[string]zone.Zone
}

func (d *movable) Lookup(_ context.Context, company string) (zone.Zone, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	z, ok := d.zones[company]
	if !ok {
		return zone.Zone{}, zone.ErrUnknownCompany
	}
	return z, nil
}

func (d *movable) move(company string, z zone.Zone) {
	d.mu.Lock()
	d.zones[company] = z
	d.mu.Unlock()
}

var (
	us01 = zone.Zone{Name: "us01", WebBaseURL: "https://us01.test"}
	us02 = zone.Zone{Name: "us02", WebBaseURL: "https://us02.test"}
)

// replica is one process: its client, notices and cache.
type replica struct {
	notices *redisnotice.Notices
	cache   *zone.CachingDirectory
}

func newReplica(t *testing.T, addr string, dir zone.Directory, opts ...redisnotice.Option) replica {
	client := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, PoolSize: 4})
	t.Cleanup(func() { client.Close() })
	n, err := redisnotice.New(client, append([]redisnotice.Option{redisnotice.WithChannel("test:directory")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	cache, err := zone.NewCachingDirectory(dir, zone.WithTTL(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Watch(cache))
	return replica{n, cache}
}

// lookupUntil polls cache until company is in want, and returns how long that took.
func lookupUntil(t *testing.T, cache *zone.CachingDirectory, company string, want zone.Zone) time.Duration {
	t.Helper()
	start := time.Now()
	for deadline := start.Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if z, err := cache.Lookup(context.Background(), company); err == nil && z == want {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("company %s not in %s within 5s", company, want.Name)
		}
	}
}

func TestPublishInvalidatesEveryReplica(t *testing.T) {
	srv := redistest.Start(t)
	dir := &movable{zones: map[string]zone.Zone{"42": us01, "43": us01}}
	a, b := newReplica(t, srv.Addr(), dir), newReplica(t, srv.Addr(), dir)
	var lat []time.Duration
	for i := range 50 {
		from, to := us01, us02
		if i%2 == 1 {
			from, to = us02, us01
		}
		lookupUntil(t, a.cache, "42", from)
		lookupUntil(t, b.cache, "42", from)
		dir.move("42", to)
		start := time.Now()
		if err := a.notices.Publish(context.Background(), "42"); err != nil {
			t.Fatal(err)
		}
		if z, _ := a.cache.Lookup(context.Background(), "42"); z != to {
			t.Fatal("the publishing replica's cache kept the old zone")
		}
		lookupUntil(t, b.cache, "42", to)
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("publish→other replica's cache refreshed: p50 %v, p99 %v", lat[len(lat)/2], lat[len(lat)*99/100])
	if err := a.notices.Publish(context.Background(), ""); err == nil {
		t.Fatal("Publish accepted an empty company")
	}
}

// After Redis comes back, every watched cache is emptied: notices sent
// meanwhile are lost.
func TestReconnectPurges(t *testing.T) {
	srv := redistest.Start(t)
	dir := &movable{zones: map[string]zone.Zone{"42": us01}}
	r := newReplica(t, srv.Addr(), dir)
	lookupUntil(t, r.cache, "42", us01)
	srv.Kill()
	dir.move("42", us02) // its notice is lost: Redis is down
	if z, _ := r.cache.Lookup(context.Background(), "42"); z != us01 {
		t.Fatal("cache changed without a notice")
	}
	srv.Restart()
	t.Logf("cache purged %v after the restart", lookupUntil(t, r.cache, "42", us02))
}

// A notice connection gone silent (a network cut) is replaced, and every
// watched cache purged.
func TestSilentConnectionReplaced(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewProxy(t, srv.Addr())
	dir := &movable{zones: map[string]zone.Zone{"42": us01, "7": us01}}
	r := newReplica(t, proxy.Addr(), dir, redisnotice.WithPingInterval(100*time.Millisecond))
	other := newReplica(t, srv.Addr(), dir)
	// Subscribed once a notice (or the first purge) gets through.
	lookupUntil(t, r.cache, "7", us01)
	dir.move("7", us02)
	if err := other.notices.Publish(context.Background(), "7"); err != nil {
		t.Fatal(err)
	}
	lookupUntil(t, r.cache, "7", us02)
	lookupUntil(t, r.cache, "42", us01)
	proxy.Freeze()
	dir.move("42", us02) // no notice: only a purge can show it
	t.Logf("cache purged %v after the connection went silent", lookupUntil(t, r.cache, "42", us02))
}
