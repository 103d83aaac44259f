package cache

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cellgate/cellgate/edge"
	"github.com/cellgate/cellgate/internal/testrig/fakeclock"
	"github.com/cellgate/cellgate/internal/testrig/must"
	"github.com/cellgate/cellgate/internal/testrig/testwait"
	"github.com/cellgate/cellgate/zone"
)

func TestBurstSharesOneUpstreamRequest(t *testing.T) {
	ev := &events{}
	c := newCoalescer(t, WithObserver(ev))
	cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private")
		io.WriteString(w, "for "+edge.PrincipalFromContext(r.Context()))
	})
	h := c.Middleware(cell)
	const n = 50
	reqs := make([]*http.Request, n)
	for i := range reqs {
		reqs[i] = who("GET", "/rest/v1.0/projects?b=2&a=1", "42", "session:a")
	}
	out := fire(t, h, reqs, func() { waitWaiters(t, c, n); cell.open() })
	if got := cell.calls.Load(); got != 1 {
		t.Fatalf("cell called %d times for a burst of %d, want 1", got, n)
	}
	collapsed := 0
	for _, o := range out {
		if o.status != 200 || o.body != "for session:a" {
			t.Fatalf("answer %d %q", o.status, o.body)
		}
		if strings.Contains(o.header.Get("Cache-Status"), "collapsed") {
			collapsed++
		}
	}
	if collapsed != n-1 || ev.count(EventCoalesced) != n-1 {
		t.Errorf("%d answers say collapsed, %d coalesced events; want %d", collapsed, ev.count(EventCoalesced), n-1)
	}
	if c.InFlight() != 0 {
		t.Errorf("%d flights left", c.InFlight())
	}
}

// What is in the key: a request differing in any part goes upstream on
// its own.
func TestKeySeparates(t *testing.T) {
	base := func() *http.Request {
		r := who("GET", "http://h.example/p?a=1&b=2", "42", "session:a")
		r.Header.Set("Accept-Language", "en")
		return r
	}
	for name, other := range map[string]func() *http.Request{
		"method":  func() *http.Request { r := base(); r.Method = "HEAD"; return r },
		"host":    func() *http.Request { r := base(); r.Host = "other.example"; return r },
		"path":    func() *http.Request { return who("GET", "http://h.example/q?a=1&b=2", "42", "session:a") },
		"query":   func() *http.Request { return who("GET", "http://h.example/p?a=1&b=3", "42", "session:a") },
		"company": func() *http.Request { return who("GET", "http://h.example/p?a=1&b=2", "43", "session:a") },
		"vary-on": func() *http.Request { r := base(); r.Header.Set("Accept-Language", "fr"); return r },
		"variant": func() *http.Request { r := base(); r.Header.Set("Cellgate-Experiments", "layout=compact"); return r },
	} {
		t.Run(name, func(t *testing.T) {
			c := newCoalescer(t, WithVaryOn("accept-language"))
			cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "public")
				io.WriteString(w, "x")
			})
			fire(t, c.Middleware(cell), []*http.Request{base(), other()}, func() { waitWaiters(t, c, 2); cell.open() })
			if got := cell.calls.Load(); got != 2 {
				t.Errorf("cell called %d times, want 2", got)
			}
		})
	}
	// Reordered query parameters are one target.
	c := newCoalescer(t)
	cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") })
	fire(t, c.Middleware(cell), []*http.Request{who("GET", "/p?b=2&a=1", "42", "s"), who("GET", "/p?a=1&b=2", "42", "s")},
		func() { waitWaiters(t, c, 2); cell.open() })
	if got := cell.calls.Load(); got != 1 {
		t.Errorf("reordered query: cell called %d times, want 1", got)
	}
}

// Requests that cannot share pass straight through.
func TestNotCoalescable(t *testing.T) {
	c := newCoalescer(t)
	for name, r := range map[string]*http.Request{
		"post":            who("POST", "/p", "42", "s"),
		"range":           func() *http.Request { r := who("GET", "/p", "42", "s"); r.Header.Set("Range", "bytes=0-1"); return r }(),
		"conditional":     func() *http.Request { r := who("GET", "/p", "42", "s"); r.Header.Set("If-None-Match", `"x"`); return r }(),
		"anonymous+creds": func() *http.Request { r := who("GET", "/p", "42", ""); r.Header.Set("Cookie", "s=1"); return r }(),
	} {
		passed := false
		c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, isFlight := w.(*flightWriter)
			passed = !isFlight
		})).ServeHTTP(httptest.NewRecorder(), r)
		if !passed {
			t.Errorf("%s: went through a flight", name)
		}
	}
}

