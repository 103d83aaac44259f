package cache

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cellgate/cellgate/edge"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Coalescer makes identical concurrent GET and HEAD requests share one
// upstream request, streaming its response to every request that may see
// it. See the package doc for the rules.
type Coalescer struct {
	cfg     *config
	mu      sync.Mutex
	flights map[string]*flight
	marks   *lru.Cache[string, mark] // hit-for-miss; nil: WithoutHitForMiss
}

// mark remembers a key whose response could not be shared.
type mark struct {
	until time.Time
	own   bool // share only with the same principal (else: never)
}

// maxMarks bounds the hit-for-miss marks kept.
const maxMarks = 100_000

// NewCoalescer returns a Coalescer. Options: WithMaxWaiters,
// WithMaxFlights, WithFollowerBuffer, WithHitForMiss, WithoutHitForMiss,
// WithUpstreamWait, WithVaryOn, WithStatusName, WithObserver, WithClock.
func NewCoalescer(opts ...CoalescerOption) (*Coalescer, error) {
	cfg := defaultConfig()
	if err := apply(cfg, "NewCoalescer", opts, CoalescerOption.coalescerOption); err != nil {
		return nil, err
	}
	c := &Coalescer{cfg: cfg, flights: make(map[string]*flight)}
	if cfg.hitForMiss > 0 {
		c.marks, _ = lru.New[string, mark](maxMarks) // fails only for a size ≤ 0
	}
	return c, nil
}

// Middleware returns next behind the coalescer. Put it after the stage
// that authenticates (passport's gateway middleware) and after company
// detection, so that the principal and the company are known.
func (c *Coalescer) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base, ok := baseKey(r, c.cfg.vary)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		principal := edge.PrincipalFromContext(r.Context())
		if principal == "" && (r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "") {
			// Credentials no stage tied to a principal: whose they are is
			// unknown, so the response is this request's alone.
			next.ServeHTTP(w, r)
			return
		}
		key := base
		if c.marks != nil {
			if m, found := c.marks.Get(base); found && c.cfg.now().Before(m.until) {
				c.cfg.observe(r.Context(), EventHitForMiss)
				if !m.own {
					next.ServeHTTP(w, r)
					return
				}
				key = base + "\x01" + principal
			}
		}
		c.serve(w, r, next, flightKey{key: key, base: base}, principal, 1)
	})
}

// InFlight returns the number of keys with an upstream request in flight.
func (c *Coalescer) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.flights)
}

type flightKey struct{ key, base string }

// serve joins r to the flight of k, or starts one; gen counts the leaders
// elected for one burst.
func (c *Coalescer) serve(w http.ResponseWriter, r *http.Request, next http.Handler, k flightKey, principal string, gen int) {
	c.mu.Lock()
	if f := c.flights[k.key]; f != nil {
		s, joinable := f.join(r, principal, c.cfg.maxWaiters)
		if s != nil {
			c.mu.Unlock()
			c.follow(w, r, next, f, s)
			return
		}
		if joinable { // full, or its decided response is not for r
			c.mu.Unlock()
			next.ServeHTTP(w, r)
			return
		}
	} else if len(c.flights) >= c.cfg.maxFlights {
		c.mu.Unlock()
		next.ServeHTTP(w, r)
		return
	}
	f := c.newFlight(k, r, principal, gen, next)
	s := f.subs[0]
	c.flights[k.key] = f
	c.mu.Unlock()
	go c.fly(f)
	c.follow(w, r, next, f, s)
}

// newFlight returns a flight of r's request, r its owner.
func (c *Coalescer) newFlight(k flightKey, r *http.Request, principal string, gen int, next http.Handler) *flight {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	f := &flight{c: c, k: k, principal: principal, gen: gen, ctx: ctx, cancel: cancel, next: next, started: time.Now(),
		req: r.Clone(ctx), joinable: true, room: make(chan struct{}, 1)}
	f.req.Body = http.NoBody
	f.subs = append(f.subs, &sub{r: r, principal: principal, owner: true, notify: make(chan struct{}, 1)})
	return f
}

// remove takes f out of the flights new requests join.
func (c *Coalescer) remove(f *flight) {
	c.mu.Lock()
	if c.flights[f.k.key] == f {
		delete(c.flights, f.k.key)
	}
	c.mu.Unlock()
}

