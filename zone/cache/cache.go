package cache

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cellgate/cellgate/internal/noticeset"
	"github.com/cellgate/cellgate/zone"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Cache is a small in-memory cache of the responses a cell marked
// shareable, with RFC 9211 Cache-Status on every response and purges by
// company and tag. See the package doc for the rules.
type Cache struct {
	cfg *config

	mu           sync.Mutex
	entries      *lru.Cache[string, *variants]
	bytes        int64
	purges       uint64              // counts purges: a fill that saw one is not stored
	filling      map[string]struct{} // keys being stored: one fill each
	revalidating map[string]struct{}

	health noticeset.Set // notice sources the cache relies on
}

// variants are the stored responses of one key, one per Vary selection.
type variants struct {
	list []*entry
	size int64
}

// maxVariants bounds the Vary selections kept per key.
const maxVariants = 8

// entry is one stored response.
type entry struct {
	company  string
	tags     []string
	status   int
	header   http.Header
	body     []byte
	stored   time.Time     // when it arrived
	age      time.Duration // its Age then
	lifetime time.Duration
	swr, sie time.Duration // -1: none
	vary     []string
	varyVals []string
	size     int64
}

// revalidateTimeout bounds a background revalidation.
const revalidateTimeout = 30 * time.Second

// NewCache returns an empty Cache. Options: WithMaxEntries, WithMaxBytes,
// WithMaxBodySize, WithTagHeader, WithVaryOn, WithStatusName,
// WithObserver, WithClock.
func NewCache(opts ...CacheOption) (*Cache, error) {
	cfg := defaultConfig()
	if err := apply(cfg, "NewCache", opts, CacheOption.cacheOption); err != nil {
		return nil, err
	}
	c := &Cache{cfg: cfg, filling: map[string]struct{}{}, revalidating: map[string]struct{}{}}
	// The eviction callback runs inside calls made under c.mu.
	c.entries, _ = lru.NewWithEvict(cfg.maxEntries, func(_ string, v *variants) { c.bytes -= v.size })
	return c, nil
}

// Len returns the number of responses stored.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.entries.Values() {
		n += len(v.list)
	}
	return n
}

// Bytes returns the bytes the stored responses take, as bounded by
// WithMaxBytes.
func (c *Cache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Middleware returns next behind the cache. Put it after company detection
// and the stage that authenticates, and in front of a Coalescer if there
// is one.
func (c *Cache) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			c.pass(w, r, next, "fwd=method")
			return
		}
		key, ok := keyOf(r, http.MethodGet, c.cfg.vary)
		if !ok {
			c.pass(w, r, next, "fwd=bypass")
			return
		}
		rd := parseCacheControl(r.Header)
		if rd.noStore {
			c.pass(w, r, next, "fwd=request")
			return
		}
		noCache := rd.noCache || rd.maxAge == 0 || strings.EqualFold(r.Header.Get("Pragma"), "no-cache")
		if !c.noticesFresh() {
			c.pass(w, r, next, "fwd=bypass; detail=notices")
			return
		}
		if noCache {
			c.forward(w, r, next, key, "fwd=request", nil, 0)
			return
		}
		e, miss := c.lookup(key, r)
		if e == nil {
			c.cfg.observe(r.Context(), EventMiss)
			c.forward(w, r, next, key, miss, nil, 0)
			return
		}
		age := e.currentAge(c.cfg.now())
		switch stale := age - e.lifetime; {
		case stale < 0:
			c.cfg.observe(r.Context(), EventHit)
			c.serve(w, r, e, age, "hit")
		case e.swr >= 0 && stale <= e.swr:
			c.cfg.observe(r.Context(), EventStale)
			c.revalidate(key, r, next)
			c.serve(w, r, e, age, "hit; detail=stale-while-revalidate")
		case e.sie >= 0 && stale <= e.sie:
			c.cfg.observe(r.Context(), EventMiss)
			c.forward(w, r, next, key, "fwd=stale", e, age)
		default:
			c.cfg.observe(r.Context(), EventMiss)
			c.forward(w, r, next, key, "fwd=stale", nil, 0)
		}
	})
}

func (e *entry) currentAge(now time.Time) time.Duration { return e.age + max(now.Sub(e.stored), 0) }

