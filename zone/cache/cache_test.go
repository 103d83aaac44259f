package cache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/internal/testrig/heapwatch"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/zone"
)

// countingCell answers with the headers hdr returns and a body naming its
// call number.
type countingCell struct {
	calls atomic.Int64
	hdr   func(r *http.Request) (status int, h map[string]string)
}

func (cc *countingCell) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := cc.calls.Add(1)
	status, h := cc.hdr(r)
	for k, v := range h {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	io.WriteString(w, "call "+strconv.FormatInt(n, 10))
}

func newCache(t *testing.T, opts ...CacheOption) (*Cache, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.New(time.Unix(1e9, 0))
	c, err := NewCache(append([]CacheOption{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, clock
}

func get(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func fixed(status int, h map[string]string) func(*http.Request) (int, map[string]string) {
	return func(*http.Request) (int, map[string]string) { return status, h }
}

func TestCacheStoresShareableAndServesHits(t *testing.T) {
	for _, cc := range []string{"public, max-age=60", "s-maxage=60", "public, s-maxage=60, max-age=0"} {
		t.Run(cc, func(t *testing.T) {
			ev := &events{}
			c, clock := newCache(t, WithObserver(ev))
			cell := &countingCell{hdr: fixed(200, map[string]string{"Cache-Control": cc, "Content-Length": "6"})}
			h := c.Middleware(cell)
			first := get(h, who("GET", "/p", "42", "session:a"))
			if s := first.Header().Get("Cache-Status"); s != "cellgate; fwd=uri-miss; stored" {
				t.Errorf("miss: Cache-Status %q", s)
			}
			clock.Advance(10 * time.Second)
			hit := get(h, who("GET", "/p", "42", "session:b"))
			if hit.Body.String() != "call 1" || cell.calls.Load() != 1 {
				t.Fatalf("second request: %q after %d calls", hit.Body.String(), cell.calls.Load())
			}
			if s, a := hit.Header().Get("Cache-Status"), hit.Header().Get("Age"); s != "cellgate; hit; ttl=50" || a != "10" {
				t.Errorf("hit: Cache-Status %q, Age %q", s, a)
			}
			head := get(h, who("HEAD", "/p", "42", "session:b"))
			if head.Body.Len() != 0 || !strings.Contains(head.Header().Get("Cache-Status"), "hit") {
				t.Errorf("HEAD from the stored GET: %q %q", head.Body.String(), head.Header().Get("Cache-Status"))
			}
			if ev.count(EventHit) != 2 || ev.count(EventStored) != 1 || ev.count(EventMiss) != 1 {
				t.Errorf("events %v", ev.n)
			}
		})
	}
}

// What a shared cache must not store, or what the cell did not mark for
// every principal, is never stored.
func TestCacheRefusesToStore(t *testing.T) {
	for name, tc := range map[string]struct {
		status int
		h      map[string]string
		req    func(*http.Request)
	}{
		"private":          {200, map[string]string{"Cache-Control": "private, max-age=60"}, nil},
		"public private":   {200, map[string]string{"Cache-Control": "public, private, max-age=60"}, nil},
		"max-age alone":    {200, map[string]string{"Cache-Control": "max-age=60"}, nil},
		"unmarked":         {200, map[string]string{}, nil},
		"no-store":         {200, map[string]string{"Cache-Control": "public, max-age=60, no-store"}, nil},
		"no-cache":         {200, map[string]string{"Cache-Control": "public, max-age=60, no-cache"}, nil},
		"set-cookie":       {200, map[string]string{"Cache-Control": "public, max-age=60", "Set-Cookie": "a=1"}, nil},
		"vary star":        {200, map[string]string{"Cache-Control": "public, max-age=60", "Vary": "*"}, nil},
		"no lifetime":      {200, map[string]string{"Cache-Control": "public"}, nil},
		"bad expires":      {200, map[string]string{"Cache-Control": "public", "Expires": "0"}, nil},
		"partial":          {206, map[string]string{"Cache-Control": "public, max-age=60"}, nil},
		"server error":     {500, map[string]string{"Cache-Control": "public, max-age=60"}, nil},
		"request no-store": {200, map[string]string{"Cache-Control": "public, max-age=60"}, func(r *http.Request) { r.Header.Set("Cache-Control", "no-store") }},
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := newCache(t)
			cell := &countingCell{hdr: fixed(tc.status, tc.h)}
			h := c.Middleware(cell)
			for range 2 {
				r := who("GET", "/p", "42", "session:a")
				if tc.req != nil {
					tc.req(r)
				}
				get(h, r)
			}
			if cell.calls.Load() != 2 || c.Len() != 0 {
				t.Errorf("%d calls, %d stored; want 2, 0", cell.calls.Load(), c.Len())
			}
		})
	}
}

// A company never reads another company's stored response, whatever it
// says.
func TestCacheNeverCrossesCompanies(t *testing.T) {
	c, _ := newCache(t)
	cell := &countingCell{hdr: func(r *http.Request) (int, map[string]string) {
		return 200, map[string]string{"Cache-Control": "public, max-age=60", "X-Company": zone.CompanyFromContext(r.Context())}
	}}
	h := c.Middleware(cell)
	get(h, who("GET", "/p", "42", "session:a"))
	other := get(h, who("GET", "/p", "43", "session:z"))
	if other.Header().Get("X-Company") != "43" || cell.calls.Load() != 2 {
		t.Errorf("company 43 got company %s's response", other.Header().Get("X-Company"))
	}
}

func TestCacheVary(t *testing.T) {
	c, _ := newCache(t)
	cell := &countingCell{hdr: fixed(200, map[string]string{"Cache-Control": "public, max-age=60", "Vary": "Accept-Language"})}
	h := c.Middleware(cell)
	mk := func(lang string) *http.Request {
		r := who("GET", "/p", "42", "s")
		r.Header.Set("Accept-Language", lang)
		return r
	}
	get(h, mk("en"))
	fr := get(h, mk("fr"))
	if s := fr.Header().Get("Cache-Status"); !strings.HasPrefix(s, "cellgate; fwd=vary-miss") {
		t.Errorf("another language: %q", s)
	}
	en := get(h, mk("en"))
	fr2 := get(h, mk("fr"))
	if en.Body.String() != "call 1" || fr2.Body.String() != "call 2" || c.Len() != 2 {
		t.Errorf("variants: en %q fr %q, %d stored", en.Body.String(), fr2.Body.String(), c.Len())
	}
}

func TestCacheStaleWhileRevalidate(t *testing.T) {
	ev := &events{}
	c, clock := newCache(t, WithObserver(ev))
	cell := &countingCell{hdr: fixed(200, map[string]string{"Cache-Control": "public, max-age=10, stale-while-revalidate=30"})}
	h := c.Middleware(cell)
	get(h, who("GET", "/p", "42", "s"))
	clock.Advance(15 * time.Second)
	stale := get(h, who("GET", "/p", "42", "s"))
	if stale.Body.String() != "call 1" || stale.Header().Get("Cache-Status") != "cellgate; hit; detail=stale-while-revalidate; ttl=-5" {
		t.Fatalf("stale answer %q, %q", stale.Body.String(), stale.Header().Get("Cache-Status"))
	}
	testwait.Until(t, 10*time.Second, "the background revalidation stores the new response", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return cell.calls.Load() == 2 && len(c.revalidating) == 0
	})
	fresh := get(h, who("GET", "/p", "42", "s"))
	if fresh.Body.String() != "call 2" || !strings.HasPrefix(fresh.Header().Get("Cache-Status"), "cellgate; hit; ttl=") {
		t.Errorf("after revalidation: %q %q", fresh.Body.String(), fresh.Header().Get("Cache-Status"))
	}
	clock.Advance(60 * time.Second) // beyond the window: forwarded
	late := get(h, who("GET", "/p", "42", "s"))
	if late.Body.String() != "call 3" || !strings.HasPrefix(late.Header().Get("Cache-Status"), "cellgate; fwd=stale; fwd-status=200") {
		t.Errorf("past stale-while-revalidate: %q %q", late.Body.String(), late.Header().Get("Cache-Status"))
	}
}

func TestCacheStaleIfError(t *testing.T) {
	c, clock := newCache(t)
	var failing atomic.Bool
	cell := &countingCell{hdr: func(*http.Request) (int, map[string]string) {
		if failing.Load() {
			return 503, map[string]string{}
		}
		return 200, map[string]string{"Cache-Control": "public, max-age=10, stale-if-error=30"}
	}}
	h := c.Middleware(cell)
	get(h, who("GET", "/p", "42", "s"))
	failing.Store(true)
	clock.Advance(20 * time.Second)
	r := get(h, who("GET", "/p", "42", "s"))
	if r.Code != 200 || r.Body.String() != "call 1" || r.Header().Get("Cache-Status") != "cellgate; fwd=stale; fwd-status=503; detail=stale-if-error; ttl=-10" {
		t.Errorf("upstream error within stale-if-error: %d %q %q", r.Code, r.Body.String(), r.Header().Get("Cache-Status"))
	}
	clock.Advance(60 * time.Second)
	r = get(h, who("GET", "/p", "42", "s"))
	if r.Code != 503 {
		t.Errorf("past stale-if-error: %d, want the upstream's 503", r.Code)
	}
	// must-revalidate forbids serving stale.
	c2, clock2 := newCache(t)
	failing.Store(false)
	cell2 := &countingCell{hdr: func(*http.Request) (int, map[string]string) {
		if failing.Load() {
			return 503, map[string]string{}
		}
		return 200, map[string]string{"Cache-Control": "public, max-age=10, stale-if-error=30, must-revalidate"}
	}}
	h2 := c2.Middleware(cell2)
	get(h2, who("GET", "/p", "42", "s"))
	failing.Store(true)
	clock2.Advance(20 * time.Second)
	if r := get(h2, who("GET", "/p", "42", "s")); r.Code != 503 {
		t.Errorf("must-revalidate served stale: %d", r.Code)
	}
}

func TestCacheRequestNoCache(t *testing.T) {
	c, _ := newCache(t)
	cell := &countingCell{hdr: fixed(200, map[string]string{"Cache-Control": "public, max-age=60"})}
	h := c.Middleware(cell)
	get(h, who("GET", "/p", "42", "s"))
	r := who("GET", "/p", "42", "s")
	r.Header.Set("Cache-Control", "no-cache")
	res := get(h, r)
	if res.Body.String() != "call 2" || !strings.HasPrefix(res.Header().Get("Cache-Status"), "cellgate; fwd=request") {
		t.Errorf("no-cache request: %q %q", res.Body.String(), res.Header().Get("Cache-Status"))
	}
	if again := get(h, who("GET", "/p", "42", "s")); again.Body.String() != "call 2" {
		t.Errorf("the refreshed response was not stored: %q", again.Body.String())
	}
}

// Every response carries a Cache-Status member.
func TestCacheStatusOnEveryResponse(t *testing.T) {
	c, _ := newCache(t, WithStatusName("edge-eu"))
	h := c.Middleware(&countingCell{hdr: fixed(200, map[string]string{})})
	for _, tc := range []struct {
		r    *http.Request
		want string
	}{
		{who("POST", "/p", "42", "s"), "edge-eu; fwd=method"},
		{func() *http.Request { r := who("GET", "/p", "42", "s"); r.Header.Set("Range", "bytes=0-1"); return r }(), "edge-eu; fwd=bypass"},
		{who("GET", "/p", "42", "s"), "edge-eu; fwd=uri-miss"},
	} {
		if got := get(h, tc.r).Header().Get("Cache-Status"); got != tc.want {
			t.Errorf("%s: Cache-Status %q, want %q", tc.r.Method, got, tc.want)
		}
	}
}

// Bounds: a body above the limit streams through and is not stored; the
// entries and bytes stay within their bounds.
func TestCacheBounds(t *testing.T) {
	c, _ := newCache(t, WithMaxBodySize(100), WithMaxEntries(3), WithMaxBytes(2000))
	big := strings.Repeat("x", 101)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		if r.URL.Path == "/big" {
			io.WriteString(w, big)
			return
		}
		io.WriteString(w, strings.Repeat("y", 90))
	}))
	if res := get(h, who("GET", "/big", "42", "s")); res.Body.String() != big || c.Len() != 0 {
		t.Errorf("big body: %d bytes through, %d stored", res.Body.Len(), c.Len())
	}
	for i := range 10 {
		get(h, who("GET", "/p"+strconv.Itoa(i), "42", "s"))
		if c.Len() > 3 || c.Bytes() > 2000 {
			t.Fatalf("%d entries, %d bytes", c.Len(), c.Bytes())
		}
	}
	c2, _ := newCache(t, WithMaxBytes(700))
	h2 := c2.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		io.WriteString(w, strings.Repeat("y", 90))
	}))
	for i := range 10 {
		get(h2, who("GET", "/p"+strconv.Itoa(i), "42", "s"))
		if c2.Bytes() > 700 {
			t.Fatalf("%d bytes over the 700 bound", c2.Bytes())
		}
	}
	if c2.Len() < 1 {
		t.Error("nothing kept")
	}
}

