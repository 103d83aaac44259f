package redisnotice_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/redistest"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/zone"
	"github.com/cellgate/cellgate/zone/cache"
	"github.com/cellgate/cellgate/zone/redisnotice"
	"github.com/redis/go-redis/v9"
)

// cacheReplica is one process's response cache and its notices.
type cacheReplica struct {
	notices *redisnotice.Notices
	cache   *cache.Cache
	h       http.Handler
}

func newCacheReplica(t *testing.T, addr string, opts ...redisnotice.Option) cacheReplica {
	client := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, PoolSize: 4})
	t.Cleanup(func() { client.Close() })
	n, err := redisnotice.New(client, append([]redisnotice.Option{redisnotice.WithChannel("test:directory")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	c, err := cache.NewCache()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.WatchPurges(c))
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, s-maxage=3600")
		w.Header().Set("Cache-Tag", "projects")
		io.WriteString(w, "x")
	}))
	return cacheReplica{n, c, h}
}

func (r cacheReplica) fill(t *testing.T, companies ...string) {
	t.Helper()
	testwait.Until(t, 10*time.Second, "the replica's notices are fresh", r.notices.NoticesFresh)
	for _, co := range companies {
		req := httptest.NewRequest("GET", "/rest/v1.0/projects", nil)
		req = req.WithContext(edge.ContextWithPrincipal(zone.ContextWithCompany(req.Context(), co), "session:a"))
		r.h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// A purge published on one replica empties the others' response caches
// through the directory notices' channel, within the one-second bound.
func TestPurgeReachesEveryReplica(t *testing.T) {
	srv := redistest.Start(t)
	for _, signed := range []bool{false, true} {
		var opts []redisnotice.Option
		if signed {
			opts = append(opts, redisnotice.WithNoticeKey(make([]byte, 32), 0))
		}
		a, b := newCacheReplica(t, srv.Addr(), opts...), newCacheReplica(t, srv.Addr(), opts...)
		var lat []time.Duration
		for i := range 20 {
			a.fill(t, "42", "43")
			b.fill(t, "42", "43")
			if a.cache.Len() != 2 || b.cache.Len() != 2 {
				t.Fatalf("filled %d and %d", a.cache.Len(), b.cache.Len())
			}
			p := zone.Purge{Company: "42"}
			if i%2 == 1 {
				p = zone.Purge{Company: "43", Tag: "projects"}
			}
			echoed := a.notices.NoticeStats().Delivered + 1
			start := time.Now()
			if err := a.notices.PublishPurge(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if a.cache.Len() != 1 {
				t.Fatalf("the publishing replica holds %d after the purge, want 1", a.cache.Len())
			}
			testwait.Until(t, 10*time.Second, "the other replica applies the purge", func() bool { return b.cache.Len() == 1 })
			lat = append(lat, time.Since(start))
			// The publisher hears its own notice too: let it arrive before
			// the next fill, which it would purge.
			testwait.Until(t, 10*time.Second, "the publisher hears its notice", func() bool { return a.notices.NoticeStats().Delivered >= echoed })
			a.cache.PurgeAll()
			b.cache.PurgeAll()
		}
		slices.Sort(lat)
		t.Logf("signed %v: publish→other replica purged: p50 %v, max %v", signed, lat[len(lat)/2], lat[len(lat)-1])
		if lat[len(lat)-1] > time.Second {
			t.Errorf("a purge took %v to reach another replica, over the one-second bound", lat[len(lat)-1])
		}
	}
	a := newCacheReplica(t, srv.Addr())
	if err := a.notices.PublishPurge(context.Background(), zone.Purge{}); err == nil {
		t.Error("an empty purge was published")
	}
}

// A replica cut off from the notices serves nothing stored: a purge it may
// have missed cannot leave a stale response served.
func TestPurgeCutOffReplicaStopsServing(t *testing.T) {
	srv := redistest.Start(t)
	r := newCacheReplica(t, srv.Addr())
	r.fill(t, "42")
	srv.Kill()
	testwait.Until(t, 10*time.Second, "the notices go stale", func() bool { return !r.notices.NoticesFresh() })
	req := httptest.NewRequest("GET", "/rest/v1.0/projects", nil)
	req = req.WithContext(edge.ContextWithPrincipal(zone.ContextWithCompany(req.Context(), "42"), "session:a"))
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, req)
	if got := rec.Header().Get("Cache-Status"); got != "cellgate; fwd=bypass; detail=notices" {
		t.Errorf("cut off: Cache-Status %q, want a bypass", got)
	}
}