// lookup returns the stored response of key that r selects, or nil and
// the Cache-Status forward reason.
func (c *Cache) lookup(key string, r *http.Request) (*entry, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.entries.Get(key)
	if !ok {
		return nil, "fwd=uri-miss"
	}
	for _, e := range v.list {
		if e.selects(r.Header) {
			return e, ""
		}
	}
	return nil, "fwd=vary-miss"
}

func (e *entry) selects(h http.Header) bool {
	for i, name := range e.vary {
		if headerValue(h, name) != e.varyVals[i] {
			return false
		}
	}
	return true
}

// serve answers r from e, age old.
func (c *Cache) serve(w http.ResponseWriter, r *http.Request, e *entry, age time.Duration, status string) {
	h := w.Header()
	for k, v := range e.header {
		h[k] = slices.Clip(v)
	}
	h.Set("Age", strconv.FormatInt(int64(age/time.Second), 10))
	ttl := e.lifetime - age
	secs := int64(ttl / time.Second)
	if ttl < 0 && ttl%time.Second != 0 {
		secs-- // floor: a stale response never shows ttl=0
	}
	h.Add("Cache-Status", c.cfg.statusName+"; "+status+"; ttl="+strconv.FormatInt(secs, 10))
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(e.body)
	}
}

// pass forwards r without storing, saying why in Cache-Status.
func (c *Cache) pass(w http.ResponseWriter, r *http.Request, next http.Handler, why string) {
	next.ServeHTTP(&statusWriter{ResponseWriter: w, member: c.cfg.statusName + "; " + why}, r)
}

// statusWriter adds a Cache-Status member to the response header.
type statusWriter struct {
	http.ResponseWriter
	member string
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote && code >= 200 {
		s.wrote = true
		s.Header().Add("Cache-Status", s.member)
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// forward sends r upstream, storing the response when it may. With
// fallback (age old), an upstream error is answered from it instead
// (stale-if-error).
func (c *Cache) forward(w http.ResponseWriter, r *http.Request, next http.Handler, key, why string, fallback *entry, age time.Duration) {
	n := &note{}
	r = r.WithContext(noteKey.With(r.Context(), n))
	tw := &teeWriter{c: c, w: w, r: r, key: key, why: why, note: n, h: make(http.Header), fallback: fallback != nil}
	defer tw.release()
	func() {
		defer func() {
			if p := recover(); p != nil {
				if fallback != nil && !tw.wrote {
					tw.swallow = true
					tw.status = http.StatusBadGateway
					return
				}
				panic(p)
			}
		}()
		next.ServeHTTP(tw, r)
	}()
	if tw.swallow {
		c.cfg.observe(r.Context(), EventStale)
		c.serve(w, r, fallback, age, "fwd=stale; fwd-status="+strconv.Itoa(tw.status)+"; detail=stale-if-error")
		return
	}
	if !tw.wrote {
		tw.WriteHeader(http.StatusOK)
	}
	tw.store()
}

// revalidate refreshes key in the background, once at a time, with r's
// identity and its own deadline.
func (c *Cache) revalidate(key string, r *http.Request, next http.Handler) {
	c.mu.Lock()
	if _, busy := c.revalidating[key]; busy {
		c.mu.Unlock()
		return
	}
	c.revalidating[key] = struct{}{}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), revalidateTimeout)
	rr := r.Clone(ctx)
	rr.Method, rr.Body = http.MethodGet, http.NoBody
	go func() {
		defer func() {
			recover() // a panic of the upstream handler ends the revalidation only
			cancel()
			c.mu.Lock()
			delete(c.revalidating, key)
			c.mu.Unlock()
		}()
		tw := &teeWriter{c: c, w: discard{h: http.Header{}}, r: rr, key: key, why: "fwd=stale", note: &note{}, h: make(http.Header)}
		defer tw.release()
		next.ServeHTTP(tw, rr)
		if !tw.wrote {
			tw.WriteHeader(http.StatusOK)
		}
		tw.store()
	}()
}

// discard is the ResponseWriter of a background revalidation.
type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) WriteHeader(int)             {}
func (d discard) Write(p []byte) (int, error) { return len(p), nil }

// teeWriter passes a response on to its client and captures it, up to
// WithMaxBodySize, when it may be stored.
type teeWriter struct {
	c        *Cache
	w        http.ResponseWriter
	r        *http.Request
	key, why string
	note     *note
	h        http.Header // what the upstream handler sets
	fallback bool        // a stale response stands in for an upstream error

	wrote, swallow bool
	status         int
	claimed        bool // holds c.filling[key]
	capturing      bool
	length         int64 // Content-Length; -1 unknown
	e              *entry
	body           []byte
	purges         uint64
}