// A body far above the limit streams through in bounded memory.
func TestCacheStreamsLargeBodies(t *testing.T) {
	c, _ := newCache(t, WithMaxBodySize(1<<20))
	const size = 64 << 20
	chunk := make([]byte, 32<<10)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		for n := 0; n < size; n += len(chunk) {
			w.Write(chunk)
		}
	}))
	stop := heapwatch.Start()
	var n int64
	h.ServeHTTP(&countingWriter{h: http.Header{}, n: &n}, who("GET", "/big", "42", "s"))
	growth := stop()
	if n != size || c.Len() != 0 {
		t.Fatalf("%d bytes through, %d stored", n, c.Len())
	}
	if growth > 16<<20 {
		t.Errorf("heap grew %d MiB for a 64 MiB body", growth>>20)
	}
}

type countingWriter struct {
	h http.Header
	n *int64
}

func (w *countingWriter) Header() http.Header         { return w.h }
func (w *countingWriter) WriteHeader(int)             {}
func (w *countingWriter) Write(p []byte) (int, error) { *w.n += int64(len(p)); return len(p), nil }

func TestCachePurge(t *testing.T) {
	ev := &events{}
	c, _ := newCache(t, WithObserver(ev))
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Cache-Tag", r.URL.Query().Get("tags"))
		io.WriteString(w, "x")
	}))
	load := func() {
		for _, s := range []struct{ company, tags string }{{"42", "projects,p1"}, {"42", "users"}, {"43", "projects"}, {"43", "users"}} {
			res := get(h, who("GET", "/p?tags="+s.tags, s.company, "s"))
			if res.Header().Get("Cache-Tag") != "" {
				t.Fatal("Cache-Tag reached the client")
			}
		}
	}
	for _, tc := range []struct {
		p    zone.Purge
		want int
	}{
		{zone.Purge{Company: "42"}, 2},
		{zone.Purge{Tag: "projects"}, 2},
		{zone.Purge{Company: "43", Tag: "users"}, 1},
		{zone.Purge{Company: "42", Tag: "p1"}, 1},
		{zone.Purge{}, 0},
	} {
		c.PurgeAll()
		load()
		if got := c.Purge(tc.p); got != tc.want || c.Len() != 4-tc.want {
			t.Errorf("Purge(%+v) = %d, %d left; want %d", tc.p, got, c.Len(), tc.want)
		}
	}
	if c.PurgeAll(); c.Len() != 0 || c.Bytes() != 0 {
		t.Errorf("PurgeAll left %d (%d bytes)", c.Len(), c.Bytes())
	}
}