// The sharing rules at the header: who gets the leader's response and
// who is released to ask on its own.
func TestSharingRules(t *testing.T) {
	for _, tc := range []struct {
		name        string
		header      map[string]string
		sameShares  bool // a second request of the leader's principal gets the leader's answer
		otherShares bool // one of another principal of the company does
		mark        string
	}{
		{"public", map[string]string{"Cache-Control": "public, max-age=60"}, true, true, ""},
		{"s-maxage", map[string]string{"Cache-Control": "s-maxage=60"}, true, true, ""},
		{"unmarked", map[string]string{}, true, false, "own"},
		{"max-age only", map[string]string{"Cache-Control": "max-age=60"}, true, false, "own"},
		{"private", map[string]string{"Cache-Control": "private"}, true, false, "own"},
		{"public and private", map[string]string{"Cache-Control": "public, private"}, true, false, "own"},
		{"no-store", map[string]string{"Cache-Control": "public, no-store"}, false, false, "never"},
		{"set-cookie", map[string]string{"Cache-Control": "public", "Set-Cookie": "a=1"}, false, false, "never"},
		{"vary star", map[string]string{"Cache-Control": "public", "Vary": "*"}, false, false, "never"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := &events{}
			clock := fakeclock.New(time.Unix(1e9, 0))
			c := newCoalescer(t, WithObserver(ev), WithClock(clock.Now))
			cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				io.WriteString(w, edge.PrincipalFromContext(r.Context()))
			})
			h := c.Middleware(cell)
			reqs := []*http.Request{who("GET", "/p", "42", "session:a"), who("GET", "/p", "42", "session:a"), who("GET", "/p", "42", "session:b")}
			var out []result
			var wg sync.WaitGroup
			out = make([]result, 3)
			start := func(i int) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, reqs[i])
					out[i] = result{rec.Code, rec.Header(), rec.Body.String()}
				}()
			}
			start(0) // the leader, first
			waitWaiters(t, c, 1)
			start(1)
			start(2)
			waitWaiters(t, c, 3)
			cell.open()
			wg.Wait()
			if out[0].body != "session:a" || out[2].body != "session:b" && !tc.otherShares || out[1].body != "session:a" {
				t.Fatalf("answers %q %q %q", out[0].body, out[1].body, out[2].body)
			}
			want := int64(1)
			if !tc.sameShares {
				want++
			}
			if !tc.otherShares {
				want++
			}
			if got := cell.calls.Load(); got != want {
				t.Errorf("cell called %d times, want %d", got, want)
			}
			if got, want := ev.count(EventReleased), int(want-1); got != want {
				t.Errorf("%d released, want %d", got, want)
			}
			// Hit-for-miss: the next burst knows at once.
			m, marked := c.marks.Get(mustKey(t, reqs[0]))
			switch {
			case tc.mark == "" && marked, tc.mark != "" && !marked, marked && m.own != (tc.mark == "own"):
				t.Errorf("mark %+v (%v), want %q", m, marked, tc.mark)
			}
		})
	}
}

func mustKey(t *testing.T, r *http.Request) string {
	k, ok := baseKey(r, nil)
	if !ok {
		t.Fatal("no key")
	}
	return k
}

// A key marked never-shareable goes straight upstream until the mark
// expires; one marked own shares only within its principal.
func TestHitForMiss(t *testing.T) {
	clock := fakeclock.New(time.Unix(1e9, 0))
	c := newCoalescer(t, WithClock(clock.Now), WithHitForMiss(5*time.Second))
	r := who("GET", "/p", "42", "session:a")
	c.markKey(mustKey(t, r), false)
	var sawFlight bool
	probe := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, sawFlight = w.(*flightWriter) })
	c.Middleware(probe).ServeHTTP(httptest.NewRecorder(), r)
	if sawFlight {
		t.Error("a marked key was coalesced")
	}
	clock.Advance(6 * time.Second)
	c.Middleware(probe).ServeHTTP(httptest.NewRecorder(), who("GET", "/p", "42", "session:a"))
	if !sawFlight {
		t.Error("an expired mark still bypasses")
	}

	// own: two principals get two flights, one principal's burst one.
	c.markKey(mustKey(t, r), true)
	cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, edge.PrincipalFromContext(r.Context()))
	})
	reqs := []*http.Request{who("GET", "/p", "42", "session:a"), who("GET", "/p", "42", "session:a"), who("GET", "/p", "42", "session:b")}
	out := fire(t, c.Middleware(cell), reqs, func() { waitWaiters(t, c, 3); cell.open() })
	if cell.calls.Load() != 2 || c.InFlight() != 0 {
		t.Errorf("cell called %d times, want 2", cell.calls.Load())
	}
	for i, o := range out {
		if o.body != edge.PrincipalFromContext(reqs[i].Context()) {
			t.Errorf("request %d got %q", i, o.body)
		}
	}

	// WithoutHitForMiss remembers nothing.
	c = newCoalescer(t, WithoutHitForMiss())
	if c.marks != nil {
		t.Error("WithoutHitForMiss kept marks")
	}
}