func (tw *teeWriter) Header() http.Header { return tw.h }

func (tw *teeWriter) WriteHeader(code int) {
	if tw.wrote {
		return
	}
	if code < 200 {
		tw.w.WriteHeader(code) // informational: passed on as is
		return
	}
	tw.wrote, tw.status = true, code
	if tw.fallback && (code == 500 || code == 502 || code == 503 || code == 504) {
		tw.swallow = true
		return
	}
	c := tw.c
	inner := tw.h.Clone()
	tags := inner.Values(c.cfg.tagHeader)
	delete(inner, c.cfg.tagHeader)
	stored := false
	if e := c.storable(tw.r, code, inner); e != nil {
		e.tags = parseTags(tags)
		cl, err := strconv.ParseInt(inner.Get("Content-Length"), 10, 64)
		known := err == nil && cl >= 0
		if (!known || cl <= c.cfg.maxBodySize) && tw.claim() {
			tw.e, tw.capturing = e, true
			tw.length = -1
			if known {
				tw.body = make([]byte, 0, cl)
				tw.length = cl
				stored = true
			}
		}
	}
	dst := tw.w.Header()
	for k, v := range inner {
		dst[k] = v
	}
	member := c.cfg.statusName + "; " + tw.why
	if tw.why == "fwd=stale" || tw.why == "fwd=request" {
		member += "; fwd-status=" + strconv.Itoa(code)
	}
	if stored {
		member += "; stored"
	}
	if tw.note.collapsed {
		member += "; collapsed"
	}
	dst.Add("Cache-Status", member)
	tw.w.WriteHeader(code)
}

func (tw *teeWriter) Write(p []byte) (int, error) {
	if !tw.wrote {
		tw.WriteHeader(http.StatusOK)
	}
	if tw.swallow {
		return len(p), nil
	}
	if tw.capturing {
		if int64(len(tw.body)+len(p)) > tw.c.cfg.maxBodySize {
			tw.capturing, tw.body = false, nil // too big: stream on, keep nothing
		} else {
			tw.body = append(tw.body, p...)
		}
	}
	n, err := tw.w.Write(p)
	if tw.capturing && tw.e != nil && int64(len(tw.body)) == tw.length {
		tw.store() // whole: stored before the handler returns
	}
	return n, err
}

func (tw *teeWriter) Flush() {
	if !tw.wrote {
		tw.WriteHeader(http.StatusOK)
	}
	if !tw.swallow {
		_ = http.NewResponseController(tw.w).Flush()
	}
}

func (tw *teeWriter) Unwrap() http.ResponseWriter { return tw.w }

// claim makes this the one fill of its key, noting the purges so far.
func (tw *teeWriter) claim() bool {
	c := tw.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, busy := c.filling[tw.key]; busy {
		return false
	}
	c.filling[tw.key] = struct{}{}
	tw.claimed, tw.purges = true, c.purges
	return true
}

func (tw *teeWriter) release() {
	if tw.claimed {
		tw.c.mu.Lock()
		delete(tw.c.filling, tw.key)
		tw.c.mu.Unlock()
		tw.claimed = false
	}
}

// store keeps the captured response, unless it was too big or a purge
// came while it arrived.
func (tw *teeWriter) store() {
	if !tw.capturing {
		return
	}
	tw.capturing = false // once
	e := tw.e
	e.body = tw.body
	e.size = int64(len(e.body)) + headerSize(e.header) + 256
	c := tw.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.purges != tw.purges || e.size > c.cfg.maxBytes {
		return
	}
	v, ok := c.entries.Peek(tw.key)
	if !ok {
		v = &variants{}
	}
	old := v.size
	i := slices.IndexFunc(v.list, func(o *entry) bool { return slices.Equal(o.vary, e.vary) && slices.Equal(o.varyVals, e.varyVals) })
	switch {
	case i >= 0:
		v.size -= v.list[i].size
		v.list[i] = e
	case len(v.list) >= maxVariants:
		v.size -= v.list[0].size
		v.list = append(v.list[1:], e)
	default:
		v.list = append(v.list, e)
	}
	v.size += e.size
	if ok {
		c.bytes += v.size - old
		c.entries.Get(tw.key) // most recently used
	} else {
		c.entries.Add(tw.key, v)
		c.bytes += v.size
	}
	for c.bytes > c.cfg.maxBytes && c.entries.Len() > 0 {
		c.entries.RemoveOldest()
	}
	c.cfg.observe(tw.r.Context(), EventStored)
}