// A response that was arriving while a purge ran is not stored: it may be
// what the purge meant to drop.
func TestCachePurgeDuringFill(t *testing.T) {
	c, _ := newCache(t)
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		io.WriteString(w, "old ")
		c.Purge(zone.Purge{Company: "42"})
		io.WriteString(w, "content")
	}))
	get(h, who("GET", "/p", "42", "s"))
	if c.Len() != 0 {
		t.Error("a response filled across a purge was stored")
	}
}

type freshness struct{ fresh atomic.Bool }

func (f *freshness) NoticesFresh() bool { return f.fresh.Load() }

// Cut off from the purge notices, the cache serves nothing stored.
func TestCacheRequiresFreshNotices(t *testing.T) {
	c, _ := newCache(t)
	cell := &countingCell{hdr: fixed(200, map[string]string{"Cache-Control": "public, max-age=60"})}
	h := c.Middleware(cell)
	n := &freshness{}
	n.fresh.Store(true)
	cancel := c.RequireNotices(n)
	get(h, who("GET", "/p", "42", "s"))
	n.fresh.Store(false)
	r := get(h, who("GET", "/p", "42", "s"))
	if r.Body.String() != "call 2" || r.Header().Get("Cache-Status") != "cellgate; fwd=bypass; detail=notices" {
		t.Errorf("stale notices: %q %q", r.Body.String(), r.Header().Get("Cache-Status"))
	}
	cancel()
	if r := get(h, who("GET", "/p", "42", "s")); r.Body.String() != "call 1" {
		t.Errorf("after cancel: %q", r.Body.String())
	}
}