// A response's Vary: followers whose request differs in a named header
// are released.
func TestResponseVary(t *testing.T) {
	c := newCoalescer(t)
	cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public")
		w.Header().Set("Vary", "Accept-Encoding")
		io.WriteString(w, r.Header.Get("Accept-Encoding"))
	})
	mk := func(enc string) *http.Request {
		r := who("GET", "/p", "42", "session:a")
		r.Header.Set("Accept-Encoding", enc)
		return r
	}
	h := c.Middleware(cell)
	var out [3]result
	var wg sync.WaitGroup
	for i, enc := range []string{"gzip", "gzip", "br"} {
		if i == 1 {
			waitWaiters(t, c, 1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, mk(enc))
			out[i] = result{rec.Code, rec.Header(), rec.Body.String()}
		}()
	}
	waitWaiters(t, c, 3)
	cell.open()
	wg.Wait()
	if out[0].body != "gzip" || out[1].body != "gzip" || out[2].body != "br" || cell.calls.Load() != 2 {
		t.Errorf("answers %q %q %q, %d calls", out[0].body, out[1].body, out[2].body, cell.calls.Load())
	}
}

// streamServer serves h over a real connection, so that a client sees
// bytes as they are flushed.
func streamServer(t *testing.T, h http.Handler, company, principal string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := zone.ContextWithCompany(r.Context(), company)
		if p := r.Header.Get("X-Test-Principal"); p != "" {
			principal = p
		}
		h.ServeHTTP(w, r.WithContext(edge.ContextWithPrincipal(ctx, principal)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Followers get the leader's first bytes while the cell is still writing
// the rest: no one waits for the body to end.
func TestFollowersAreStreamed(t *testing.T) {
	c := newCoalescer(t)
	rest := make(chan struct{})
	cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public")
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-rest
		io.WriteString(w, "second\n")
	})
	srv := streamServer(t, c.Middleware(cell), "42", "session:a")
	const n = 5
	lines := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(srv.URL + "/p")
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			br := bufio.NewReader(res.Body)
			l, _ := br.ReadString('\n')
			lines <- l
			io.Copy(io.Discard, br)
		}()
	}
	waitWaiters(t, c, n)
	cell.open()
	for range n {
		select {
		case l := <-lines:
			if l != "first\n" {
				t.Errorf("first line %q", l)
			}
		case <-time.After(testwait.Scale(10 * time.Second)):
			t.Fatal("a follower did not get the first bytes before the body ended")
		}
	}
	close(rest)
	wg.Wait()
	if cell.calls.Load() != 1 {
		t.Errorf("%d calls", cell.calls.Load())
	}
}

// The leader's client leaving does not fail the others: the upstream
// request runs on a context of its own.
func TestLeaderLeavingDoesNotFailFollowers(t *testing.T) {
	c := newCoalescer(t)
	cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public")
		io.WriteString(w, "ok")
	})
	h := c.Middleware(cell)
	ctx, leave := context.WithCancel(context.Background())
	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		h.ServeHTTP(httptest.NewRecorder(), who("GET", "/p", "42", "session:a").WithContext(
			edge.ContextWithPrincipal(zone.ContextWithCompany(ctx, "42"), "session:a")))
	}()
	waitWaiters(t, c, 1)
	reqs := []*http.Request{who("GET", "/p", "42", "session:a"), who("GET", "/p", "42", "session:b")}
	out := fire(t, h, reqs, func() {
		waitWaiters(t, c, 3)
		leave()
		<-leaderDone
		cell.open()
	})
	for i, o := range out {
		if o.status != 200 || o.body != "ok" {
			t.Errorf("follower %d: %d %q", i, o.status, o.body)
		}
	}
	if cell.calls.Load() != 1 {
		t.Errorf("%d calls, want 1", cell.calls.Load())
	}
}