func headerSize(h http.Header) int64 {
	var n int64
	for k, vs := range h {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	return n
}

// cacheableStatus are the statuses stored (RFC 9110 §15.1's heuristically
// cacheable ones this cache understands; never 206).
func cacheableStatus(code int) bool {
	switch code {
	case 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// storable returns the entry to fill with r's response (status, inner
// header), or nil when a shared cache must not store it or the cell did
// not mark it for every principal.
func (c *Cache) storable(r *http.Request, status int, h http.Header) *entry {
	if r.Method != http.MethodGet || !cacheableStatus(status) {
		return nil
	}
	d := parseCacheControl(h)
	names, star := varyNames(h)
	if _, cookie := h["Set-Cookie"]; cookie || star || !d.shareable() || d.noStore || d.noCache {
		return nil
	}
	if rd := parseCacheControl(r.Header); rd.noStore {
		return nil
	}
	now := c.cfg.now()
	var lifetime time.Duration
	switch {
	case d.sMaxAge >= 0:
		lifetime = d.sMaxAge
	case d.maxAge >= 0:
		lifetime = d.maxAge
	case h.Get("Expires") != "":
		exp, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return nil // an invalid Expires is already expired
		}
		date, err := http.ParseTime(h.Get("Date"))
		if err != nil {
			date = now
		}
		lifetime = exp.Sub(date)
	}
	if lifetime <= 0 {
		return nil
	}
	stored := h.Clone()
	for _, hop := range [...]string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Age", "Cache-Status"} {
		delete(stored, hop)
	}
	var age time.Duration
	if a := h.Get("Age"); a != "" {
		age = seconds(a)
	}
	e := &entry{company: zone.CompanyFromContext(r.Context()), status: status, header: stored, stored: now, age: age,
		lifetime: lifetime, swr: d.swr, sie: d.sie, vary: names}
	if d.mustRevalidate {
		e.swr, e.sie = -1, -1 // never served stale
	}
	for _, n := range names {
		e.varyVals = append(e.varyVals, headerValue(r.Header, n))
	}
	return e
}

func parseTags(lines []string) []string {
	var tags []string
	for _, l := range lines {
		for _, t := range strings.Split(l, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

// Purge drops what p names (see zone.Purge) from this replica and returns
// how many responses it dropped. A response arriving while the purge runs
// is not stored. zone/redisnotice's PublishPurge reaches every replica.
func (c *Cache) Purge(p zone.Purge) int {
	if p.Company == "" && p.Tag == "" {
		return 0
	}
	c.mu.Lock()
	c.purges++
	dropped := 0
	for _, key := range c.entries.Keys() {
		v, _ := c.entries.Peek(key)
		keep := v.list[:0]
		for _, e := range v.list {
			if (p.Company == "" || e.company == p.Company) && (p.Tag == "" || slices.Contains(e.tags, p.Tag)) {
				v.size -= e.size
				c.bytes -= e.size
				dropped++
				continue
			}
			keep = append(keep, e)
		}
		clear(v.list[len(keep):])
		v.list = keep
		if len(keep) == 0 {
			c.entries.Remove(key) // its size is 0: the callback subtracts nothing
		}
	}
	c.mu.Unlock()
	for range dropped {
		c.cfg.observe(context.Background(), EventPurged)
	}
	return dropped
}

// PurgeAll drops every stored response.
func (c *Cache) PurgeAll() {
	c.mu.Lock()
	c.purges++
	n := c.entries.Len()
	c.entries.Purge()
	c.bytes = 0
	c.mu.Unlock()
	for range n {
		c.cfg.observe(context.Background(), EventPurged)
	}
}

// RequireNotices makes the cache serve stored responses only while h
// reports its notices fresh, until cancel is called
// (zone/redisnotice.Notices.WatchPurges calls it): a replica cut off from
// the purges of the others for longer than the notices' bound forwards
// every request (Cache-Status: fwd=bypass; detail=notices) rather than
// serve what may have been purged. It may be called for several sources.
func (c *Cache) RequireNotices(h zone.NoticeHealth) (cancel func()) {
	return c.health.Require(h)
}

func (c *Cache) noticesFresh() bool { return c.health.Fresh() }

var _ zone.Purger = (*Cache)(nil)