// Together: a burst costs the cell one call, the followers' responses say
// collapsed, and the next request is a hit.
func TestCacheWithCoalescer(t *testing.T) {
	c, _ := newCache(t)
	co := newCoalescer(t)
	cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, s-maxage=60")
		io.WriteString(w, "shared")
	})
	h := c.Middleware(co.Middleware(cell))
	const n = 20
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = who("GET", "/p", "42", "session:"+strconv.Itoa(i%3))
	}
	out := fire(t, h, reqs, func() { waitWaiters(t, co, n); cell.open() })
	collapsed := 0
	for _, o := range out {
		if o.body != "shared" {
			t.Fatalf("body %q", o.body)
		}
		if s := o.header.Values("Cache-Status"); len(s) != 1 {
			t.Fatalf("Cache-Status %q: want one member", s)
		} else if strings.HasSuffix(s[0], "; collapsed") {
			collapsed++
		}
	}
	if cell.calls.Load() != 1 || collapsed != n-1 || c.Len() != 1 {
		t.Errorf("%d calls, %d collapsed, %d stored; want 1, %d, 1", cell.calls.Load(), collapsed, c.Len(), n-1)
	}
	if hit := get(h, who("GET", "/p", "42", "session:x")); !strings.Contains(hit.Header().Get("Cache-Status"), "hit") {
		t.Errorf("after the burst: %q", hit.Header().Get("Cache-Status"))
	}
}

func TestNewCacheRefusesInvalidOptions(t *testing.T) {
	for _, o := range []CacheOption{
		WithMaxEntries(0), WithMaxBytes(-1), WithMaxBodySize(0), WithTagHeader(""), WithVaryOn(""),
		WithStatusName(""), WithObserver(nil), WithClock(nil), VaryOption{}, nil,
	} {
		if _, err := NewCache(o); err == nil || !strings.HasPrefix(err.Error(), "cache: NewCache: ") {
			t.Errorf("NewCache(%v) = %v, want an error naming it", o, err)
		}
	}
}

var (
	_ = context.Background
	_ sync.Mutex
)