func (c *Coalescer) markKey(base string, own bool) {
	if c.marks != nil {
		c.marks.Add(base, mark{until: c.cfg.now().Add(c.cfg.hitForMiss), own: own})
	}
}

// flight is one upstream request and the requests that wait on it.
type flight struct {
	c         *Coalescer
	k         flightKey
	principal string        // the principal whose request went upstream
	req       *http.Request // that request, on ctx
	gen       int
	next      http.Handler
	ctx       context.Context
	cancel    context.CancelFunc
	room      chan struct{} // a subscriber made room, or left
	started   time.Time     // when it began

	mu        sync.Mutex
	subs      []*sub // those still reading
	joinable  bool   // in c.flights, taking new requests
	headed    bool   // the response header arrived
	status    int    // 0: the handler panicked before the header
	header    http.Header
	shareAll  bool     // every principal may have it
	forbidden bool     // nobody but the owner may have it
	private   bool     // Cache-Control: private
	vary      []string // the response's Vary
	head      [][]byte // the body's start, for late joiners, while joinable
	headBytes int
	done      bool
	aborted   bool // the handler panicked after the header
	panicVal  any
}

type subState int

const (
	waiting subState = iota
	delivering
	released // go upstream alone
	reelect  // the flight failed before its first byte: start or join the next
	cutLoose // too far behind: fetch alone, resuming
)

// sub is a request reading a flight.
type sub struct {
	r         *http.Request
	principal string
	owner     bool
	state     subState // guarded by the flight's mu
	regroup   bool     // released: join its own principal's flight
	moved     *flight  // reelect: the flight it reads now, as movedAs
	movedAs   *sub
	queue     [][]byte // nil chunk: flush
	queued    int
	blamed    time.Duration // how long the upstream waited on it in all
	notify    chan struct{}
}

func (s *sub) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (f *flight) madeRoom() {
	select {
	case f.room <- struct{}{}:
	default:
	}
}

// join adds a request to f, or returns nil and whether f still takes
// others. The caller holds c.mu.
func (f *flight) join(r *http.Request, principal string, maxWaiters int) (*sub, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.joinable {
		return nil, false
	}
	if len(f.subs) >= maxWaiters {
		return nil, true
	}
	s := &sub{r: r, principal: principal, notify: make(chan struct{}, 1)}
	if f.headed {
		if !f.allows(s) {
			return nil, true
		}
		s.state = delivering
		s.queue, s.queued = slices.Clone(f.head), f.headBytes
	}
	f.subs = append(f.subs, s)
	return s, true
}

// allows reports whether the decided response may reach s. The caller
// holds f.mu.
func (f *flight) allows(s *sub) bool {
	if s.owner {
		return true
	}
	other := s.principal != f.principal
	return !f.forbidden && !(other && (!f.shareAll || f.private)) && sameValues(f.vary, s.r.Header, f.req.Header)
}

// leave removes s, whose client went away, from f; f ends when nobody is
// left to read it.
func (f *flight) leave(s *sub) {
	f.mu.Lock()
	if i := slices.Index(f.subs, s); i >= 0 {
		f.subs = slices.Delete(f.subs, i, i+1)
	}
	empty := len(f.subs) == 0
	if empty {
		f.joinable = false
	}
	f.mu.Unlock()
	f.madeRoom()
	if empty {
		f.cancel()
		f.c.remove(f)
	}
}

// errNoReaders stops the upstream response when nobody reads it.
var errNoReaders = errors.New("cache: nobody reads the coalesced response")

// fly runs the upstream request of f.
func (c *Coalescer) fly(f *flight) {
	fw := &flightWriter{f: f, h: make(http.Header)}
	stop := c.cfg.afterFunc(c.cfg.upstreamWait, func() {
		f.mu.Lock()
		headed := f.headed
		f.mu.Unlock()
		if !headed {
			f.cancel()
		}
	})
	defer func() {
		stop()
		p := recover()
		if p != nil {
			f.panicked(p, fw.wrote)
			c.remove(f)
			f.cancel()
			return
		}
		if !fw.wrote {
			fw.WriteHeader(http.StatusOK)
		}
		// A response whole in the head stays joinable while its readers
		// finish: a cache in front stores it meanwhile.
		if f.finish() {
			c.remove(f)
			f.cancel()
		}
	}()
	f.next.ServeHTTP(fw, f.req)
}

