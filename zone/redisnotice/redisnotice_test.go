package redisnotice_test

import (
	"context"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/redissub"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
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

// While Redis is down, a watched cache serves its zones within the notice
// bound, then asks the directory (a move whose notice is lost is followed);
// after Redis comes back, every watched cache is emptied: notices sent
// meanwhile are lost.
func TestReconnectPurges(t *testing.T) {
	srv := redistest.Start(t)
	dir := &movable{zones: map[string]zone.Zone{"42": us01, "43": us01}}
	clk := fakeclock.New(time.Now())
	r := newReplica(t, srv.Addr(), dir, redisnotice.WithClock(clk.Now))
	waitFresh(t, r.notices)
	lookupUntil(t, r.cache, "42", us01)
	lookupUntil(t, r.cache, "43", us01)
	srv.Kill()
	dir.move("42", us02) // its notice is lost: Redis is down
	dir.move("43", us02)
	if z, _ := r.cache.Lookup(context.Background(), "42"); z != us01 {
		t.Fatal("within the bound, the cache changed without a notice")
	}
	clk.Advance(redisnotice.DefaultNoticeBound + time.Millisecond)
	if z, _ := r.cache.Lookup(context.Background(), "42"); z != us02 {
		t.Fatalf("past the bound without notices: %s, want the directory's us02", z.Name)
	}
	srv.Restart()
	waitFresh(t, r.notices) // resubscribed: the purge comes first
	if z, _ := r.cache.Lookup(context.Background(), "43"); z != us02 {
		t.Fatalf("after the restart: %s, want the cache purged", z.Name)
	}
}

// waitFresh waits until n's notice path is proven alive.
func waitFresh(t *testing.T, n *redisnotice.Notices) {
	t.Helper()
	testwait.Until(t, 20*time.Second, "notices fresh", n.NoticesFresh)
}

// A replica whose notice connection is black-holed (the socket stays open,
// nothing comes back) follows a company move within the notice bound
// although the notice never reaches it: past the bound it stops trusting
// its cache and asks the directory. The bound is checked on the fake
// clock; the connection is not renewed within the test.
func TestPartitionedReplicaFollowsMoveWithinBound(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewProxy(t, srv.Addr())
	dir := &movable{zones: map[string]zone.Zone{"42": us01}}
	clk := fakeclock.New(time.Now())
	r := newReplica(t, proxy.Addr(), dir, redisnotice.WithClock(clk.Now), redisnotice.WithPingTimeout(time.Hour))
	other := newReplica(t, srv.Addr(), dir)
	waitFresh(t, r.notices)
	lookupUntil(t, r.cache, "42", us01)
	proxy.Freeze()
	dir.move("42", us02)
	if err := other.notices.Publish(context.Background(), "42"); err != nil {
		t.Fatal(err)
	}
	if z, _ := r.cache.Lookup(context.Background(), "42"); z != us01 {
		t.Fatalf("within the bound: %s, want the cached us01 (the lag the bound allows)", z.Name)
	}
	clk.Advance(redisnotice.DefaultNoticeBound + time.Millisecond)
	if r.notices.NoticesFresh() {
		t.Fatal("fresh past the bound through a black-holed connection")
	}
	if z, _ := r.cache.Lookup(context.Background(), "42"); z != us02 {
		t.Fatalf("past the bound: %s, want us02 (the cache asks instead of trusting itself)", z.Name)
	}
}

// With a notice key, a bare company id published with redis-cli (or any
// forged or badly signed notice) is dropped and counted; a signed one
// crosses.
func TestForgedDirectoryNoticesDropped(t *testing.T) {
	srv := redistest.Start(t)
	key := []byte("0123456789abcdef0123456789abcdef")
	dir := &movable{zones: map[string]zone.Zone{"42": us01, "43": us01}}
	a := newReplica(t, srv.Addr(), dir, redisnotice.WithNoticeKey(key, 0))
	// b's clock stands still: its cache stays trusted whatever the load.
	b := newReplica(t, srv.Addr(), dir, redisnotice.WithNoticeKey(key, 0), redisnotice.WithClock(fakeclock.New(time.Now()).Now))
	waitFresh(t, b.notices)
	lookupUntil(t, b.cache, "42", us01)
	lookupUntil(t, b.cache, "43", us01)
	dir.move("42", us02)
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { raw.Close() })
	for _, p := range []string{"42", redissub.Seal([]byte("another key, also 32 bytes long!"), "test:directory", time.Now(), "42")} {
		if err := raw.Publish(context.Background(), "test:directory", p).Err(); err != nil {
			t.Fatal(err)
		}
	}
	dir.move("43", us02)
	if err := a.notices.Publish(context.Background(), "43"); err != nil { // after the forged ones, so heard after them
		t.Fatal(err)
	}
	lookupUntil(t, b.cache, "43", us02)
	if z, _ := b.cache.Lookup(context.Background(), "42"); z != us01 {
		t.Fatalf("company 42 is in %s: a forged notice was applied", z.Name)
	}
	if got, want := b.notices.NoticeStats(), (redisnotice.NoticeStats{Delivered: 1, Unsigned: 1, Forged: 1}); got != want {
		t.Fatalf("NoticeStats = %+v, want %+v", got, want)
	}
}

// A notice connection gone silent (a network cut) is replaced, and every
// watched cache purged.
func TestSilentConnectionReplaced(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewProxy(t, srv.Addr())
	dir := &movable{zones: map[string]zone.Zone{"42": us01, "7": us01}}
	r := newReplica(t, proxy.Addr(), dir, redisnotice.WithPingTimeout(100*time.Millisecond))
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