// Everyone leaving cancels the upstream request.
func TestEveryoneLeavingCancelsUpstream(t *testing.T) {
	c := newCoalescer(t)
	cancelled := make(chan struct{})
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(cancelled)
	}))
	ctx, leave := context.WithCancel(zone.ContextWithCompany(context.Background(), "42"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil).WithContext(ctx))
	}()
	waitWaiters(t, c, 1)
	leave()
	<-done
	select {
	case <-cancelled:
	case <-time.After(testwait.Scale(10 * time.Second)):
		t.Fatal("upstream request not cancelled when nobody waits")
	}
}

// An upstream failure before the first byte: one follower leads anew.
func TestFailureBeforeFirstByteReelects(t *testing.T) {
	for _, fail := range []string{"502", "panic", "deadline"} {
		t.Run(fail, func(t *testing.T) {
			ev := &events{}
			var timers sync.Mutex
			var fire0 func()
			opts := []CoalescerOption{WithObserver(ev)}
			c := newCoalescer(t, opts...)
			c.cfg.afterFunc = func(_ time.Duration, f func()) func() bool {
				timers.Lock()
				defer timers.Unlock()
				if fire0 == nil {
					fire0 = f // the first flight's deadline
				}
				return func() bool { return true }
			}
			calls := 0
			var mu sync.Mutex
			first := make(chan struct{})
			release := make(chan struct{})
			h := must.Build(edge.Recover(edge.WithLogger(slog.New(slog.DiscardHandler))))(c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				n := calls
				mu.Unlock()
				if n == 1 {
					close(first)
					<-release
					switch fail {
					case "502":
						w.WriteHeader(http.StatusBadGateway)
					case "panic":
						panic("cell exploded")
					case "deadline":
						<-r.Context().Done()
						w.WriteHeader(http.StatusGatewayTimeout)
					}
					return
				}
				w.Header().Set("Cache-Control", "public")
				io.WriteString(w, "second leader")
			})))
			reqs := []*http.Request{who("GET", "/p", "42", "session:a"), who("GET", "/p", "42", "session:b"), who("GET", "/p", "42", "session:c")}
			out := fire(t, h, reqs, func() {
				<-first
				waitWaiters(t, c, 3)
				if fail == "deadline" {
					timers.Lock()
					f := fire0
					timers.Unlock()
					f()
				}
				close(release)
			})
			good := 0
			for _, o := range out {
				if o.body == "second leader" {
					good++
				}
			}
			if good != 2 || calls != 2 || ev.count(EventLeaderReelected) != 1 {
				t.Errorf("%d followers served by a new leader, %d calls, %d re-elections; want 2, 2, 1 (%+v)", good, calls, ev.count(EventLeaderReelected), out)
			}
		})
	}
}

// A slow follower is cut loose and catches up on its own; the others are
// not held back, and memory stays within the buffer.
func TestSlowFollowerCutLoose(t *testing.T) {
	ev := &events{}
	const buf = 4 << 10
	c := newCoalescer(t, WithFollowerBuffer(buf), WithObserver(ev))
	body := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
	cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public")
		w.Header().Set("ETag", `"v1"`)
		for i := 0; i < len(body); i += 1024 {
			io.WriteString(w, body[i:i+1024])
		}
	})
	h := c.Middleware(cell)
	fast := make(chan result, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, who("GET", "/p", "42", "s"))
		fast <- result{rec.Code, rec.Header(), rec.Body.String()}
	}()
	waitWaiters(t, c, 1)
	slow := &blockingWriter{h: http.Header{}, unblock: make(chan struct{}), first: make(chan struct{})}
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		h.ServeHTTP(slow, who("GET", "/p", "42", "s"))
	}()
	waitWaiters(t, c, 2)
	cell.open()
	got := <-fast // the fast one finishes while the slow one is blocked
	if got.body != body {
		t.Fatalf("fast follower got %d bytes", len(got.body))
	}
	close(slow.unblock)
	<-slowDone
	if slow.buf.String() != body {
		t.Fatalf("slow follower got %d bytes after catching up, want %d", slow.buf.Len(), len(body))
	}
	if ev.count(EventCutLoose) != 1 || cell.calls.Load() != 2 {
		t.Errorf("%d cut loose, %d calls; want 1, 2", ev.count(EventCutLoose), cell.calls.Load())
	}
}