// finish marks f's response complete, and reports whether nobody reads
// it any more.
func (f *flight) finish() (over bool) {
	f.mu.Lock()
	f.done = true
	subs := slices.Clone(f.subs)
	if len(subs) == 0 {
		f.joinable, f.head = false, nil
	}
	f.mu.Unlock()
	for _, s := range subs {
		s.wake()
	}
	return len(subs) == 0
}

// panicked ends f after its handler panicked with p: before the header it
// is a failure (a new leader for the others); after it, every reader's
// response is aborted.
func (f *flight) panicked(p any, headed bool) {
	if !headed {
		f.decide(0, nil)
	}
	f.mu.Lock()
	f.done, f.aborted, f.joinable, f.head, f.panicVal = true, true, false, nil, p
	subs := slices.Clone(f.subs)
	f.mu.Unlock()
	for _, s := range subs {
		s.wake()
	}
}

// decide is told the response header: it decides which waiting request
// may read the response, releases the others, and marks the key when the
// response could not be shared. status 0 is a handler that panicked.
func (f *flight) decide(status int, h http.Header) {
	c := f.c
	ctx := f.req.Context()
	failed := f.gen == 1 && (status == 0 || status == http.StatusBadGateway || status == http.StatusGatewayTimeout || f.ctx.Err() != nil)
	d := parseCacheControl(h)
	names, star := varyNames(h)
	_, cookie := h["Set-Cookie"]

	f.mu.Lock()
	f.headed, f.status, f.header = true, status, h
	f.forbidden = cookie || d.noStore || star
	f.shareAll = !f.forbidden && d.shareable()
	f.private, f.vary = d.private, names
	if failed || !f.shareAll {
		f.joinable = false // a new request of another principal must not wait on it
	}
	var woken, gone []*sub
	keep := f.subs[:0]
	for _, s := range f.subs {
		switch {
		case s.owner || !failed && f.allows(s):
			s.state = delivering
			keep = append(keep, s)
		case failed:
			s.state = reelect
			gone = append(gone, s)
		default:
			s.state = released
			// Another principal's requests of a response not shareable
			// share among themselves.
			s.regroup = !f.forbidden && s.principal != f.principal && f.k.key == f.k.base
			gone = append(gone, s)
		}
		woken = append(woken, s)
	}
	clear(f.subs[len(keep):])
	f.subs = keep
	joinable := f.joinable
	var nf *flight
	if failed && len(gone) > 0 {
		// The first waiting request leads anew; the others read its flight.
		lead := gone[0]
		nf = c.newFlight(f.k, lead.r, lead.principal, f.gen+1, f.next)
		lead.moved, lead.movedAs = nf, nf.subs[0]
		for _, s := range gone[1:] {
			ns := &sub{r: s.r, principal: s.principal, notify: make(chan struct{}, 1)}
			nf.subs = append(nf.subs, ns)
			s.moved, s.movedAs = nf, ns
		}
	}
	f.mu.Unlock()

	if nf != nil {
		c.mu.Lock()
		c.flights[f.k.key] = nf
		c.mu.Unlock()
		go c.fly(nf)
	} else if !joinable {
		c.remove(f) // before the released requests look for a flight
	}
	switch {
	case failed:
		if nf != nil {
			c.cfg.observe(ctx, EventLeaderReelected)
		}
	case f.forbidden:
		c.markKey(f.k.base, false)
	case !f.shareAll:
		c.markKey(f.k.base, true)
	case f.k.key != f.k.base && c.marks != nil:
		c.marks.Remove(f.k.base) // shareable again
	}
	for _, s := range woken {
		s.wake()
	}
}

// publish hands chunk (nil: a flush) to every reader. While a reader is
// more than WithFollowerBuffer behind, the upstream waits for it, as a
// proxy waits on its one client; but a reader that has held back others
// ready to read for WithMaxLag in all, and for a quarter of the flight's
// time, is cut loose. So a reader that the scheduler delays a moment is
// not cut, one that reads slower than the others holds them back for
// about WithMaxLag, readers all slower than the upstream set its pace
// together, and no more than the buffer is ever held.
func (f *flight) publish(chunk []byte) error {
	buf, budget := f.c.cfg.followerBuf, f.c.cfg.maxLag
	f.mu.Lock()
	for chunk != nil {
		if len(f.subs) == 0 {
			f.mu.Unlock()
			return errNoReaders
		}
		full := 0
		least := time.Duration(-1) // the least budget left of a full reader
		for _, s := range f.subs {
			if s.queued >= buf {
				full++
				if left := max(budget, time.Since(f.started)/4) - s.blamed; least < 0 || left < least {
					least = left
				}
			}
		}
		if full == 0 {
			break
		}
		// Only a reader that holds back another, ready one is to blame;
		// when every reader is behind, the upstream is merely faster than
		// all of them.
		blame := full < len(f.subs)
		if blame && least <= 0 {
			f.cutOverdue(buf, budget)
			continue
		}
		f.mu.Unlock()
		t0 := time.Now()
		var expired <-chan time.Time
		if blame {
			t := time.NewTimer(least)
			expired = t.C
			defer t.Stop()
		}
		select {
		case <-f.room:
		case <-expired:
		case <-f.ctx.Done():
			return f.ctx.Err()
		}
		waited := time.Since(t0)
		f.mu.Lock()
		if blame {
			for _, s := range f.subs {
				if s.queued >= buf {
					s.blamed += waited
				}
			}
		}
	}
	var woken, cut []*sub
	keep := f.subs[:0]
	for _, s := range f.subs {
		switch {
		case chunk == nil:
			if n := len(s.queue); n > 0 && s.queue[n-1] == nil {
				keep = append(keep, s)
				continue
			}
		case s.queued >= buf:
			s.state, s.queue, s.queued = cutLoose, nil, 0
			cut = append(cut, s)
			woken = append(woken, s)
			continue
		}
		s.queue = append(s.queue, chunk)
		s.queued += len(chunk)
		keep = append(keep, s)
		woken = append(woken, s)
	}
	clear(f.subs[len(keep):])
	f.subs = keep
	removed := false
	if f.joinable && chunk != nil {
		if f.headBytes+len(chunk) <= buf {
			f.head = append(f.head, chunk)
			f.headBytes += len(chunk)
		} else {
			f.joinable, f.head, removed = false, nil, true
		}
	}
	f.mu.Unlock()
	if removed {
		f.c.remove(f)
	}
	for _, s := range woken {
		s.wake()
	}
	for range cut {
		f.c.cfg.observe(f.req.Context(), EventCutLoose)
	}
	return nil
}

// cutOverdue cuts loose the full readers that have held the upstream back
// for budget, keeping at least one reader. The caller holds f.mu.
func (f *flight) cutOverdue(buf int, budget time.Duration) {
	keep := f.subs[:0]
	var cut []*sub
	for _, s := range f.subs {
		if s.queued >= buf && s.blamed >= budget && len(keep)+len(f.subs)-len(keep)-len(cut) > 1 {
			s.state, s.queue, s.queued = cutLoose, nil, 0
			cut = append(cut, s)
			continue
		}
		keep = append(keep, s)
	}
	clear(f.subs[len(keep):])
	f.subs = keep
	for _, s := range cut {
		s.wake()
		f.c.cfg.observe(f.req.Context(), EventCutLoose)
	}
}

// flightWriter is the ResponseWriter of the upstream request.
type flightWriter struct {
	f     *flight
	h     http.Header
	wrote bool
}

func (fw *flightWriter) Header() http.Header { return fw.h }

func (fw *flightWriter) WriteHeader(code int) {
	if fw.wrote || code < 200 { // informational answers are not passed on
		return
	}
	fw.wrote = true
	fw.f.decide(code, fw.h.Clone())
}