// blockingWriter blocks its first body write until unblock is closed.
type blockingWriter struct {
	h       http.Header
	code    int
	buf     strings.Builder
	unblock chan struct{}
	first   chan struct{}
	once    sync.Once
}

func (b *blockingWriter) Header() http.Header { return b.h }
func (b *blockingWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}
func (b *blockingWriter) Write(p []byte) (int, error) {
	b.once.Do(func() { close(b.first); <-b.unblock })
	return b.buf.Write(p)
}

// A follower cut loose whose second response differs is aborted, never
// spliced.
func TestResumeRefusesAnotherRepresentation(t *testing.T) {
	c := newCoalescer(t)
	rw := httptest.NewRecorder()
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want ErrAbortHandler", p)
		}
	}()
	c.resume(rw, who("GET", "/p", "42", "s"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v2"`)
		io.WriteString(w, "other")
	}), 200, http.Header{"Etag": {`"v1"`}}, 3, true)
}

// Caps: past the waiters of one key and the keys in flight, requests go
// upstream on their own.
func TestCaps(t *testing.T) {
	c := newCoalescer(t, WithMaxWaiters(2), WithMaxFlights(1))
	cell := newGatedCell(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") })
	h := c.Middleware(cell)
	var wg sync.WaitGroup
	run := func(target string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ServeHTTP(httptest.NewRecorder(), who("GET", target, "42", "s"))
		}()
	}
	run("/a")
	run("/a")
	waitWaiters(t, c, 2)
	run("/a") // third waiter: over the cap
	run("/b") // second key: over the cap
	testwait.Until(t, 10*time.Second, "requests past the caps reach the cell", func() bool { return cell.calls.Load() == 3 })
	cell.open()
	wg.Wait()
	if cell.calls.Load() != 3 {
		t.Errorf("%d calls, want 3", cell.calls.Load())
	}
}

func TestNewCoalescerRefusesInvalidOptions(t *testing.T) {
	for _, o := range []CoalescerOption{
		WithMaxWaiters(0), WithMaxFlights(-1), WithFollowerBuffer(0), WithHitForMiss(0), WithUpstreamWait(-time.Second),
		WithVaryOn("bad name"), WithStatusName("1x"), WithObserver(nil), WithClock(nil), ClockOption{}, nil,
	} {
		if _, err := NewCoalescer(o); err == nil || !strings.HasPrefix(err.Error(), "cache: NewCoalescer: ") {
			t.Errorf("NewCoalescer(%v) = %v, want an error naming it", o, err)
		}
	}
	if _, err := NewCoalescer(WithMaxWaiters(1), WithMaxFlights(1), WithFollowerBuffer(1), WithHitForMiss(time.Second),
		WithoutHitForMiss(), WithUpstreamWait(time.Second), WithVaryOn("Accept"), WithStatusName("edge"),
		WithObserver(&events{}), WithClock(time.Now)); err != nil {
		t.Fatal(err)
	}
}

var _ = fmt.Sprint

// Requests of other principals released from a response not shareable
// share one call among themselves, never the first principal's answer.
func TestReleasedRegroupByPrincipal(t *testing.T) {
	c := newCoalescer(t)
	var bCalls atomic.Int64
	gateA, gateB := make(chan struct{}), make(chan struct{})
	h := c.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := edge.PrincipalFromContext(r.Context())
		if p == "session:a" {
			<-gateA
		} else {
			bCalls.Add(1)
			<-gateB
		}
		w.Header().Set("Cache-Control", "private")
		io.WriteString(w, p)
	}))
	var wg sync.WaitGroup
	out := make([]string, 6)
	run := func(i int, p string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, who("GET", "/p", "42", p))
			out[i] = rec.Body.String()
		}()
	}
	run(0, "session:a") // leads
	waitWaiters(t, c, 1)
	for i := 1; i < 6; i++ {
		run(i, "session:b")
	}
	waitWaiters(t, c, 6)
	close(gateA)
	testwait.Until(t, 10*time.Second, "session:b's requests regroup", func() bool { return bCalls.Load() >= 1 && waiters(c) == 5 })
	close(gateB)
	wg.Wait()
	if out[0] != "session:a" {
		t.Errorf("leader got %q", out[0])
	}
	for _, o := range out[1:] {
		if o != "session:b" {
			t.Errorf("a request of session:b got %q", o)
		}
	}
	if n := bCalls.Load(); n != 1 {
		t.Errorf("session:b's five requests cost %d calls, want 1", n)
	}
}