func (fw *flightWriter) Write(p []byte) (int, error) {
	if !fw.wrote {
		fw.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := fw.f.publish(slices.Clone(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush passes the upstream handler's flushes on to every reader.
func (fw *flightWriter) Flush() {
	if !fw.wrote {
		fw.WriteHeader(http.StatusOK)
	}
	_ = fw.f.publish(nil)
}

// follow serves r from f as s until the response ends, r's client leaves,
// or s must fetch on its own.
func (c *Coalescer) follow(w http.ResponseWriter, r *http.Request, next http.Handler, f *flight, s *sub) {
	ctx := r.Context()
	var written int64
	headerSent := false
	for {
		f.mu.Lock()
		switch s.state {
		case released:
			regroup := s.regroup
			f.mu.Unlock()
			c.cfg.observe(ctx, EventReleased)
			if regroup {
				c.serve(w, r, next, flightKey{key: f.k.base + "\x01" + s.principal, base: f.k.base}, s.principal, 1)
				return
			}
			next.ServeHTTP(w, r)
			return
		case reelect:
			nf, ns := s.moved, s.movedAs
			f.mu.Unlock()
			c.follow(w, r, next, nf, ns)
			return
		case cutLoose:
			status, h := f.status, f.header
			f.mu.Unlock()
			c.resume(w, r, next, status, h, written, headerSent)
			return
		case delivering:
			q := s.queue
			s.queue, s.queued = nil, 0
			status, h, done, aborted, p := f.status, f.header, f.done, f.aborted, f.panicVal
			f.mu.Unlock()
			if len(q) > 0 {
				f.madeRoom()
			}
			if !headerSent {
				if status == 0 { // the handler panicked first: as if it were r's own
					panic(p)
				}
				c.writeHeader(w, r, s, status, h)
				headerSent = true
			}
			for _, chunk := range q {
				if chunk == nil {
					_ = http.NewResponseController(w).Flush()
					continue
				}
				n, err := w.Write(chunk)
				written += int64(n)
				if err != nil {
					f.leave(s)
					return
				}
			}
			if len(q) > 0 {
				continue
			}
			if done {
				f.leave(s)
				if aborted {
					if s.owner {
						panic(p)
					}
					panic(http.ErrAbortHandler)
				}
				return
			}
		default:
			f.mu.Unlock()
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			f.leave(s)
			return
		}
	}
}

// writeHeader sends the flight's status and header to s's client.
func (c *Coalescer) writeHeader(w http.ResponseWriter, r *http.Request, s *sub, status int, h http.Header) {
	dst := w.Header()
	for k, v := range h {
		dst[k] = slices.Clip(v) // shared: an Add must copy
	}
	if !s.owner {
		c.cfg.observe(r.Context(), EventCoalesced)
		if n := noteKey.Value(r.Context()); n != nil {
			n.collapsed = true // the cache writes Cache-Status
		} else {
			dst.Add("Cache-Status", c.cfg.statusName+"; fwd=miss; collapsed")
		}
	}
	w.WriteHeader(status)
}

// resume fetches r's response on its own after it fell behind: from the
// start when nothing was sent yet, else skipping the bytes sent, provided
// the representation is provably the same (a strong ETag, or
// Last-Modified and Content-Length); otherwise the response is aborted, as
// a cut connection would be, rather than spliced from two.
func (c *Coalescer) resume(w http.ResponseWriter, r *http.Request, next http.Handler, status int, h http.Header, written int64, headerSent bool) {
	if !headerSent {
		next.ServeHTTP(w, r)
		return
	}
	rw := &resumeWriter{w: w, h: make(http.Header), skip: written, status: status, want: h}
	next.ServeHTTP(rw, r)
	if !rw.ok || rw.skip > 0 {
		panic(http.ErrAbortHandler)
	}
}

// resumeWriter passes on a second response of a request after the bytes
// its client already has.
type resumeWriter struct {
	w      http.ResponseWriter
	h      http.Header
	skip   int64
	status int
	want   http.Header
	wrote  bool
	ok     bool
}

var errNotSame = errors.New("cache: the response changed while a reader was catching up")

func (rw *resumeWriter) Header() http.Header { return rw.h }

func (rw *resumeWriter) WriteHeader(code int) {
	if rw.wrote || code < 200 {
		return
	}
	rw.wrote = true
	rw.ok = code == rw.status && sameRepresentation(rw.want, rw.h)
}

func (rw *resumeWriter) Write(p []byte) (int, error) {
	if !rw.wrote {
		rw.WriteHeader(http.StatusOK)
	}
	if !rw.ok {
		return 0, errNotSame
	}
	n := len(p)
	if rw.skip > 0 {
		k := min(rw.skip, int64(len(p)))
		rw.skip -= k
		p = p[k:]
	}
	if len(p) > 0 {
		if _, err := rw.w.Write(p); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (rw *resumeWriter) Flush() { _ = http.NewResponseController(rw.w).Flush() }

// sameRepresentation reports whether two response headers provably
// describe the same bytes.
func sameRepresentation(a, b http.Header) bool {
	if e := a.Get("Etag"); e != "" && len(e) > 2 && e[:2] != "W/" {
		return e == b.Get("Etag")
	}
	lm, cl := a.Get("Last-Modified"), a.Get("Content-Length")
	return lm != "" && cl != "" && lm == b.Get("Last-Modified") && cl == b.Get("Content-Length")
}
